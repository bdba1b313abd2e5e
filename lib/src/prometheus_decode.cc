// Decoding of Prometheus HTTP API bodies straight into QueryResult / Labels, without a DOM.
//
// Two decoders with the same contract:
//  - FastDecoder: a hand-rolled single-pass recursive-descent parser specialized for the
//    {"status","data":{"resultType","result":[{"metric":{...},"values":[[ts,"v"],...]}]}} shape.
//    Unknown fields are skipped (validated, not stored). Used by DecodeQueryResponse.
//  - SaxDecoder: nlohmann-json's SAX interface; the reference used to cross-check the fast one.
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "oomcast/escape.h"
#include "oomcast/lookup_table.h"
#include "oomcast/prometheus_client.h"

namespace oomcast {
namespace {

// True when the number text [b, e) has an exponent with a minus sign ("1e-400").
bool HasNegativeExponent(const char* b, const char* e) {
  for (const char* q = b; q != e; ++q) {
    if (*q == 'e' || *q == 'E') return q + 1 != e && q[1] == '-';
  }
  return false;
}

// Parses a Prometheus sample value as sent in JSON strings: decimal/exponent floats, "NaN",
// "+Inf", "-Inf", "Inf". Returns false on anything else.
bool ParseSampleValue(std::string_view s, double* out) {
  if (s.empty()) return false;
  const char* b = s.data();
  const char* e = b + s.size();
  if (*b == '+') {
    ++b;
    if (b == e || *b == '-' || *b == '+') return false;
  }
  auto [ptr, ec] = std::from_chars(b, e, *out);
  if (ec == std::errc() && ptr == e) return true;
  if (ec == std::errc::result_out_of_range && ptr == e) {
    // Overflow/underflow: keep the sign of an infinity or zero, as strconv.ParseFloat would.
    bool neg = *b == '-';
    bool tiny = HasNegativeExponent(b, e);
    *out = tiny ? (neg ? -0.0 : 0.0)
                : (neg ? -std::numeric_limits<double>::infinity()
                       : std::numeric_limits<double>::infinity());
    return true;
  }
  return false;
}

Status ErrorBodyStatus(std::string_view error_type, std::string_view error) {
  std::string msg = "errorType=";
  msg.append(error_type.empty() ? "unknown" : error_type);
  msg.append(": ");
  msg.append(error);
  return Status(StatusCodeFromPrometheusErrorType(error_type), std::move(msg));
}

Status CheckResultType(std::string_view t) {
  if (t == "matrix" || t == "vector") return Status::Ok();
  if (t.empty()) return DataLossError("response has no data.resultType");
  return InvalidArgumentError("unsupported resultType \"" + std::string(t) +
                              "\" (only matrix and vector are accepted)");
}

// ---------------------------------------------------------------------------------------------
// Fast decoder.

class FastDecoder {
 public:
  // `keep` must outlive the decoder.
  FastDecoder(std::string_view body, const LabelAllowlist& keep)
      : begin_(body.data()), p_(body.data()), end_(body.data() + body.size()), keep_(keep) {}

  enum class Mode { kQuery, kSeries };

  // Decodes the whole body. For kQuery fills *result, for kSeries fills *series.
  Status Decode(Mode mode, QueryResult* result, std::vector<Labels>* series) {
    mode_ = mode;
    result_ = result;
    series_ = series;
    std::string_view status_field, error_type, error;
    bool has_data = false;
    const bool parsed = ForEachMember([&](std::string_view key) {
      if (key == "status") return ParseStringTo(&status_field, &scratch_status_);
      if (key == "data") {
        has_data = true;
        return ParseData();
      }
      if (key == "warnings" && mode_ == Mode::kQuery) return ParseWarnings();
      if (key == "errorType") return ParseStringTo(&error_type, &scratch_error_type_);
      if (key == "error") return ParseStringTo(&error, &scratch_error_);
      return SkipValue(0);
    });
    if (!parsed) return status_;
    SkipWs();
    if (p_ != end_) {
      Malformed("trailing data after the JSON object");
      return status_;
    }
    if (status_field == "error") return ErrorBodyStatus(error_type, error);
    if (status_field != "success") {
      return DataLossError("response status is \"" + std::string(status_field) +
                           "\", want \"success\" or \"error\"");
    }
    if (!has_data) return DataLossError("response has no data");
    if (mode_ == Mode::kQuery) {
      if (!data_is_object_) return DataLossError("response data is not an object");
      OOMCAST_RETURN_IF_ERROR(CheckResultType(result_->result_type));
    } else if (!data_is_array_) {
      return DataLossError("response data is not an array");
    }
    return Status::Ok();
  }

 private:
  static constexpr int kMaxDepth = 256;

  bool Peek(char c) const { return p_ < end_ && *p_ == c; }

  void SkipWs() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }

  bool Malformed(std::string_view what) {
    size_t off = static_cast<size_t>(p_ - begin_);
    if (p_ >= end_) {
      status_ =
          DataLossError("truncated JSON at byte " + std::to_string(off) + ": " + std::string(what));
    } else {
      status_ =
          DataLossError("malformed JSON at byte " + std::to_string(off) + ": " + std::string(what));
    }
    return false;
  }

  bool Semantic(Status s) {
    status_ = std::move(s);
    return false;
  }

  bool Expect(char c) {
    SkipWs();
    if (p_ < end_ && *p_ == c) {
      ++p_;
      return true;
    }
    char buf[] = "expected 'x'";
    buf[10] = c;
    return Malformed(buf);
  }

  // After a member/element: consumes ',' (done_object_=false) or `close` (done_object_=true).
  bool NextMember(char close) {
    SkipWs();
    if (p_ < end_) {
      if (*p_ == ',') {
        ++p_;
        done_object_ = false;
        return true;
      }
      if (*p_ == close) {
        ++p_;
        done_object_ = true;
        return true;
      }
    }
    return Malformed(close == '}' ? "expected ',' or '}'" : "expected ',' or ']'");
  }

  // Parses an array (after whitespace): '[', then `element()` for each element (it parses one
  // and returns false on error, status_ set), then ']'. False on error.
  template <typename Element>
  bool ForEachElement(Element&& element) {
    return ForEach('[', ']', element);
  }

  // Parses an object (after whitespace): '{', then for each member its key and
  // `value(std::string_view key)` (it parses the value and returns false on error), then '}'.
  // The key views scratch memory: it is valid until the value parses another string.
  template <typename Value>
  bool ForEachMember(Value&& value) {
    return ForEach('{', '}', [&] {
      std::string_view key;
      return ParseKey(&key) && value(key);
    });
  }

  template <typename Each>
  bool ForEach(char open, char close, Each&& each) {
    if (!Expect(open)) return false;
    SkipWs();
    if (Peek(close)) {
      ++p_;
      return true;
    }
    for (;;) {
      if (!each()) return false;
      if (!NextMember(close)) return false;
      if (done_object_) return true;
    }
  }

  // Parses `"key" :`.
  bool ParseKey(std::string_view* key) {
    SkipWs();
    if (!ParseStringTo(key, &scratch_key_)) return false;
    return Expect(':');
  }

  // Parses a JSON string at p_ (after whitespace). *out views the body when the string has no
  // escapes, else *scratch (unescaped). Control characters are rejected as JSON requires.
  bool ParseStringTo(std::string_view* out, std::string* scratch) {
    SkipWs();
    if (p_ >= end_ || *p_ != '"') return Malformed("expected string");
    const char* s = ++p_;
    const char* q = s;
    // Fast scan: most strings have no escapes.
    while (q < end_) {
      unsigned char c = static_cast<unsigned char>(*q);
      if (c == '"') {
        *out = std::string_view(s, static_cast<size_t>(q - s));
        p_ = q + 1;
        return true;
      }
      if (c == '\\') break;
      if (c < 0x20) {
        p_ = q;
        return Malformed("control character in string");
      }
      ++q;
    }
    if (q >= end_) {
      p_ = end_;
      return Malformed("unterminated string");
    }
    scratch->assign(s, static_cast<size_t>(q - s));
    p_ = q;
    while (p_ < end_) {
      unsigned char c = static_cast<unsigned char>(*p_);
      if (c == '"') {
        ++p_;
        *out = *scratch;
        return true;
      }
      if (c < 0x20) return Malformed("control character in string");
      if (c != '\\') {
        scratch->push_back(static_cast<char>(c));
        ++p_;
        continue;
      }
      if (++p_ >= end_) return Malformed("unterminated escape");
      const char e = *p_++;
      if (e != 'u') {
        const int byte = JsonShortUnescape(e);
        if (byte < 0) {
          --p_;
          return Malformed("bad escape in string");
        }
        scratch->push_back(static_cast<char>(byte));
        continue;
      }
      uint32_t cp = 0;
      if (!ParseHex4(&cp)) return false;
      if (cp >= 0xD800 && cp <= 0xDBFF) {
        uint32_t lo = 0;
        if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') {
          return Malformed("unpaired surrogate in \\u escape");
        }
        p_ += 2;
        if (!ParseHex4(&lo)) return false;
        if (lo < 0xDC00 || lo > 0xDFFF) return Malformed("bad low surrogate in \\u escape");
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
      } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
        return Malformed("unpaired surrogate in \\u escape");
      }
      AppendUtf8(cp, scratch);
    }
    return Malformed("unterminated string");
  }

  bool ParseHex4(uint32_t* cp) {
    if (end_ - p_ < 4) {
      p_ = end_;
      return Malformed("truncated \\u escape");
    }
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      char c = p_[i];
      v <<= 4;
      if (c >= '0' && c <= '9') {
        v |= static_cast<uint32_t>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        v |= static_cast<uint32_t>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        v |= static_cast<uint32_t>(c - 'A' + 10);
      } else {
        p_ += i;
        return Malformed("bad hex digit in \\u escape");
      }
    }
    p_ += 4;
    *cp = v;
    return true;
  }

  static void AppendUtf8(uint32_t cp, std::string* out) {
    if (cp < 0x80) {
      out->push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  // Parses a JSON number (strict grammar) into *out.
  bool ParseNumber(double* out) {
    SkipWs();
    const char* s = p_;
    const char* q = p_;
    if (q < end_ && *q == '-') ++q;
    if (q >= end_) {
      p_ = q;
      return Malformed("expected number");
    }
    if (*q == '0') {
      ++q;
    } else if (*q >= '1' && *q <= '9') {
      while (q < end_ && *q >= '0' && *q <= '9') ++q;
    } else {
      p_ = q;
      return Malformed("expected number");
    }
    if (q < end_ && *q == '.') {
      ++q;
      const char* d = q;
      while (q < end_ && *q >= '0' && *q <= '9') ++q;
      if (q == d) {
        p_ = q;
        return Malformed("expected digit after '.'");
      }
    }
    if (q < end_ && (*q == 'e' || *q == 'E')) {
      ++q;
      if (q < end_ && (*q == '+' || *q == '-')) ++q;
      const char* d = q;
      while (q < end_ && *q >= '0' && *q <= '9') ++q;
      if (q == d) {
        p_ = q;
        return Malformed("expected digit in exponent");
      }
    }
    if (q >= end_) {
      // A number may not end the document here (we are always inside an array/object).
      p_ = q;
      return Malformed("number at end of input");
    }
    auto [ptr, ec] = std::from_chars(s, q, *out);
    if (ptr != q) return Malformed("bad number");
    if (ec == std::errc::result_out_of_range) {
      // from_chars leaves *out untouched: tell underflow (rounds to 0) from overflow (an error,
      // as in nlohmann-json).
      if (!HasNegativeExponent(s, q)) return Malformed("number overflow");
      *out = 0;
    }
    p_ = q;
    return true;
  }

  bool MatchLiteral(std::string_view lit) {
    if (static_cast<size_t>(end_ - p_) < lit.size()) {
      // Could be a truncated literal or garbage: report the first mismatch.
      size_t n = static_cast<size_t>(end_ - p_);
      if (std::memcmp(p_, lit.data(), n) == 0) {
        p_ = end_;
        return Malformed("truncated literal");
      }
      return Malformed("invalid literal");
    }
    if (std::memcmp(p_, lit.data(), lit.size()) != 0) return Malformed("invalid literal");
    p_ += lit.size();
    return true;
  }

  // Validates and skips any JSON value.
  bool SkipValue(int depth) {
    if (depth > kMaxDepth) return Malformed("nesting too deep");
    SkipWs();
    if (p_ >= end_) return Malformed("expected value");
    switch (*p_) {
      case '"': {
        std::string_view ignored;
        return ParseStringTo(&ignored, &scratch_skip_);
      }
      case '{':
        return ForEachMember([&](std::string_view) { return SkipValue(depth + 1); });
      case '[':
        return ForEachElement([&] { return SkipValue(depth + 1); });
      case 't':
        return MatchLiteral("true");
      case 'f':
        return MatchLiteral("false");
      case 'n':
        return MatchLiteral("null");
      default: {
        double ignored;
        return ParseNumber(&ignored);
      }
    }
  }

  bool ParseWarnings() {
    SkipWs();
    if (!Peek('[')) return SkipValue(0);
    return ForEachElement([&] {
      SkipWs();
      if (!Peek('"')) return SkipValue(1);
      std::string_view w;
      if (!ParseStringTo(&w, &scratch_value_)) return false;
      result_->warnings.emplace_back(w);
      return true;
    });
  }

  bool ParseData() {
    SkipWs();
    if (mode_ == Mode::kSeries) {
      if (!Peek('[')) return SkipValue(0);
      data_is_array_ = true;
      return ParseSeriesList();
    }
    if (!Peek('{')) return SkipValue(0);
    data_is_object_ = true;
    return ForEachMember([&](std::string_view key) {
      if (key == "resultType") {
        std::string_view t;
        if (!ParseStringTo(&t, &scratch_value_)) return false;
        result_->result_type.assign(t);
        Status checked = CheckResultType(t);
        return checked.ok() || Semantic(std::move(checked));
      }
      if (key != "result") return SkipValue(1);
      SkipWs();
      if (Peek('n')) return MatchLiteral("null");  // Treated as an empty result.
      if (!Peek('[')) return Malformed("data.result is not an array");
      return ParseResult();
    });
  }

  // data.result of a matrix or vector: an array of {"metric":{...},"values"|"value":...}.
  bool ParseResult() {
    bool skip_rest = false;
    return ForEachElement([&] {
      SkipWs();
      if (skip_rest || !Peek('{')) {
        // A scalar/string result ([ts, "v"]) seen before its resultType: skip the rest.
        if (!skip_rest && !result_->result_type.empty()) {
          return Malformed("data.result element is not an object");
        }
        skip_rest = true;
        return SkipValue(2);
      }
      return ParseSeries(&result_->series.emplace_back());
    });
  }

  bool ParseSeries(SeriesData* sd) {
    return ForEachMember([&](std::string_view key) {
      if (key == "metric") return ParseLabels(&sd->labels);
      if (key == "values") return ForEachElement([&] { return ParseSample(sd); });
      if (key == "value") return ParseSample(sd);
      return SkipValue(3);  // "histogram(s)", unknown fields.
    });
  }

  // [ts, "value"]
  bool ParseSample(SeriesData* sd) {
    if (!Expect('[')) return false;
    double ts;
    if (!ParseNumber(&ts)) return false;
    if (!Expect(',')) return false;
    SkipWs();
    double v;
    if (Peek('"')) {
      const char* at = p_;
      std::string_view text;
      if (!ParseStringTo(&text, &scratch_value_)) return false;
      if (!ParseSampleValue(text, &v)) {
        p_ = at;
        return Malformed("bad sample value \"" + std::string(text.substr(0, 64)) + "\"");
      }
    } else {
      if (!ParseNumber(&v)) return false;  // Tolerated: a bare number.
    }
    if (!Expect(']')) return false;
    sd->timestamps_s.push_back(ts);
    sd->values.push_back(v);
    ++result_->samples;
    return true;
  }

  bool ParseLabels(Labels* labels) {
    return ForEachMember([&](std::string_view name) {
      // Decide (and copy the key out of scratch) before the value may reuse scratch buffers.
      bool keep = keep_.empty() || keep_.Keeps(name);
      std::string key_copy(keep ? name : std::string_view());
      std::string_view value;
      if (!ParseStringTo(&value, &scratch_value_)) return false;
      // Prometheus sends labels sorted: append at the end in O(1).
      if (keep) labels->insert_or_assign(labels->end(), std::move(key_copy), std::string(value));
      return true;
    });
  }

  bool ParseSeriesList() {
    return ForEachElement([&] { return ParseLabels(&series_->emplace_back()); });
  }

  const char* begin_;
  const char* p_;
  const char* end_;
  const LabelAllowlist& keep_;
  Mode mode_ = Mode::kQuery;
  QueryResult* result_ = nullptr;
  std::vector<Labels>* series_ = nullptr;
  Status status_;
  bool done_object_ = false;
  bool data_is_object_ = false;
  bool data_is_array_ = false;
  std::string scratch_status_, scratch_error_type_, scratch_error_, scratch_key_, scratch_value_,
      scratch_skip_;
};

// ---------------------------------------------------------------------------------------------
// SAX decoder (reference).

using json = nlohmann::json;

class SaxDecoder final : public nlohmann::json_sax<json> {
 public:
  SaxDecoder(QueryResult* result, std::vector<Labels>* series) : result_(result), series_(series) {}

  // Final status after sax_parse returned `parsed_ok`.
  Status Finish(bool parsed_ok) {
    if (!status_.ok()) return status_;
    if (!parsed_ok) return DataLossError("malformed JSON");
    if (status_field_ == "error") return ErrorBodyStatus(error_type_, error_);
    if (status_field_ != "success") {
      return DataLossError("response status is \"" + status_field_ +
                           "\", want \"success\" or \"error\"");
    }
    if (!has_data_) return DataLossError("response has no data");
    if (result_ != nullptr) {
      if (!data_is_object_) return DataLossError("response data is not an object");
      return CheckResultType(result_->result_type);
    }
    if (!data_is_array_) return DataLossError("response data is not an array");
    return Status::Ok();
  }

  bool null() override { return Scalar(); }
  bool boolean(bool) override { return Scalar(); }
  bool number_integer(number_integer_t v) override { return Number(static_cast<double>(v)); }
  bool number_unsigned(number_unsigned_t v) override { return Number(static_cast<double>(v)); }
  bool number_float(number_float_t v, const string_t&) override { return Number(v); }
  bool binary(binary_t&) override { return Scalar(); }

  bool string(string_t& s) override {
    if (skip_ > 0) return true;
    if (stack_.empty()) return NotAnObject();
    switch (Top()) {
      case Ctx::kTop:
        if (key_ == "status") status_field_ = s;
        if (key_ == "errorType") error_type_ = s;
        if (key_ == "error") error_ = s;
        break;
      case Ctx::kData:
        if (key_ == "resultType") {
          result_->result_type = s;
          Status st = CheckResultType(s);
          if (!st.ok()) return Fail(st);
        }
        break;
      case Ctx::kLabels:
        (*labels_)[key_] = s;
        break;
      case Ctx::kWarnings:
        result_->warnings.push_back(s);
        break;
      case Ctx::kSample:
        if (sample_pos_ != 1) {
          return Fail(DataLossError("malformed JSON: sample is not [timestamp, \"value\"]"));
        }
        {
          double v;
          if (!ParseSampleValue(s, &v)) {
            return Fail(
                DataLossError("malformed JSON: bad sample value \"" + s.substr(0, 64) + "\""));
          }
          PushSample(v);
        }
        ++sample_pos_;
        break;
      default:
        break;
    }
    return true;
  }

  bool start_object(std::size_t) override {
    if (skip_ > 0) return ++skip_, true;
    if (stack_.empty()) return Push(Ctx::kTop);
    switch (Top()) {
      case Ctx::kTop:
        if (key_ == "data") return StartData(result_ != nullptr, &data_is_object_, Ctx::kData);
        break;
      case Ctx::kResult:
        series_data_ = &result_->series.emplace_back();
        return Push(Ctx::kSeries);
      case Ctx::kSeries:
        if (key_ == "metric") {
          labels_ = &series_data_->labels;
          return Push(Ctx::kLabels);
        }
        break;
      case Ctx::kSeriesList:
        labels_ = &series_->emplace_back();
        return Push(Ctx::kLabels);
      default:
        break;
    }
    return SkipContainer();
  }

  bool end_object() override { return EndContainer(); }

  bool start_array(std::size_t) override {
    if (skip_ > 0) return ++skip_, true;
    if (stack_.empty()) return NotAnObject();
    switch (Top()) {
      case Ctx::kTop:
        if (key_ == "warnings" && result_ != nullptr) return Push(Ctx::kWarnings);
        if (key_ == "data") {
          return StartData(series_ != nullptr, &data_is_array_, Ctx::kSeriesList);
        }
        break;
      case Ctx::kData:
        if (key_ == "result") return Push(Ctx::kResult);
        break;
      case Ctx::kSeries:
        if (key_ == "values") return Push(Ctx::kValues);
        if (key_ == "value") {
          sample_pos_ = 0;
          return Push(Ctx::kSample);
        }
        break;
      case Ctx::kValues:
        sample_pos_ = 0;
        return Push(Ctx::kSample);
      case Ctx::kResult:
        if (result_->result_type.empty()) break;  // Scalar before resultType: skip.
        return Fail(DataLossError("malformed JSON: data.result element is not an object"));
      default:
        break;
    }
    return SkipContainer();
  }

  bool end_array() override { return EndContainer(); }

  // The object or array that ends is left (or one level of a skipped one); a sample must have
  // had its two elements.
  bool EndContainer() {
    if (skip_ > 0) return --skip_, true;
    if (Top() == Ctx::kSample && sample_pos_ != 2) {
      return Fail(DataLossError("malformed JSON: sample is not [timestamp, \"value\"]"));
    }
    stack_.pop_back();
    return true;
  }

  bool key(string_t& k) override {
    if (skip_ == 0) key_ = k;
    return true;
  }

  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception& ex) override {
    // nlohmann positions are 1-based counts of characters read; report a 0-based offset.
    size_t off = position > 0 ? position - 1 : 0;
    status_ = DataLossError("malformed JSON at byte " + std::to_string(off) + ": " + ex.what());
    return false;
  }

 private:
  enum class Ctx {
    kTop,
    kData,
    kResult,
    kSeries,
    kLabels,
    kValues,
    kSample,
    kWarnings,
    kSeriesList
  };

  Ctx Top() const { return stack_.back(); }
  // The top-level "data" value (an object or an array) starts: entered as `ctx` when it has the
  // shape this decoder wants (`wanted`, noted in *shape), else noted and skipped.
  bool StartData(bool wanted, bool* shape, Ctx ctx) {
    has_data_ = true;
    if (!wanted) return SkipContainer();
    *shape = true;
    return Push(ctx);
  }
  // Skips the object or array just started, with everything in it.
  bool SkipContainer() {
    skip_ = 1;
    return true;
  }
  bool Push(Ctx c) {
    stack_.push_back(c);
    return true;
  }
  bool Fail(Status s) {
    status_ = std::move(s);
    return false;
  }
  bool NotAnObject() {
    return Fail(DataLossError("malformed JSON at byte 0: body is not a JSON object"));
  }
  bool Scalar() {
    if (skip_ == 0 && stack_.empty()) return NotAnObject();
    if (skip_ == 0 && !stack_.empty() && Top() == Ctx::kSample) {
      return Fail(DataLossError("malformed JSON: sample is not [timestamp, \"value\"]"));
    }
    if (skip_ == 0 && !stack_.empty() && Top() == Ctx::kLabels) {
      return Fail(DataLossError("malformed JSON: label value is not a string"));
    }
    return true;
  }
  bool Number(double v) {
    if (skip_ > 0) return true;
    if (stack_.empty()) return NotAnObject();
    if (Top() == Ctx::kSample) {
      if (sample_pos_ == 0) {
        ts_ = v;
      } else if (sample_pos_ == 1) {
        PushSample(v);
      } else {
        return Fail(DataLossError("malformed JSON: sample is not [timestamp, \"value\"]"));
      }
      ++sample_pos_;
      return true;
    }
    return Scalar();
  }
  void PushSample(double v) {
    series_data_->timestamps_s.push_back(ts_);
    series_data_->values.push_back(v);
    ++result_->samples;
  }

  QueryResult* result_;
  std::vector<Labels>* series_;
  std::vector<Ctx> stack_;
  int skip_ = 0;
  std::string key_;
  SeriesData* series_data_ = nullptr;
  Labels* labels_ = nullptr;
  int sample_pos_ = 0;
  double ts_ = 0;
  std::string status_field_, error_type_, error_;
  bool has_data_ = false, data_is_object_ = false, data_is_array_ = false;
  Status status_;
};

}  // namespace

StatusCode HttpStatusToCode(int http_status) {
  static constexpr std::pair<int, StatusCode> kCodes[] = {
      {400, StatusCode::kInvalidArgument}, {422, StatusCode::kInvalidArgument},
      {401, StatusCode::kUnauthenticated}, {403, StatusCode::kPermissionDenied},
      {404, StatusCode::kNotFound},        {429, StatusCode::kResourceExhausted},
      {504, StatusCode::kDeadlineExceeded}};
  if (std::optional<StatusCode> code = Lookup(kCodes, http_status)) return *code;
  if (http_status >= 500 && http_status <= 599) return StatusCode::kUnavailable;
  if (http_status >= 400 && http_status <= 499) return StatusCode::kInvalidArgument;
  return StatusCode::kInternal;
}

StatusCode StatusCodeFromPrometheusErrorType(std::string_view t) {
  static constexpr std::pair<std::string_view, StatusCode> kErrorTypes[] = {
      {"bad_data", StatusCode::kInvalidArgument}, {"execution", StatusCode::kInvalidArgument},
      {"timeout", StatusCode::kDeadlineExceeded}, {"canceled", StatusCode::kUnavailable},
      {"unavailable", StatusCode::kUnavailable},  {"not_found", StatusCode::kNotFound}};
  if (std::optional<StatusCode> code = Lookup(kErrorTypes, t)) return *code;
  if (t.size() == 3 && t[0] >= '1' && t[0] <= '5') {  // VictoriaMetrics: "422", "503", ...
    int code = 0;
    auto [ptr, ec] = std::from_chars(t.data(), t.data() + 3, code);
    if (ec == std::errc() && ptr == t.data() + 3) return HttpStatusToCode(code);
  }
  return StatusCode::kInternal;
}

LabelAllowlist::LabelAllowlist(std::vector<std::string> entries) {
  for (std::string& e : entries) {
    if (!e.empty() && e.back() == '*') {
      e.pop_back();
      prefixes_.push_back(std::move(e));
    } else {
      exact_.push_back(std::move(e));
    }
  }
}

bool LabelAllowlist::Keeps(std::string_view name) const {
  for (const std::string& e : exact_) {
    if (name == e) return true;
  }
  for (const std::string& p : prefixes_) {
    if (name.substr(0, p.size()) == p) return true;
  }
  return false;
}

StatusOr<QueryResult> DecodeQueryResponse(std::string_view body) {
  return DecodeQueryResponse(body, LabelAllowlist());
}

StatusOr<QueryResult> DecodeQueryResponse(std::string_view body, const LabelAllowlist& keep) {
  QueryResult result;
  result.response_bytes = body.size();
  FastDecoder decoder(body, keep);
  Status st = decoder.Decode(FastDecoder::Mode::kQuery, &result, nullptr);
  if (!st.ok()) return st;
  return result;
}

StatusOr<QueryResult> DecodeQueryResponseSax(std::string_view body) {
  QueryResult result;
  result.response_bytes = body.size();
  SaxDecoder decoder(&result, nullptr);
  bool ok = false;
  try {
    ok = json::sax_parse(body.begin(), body.end(), &decoder);
  } catch (const std::exception& e) {  // sax_parse reports through parse_error; belt and braces.
    return DataLossError(std::string("malformed JSON: ") + e.what());
  }
  Status st = decoder.Finish(ok);
  if (!st.ok()) return st;
  return result;
}

StatusOr<std::vector<Labels>> DecodeSeriesResponse(std::string_view body) {
  return DecodeSeriesResponse(body, LabelAllowlist());
}

StatusOr<std::vector<Labels>> DecodeSeriesResponse(std::string_view body,
                                                   const LabelAllowlist& keep) {
  std::vector<Labels> series;
  FastDecoder decoder(body, keep);
  Status st = decoder.Decode(FastDecoder::Mode::kSeries, nullptr, &series);
  if (!st.ok()) return st;
  return series;
}

bool ParsePrometheusErrorBody(std::string_view body, PrometheusApiError* out) {
  // Small bodies only in practice; a throwaway DOM is fine here.
  json doc;
  try {
    doc = json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  } catch (const std::exception&) {
    return false;
  }
  if (!doc.is_object()) return false;
  auto status = doc.find("status");
  if (status == doc.end() || !status->is_string() || status->get<std::string>() != "error") {
    return false;
  }
  PrometheusApiError e;
  if (auto it = doc.find("errorType"); it != doc.end() && it->is_string()) {
    e.error_type = it->get<std::string>();
  }
  if (auto it = doc.find("error"); it != doc.end() && it->is_string()) {
    e.error = it->get<std::string>();
  }
  *out = std::move(e);
  return true;
}

}  // namespace oomcast
