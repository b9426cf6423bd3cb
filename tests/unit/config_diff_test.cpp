// config::plan_reload: what a reload starts, stops, hands over, and what it leaves for a restart.

#include "config/config_diff.hpp"

#include <gtest/gtest.h>

#include <string>

namespace mcp_proxy::config {
namespace {

config parsed(const std::string& text) {
  auto r = parse_config(text, "test.json");
  EXPECT_TRUE(r) << (r ? "" : r.error().message);
  return r ? *r : config{};
}

const char* base = R"({
  "mcpProxy": {"options": {"authTokens": ["t1"]}, "groups": {"dev": {"servers": ["a"]}}},
  "mcpServers": {"a": {"command": "x"}, "b": {"command": "y"}}
})";

TEST(plan_reload, same_config_is_no_change) {
  auto plan = plan_reload(parsed(base), parsed(base));
  EXPECT_TRUE(plan.empty());
  EXPECT_EQ(plan.summary(), "no change");
}

TEST(plan_reload, servers_added_removed_and_changed_are_named) {
  auto next = parsed(R"({
    "mcpProxy": {"options": {"authTokens": ["t1"]}, "groups": {"dev": {"servers": ["a"]}}},
    "mcpServers": {"a": {"command": "x", "args": ["--v"]}, "c": {"command": "z"}}
  })");
  auto plan = plan_reload(parsed(base), next);
  EXPECT_EQ(plan.servers_added, std::vector<std::string>{"c"});
  EXPECT_EQ(plan.servers_removed, std::vector<std::string>{"b"});
  EXPECT_EQ(plan.servers_changed, std::vector<std::string>{"a"});
  // Both merged endpoints hold a, which is a new endpoint now: both take it in place.
  EXPECT_EQ(plan.merged_changed, (std::vector<std::string>{"", "dev"}));
  EXPECT_TRUE(plan.merged_added.empty());
  EXPECT_TRUE(plan.needs_restart.empty());
}

TEST(plan_reload, a_disabled_server_is_removed) {
  auto next = parsed(R"({
    "mcpProxy": {"options": {"authTokens": ["t1"]}, "groups": {"dev": {"servers": ["a"]}}},
    "mcpServers": {"a": {"command": "x"}, "b": {"command": "y", "options": {"disabled": true}}}
  })");
  auto plan = plan_reload(parsed(base), next);
  EXPECT_EQ(plan.servers_removed, std::vector<std::string>{"b"});
  EXPECT_EQ(plan.merged_changed, std::vector<std::string>{""});  // dev never held b
}

TEST(plan_reload, a_token_change_is_the_listeners_and_restarts_no_backend) {
  auto next = parsed(R"({
    "mcpProxy": {"options": {"authTokens": ["t2"]}, "groups": {"dev": {"servers": ["a"]}}},
    "mcpServers": {"a": {"command": "x"}, "b": {"command": "y"}}
  })");
  auto plan = plan_reload(parsed(base), next);
  EXPECT_TRUE(plan.security_changed);
  EXPECT_TRUE(plan.servers_changed.empty());
  EXPECT_TRUE(plan.merged_changed.empty());
}

TEST(plan_reload, groups_added_and_removed) {
  auto next = parsed(R"({
    "mcpProxy": {"options": {"authTokens": ["t1"]}, "aggregate": false,
                 "groups": {"ops": {"servers": ["b"]}}},
    "mcpServers": {"a": {"command": "x"}, "b": {"command": "y"}}
  })");
  auto plan = plan_reload(parsed(base), next);
  EXPECT_EQ(plan.merged_added, std::vector<std::string>{"ops"});
  EXPECT_EQ(plan.merged_removed, (std::vector<std::string>{"", "dev"}));
}

TEST(plan_reload, settings_read_at_start_are_named_for_a_restart) {
  auto next = parsed(R"({
    "mcpProxy": {"addr": "127.0.0.1:9999", "toolNameSeparator": "_",
                 "options": {"authTokens": ["t1"]}, "groups": {"dev": {"servers": ["a"]}}},
    "mcpServers": {"a": {"command": "x"}, "b": {"command": "y"}}
  })");
  auto plan = plan_reload(parsed(base), next);
  EXPECT_EQ(plan.needs_restart, (std::vector<std::string>{"addr", "toolNameSeparator"}));
  EXPECT_NE(plan.summary().find("needs a restart: addr, toolNameSeparator"), std::string::npos);
}

TEST(plan_reload, limits_and_audit_log_are_taken_at_once) {
  auto next = parsed(R"({
    "mcpProxy": {"options": {"authTokens": ["t1"]}, "groups": {"dev": {"servers": ["a"]}},
                 "limits": {"requestsPerSecond": 5}, "auditLog": "stderr"},
    "mcpServers": {"a": {"command": "x"}, "b": {"command": "y"}}
  })");
  auto plan = plan_reload(parsed(base), next);
  EXPECT_TRUE(plan.limits_changed);
  EXPECT_TRUE(plan.audit_log_changed);
  EXPECT_TRUE(plan.needs_restart.empty());
}

}  // namespace
}  // namespace mcp_proxy::config
