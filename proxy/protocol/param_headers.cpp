#include "protocol/param_headers.hpp"

#include "util/ascii.hpp"

#include <boost/json.hpp>

#include <charconv>
#include <cmath>

namespace mcp_proxy::protocol {

namespace json = boost::json;
using jsonrpc::message;

namespace {

constexpr std::string_view mark_key = "x-mcp-header";
constexpr std::size_t max_depth = 16;

void collect(const json::object& schema, std::vector<std::string>& path,
             std::vector<param_header>& out) {
  const auto* props = schema.if_contains("properties");
  if (!props || !props->is_object() || path.size() >= max_depth) return;
  for (const auto& kv : props->get_object()) {
    const auto* prop = kv.value().if_object();
    if (!prop) continue;
    path.emplace_back(kv.key());
    const auto* mark = prop->if_contains(mark_key);
    const auto* type = prop->if_contains("type");
    if (mark && mark->is_string() && !mark->get_string().empty() && type && type->is_string()) {
      const std::string_view t = type->get_string();
      if (t == "string" || t == "integer" || t == "boolean")
        out.push_back({std::string(mark->get_string()), path, std::string(t)});
    }
    collect(*prop, path, out);
    path.pop_back();
  }
}

// The argument at `path`, or null when absent.
const json::value* argument_at(const message& call, const std::vector<std::string>& path) {
  const auto* params = call.params_object();
  const json::value* v = params ? params->if_contains("arguments") : nullptr;
  for (const auto& key : path) {
    const auto* o = v ? v->if_object() : nullptr;
    v = o ? o->if_contains(key) : nullptr;
  }
  return v;
}

// The argument as its header carries it (before encoding).
std::optional<std::string> header_text(const json::value& v) {
  if (v.is_string()) return std::string(v.get_string());
  if (v.is_bool()) return std::string(v.get_bool() ? "true" : "false");
  if (v.is_int64()) return std::to_string(v.get_int64());
  if (v.is_uint64()) return std::to_string(v.get_uint64());
  if (v.is_double() && std::trunc(v.get_double()) == v.get_double() &&
      std::abs(v.get_double()) < 9.007199254740992e15)
    return std::to_string(static_cast<std::int64_t>(v.get_double()));
  return std::nullopt;
}

bool same_value(const json::value& body, const std::string& header, std::string_view type) {
  if (type == "integer") {
    double n = 0;
    auto [end, ec] = std::from_chars(header.data(), header.data() + header.size(), n);
    if (ec != std::errc() || end != header.data() + header.size()) return false;
    boost::system::error_code conv;
    const double want = body.to_number<double>(conv);
    return !conv && n == want;
  }
  auto text = header_text(body);
  return text && *text == header;
}

modern_refusal mismatch(std::string text) {
  return modern_refusal{400, modern_codes::header_mismatch, std::move(text), nullptr};
}

}  // namespace

std::vector<param_header> param_headers_of(const json::object& tool) {
  std::vector<param_header> out;
  const auto* schema = tool.if_contains("inputSchema");
  if (!schema || !schema->is_object()) return out;
  std::vector<std::string> path;
  collect(schema->get_object(), path, out);
  // A name used twice (case-insensitively) marks nothing: which one would the header be?
  std::vector<param_header> unique;
  for (const auto& h : out) {
    std::size_t uses = 0;
    for (const auto& other : out) uses += util::ascii_iequals(h.name, other.name) ? 1 : 0;
    if (uses == 1) unique.push_back(h);
  }
  return unique;
}

std::optional<modern_refusal> check_param_headers(const message& call,
                                                  const std::vector<param_header>& marks,
                                                  const sent_headers& sent) {
  for (const auto& [name, value] : sent)
    if (!decode_header_value(value))
      return mismatch("Header mismatch: Mcp-Param-" + name + " is not a valid header value");
  for (const auto& mark : marks) {
    const json::value* arg = argument_at(call, mark.path);
    const std::string* raw = nullptr;
    for (const auto& [name, value] : sent)
      if (util::ascii_iequals(name, mark.name)) raw = &value;
    if (!arg || arg->is_null()) continue;  // no value: no header expected
    if (!raw) return mismatch("Header mismatch: Mcp-Param-" + mark.name + " header is required");
    if (!same_value(*arg, *decode_header_value(*raw), mark.type))
      return mismatch("Header mismatch: Mcp-Param-" + mark.name + " does not match the body");
  }
  return std::nullopt;
}

sent_headers param_header_values(const message& call, const std::vector<param_header>& marks) {
  sent_headers out;
  for (const auto& mark : marks) {
    const json::value* arg = argument_at(call, mark.path);
    if (!arg || arg->is_null()) continue;
    if (auto text = header_text(*arg))
      out.emplace_back(std::string(param_header_prefix) + mark.name, encode_header_value(*text));
  }
  return out;
}

}  // namespace mcp_proxy::protocol
