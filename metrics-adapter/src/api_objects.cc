#include "oomcast/metrics_adapter/api_objects.h"

#include "oomcast/escape.h"
#include "oomcast/lookup_table.h"

namespace oomcast::metrics_adapter {
std::string_view ReasonForCode(int code) {
  static constexpr std::pair<int, std::string_view> kReasons[] = {{400, "BadRequest"},
                                                                  {401, "Unauthorized"},
                                                                  {403, "Forbidden"},
                                                                  {404, "NotFound"},
                                                                  {405, "MethodNotAllowed"},
                                                                  {406, "NotAcceptable"},
                                                                  {409, "Conflict"},
                                                                  {410, "Gone"},
                                                                  {413, "RequestEntityTooLarge"},
                                                                  {415, "UnsupportedMediaType"},
                                                                  {429, "TooManyRequests"},
                                                                  {500, "InternalError"},
                                                                  {503, "ServiceUnavailable"},
                                                                  {504, "Timeout"}};
  return Lookup(kReasons, code).value_or(code >= 500 ? "InternalError" : "BadRequest");
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
