// The one URL module: parsing http(s) URLs into their parts, percent-encoding and -decoding
// (RFC 3986), and query strings (building them, reading one parameter). Every outgoing call
// (HttpClient, the Prometheus and Kubernetes clients, the adapter's upstream) and every server
// that decodes a request target uses these functions. Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "oomcast/status.h"

namespace oomcast {

// An absolute http:// or https:// URL, split. Userinfo and fragments are not supported.
struct Url {
  std::string scheme;  // "http" or "https", lowercased.
  std::string host;    // Name or IP literal; IPv6 without brackets ("::1").
  std::string port;    // Decimal, 1..65535; the scheme's default (80, 443) when absent.
  std::string path;    // As written (still percent-encoded); empty when absent.
  std::string query;   // As written, without the '?'; empty when absent.

  bool tls() const { return scheme == "https"; }
  bool default_port() const { return port == (tls() ? "443" : "80"); }
  // "host:port" with IPv6 literals bracketed: what a Host header carries (port omitted when it
  // is the scheme's default).
  std::string HostHeader() const;
  // The request target: path (or "/") plus "?query" when there is one.
  std::string Target() const;
};

// Parses `text`. kInvalidArgument naming the URL when the scheme is not http or https, the host
// is missing, the port is not a number in 1..65535, a '[' is unclosed, or the URL has userinfo
// or a control character or space in it. A '#fragment' is dropped.
StatusOr<Url> ParseUrl(std::string_view text);

// Percent-encodes every byte outside RFC 3986's unreserved set (A-Z a-z 0-9 - . _ ~), with
// upper-case hex: for one query parameter name or value, or one path segment.
std::string PercentEncode(std::string_view text);

// Percent-encodes a decoded path: unreserved characters, '/' and the characters a path segment
// may hold unescaped (: @ ! $ & ' ( ) * + , ; =) are kept, every other byte is escaped.
std::string PercentEncodePath(std::string_view path);

// Decodes %XX escapes (either hex case). With `plus_is_space` (application/x-www-form-urlencoded,
// query strings) '+' decodes to a space; otherwise (paths) it stays '+'. kInvalidArgument naming
// the position for a '%' not followed by two hex digits. Decoded bytes are not validated.
StatusOr<std::string> PercentDecode(std::string_view text, bool plus_is_space = false);

// Decodes one application/x-www-form-urlencoded name or value: PercentDecode with '+' as space.
inline StatusOr<std::string> FormDecode(std::string_view text) { return PercentDecode(text, true); }

using QueryParams = std::vector<std::pair<std::string, std::string>>;

// "k1=v1&k2=v2" with every name and value PercentEncode'd, in the given order; empty for no
// parameters. Also the body of an application/x-www-form-urlencoded POST.
std::string BuildQuery(const QueryParams& params);

// The form-decoded value of the first parameter called `name` in the raw query `query` (without
// '?'); nullopt when absent; "" for "name" or "name=". kInvalidArgument for a malformed escape
// in a name up to and including the match, or in its value.
StatusOr<std::optional<std::string>> QueryParameter(std::string_view query, std::string_view name);

}  // namespace oomcast
