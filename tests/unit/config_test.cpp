#include "config/config.hpp"
#include "config_test_support.hpp"

#include <gtest/gtest.h>

#include <unistd.h>
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>

namespace mcp_proxy::config {
namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;
using test_support::parse_ok;
using test_support::scoped_env;

constexpr std::string_view origin = "cfg.json";

// Parses `text` and expects a failure; returns its message.
std::string parse_error(std::string_view text) {
  auto r = parse_config(text, origin);
  EXPECT_TRUE(r.has_error()) << text << "\n-> parsed";
  if (!r.has_error()) return {};
  EXPECT_TRUE(r.error().message.starts_with("cfg.json: ")) << r.error().message;
  return r.error().message;
}

// The config `{"mcpServers": {"s": SERVER}}`.
std::string one_server(std::string_view server) {
  return R"({"mcpServers": {"s": )" + std::string(server) + "}}";
}

server_config parse_one_server(std::string_view server) {
  auto c = parse_ok(one_server(server));
  EXPECT_EQ(c.servers.size(), 1u);
  if (c.servers.size() != 1) return {};
  return c.servers[0];
}

bool has_warning(const config& c, std::string_view text) {
  return std::any_of(c.warnings.begin(), c.warnings.end(),
                     [&](const std::string& w) { return w.find(text) != std::string::npos; });
}

bool has_warning_line(const config& c, std::string_view line) {
  return std::find(c.warnings.begin(), c.warnings.end(), line) != c.warnings.end();
}

std::string all_warnings(const config& c) {
  std::string out;
  for (const auto& w : c.warnings) out += w + "\n";
  return out;
}

// --- the TBXark/mcp-proxy format ---------------------------------------------------------------

constexpr std::string_view tbxark_example = R"json({
  "mcpProxy": {
    "baseURL": "https://mcp.example.com",
    "addr": ":9090",
    "name": "MCP Proxy",
    "version": "1.0.0",
    "type": "streamable-http",
    "options": {"panicIfInvalid": false, "logEnabled": true, "authTokens": ["tok"]}
  },
  "mcpServers": {
    "github": {
      "command": "npx",
      "args": ["-y", "@modelcontextprotocol/server-github"],
      "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": "<token>"},
      "options": {"toolFilter": {"mode": "block", "list": ["create_repository"]}}
    },
    "fetch": {
      "command": "uvx",
      "args": ["mcp-server-fetch"],
      "options": {"panicIfInvalid": true, "logEnabled": false, "authTokens": ["t"]}
    },
    "amap": {"url": "https://mcp.amap.com/sse?key=<key>"},
    "x": {
      "transportType": "streamable-http",
      "url": "http://127.0.0.1:8080/mcp",
      "headers": {"Authorization": "Bearer t"},
      "timeout": 10
    }
  }
})json";

TEST(config_parse, tbxark_example_parses_with_its_tokens) {
  auto c = parse_ok(tbxark_example);
  EXPECT_EQ(c.proxy.addr, ":9090");
  EXPECT_EQ(c.proxy.base_url, "https://mcp.example.com");
  EXPECT_EQ(c.proxy.name, "MCP Proxy");
  EXPECT_EQ(c.proxy.version, "1.0.0");

  ASSERT_EQ(c.servers.size(), 4u);
  const auto& github = c.servers[0];
  EXPECT_EQ(github.name, "github");
  EXPECT_EQ(github.transport, transport_type::stdio);
  EXPECT_EQ(github.command, "npx");
  EXPECT_EQ(github.args, (std::vector<std::string>{"-y", "@modelcontextprotocol/server-github"}));
  EXPECT_EQ(github.env.at("GITHUB_PERSONAL_ACCESS_TOKEN"), "<token>");
  EXPECT_FALSE(github.disabled);

  const auto& fetch = c.servers[1];
  EXPECT_EQ(fetch.name, "fetch");
  EXPECT_EQ(fetch.transport, transport_type::stdio);
  EXPECT_EQ(fetch.command, "uvx");

  const auto& amap = c.servers[2];
  EXPECT_EQ(amap.name, "amap");
  EXPECT_EQ(amap.transport, transport_type::sse);
  // '<' and '>' may not appear in a URI: they are percent-encoded, as a browser would.
  EXPECT_EQ(amap.url, "https://mcp.amap.com/sse?key=%3Ckey%3E");

  const auto& x = c.servers[3];
  EXPECT_EQ(x.transport, transport_type::streamable_http);
  EXPECT_EQ(x.url, "http://127.0.0.1:8080/mcp");
  EXPECT_EQ(x.headers.at("Authorization"), "Bearer t");
  EXPECT_EQ(x.timeout, 10s);

  // TBXark's config.go: a server without authTokens takes mcpProxy.options'; its own replace them.
  EXPECT_EQ(c.proxy.auth_tokens, (std::vector<auth_token>{{"", "tok"}}));
  EXPECT_EQ(c.servers[0].auth_tokens, c.proxy.auth_tokens);
  EXPECT_FALSE(c.servers[0].own_auth_tokens);
  EXPECT_EQ(fetch.auth_tokens, (std::vector<auth_token>{{"", "t"}}));
  EXPECT_TRUE(fetch.own_auth_tokens);
  EXPECT_FALSE(has_warning(c, "authTokens")) << all_warnings(c);
  EXPECT_EQ(c.servers[0].filters.tools.mode, name_filter::filter_mode::block);
  EXPECT_FALSE(c.servers[0].filters.tools.allows("create_repository"));
  EXPECT_TRUE(c.servers[0].filters.tools.allows("list_issues"));
  // Nothing in the example is unknown.
  EXPECT_FALSE(has_warning(c, "unknown key")) << all_warnings(c);
  // logEnabled and panicIfInvalid: a server's own, else mcpProxy.options' (TBXark's config.go).
  EXPECT_TRUE(github.log_enabled);
  EXPECT_FALSE(github.panic_if_invalid);
  EXPECT_FALSE(fetch.log_enabled);
  EXPECT_TRUE(fetch.panic_if_invalid);
  EXPECT_TRUE(amap.log_enabled);
  EXPECT_FALSE(amap.panic_if_invalid);
}

TEST(config_parse, errors_never_contain_auth_tokens) {
  const auto e = parse_error(R"({"mcpProxy": {"options": {"authTokens": ["s3cret token"]}},
                                 "mcpServers": {}})");
  EXPECT_NE(e.find("authTokens[0]"), std::string::npos) << e;
  EXPECT_EQ(e.find("s3cret"), std::string::npos) << e;
}

TEST(config_parse, minimal_config_uses_defaults) {
  auto c = parse_ok(R"({"mcpServers": {"s": {"command": "srv"}}})");
  EXPECT_EQ(c.proxy.addr, "127.0.0.1:9090");
  EXPECT_EQ(c.proxy.name, "mcp-proxy");
  EXPECT_TRUE(c.proxy.allowed_origins.empty());
  EXPECT_EQ(c.proxy.max_body_bytes, 32u * 1024 * 1024);
  EXPECT_TRUE(c.proxy.get_stream);
  ASSERT_EQ(c.servers.size(), 1u);
  const auto& s = c.servers[0];
  EXPECT_EQ(s.name, "s");
  EXPECT_EQ(s.transport, transport_type::stdio);
  EXPECT_EQ(s.command, "srv");
  EXPECT_TRUE(s.args.empty());
  EXPECT_TRUE(s.env.empty());
  EXPECT_FALSE(s.cwd.has_value());
  EXPECT_EQ(s.timeout, 60s);
  EXPECT_EQ(s.mode, session_mode::shared);
  EXPECT_FALSE(s.disabled);
  EXPECT_TRUE(c.warnings.empty()) << all_warnings(c);
}

TEST(config_parse, servers_keep_file_order) {
  auto c = parse_ok(R"({"mcpServers": {"zeta": {"command": "a"}, "alpha": {"command": "b"},
                                       "mid": {"command": "c"}}})");
  ASSERT_EQ(c.servers.size(), 3u);
  EXPECT_EQ(c.servers[0].name, "zeta");
  EXPECT_EQ(c.servers[1].name, "alpha");
  EXPECT_EQ(c.servers[2].name, "mid");
}

// --- document shape and JSON syntax ------------------------------------------------------------

TEST(config_parse, top_level_must_be_an_object) {
  EXPECT_EQ(parse_error("[]"), "cfg.json: $: expected an object, got an array");
  EXPECT_EQ(parse_error("42"), "cfg.json: $: expected an object, got a number");
  EXPECT_EQ(parse_error("null"), "cfg.json: $: expected an object, got null");
}

TEST(config_parse, missing_mcp_servers_is_an_error) {
  EXPECT_EQ(parse_error(R"({"mcpProxy": {}})"), "cfg.json: $: missing required key \"mcpServers\"");
}

TEST(config_parse, mcp_servers_must_be_an_object) {
  EXPECT_EQ(parse_error(R"({"mcpServers": []})"),
            "cfg.json: $.mcpServers: expected an object, got an array");
}

TEST(config_parse, empty_mcp_servers_is_allowed_with_a_warning) {
  auto c = parse_ok(R"({"mcpServers": {}})");
  EXPECT_TRUE(c.servers.empty());
  EXPECT_TRUE(has_warning(c, "cfg.json: $.mcpServers: no servers configured")) << all_warnings(c);
}

TEST(config_parse, syntax_error_reports_line_column_and_byte) {
  EXPECT_EQ(parse_error("{\n  \"mcpServers\": x\n}"),
            "cfg.json: line 2, column 17 (byte 18): invalid JSON: syntax error");
}

TEST(config_parse, syntax_error_column_counts_characters_not_bytes) {
  // "é" is two bytes but one column.
  auto msg = parse_error("{\"é\": x}");
  EXPECT_NE(msg.find("line 1, column 7 (byte 7)"), std::string::npos) << msg;
}

TEST(config_parse, empty_and_truncated_documents_are_invalid_json) {
  // (A trailing comma is JSONC, accepted: config_formats_test.)
  for (std::string_view text : {"", "   ", "{\"mcpServers\": {", "{\"mcpServers\": {},,}"}) {
    auto msg = parse_error(text);
    EXPECT_NE(msg.find("invalid JSON"), std::string::npos) << text << " -> " << msg;
  }
}

TEST(config_parse, trailing_data_is_invalid_json) {
  auto msg = parse_error(R"({"mcpServers": {}} {})");
  EXPECT_NE(msg.find("column 20 (byte 19): invalid JSON"), std::string::npos) << msg;
}

TEST(config_parse, an_unterminated_comment_is_invalid_json) {
  auto msg = parse_error("// servers\n{\"mcpServers\": {}} /* open");
  EXPECT_NE(msg.find("cfg.json: line 2, column 27 (byte 37): invalid JSON"), std::string::npos)
      << msg;
}

TEST(config_parse, byte_order_mark_is_skipped) {
  auto c = parse_ok("\xEF\xBB\xBF{\"mcpServers\": {}}");
  EXPECT_TRUE(c.servers.empty());
}

TEST(config_parse, deep_nesting_is_an_error_not_a_crash) {
  std::string text = R"({"mcpServers": {}, "x": )" + std::string(100000, '[');
  auto msg = parse_error(text);
  EXPECT_NE(msg.find("invalid JSON"), std::string::npos) << msg.substr(0, 200);
}

TEST(config_parse, unknown_keys_are_warnings_naming_their_path) {
  auto c = parse_ok(R"({"extra": 1,
    "mcpProxy": {"listen": ":1", "options": {"mystery": true}},
    "mcpServers": {"s": {"command": "c", "comand": "typo", "weird key": 1,
                          "options": {"toolFilter": {"mode": "allow", "list": [], "x": 1}}}}})");
  EXPECT_TRUE(has_warning(c, "cfg.json: $.extra: unknown key, ignored")) << all_warnings(c);
  EXPECT_TRUE(has_warning(c, "cfg.json: $.mcpProxy.listen: unknown key")) << all_warnings(c);
  EXPECT_TRUE(has_warning(c, "cfg.json: $.mcpProxy.options.mystery: unknown key"))
      << all_warnings(c);
  EXPECT_TRUE(has_warning(c, "cfg.json: $.mcpServers.s.comand: unknown key")) << all_warnings(c);
  EXPECT_TRUE(has_warning(c, R"(cfg.json: $.mcpServers.s["weird key"]: unknown key)"))
      << all_warnings(c);
  EXPECT_TRUE(has_warning(c, "cfg.json: $.mcpServers.s.options.toolFilter.x: unknown key"))
      << all_warnings(c);
}

TEST(config_parse, a_misspelled_key_suggests_the_known_one) {
  auto c = parse_ok(R"({"mcpProxy": {"adr": ":1", "options": {"toolfilter": {}}},
    "mcpServers": {"fs": {"comand": "typo", "command": "c", "tiemout": 5,
                          "options": {"disable": true}}}})");
  for (std::string_view w : {
           R"(cfg.json: $.mcpProxy.adr: unknown key, ignored; did you mean "addr"?)",
           R"(cfg.json: $.mcpProxy.options.toolfilter: unknown key, ignored; did you mean )"
           R"("toolFilter"?)",
           R"(cfg.json: $.mcpServers.fs.comand: unknown key, ignored; did you mean "command"?)",
           R"(cfg.json: $.mcpServers.fs.tiemout: unknown key, ignored; did you mean "timeout"?)",
           R"(cfg.json: $.mcpServers.fs.options.disable: unknown key, ignored; did you mean )"
           R"("disabled"?)",
       }) {
    EXPECT_TRUE(has_warning_line(c, w)) << w << "\n" << all_warnings(c);
  }
  // The misspelt keys are still ignored.
  EXPECT_EQ(c.proxy.addr, "127.0.0.1:9090");
  ASSERT_EQ(c.servers.size(), 1u);
  EXPECT_FALSE(c.servers[0].disabled);
  EXPECT_EQ(c.servers[0].timeout, 60s);
}

TEST(config_parse, a_refused_config_keeps_its_warnings) {
  // The suggestion explains the error: the warnings come with it.
  auto e = parse_config(R"({"mcpServers": {"fs": {"comand": "npx"}}})", origin);
  ASSERT_TRUE(e.has_error());
  EXPECT_EQ(e.error().message,
            "cfg.json: $.mcpServers.fs: needs \"command\" (a stdio server) or \"url\" (an HTTP "
            "server)");
  EXPECT_EQ(
      e.error().warnings,
      std::vector<std::string>{
          R"(cfg.json: $.mcpServers.fs.comand: unknown key, ignored; did you mean "command"?)"});
}

TEST(config_parse, a_key_differing_only_in_case_suggests_the_known_one) {
  auto c = parse_ok(R"({"mcpProxy": {"baseUrl": "https://h"},
                        "mcpServers": {"s": {"url": "https://h/mcp", "URL": "x"}}})");
  EXPECT_TRUE(has_warning_line(
      c, R"(cfg.json: $.mcpProxy.baseUrl: unknown key, ignored; did you mean "baseURL"?)"))
      << all_warnings(c);
  EXPECT_TRUE(has_warning_line(
      c, R"(cfg.json: $.mcpServers.s.URL: unknown key, ignored; did you mean "url"?)"))
      << all_warnings(c);
  EXPECT_EQ(c.proxy.base_url, "");
}

TEST(config_parse, suggestions_come_only_from_close_keys_of_that_object) {
  // "disabled" is a key of a server's options, not of mcpProxy.options; "id" is two edits from
  // "cwd" but keeps nothing of it.
  auto c = parse_ok(R"({"mcpProxy": {"options": {"disabled": true}},
                        "mcpServers": {"s": {"command": "c", "id": 1, "extra": 2}}})");
  EXPECT_TRUE(has_warning_line(c, "cfg.json: $.mcpProxy.options.disabled: unknown key, ignored"))
      << all_warnings(c);
  EXPECT_TRUE(has_warning_line(c, "cfg.json: $.mcpServers.s.id: unknown key, ignored"))
      << all_warnings(c);
  EXPECT_TRUE(has_warning_line(c, "cfg.json: $.mcpServers.s.extra: unknown key, ignored"))
      << all_warnings(c);
  EXPECT_FALSE(has_warning(c, "did you mean")) << all_warnings(c);
}

TEST(config_parse, control_characters_in_keys_are_escaped_in_messages) {
  auto c = parse_ok(R"({"mcpServers": {}, "a\nb": 1})");
  EXPECT_TRUE(has_warning(c, R"($["a\nb"]: unknown key)")) << all_warnings(c);
}

TEST(config_parse, failed_result_throws_runtime_error_with_the_message) {
  auto r = parse_config("[]", origin);
  ASSERT_TRUE(r.has_error());
  try {
    (void)r.value();
    FAIL() << "value() did not throw";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "cfg.json: $: expected an object, got an array");
  }
}

// --- several errors at once -------------------------------------------------------------------

// Parses `text`, expects a failure, and returns its error.
config_error parse_errors(std::string_view text) {
  auto r = parse_config(text, origin);
  EXPECT_TRUE(r.has_error()) << text << "\n-> parsed";
  if (!r.has_error()) return {};
  return r.error();
}

TEST(config_errors, every_error_of_a_file_is_reported_in_file_order) {
  auto e = parse_errors(R"({"mcpProxy": {"addr": "9090"},
      "mcpServers": {"a": {"command": 1}, "ok": {"command": "c"},
                     "b": {"command": "c", "timeout": "soon"}}})");
  EXPECT_EQ(e.message,
            "cfg.json: $.mcpProxy.addr: expected \"host:port\", \":port\" or \"[ipv6]:port\" with "
            "a port from 0 to 65535, got \"9090\"\n"
            "cfg.json: $.mcpServers.a.command: expected a string, got a number\n"
            "cfg.json: $.mcpServers.b.timeout: expected a duration such as \"30s\", \"1500ms\", "
            "\"2m\" or \"1m30s\", got \"soon\"");
  ASSERT_EQ(e.errors.size(), 3u);
  EXPECT_EQ(e.errors[0].path, "$.mcpProxy.addr");
  EXPECT_EQ(e.errors[1].path, "$.mcpServers.a.command");
  EXPECT_EQ(e.errors[1].message, "expected a string, got a number");
  EXPECT_EQ(e.errors[2].path, "$.mcpServers.b.timeout");
}

TEST(config_errors, every_bad_value_of_one_server_is_reported) {
  auto e = parse_errors(one_server(R"({"command": "c", "args": [1, "ok", true],
      "env": {"A=B": "x", "K": "v"}, "sessionMode": "x",
      "options": {"toolFilter": {"mode": 1}}})"));
  std::vector<std::string> paths;
  for (const auto& p : e.errors) paths.push_back(p.path);
  EXPECT_EQ(paths,
            (std::vector<std::string>{"$.mcpServers.s.args[0]", "$.mcpServers.s.args[2]",
                                      R"($.mcpServers.s.env["A=B"])", "$.mcpServers.s.sessionMode",
                                      "$.mcpServers.s.options.toolFilter.mode"}))
      << e.message;
}

TEST(config_errors, a_bad_value_causes_no_follow_up_errors) {
  // The command is there, only wrong: not also "needs command or url".
  EXPECT_EQ(parse_errors(one_server(R"({"command": 1})")).message,
            "cfg.json: $.mcpServers.s.command: expected a string, got a number");
  // A bad mode is not also a missing one.
  EXPECT_EQ(parse_errors(one_server(R"({"command": "c", "options": {"toolFilter": {"mode": "x",
                                                                            "list": ["t"]}}})"))
                .message,
            "cfg.json: $.mcpServers.s.options.toolFilter.mode: expected \"allow\" or \"block\", "
            "got \"x\"");
  // A group naming a server with an error does not also say the server is missing, and groups
  // are not checked against an mcpServers that is no object.
  EXPECT_EQ(parse_errors(R"({"mcpProxy": {"groups": {"g": {"servers": ["a"]}}},
                             "mcpServers": {"a": {"command": 1}}})")
                .message,
            "cfg.json: $.mcpServers.a.command: expected a string, got a number");
  EXPECT_EQ(parse_errors(R"({"mcpProxy": {"groups": {"g": {"servers": ["a"]}}},
                             "mcpServers": []})")
                .message,
            "cfg.json: $.mcpServers: expected an object, got an array");
}

TEST(config_errors, a_bad_server_name_does_not_hide_the_errors_of_its_keys) {
  auto e = parse_errors(R"({"mcpServers": {"a b": {"command": "c", "timeout": "soon"}}})");
  ASSERT_EQ(e.errors.size(), 2u) << e.message;
  EXPECT_TRUE(e.errors[0].message.starts_with("invalid server name \"a b\"")) << e.message;
  EXPECT_EQ(e.errors[1].path, R"($.mcpServers["a b"].timeout)");
}

TEST(config_errors, checks_across_objects_come_after_the_values) {
  auto e = parse_errors(R"({"mcpProxy": {"groups": {"a": {}, "g": {"servers": ["zz", "a"]}}},
                            "mcpServers": {"a": {"command": "c", "cwd": ""}}})");
  EXPECT_EQ(e.message,
            "cfg.json: $.mcpServers.a.cwd: must not be empty\n"
            "cfg.json: $.mcpProxy.groups.a: group \"a\" has the name of a server: both would be "
            "served at /a/mcp\n"
            "cfg.json: $.mcpProxy.groups.g.servers[0]: no server named \"zz\" in mcpServers");
}

TEST(config_errors, errors_past_the_hundredth_are_counted_not_listed) {
  std::string args;
  for (int i = 0; i < 150; ++i) args += i ? ", 1" : "1";
  auto e = parse_errors(one_server(R"({"command": "c", "args": [)" + args + "]}"));
  ASSERT_EQ(e.errors.size(), 100u);
  EXPECT_EQ(e.errors[99].path, "$.mcpServers.s.args[99]");
  EXPECT_EQ(std::count(e.message.begin(), e.message.end(), '\n'), 100) << e.message;
  EXPECT_TRUE(e.message.ends_with("\ncfg.json: 50 more errors not shown")) << e.message;
}

TEST(config_errors, a_document_that_is_not_json_is_one_error_at_its_position) {
  auto e = parse_errors("{\n  \"mcpServers\": x\n}");
  ASSERT_EQ(e.errors.size(), 1u);
  EXPECT_EQ(e.errors[0].path, "line 2, column 17 (byte 18)");
  EXPECT_EQ(e.errors[0].message, "invalid JSON: syntax error");
}

// --- mcpProxy ----------------------------------------------------------------------------------

TEST(config_proxy, keys_are_read) {
  auto c = parse_ok(R"({"mcpProxy": {"addr": "0.0.0.0:8080", "baseURL": "http://h:1/base",
      "name": "n", "version": "v", "type": "streamable-http",
      "allowedOrigins": ["https://app.example.com", "http://localhost:3000", "*"],
      "maxBodyBytes": 1024, "getStream": false}, "mcpServers": {}})");
  EXPECT_EQ(c.proxy.addr, "0.0.0.0:8080");
  EXPECT_EQ(c.proxy.base_url, "http://h:1/base");
  EXPECT_EQ(c.proxy.name, "n");
  EXPECT_EQ(c.proxy.version, "v");
  EXPECT_EQ(c.proxy.allowed_origins,
            (std::vector<std::string>{"https://app.example.com", "http://localhost:3000", "*"}));
  EXPECT_EQ(c.proxy.max_body_bytes, 1024u);
  EXPECT_FALSE(c.proxy.get_stream);
  EXPECT_FALSE(has_warning(c, "type")) << all_warnings(c);
}

TEST(config_proxy, mcp_proxy_must_be_an_object) {
  EXPECT_EQ(parse_error(R"({"mcpProxy": "x", "mcpServers": {}})"),
            "cfg.json: $.mcpProxy: expected an object, got a string");
}

TEST(config_proxy, invalid_addr_is_an_error_naming_the_value) {
  EXPECT_EQ(parse_error(R"({"mcpProxy": {"addr": "9090"}, "mcpServers": {}})"),
            "cfg.json: $.mcpProxy.addr: expected \"host:port\", \":port\" or \"[ipv6]:port\" with "
            "a port from 0 to 65535, got \"9090\"");
  EXPECT_NE(
      parse_error(R"({"mcpProxy": {"addr": ":70000"}, "mcpServers": {}})").find("$.mcpProxy.addr"),
      std::string::npos);
  EXPECT_EQ(parse_error(R"({"mcpProxy": {"addr": 9090}, "mcpServers": {}})"),
            "cfg.json: $.mcpProxy.addr: expected a string, got a number");
}

TEST(config_proxy, base_url_must_be_an_http_url) {
  for (std::string_view url : {"mcp.example.com", "ftp://h/x", "https://"}) {
    auto msg = parse_error(R"({"mcpProxy": {"baseURL": ")" + std::string(url) +
                           R"("}, "mcpServers": {}})");
    EXPECT_EQ(msg, "cfg.json: $.mcpProxy.baseURL: expected an absolute http or https URL") << url;
  }
  EXPECT_EQ(parse_ok(R"({"mcpProxy": {"baseURL": ""}, "mcpServers": {}})").proxy.base_url, "");
}

TEST(config_proxy, both_client_transport_types_are_accepted_silently) {
  for (const char* type : {"sse", "streamable-http"}) {
    auto c = parse_ok(std::string(R"({"mcpProxy": {"type": ")") + type +
                      R"("}, "mcpServers": {"s": {"command": "c"}}})");
    EXPECT_TRUE(c.warnings.empty()) << all_warnings(c);
  }
}

TEST(config_proxy, unknown_type_is_an_error) {
  EXPECT_EQ(
      parse_error(R"({"mcpProxy": {"type": "websocket"}, "mcpServers": {}})"),
      "cfg.json: $.mcpProxy.type: expected \"sse\" or \"streamable-http\", got \"websocket\"");
}

TEST(config_proxy, allowed_origins_must_be_origins) {
  for (std::string_view o :
       {"https://a.com/", "https://a.com/path", "a.com", "", "https://a.com?x"}) {
    auto msg = parse_error(R"({"mcpProxy": {"allowedOrigins": ["*", ")" + std::string(o) +
                           R"("]}, "mcpServers": {}})");
    EXPECT_TRUE(msg.starts_with("cfg.json: $.mcpProxy.allowedOrigins[1]: expected an origin"))
        << o << " -> " << msg;
  }
  EXPECT_EQ(parse_error(R"({"mcpProxy": {"allowedOrigins": "*"}, "mcpServers": {}})"),
            "cfg.json: $.mcpProxy.allowedOrigins: expected an array of strings, got a string");
}

TEST(config_proxy, max_body_bytes_must_be_a_positive_integer) {
  for (std::string_view v : {"0", "-1", "1.5", "-0.0"}) {
    auto msg = parse_error(R"({"mcpProxy": {"maxBodyBytes": )" + std::string(v) +
                           R"(}, "mcpServers": {}})");
    EXPECT_EQ(msg, "cfg.json: $.mcpProxy.maxBodyBytes: expected a positive integer") << v;
  }
  EXPECT_EQ(parse_error(R"({"mcpProxy": {"maxBodyBytes": "1MB"}, "mcpServers": {}})"),
            "cfg.json: $.mcpProxy.maxBodyBytes: expected a positive integer, got a string");
  EXPECT_EQ(
      parse_ok(R"({"mcpProxy": {"maxBodyBytes": 1e6}, "mcpServers": {}})").proxy.max_body_bytes,
      1000000u);
  EXPECT_EQ(parse_ok(R"({"mcpProxy": {"maxBodyBytes": 18446744073709551615}, "mcpServers": {}})")
                .proxy.max_body_bytes,
            18446744073709551615u);
}

TEST(config_proxy, booleans_must_be_booleans) {
  EXPECT_EQ(parse_error(R"({"mcpProxy": {"getStream": "false"}, "mcpServers": {}})"),
            "cfg.json: $.mcpProxy.getStream: expected a boolean, got a string");
  EXPECT_EQ(parse_error(R"({"mcpProxy": {"options": {"panicIfInvalid": 1}}, "mcpServers": {}})"),
            "cfg.json: $.mcpProxy.options.panicIfInvalid: expected a boolean, got a number");
  EXPECT_EQ(parse_error(R"({"mcpProxy": {"options": {"logEnabled": null}}, "mcpServers": {}})"),
            "cfg.json: $.mcpProxy.options.logEnabled: expected a boolean, got null");
}

TEST(config_proxy, disabled_is_not_a_proxy_option) {
  auto c = parse_ok(R"({"mcpProxy": {"options": {"disabled": true}}, "mcpServers": {}})");
  EXPECT_TRUE(has_warning(c, "$.mcpProxy.options.disabled: unknown key")) << all_warnings(c);
}

// --- options: authTokens and toolFilter ---------------------------------------------------------

TEST(config_options, auth_tokens_must_be_non_empty_b64tokens) {
  EXPECT_EQ(parse_error(one_server(R"({"command": "c", "options": {"authTokens": "t"}})")),
            "cfg.json: $.mcpServers.s.options.authTokens: expected an array of tokens, got a "
            "string");
  EXPECT_EQ(parse_error(one_server(R"({"command": "c", "options": {"authTokens": ["a", 1]}})")),
            "cfg.json: $.mcpServers.s.options.authTokens[1]: expected a string, got a number");
  EXPECT_EQ(parse_error(one_server(R"({"command": "c", "options": {"authTokens": [""]}})")),
            "cfg.json: $.mcpServers.s.options.authTokens[0]: a token must not be empty");
  EXPECT_EQ(parse_error(one_server(R"({"command": "c", "options": {"authTokens": ["a:b"]}})")),
            "cfg.json: $.mcpServers.s.options.authTokens[0]: a token may hold only A-Z a-z 0-9 - "
            ". _ ~ + / and trailing = (RFC 6750 b64token)");
  EXPECT_EQ(
      parse_error(one_server(R"({"command": "c", "options": {"authTokens": [{"name": "n"}]}})")),
      "cfg.json: $.mcpServers.s.options.authTokens[0]: missing required key \"token\"");
}

TEST(config_options, named_tokens_and_an_explicit_empty_list) {
  auto c = parse_ok(R"({"mcpProxy": {"options": {"authTokens": [{"name": "ci", "token": "g"}]}},
                        "mcpServers": {"open": {"command": "c", "options": {"authTokens": []}},
                                       "inherits": {"command": "c"}}})");
  EXPECT_EQ(c.proxy.auth_tokens, (std::vector<auth_token>{{"ci", "g"}}));
  // An explicit [] is the server's own list: it needs no token (TBXark: nil inherits, [] not).
  EXPECT_TRUE(c.servers[0].auth_tokens.empty());
  EXPECT_TRUE(c.servers[0].own_auth_tokens);
  EXPECT_EQ(c.servers[1].auth_tokens, c.proxy.auth_tokens);
  EXPECT_FALSE(has_warning(c, "authTokens")) << all_warnings(c);
}

TEST(config_options, cors_credentials_need_named_origins) {
  EXPECT_EQ(
      parse_error(R"({"mcpProxy": {"allowedOrigins": ["*"], "cors": {"allowCredentials": true}},
                            "mcpServers": {}})"),
      "cfg.json: $.mcpProxy.cors.allowCredentials: cannot be true while allowedOrigins "
      "holds \"*\": name the origins");
  auto c = parse_ok(R"({"mcpProxy": {"allowedOrigins": ["https://a.example"],
                                     "cors": {"allowCredentials": true, "maxAge": "1m"}},
                        "mcpServers": {}})");
  EXPECT_TRUE(c.proxy.cors_allow_credentials);
  EXPECT_EQ(c.proxy.cors_max_age, std::chrono::seconds(60));
}

TEST(config_options, tool_filter_shape_is_checked) {
  EXPECT_EQ(parse_error(one_server(R"({"command": "c", "options": {"toolFilter": []}})")),
            "cfg.json: $.mcpServers.s.options.toolFilter: expected an object, got an array");
  EXPECT_EQ(
      parse_error(one_server(R"({"command": "c", "options": {"toolFilter": {"mode": "deny"}}})")),
      "cfg.json: $.mcpServers.s.options.toolFilter.mode: expected \"allow\" or \"block\", got "
      "\"deny\"");
  EXPECT_EQ(parse_error(one_server(
                R"({"command": "c", "options": {"toolFilter": {"mode": "allow", "list": [1]}}})")),
            "cfg.json: $.mcpServers.s.options.toolFilter.list[0]: expected a string, got a number");
  auto msg =
      parse_error(one_server(R"({"command": "c", "options": {"toolFilter": {"list": ["t"]}}})"));
  EXPECT_TRUE(msg.starts_with("cfg.json: $.mcpServers.s.options.toolFilter: missing \"mode\""))
      << msg;
}

TEST(config_options, tool_filter_mode_is_case_insensitive_like_tbxark) {
  auto s = parse_one_server(
      R"({"command": "c", "options": {"toolFilter": {"mode": "Allow", "list": ["t"]}}})");
  EXPECT_EQ(s.filters.tools.mode, name_filter::filter_mode::allow);
  EXPECT_TRUE(s.filters.tools.allows("t"));
  EXPECT_FALSE(s.filters.tools.allows("u"));
}

TEST(config_options, filters_take_globs_for_tools_prompts_and_resources) {
  auto s = parse_one_server(R"({"command": "c", "options": {
      "toolFilter": {"mode": "allow", "list": ["read_*", "stat"]},
      "promptFilter": {"mode": "block", "list": ["secret?"]},
      "resourceFilter": {"mode": "block", "list": ["file:///private/*"]}}})");
  EXPECT_TRUE(s.filters.tools.allows("read_file"));
  EXPECT_TRUE(s.filters.tools.allows("stat"));
  EXPECT_FALSE(s.filters.tools.allows("write_file"));
  EXPECT_FALSE(s.filters.prompts.allows("secret1"));
  EXPECT_TRUE(s.filters.prompts.allows("secret12"));
  EXPECT_FALSE(s.filters.resources.allows("file:///private/key"));
  EXPECT_TRUE(s.filters.resources.allows("file:///public/readme"));
}

TEST(config_options, an_allow_filter_with_an_empty_list_allows_nothing) {
  auto s = parse_one_server(
      R"({"command": "c", "options": {"toolFilter": {"mode": "allow", "list": []}}})");
  EXPECT_FALSE(s.filters.tools.allows("anything"));
  EXPECT_TRUE(parse_one_server(R"({"command": "c"})").filters.tools.allows("anything"));
}

TEST(config_options, proxy_options_filter_is_the_default_of_servers_without_one) {
  auto c = parse_ok(R"({"mcpProxy": {"options": {"toolFilter": {"mode": "block", "list": ["rm"]}}},
      "mcpServers": {"a": {"command": "c"},
                     "b": {"command": "c", "options": {"toolFilter": {"mode": "allow",
                                                                       "list": ["rm"]}}}}})");
  EXPECT_FALSE(c.servers[0].filters.tools.allows("rm"));
  EXPECT_TRUE(c.servers[1].filters.tools.allows("rm"));
  EXPECT_FALSE(c.servers[1].filters.tools.allows("ls"));
}

TEST(config_proxy, replay_buffer_sizes_have_defaults_and_must_be_positive) {
  auto d = parse_ok(one_server(R"({"command": "c"})"));
  EXPECT_EQ(d.proxy.replay_events, 256u);
  EXPECT_EQ(d.proxy.replay_streams, 16u);
  EXPECT_EQ(d.proxy.replay_bytes, 8u << 20);
  auto c = parse_ok(
      R"({"mcpProxy": {"replayEvents": 10, "replayStreams": 2, "replayBytes": 1000},
          "mcpServers": {}})");
  EXPECT_EQ(c.proxy.replay_bytes, 1000u);
  EXPECT_EQ(c.proxy.replay_events, 10u);
  EXPECT_EQ(c.proxy.replay_streams, 2u);
  EXPECT_EQ(parse_error(R"({"mcpProxy": {"replayEvents": 0}, "mcpServers": {}})"),
            "cfg.json: $.mcpProxy.replayEvents: expected a positive integer");
}

TEST(config_proxy, close_stream_after_is_off_by_default_and_read_as_a_duration) {
  EXPECT_EQ(parse_ok(one_server(R"({"command": "c"})")).proxy.close_stream_after, 0ms);
  auto c = parse_ok(R"({"mcpProxy": {"closeStreamAfter": "250ms"}, "mcpServers": {}})");
  EXPECT_EQ(c.proxy.close_stream_after, 250ms);
  EXPECT_EQ(parse_ok(R"({"mcpProxy": {"closeStreamAfter": 0}, "mcpServers": {}})")
                .proxy.close_stream_after,
            0ms);
  EXPECT_NE(parse_error(R"({"mcpProxy": {"closeStreamAfter": "soon"}, "mcpServers": {}})")
                .find("$.mcpProxy.closeStreamAfter"),
            std::string::npos);
}

// --- aggregation ------------------------------------------------------------------------------

TEST(config_aggregation, defaults) {
  auto c = parse_ok(one_server(R"({"command": "c"})"));
  EXPECT_TRUE(c.proxy.aggregate);
  EXPECT_EQ(c.proxy.tool_name_separator, "__");
  EXPECT_EQ(c.proxy.page_size, 0u);
  EXPECT_EQ(c.proxy.list_cache_ttl, 60s);
  EXPECT_EQ(c.proxy.fan_out_timeout, 10s);
  EXPECT_FALSE(c.servers[0].prefix.has_value());
  EXPECT_TRUE(c.groups.empty());
}

TEST(config_aggregation, proxy_keys_are_read) {
  auto c = parse_ok(R"({"mcpProxy": {"aggregate": false, "toolNameSeparator": "-",
      "pageSize": 50, "listCacheTTL": "0", "fanOutTimeout": "2s"},
      "mcpServers": {"a": {"command": "c", "prefix": ""}, "b": {"command": "c", "prefix": "x_1"}}})");
  EXPECT_FALSE(c.proxy.aggregate);
  EXPECT_EQ(c.proxy.tool_name_separator, "-");
  EXPECT_EQ(c.proxy.page_size, 50u);
  EXPECT_EQ(c.proxy.list_cache_ttl, 0ms);
  EXPECT_EQ(c.proxy.fan_out_timeout, 2s);
  EXPECT_EQ(c.servers[0].prefix, "");
  EXPECT_EQ(c.servers[1].prefix, "x_1");
  auto zero = parse_ok(R"({"mcpProxy": {"pageSize": 0, "listCacheTTL": 0}, "mcpServers": {}})");
  EXPECT_EQ(zero.proxy.page_size, 0u);
  EXPECT_EQ(zero.proxy.list_cache_ttl, 0ms);
}

TEST(config_aggregation, names_that_tools_cannot_carry_are_refused) {
  EXPECT_EQ(parse_error(one_server(R"({"command": "c", "prefix": "a.b"})")),
            "cfg.json: $.mcpServers.s.prefix: expected characters of A-Z a-z 0-9 _ - (tool names "
            "allow no others), got \"a.b\"");
  EXPECT_EQ(parse_error(R"({"mcpProxy": {"toolNameSeparator": "/"}, "mcpServers": {}})"),
            "cfg.json: $.mcpProxy.toolNameSeparator: expected characters of A-Z a-z 0-9 _ - (tool "
            "names allow no others), got \"/\"");
  EXPECT_EQ(parse_error(R"({"mcpProxy": {"pageSize": -1}, "mcpServers": {}})"),
            "cfg.json: $.mcpProxy.pageSize: expected a positive integer");
}

TEST(config_aggregation, groups_are_read_and_checked) {
  auto c = parse_ok(R"({"mcpProxy": {"groups": {"dev": {"servers": ["a"],
      "toolFilter": {"mode": "allow", "list": ["a__read_*"]}}, "all": {}}},
      "mcpServers": {"a": {"command": "c"}, "b": {"command": "c"}}})");
  ASSERT_EQ(c.groups.size(), 2u);
  EXPECT_EQ(c.groups[0].name, "dev");
  EXPECT_EQ(c.groups[0].servers, std::vector<std::string>{"a"});
  EXPECT_TRUE(c.groups[0].filters.tools.allows("a__read_x"));
  EXPECT_FALSE(c.groups[0].filters.tools.allows("a__write"));
  EXPECT_TRUE(c.groups[1].servers.empty());
  EXPECT_EQ(
      parse_error(R"({"mcpProxy": {"groups": {"a": {}}}, "mcpServers": {"a": {"command": "c"}}})"),
      "cfg.json: $.mcpProxy.groups.a: group \"a\" has the name of a server: both would be "
      "served at /a/mcp");
  EXPECT_EQ(parse_error(R"({"mcpProxy": {"groups": {"g": {"servers": ["a", "zz"]}}},
                            "mcpServers": {"a": {"command": "c"}}})"),
            "cfg.json: $.mcpProxy.groups.g.servers[1]: no server named \"zz\" in mcpServers");
  EXPECT_TRUE(parse_error(R"({"mcpProxy": {"groups": {"g g": {}}}, "mcpServers": {}})")
                  .starts_with("cfg.json: $.mcpProxy.groups[\"g g\"]: invalid group name "));
}

TEST(config_options, options_must_be_an_object) {
  EXPECT_EQ(parse_error(one_server(R"({"command": "c", "options": true})")),
            "cfg.json: $.mcpServers.s.options: expected an object, got a boolean");
}

// --- servers -----------------------------------------------------------------------------------

TEST(config_server, stdio_server_reads_command_args_env_cwd) {
  auto s = parse_one_server(
      R"({"command": "./srv", "args": ["--a", "b c", ""], "env": {"K": "v", "EMPTY": ""},
          "cwd": "/tmp", "sessionMode": "per-client", "timeout": "1m30s"})");
  EXPECT_EQ(s.transport, transport_type::stdio);
  EXPECT_EQ(s.command, "./srv");
  EXPECT_EQ(s.args, (std::vector<std::string>{"--a", "b c", ""}));
  EXPECT_EQ(s.env, (std::map<std::string, std::string>{{"K", "v"}, {"EMPTY", ""}}));
  EXPECT_EQ(s.cwd, "/tmp");
  EXPECT_EQ(s.mode, session_mode::per_client);
  EXPECT_EQ(s.timeout, 90s);
}

TEST(config_server, arg_type_error_names_the_index) {
  EXPECT_EQ(parse_error(R"({"mcpServers": {"fs": {"command": "c", "args": ["a", "b", 3]}}})"),
            "cfg.json: $.mcpServers.fs.args[2]: expected a string, got a number");
}

TEST(config_server, non_identifier_names_are_quoted_in_paths) {
  EXPECT_EQ(parse_error(R"({"mcpServers": {"my-server": {"command": "c", "args": [true]}}})"),
            R"(cfg.json: $.mcpServers["my-server"].args[0]: expected a string, got a boolean)");
  EXPECT_EQ(parse_error(R"({"mcpServers": {"s": {"command": "c", "env": {"A-B": 1}}}})"),
            R"(cfg.json: $.mcpServers.s.env["A-B"]: expected a string, got a number)");
}

TEST(config_server, server_must_be_an_object) {
  EXPECT_EQ(parse_error(R"({"mcpServers": {"s": "npx"}})"),
            "cfg.json: $.mcpServers.s: expected an object, got a string");
}

TEST(config_server, invalid_names_are_errors_naming_the_server) {
  EXPECT_EQ(
      parse_error(R"({"mcpServers": {"has space": {"command": "c"}}})"),
      R"(cfg.json: $.mcpServers["has space"]: invalid server name "has space": use 1 to 64 of )"
      R"(A-Z a-z 0-9 _ . - (names become URL path segments))");
  for (std::string name : {std::string(""), std::string("a/b"), std::string("caf\u00e9"),
                           std::string("a:b"), std::string(65, 'x')}) {
    auto msg = parse_error(R"({"mcpServers": {")" + name + R"(": {"command": "c"}}})");
    EXPECT_NE(msg.find("invalid server name"), std::string::npos) << name << " -> " << msg;
  }
}

TEST(config_server, valid_names_use_letters_digits_and_punctuation) {
  auto c = parse_ok(R"({"mcpServers": {"A.b_c-9": {"command": "c"}, ")" + std::string(64, 'x') +
                    R"(": {"command": "c"}}})");
  ASSERT_EQ(c.servers.size(), 2u);
  EXPECT_EQ(c.servers[0].name, "A.b_c-9");
}

TEST(config_server, command_and_url_together_are_an_error) {
  EXPECT_EQ(parse_error(one_server(R"({"command": "c", "url": "http://h/mcp"})")),
            "cfg.json: $.mcpServers.s: has both \"command\" and \"url\": a server is either a "
            "command (stdio) or a url");
}

TEST(config_server, neither_command_nor_url_is_an_error) {
  EXPECT_EQ(parse_error(one_server(R"({"args": ["x"]})")),
            "cfg.json: $.mcpServers.s: needs \"command\" (a stdio server) or \"url\" (an HTTP "
            "server)");
}

TEST(config_server, empty_command_and_url_are_errors) {
  EXPECT_EQ(parse_error(one_server(R"({"command": ""})")),
            "cfg.json: $.mcpServers.s.command: must not be empty");
  EXPECT_EQ(parse_error(one_server(R"({"url": ""})")),
            "cfg.json: $.mcpServers.s.url: must not be empty");
  EXPECT_EQ(parse_error(one_server(R"({"command": "c", "cwd": ""})")),
            "cfg.json: $.mcpServers.s.cwd: must not be empty");
}

TEST(config_server, nul_characters_are_rejected_in_process_strings) {
  EXPECT_EQ(parse_error(one_server(R"({"command": "c\u0000x"})")),
            "cfg.json: $.mcpServers.s.command: must not contain a NUL character");
  EXPECT_EQ(parse_error(one_server(R"({"command": "c", "args": ["ok", "a\u0000"]})")),
            "cfg.json: $.mcpServers.s.args[1]: must not contain a NUL character");
  EXPECT_EQ(parse_error(one_server(R"({"command": "c", "env": {"K": "\u0000"}})")),
            "cfg.json: $.mcpServers.s.env.K: must not contain a NUL character");
}

TEST(config_server, env_names_must_be_usable) {
  EXPECT_NE(parse_error(one_server(R"({"command": "c", "env": {"A=B": "x"}})"))
                .find(R"($.mcpServers.s.env["A=B"]: invalid environment variable name)"),
            std::string::npos);
  EXPECT_NE(parse_error(one_server(R"({"command": "c", "env": {"": "x"}})"))
                .find(R"($.mcpServers.s.env[""]: invalid environment variable name)"),
            std::string::npos);
  EXPECT_EQ(parse_error(one_server(R"({"command": "c", "env": ["A=B"]})")),
            "cfg.json: $.mcpServers.s.env: expected an object of strings, got an array");
}

TEST(config_server, url_transport_is_inferred_from_the_path) {
  EXPECT_EQ(parse_one_server(R"({"url": "https://h/sse"})").transport, transport_type::sse);
  EXPECT_EQ(parse_one_server(R"({"url": "https://h/v1/sse?key=k"})").transport,
            transport_type::sse);
  EXPECT_EQ(parse_one_server(R"({"url": "http://h:8080/mcp"})").transport,
            transport_type::streamable_http);
  EXPECT_EQ(parse_one_server(R"({"url": "http://h/"})").transport, transport_type::streamable_http);
  EXPECT_EQ(parse_one_server(R"({"url": "http://h/ssex"})").transport,
            transport_type::streamable_http);
  EXPECT_EQ(parse_one_server(R"({"url": "http://h/x?p=/sse"})").transport,
            transport_type::streamable_http);
}

TEST(config_server, only_an_inferred_streamable_http_transport_is_detected) {
  EXPECT_TRUE(parse_one_server(R"({"url": "http://h:8080/mcp"})").detect_transport);
  EXPECT_FALSE(parse_one_server(R"({"url": "https://h/sse"})").detect_transport);
  EXPECT_FALSE(parse_one_server(R"({"url": "https://h/mcp", "transportType": "streamable-http"})")
                   .detect_transport);
  EXPECT_FALSE(parse_one_server(R"({"url": "https://h/mcp", "type": "http"})").detect_transport);
}

TEST(config_server, tls_options_are_read_for_url_servers) {
  auto s = parse_one_server(
      R"({"url": "https://h/mcp", "tlsCaFile": "/etc/ca.pem", "tlsInsecureSkipVerify": true})");
  EXPECT_EQ(s.tls_ca_file, "/etc/ca.pem");
  EXPECT_TRUE(s.tls_insecure_skip_verify);
  EXPECT_EQ(parse_error(one_server(R"({"url": "https://h/x", "tlsInsecureSkipVerify": "yes"})")),
            "cfg.json: $.mcpServers.s.tlsInsecureSkipVerify: expected a boolean, got a string");
  auto stdio = parse_ok(one_server(R"({"command": "c", "tlsCaFile": "/ca.pem"})"));
  EXPECT_TRUE(has_warning(stdio, "cfg.json: $.mcpServers.s.tlsCaFile: ignored for a stdio server"))
      << all_warnings(stdio);
}

TEST(config_server, explicit_transport_type_wins_over_the_path) {
  EXPECT_EQ(
      parse_one_server(R"({"url": "https://h/sse", "transportType": "streamable-http"})").transport,
      transport_type::streamable_http);
  EXPECT_EQ(parse_one_server(R"({"url": "https://h/events", "transportType": "sse"})").transport,
            transport_type::sse);
  EXPECT_EQ(parse_one_server(R"({"command": "c", "transportType": "stdio"})").transport,
            transport_type::stdio);
}

TEST(config_server, claude_type_key_is_accepted) {
  EXPECT_EQ(parse_one_server(R"({"type": "http", "url": "https://h/sse"})").transport,
            transport_type::streamable_http);
  EXPECT_EQ(parse_one_server(R"({"type": "streamable-http", "url": "https://h/x"})").transport,
            transport_type::streamable_http);
  EXPECT_EQ(parse_one_server(R"({"type": "sse", "url": "https://h/x"})").transport,
            transport_type::sse);
  EXPECT_EQ(parse_one_server(R"({"type": "stdio", "command": "c"})").transport,
            transport_type::stdio);
  EXPECT_EQ(parse_one_server(R"({"type": "sse", "transportType": "sse", "url": "https://h/x"})")
                .transport,
            transport_type::sse);
}

TEST(config_server, unknown_transport_names_are_errors) {
  EXPECT_EQ(parse_error(one_server(R"({"url": "https://h/x", "transportType": "http"})")),
            "cfg.json: $.mcpServers.s.transportType: expected \"stdio\", \"sse\" or "
            "\"streamable-http\", got \"http\"");
  EXPECT_EQ(parse_error(one_server(R"({"url": "https://h/x", "type": "ws"})")),
            "cfg.json: $.mcpServers.s.type: expected \"stdio\", \"sse\", \"http\" or "
            "\"streamable-http\", got \"ws\"");
}

TEST(config_server, conflicting_type_and_transport_type_are_an_error) {
  EXPECT_EQ(parse_error(one_server(R"({"url": "https://h/x", "transportType": "sse",
                                       "type": "http"})")),
            "cfg.json: $.mcpServers.s.type: conflicts with $.mcpServers.s.transportType (sse)");
}

TEST(config_server, stdio_transport_with_a_url_is_an_error) {
  EXPECT_EQ(parse_error(one_server(R"({"url": "https://h/x", "transportType": "stdio"})")),
            "cfg.json: $.mcpServers.s.transportType: stdio needs a \"command\", but the server has "
            "a \"url\"");
}

TEST(config_server, http_transport_with_a_command_is_an_error) {
  EXPECT_EQ(parse_error(one_server(R"({"command": "c", "transportType": "sse"})")),
            "cfg.json: $.mcpServers.s.transportType: sse needs a \"url\", but the server has a "
            "\"command\"");
  EXPECT_EQ(parse_error(one_server(R"({"command": "c", "type": "http"})")),
            "cfg.json: $.mcpServers.s.type: streamable-http needs a \"url\", but the server has a "
            "\"command\"");
}

TEST(config_server, url_must_be_absolute_http_and_is_not_echoed) {
  for (std::string_view url :
       {"ftp://h/x?key=SECRET", "h/mcp?key=SECRET", "http://?key=SECRET", "not a url SECRET"}) {
    auto msg = parse_error(one_server(R"({"url": ")" + std::string(url) + R"("})"));
    EXPECT_EQ(msg, "cfg.json: $.mcpServers.s.url: expected an absolute http or https URL") << url;
  }
}

TEST(config_server, url_bytes_a_uri_may_not_hold_are_percent_encoded) {
  EXPECT_EQ(parse_one_server(R"({"url": "https://h/a b/sse?q={x}|\u00e9"})").url,
            "https://h/a%20b/sse?q=%7Bx%7D%7C%C3%A9");
  EXPECT_EQ(parse_one_server(R"({"url": "https://h/a%20b?x=1&y=2#f"})").url,
            "https://h/a%20b?x=1&y=2#f");
  EXPECT_EQ(parse_one_server(R"({"url": "https://h/a b/sse"})").transport, transport_type::sse);
  auto c = parse_ok(R"({"mcpProxy": {"baseURL": "https://h/<base>"}, "mcpServers": {}})");
  EXPECT_EQ(c.proxy.base_url, "https://h/%3Cbase%3E");
}

TEST(config_server, a_url_server_alone_gives_no_warning) {
  auto c = parse_ok(one_server(R"({"url": "https://h/mcp", "headers": {"Authorization": "x"}})"));
  EXPECT_TRUE(c.warnings.empty()) << all_warnings(c);
}

TEST(config_server, keys_of_the_other_transport_warn) {
  auto stdio = parse_ok(one_server(R"({"command": "c", "headers": {"A": "b"}})"));
  EXPECT_TRUE(has_warning(stdio, "cfg.json: $.mcpServers.s.headers: ignored for a stdio server"))
      << all_warnings(stdio);
  auto http = parse_ok(one_server(R"({"url": "https://h/mcp", "args": [], "env": {},
                                      "cwd": "/"})"));
  for (std::string_view key : {"args", "env", "cwd"}) {
    EXPECT_TRUE(has_warning(
        http, "$.mcpServers.s." + std::string(key) + ": ignored for a server with a url"))
        << key << "\n"
        << all_warnings(http);
  }
}

TEST(config_server, headers_are_validated) {
  EXPECT_EQ(parse_error(one_server(R"({"url": "https://h/x", "headers": {"Bad Name": "v"}})")),
            R"(cfg.json: $.mcpServers.s.headers["Bad Name"]: invalid HTTP header name)");
  EXPECT_EQ(
      parse_error(one_server(R"({"url": "https://h/x", "headers": {"X": "a\r\nInjected: 1"}})")),
      "cfg.json: $.mcpServers.s.headers.X: header value must not contain CR, LF or NUL");
  EXPECT_EQ(parse_error(one_server(R"({"url": "https://h/x", "headers": {"X": 1}})")),
            "cfg.json: $.mcpServers.s.headers.X: expected a string, got a number");
}

TEST(config_server, timeout_accepts_seconds_and_durations) {
  EXPECT_EQ(parse_one_server(R"({"command": "c", "timeout": 10})").timeout, 10s);
  EXPECT_EQ(parse_one_server(R"({"command": "c", "timeout": 1.5})").timeout, 1500ms);
  EXPECT_EQ(parse_one_server(R"({"command": "c", "timeout": "2m"})").timeout, 2min);
  EXPECT_EQ(parse_one_server(R"({"command": "c", "timeout": "250ms"})").timeout, 250ms);
  EXPECT_EQ(parse_one_server(R"({"command": "c", "timeout": "45"})").timeout, 45s);
  EXPECT_EQ(parse_one_server(R"({"command": "c", "timeout": "24h"})").timeout, 24h);
}

TEST(config_server, timeout_must_be_positive_and_bounded) {
  for (std::string_view v : {"0", "-1", "0.0", "\"0s\"", "-0.5"}) {
    auto msg = parse_error(one_server(R"({"command": "c", "timeout": )" + std::string(v) + "}"));
    EXPECT_TRUE(msg.starts_with("cfg.json: $.mcpServers.s.timeout: must be")) << v << " -> " << msg;
  }
  EXPECT_EQ(parse_error(one_server(R"({"command": "c", "timeout": "100us"})")),
            "cfg.json: $.mcpServers.s.timeout: must be at least 1ms");
  EXPECT_EQ(parse_error(one_server(R"({"command": "c", "timeout": 86401})")),
            "cfg.json: $.mcpServers.s.timeout: must be at most 24h");
  EXPECT_EQ(parse_error(one_server(R"({"command": "c", "timeout": "25h"})")),
            "cfg.json: $.mcpServers.s.timeout: must be at most 24h");
  EXPECT_EQ(parse_error(one_server(R"({"command": "c", "timeout": 1e400})")),
            "cfg.json: $.mcpServers.s.timeout: must be at most 24h");
}

TEST(config_server, timeout_garbage_and_wrong_types_are_errors) {
  EXPECT_EQ(parse_error(one_server(R"({"command": "c", "timeout": "soon"})")),
            "cfg.json: $.mcpServers.s.timeout: expected a duration such as \"30s\", \"1500ms\", "
            "\"2m\" or \"1m30s\", got \"soon\"");
  EXPECT_EQ(parse_error(one_server(R"({"command": "c", "timeout": true})")),
            "cfg.json: $.mcpServers.s.timeout: expected a number of seconds or a duration string, "
            "got a boolean");
}

TEST(config_server, session_mode_is_shared_or_per_client) {
  EXPECT_EQ(parse_one_server(R"({"command": "c", "sessionMode": "shared"})").mode,
            session_mode::shared);
  EXPECT_EQ(parse_one_server(R"({"command": "c", "sessionMode": "per-client"})").mode,
            session_mode::per_client);
  EXPECT_EQ(parse_error(one_server(R"({"command": "c", "sessionMode": "per_client"})")),
            "cfg.json: $.mcpServers.s.sessionMode: expected \"shared\" or \"per-client\", got "
            "\"per_client\"");
}

TEST(config_server, disabled_comes_from_the_key_or_from_options) {
  EXPECT_TRUE(parse_one_server(R"({"command": "c", "disabled": true})").disabled);
  EXPECT_TRUE(parse_one_server(R"({"command": "c", "options": {"disabled": true}})").disabled);
  EXPECT_FALSE(parse_one_server(R"({"command": "c", "disabled": false})").disabled);
  EXPECT_TRUE(
      parse_one_server(R"({"command": "c", "disabled": false, "options": {"disabled": true}})")
          .disabled);
  EXPECT_EQ(parse_error(one_server(R"({"command": "c", "disabled": "yes"})")),
            "cfg.json: $.mcpServers.s.disabled: expected a boolean, got a string");
}

TEST(config_server, all_servers_disabled_warns) {
  auto c = parse_ok(R"({"mcpServers": {"a": {"command": "c", "disabled": true}}})");
  ASSERT_EQ(c.servers.size(), 1u);
  EXPECT_TRUE(has_warning(c, "cfg.json: $.mcpServers: every server is disabled"))
      << all_warnings(c);
}

TEST(config_server, long_values_are_shortened_in_messages) {
  std::string mode(1000, 'z');
  auto msg = parse_error(one_server(R"({"command": "c", "sessionMode": ")" + mode + R"("})"));
  EXPECT_LT(msg.size(), 250u) << msg;
  EXPECT_NE(msg.find("\"..."), std::string::npos) << msg;
}

// --- ${VAR} expansion --------------------------------------------------------------------------

TEST(config_env, variables_expand_in_every_string_value) {
  scoped_env a("MCP_PROXY_CFG_TEST_A", "alpha");
  scoped_env port("MCP_PROXY_CFG_TEST_PORT", "7777");
  auto c = parse_ok(R"({
    "mcpProxy": {"addr": "127.0.0.1:${MCP_PROXY_CFG_TEST_PORT}", "name": "${MCP_PROXY_CFG_TEST_A}",
                 "allowedOrigins": ["https://${MCP_PROXY_CFG_TEST_A}.example"]},
    "mcpServers": {
      "s": {"command": "/bin/${MCP_PROXY_CFG_TEST_A}", "args": ["--x=${MCP_PROXY_CFG_TEST_A}"],
            "env": {"TOKEN": "${MCP_PROXY_CFG_TEST_A}"}, "cwd": "/tmp/${MCP_PROXY_CFG_TEST_A}"},
      "h": {"url": "https://h/${MCP_PROXY_CFG_TEST_A}/mcp",
            "headers": {"Authorization": "Bearer ${MCP_PROXY_CFG_TEST_A}"},
            "timeout": "${MCP_PROXY_CFG_TEST_PORT}ms"}}})");
  EXPECT_EQ(c.proxy.addr, "127.0.0.1:7777");
  EXPECT_EQ(c.proxy.name, "alpha");
  EXPECT_EQ(c.proxy.allowed_origins, (std::vector<std::string>{"https://alpha.example"}));
  ASSERT_EQ(c.servers.size(), 2u);
  EXPECT_EQ(c.servers[0].command, "/bin/alpha");
  EXPECT_EQ(c.servers[0].args, (std::vector<std::string>{"--x=alpha"}));
  EXPECT_EQ(c.servers[0].env.at("TOKEN"), "alpha");
  EXPECT_EQ(c.servers[0].cwd, "/tmp/alpha");
  EXPECT_EQ(c.servers[1].url, "https://h/alpha/mcp");
  EXPECT_EQ(c.servers[1].headers.at("Authorization"), "Bearer alpha");
  EXPECT_EQ(c.servers[1].timeout, 7777ms);
}

TEST(config_env, several_variables_and_text_combine) {
  scoped_env a("MCP_PROXY_CFG_TEST_A", "1");
  scoped_env b("MCP_PROXY_CFG_TEST_B", "2");
  auto s = parse_one_server(
      R"({"command": "c", "args": ["${MCP_PROXY_CFG_TEST_A}${MCP_PROXY_CFG_TEST_B}",
                                   "x${MCP_PROXY_CFG_TEST_A}y${MCP_PROXY_CFG_TEST_B}z"]})");
  EXPECT_EQ(s.args, (std::vector<std::string>{"12", "x1y2z"}));
}

TEST(config_env, only_the_braced_form_is_special) {
  scoped_env a("MCP_PROXY_CFG_TEST_A", "v");
  auto s = parse_one_server(R"({"command": "c", "args": ["$MCP_PROXY_CFG_TEST_A", "a$b", "$",
                                 "{MCP_PROXY_CFG_TEST_A}", "$${MCP_PROXY_CFG_TEST_A}", "100%"]})");
  EXPECT_EQ(s.args, (std::vector<std::string>{"$MCP_PROXY_CFG_TEST_A", "a$b", "$",
                                              "{MCP_PROXY_CFG_TEST_A}", "$v", "100%"}));
}

TEST(config_env, expanded_values_are_not_expanded_again) {
  scoped_env a("MCP_PROXY_CFG_TEST_A", "${MCP_PROXY_CFG_TEST_B}");
  scoped_env b("MCP_PROXY_CFG_TEST_B", nullptr);
  auto s = parse_one_server(R"({"command": "c", "args": ["${MCP_PROXY_CFG_TEST_A}"]})");
  EXPECT_EQ(s.args, (std::vector<std::string>{"${MCP_PROXY_CFG_TEST_B}"}));
}

TEST(config_env, empty_variable_expands_to_nothing) {
  scoped_env a("MCP_PROXY_CFG_TEST_A", "");
  auto s = parse_one_server(R"({"command": "c", "args": ["x${MCP_PROXY_CFG_TEST_A}y"]})");
  EXPECT_EQ(s.args, (std::vector<std::string>{"xy"}));
}

TEST(config_env, unset_variable_is_an_error_naming_path_and_variable) {
  scoped_env unset("MCP_PROXY_CFG_TEST_UNSET", nullptr);
  EXPECT_EQ(parse_error(one_server(R"({"command": "c", "args": ["${MCP_PROXY_CFG_TEST_UNSET}"]})")),
            "cfg.json: $.mcpServers.s.args[0]: environment variable MCP_PROXY_CFG_TEST_UNSET is "
            "not set");
  EXPECT_EQ(parse_error(R"({"mcpServers": {"gh": {"command": "c",
                            "env": {"GITHUB_TOKEN": "${MCP_PROXY_CFG_TEST_UNSET}"}}}})"),
            "cfg.json: $.mcpServers.gh.env.GITHUB_TOKEN: environment variable "
            "MCP_PROXY_CFG_TEST_UNSET is not set");
  EXPECT_EQ(
      parse_error(R"({"mcpProxy": {"options": {"authTokens": ["${MCP_PROXY_CFG_TEST_UNSET}"]}},
                            "mcpServers": {}})"),
      "cfg.json: $.mcpProxy.options.authTokens[0]: environment variable "
      "MCP_PROXY_CFG_TEST_UNSET is not set");
}

TEST(config_env, malformed_references_are_errors) {
  EXPECT_EQ(parse_error(one_server(R"({"command": "c", "args": ["${HOME"]})")),
            "cfg.json: $.mcpServers.s.args[0]: unterminated \"${\" (write ${NAME} to use an "
            "environment variable)");
  for (std::string_view ref : {"${}", "${1A}", "${A-B}", "${A:-x}", "${ A}"}) {
    auto msg =
        parse_error(one_server(R"({"command": "c", "args": [")" + std::string(ref) + R"("]})"));
    EXPECT_TRUE(msg.starts_with("cfg.json: $.mcpServers.s.args[0]: invalid variable reference"))
        << ref << " -> " << msg;
  }
}

TEST(config_env, keys_are_not_expanded) {
  scoped_env a("MCP_PROXY_CFG_TEST_A", "v");
  auto s = parse_one_server(R"({"command": "c", "env": {"${MCP_PROXY_CFG_TEST_A}": "x"}})");
  EXPECT_EQ(s.env.count("${MCP_PROXY_CFG_TEST_A}"), 1u);
}

// --- load_config_file --------------------------------------------------------------------------

// A file in the temp directory, removed at the end of the test.
class temp_file {
 public:
  explicit temp_file(std::string_view content) {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = (std::filesystem::temp_directory_path() /
             ("mcp_proxy_config_test_" + std::to_string(::getpid()) + "_" + info->name() + ".json"))
                .string();
    std::ofstream(path_, std::ios::binary) << content;
  }
  ~temp_file() {
    std::error_code ec;
    std::filesystem::remove(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(config_file, reads_and_parses_a_file_using_its_path_as_origin) {
  temp_file f(R"({"mcpServers": {"s": {"command": "c"}}, "x": 1})");
  auto r = load_config_file(f.path());
  ASSERT_TRUE(r.has_value()) << r.error().message;
  ASSERT_EQ(r->servers.size(), 1u);
  EXPECT_EQ(r->servers[0].command, "c");
  ASSERT_EQ(r->warnings.size(), 1u);
  EXPECT_EQ(r->warnings[0], f.path() + ": $.x: unknown key, ignored");
}

TEST(config_file, errors_are_prefixed_with_the_path) {
  temp_file f(R"({"mcpServers": {"s": {"command": 1}}})");
  auto r = load_config_file(f.path());
  ASSERT_TRUE(r.has_error());
  EXPECT_EQ(r.error().message,
            f.path() + ": $.mcpServers.s.command: expected a string, got a number");
}

TEST(config_file, missing_file_cannot_be_read) {
  auto r = load_config_file("/nonexistent/mcp-proxy/config.json");
  ASSERT_TRUE(r.has_error());
  EXPECT_EQ(r.error().message,
            "/nonexistent/mcp-proxy/config.json: cannot read: No such file or directory");
  ASSERT_EQ(r.error().errors.size(), 1u);
  EXPECT_EQ(r.error().errors[0].path, "");
  EXPECT_EQ(r.error().errors[0].message, "cannot read: No such file or directory");
}

TEST(config_file, directory_cannot_be_read) {
  auto dir = std::filesystem::temp_directory_path().string();
  auto r = load_config_file(dir);
  ASSERT_TRUE(r.has_error());
  EXPECT_EQ(r.error().message, dir + ": cannot read: Is a directory");
}

TEST(config_file, empty_file_is_invalid_json) {
  temp_file f("");
  auto r = load_config_file(f.path());
  ASSERT_TRUE(r.has_error());
  EXPECT_EQ(r.error().message,
            f.path() + ": line 1, column 1 (byte 0): invalid JSON: incomplete JSON");
}

// --- parse_duration ----------------------------------------------------------------------------

TEST(config_duration, go_style_durations_parse) {
  struct {
    std::string_view text;
    milliseconds expected;
  } cases[] = {
      {"30s", 30s},
      {"1500ms", 1500ms},
      {"2m", 2min},
      {"1h", 1h},
      {"1m30s", 90s},
      {"1h2m3s4ms", 1h + 2min + 3s + 4ms},
      {"1.5h", 90min},
      {".5s", 500ms},
      {"1.s", 1s},
      {"2000000us", 2s},
      {"2000000\u00b5s", 2s},
      {"3000000000ns", 3s},
      {"0s", 0ms},
      {"0.0015s", 2ms},
      {"30s30s", 60s},
      {"2562047h", 2562047h},
  };
  for (const auto& c : cases) {
    auto d = parse_duration(c.text);
    ASSERT_TRUE(d.has_value()) << c.text;
    EXPECT_EQ(*d, c.expected) << c.text;
  }
}

TEST(config_duration, bare_numbers_are_seconds) {
  EXPECT_EQ(parse_duration("30"), milliseconds(30s));
  EXPECT_EQ(parse_duration("1.5"), milliseconds(1500ms));
  EXPECT_EQ(parse_duration("0"), milliseconds(0ms));
  EXPECT_EQ(parse_duration("0.25"), milliseconds(250ms));
}

TEST(config_duration, garbage_negative_and_empty_are_rejected) {
  const std::string_view texts[] = {
      "",    " ",   "-1s", "+1s",  "-1",   "s",      "abc",   "1x",   "1 s",
      " 1s", "1s ", "1e3", "1e3s", "1m30", "1.2.3s", ".",     ".s",   "1..5s",
      "inf", "nan", "1S",  "1sec", "1min", "1d",     "0x10s", "1,5s", std::string_view("1s\0", 3)};
  for (std::string_view text : texts) {
    EXPECT_FALSE(parse_duration(text).has_value()) << text;
  }
}

TEST(config_duration, overflow_is_rejected) {
  EXPECT_FALSE(parse_duration("2562048h").has_value());
  EXPECT_FALSE(parse_duration("99999999999999999999999999999s").has_value());
  EXPECT_FALSE(parse_duration("9999999999999999999999").has_value());
  EXPECT_FALSE(parse_duration("2562047h2562047h").has_value());
  EXPECT_FALSE(parse_duration(std::string(400, '9') + "h").has_value());
}

// --- parse_listen_address ----------------------------------------------------------------------

TEST(config_listen_address, host_and_port_parse) {
  struct {
    std::string_view text;
    std::string_view host;
    std::uint16_t port;
  } cases[] = {
      {"127.0.0.1:9090", "127.0.0.1", 9090},
      {"0.0.0.0:80", "0.0.0.0", 80},
      {"localhost:0", "localhost", 0},
      {"LocalHost:65535", "localhost", 65535},
      {"[::1]:8080", "::1", 8080},
      {"[::]:1", "::", 1},
      {"[fe80::1%eth0]:80", "fe80::1%eth0", 80},
  };
  for (const auto& c : cases) {
    auto a = parse_listen_address(c.text);
    ASSERT_TRUE(a.has_value()) << c.text;
    EXPECT_EQ(a->host, c.host) << c.text;
    EXPECT_EQ(a->port, c.port) << c.text;
  }
}

TEST(config_listen_address, port_only_binds_loopback) {
  auto a = parse_listen_address(":9090");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 9090);
}

TEST(config_listen_address, malformed_addresses_are_rejected) {
  for (std::string_view text : {"",           "9090",           ":",
                                "host:",      ":65536",         ":100000",
                                ":-1",        ":+80",           ": 80",
                                "::1:8080",   "[::1]",          "[::1]8080",
                                "[::1]:",     "[]:80",          "[127.0.0.1]:80",
                                "[::1:80",    "a b:80",         "*:80",
                                "host:80:",   "http://h:80",    "h/x:80",
                                ":80x",       "example.com:80", "999.1.1.1:80",
                                "[zz::1]:80", "[fe80::1%]:80"}) {
    EXPECT_FALSE(parse_listen_address(text).has_value()) << text;
    EXPECT_TRUE(listen_address_problem(text).has_value()) << text;
  }
}

TEST(config_listen_address, problems_say_what_is_wrong) {
  EXPECT_EQ(listen_address_problem("127.0.0.1:9090"), std::nullopt);
  EXPECT_EQ(listen_address_problem("example.com:9090"),
            "host \"example.com\" is not an IP address or localhost (the proxy listens on an "
            "address: names other than localhost are not resolved)");
  EXPECT_EQ(listen_address_problem("127.0.0.1:99999"),
            "port must be a number from 0 to 65535, got \"99999\"");
  EXPECT_EQ(listen_address_problem("::1:80"),
            "an IPv6 address goes in brackets, as in \"[::1]:9090\", got \"::1:80\"");
  EXPECT_EQ(listen_address_problem("[zz]:80"), "\"[zz]\" is not an IPv6 address");
}

// Issue #15: an address the proxy cannot listen on is refused by the loader, naming the file
// and $.mcpProxy.addr (it used to pass and fail later without either).
TEST(config_proxy, an_addr_that_is_no_ip_address_names_the_file_and_path) {
  EXPECT_EQ(parse_error(R"({"mcpProxy": {"addr": "example.com:9090"}, "mcpServers": {}})"),
            "cfg.json: $.mcpProxy.addr: host \"example.com\" is not an IP address or localhost "
            "(the proxy listens on an address: names other than localhost are not resolved)");
  EXPECT_EQ(
      parse_error(R"({"mcpProxy": {"addr": "999.1.1.1:80"}, "mcpServers": {}})").substr(0, 33),
      "cfg.json: $.mcpProxy.addr: host \"");
}

TEST(config_proxy, addr_origin_names_the_file_for_listen_errors) {
  EXPECT_EQ(parse_ok(R"({"mcpServers": {}})").proxy.addr_origin, "cfg.json: $.mcpProxy.addr");
}

// --- duplicate keys (issue #15)
// -------------------------------------------------------------------

TEST(config_duplicates, a_server_name_given_twice_is_an_error) {
  auto e = parse_errors(R"({"mcpServers": {"fs": {"command": "a"}, "fs": {"command": "b"}}})");
  ASSERT_EQ(e.errors.size(), 1u) << e.message;
  EXPECT_EQ(e.message,
            "cfg.json: $.mcpServers.fs: duplicate server name \"fs\" in $.mcpServers: each "
            "server needs a name of its own");
}

TEST(config_duplicates, a_key_twice_anywhere_is_an_error_naming_key_and_path) {
  auto e = parse_errors(R"({"mcpProxy": {"addr": ":1", "addr": ":2"},
      "mcpServers": {"s": {"command": "a", "args": [{"x": 1, "x": 2}],
                           "env": {"A": "1", "B": "2", "A": "3"}}}})");
  // The duplicates first, then the values (args holds an object: one more error).
  ASSERT_EQ(e.errors.size(), 4u) << e.message;
  EXPECT_EQ(e.errors[0].path, "$.mcpProxy.addr");
  EXPECT_EQ(e.errors[0].message,
            "duplicate key \"addr\" in $.mcpProxy: a key may appear once in an object");
  EXPECT_EQ(e.errors[1].path, "$.mcpServers.s.args[0].x");
  EXPECT_EQ(e.errors[2].path, "$.mcpServers.s.env.A");
  EXPECT_EQ(e.errors[3].path, "$.mcpServers.s.args[0]");
}

TEST(config_duplicates, same_key_in_different_objects_is_fine) {
  auto c = parse_ok(R"({"mcpServers": {"a": {"command": "x", "env": {"K": "1"}},
                                       "b": {"command": "x", "env": {"K": "2"}}}})");
  EXPECT_EQ(c.servers.size(), 2u);
}

TEST(config_duplicates, keys_that_differ_only_by_escapes_are_the_same_key) {
  auto e = parse_errors(R"({"mcpServers": {"fs": {"command": "a"}, "f\u0073": {"command": "b"}}})");
  ASSERT_EQ(e.errors.size(), 1u) << e.message;
  EXPECT_EQ(e.errors[0].path, "$.mcpServers.fs");
}

// --- limits of issue #15 ------------------------------------------------------------------------

TEST(config_limits, defaults) {
  auto c = parse_ok(R"({"mcpServers": {}})");
  EXPECT_EQ(c.proxy.max_json_depth, 1024u);
  EXPECT_EQ(c.proxy.max_connections, 4096u);
  EXPECT_EQ(c.proxy.max_connections_per_peer, 1024u);
  EXPECT_EQ(c.proxy.header_timeout, 10s);
  EXPECT_EQ(c.proxy.max_header_bytes, 16384u);
  EXPECT_EQ(c.proxy.max_headers, 100u);
}

TEST(config_limits, keys_are_read) {
  auto c = parse_ok(R"({"mcpProxy": {"maxJsonDepth": 2048, "maxConnections": 10,
      "maxConnectionsPerPeer": 3, "headerTimeout": "2s", "maxHeaderBytes": 4096,
      "maxHeaders": 20}, "mcpServers": {}})");
  EXPECT_EQ(c.proxy.max_json_depth, 2048u);
  EXPECT_EQ(c.proxy.max_connections, 10u);
  EXPECT_EQ(c.proxy.max_connections_per_peer, 3u);
  EXPECT_EQ(c.proxy.header_timeout, 2s);
  EXPECT_EQ(c.proxy.max_header_bytes, 4096u);
  EXPECT_EQ(c.proxy.max_headers, 20u);
}

TEST(config_limits, out_of_range_values_are_errors) {
  EXPECT_EQ(parse_error(R"({"mcpProxy": {"maxJsonDepth": 10}, "mcpServers": {}})"),
            "cfg.json: $.mcpProxy.maxJsonDepth: must be from 32 to 4096 (levels of nesting), "
            "got 10");
  EXPECT_EQ(parse_error(R"({"mcpProxy": {"maxJsonDepth": 5000}, "mcpServers": {}})"),
            "cfg.json: $.mcpProxy.maxJsonDepth: must be from 32 to 4096 (levels of nesting), "
            "got 5000");
  EXPECT_EQ(parse_error(R"({"mcpProxy": {"maxHeaderBytes": 100}, "mcpServers": {}})"),
            "cfg.json: $.mcpProxy.maxHeaderBytes: must be at least 1024, got 100");
  EXPECT_EQ(parse_error(R"({"mcpProxy": {"maxConnections": 0}, "mcpServers": {}})"),
            "cfg.json: $.mcpProxy.maxConnections: expected a positive integer");
  EXPECT_EQ(parse_error(R"({"mcpProxy": {"headerTimeout": 0}, "mcpServers": {}})"),
            "cfg.json: $.mcpProxy.headerTimeout: must be greater than 0");
}

}  // namespace
}  // namespace mcp_proxy::config
