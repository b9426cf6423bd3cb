// mcpProxy.access as the config reader reads and checks it (the evaluator: access_test.cpp).

#include "config/config.hpp"

#include <gtest/gtest.h>

#include <unistd.h>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

namespace mcp_proxy::config {
namespace {

using subject = access_rule::subject_kind;
using patterns = std::vector<std::string>;

constexpr std::string_view oauth_keys =
    R"("oauth": {"issuer": "https://as.example.com", "jwksUri": "https://as.example.com/jwks"})";

// A document with `access` as mcpProxy.access, mcpProxy.oauth set, the given options, and servers
// github, fetch and fs.
std::string with_access(std::string_view access, std::string_view options = "{}") {
  return R"({"mcpProxy": {)" + std::string(oauth_keys) + R"(, "options": )" + std::string(options) +
         R"(, "access": )" + std::string(access) +
         R"(}, "mcpServers": {"github": {"command": "gh"}, "fetch": {"command": "fetch"},
            "fs": {"command": "fs"}}})";
}

// The rules of `access` (a document made by with_access); fails the test on an error.
config parse_ok(const std::string& text) {
  auto r = parse_config(text, "proxy.json");
  EXPECT_TRUE(r.has_value()) << text << "\n-> " << (r.has_error() ? r.error().message : "");
  if (!r.has_value()) return {};
  return *r;
}

config_error parse_error(const std::string& text) {
  auto r = parse_config(text, "proxy.json");
  EXPECT_TRUE(r.has_error()) << text << "\n-> parsed";
  if (!r.has_error()) return {};
  return r.error();
}

// Whether the errors hold exactly one at `path`, with `text` in its message.
::testing::AssertionResult has_error(const config_error& e, std::string_view path,
                                     std::string_view text) {
  for (const auto& p : e.errors)
    if (p.path == path && p.message.find(text) != std::string::npos)
      return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "no error at " << path << " with \"" << text << "\" in:\n"
                                       << e.message;
}

std::string all_warnings(const std::vector<std::string>& warnings) {
  std::string out;
  for (const auto& w : warnings) out += w + "\n";
  return out;
}

::testing::AssertionResult has_warning(const std::vector<std::string>& warnings,
                                       std::string_view text) {
  if (std::any_of(warnings.begin(), warnings.end(),
                  [&](const std::string& w) { return w.find(text) != std::string::npos; }))
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "no warning with \"" << text << "\" in:\n"
                                       << all_warnings(warnings);
}

// The first error of `access` (one rule or a whole object) in a document made by with_access.
config_error access_error(std::string_view access) {
  return parse_error(with_access(access));
}

std::string rules_of(std::string_view one_rule) {
  return R"({"rules": [)" + std::string(one_rule) + "]}";
}

TEST(config_access, the_documented_example_is_read_rule_by_rule) {
  const auto c = parse_ok(with_access(R"({
    "default": "deny",
    "rules": [
      {"identity": {"token": "ci-bot"}, "servers": ["github"],
       "allow": {"tools": ["create_*", "get_*"]}, "deny": {"tools": ["delete_*"]}},
      {"identity": {"group": "admins"}},
      {"identity": {"sub": "alice"},
       "allow": {"tools": ["github__*", "fetch__fetch"], "prompts": [],
                 "resources": ["file:///pub/*"]}},
      {"identity": {"claim": "realm_access.roles", "value": "ops"}, "allow": {"tools": ["*"]}},
      {"identity": {"scope": "mcp:admin"}},
      {"identity": "*", "allow": {"tools": ["*__read_*"]}}
    ]})",
                                      R"({"authTokens": [{"name": "ci-bot", "token": "t0k3n"}]})"));
  EXPECT_TRUE(c.warnings.empty()) << all_warnings(c.warnings);
  const auto& a = c.proxy.access;
  EXPECT_TRUE(a.enabled);
  EXPECT_FALSE(a.default_allow);
  ASSERT_EQ(a.rules.size(), 6u);

  const auto& bot = a.rules[0];
  EXPECT_EQ(bot.subject, subject::token);
  EXPECT_EQ(bot.value, "ci-bot");
  EXPECT_EQ(bot.servers, patterns{"github"});
  EXPECT_EQ(bot.allow.tools, (patterns{"create_*", "get_*"}));
  EXPECT_FALSE(bot.allow.prompts);
  EXPECT_FALSE(bot.allow.resources);
  EXPECT_EQ(bot.deny.tools, patterns{"delete_*"});
  EXPECT_EQ(bot.path, "$.mcpProxy.access.rules[0]");

  EXPECT_EQ(a.rules[1].subject, subject::group);
  EXPECT_EQ(a.rules[1].value, "admins");
  EXPECT_FALSE(a.rules[1].allow.tools);
  EXPECT_TRUE(a.rules[1].servers.empty());

  const auto& alice = a.rules[2];
  EXPECT_EQ(alice.subject, subject::sub);
  EXPECT_EQ(alice.value, "alice");
  ASSERT_TRUE(alice.allow.prompts);
  EXPECT_TRUE(alice.allow.prompts->empty());  // present and empty: no prompt
  EXPECT_EQ(alice.allow.resources, patterns{"file:///pub/*"});

  EXPECT_EQ(a.rules[3].subject, subject::claim);
  EXPECT_EQ(a.rules[3].claim_path, "realm_access.roles");
  EXPECT_EQ(a.rules[3].value, "ops");
  EXPECT_EQ(a.rules[4].subject, subject::scope);
  EXPECT_EQ(a.rules[4].value, "mcp:admin");
  EXPECT_EQ(a.rules[5].subject, subject::everyone);
  EXPECT_EQ(a.rules[5].path, "$.mcpProxy.access.rules[5]");
}

TEST(config_access, without_the_key_access_is_disabled) {
  const auto c = parse_ok(R"({"mcpServers": {"s": {"command": "x"}}})");
  EXPECT_FALSE(c.proxy.access.enabled);
}

TEST(config_access, default_is_deny_and_may_be_allow) {
  const auto deny = parse_ok(with_access(R"({"rules": [{"identity": "*"}]})"));
  EXPECT_TRUE(deny.proxy.access.enabled);
  EXPECT_FALSE(deny.proxy.access.default_allow);
  const auto allow = parse_ok(with_access(R"({"default": "allow", "rules": [{"identity": "*"}]})"));
  EXPECT_TRUE(allow.proxy.access.default_allow);
}

TEST(config_access, no_rules_is_a_warning_that_says_what_it_means) {
  const auto deny = parse_ok(with_access("{}"));
  EXPECT_TRUE(deny.proxy.access.enabled);
  EXPECT_TRUE(has_warning(deny.warnings,
                          "proxy.json: $.mcpProxy.access: no rules: every client is refused"));
  const auto allow = parse_ok(with_access(R"({"default": "allow", "rules": []})"));
  EXPECT_TRUE(has_warning(allow.warnings, "every client may use everything"));
}

TEST(config_access, malformed_top_level_values_name_their_path) {
  EXPECT_TRUE(has_error(access_error("[]"), "$.mcpProxy.access", "expected an object, got"));
  EXPECT_TRUE(has_error(access_error(R"({"default": "Deny"})"), "$.mcpProxy.access.default",
                        R"(expected "allow" or "deny", got "Deny")"));
  EXPECT_TRUE(has_error(access_error(R"({"default": false})"), "$.mcpProxy.access.default",
                        "expected a string, got a boolean"));
  EXPECT_TRUE(has_error(access_error(R"({"rules": {}})"), "$.mcpProxy.access.rules",
                        "expected an array of rules, got an object"));
  EXPECT_TRUE(has_error(access_error(R"({"rules": ["*"]})"), "$.mcpProxy.access.rules[0]",
                        "expected an object, got a string"));
  EXPECT_TRUE(has_error(access_error(R"({"rules": [{"servers": ["fs"]}]})"),
                        "$.mcpProxy.access.rules[0]", R"(missing required key "identity")"));
}

TEST(config_access, malformed_identities_name_their_path) {
  const std::string at = "$.mcpProxy.access.rules[0].identity";
  EXPECT_TRUE(has_error(access_error(rules_of(R"({"identity": "alice"})")), at,
                        R"(expected "*" or an object with one of)"));
  EXPECT_TRUE(has_error(access_error(rules_of(R"({"identity": 7})")), at,
                        R"(expected "*" or an object with one of "token")"));
  EXPECT_TRUE(has_error(access_error(rules_of(R"({"identity": {}})")), at,
                        R"(expected one of "token", "sub", "group", "scope", or "claim")"));
  EXPECT_TRUE(has_error(access_error(rules_of(R"({"identity": {"sub": "a", "group": "b"}})")), at,
                        R"(names "sub" and "group": a rule is for one identity)"));
  EXPECT_TRUE(has_error(access_error(rules_of(R"({"identity": {"claim": "roles"}})")), at,
                        R"(missing required key "value")"));
  EXPECT_TRUE(has_error(access_error(rules_of(R"({"identity": {"sub": "alice", "value": "x"}})")),
                        at + ".value", R"("value" goes with "claim" only)"));
  EXPECT_TRUE(has_error(access_error(rules_of(R"({"identity": {"token": ""}})")), at + ".token",
                        "must not be empty"));
  EXPECT_TRUE(has_error(access_error(rules_of(R"({"identity": {"group": ["admins"]}})")),
                        at + ".group", "expected a string, got an array"));
  EXPECT_TRUE(has_error(access_error(rules_of(R"({"identity": {"claim": "roles", "value": ""}})")),
                        at + ".value", "must not be empty"));
  EXPECT_TRUE(has_error(access_error(rules_of(R"({"identity": {"scope": "mcp:read mcp:write"}})")),
                        at + ".scope", "a scope is printable ASCII without space"));
  EXPECT_TRUE(
      has_error(access_error(rules_of(R"({"identity": {"claim": "realm..roles", "value": "x"}})")),
                at + ".claim", R"(expected claim names joined by dots)"));
  EXPECT_TRUE(
      has_error(access_error(rules_of(R"({"identity": {"claim": ".roles", "value": "x"}})")),
                at + ".claim", "joined by dots"));
}

TEST(config_access, malformed_servers_and_patterns_name_their_path) {
  const std::string at = "$.mcpProxy.access.rules[0]";
  EXPECT_TRUE(has_error(access_error(rules_of(R"({"identity": "*", "servers": "github"})")),
                        at + ".servers", "expected an array of strings, got a string"));
  EXPECT_TRUE(has_error(access_error(rules_of(R"({"identity": "*", "servers": []})")),
                        at + ".servers", R"(must not be empty (leave "servers" out)"));
  EXPECT_TRUE(has_error(access_error(rules_of(R"({"identity": "*", "servers": ["fs", 3]})")),
                        at + ".servers[1]", "expected a string, got a number"));
  EXPECT_TRUE(has_error(access_error(rules_of(R"({"identity": "*", "allow": ["x"]})")),
                        at + ".allow", "expected an object, got an array"));
  EXPECT_TRUE(has_error(access_error(rules_of(R"({"identity": "*", "deny": {"tools": "x"}})")),
                        at + ".deny.tools", "expected an array of strings, got a string"));
  EXPECT_TRUE(
      has_error(access_error(rules_of(R"({"identity": "*", "allow": {"prompts": [null]}})")),
                at + ".allow.prompts[0]", "expected a string, got null"));
  EXPECT_TRUE(
      has_error(access_error(rules_of(R"({"identity": "*", "allow": {"resources": [""]}})")),
                at + ".allow.resources[0]", "a pattern must not be empty"));
}

TEST(config_access, every_problem_of_the_access_object_is_reported_in_one_run) {
  const auto e = access_error(R"({"default": 1, "rules": [
      {"identity": {"sub": ""}},
      {"identity": "*", "servers": []},
      {"identity": "*", "allow": {"tools": [1]}, "deny": {"prompts": 2}},
      {"allow": {}}]})");
  EXPECT_EQ(e.errors.size(), 6u) << e.message;
  EXPECT_TRUE(has_error(e, "$.mcpProxy.access.default", "expected a string"));
  EXPECT_TRUE(has_error(e, "$.mcpProxy.access.rules[0].identity.sub", "must not be empty"));
  EXPECT_TRUE(has_error(e, "$.mcpProxy.access.rules[1].servers", "must not be empty"));
  EXPECT_TRUE(has_error(e, "$.mcpProxy.access.rules[2].allow.tools[0]", "expected a string"));
  EXPECT_TRUE(has_error(e, "$.mcpProxy.access.rules[2].deny.prompts", "expected an array"));
  EXPECT_TRUE(has_error(e, "$.mcpProxy.access.rules[3]", R"(missing required key "identity")"));
}

TEST(config_access, unknown_keys_warn_with_the_closest_known_one) {
  const auto c = parse_ok(with_access(R"({"defualt": "deny", "rules": [
      {"identity": {"grup": "x", "group": "admins"}, "alow": {}, "deny": {"tool": ["a"]}}]})"));
  EXPECT_TRUE(has_warning(c.warnings,
                          R"(proxy.json: $.mcpProxy.access.defualt: unknown key, ignored; did you )"
                          R"(mean "default"?)"));
  EXPECT_TRUE(has_warning(c.warnings,
                          R"($.mcpProxy.access.rules[0].identity.grup: unknown key, ignored; did )"
                          R"(you mean "group"?)"));
  EXPECT_TRUE(has_warning(c.warnings, R"($.mcpProxy.access.rules[0].alow: unknown key, ignored; )"
                                      R"(did you mean "allow"?)"));
  EXPECT_TRUE(has_warning(c.warnings,
                          R"($.mcpProxy.access.rules[0].deny.tool: unknown key, ignored; did )"
                          R"(you mean "tools"?)"));
  const auto rule = c.proxy.access.rules.at(0);
  EXPECT_EQ(rule.subject, subject::group);
  EXPECT_FALSE(rule.deny.tools);
}

TEST(config_access, server_patterns_that_match_no_server_are_warnings) {
  const auto c = parse_ok(with_access(
      rules_of(R"({"identity": "*", "servers": ["gihub", "git*", "nothing-*", "f?tch"]})")));
  EXPECT_TRUE(has_warning(c.warnings,
                          R"(proxy.json: $.mcpProxy.access.rules[0].servers[0]: matches no server )"
                          R"(in mcpServers; did you mean "github"?)"));
  EXPECT_TRUE(has_warning(
      c.warnings,
      R"(proxy.json: $.mcpProxy.access.rules[0].servers[2]: matches no server in mcpServers)"));
  EXPECT_FALSE(has_warning(c.warnings, "servers[1]"));
  EXPECT_FALSE(has_warning(c.warnings, "servers[3]"));
  // A disabled server is still configured.
  const auto disabled = parse_ok(
      R"({"mcpProxy": {"access": {"rules": [{"identity": "*", "servers": ["off"]}]}},
          "mcpServers": {"on": {"command": "x"},
                         "off": {"command": "y", "options": {"disabled": true}}}})");
  EXPECT_FALSE(has_warning(disabled.warnings, "matches no server"))
      << all_warnings(disabled.warnings);
}

TEST(config_access, token_rules_that_name_no_configured_token_are_warnings) {
  const auto c = parse_ok(with_access(
      R"({"rules": [{"identity": {"token": "ci-bot"}}, {"identity": {"token": "release"}},
                    {"identity": {"token": "nobody"}}]})",
      R"({"authTokens": ["unnamed-token", {"name": "ci-bot", "token": "t0k3n"}]})"));
  EXPECT_FALSE(has_warning(c.warnings, "rules[0]"));
  EXPECT_TRUE(has_warning(c.warnings,
                          R"(proxy.json: $.mcpProxy.access.rules[1].identity.token: no static )"
                          R"(token is named "release")"));
  EXPECT_TRUE(has_warning(c.warnings, R"($.mcpProxy.access.rules[2].identity.token: no static )"
                                      R"(token is named "nobody")"));
}

TEST(config_access, token_names_come_from_servers_and_token_files_too) {
  const auto file = std::filesystem::temp_directory_path() /
                    ("config_access_tokens_" + std::to_string(::getpid()));
  {
    std::ofstream out(file);
    out << "# tokens\nops:0pst0k3n\n";
  }
  std::filesystem::permissions(
      file, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  const auto c = parse_ok(R"({"mcpProxy": {"options": {"authTokensFile": ")" + file.string() +
                          R"("}, "access": {"rules": [{"identity": {"token": "ops"}},
                                   {"identity": {"token": "release"}}]}},
          "mcpServers": {"github": {"command": "gh", "options": {"authTokens": [
                            {"name": "release", "token": "r3l3as3"}]}}}})");
  std::filesystem::remove(file);
  EXPECT_FALSE(has_warning(c.warnings, "no static token")) << all_warnings(c.warnings);
}

TEST(config_access, claim_rules_without_oauth_are_warnings) {
  const auto c = parse_ok(
      R"({"mcpProxy": {"access": {"rules": [{"identity": {"sub": "alice"}},
                                             {"identity": {"claim": "a.b", "value": "c"}},
                                             {"identity": "*"}]}},
          "mcpServers": {"s": {"command": "x"}}})");
  EXPECT_TRUE(has_warning(
      c.warnings, R"(proxy.json: $.mcpProxy.access.rules[0].identity.sub: only OAuth )"
                  R"(access tokens carry claims and scopes, and mcpProxy.oauth is not set)"));
  EXPECT_TRUE(has_warning(c.warnings, "$.mcpProxy.access.rules[1].identity.claim: only OAuth"));
  EXPECT_FALSE(has_warning(c.warnings, "rules[2]"));
}

TEST(config_access, a_refused_config_still_reports_the_errors_elsewhere) {
  // An access error does not hide a server's, and vice versa.
  const auto e = parse_error(
      R"({"mcpProxy": {"access": {"default": "maybe"}},
          "mcpServers": {"s": {"command": 1}}})");
  EXPECT_TRUE(has_error(e, "$.mcpProxy.access.default", "expected \"allow\" or \"deny\""));
  EXPECT_TRUE(has_error(e, "$.mcpServers.s.command", "expected a string"));
}

}  // namespace
}  // namespace mcp_proxy::config
