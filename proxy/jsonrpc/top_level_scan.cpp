#include "jsonrpc/top_level_scan.hpp"

#include "jsonrpc/message.hpp"

#include <boost/json/parse.hpp>

#include <cstddef>

namespace mcp_proxy::jsonrpc {

namespace json = boost::json;

namespace {

constexpr std::size_t npos = std::string_view::npos;

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

std::size_t skip_space(std::string_view t, std::size_t i) {
  while (i < t.size() && is_space(t[i])) ++i;
  return i;
}

// Whether `s` holds a raw control character (a loop the compiler vectorizes).
bool has_control(std::string_view s) {
  bool found = false;
  for (const char c : s) found |= static_cast<unsigned char>(c) < 0x20;
  return found;
}

// `i` at an opening quote: the position after the closing one, or npos (unterminated, or a raw
// control character, which JSON forbids in strings). The quote and the backslashes are found
// with memchr, so a long string (a large tool result) is not walked a byte at a time.
std::size_t skip_string(std::string_view t, std::size_t i) {
  ++i;
  std::size_t quote = npos;
  for (;;) {
    if (quote == npos || quote < i) quote = t.find('"', i);
    if (quote == npos) return npos;
    const auto escape = t.substr(i, quote - i).find('\\');
    const auto clean_end = escape == npos ? quote : i + escape;
    if (has_control(t.substr(i, clean_end - i))) return npos;
    if (escape == npos) return quote + 1;
    i = clean_end + 2;  // past the backslash and the character it escapes
    if (i > t.size()) return npos;
  }
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// RFC 8259 section 6: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
bool is_json_number(std::string_view s) {
  std::size_t i = 0;
  if (i < s.size() && s[i] == '-') ++i;
  if (i == s.size()) return false;
  if (s[i] == '0') {
    ++i;
  } else if (is_digit(s[i])) {
    while (i < s.size() && is_digit(s[i])) ++i;
  } else {
    return false;
  }
  if (i < s.size() && s[i] == '.') {
    const auto start = ++i;
    while (i < s.size() && is_digit(s[i])) ++i;
    if (i == start) return false;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    const auto start = i;
    while (i < s.size() && is_digit(s[i])) ++i;
    if (i == start) return false;
  }
  return i == s.size();
}

// `i` at the first character of a value: the position after it, or npos. Arrays and objects are
// skipped by counting brackets (strings inside them skipped whole), in one loop: no recursion.
std::size_t skip_value(std::string_view t, std::size_t i) {
  if (i >= t.size()) return npos;
  const char c = t[i];
  if (c == '"') return skip_string(t, i);
  if (c == '{' || c == '[') {
    std::size_t depth = 0;
    while (i < t.size()) {
      const char d = t[i];
      if (d == '"') {
        i = skip_string(t, i);
        if (i == npos) return npos;
        continue;
      }
      if (d == '{' || d == '[') {
        ++depth;
      } else if (d == '}' || d == ']') {
        if (--depth == 0) return i + 1;
      }
      ++i;
    }
    return npos;
  }
  const auto start = i;
  while (i < t.size() && !is_space(t[i]) && t[i] != ',' && t[i] != '}' && t[i] != ']') ++i;
  const auto scalar = t.substr(start, i - start);
  if (scalar == "true" || scalar == "false" || scalar == "null" || is_json_number(scalar)) return i;
  return npos;
}

// `i` at a member: its key token (quotes included) and where the colon after it is; nullopt
// unless both are there.
struct member_key {
  std::string_view key;
  std::size_t colon;
};
std::optional<member_key> read_key(std::string_view t, std::size_t i) {
  if (i >= t.size() || t[i] != '"') return std::nullopt;
  const auto key_end = skip_string(t, i);
  if (key_end == npos) return std::nullopt;
  const auto colon = skip_space(t, key_end);
  if (colon >= t.size() || t[colon] != ':') return std::nullopt;
  return member_key{t.substr(i, key_end - i), colon};
}

// The key a string token (quotes included) stands for; escapes are decoded only when present.
bool key_is(std::string_view token, std::string_view name) {
  const auto inner = token.substr(1, token.size() - 2);
  if (inner.find('\\') == npos) return inner == name;
  boost::system::error_code ec;
  auto v = json::parse(token, ec);
  return !ec && v.is_string() && v.get_string() == name;
}

}  // namespace

std::optional<top_level> scan_top_level(std::string_view t) {
  top_level out;
  std::size_t i = skip_space(t, 0);
  if (i == t.size() || t[i] != '{') return std::nullopt;
  i = skip_space(t, i + 1);
  if (i < t.size() && t[i] == '}')
    return skip_space(t, i + 1) == t.size() ? std::optional(out) : std::nullopt;
  for (;;) {
    const auto member = read_key(t, i);
    if (!member) return std::nullopt;
    const auto key = member->key;
    i = skip_space(t, member->colon + 1);
    const auto value_end = skip_value(t, i);
    if (value_end == npos) return std::nullopt;
    const auto value = t.substr(i, value_end - i);
    const auto note = [&](bool& seen) {
      out.repeated = out.repeated || seen;
      seen = true;
    };
    if (key_is(key, "id")) {
      out.repeated = out.repeated || out.id;
      out.id = value;
    } else if (key_is(key, "jsonrpc")) {
      out.repeated = out.repeated || out.jsonrpc;
      out.jsonrpc = value;
    } else if (key_is(key, "method")) {
      note(out.has_method);
    } else if (key_is(key, "result")) {
      note(out.has_result);
    } else if (key_is(key, "error")) {
      note(out.has_error);
    }
    i = skip_space(t, value_end);
    if (i >= t.size()) return std::nullopt;
    if (t[i] == '}') break;
    if (t[i] != ',') return std::nullopt;
    i = skip_space(t, i + 1);
  }
  if (skip_space(t, i + 1) != t.size()) return std::nullopt;
  return out;
}

namespace {

// A scalar id (the scan checked numbers and literals; a string is checked here, escapes and
// UTF-8 included), never a structure: an object or array id is not an id.
json::value id_of(const std::optional<top_level>& top) {
  if (!top || !top->id) return nullptr;
  const auto first = top->id->front();
  if (first == '{' || first == '[') return nullptr;
  boost::system::error_code ec;
  auto id = json::parse(*top->id, ec);
  if (ec || !is_valid_request_id(id)) return nullptr;
  return id;
}

}  // namespace

json::value readable_id(std::string_view text) {
  return id_of(scan_top_level(text));
}

message_outline outline_of(std::string_view text) {
  message_outline out;
  const auto top = scan_top_level(text);
  out.id = id_of(top);
  if (out.id.is_null()) return out;
  if (top->has_method)
    out.is_request = true;
  else if (top->has_result || top->has_error)
    out.is_response = true;
  return out;
}

std::optional<response_head> scan_response_head(std::string_view t) {
  response_head out;
  bool has_jsonrpc = false, has_id = false;
  std::size_t i = skip_space(t, 0);
  if (i == t.size() || t[i] != '{') return std::nullopt;
  for (i = skip_space(t, i + 1);; i = skip_space(t, i + 1)) {
    const auto member = read_key(t, i);
    if (!member) return std::nullopt;
    const auto key = member->key;
    if (key_is(key, "result")) {
      if (!has_jsonrpc || !has_id) return std::nullopt;
      out.result_at = member->colon + 1;
      return out;
    }
    i = skip_space(t, member->colon + 1);
    const auto value_end = skip_value(t, i);
    // A value that ends the text may still be growing (a number): not read yet.
    if (value_end == npos || value_end >= t.size()) return std::nullopt;
    const auto value = t.substr(i, value_end - i);
    if (key_is(key, "jsonrpc") && !has_jsonrpc) {
      if (value != R"("2.0")") return std::nullopt;
      has_jsonrpc = true;
    } else if (key_is(key, "id") && !has_id) {
      if (value.front() == '{' || value.front() == '[') return std::nullopt;
      boost::system::error_code ec;
      out.id = json::parse(value, ec);
      if (ec || !is_valid_request_id(out.id)) return std::nullopt;
      out.id_at = i;
      out.id_size = value.size();
      has_id = true;
    } else {
      return std::nullopt;
    }
    i = skip_space(t, value_end);
    if (i >= t.size() || t[i] != ',') return std::nullopt;
  }
}

}  // namespace mcp_proxy::jsonrpc
