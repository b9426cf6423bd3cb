#include "auth/access.hpp"

#include "config/config.hpp"

#include <boost/json/parse.hpp>

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace mcp_proxy::auth {
namespace {

using config::access_config;
using config::access_rule;
using patterns = std::vector<std::string>;
using subject = access_rule::subject_kind;

access_rule rule_for(subject who, std::string value, std::string claim_path = {}) {
  access_rule r;
  r.subject = who;
  r.value = std::move(value);
  r.claim_path = std::move(claim_path);
  return r;
}

access_rule everyone() {
  return rule_for(subject::everyone, "");
}

access_policy policy_of(std::vector<access_rule> rules, bool default_allow = false) {
  access_config c;
  c.enabled = true;
  c.default_allow = default_allow;
  for (std::size_t i = 0; i < rules.size(); ++i)
    rules[i].path = "$.mcpProxy.access.rules[" + std::to_string(i) + "]";
  c.rules = std::move(rules);
  return access_policy(std::move(c));
}

identity static_token(std::string name) {
  identity id;
  id.from = identity::source::static_token;
  id.name = std::move(name);
  return id;
}

identity jwt(std::string_view claims_json) {
  identity id;
  id.from = identity::source::jwt;
  id.claims = boost::json::parse(claims_json).as_object();
  if (const auto* sub = id.claims.if_contains("sub"); sub && sub->is_string())
    id.name = std::string(sub->get_string());
  if (auto scopes = scope_set::from_claims(id.claims)) id.scopes = *scopes;
  return id;
}

// Whether `grant` allows tool `name` of server `server` (exposed as server__name).
bool tool(const access_grant& grant, std::string_view server, std::string_view name) {
  const auto exposed = std::string(server) + "__" + std::string(name);
  return grant.allows(item_kind::tool, server, name, exposed);
}

bool prompt(const access_grant& grant, std::string_view server, std::string_view name) {
  const auto exposed = std::string(server) + "__" + std::string(name);
  return grant.allows(item_kind::prompt, server, name, exposed);
}

bool resource(const access_grant& grant, std::string_view server, std::string_view uri) {
  return grant.allows(item_kind::resource, server, uri, uri);
}

// A rule for everyone allowing tools by `globs` (on exposed names).
access_rule allow_tools(patterns globs) {
  auto r = everyone();
  r.allow.tools = std::move(globs);
  return r;
}

TEST(access_policy, without_access_config_every_grant_is_unrestricted) {
  access_policy disabled;
  EXPECT_FALSE(disabled.enabled());
  const auto grant = disabled.grant_for(identity{});
  EXPECT_TRUE(grant.unrestricted());
  EXPECT_TRUE(tool(grant, "github", "delete_repo"));

  access_config off;  // enabled false, even with rules
  off.rules.push_back(rule_for(subject::token, "x"));
  access_policy also_disabled(off);
  EXPECT_FALSE(also_disabled.enabled());
  EXPECT_TRUE(also_disabled.grant_for(identity{}).unrestricted());
}

TEST(access_policy, an_identity_no_rule_matches_is_denied_by_default) {
  const auto policy = policy_of({rule_for(subject::token, "ci-bot")});
  EXPECT_TRUE(policy.enabled());
  const auto grant = policy.grant_for(static_token("someone-else"));
  EXPECT_FALSE(grant.unrestricted());
  EXPECT_FALSE(tool(grant, "github", "get_issue"));
  EXPECT_FALSE(prompt(grant, "github", "summarize"));
  EXPECT_FALSE(resource(grant, "fs", "file:///pub/a"));
  EXPECT_TRUE(grant.rule_paths().empty());
}

TEST(access_policy, default_allow_gives_an_unmatched_identity_everything) {
  const auto policy = policy_of({rule_for(subject::token, "ci-bot")}, /*default_allow=*/true);
  const auto grant = policy.grant_for(identity{});
  EXPECT_TRUE(grant.unrestricted());
  EXPECT_TRUE(tool(grant, "github", "delete_repo"));
}

TEST(access_policy, a_matching_rule_replaces_the_default_even_allow) {
  // A matched identity gets its rules only: what they do not allow is denied.
  auto r = rule_for(subject::token, "ci-bot");
  r.allow.tools = patterns{"github__get_*"};
  const auto policy = policy_of({r}, /*default_allow=*/true);
  const auto grant = policy.grant_for(static_token("ci-bot"));
  EXPECT_TRUE(tool(grant, "github", "get_issue"));
  EXPECT_FALSE(tool(grant, "github", "delete_repo"));
}

TEST(access_policy, token_rule_matches_only_a_static_token_of_that_name) {
  const auto policy = policy_of({rule_for(subject::token, "ci-bot")});
  EXPECT_TRUE(tool(policy.grant_for(static_token("ci-bot")), "s", "t"));
  EXPECT_FALSE(tool(policy.grant_for(static_token("ci-bot2")), "s", "t"));
  // A JWT whose sub is spelt like the token's name is not that token.
  EXPECT_FALSE(tool(policy.grant_for(jwt(R"({"sub": "ci-bot"})")), "s", "t"));
  auto introspected = static_token("ci-bot");
  introspected.from = identity::source::introspection;
  EXPECT_FALSE(tool(policy.grant_for(introspected), "s", "t"));
}

TEST(access_policy, sub_rule_matches_the_sub_claim) {
  const auto policy = policy_of({rule_for(subject::sub, "alice")});
  EXPECT_TRUE(tool(policy.grant_for(jwt(R"({"sub": "alice"})")), "s", "t"));
  EXPECT_FALSE(tool(policy.grant_for(jwt(R"({"sub": "alice2"})")), "s", "t"));
  EXPECT_FALSE(tool(policy.grant_for(jwt(R"({"sub": ["alice"]})")), "s", "t"));
  EXPECT_FALSE(tool(policy.grant_for(jwt(R"({"name": "alice"})")), "s", "t"));
  // A static token named alice has no claims.
  EXPECT_FALSE(tool(policy.grant_for(static_token("alice")), "s", "t"));
}

TEST(access_policy, group_rule_matches_a_groups_string_or_an_array_holding_it) {
  const auto policy = policy_of({rule_for(subject::group, "admins")});
  EXPECT_TRUE(tool(policy.grant_for(jwt(R"({"groups": "admins"})")), "s", "t"));
  EXPECT_TRUE(tool(policy.grant_for(jwt(R"({"groups": ["dev", "admins"]})")), "s", "t"));
  EXPECT_FALSE(tool(policy.grant_for(jwt(R"({"groups": ["dev", "admin"]})")), "s", "t"));
  EXPECT_FALSE(tool(policy.grant_for(jwt(R"({"groups": {"admins": true}})")), "s", "t"));
  EXPECT_FALSE(tool(policy.grant_for(jwt(R"({"group": "admins"})")), "s", "t"));
}

TEST(access_policy, scope_rule_matches_a_granted_scope) {
  const auto policy = policy_of({rule_for(subject::scope, "mcp:admin")});
  EXPECT_TRUE(tool(policy.grant_for(jwt(R"({"scope": "mcp:read mcp:admin"})")), "s", "t"));
  EXPECT_TRUE(tool(policy.grant_for(jwt(R"({"scp": ["mcp:admin"]})")), "s", "t"));
  EXPECT_FALSE(tool(policy.grant_for(jwt(R"({"scope": "mcp:read mcp:administrator"})")), "s", "t"));
}

TEST(access_policy, claim_rule_follows_a_dotted_path_through_objects) {
  const auto policy = policy_of({rule_for(subject::claim, "ops", "realm_access.roles")});
  EXPECT_TRUE(
      tool(policy.grant_for(jwt(R"({"realm_access": {"roles": ["dev", "ops"]}})")), "s", "t"));
  EXPECT_TRUE(tool(policy.grant_for(jwt(R"({"realm_access": {"roles": "ops"}})")), "s", "t"));
  EXPECT_FALSE(tool(policy.grant_for(jwt(R"({"realm_access": {"roles": ["dev"]}})")), "s", "t"));
  // Only objects are walked, and only strings compare.
  EXPECT_FALSE(tool(policy.grant_for(jwt(R"({"realm_access": [{"roles": ["ops"]}]})")), "s", "t"));
  EXPECT_FALSE(tool(policy.grant_for(jwt(R"({"roles": ["ops"]})")), "s", "t"));
  const auto number = policy_of({rule_for(subject::claim, "1", "level")});
  EXPECT_FALSE(tool(number.grant_for(jwt(R"({"level": 1})")), "s", "t"));
}

TEST(access_policy, claim_rule_finds_a_key_that_has_dots_whole) {
  // Auth0 namespaces custom claims with a URL.
  const auto policy = policy_of({rule_for(subject::claim, "ops", "https://example.com/roles")});
  EXPECT_TRUE(tool(policy.grant_for(jwt(R"({"https://example.com/roles": ["ops"]})")), "s", "t"));
  const auto nested = policy_of({rule_for(subject::claim, "ops", "app.https://example.com/roles")});
  EXPECT_TRUE(
      tool(nested.grant_for(jwt(R"({"app": {"https://example.com/roles": "ops"}})")), "s", "t"));
  EXPECT_TRUE(
      tool(nested.grant_for(jwt(R"({"app.https://example": {"com/roles": "ops"}})")), "s", "t"));
}

TEST(access_policy, everyone_rule_matches_anonymous_callers_too) {
  const auto policy = policy_of({allow_tools({"*__read_*"})});
  const auto grant = policy.grant_for(identity{});
  EXPECT_FALSE(grant.unrestricted());
  EXPECT_TRUE(tool(grant, "fs", "read_file"));
  EXPECT_FALSE(tool(grant, "fs", "write_file"));
  // allow names tools only: every prompt and resource is allowed.
  EXPECT_TRUE(prompt(grant, "fs", "anything"));
  EXPECT_TRUE(resource(grant, "fs", "file:///etc/passwd"));
}

TEST(access_policy, a_rule_without_allow_or_deny_is_unrestricted) {
  const auto policy = policy_of({rule_for(subject::group, "admins")});
  const auto grant = policy.grant_for(jwt(R"({"groups": ["admins"]})"));
  EXPECT_TRUE(grant.unrestricted());
  EXPECT_TRUE(tool(grant, "github", "delete_repo"));
}

TEST(access_policy, patterns_without_servers_are_on_exposed_names) {
  const auto policy = policy_of({allow_tools({"github__*", "fetch__fetch"})});
  const auto grant = policy.grant_for(identity{});
  EXPECT_TRUE(tool(grant, "github", "create_issue"));
  EXPECT_TRUE(tool(grant, "fetch", "fetch"));
  EXPECT_FALSE(tool(grant, "fetch", "fetch_raw"));
  // The exposed name decides, not the server's own name nor the server.
  EXPECT_FALSE(grant.allows(item_kind::tool, "github", "create_issue", "gh__create_issue"));
  EXPECT_TRUE(grant.allows(item_kind::tool, "other", "x", "github__x"));
}

TEST(access_policy, patterns_with_servers_are_on_own_names_of_those_servers_only) {
  auto r = rule_for(subject::token, "ci-bot");
  r.servers = {"git*"};
  r.allow.tools = patterns{"create_*", "get_*"};
  const auto grant = policy_of({r}).grant_for(static_token("ci-bot"));
  EXPECT_FALSE(grant.unrestricted());
  EXPECT_TRUE(grant.allows(item_kind::tool, "github", "create_issue", "gh__create_issue"));
  EXPECT_TRUE(grant.allows(item_kind::tool, "gitlab", "get_mr", "gitlab__get_mr"));
  EXPECT_FALSE(grant.allows(item_kind::tool, "github", "delete_repo", "create_x"));
  // The rule is about no item of another server: nothing allows it.
  EXPECT_FALSE(grant.allows(item_kind::tool, "fetch", "get_page", "fetch__get_page"));
  EXPECT_FALSE(resource(grant, "fetch", "https://example.com/"));
  // Kinds the rule leaves out are allowed on its servers.
  EXPECT_TRUE(prompt(grant, "github", "summarize"));
}

TEST(access_policy, a_deny_wins_over_an_allow) {
  auto bot = rule_for(subject::token, "ci-bot");
  bot.servers = {"github"};
  bot.allow.tools = patterns{"*"};
  bot.deny.tools = patterns{"delete_*"};
  const auto grant = policy_of({bot}).grant_for(static_token("ci-bot"));
  EXPECT_FALSE(grant.unrestricted());
  EXPECT_TRUE(tool(grant, "github", "create_issue"));
  EXPECT_FALSE(tool(grant, "github", "delete_repo"));
}

TEST(access_policy, a_deny_of_one_rule_wins_over_the_allow_of_another) {
  auto admins = rule_for(subject::group, "admins");  // everything
  auto no_deletes = everyone();
  no_deletes.deny.tools = patterns{"*__delete_*"};
  const auto policy = policy_of({admins, no_deletes});
  const auto grant = policy.grant_for(jwt(R"({"groups": "admins"})"));
  EXPECT_FALSE(grant.unrestricted());
  EXPECT_TRUE(tool(grant, "github", "create_issue"));
  EXPECT_FALSE(tool(grant, "github", "delete_repo"));
  // The deny names tools: the rest stays allowed.
  EXPECT_TRUE(prompt(grant, "github", "delete_prompt"));
}

TEST(access_policy, a_deny_leaving_a_kind_out_denies_none_of_it) {
  auto r = everyone();
  r.deny.prompts = patterns{"*"};
  const auto grant = policy_of({r}).grant_for(identity{});
  EXPECT_FALSE(grant.unrestricted());
  EXPECT_FALSE(prompt(grant, "s", "p"));
  EXPECT_TRUE(tool(grant, "s", "t"));
  EXPECT_TRUE(resource(grant, "s", "file:///x"));
}

TEST(access_policy, an_empty_deny_list_denies_nothing_and_keeps_the_grant_unrestricted) {
  auto r = everyone();
  r.deny.tools = patterns{};
  const auto grant = policy_of({r}).grant_for(identity{});
  EXPECT_TRUE(grant.unrestricted());
}

TEST(access_policy, an_empty_allow_list_allows_nothing_of_that_kind) {
  auto alice = rule_for(subject::sub, "alice");
  alice.allow.tools = patterns{"github__*"};
  alice.allow.prompts = patterns{};
  alice.allow.resources = patterns{"file:///pub/*"};
  const auto grant = policy_of({alice}).grant_for(jwt(R"({"sub": "alice"})"));
  EXPECT_TRUE(tool(grant, "github", "get_issue"));
  EXPECT_FALSE(prompt(grant, "github", "summarize"));
  EXPECT_TRUE(resource(grant, "fs", "file:///pub/readme.md"));
  EXPECT_FALSE(resource(grant, "fs", "file:///etc/passwd"));
  // Resource patterns apply to template strings too: the caller passes the template.
  EXPECT_TRUE(resource(grant, "fs", "file:///pub/{path}"));
}

TEST(access_policy, matching_rules_allow_the_union_of_what_each_allows) {
  auto alice = rule_for(subject::sub, "alice");
  alice.allow.tools = patterns{"github__*"};
  auto readers = allow_tools({"*__read_*"});
  const auto grant = policy_of({alice, readers}).grant_for(jwt(R"({"sub": "alice"})"));
  EXPECT_TRUE(tool(grant, "github", "create_issue"));
  EXPECT_TRUE(tool(grant, "fs", "read_file"));
  EXPECT_FALSE(tool(grant, "fs", "write_file"));
  EXPECT_EQ(grant.rule_paths(), (std::vector<std::string_view>{"$.mcpProxy.access.rules[0]",
                                                               "$.mcpProxy.access.rules[1]"}));
}

TEST(access_policy, a_rule_for_everyone_that_lists_every_kind_leaves_others_narrow) {
  auto alice = rule_for(subject::sub, "alice");
  alice.allow.tools = patterns{"github__*"};
  alice.allow.prompts = patterns{};
  alice.allow.resources = patterns{"file:///pub/*"};
  auto readers = allow_tools({"*__read_*"});
  readers.allow.prompts = patterns{};
  readers.allow.resources = patterns{};
  const auto grant = policy_of({alice, readers}).grant_for(jwt(R"({"sub": "alice"})"));
  EXPECT_TRUE(tool(grant, "fs", "read_file"));
  EXPECT_FALSE(prompt(grant, "github", "summarize"));
  EXPECT_TRUE(resource(grant, "fs", "file:///pub/a"));
  EXPECT_FALSE(resource(grant, "fs", "file:///home/alice/a"));
}

TEST(access_policy, rules_for_other_identities_do_not_count) {
  auto admins = rule_for(subject::group, "admins");
  auto readers = allow_tools({"*__read_*"});
  const auto grant = policy_of({admins, readers}).grant_for(jwt(R"({"sub": "bob"})"));
  EXPECT_FALSE(grant.unrestricted());
  EXPECT_FALSE(tool(grant, "fs", "write_file"));
  EXPECT_EQ(grant.rule_paths(), (std::vector<std::string_view>{"$.mcpProxy.access.rules[1]"}));
}

TEST(access_policy, servers_star_with_no_allow_is_unrestricted) {
  auto r = everyone();
  r.servers = {"*"};
  EXPECT_TRUE(policy_of({r}).grant_for(identity{}).unrestricted());
  r.servers = {"git*"};
  EXPECT_FALSE(policy_of({r}).grant_for(identity{}).unrestricted());
}

TEST(access_policy, a_grant_outlives_its_policy) {
  std::optional<access_policy> policy = policy_of({allow_tools({"fs__read_*"})});
  const auto grant = policy->grant_for(identity{});
  const auto copy = grant;
  policy.reset();
  EXPECT_TRUE(tool(copy, "fs", "read_file"));
  EXPECT_FALSE(tool(copy, "fs", "write_file"));
  EXPECT_EQ(copy.rule_paths().size(), 1u);
}

TEST(access_grant, a_default_grant_allows_nothing_and_everything_allows_all) {
  const access_grant nothing;
  EXPECT_FALSE(nothing.unrestricted());
  EXPECT_FALSE(tool(nothing, "s", "t"));
  const auto all = access_grant::everything();
  EXPECT_TRUE(all.unrestricted());
  EXPECT_TRUE(resource(all, "s", "file:///x"));
}

// The example of docs/security.md, read from a config file, decides as the text says.
TEST(access_policy, the_documented_example_decides_as_documented) {
  const auto parsed = config::parse_config(R"({
    "mcpProxy": {
      "options": {"authTokens": [{"name": "ci-bot", "token": "t0k3n"}]},
      "oauth": {"issuer": "https://as.example.com", "jwksUri": "https://as.example.com/jwks"},
      "access": {
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
        ]
      }
    },
    "mcpServers": {"github": {"command": "gh"}, "fetch": {"command": "fetch"},
                   "fs": {"command": "fs"}}
  })",
                                           "proxy.json");
  ASSERT_TRUE(parsed.has_value()) << parsed.error().message;
  const access_policy policy(parsed->proxy.access);

  const auto bot = policy.grant_for(static_token("ci-bot"));
  EXPECT_TRUE(tool(bot, "github", "create_issue"));
  EXPECT_FALSE(tool(bot, "github", "delete_repo"));
  EXPECT_TRUE(tool(bot, "fs", "read_file"));  // the "*" rule
  EXPECT_FALSE(tool(bot, "fetch", "fetch"));

  EXPECT_TRUE(policy.grant_for(jwt(R"({"sub": "x", "groups": ["admins"]})")).unrestricted());
  EXPECT_TRUE(policy.grant_for(jwt(R"({"sub": "x", "scope": "mcp:admin"})")).unrestricted());

  const auto alice = policy.grant_for(jwt(R"({"sub": "alice"})"));
  EXPECT_TRUE(tool(alice, "fetch", "fetch"));
  EXPECT_TRUE(tool(alice, "fs", "read_file"));  // the "*" rule
  EXPECT_FALSE(tool(alice, "fs", "write_file"));
  // Her own rule allows no prompt and only /pub, but the "*" rule matches her too and names
  // tools only: it allows every prompt and resource. Rules add up; only a deny takes away.
  EXPECT_TRUE(prompt(alice, "github", "summarize"));
  EXPECT_TRUE(resource(alice, "fs", "file:///home/alice/a.txt"));

  const auto ops = policy.grant_for(jwt(R"({"realm_access": {"roles": ["ops"]}})"));
  EXPECT_TRUE(tool(ops, "github", "delete_repo"));
  EXPECT_TRUE(prompt(ops, "github", "summarize"));

  const auto anonymous = policy.grant_for(identity{});
  EXPECT_TRUE(tool(anonymous, "github", "read_file"));
  EXPECT_FALSE(tool(anonymous, "github", "create_issue"));
}

}  // namespace
}  // namespace mcp_proxy::auth
