#include "auth/strict_json.hpp"

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/value_stack.hpp>

#include <cstdint>

namespace mcp_proxy::auth {

namespace json = boost::json;

namespace {

// A handler of Boost.JSON's SAX parser that builds the value on a value_stack, as json::parser
// does, and counts the members the input spelled. An object built from members with equal keys
// keeps one of them, so the built tree holds fewer members than were spelled exactly when some
// object had a key twice.
class counting_builder {
 public:
  static constexpr std::size_t max_array_size = std::size_t(-1);
  static constexpr std::size_t max_object_size = std::size_t(-1);
  static constexpr std::size_t max_string_size = std::size_t(-1);
  static constexpr std::size_t max_key_size = std::size_t(-1);

  json::value_stack stack;
  std::size_t members = 0;

  bool on_document_begin(json::error_code&) {
    stack.reset();
    return true;
  }
  bool on_document_end(json::error_code&) { return true; }
  bool on_array_begin(json::error_code&) { return true; }
  bool on_array_end(std::size_t n, json::error_code&) {
    stack.push_array(n);
    return true;
  }
  bool on_object_begin(json::error_code&) { return true; }
  bool on_object_end(std::size_t n, json::error_code&) {
    members += n;
    stack.push_object(n);
    return true;
  }
  bool on_string_part(json::string_view s, std::size_t, json::error_code&) {
    stack.push_chars(s);
    return true;
  }
  bool on_string(json::string_view s, std::size_t, json::error_code&) {
    stack.push_string(s);
    return true;
  }
  bool on_key_part(json::string_view s, std::size_t, json::error_code&) {
    stack.push_chars(s);
    return true;
  }
  bool on_key(json::string_view s, std::size_t, json::error_code&) {
    stack.push_key(s);
    return true;
  }
  bool on_number_part(json::string_view, json::error_code&) { return true; }
  bool on_int64(std::int64_t i, json::string_view, json::error_code&) {
    stack.push_int64(i);
    return true;
  }
  bool on_uint64(std::uint64_t u, json::string_view, json::error_code&) {
    stack.push_uint64(u);
    return true;
  }
  bool on_double(double d, json::string_view, json::error_code&) {
    stack.push_double(d);
    return true;
  }
  bool on_bool(bool b, json::error_code&) {
    stack.push_bool(b);
    return true;
  }
  bool on_null(json::error_code&) {
    stack.push_null();
    return true;
  }
  bool on_comment_part(json::string_view, json::error_code&) { return true; }
  bool on_comment(json::string_view, json::error_code&) { return true; }
};

// The members of every object in the tree (arrays and objects nest no deeper than the parser's
// depth bound, so the recursion is bounded too).
std::size_t count_members(const json::value& v) {
  std::size_t n = 0;
  if (const auto* o = v.if_object()) {
    n += o->size();
    for (const auto& m : *o) n += count_members(m.value());
  } else if (const auto* a = v.if_array()) {
    for (const auto& e : *a) n += count_members(e);
  }
  return n;
}

}  // namespace

boost::system::result<json::object, std::string> parse_strict_object(std::string_view text,
                                                                     std::size_t max_depth) {
  json::parse_options options;
  options.max_depth = max_depth;
  json::basic_parser<counting_builder> parser(options);
  json::error_code ec;
  const std::size_t used = parser.write_some(false, text.data(), text.size(), ec);
  if (ec) return std::string("invalid JSON: ") + ec.message();
  if (used != text.size()) return std::string("invalid JSON: text after the value");
  json::value v = parser.handler().stack.release();
  if (!v.is_object()) return std::string("not a JSON object");
  if (count_members(v) != parser.handler().members) {
    return std::string("a key appears twice in one object");
  }
  return std::move(v.as_object());
}

}  // namespace mcp_proxy::auth
