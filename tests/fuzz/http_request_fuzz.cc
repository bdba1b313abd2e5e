// libFuzzer target: what a stranger's bytes meet first. The input is fed to the HTTP/1.1
// request parser the servers use (Boost.Beast, with the adapter's header and body limits), and
// the target and every header value go through the input checks (oomcast/http_server.h).
// Invariants: nothing crashes or throws; whatever the checks accept is valid UTF-8 that
// nlohmann::json encodes without throwing (the encoder that used to abort the adapter), and a
// decoded path re-encoded and decoded again is the same path.
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "oomcast/http_server.h"

namespace http = boost::beast::http;

namespace {

std::string Encode(std::string_view path) {
  std::string out;
  for (char c : path) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '/' || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", u);
      out += buf;
    }
  }
  return out;
}

void CheckAccepted(std::string_view s) {
  if (!oomcast::IsValidUtf8(s)) std::abort();
  try {
    (void)nlohmann::json(std::string(s)).dump();
  } catch (...) {
    std::abort();  // The checks let through something the JSON encoder refuses.
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  // The checks on their own, on arbitrary bytes.
  if (oomcast::IsPrintableUtf8(text, true)) CheckAccepted(text);
  if (auto p = oomcast::DecodeRequestPath(text); p.ok()) {
    CheckAccepted(*p);
    auto again = oomcast::DecodeRequestPath(Encode(*p));
    if (!again.ok() || *again != *p) std::abort();
  }
  // Through the parser.
  http::request_parser<http::string_body> parser;
  parser.header_limit(32 << 10);
  parser.body_limit(64 << 10);
  boost::beast::error_code ec;
  parser.put(boost::asio::buffer(data, size), ec);
  if (ec || !parser.is_header_done()) return 0;
  const auto& msg = parser.get();
  std::string_view target(msg.target().data(), msg.target().size());
  if (oomcast::IsPrintableUtf8(target)) {
    CheckAccepted(target);
    auto path = oomcast::DecodeRequestPath(target.substr(0, target.find('?')));
    if (path.ok()) CheckAccepted(*path);
  }
  for (const auto& field : msg) {
    std::string_view v(field.value().data(), field.value().size());
    if (oomcast::IsPrintableUtf8(v, true)) CheckAccepted(v);
  }
  return 0;
}
