#include "protocol/modern_request.hpp"

#include "protocol/versions.hpp"
#include "util/base64.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <array>

namespace mcp_proxy::protocol {

namespace json = boost::json;
namespace codes = jsonrpc::error_codes;

namespace {

constexpr std::array<std::string_view, 1> modern = {modern_version};

const json::object* meta_of(const jsonrpc::message& m) {
  const auto* params = m.params_object();
  if (!params) return nullptr;
  const auto* meta = params->if_contains("_meta");
  return meta ? meta->if_object() : nullptr;
}

const json::value* meta_value(const jsonrpc::message& m, std::string_view key) {
  const auto* meta = meta_of(m);
  return meta ? meta->if_contains(key) : nullptr;
}

// What Mcp-Name must equal for the methods that name something (streamable-http, standard
// headers): params.name of tools/call and prompts/get, params.uri of resources/read.
std::optional<std::string_view> named_item(const jsonrpc::message& m) {
  const auto method = m.method();
  const char* key = method == "resources/read"                          ? "uri"
                    : method == "tools/call" || method == "prompts/get" ? "name"
                                                                        : nullptr;
  if (!key) return std::nullopt;
  const auto* params = m.params_object();
  const auto* v = params ? params->if_contains(key) : nullptr;
  if (!v || !v->is_string()) return std::string_view{};
  return std::string_view(v->get_string());
}

modern_refusal mismatch(std::string text) {
  return modern_refusal{400, modern_codes::header_mismatch, std::move(text), nullptr};
}

bool valid_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    const std::size_t n = c < 0x80             ? 0
                          : (c & 0xE0) == 0xC0 ? 1
                          : (c & 0xF0) == 0xE0 ? 2
                          : (c & 0xF8) == 0xF0 ? 3
                                               : 4;
    if (n == 4 || i + n >= s.size()) return false;
    for (std::size_t k = 1; k <= n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    i += n + 1;
  }
  return true;
}

// A header value sent as is: visible ASCII, spaces and tabs (anything else must be encoded).
bool plain_header_text(std::string_view v) {
  return std::all_of(v.begin(), v.end(), [](char ch) {
    const auto c = static_cast<unsigned char>(ch);
    return c == '\t' || (c >= 0x20 && c < 0x7F);
  });
}

}  // namespace

std::span<const std::string_view> modern_versions() {
  return modern;
}

bool is_modern(const jsonrpc::message& m, std::optional<std::string_view> version_header,
               bool has_session_id) {
  // The _meta claim decides; an Mcp-Session-Id beside it is ignored (streamable-http, earlier
  // revisions: "ignore it, and do not mint or echo session IDs").
  if (meta_value(m, meta::protocol_version)) return m.is_request() || m.is_notification();
  if (has_session_id) return false;
  return m.is_request() && version_header && era_of(*version_header) == era::modern;
}

std::optional<std::string> decode_header_value(std::string_view v) {
  constexpr std::string_view prefix = "=?base64?", suffix = "?=";
  if (v.size() >= prefix.size() + suffix.size() && v.starts_with(prefix) && v.ends_with(suffix)) {
    auto decoded =
        util::base64_decode(v.substr(prefix.size(), v.size() - prefix.size() - suffix.size()));
    if (!decoded || !valid_utf8(*decoded)) return std::nullopt;
    return decoded;
  }
  if (!plain_header_text(v)) return std::nullopt;
  const auto first = v.find_first_not_of(" \t");
  if (first == std::string_view::npos) return std::string();
  const auto last = v.find_last_not_of(" \t");
  return std::string(v.substr(first, last - first + 1));
}

std::string encode_header_value(std::string_view v) {
  constexpr std::string_view prefix = "=?base64?", suffix = "?=";
  const bool plain = plain_header_text(v) && v.find('\t') == std::string_view::npos &&
                     (v.empty() || (v.front() != ' ' && v.back() != ' ')) &&
                     !(v.starts_with(prefix) && v.ends_with(suffix));
  if (plain) return std::string(v);
  return std::string(prefix) + util::base64_encode(v) + std::string(suffix);
}

std::optional<outgoing_headers> outgoing_headers_of(const jsonrpc::message& m) {
  const auto* version = meta_value(m, meta::protocol_version);
  if (!version || !version->is_string() || !m.is_request()) return std::nullopt;
  outgoing_headers h{std::string(version->get_string()), encode_header_value(m.method()), {}};
  if (auto name = named_item(m)) h.name = encode_header_value(*name);
  return h;
}

bool removed_in_modern(std::string_view method) {
  return method == "initialize" || method == "ping" || method == "logging/setLevel" ||
         method == "resources/subscribe" || method == "resources/unsubscribe";
}

std::optional<modern_refusal> check_modern_request(const jsonrpc::message& m,
                                                   const std::optional<modern_headers>& headers) {
  const auto* version = meta_value(m, meta::protocol_version);
  const auto* caps = meta_value(m, meta::client_capabilities);
  // basic/index, per-request protocol fields: a request missing one is malformed (-32602, 400).
  if (!version || !version->is_string())
    return modern_refusal{400, codes::invalid_params,
                          "Invalid params: _meta must name io.modelcontextprotocol/"
                          "protocolVersion",
                          nullptr};
  if (!caps || !caps->is_object())
    return modern_refusal{400, codes::invalid_params,
                          "Invalid params: _meta must hold io.modelcontextprotocol/"
                          "clientCapabilities (an object)",
                          nullptr};
  const std::string_view requested = version->get_string();
  if (headers) {
    // streamable-http, protocol version header and server validation.
    if (!headers->protocol_version)
      return mismatch("Header mismatch: MCP-Protocol-Version header is required");
    if (*headers->protocol_version != requested)
      return mismatch("Header mismatch: MCP-Protocol-Version " +
                      std::string(*headers->protocol_version) + " differs from _meta's " +
                      std::string(requested));
    if (!headers->method) return mismatch("Header mismatch: Mcp-Method header is required");
    auto method = decode_header_value(*headers->method);
    if (!method || *method != m.method())
      return mismatch("Header mismatch: Mcp-Method does not match the body's method");
    if (auto name = named_item(m)) {
      if (!headers->name) return mismatch("Header mismatch: Mcp-Name header is required");
      auto decoded = decode_header_value(*headers->name);
      if (!decoded || *decoded != *name)
        return mismatch("Header mismatch: Mcp-Name does not match the body");
    }
  }
  if (std::find(modern.begin(), modern.end(), requested) == modern.end()) {
    json::array supported;
    for (auto v : modern) supported.emplace_back(v);
    return modern_refusal{
        400, modern_codes::unsupported_protocol_version, "Unsupported protocol version",
        json::object{{"supported", std::move(supported)}, {"requested", requested}}};
  }
  // server/utilities/logging: a level that is not one of the eight names is invalid params.
  if (const auto* level = meta_value(m, meta::log_level); level && modern_log_rank(m) < 0)
    return modern_refusal{400, codes::invalid_params,
                          "Invalid params: _meta io.modelcontextprotocol/logLevel must be one of "
                          "debug, info, notice, warning, error, critical, alert, emergency",
                          nullptr};
  if (removed_in_modern(m.method()))
    return modern_refusal{404, codes::method_not_found,
                          "Method not found: " + std::string(m.method()) +
                              " is not part of protocol version " + std::string(requested),
                          nullptr};
  return std::nullopt;
}

jsonrpc::message refusal_response(const jsonrpc::message& m, const modern_refusal& r) {
  const json::value id = m.id() ? *m.id() : json::value(nullptr);
  return jsonrpc::message::error_response(id, r.code, r.text, r.data.is_null() ? nullptr : &r.data);
}

int modern_log_rank(const jsonrpc::message& m) {
  static constexpr std::array<std::string_view, 8> levels = {
      "debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"};
  const auto* level = meta_value(m, meta::log_level);
  if (!level || !level->is_string()) return -1;
  const auto it = std::find(levels.begin(), levels.end(), level->get_string());
  return it == levels.end() ? -1 : static_cast<int>(it - levels.begin());
}

jsonrpc::message to_legacy_request(jsonrpc::message m) {
  auto* params = m.params_object();
  if (!params) return m;
  auto* meta = params->if_contains("_meta");
  if (!meta || !meta->is_object()) return m;
  auto& o = meta->get_object();
  for (auto key :
       {meta::protocol_version, meta::client_capabilities, meta::client_info, meta::log_level})
    o.erase(key);
  if (o.empty()) params->erase("_meta");
  return m;
}

json::object declared_capabilities(const jsonrpc::message& modern_request) {
  const auto* caps = meta_value(modern_request, meta::client_capabilities);
  return caps && caps->is_object() ? caps->get_object() : json::object{};
}

jsonrpc::message missing_capability_error(const json::value& request_id,
                                          const jsonrpc::message& backend_request) {
  const auto method = backend_request.method();
  json::object required;
  if (method == "sampling/createMessage") {
    required["sampling"] = json::object{};
  } else if (method == "roots/list") {
    required["roots"] = json::object{};
  } else {
    const auto* params = backend_request.params_object();
    const auto* mode = params ? params->if_contains("mode") : nullptr;
    const bool url = mode && mode->is_string() && mode->get_string() == "url";
    required["elicitation"] = json::object{{url ? "url" : "form", json::object{}}};
  }
  const json::value data = json::object{{"requiredCapabilities", std::move(required)}};
  return jsonrpc::message::error_response(
      request_id, modern_codes::missing_required_client_capability,
      "Missing required client capability: the server needs " + std::string(method), &data);
}

jsonrpc::message legacy_initialize_for(const jsonrpc::message& modern_request) {
  const auto* info = meta_value(modern_request, meta::client_info);
  json::object every_capability{
      {"sampling", json::object{}},
      {"elicitation", json::object{{"form", json::object{}}, {"url", json::object{}}}}};
  // Servers ask for roots on their own, not because a request needs them: only a client that
  // has roots is said to, so the others are not failed with -32021 for a question they were
  // never meant to answer (the backend hears no, as from any client without roots).
  if (declared_capabilities(modern_request).contains("roots"))
    every_capability["roots"] = json::object{};
  json::object params{
      {"protocolVersion", latest_legacy_version},
      {"capabilities", every_capability},
      {"clientInfo", info && info->is_object()
                         ? *info
                         : json::value(json::object{{"name", "modern-client"}, {"version", "0"}})}};
  return jsonrpc::message::request("modern-initialize", "initialize", std::move(params));
}

void to_modern_answer(jsonrpc::message& answer, std::string_view method,
                      const json::object& server_info) {
  auto& o = answer.object();
  if (auto* error = o.if_contains("error"); error && error->is_object()) {
    auto& code = error->get_object()["code"];
    if (code.is_int64() && code.get_int64() == modern_codes::legacy_resource_not_found)
      code = codes::invalid_params;
    return;
  }
  auto* result = o.if_contains("result");
  if (!result || !result->is_object()) return;
  auto& r = result->get_object();
  // An input_required result (made by the proxy's input bridge) keeps its type, and is not
  // cacheable (caching: only complete results carry ttlMs and cacheScope).
  if (!r.contains("resultType")) r["resultType"] = "complete";
  const bool complete = r.at("resultType") == "complete";
  auto& meta = r["_meta"];
  if (!meta.is_object()) meta = json::object{};
  if (!server_info.empty()) meta.get_object()[meta::server_info] = server_info;
  const bool cacheable = method == "tools/list" || method == "prompts/list" ||
                         method == "resources/list" || method == "resources/templates/list" ||
                         method == "resources/read";
  // A 2026-07-28 backend's own figures hold (one backend answered, as it was asked).
  if (cacheable && complete) {
    if (!r.contains("ttlMs")) r["ttlMs"] = 0;
    if (!r.contains("cacheScope")) r["cacheScope"] = "private";
  }
}

bool is_input_required(const jsonrpc::message& answer) {
  const auto* result = answer.result();
  const auto* o = result ? result->if_object() : nullptr;
  const auto* kind = o ? o->if_contains("resultType") : nullptr;
  return kind && kind->is_string() && kind->get_string() == "input_required";
}

unsigned modern_http_status(const jsonrpc::message& answer) {
  const auto* error = answer.error();
  const auto* code =
      error && error->is_object() ? error->get_object().if_contains("code") : nullptr;
  if (!code || !code->is_int64()) return 200;
  if (code->get_int64() == codes::method_not_found) return 404;
  // basic/index: MissingRequiredClientCapability is HTTP 400.
  if (code->get_int64() == modern_codes::missing_required_client_capability) return 400;
  return 200;
}

json::object discover_result(const json::object& initialize_result) {
  json::array versions;
  for (auto v : modern) versions.emplace_back(v);
  json::object out{{"resultType", "complete"},
                   {"supportedVersions", std::move(versions)},
                   {"capabilities", json::object{}},
                   {"ttlMs", 0},
                   {"cacheScope", "private"}};
  if (const auto* caps = initialize_result.if_contains("capabilities"); caps && caps->is_object())
    out["capabilities"] = *caps;
  if (const auto* text = initialize_result.if_contains("instructions"); text && text->is_string())
    out["instructions"] = *text;
  json::object meta;
  if (const auto* info = initialize_result.if_contains("serverInfo"); info && info->is_object())
    meta[meta::server_info] = *info;
  out["_meta"] = std::move(meta);
  return out;
}

}  // namespace mcp_proxy::protocol
