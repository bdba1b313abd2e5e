// Label selector parsing after apimachinery's pkg/labels/selector.go: the same lexer (tokens
// separated by whitespace; identifiers are runs of anything but whitespace and "!=,()<>"),
// the same grammar and the same validation of keys and values.
#include "oomcast/label_selector.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <optional>
#include <utility>

#include "oomcast/lookup_table.h"

namespace oomcast {
namespace {

bool IsAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// [A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?
bool IsQualifiedNamePart(std::string_view s) {
  if (s.empty() || !IsAlnum(s.front()) || !IsAlnum(s.back())) return false;
  for (char c : s) {
    if (!IsAlnum(c) && c != '-' && c != '_' && c != '.') return false;
  }
  return true;
}

// DNS-1123 subdomain: [a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*
bool IsDns1123Subdomain(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  size_t start = 0;
  while (true) {
    size_t dot = s.find('.', start);
    std::string_view label = s.substr(start, dot == std::string_view::npos ? s.npos : dot - start);
    if (label.empty() || !IsLowerAlnum(label.front()) || !IsLowerAlnum(label.back())) return false;
    for (char c : label) {
      if (!IsLowerAlnum(c) && c != '-') return false;
    }
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

std::optional<int64_t> ParseInt64(const std::string& s) {
  if (s.empty()) return std::nullopt;
  // Go's strconv.ParseInt accepts an optional sign and decimal digits only.
  size_t i = (s[0] == '+' || s[0] == '-') ? 1 : 0;
  if (i == s.size()) return std::nullopt;
  for (size_t j = i; j < s.size(); ++j) {
    if (s[j] < '0' || s[j] > '9') return std::nullopt;
  }
  errno = 0;
  char* end = nullptr;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (errno == ERANGE || end != s.c_str() + s.size()) return std::nullopt;
  return static_cast<int64_t>(v);
}

enum class Tok {
  kEnd,
  kIdentifier,
  kDoesNotExist,  // !
  kEquals,        // =
  kDoubleEquals,  // ==
  kNotEquals,     // !=
  kIn,
  kNotIn,
  kOpenPar,
  kClosedPar,
  kComma,
  kGreaterThan,
  kLessThan,
};

struct Token {
  Tok tok = Tok::kEnd;
  std::string_view text;
  size_t pos = 0;  // Byte offset in the selector.
};

using Op = LabelRequirement::Op;

// Operators and punctuation, longest first: the lexer takes the first that matches.
constexpr std::pair<std::string_view, Tok> kSpecialTokens[] = {
    {"!=", Tok::kNotEquals}, {"==", Tok::kDoubleEquals}, {"!", Tok::kDoesNotExist},
    {"=", Tok::kEquals},     {",", Tok::kComma},         {"(", Tok::kOpenPar},
    {")", Tok::kClosedPar},  {"<", Tok::kLessThan},      {">", Tok::kGreaterThan}};

// The operator a token after a key stands for (`!key` is read before).
constexpr std::pair<Tok, Op> kOperatorTokens[] = {
    {Tok::kEquals, Op::kEquals},       {Tok::kDoubleEquals, Op::kEquals},
    {Tok::kNotEquals, Op::kNotEquals}, {Tok::kGreaterThan, Op::kGreaterThan},
    {Tok::kLessThan, Op::kLessThan},   {Tok::kIn, Op::kIn},
    {Tok::kNotIn, Op::kNotIn}};

// How ToString writes each operator between key and values (kExists, kDoesNotExist: nothing).
constexpr std::pair<Op, std::string_view> kOperatorSpellings[] = {
    {Op::kEquals, "="},      {Op::kNotEquals, "!="},  {Op::kIn, " in "},
    {Op::kNotIn, " notin "}, {Op::kGreaterThan, ">"}, {Op::kLessThan, "<"}};

bool IsSpecial(char c) {
  return c == '!' || c == '=' || c == ',' || c == '(' || c == ')' || c == '<' || c == '>';
}
bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::vector<Token> Lex(std::string_view s) {
  std::vector<Token> out;
  size_t i = 0;
  while (true) {
    while (i < s.size() && IsSpace(s[i])) ++i;
    if (i >= s.size()) {
      out.push_back({Tok::kEnd, "", s.size()});
      return out;
    }
    size_t start = i;
    char c = s[i];
    if (IsSpecial(c)) {
      for (const auto& [text, tok] : kSpecialTokens) {
        if (s.substr(i, text.size()) == text) {
          out.push_back({tok, text, start});
          i += text.size();
          break;
        }
      }
      continue;
    }
    while (i < s.size() && !IsSpace(s[i]) && !IsSpecial(s[i])) ++i;
    std::string_view word = s.substr(start, i - start);
    Tok t = word == "in" ? Tok::kIn : word == "notin" ? Tok::kNotIn : Tok::kIdentifier;
    out.push_back({t, word, start});
  }
}

std::string Describe(const Token& t) {
  return t.tok == Tok::kEnd ? std::string("end of string") : "'" + std::string(t.text) + "'";
}

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text), toks_(Lex(text)) {}

  StatusOr<std::vector<LabelRequirement>> Parse() {
    std::vector<LabelRequirement> reqs;
    if (Peek().tok == Tok::kEnd) return reqs;
    while (true) {
      auto r = ParseRequirement();
      if (!r.ok()) return r.status();
      reqs.push_back(std::move(r).value());
      const Token& t = Next();
      if (t.tok == Tok::kEnd) return reqs;
      if (t.tok != Tok::kComma) return Error(t, "found " + Describe(t) + ", expected: ','");
      if (Peek().tok == Tok::kEnd) {
        return Error(Peek(), "found end of string, expected: identifier after ','");
      }
    }
  }

 private:
  const Token& Peek() const { return toks_[i_]; }
  const Token& Next() {
    const Token& t = toks_[i_];
    if (i_ + 1 < toks_.size()) ++i_;
    return t;
  }
  Status Error(const Token& t, const std::string& what) const {
    return InvalidArgumentError("label selector \"" + std::string(text_) + "\": at position " +
                                std::to_string(t.pos) + ": " + what);
  }

  StatusOr<LabelRequirement> ParseRequirement() {
    LabelRequirement r;
    const Token& first = Next();
    bool negated = first.tok == Tok::kDoesNotExist;
    const Token& key_tok = negated ? Next() : first;
    if (key_tok.tok != Tok::kIdentifier) {
      return Error(key_tok, "found " + Describe(key_tok) + ", expected: identifier");
    }
    r.key = std::string(key_tok.text);
    if (Status s = ValidateLabelKey(r.key); !s.ok()) {
      return Error(key_tok, "invalid label key \"" + r.key + "\": " + s.message());
    }
    if (negated) {
      r.op = LabelRequirement::Op::kDoesNotExist;
      return r;
    }
    const Token& op = Peek();
    if (op.tok == Tok::kEnd || op.tok == Tok::kComma) {
      r.op = LabelRequirement::Op::kExists;
      return r;
    }
    Next();
    std::optional<Op> parsed = Lookup(kOperatorTokens, op.tok);
    if (!parsed) {
      return Error(op, "found " + Describe(op) +
                           ", expected: in, notin, =, ==, !=, gt, lt, ',' or end of string");
    }
    r.op = *parsed;
    if (r.op == LabelRequirement::Op::kIn || r.op == LabelRequirement::Op::kNotIn) {
      OOMCAST_RETURN_IF_ERROR(ParseValueSet(&r));
    } else {
      // A single value; "key=" (followed by ',' or the end) means the empty value.
      const Token& v = Peek();
      if (v.tok == Tok::kEnd || v.tok == Tok::kComma) {
        r.values.push_back("");
      } else if (v.tok == Tok::kIdentifier || v.tok == Tok::kIn || v.tok == Tok::kNotIn) {
        r.values.push_back(std::string(Next().text));
      } else {
        return Error(v, "found " + Describe(v) + ", expected: identifier");
      }
      if (r.op == LabelRequirement::Op::kGreaterThan || r.op == LabelRequirement::Op::kLessThan) {
        if (!ParseInt64(r.values[0])) {
          return Error(v, "for '<' and '>' operators the value must be an integer, found \"" +
                              r.values[0] + "\"");
        }
      }
    }
    for (const std::string& value : r.values) {
      if (Status s = ValidateLabelValue(value); !s.ok()) {
        return Error(
            op, "invalid label value \"" + value + "\" for key \"" + r.key + "\": " + s.message());
      }
    }
    std::sort(r.values.begin(), r.values.end());
    r.values.erase(std::unique(r.values.begin(), r.values.end()), r.values.end());
    return r;
  }

  // "(" [value] {"," [value]} ")"; empty entries are the empty value, "()" is {""}.
  Status ParseValueSet(LabelRequirement* r) {
    const Token& open = Next();
    if (open.tok != Tok::kOpenPar)
      return Error(open, "found " + Describe(open) + ", expected: '('");
    bool expect_value = true;
    while (true) {
      const Token& t = Next();
      switch (t.tok) {
        case Tok::kIdentifier:
        case Tok::kIn:
        case Tok::kNotIn:
          if (!expect_value) return Error(t, "found " + Describe(t) + ", expected: ',' or ')'");
          r->values.push_back(std::string(t.text));
          expect_value = false;
          break;
        case Tok::kComma:
          if (expect_value) r->values.push_back("");
          expect_value = true;
          break;
        case Tok::kClosedPar:
          if (expect_value) r->values.push_back("");
          return Status::Ok();
        default:
          return Error(t, "found " + Describe(t) + ", expected: ',', ')' or identifier");
      }
    }
  }

  std::string_view text_;
  std::vector<Token> toks_;
  size_t i_ = 0;
};

}  // namespace

Status ValidateLabelKey(std::string_view key) {
  std::string_view name = key;
  size_t slash = key.find('/');
  if (slash != std::string_view::npos) {
    std::string_view prefix = key.substr(0, slash);
    name = key.substr(slash + 1);
    if (prefix.empty()) return InvalidArgumentError("prefix part must be non-empty");
    if (!IsDns1123Subdomain(prefix)) {
      return InvalidArgumentError(
          "prefix part must be a lowercase RFC 1123 subdomain of at most 253 characters");
    }
  }
  if (name.empty()) return InvalidArgumentError("name part must be non-empty");
  if (name.size() > 63) return InvalidArgumentError("name part must be no more than 63 characters");
  if (!IsQualifiedNamePart(name)) {
    return InvalidArgumentError(
        "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and "
        "end with an alphanumeric character");
  }
  return Status::Ok();
}

Status ValidateLabelValue(std::string_view value) {
  if (value.size() > 63) return InvalidArgumentError("must be no more than 63 characters");
  if (!value.empty() && !IsQualifiedNamePart(value)) {
    return InvalidArgumentError(
        "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' "
        "or '.', and must start and end with an alphanumeric character");
  }
  return Status::Ok();
}

StatusOr<LabelSelector> LabelSelector::Parse(std::string_view text) {
  auto reqs = Parser(text).Parse();
  if (!reqs.ok()) return reqs.status();
  return FromRequirements(std::move(reqs).value());
}

StatusOr<LabelSelector> LabelSelector::FromRequirements(std::vector<LabelRequirement> reqs) {
  for (LabelRequirement& r : reqs) {
    OOMCAST_RETURN_IF_ERROR(ValidateLabelKey(r.key).WithContext("key \"" + r.key + "\""));
    for (const std::string& v : r.values) {
      OOMCAST_RETURN_IF_ERROR(ValidateLabelValue(v).WithContext("value \"" + v + "\""));
    }
    std::sort(r.values.begin(), r.values.end());
  }
  // apimachinery sorts requirements by key (stable, so equal keys keep their order).
  std::stable_sort(
      reqs.begin(), reqs.end(),
      [](const LabelRequirement& a, const LabelRequirement& b) { return a.key < b.key; });
  LabelSelector s;
  s.requirements_ = std::move(reqs);
  return s;
}

bool LabelSelector::RequirementMatches(const LabelRequirement& r, const std::string* value) {
  auto in_values = [&] { return std::binary_search(r.values.begin(), r.values.end(), *value); };
  switch (r.op) {
    case LabelRequirement::Op::kEquals:
    case LabelRequirement::Op::kIn:
      return value != nullptr && in_values();
    case LabelRequirement::Op::kNotEquals:
    case LabelRequirement::Op::kNotIn:
      return value == nullptr || !in_values();
    case LabelRequirement::Op::kExists:
      return value != nullptr;
    case LabelRequirement::Op::kDoesNotExist:
      return value == nullptr;
    case LabelRequirement::Op::kGreaterThan:
    case LabelRequirement::Op::kLessThan: {
      if (value == nullptr || r.values.size() != 1) return false;
      auto have = ParseInt64(*value);
      auto want = ParseInt64(r.values[0]);
      if (!have || !want) return false;
      return r.op == LabelRequirement::Op::kGreaterThan ? *have > *want : *have < *want;
    }
  }
  return false;
}

bool LabelSelector::Matches(const std::map<std::string, std::string>& labels) const {
  return MatchesLookup([&](std::string_view key) -> const std::string* {
    auto it = labels.find(std::string(key));
    return it == labels.end() ? nullptr : &it->second;
  });
}

std::string LabelSelector::ToString() const {
  std::string out;
  for (const LabelRequirement& r : requirements_) {
    if (!out.empty()) out += ',';
    if (r.op == LabelRequirement::Op::kDoesNotExist) out += '!';
    out += r.key;
    out += Lookup(kOperatorSpellings, r.op).value_or("");
    if (r.op == LabelRequirement::Op::kIn || r.op == LabelRequirement::Op::kNotIn) {
      out += '(';
      for (size_t i = 0; i < r.values.size(); ++i) {
        if (i) out += ',';
        out += r.values[i];
      }
      out += ')';
    } else if (!r.values.empty() && r.op != LabelRequirement::Op::kExists &&
               r.op != LabelRequirement::Op::kDoesNotExist) {
      out += r.values[0];
    }
  }
  return out;
}

}  // namespace oomcast
