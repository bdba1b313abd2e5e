#include "oomcast/metrics_adapter/api_objects.h"

#include "oomcast/escape.h"

namespace oomcast::metrics_adapter {
std::string_view ReasonForCode(int code) {
  switch (code) {
    case 400:
      return "BadRequest";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "NotFound";
    case 405:
      return "MethodNotAllowed";
    case 406:
      return "NotAcceptable";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 413:
      return "RequestEntityTooLarge";
    case 415:
      return "UnsupportedMediaType";
    case 429:
      return "TooManyRequests";
    case 500:
      return "InternalError";
    case 503:
      return "ServiceUnavailable";
    case 504:
      return "Timeout";
    default:
      return code >= 500 ? "InternalError" : "BadRequest";
  }
}

std::string StatusObjectJson(int code, std::string_view reason, std::string_view message) {
  std::string out;
  out.reserve(160 + message.size());
  out.append(R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":)");
  AppendJsonString(message, &out);
  out.append(R"(,"reason":)");
  AppendJsonString(reason, &out);
  out.append(R"(,"code":)");
  out.append(std::to_string(code));
  out.push_back('}');
  return out;
}

}  // namespace oomcast::metrics_adapter
