// The shapes of config a user brings (issue #17 item 5): JSONC, TBXark's older V1 format, a
// Claude Desktop file, TBXark's -expand-env, and logEnabled/panicIfInvalid inheritance.

#include "config/config.hpp"
#include "config_test_support.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

namespace mcp_proxy::config {
namespace {

using namespace std::chrono_literals;
using test_support::error_paths;
using test_support::parse_ok;
using test_support::scoped_env;

constexpr std::string_view origin = "cfg.json";

config_error parse_error(std::string_view text, load_options options = {}) {
  auto r = parse_config(text, origin, options);
  EXPECT_TRUE(r.has_error()) << text << "\n-> parsed";
  if (!r.has_error()) return {};
  return r.error();
}

const server_config* find_server(const config& c, std::string_view name) {
  for (const auto& s : c.servers)
    if (s.name == name) return &s;
  return nullptr;
}

bool has_warning(const config& c, std::string_view text) {
  for (const auto& w : c.warnings)
    if (w.find(text) != std::string::npos) return true;
  return false;
}

// --- JSONC ---------------------------------------------------------------------------------------

TEST(config_jsonc, comments_and_trailing_commas_are_accepted) {
  auto c = parse_ok(R"(// TBXark's docs write their examples so
{
  "mcpProxy": {"addr": ":1", /* inline */ "name": "P",},
  "mcpServers": {
    "a": {"command": "cat", "args": ["x", "y",],}, // trailing
  },
}
/* the end */)");
  EXPECT_EQ(c.proxy.addr, ":1");
  EXPECT_EQ(c.proxy.name, "P");
  ASSERT_EQ(c.servers.size(), 1u);
  EXPECT_EQ(c.servers[0].args, (std::vector<std::string>{"x", "y"}));
}

TEST(config_jsonc, a_syntax_error_after_comments_points_at_its_line_and_column) {
  const auto e = parse_error("{\n  // one\n  /* two\n     lines */\n  \"mcpServers\": {,}\n}");
  ASSERT_EQ(e.errors.size(), 1u);
  EXPECT_EQ(e.errors[0].path, "line 5, column 18 (byte 51)") << e.message;
}

TEST(config_jsonc, a_broken_comment_where_a_value_may_start_has_its_true_position) {
  // Boost.JSON 1.81 counts these past the end of the text (found by fuzz/config_load).
  struct sample {
    std::string_view text, where;
  };
  for (const auto& [text, where] : {
           sample{"/;", "line 1, column 2 (byte 1)"},
           sample{" /;", "line 1, column 3 (byte 2)"},
           sample{"{\"a\":/;}", "line 1, column 7 (byte 6)"},
           sample{"//x", "line 1, column 4 (byte 3)"},
           sample{"/;\377\370[", "line 1, column 2 (byte 1)"},
       }) {
    const auto e = parse_error(text);
    ASSERT_EQ(e.errors.size(), 1u) << text;
    EXPECT_EQ(e.errors[0].path, where) << text;
  }
}

TEST(config_jsonc, a_key_twice_is_still_found_with_comments_about) {
  const auto e = parse_error(R"({"mcpServers": {"a": {"command": "x"}, // first
                                 "a": {"command": "y"},}})");
  EXPECT_NE(e.message.find("duplicate server name \"a\""), std::string::npos) << e.message;
}

TEST(config_jsonc, comment_markers_inside_strings_are_text) {
  auto c = parse_ok(R"({"mcpServers": {"a": {"command": "cat", "args": ["//x", "/*y*/"]}}})");
  ASSERT_EQ(c.servers.size(), 1u);
  EXPECT_EQ(c.servers[0].args, (std::vector<std::string>{"//x", "/*y*/"}));
}

// --- every error at once, with suggestions -------------------------------------------------------

TEST(config_all_errors, errors_of_several_servers_and_sections_come_together_with_suggestions) {
  const auto e = parse_error(R"({
    "mcpProxy": {"addr": "nowhere", "fanOutTimout": "1s", "options": {"logEnabled": "yes"}},
    "mcpServers": {
      "a": {"comand": "x"},
      "b": {"command": 3, "timeout": -1},
      "c": {"url": "ftp://x", "transportType": "websocket"}
    }})");
  // Every problem, in file order, each with its path.
  EXPECT_EQ(error_paths(e), (std::vector<std::string>{
                                "$.mcpProxy.addr",
                                "$.mcpProxy.options.logEnabled",
                                "$.mcpServers.a",
                                "$.mcpServers.b.command",
                                "$.mcpServers.b.timeout",
                                "$.mcpServers.c.transportType",
                                "$.mcpServers.c.url",
                            }))
      << e.message;
  // The misspelt keys are named with what they most likely mean.
  std::string warnings;
  for (const auto& w : e.warnings) warnings += w + "\n";
  EXPECT_NE(warnings.find("$.mcpProxy.fanOutTimout: unknown key, ignored; did you mean "
                          "\"fanOutTimeout\"?"),
            std::string::npos)
      << warnings;
  EXPECT_NE(warnings.find("$.mcpServers.a.comand: unknown key, ignored; did you mean "
                          "\"command\"?"),
            std::string::npos)
      << warnings;
}

// --- logEnabled and panicIfInvalid ---------------------------------------------------------------

TEST(config_tbxark_flags, off_by_default) {
  auto c = parse_ok(R"({"mcpServers": {"a": {"command": "x"}}})");
  ASSERT_EQ(c.servers.size(), 1u);
  EXPECT_FALSE(c.servers[0].log_enabled);
  EXPECT_FALSE(c.servers[0].panic_if_invalid);
}

TEST(config_tbxark_flags, inherited_from_mcp_proxy_options_wherever_it_is_written) {
  // mcpProxy after mcpServers: the default still reaches every server.
  auto c = parse_ok(R"({
    "mcpServers": {
      "a": {"command": "x"},
      "b": {"command": "x", "options": {"logEnabled": false}},
      "c": {"command": "x", "options": {"panicIfInvalid": false, "authTokens": []}}
    },
    "mcpProxy": {"options": {"logEnabled": true, "panicIfInvalid": true}}})");
  const auto *a = find_server(c, "a"), *b = find_server(c, "b"), *s = find_server(c, "c");
  ASSERT_TRUE(a && b && s);
  EXPECT_TRUE(a->log_enabled);
  EXPECT_TRUE(a->panic_if_invalid);
  EXPECT_FALSE(b->log_enabled);
  EXPECT_TRUE(b->panic_if_invalid);
  EXPECT_TRUE(s->log_enabled);
  EXPECT_FALSE(s->panic_if_invalid);
}

TEST(config_tbxark_flags, a_wrong_type_is_an_error_and_gives_no_default) {
  const auto e = parse_error(R"({"mcpProxy": {"options": {"panicIfInvalid": "yes"}},
                                 "mcpServers": {"a": {"command": "x",
                                                      "options": {"logEnabled": 1}}}})");
  ASSERT_EQ(e.errors.size(), 2u) << e.message;
  EXPECT_EQ(e.errors[0].path, "$.mcpProxy.options.panicIfInvalid");
  EXPECT_EQ(e.errors[1].path, "$.mcpServers.a.options.logEnabled");
}

// --- TBXark's V1 format --------------------------------------------------------------------------

constexpr std::string_view v1_example = R"({
  "server": {
    "baseURL": "https://mcp.example.com",
    "addr": "127.0.0.1:9191",
    "name": "V1 Proxy",
    "version": "1.0.0",
    "globalAuthTokens": ["global"]
  },
  "clients": {
    "fetch": {
      "type": "stdio",
      "config": {"command": "uvx", "args": ["mcp-server-fetch"], "env": {"K": "v"}},
      "panicIfInvalid": true,
      "logEnabled": true,
      "authTokens": ["own"]
    },
    "amap": {"type": "sse", "config": {"url": "https://mcp.amap.com/mcp?key=k",
                                       "headers": {"X-A": "b"}}},
    "stream": {"type": "streamable-http",
               "config": {"url": "https://s.example.com/mcp", "timeout": 5}}
  }
})";

TEST(config_v1, the_older_format_loads_as_tbxark_adapts_it) {
  auto c = parse_ok(v1_example);
  EXPECT_EQ(c.proxy.base_url, "https://mcp.example.com");
  EXPECT_EQ(c.proxy.addr, "127.0.0.1:9191");
  EXPECT_EQ(c.proxy.addr_origin, "cfg.json: $.server.addr");
  EXPECT_EQ(c.proxy.name, "V1 Proxy");
  EXPECT_EQ(c.proxy.version, "1.0.0");
  // globalAuthTokens are mcpProxy.options.authTokens (the merged endpoint's).
  EXPECT_EQ(c.proxy.auth_tokens, (std::vector<auth_token>{{"", "global"}}));
  ASSERT_EQ(c.servers.size(), 3u);

  const auto* fetch = find_server(c, "fetch");
  ASSERT_TRUE(fetch);
  EXPECT_EQ(fetch->transport, transport_type::stdio);
  EXPECT_EQ(fetch->command, "uvx");
  EXPECT_EQ(fetch->args, (std::vector<std::string>{"mcp-server-fetch"}));
  EXPECT_EQ(fetch->env.at("K"), "v");
  // A client's tokens, then the global ones (TBXark appends them).
  EXPECT_EQ(fetch->auth_tokens, (std::vector<auth_token>{{"", "own"}, {"", "global"}}));
  EXPECT_TRUE(fetch->panic_if_invalid);
  EXPECT_TRUE(fetch->log_enabled);

  const auto* amap = find_server(c, "amap");
  ASSERT_TRUE(amap);
  // "sse" is the legacy transport even where the path does not end in /sse.
  EXPECT_EQ(amap->transport, transport_type::sse);
  EXPECT_FALSE(amap->detect_transport);
  EXPECT_EQ(amap->headers.at("X-A"), "b");
  EXPECT_EQ(amap->auth_tokens, (std::vector<auth_token>{{"", "global"}}));
  EXPECT_FALSE(amap->log_enabled);

  const auto* stream = find_server(c, "stream");
  ASSERT_TRUE(stream);
  EXPECT_EQ(stream->transport, transport_type::streamable_http);
  EXPECT_EQ(stream->timeout, 5s);
  EXPECT_FALSE(has_warning(c, "unknown key"));
}

TEST(config_v1, clients_without_any_token_need_none) {
  auto c = parse_ok(R"({"clients": {"a": {"type": "stdio", "config": {"command": "x"}}}})");
  ASSERT_EQ(c.servers.size(), 1u);
  EXPECT_TRUE(c.servers[0].auth_tokens.empty());
  EXPECT_EQ(c.proxy.addr, "127.0.0.1:9090");
}

TEST(config_v1, the_new_keys_win_over_the_old_ones) {
  auto c = parse_ok(R"({
    "server": {"addr": "127.0.0.1:1", "name": "old"},
    "clients": {"old": {"type": "stdio", "config": {"command": "x"}}},
    "mcpProxy": {"name": "new"},
    "mcpServers": {"new": {"command": "y"}}})");
  EXPECT_EQ(c.proxy.name, "new");
  EXPECT_EQ(c.proxy.addr, "127.0.0.1:9090");
  ASSERT_EQ(c.servers.size(), 1u);
  EXPECT_EQ(c.servers[0].name, "new");
  EXPECT_TRUE(has_warning(c, "cfg.json: $.server: ignored"));
  EXPECT_TRUE(has_warning(c, "cfg.json: $.clients: ignored"));
}

TEST(config_v1, an_empty_mcp_servers_lets_the_clients_in) {
  for (std::string_view text : {
           R"({"mcpServers": {}, "clients": {"a": {"type": "stdio", "config": {"command": "x"}}}})",
           R"({"clients": {"a": {"type": "stdio", "config": {"command": "x"}}}, "mcpServers": {}})",
       }) {
    auto c = parse_ok(text);
    ASSERT_EQ(c.servers.size(), 1u) << text;
    EXPECT_EQ(c.servers[0].name, "a");
    EXPECT_FALSE(has_warning(c, "no servers configured")) << text;
  }
}

TEST(config_v1, mistakes_are_errors_naming_their_path) {
  // TBXark drops such a client without a word; here it is an error.
  const auto e = parse_error(R"({"clients": {
    "a": {"type": "websocket", "config": {"url": "https://x"}},
    "b": {"type": "stdio"},
    "c": {"config": {"command": "x"}},
    "d": {"type": "sse", "config": {"command": "x"}},
    "e": {"type": "stdio", "config": {"command": 1}}}})");
  EXPECT_EQ(error_paths(e), (std::vector<std::string>{
                                "$.clients.a.type",
                                "$.clients.b",
                                "$.clients.c",
                                "$.clients.d.type",
                                "$.clients.e.config.command",
                            }))
      << e.message;
  EXPECT_NE(e.message.find("$.clients.d.type: sse needs a \"url\""), std::string::npos)
      << e.message;
}

// --- Claude Desktop ------------------------------------------------------------------------------

TEST(config_claude_desktop, a_claude_desktop_config_loads_as_it_is) {
  // claude_desktop_config.json: only mcpServers, stdio entries with command, args and env, and
  // remote entries with Claude's "type".
  auto c = parse_ok(R"({
  "mcpServers": {
    "filesystem": {
      "command": "npx",
      "args": ["-y", "@modelcontextprotocol/server-filesystem", "/Users/me/Desktop"]
    },
    "github": {
      "command": "docker",
      "args": ["run", "-i", "--rm", "-e", "GITHUB_PERSONAL_ACCESS_TOKEN", "ghcr.io/github/github-mcp-server"],
      "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": "<token>"}
    },
    "remote": {"type": "http", "url": "https://mcp.example.com/mcp"}
  }
})");
  ASSERT_EQ(c.servers.size(), 3u);
  EXPECT_EQ(c.servers[0].command, "npx");
  EXPECT_EQ(c.servers[1].env.at("GITHUB_PERSONAL_ACCESS_TOKEN"), "<token>");
  EXPECT_EQ(c.servers[2].transport, transport_type::streamable_http);
  EXPECT_TRUE(c.warnings.empty());
  EXPECT_EQ(c.proxy.addr, "127.0.0.1:9090");
}

// --- environment variables -----------------------------------------------------------------------

TEST(config_expand_env, go_rules_on_the_whole_text) {
  scoped_env a("CFG_FMT_A", "alpha");
  scoped_env b("CFG_FMT_B", nullptr);
  EXPECT_EQ(expand_env_like_go("$CFG_FMT_A ${CFG_FMT_A}x $CFG_FMT_Ax"), "alpha alphax ");
  EXPECT_EQ(expand_env_like_go("[$CFG_FMT_B]"), "[]");                 // unset: empty
  EXPECT_EQ(expand_env_like_go("a$ $ b$"), "a$ $ b$");                 // no name: kept
  EXPECT_EQ(expand_env_like_go("x${}y ${CFG_FMT_A"), "xy CFG_FMT_A");  // dropped
  EXPECT_EQ(expand_env_like_go("100$%"), "100$%");
  scoped_env one("1", "one");
  EXPECT_EQ(expand_env_like_go("$1 ${1} $12"), "one one one2");  // one-character names
}

TEST(config_expand_env, whole_text_expansion_works_before_parsing_and_unset_is_empty) {
  scoped_env port("CFG_FMT_PORT", "9393");
  scoped_env unset("CFG_FMT_UNSET", nullptr);
  load_options tbxark{env_expansion::whole_text};
  auto c = parse_ok(R"({"mcpProxy": {"addr": "127.0.0.1:$CFG_FMT_PORT",
                                      "name": "n${CFG_FMT_UNSET}"},
                        "mcpServers": {"a": {"command": "x", "args": ["$CFG_FMT_PORT"]}}})",
                    tbxark);
  EXPECT_EQ(c.proxy.addr, "127.0.0.1:9393");
  EXPECT_EQ(c.proxy.name, "n");
  ASSERT_EQ(c.servers.size(), 1u);
  EXPECT_EQ(c.servers[0].args, (std::vector<std::string>{"9393"}));
}

TEST(config_expand_env, a_value_that_breaks_the_json_is_reported_as_tbxark_would_fail) {
  scoped_env quote("CFG_FMT_QUOTE", "a\"b");
  const auto e = parse_error(R"({"mcpServers": {"a": {"command": "$CFG_FMT_QUOTE"}}})",
                             load_options{env_expansion::whole_text});
  EXPECT_NE(e.message.find("invalid JSON"), std::string::npos) << e.message;
}

TEST(config_expand_env, none_keeps_every_dollar) {
  scoped_env port("CFG_FMT_PORT", "9393");
  auto c = parse_ok(R"({"mcpServers": {"a": {"command": "x", "args": ["${CFG_FMT_PORT}", "$X"]}}})",
                    load_options{env_expansion::none});
  ASSERT_EQ(c.servers.size(), 1u);
  EXPECT_EQ(c.servers[0].args, (std::vector<std::string>{"${CFG_FMT_PORT}", "$X"}));
}

TEST(config_expand_env, the_default_expands_braced_references_in_values_only) {
  scoped_env port("CFG_FMT_PORT", "9393");
  auto c =
      parse_ok(R"({"mcpServers": {"a": {"command": "x", "args": ["${CFG_FMT_PORT}", "$X"]}}})");
  ASSERT_EQ(c.servers.size(), 1u);
  EXPECT_EQ(c.servers[0].args, (std::vector<std::string>{"9393", "$X"}));
}

TEST(config_expand_env, whole_text_expansion_also_expands_the_file_path) {
  const auto dir = std::filesystem::temp_directory_path() / "config_formats_test";
  std::filesystem::create_directories(dir);
  const auto file = dir / "p.json";
  std::ofstream(file) << R"({"mcpServers": {}})";
  scoped_env where("CFG_FMT_DIR", dir.c_str());
  EXPECT_TRUE(load_config_file("$CFG_FMT_DIR/p.json", load_options{env_expansion::whole_text}));
  EXPECT_FALSE(load_config_file("$CFG_FMT_DIR/p.json"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace mcp_proxy::config
