// The rules of a 2026-07-28 request (protocol/modern_request), each cited to the spec section
// of docs/specification/2026-07-28 it comes from.
#include "protocol/modern_request.hpp"

#include <gtest/gtest.h>
#include <boost/json.hpp>

namespace mcp_proxy::protocol {
namespace {

namespace json = boost::json;
using jsonrpc::message;

json::object modern_meta(std::string_view version = "2026-07-28") {
  return json::object{
      {std::string(meta::protocol_version), version},
      {std::string(meta::client_capabilities), json::object{}},
      {std::string(meta::client_info), json::object{{"name", "test-client"}, {"version", "1"}}}};
}

message modern_request(std::string_view method, json::object params = {},
                       std::string_view version = "2026-07-28") {
  params["_meta"] = modern_meta(version);
  return message::request(7, method, std::move(params));
}

modern_headers headers_for(const message& m, std::string_view version = "2026-07-28") {
  modern_headers h;
  h.protocol_version = version;
  h.method = m.method();
  return h;
}

TEST(is_modern, the_meta_claim_decides_whatever_the_version_or_method) {
  // basic/versioning, backward compatibility: a request with per-request _meta is modern.
  EXPECT_TRUE(is_modern(modern_request("tools/list"), std::nullopt, false));
  EXPECT_TRUE(is_modern(modern_request("initialize"), std::nullopt, false));
  EXPECT_TRUE(is_modern(modern_request("tools/list", {}, "v999.0.0"), "v999.0.0", false));
}

TEST(is_modern, a_modern_header_without_meta_is_modern_unless_a_session_is_named) {
  const auto plain = message::request(1, "tools/list");
  EXPECT_TRUE(is_modern(plain, "2026-07-28", false));
  EXPECT_FALSE(is_modern(plain, "2025-11-25", false));
  EXPECT_FALSE(is_modern(plain, std::nullopt, false));
  EXPECT_FALSE(is_modern(plain, "2026-07-28", true));
  // streamable-http, earlier revisions: an Mcp-Session-Id beside the _meta claim is ignored.
  EXPECT_TRUE(is_modern(modern_request("tools/list"), "2026-07-28", true));
  EXPECT_FALSE(
      is_modern(message::request(1, "initialize", json::object{{"protocolVersion", "2025-11-25"}}),
                std::nullopt, false));
}

TEST(check_modern_request, a_log_level_that_is_not_a_level_name_gets_32602) {
  // server/utilities/logging: the level is one of the eight syslog names.
  auto m = modern_request("tools/list");
  m.params_object()->at("_meta").as_object()["io.modelcontextprotocol/logLevel"] = "loud";
  auto refusal = check_modern_request(m, std::nullopt);
  ASSERT_TRUE(refusal);
  EXPECT_EQ(refusal->code, -32602);
  EXPECT_EQ(refusal->status, 400u);
  m.params_object()->at("_meta").as_object()["io.modelcontextprotocol/logLevel"] = "notice";
  EXPECT_FALSE(check_modern_request(m, std::nullopt));
}

TEST(check_modern_request, missing_meta_fields_get_32602_and_400) {
  // basic/index, per-request protocol fields: MUST reject with -32602, HTTP 400.
  auto no_meta = message::request(1, "server/discover");
  auto r = check_modern_request(no_meta, modern_headers{"2026-07-28", "server/discover", {}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->code, -32602);
  EXPECT_EQ(r->status, 400u);
  json::object params{{"_meta", json::object{{std::string(meta::protocol_version), "2026-07-28"}}}};
  auto no_caps = message::request(1, "server/discover", params);
  r = check_modern_request(no_caps, std::nullopt);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->code, -32602);
}

TEST(check_modern_request, client_info_is_optional) {
  json::object params{
      {"_meta", json::object{{std::string(meta::protocol_version), "2026-07-28"},
                             {std::string(meta::client_capabilities), json::object{}}}}};
  auto m = message::request(1, "server/discover", params);
  EXPECT_EQ(check_modern_request(m, headers_for(m)), std::nullopt);
}

TEST(check_modern_request, version_header_must_match_the_body_before_the_version_is_judged) {
  // streamable-http, protocol version header: a mismatch is -32020 (HeaderMismatch), checked
  // before the version itself.
  auto m = modern_request("tools/list", {}, "v999.0.0");
  auto r = check_modern_request(m, headers_for(m, "2026-07-28"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->code, -32020);
  EXPECT_EQ(r->status, 400u);
  auto h = headers_for(m);
  h.protocol_version.reset();
  EXPECT_EQ(check_modern_request(m, h)->code, -32020);
}

TEST(check_modern_request, an_unsupported_version_gets_32022_with_supported_and_requested) {
  // basic/versioning: UnsupportedProtocolVersionError lists the supported versions.
  auto m = modern_request("tools/list", {}, "v999.0.0");
  auto r = check_modern_request(m, headers_for(m, "v999.0.0"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->code, -32022);
  EXPECT_EQ(r->status, 400u);
  EXPECT_EQ(r->data.at("requested"), "v999.0.0");
  EXPECT_EQ(r->data.at("supported"), json::array({"2026-07-28"}));
  auto answer = refusal_response(m, *r);
  EXPECT_EQ(*answer.id(), 7);  // basic/index: error responses carry the request id
}

TEST(check_modern_request, mcp_method_and_mcp_name_are_required_and_matched) {
  // streamable-http, standard headers and server validation: -32020.
  auto call = modern_request("tools/call", json::object{{"name", "echo"}});
  auto h = headers_for(call);
  EXPECT_EQ(check_modern_request(call, h)->code, -32020);  // Mcp-Name missing
  h.name = "echo";
  EXPECT_EQ(check_modern_request(call, h), std::nullopt);
  h.name = "  echo\t";  // optional whitespace around a value is not part of it
  EXPECT_EQ(check_modern_request(call, h), std::nullopt);
  h.name = "=?base64?ZWNobw==?=";  // "echo", encoded
  EXPECT_EQ(check_modern_request(call, h), std::nullopt);
  h.name = "other";
  EXPECT_EQ(check_modern_request(call, h)->code, -32020);
  h.name = "echo";
  h.method = "TOOLS/CALL";  // values are case-sensitive
  EXPECT_EQ(check_modern_request(call, h)->code, -32020);
  h.method.reset();
  EXPECT_EQ(check_modern_request(call, h)->code, -32020);
  auto read = modern_request("resources/read", json::object{{"uri", "test://a"}});
  auto hr = headers_for(read);
  hr.name = "test://a";
  EXPECT_EQ(check_modern_request(read, hr), std::nullopt);
  // stdio has no headers: nothing to match.
  EXPECT_EQ(check_modern_request(call, std::nullopt), std::nullopt);
}

TEST(decode_header_value, sentinel_values_are_strict_base64_of_utf8) {
  EXPECT_EQ(decode_header_value("=?base64?SGVsbG8=?="), "Hello");
  EXPECT_EQ(decode_header_value("=?base64?SGVsbG8?="), std::nullopt);        // bad padding
  EXPECT_EQ(decode_header_value("=?base64?SGV$bG8=?="), std::nullopt);       // not base64
  EXPECT_EQ(decode_header_value("=?base64?/w==?="), std::nullopt);           // not UTF-8
  EXPECT_EQ(decode_header_value("=?base64?SGVsbG8="), "=?base64?SGVsbG8=");  // a literal
  EXPECT_EQ(decode_header_value("caf\xc3\xa9"), std::nullopt);  // raw non-ASCII is invalid
}

TEST(check_modern_request, methods_the_era_removed_get_404_and_32601) {
  // changelog: initialize, ping, logging/setLevel, resources/(un)subscribe are gone;
  // streamable-http, protocol version header: a method not implemented is 404 with -32601.
  for (const char* method :
       {"initialize", "ping", "logging/setLevel", "resources/subscribe", "resources/unsubscribe"}) {
    auto m = modern_request(method);
    auto r = check_modern_request(m, headers_for(m));
    ASSERT_TRUE(r) << method;
    EXPECT_EQ(r->code, -32601) << method;
    EXPECT_EQ(r->status, 404u) << method;
  }
  auto list = modern_request("tools/list");
  EXPECT_EQ(check_modern_request(list, headers_for(list)), std::nullopt);
}

TEST(to_legacy_request, drops_the_modern_meta_keys_and_keeps_the_rest) {
  json::object params{{"name", "echo"}};
  auto m = modern_request("tools/call", params);
  m.params_object()->at("_meta").as_object()["progressToken"] = 5;
  auto legacy = to_legacy_request(m);
  EXPECT_EQ(legacy.params_object()->at("_meta"), json::object({{"progressToken", 5}}));
  EXPECT_EQ(to_legacy_request(modern_request("tools/list")).params_object()->if_contains("_meta"),
            nullptr);
}

TEST(legacy_initialize_for, declares_every_capability_and_carries_the_client_info) {
  // basic/index: servers MUST NOT infer capabilities; the proxy answers for the client with
  // -32021 when a backend needs one it did not declare, so the backend may ask for anything.
  auto m = modern_request("tools/list");
  m.params_object()->at("_meta").as_object()[meta::client_capabilities] =
      json::object{{"sampling", json::object{}}};
  auto init = legacy_initialize_for(m);
  EXPECT_EQ(init.method(), "initialize");
  const auto& caps = init.params_object()->at("capabilities").as_object();
  EXPECT_TRUE(caps.contains("sampling"));
  EXPECT_FALSE(caps.contains("roots"));  // servers ask for roots on their own: only if declared
  EXPECT_TRUE(caps.at("elicitation").as_object().contains("url"));
  EXPECT_EQ(init.params_object()->at("clientInfo").at("name"), "test-client");
  EXPECT_EQ(init.params_object()->at("protocolVersion"), "2025-11-25");
  EXPECT_EQ(declared_capabilities(m), json::object({{"sampling", json::object{}}}));
  m.params_object()->at("_meta").as_object()[meta::client_capabilities] =
      json::object{{"roots", json::object{}}};
  EXPECT_TRUE(
      legacy_initialize_for(m).params_object()->at("capabilities").as_object().contains("roots"));
}

TEST(missing_capability_error, names_the_capability_the_backend_asked_for) {
  // basic/index, error codes: -32021 with data.requiredCapabilities (an object), HTTP 400.
  auto sampling = missing_capability_error(7, message::request(1, "sampling/createMessage"));
  EXPECT_EQ(*sampling.id(), 7);
  EXPECT_EQ(sampling.error()->at("code"), -32021);
  EXPECT_EQ(sampling.error()->at("data").at("requiredCapabilities"),
            json::object({{"sampling", json::object{}}}));
  EXPECT_EQ(modern_http_status(sampling), 400u);
  auto url = missing_capability_error(
      7, message::request(1, "elicitation/create", json::object{{"mode", "url"}}));
  EXPECT_EQ(url.error()->at("data").at("requiredCapabilities"),
            json::object({{"elicitation", json::object{{"url", json::object{}}}}}));
}

TEST(to_modern_answer, adds_result_type_server_info_and_cache_fields) {
  // basic/index: resultType on every result, serverInfo in result _meta;
  // server/utilities/caching: ttlMs and cacheScope on list and read results.
  const json::object info{{"name", "proxy"}, {"version", "1"}};
  auto list = message::response(7, json::object{{"tools", json::array{}}});
  to_modern_answer(list, "tools/list", info);
  const auto& r = list.result()->as_object();
  EXPECT_EQ(r.at("resultType"), "complete");
  EXPECT_EQ(r.at("_meta").at(meta::server_info), info);
  EXPECT_EQ(r.at("ttlMs"), 0);
  EXPECT_EQ(r.at("cacheScope"), "private");
  auto call = message::response(7, json::object{{"content", json::array{}}});
  to_modern_answer(call, "tools/call", info);
  EXPECT_EQ(call.result()->as_object().if_contains("ttlMs"), nullptr);
  EXPECT_EQ(call.result()->at("resultType"), "complete");
}

TEST(to_modern_answer, resource_not_found_becomes_32602) {
  // server/resources, error handling: 2026-07-28 implementations MUST NOT emit -32002.
  auto missing = message::error_response(7, -32002, "Resource not found");
  to_modern_answer(missing, "resources/read", {});
  EXPECT_EQ(missing.error()->at("code"), -32602);
}

TEST(modern_http_status, method_not_found_is_404_and_the_rest_in_band) {
  // streamable-http, protocol version header: a method not implemented MUST get 404.
  EXPECT_EQ(modern_http_status(message::error_response(1, -32601, "no")), 404u);
  EXPECT_EQ(modern_http_status(message::error_response(1, -32602, "bad")), 200u);
  EXPECT_EQ(modern_http_status(message::response(1, json::object{})), 200u);
}

TEST(discover_result, comes_from_the_initialize_result) {
  // server/discover: supportedVersions, capabilities, ttlMs, cacheScope required; serverInfo
  // in _meta, not in the body.
  json::object init{{"protocolVersion", "2025-11-25"},
                    {"capabilities", json::object{{"tools", json::object{}}}},
                    {"serverInfo", json::object{{"name", "b"}, {"version", "2"}}},
                    {"instructions", "hi"}};
  auto d = discover_result(init);
  EXPECT_EQ(d.at("supportedVersions"), json::array({"2026-07-28"}));
  EXPECT_EQ(d.at("capabilities"), json::object({{"tools", json::object{}}}));
  EXPECT_EQ(d.at("_meta").at(meta::server_info).at("name"), "b");
  EXPECT_EQ(d.if_contains("serverInfo"), nullptr);
  EXPECT_EQ(d.at("instructions"), "hi");
  EXPECT_EQ(d.at("resultType"), "complete");
  EXPECT_TRUE(d.at("ttlMs").is_int64());
  EXPECT_EQ(d.at("cacheScope"), "private");
}

TEST(modern_log_rank, the_per_request_level_or_none) {
  auto m = modern_request("tools/call", json::object{{"name", "x"}});
  EXPECT_EQ(modern_log_rank(m), -1);
  m.params_object()->at("_meta").as_object()[meta::log_level] = "warning";
  EXPECT_EQ(modern_log_rank(m), 3);
}

}  // namespace
}  // namespace mcp_proxy::protocol
