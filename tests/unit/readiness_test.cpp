// GET /readyz's decision and body (protocol/readiness.hpp), and mcpProxy.readiness as the config
// reader reads and checks it.

#include "protocol/readiness.hpp"
#include "config/config.hpp"
#include "util/utc_timestamp.hpp"

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace mcp_proxy {
namespace {

namespace json = boost::json;
using protocol::backend_state;
using protocol::backend_status;
using protocol::readiness_rule;

backend_status backend(std::string name, backend_state state) {
  backend_status b;
  b.name = std::move(name);
  b.state = state;
  b.transport = "stdio";
  return b;
}

readiness_rule named(std::vector<std::string> servers) {
  return readiness_rule{readiness_rule::kind::servers, std::move(servers)};
}

const readiness_rule all{};
const readiness_rule any{readiness_rule::kind::any, {}};

TEST(readiness, all_needs_every_enabled_backend_ready) {
  std::vector<backend_status> b{backend("a", backend_state::ready),
                                backend("b", backend_state::ready),
                                backend("off", backend_state::disabled)};
  EXPECT_TRUE(protocol::is_ready(b, all));
  for (auto s : {backend_state::starting, backend_state::degraded, backend_state::backing_off,
                 backend_state::stopped}) {
    b[1].state = s;
    EXPECT_FALSE(protocol::is_ready(b, all)) << protocol::state_name(s);
  }
}

TEST(readiness, any_needs_one_ready_backend) {
  std::vector<backend_status> b{backend("a", backend_state::backing_off),
                                backend("b", backend_state::starting)};
  EXPECT_FALSE(protocol::is_ready(b, any));
  b[1].state = backend_state::ready;
  EXPECT_TRUE(protocol::is_ready(b, any));
}

TEST(readiness, named_servers_alone_decide) {
  std::vector<backend_status> b{backend("a", backend_state::ready),
                                backend("b", backend_state::backing_off)};
  EXPECT_TRUE(protocol::is_ready(b, named({"a"})));
  EXPECT_FALSE(protocol::is_ready(b, named({"a", "b"})));
  EXPECT_FALSE(protocol::is_ready(b, named({"missing"})));
}

TEST(readiness, no_enabled_backend_is_ready_for_all_but_not_for_any) {
  std::vector<backend_status> b{backend("off", backend_state::disabled)};
  EXPECT_TRUE(protocol::is_ready(b, all));
  EXPECT_FALSE(protocol::is_ready(b, any));
  EXPECT_TRUE(protocol::is_ready({}, all));
  EXPECT_FALSE(protocol::is_ready({}, any));
}

TEST(readiness, body_lists_every_backend_with_its_fields) {
  auto up = backend("up", backend_state::ready);
  up.since = std::chrono::system_clock::time_point(std::chrono::milliseconds(1764945077123));
  up.backend_era = protocol::era::modern;
  up.transport = "streamable-http";
  auto down = backend("down", backend_state::backing_off);
  down.last_error = "backend down exited with code 1";
  down.restarts = 3;
  down.backend_era = protocol::era::legacy;
  auto off = backend("off", backend_state::disabled);
  std::vector<backend_status> b{up, down, off};
  auto a = protocol::answer_readiness(b, all);
  EXPECT_FALSE(a.ready);
  auto body = json::parse(a.body).as_object();
  EXPECT_EQ(body.at("ready"), false);
  EXPECT_EQ(body.at("rule"), "all");
  const auto& backends = body.at("backends").as_object();
  ASSERT_EQ(backends.size(), 3u);
  const auto& u = backends.at("up").as_object();
  EXPECT_EQ(u.at("state"), "ready");
  EXPECT_EQ(u.at("since"), "2025-12-05T14:31:17.123Z");
  EXPECT_TRUE(u.at("lastError").is_null());
  EXPECT_EQ(u.at("restarts"), 0);
  EXPECT_EQ(u.at("era"), "2026-07-28");
  EXPECT_EQ(u.at("transport"), "streamable-http");
  const auto& d = backends.at("down").as_object();
  EXPECT_EQ(d.at("state"), "backing-off");
  EXPECT_EQ(d.at("lastError"), "backend down exited with code 1");
  EXPECT_EQ(d.at("restarts"), 3);
  EXPECT_EQ(d.at("era"), "2025-11-25");
  const auto& o = backends.at("off").as_object();
  EXPECT_EQ(o.at("state"), "disabled");
  EXPECT_TRUE(o.at("era").is_null());
}

TEST(readiness, rule_is_named_in_the_body) {
  std::vector<backend_status> b{backend("a", backend_state::ready)};
  EXPECT_EQ(json::parse(protocol::answer_readiness(b, any).body).at("rule"), "any");
  auto a = protocol::answer_readiness(b, named({"a", "b"}));
  EXPECT_FALSE(a.ready);
  EXPECT_EQ(json::parse(a.body).at("rule"), "servers:a,b");
}

TEST(readiness, every_state_has_its_issue_name) {
  EXPECT_EQ(protocol::state_name(backend_state::starting), "starting");
  EXPECT_EQ(protocol::state_name(backend_state::ready), "ready");
  EXPECT_EQ(protocol::state_name(backend_state::degraded), "degraded");
  EXPECT_EQ(protocol::state_name(backend_state::backing_off), "backing-off");
  EXPECT_EQ(protocol::state_name(backend_state::stopped), "stopped");
  EXPECT_EQ(protocol::state_name(backend_state::disabled), "disabled");
}

TEST(readiness, timestamps_are_utc_with_milliseconds_and_z) {
  EXPECT_EQ(util::utc_timestamp(std::chrono::system_clock::time_point{}),
            "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(util::utc_timestamp(
                std::chrono::system_clock::time_point(std::chrono::milliseconds(951782400005))),
            "2000-02-29T00:00:00.005Z");
}

// --- mcpProxy.readiness --------------------------------------------------------------------------

std::string with_readiness(std::string_view readiness) {
  return R"({"mcpProxy": {"readiness": )" + std::string(readiness) +
         R"(}, "mcpServers": {"a": {"command": "a"}, "b": {"command": "b"},
            "off": {"url": "http://127.0.0.1:1/mcp", "options": {"disabled": true}}}})";
}

TEST(config_readiness, default_is_all_and_disabled_servers_are_listed) {
  auto r = config::parse_config(
      R"({"mcpServers": {"a": {"command": "a"},
          "off": {"url": "http://127.0.0.1:1/sse", "options": {"disabled": true}}}})",
      "proxy.json");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->proxy.readiness.rule.rule, readiness_rule::kind::all);
  ASSERT_EQ(r->proxy.readiness.disabled.size(), 1u);
  const auto& off = r->proxy.readiness.disabled[0];
  EXPECT_EQ(off.name, "off");
  EXPECT_EQ(off.state, backend_state::disabled);
  EXPECT_EQ(off.transport, "sse");
}

TEST(config_readiness, reads_all_any_and_servers) {
  auto all_rule = config::parse_config(with_readiness(R"("all")"), "proxy.json");
  ASSERT_TRUE(all_rule.has_value()) << all_rule.error().message;
  EXPECT_EQ(all_rule->proxy.readiness.rule.rule, readiness_rule::kind::all);
  auto any_rule = config::parse_config(with_readiness(R"("any")"), "proxy.json");
  ASSERT_TRUE(any_rule.has_value()) << any_rule.error().message;
  EXPECT_EQ(any_rule->proxy.readiness.rule.rule, readiness_rule::kind::any);
  auto servers = config::parse_config(with_readiness(R"({"servers": ["b", "a"]})"), "proxy.json");
  ASSERT_TRUE(servers.has_value()) << servers.error().message;
  EXPECT_EQ(servers->proxy.readiness.rule.rule, readiness_rule::kind::servers);
  EXPECT_EQ(servers->proxy.readiness.rule.servers, (std::vector<std::string>{"b", "a"}));
}

TEST(config_readiness, refuses_bad_values_with_their_paths) {
  struct bad_case {
    std::string_view readiness;
    std::string_view error;
  };
  for (const auto& c : std::vector<bad_case>{
           {R"("some")", "$.mcpProxy.readiness: expected \"all\", \"any\" or {\"servers\""},
           {"true", "$.mcpProxy.readiness: expected \"all\", \"any\" or an object"},
           {R"({})", "$.mcpProxy.readiness: missing required key \"servers\""},
           {R"({"servers": []})", "$.mcpProxy.readiness.servers: name at least one server"},
           {R"({"servers": "a"})", "$.mcpProxy.readiness.servers: expected an array"},
           {R"({"servers": ["a", "nope"]})",
            "$.mcpProxy.readiness.servers[1]: no server is named \"nope\""},
           {R"({"servers": ["off"]})",
            "$.mcpProxy.readiness.servers[0]: server \"off\" is disabled"},
       }) {
    auto r = config::parse_config(with_readiness(c.readiness), "proxy.json");
    ASSERT_FALSE(r.has_value()) << c.readiness;
    EXPECT_NE(r.error().message.find(c.error), std::string::npos)
        << c.readiness << ": " << r.error().message;
  }
}

TEST(config_readiness, misspelt_key_is_a_warning_with_a_suggestion) {
  auto r =
      config::parse_config(with_readiness(R"({"servers": ["a"], "server": ["b"]})"), "proxy.json");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  ASSERT_EQ(r->warnings.size(), 1u);
  EXPECT_NE(r->warnings[0].find("$.mcpProxy.readiness.server"), std::string::npos);
  EXPECT_NE(r->warnings[0].find("\"servers\""), std::string::npos) << r->warnings[0];
}

}  // namespace
}  // namespace mcp_proxy
