// Escaping of text for the formats the binaries write by hand: JSON strings and logfmt values.
#pragma once

#include <string>
#include <string_view>

namespace oomcast {

// The two-character backslash escape JSON and logfmt share for `c` ("\\\"", "\\\\", "\\n",
// "\\r", "\\t"); empty for any other byte. Each format escapes the other control bytes its own
// way (JSON \u00XX, logfmt \xHH).
std::string_view BackslashEscape(unsigned char c);

// The byte the JSON escape "\\" `e` stands for, for the short escapes (", \\, /, b, f, n, r, t:
// 'n' gives '\n'); -1 for any other character (\u escapes are the caller's).
int JsonShortUnescape(char e);

// Appends `s` as a JSON string literal (quotes included) to *out. Control characters and DEL
// are escaped (\n, \r, \t, else \u00XX) and each byte that is not part of a valid UTF-8
// sequence becomes \ufffd, so the output is always valid JSON.
void AppendJsonString(std::string_view s, std::string* out);

}  // namespace oomcast
