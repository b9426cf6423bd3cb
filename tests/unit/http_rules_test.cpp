#include "protocol/http_rules.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace mcp_proxy::protocol {
namespace {

using namespace std::string_view_literals;

const std::vector<std::string> no_extra_origins;

// --- origin_allowed -----------------------------------------------------------------------------

TEST(origin_allowed, localhost_origins_of_any_scheme_and_port_are_allowed) {
  for (std::string_view origin :
       {"http://localhost:6274", "http://localhost", "https://localhost:443", "https://127.0.0.1",
        "http://127.0.0.1:8080", "http://[::1]:3000", "https://[::1]", "http://LocalHost:6274"}) {
    EXPECT_TRUE(origin_allowed(origin, no_extra_origins)) << origin;
  }
}

TEST(origin_allowed, foreign_and_malformed_origins_are_rejected) {
  for (std::string_view origin : {
           "https://evil.example",
           "http://evil.example:6274",
           "null",
           "localhost",
           "localhost:6274",
           "http://localhost.evil.com",
           "http://127.0.0.1.evil.com",
           "http://evil.com/localhost",
           "http://[::2]:3000",
           "http://127.0.0.2",
           "file://localhost",
           "ws://localhost:6274",
           "http:localhost",
           "http://",
           "garbage",
           "::::",
           "http://local host",
           "",
       }) {
    EXPECT_FALSE(origin_allowed(origin, no_extra_origins)) << origin;
  }
}

TEST(origin_allowed, localhost_with_a_path_is_rejected) {
  EXPECT_FALSE(origin_allowed("http://localhost/path", no_extra_origins));
  EXPECT_FALSE(origin_allowed("http://localhost:6274/mcp", no_extra_origins));
  EXPECT_FALSE(origin_allowed("http://127.0.0.1/x/y", no_extra_origins));
}

TEST(origin_allowed, configured_origin_is_allowed_exactly_and_case_insensitively) {
  const std::vector<std::string> allowed{"https://app.example:8443"};
  EXPECT_TRUE(origin_allowed("https://app.example:8443", allowed));
  EXPECT_TRUE(origin_allowed("HTTPS://APP.Example:8443", allowed));
  EXPECT_FALSE(origin_allowed("https://app.example", allowed));
  EXPECT_FALSE(origin_allowed("http://app.example:8443", allowed));
  EXPECT_FALSE(origin_allowed("https://app.example:8443.evil.com", allowed));
  EXPECT_FALSE(origin_allowed("https://sub.app.example:8443", allowed));
  EXPECT_FALSE(origin_allowed("https://evil.example", allowed));
  EXPECT_FALSE(origin_allowed("null", allowed));
  // Localhost stays allowed alongside configured origins.
  EXPECT_TRUE(origin_allowed("http://localhost:6274", allowed));
}

TEST(origin_allowed, several_configured_origins_are_each_allowed) {
  const std::vector<std::string> allowed{"https://a.example", "http://b.example:8080"};
  EXPECT_TRUE(origin_allowed("https://a.example", allowed));
  EXPECT_TRUE(origin_allowed("http://b.example:8080", allowed));
  EXPECT_FALSE(origin_allowed("https://b.example:8080", allowed));
}

TEST(origin_allowed, star_allows_every_origin) {
  const std::vector<std::string> allowed{"*"};
  for (std::string_view origin : {"https://evil.example", "null", "garbage", "http://localhost"}) {
    EXPECT_TRUE(origin_allowed(origin, allowed)) << origin;
  }
}

// --- accepts ------------------------------------------------------------------------------------

TEST(accepts, exact_media_type) {
  EXPECT_TRUE(accepts("application/json", "application/json"));
  EXPECT_TRUE(accepts("text/event-stream", "text/event-stream"));
  EXPECT_FALSE(accepts("text/event-stream", "application/json"));
  EXPECT_FALSE(accepts("application/jsonx", "application/json"));
  EXPECT_FALSE(accepts("application/json", "application/jsonx"));
}

TEST(accepts, list_of_media_ranges) {
  constexpr auto header = "application/json, text/event-stream"sv;
  EXPECT_TRUE(accepts(header, "application/json"));
  EXPECT_TRUE(accepts(header, "text/event-stream"));
  EXPECT_FALSE(accepts(header, "text/html"));
  EXPECT_TRUE(accepts("  text/html ,application/json  ", "application/json"));
  EXPECT_TRUE(accepts("text/html,\ttext/event-stream", "text/event-stream"));
}

TEST(accepts, full_wildcard_admits_anything) {
  EXPECT_TRUE(accepts("*/*", "application/json"));
  EXPECT_TRUE(accepts("*/*", "text/event-stream"));
  EXPECT_TRUE(accepts("text/html, */*;q=0.8", "application/json"));
}

TEST(accepts, subtype_wildcard_admits_only_its_type) {
  EXPECT_TRUE(accepts("text/*", "text/event-stream"));
  EXPECT_FALSE(accepts("text/*", "application/json"));
  EXPECT_TRUE(accepts("application/*", "application/json"));
  EXPECT_FALSE(accepts("application/*", "text/event-stream"));
  EXPECT_FALSE(accepts("tex/*", "text/event-stream"));
  EXPECT_FALSE(accepts("texts/*", "text/event-stream"));
}

TEST(accepts, parameters_are_ignored_for_matching) {
  EXPECT_TRUE(accepts("application/json; charset=utf-8", "application/json"));
  EXPECT_TRUE(accepts("application/json;q=0.9", "application/json"));
  EXPECT_TRUE(accepts("text/event-stream ; q=1.0", "text/event-stream"));
  EXPECT_TRUE(accepts("application/json;charset=utf-8;q=0.5", "application/json"));
  EXPECT_TRUE(accepts("text/*;level=1", "text/event-stream"));
}

TEST(accepts, q_zero_excludes_a_media_range) {
  EXPECT_FALSE(accepts("application/json;q=0", "application/json"));
  EXPECT_FALSE(accepts("application/json; q=0.0", "application/json"));
  EXPECT_FALSE(accepts("application/json;q=0.000", "application/json"));
  EXPECT_FALSE(accepts("application/json;charset=utf-8;q=0", "application/json"));
  EXPECT_FALSE(accepts("*/*;q=0", "application/json"));
  EXPECT_FALSE(accepts("text/*;q=0", "text/event-stream"));
  EXPECT_TRUE(accepts("application/json;q=0.001", "application/json"));
  EXPECT_TRUE(accepts("application/json;q=0.1", "application/json"));
}

TEST(accepts, q_zero_on_one_range_leaves_others) {
  EXPECT_TRUE(accepts("*/*;q=0, application/json", "application/json"));
  EXPECT_TRUE(accepts("application/json;q=0, text/event-stream", "text/event-stream"));
  EXPECT_FALSE(accepts("application/json;q=0, text/event-stream", "application/json"));
}

// RFC 9110 section 12.5.1: the most specific range has precedence, so an explicit q=0 on a type
// excludes it even when a wildcard follows.
TEST(accepts, specific_q_zero_overrides_a_later_wildcard) {
  EXPECT_FALSE(accepts("application/json;q=0, */*", "application/json"));
  EXPECT_FALSE(accepts("text/event-stream;q=0, text/*", "text/event-stream"));
  EXPECT_FALSE(accepts("*/*, text/*;q=0", "text/event-stream"));
  EXPECT_TRUE(accepts("*/*;q=0, application/json", "application/json"));
}

TEST(origin_allowed, origins_with_userinfo_query_or_fragment_are_rejected) {
  EXPECT_FALSE(origin_allowed("http://evil.com@localhost", {}));
  EXPECT_FALSE(origin_allowed("http://localhost?x=1", {}));
  EXPECT_FALSE(origin_allowed("http://localhost#x", {}));
  EXPECT_TRUE(origin_allowed("HTTP://localhost", {}));
}

TEST(accepts, matching_is_case_insensitive) {
  EXPECT_TRUE(accepts("Application/JSON", "application/json"));
  EXPECT_TRUE(accepts("application/json", "Application/Json"));
  EXPECT_TRUE(accepts("TEXT/*", "text/event-stream"));
  EXPECT_TRUE(accepts("text/EVENT-STREAM", "text/event-stream"));
  EXPECT_FALSE(accepts("application/json;Q=0", "application/json"));
}

TEST(accepts, missing_or_empty_header_admits_nothing) {
  EXPECT_FALSE(accepts("", "application/json"));
  EXPECT_FALSE(accepts("   ", "application/json"));
  EXPECT_FALSE(accepts(",,", "application/json"));
  EXPECT_FALSE(accepts(";q=1", "application/json"));
  EXPECT_FALSE(accepts("application", "application/json"));
  EXPECT_FALSE(accepts("application/", "application/json"));
  EXPECT_FALSE(accepts("/json", "application/json"));
}

// --- content_type_is ----------------------------------------------------------------------------

TEST(content_type_is, exact_type_matches) {
  EXPECT_TRUE(content_type_is("application/json", "application/json"));
  EXPECT_TRUE(content_type_is("text/event-stream", "text/event-stream"));
}

TEST(content_type_is, charset_and_other_parameters_are_ignored) {
  EXPECT_TRUE(content_type_is("application/json; charset=utf-8", "application/json"));
  EXPECT_TRUE(content_type_is("application/json;charset=UTF-8", "application/json"));
  EXPECT_TRUE(content_type_is("application/json ; charset=utf-8; x=y", "application/json"));
}

TEST(content_type_is, comparison_is_case_insensitive) {
  EXPECT_TRUE(content_type_is("Application/JSON", "application/json"));
  EXPECT_TRUE(content_type_is("APPLICATION/JSON; Charset=UTF-8", "application/json"));
}

TEST(content_type_is, surrounding_whitespace_is_ignored) {
  EXPECT_TRUE(content_type_is("  application/json\t", "application/json"));
}

TEST(content_type_is, other_types_do_not_match) {
  EXPECT_FALSE(content_type_is("text/plain", "application/json"));
  EXPECT_FALSE(content_type_is("application/json-patch+json", "application/json"));
  EXPECT_FALSE(content_type_is("application/jsonx", "application/json"));
  EXPECT_FALSE(content_type_is("application/*", "application/json"));
  EXPECT_FALSE(content_type_is("", "application/json"));
  EXPECT_FALSE(content_type_is("; charset=utf-8", "application/json"));
}

// --- valid_session_id ---------------------------------------------------------------------------

TEST(valid_session_id, visible_ascii_is_valid) {
  EXPECT_TRUE(valid_session_id("abc"));
  EXPECT_TRUE(valid_session_id("0f8e6c2a-1d3b-4c5e-9f7a-123456789abc"));
  EXPECT_TRUE(valid_session_id("!"));
  EXPECT_TRUE(valid_session_id("~"));
  std::string every_visible;
  for (char c = 0x21; c <= 0x7e; ++c) every_visible += c;
  EXPECT_TRUE(valid_session_id(every_visible));
}

TEST(valid_session_id, empty_is_invalid) {
  EXPECT_FALSE(valid_session_id(""));
}

TEST(valid_session_id, space_and_control_characters_are_invalid) {
  EXPECT_FALSE(valid_session_id(" "));
  EXPECT_FALSE(valid_session_id("a b"));
  EXPECT_FALSE(valid_session_id("abc "));
  EXPECT_FALSE(valid_session_id("a\tb"));
  EXPECT_FALSE(valid_session_id("a\r\nb"));
  EXPECT_FALSE(valid_session_id("a\x7f"));
  EXPECT_FALSE(valid_session_id("\x1f"));
  EXPECT_FALSE(valid_session_id(std::string_view("a\0b", 3)));
}

TEST(valid_session_id, non_ascii_is_invalid) {
  EXPECT_FALSE(valid_session_id("caf\xC3\xA9"));
  EXPECT_FALSE(valid_session_id("\x80"));
  EXPECT_FALSE(valid_session_id("\xff"));
}

}  // namespace
}  // namespace mcp_proxy::protocol

namespace mcp_proxy::protocol {

TEST(routes, the_path_of_base_url_prefixes_every_route) {
  EXPECT_EQ(route_prefix(""), "");
  EXPECT_EQ(route_prefix("https://proxy.example.com"), "");
  EXPECT_EQ(route_prefix("https://proxy.example.com/"), "");
  EXPECT_EQ(route_prefix("https://proxy.example.com/tools//"), "/tools");
  EXPECT_EQ(route_prefix("http://h:8080/a/b"), "/a/b");
}

TEST(routes, name_and_kind_come_from_the_path_under_the_prefix) {
  auto r = parse_route("/fs/mcp", "");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->name, "fs");
  EXPECT_EQ(r->kind, "mcp");
  r = parse_route("/tools/fs/sse", "/tools");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->name, "fs");
  EXPECT_EQ(r->kind, "sse");
  EXPECT_TRUE(parse_route("/fs/message", ""));
  r = parse_route("/fs/sse/", "");
  ASSERT_TRUE(r) << "one trailing slash is ignored";
  EXPECT_EQ(r->kind, "sse");
  EXPECT_FALSE(parse_route("/fs/sse//", ""));
  EXPECT_FALSE(parse_route("/fs/mcp", "/tools")) << "outside the prefix";
  EXPECT_FALSE(parse_route("/toolsfs/mcp", "/tools"));
  EXPECT_FALSE(parse_route("/fs/other", ""));
  EXPECT_FALSE(parse_route("//mcp", ""));
  EXPECT_FALSE(parse_route("/a/b/mcp", "")) << "a name has no slash";
}

TEST(routes, the_merged_endpoint_has_the_empty_name) {
  for (std::string_view kind : {"mcp", "sse", "message"}) {
    const std::string path = "/" + std::string(kind);
    auto r = parse_route(path, "");
    ASSERT_TRUE(r) << kind;
    EXPECT_EQ(r->name, "");
    EXPECT_EQ(r->kind, kind);
  }
  auto r = parse_route("/tools/mcp/", "/tools");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->name, "");
  EXPECT_FALSE(parse_route("/health2", ""));
  EXPECT_FALSE(parse_route("/", ""));
}

TEST(narrowing, query_parameters_and_headers_list_servers_and_tools) {
  auto n = narrowing_of("/mcp?servers=a,b&tools=a__read_*&servers=c", "", "");
  EXPECT_EQ(n.servers, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(n.tools, (std::vector<std::string>{"a__read_*"}));
  n = narrowing_of("/mcp", " x , y ,", "t1,t2");
  EXPECT_EQ(n.servers, (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(n.tools, (std::vector<std::string>{"t1", "t2"}));
  EXPECT_TRUE(narrowing_of("/mcp?other=1&servers=", "", "").empty());
  EXPECT_EQ(narrowing_of("/mcp?tools=a%2Ab", "", "").tools, std::vector<std::string>{"a*b"});
  EXPECT_TRUE(narrowing_of("not a target", "", "").empty());
}

}  // namespace mcp_proxy::protocol

namespace mcp_proxy::protocol {

TEST(host_allowed, a_loopback_listener_accepts_only_loopback_names_and_listed_hosts) {
  const std::vector<std::string> none;
  for (const char* host : {"localhost", "localhost:9090", "LOCALHOST:1", "127.0.0.1",
                           "127.0.0.1:9090", "[::1]", "[::1]:9090"})
    EXPECT_TRUE(host_allowed(host, true, none)) << host;
  for (const char* host : {"", "evil.example.com", "evil.example.com:9090", "127.0.0.1.evil.com",
                           "localhost.evil.com:80", "[::2]:9090", "10.0.0.1"})
    EXPECT_FALSE(host_allowed(host, true, none)) << host;
  const std::vector<std::string> listed{"proxy.example.com", "other.example:8443"};
  EXPECT_TRUE(host_allowed("proxy.example.com:443", true, listed));
  EXPECT_TRUE(host_allowed("other.example:8443", true, listed));
  EXPECT_FALSE(host_allowed("other.example:9", true, listed));
  EXPECT_TRUE(host_allowed("anything", true, {"*"}));
}

TEST(host_allowed, elsewhere_only_a_list_restricts) {
  EXPECT_TRUE(host_allowed("any.example.com", false, {}));
  EXPECT_TRUE(host_allowed("proxy.example.com", false, {"proxy.example.com"}));
  EXPECT_FALSE(host_allowed("evil.example.com", false, {"proxy.example.com"}));
}

}  // namespace mcp_proxy::protocol

namespace mcp_proxy::protocol {
namespace {

// A POST to /{name}/mcp as the SDK sends it.
request_facts sdk_post() {
  request_facts r;
  r.method = "POST";
  r.kind = "mcp";
  r.host = "127.0.0.1:9090";
  r.content_type = "application/json";
  r.accept = "application/json, text/event-stream";
  return r;
}
const std::vector<std::string> none;

TEST(check_request, a_well_formed_post_passes) {
  EXPECT_EQ(check_request(sdk_post()), std::nullopt);
}

TEST(check_request, dns_rebinding_rules_come_first_with_403) {
  auto r = sdk_post();
  r.allowed_hosts = &none;
  r.host = "evil.example:9090";
  r.content_type = std::nullopt;  // would be 415: the host is judged first
  EXPECT_EQ(check_request(r)->status, 403);
  r = sdk_post();
  r.allowed_origins = &none;
  r.origin = "https://evil.example";
  EXPECT_EQ(check_request(r), (rejection{403, "Forbidden: origin not allowed", {}}));
  r.origin = "http://localhost:5173";
  EXPECT_EQ(check_request(r), std::nullopt);
}

TEST(check_request, each_route_kind_serves_its_methods_with_allow) {
  auto r = sdk_post();
  r.method = "PUT";
  EXPECT_EQ(check_request(r), (rejection{405, "Method not allowed", "GET, POST, DELETE"}));
  r.kind = "sse";
  EXPECT_EQ(check_request(r)->allow, "GET");
  r.kind = "message";
  EXPECT_EQ(check_request(r)->allow, "POST");
  r = sdk_post();
  r.method = "GET";
  r.accept = "text/event-stream";
  r.get_stream_offered = false;
  EXPECT_EQ(check_request(r)->allow, "POST, DELETE");
}

TEST(check_request, an_unsupported_version_header_on_a_get_gets_400) {
  auto r = sdk_post();
  r.method = "GET";
  r.accept = "text/event-stream";
  r.protocol_version = "1999-01-01";
  auto refused = check_request(r);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 400);
  EXPECT_NE(refused->text.find("1999-01-01"), std::string::npos);
  r.protocol_version = "2025-06-18";
  EXPECT_EQ(check_request(r), std::nullopt);
}

TEST(check_request, a_post_version_header_is_left_to_the_body) {
  // Its era is in the body's _meta (2026-07-28 basic/versioning): -32022 or -32020 need the id.
  auto r = sdk_post();
  r.protocol_version = "v999.0.0";
  EXPECT_EQ(check_request(r), std::nullopt);
}

TEST(check_request, get_and_delete_of_a_modern_client_get_405) {
  // 2026-07-28 basic/transports/streamable-http, earlier revisions: SHOULD answer 405.
  for (const char* method : {"GET", "DELETE"}) {
    auto r = sdk_post();
    r.method = method;
    r.accept = "text/event-stream";
    r.protocol_version = "2026-07-28";
    auto refused = check_request(r);
    ASSERT_TRUE(refused) << method;
    EXPECT_EQ(refused->status, 405) << method;
    EXPECT_EQ(refused->allow, "POST") << method;
  }
}

TEST(check_request, media_types_give_415_and_406) {
  auto r = sdk_post();
  r.content_type = "text/plain";
  EXPECT_EQ(check_request(r)->status, 415);
  r = sdk_post();
  r.accept = "application/json";  // both forms are required
  EXPECT_EQ(check_request(r)->status, 406);
  r.method = "GET";
  r.accept = "application/json";
  EXPECT_EQ(check_request(r)->status, 406);
  r.accept = "text/event-stream";
  EXPECT_EQ(check_request(r), std::nullopt);
  r.method = "DELETE";
  r.accept = std::nullopt;
  EXPECT_EQ(check_request(r), std::nullopt);
}

TEST(check_request, legacy_routes_check_accept_only_when_sent_and_json_posts) {
  request_facts r;
  r.method = "GET";
  r.kind = "sse";
  EXPECT_EQ(check_request(r), std::nullopt);  // no Accept at all is fine here
  r.accept = "application/json";
  EXPECT_EQ(check_request(r)->status, 406);
  r = {};
  r.method = "POST";
  r.kind = "message";
  EXPECT_EQ(check_request(r)->status, 415);
  r.content_type = "application/json; charset=utf-8";
  EXPECT_EQ(check_request(r), std::nullopt);
}

}  // namespace
}  // namespace mcp_proxy::protocol
