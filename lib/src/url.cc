#include "oomcast/url.h"

#include <cctype>

namespace oomcast {
namespace {

constexpr char kHex[] = "0123456789ABCDEF";

bool IsUnreserved(unsigned char c) {
  return std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

bool IsPathChar(unsigned char c) {
  if (IsUnreserved(c)) return true;
  switch (c) {
    case '/':
    case ':':
    case '@':
    case '!':
    case '$':
    case '&':
    case '\'':
    case '(':
    case ')':
    case '*':
    case '+':
    case ',':
    case ';':
    case '=':
      return true;
    default:
      return false;
  }
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

template <typename Keep>
std::string Encode(std::string_view text, Keep keep) {
  std::string out;
  out.reserve(text.size() + text.size() / 2);
  for (unsigned char c : text) {
    if (keep(c)) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

Status BadUrl(std::string_view text, std::string_view why) {
  constexpr size_t kMaxShown = 300;
  std::string shown(text.substr(0, kMaxShown));
  if (text.size() > kMaxShown) shown += "...";
  return InvalidArgumentError("bad URL \"" + shown + "\": " + std::string(why));
}

}  // namespace

std::string Url::HostHeader() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  if (!default_port()) h += ":" + port;
  return h;
}

std::string Url::Target() const {
  std::string t = path.empty() ? "/" : path;
  if (!query.empty()) t += "?" + query;
  return t;
}

StatusOr<Url> ParseUrl(std::string_view text) {
  for (unsigned char c : text) {
    if (c <= 0x20 || c == 0x7F) return BadUrl(text, "contains a space or control character");
  }
  Url url;
  size_t colon = text.find("://");
  if (colon == std::string_view::npos) return BadUrl(text, "want http://host[:port][/path]");
  for (char c : text.substr(0, colon)) {
    url.scheme.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  if (url.scheme != "http" && url.scheme != "https") {
    return BadUrl(text, "scheme must be http or https");
  }
  std::string_view rest = text.substr(colon + 3);
  if (size_t hash = rest.find('#'); hash != std::string_view::npos) rest = rest.substr(0, hash);
  size_t end = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, end);
  std::string_view tail = end == std::string_view::npos ? std::string_view() : rest.substr(end);
  if (authority.find('@') != std::string_view::npos) {
    return BadUrl(text, "userinfo (user@host) is not supported");
  }
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return BadUrl(text, "unclosed '[' in the host");
    url.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return BadUrl(text, "junk after ']'");
      port = after.substr(1);
    }
  } else {
    size_t c = authority.rfind(':');
    url.host = std::string(authority.substr(0, c));
    if (c != std::string_view::npos) port = authority.substr(c + 1);
    if (url.host.find(':') != std::string::npos) {
      return BadUrl(text, "an IPv6 host must be in brackets");
    }
  }
  if (url.host.empty()) return BadUrl(text, "no host");
  if (port.empty()) {
    url.port = url.tls() ? "443" : "80";
  } else {
    int n = 0;
    for (char c : port) {
      if (c < '0' || c > '9' || n > 65535) return BadUrl(text, "port must be 1..65535");
      n = n * 10 + (c - '0');
    }
    if (n < 1 || n > 65535) return BadUrl(text, "port must be 1..65535");
    url.port = std::to_string(n);
  }
  size_t q = tail.find('?');
  url.path = std::string(tail.substr(0, q));
  if (q != std::string_view::npos) url.query = std::string(tail.substr(q + 1));
  return url;
}

std::string PercentEncode(std::string_view text) { return Encode(text, IsUnreserved); }

std::string PercentEncodePath(std::string_view path) { return Encode(path, IsPathChar); }

StatusOr<std::string> PercentDecode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else if (c == '%') {
      int hi = i + 2 < text.size() ? HexValue(text[i + 1]) : -1;
      int lo = i + 2 < text.size() ? HexValue(text[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        return InvalidArgumentError("malformed percent-escape at position " + std::to_string(i));
      }
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string BuildQuery(const QueryParams& params) {
  std::string out;
  for (const auto& [name, value] : params) {
    if (!out.empty()) out.push_back('&');
    out += PercentEncode(name);
    out.push_back('=');
    out += PercentEncode(value);
  }
  return out;
}

StatusOr<std::optional<std::string>> QueryParameter(std::string_view query, std::string_view name) {
  size_t start = 0;
  while (start <= query.size()) {
    size_t amp = query.find('&', start);
    std::string_view pair =
        query.substr(start, amp == std::string_view::npos ? std::string_view::npos : amp - start);
    size_t eq = pair.find('=');
    StatusOr<std::string> key = FormDecode(pair.substr(0, eq));
    if (!key.ok()) return key.status();
    if (*key == name) {
      StatusOr<std::string> value =
          FormDecode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1));
      if (!value.ok()) return value.status();
      return std::optional<std::string>(std::move(value).value());
    }
    if (amp == std::string_view::npos) break;
    start = amp + 1;
  }
  return std::optional<std::string>();
}

}  // namespace oomcast
