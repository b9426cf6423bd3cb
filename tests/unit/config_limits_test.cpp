// mcpProxy.limits as the config reader reads and checks it (the buckets: rate_limits_test.cpp).

#include "config/config.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace mcp_proxy::config {
namespace {

std::string with_limits(std::string_view limits) {
  return R"({"mcpProxy": {"limits": )" + std::string(limits) +
         R"(}, "mcpServers": {"fetch": {"command": "fetch"}}})";
}

TEST(config_limits, absent_means_no_limits) {
  auto r = parse_config(R"({"mcpServers": {"fetch": {"command": "fetch"}}})", "proxy.json");
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->proxy.limits.has_value());
}

TEST(config_limits, reads_defaults_tools_and_identities) {
  auto r = parse_config(with_limits(R"({
      "requestsPerSecond": 20, "requestBurst": 40, "toolCallsPerSecond": 2.5,
      "maxCallsInFlight": 4,
      "tools": {"fetch_*": {"callsPerSecond": 0.5, "burst": 2}},
      "identities": {"token:ci": {"requestsPerSecond": 100, "maxCallsInFlight": 32},
                     "peer:10.0.0.5": {"toolCallsPerSecond": 1}, "stdio": {}}})"),
                        "proxy.json");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  ASSERT_TRUE(r->proxy.limits.has_value());
  const auto& l = *r->proxy.limits;
  EXPECT_EQ(l.defaults.requests_per_second, 20.0);
  EXPECT_EQ(l.defaults.request_burst, 40.0);
  EXPECT_EQ(l.defaults.tool_calls_per_second, 2.5);
  EXPECT_EQ(l.defaults.tool_call_burst, 0.0);  // not given: one second's worth
  EXPECT_EQ(l.defaults.max_calls_in_flight, 4u);
  ASSERT_EQ(l.defaults.per_tool.size(), 1u);
  EXPECT_EQ(l.defaults.per_tool[0].pattern, "fetch_*");
  EXPECT_EQ(l.defaults.per_tool[0].calls_per_second, 0.5);
  EXPECT_EQ(l.defaults.per_tool[0].burst, 2.0);
  ASSERT_EQ(l.per_principal.size(), 3u);
  EXPECT_EQ(l.per_principal.at("token:ci").requests_per_second, 100.0);
  EXPECT_EQ(l.per_principal.at("token:ci").max_calls_in_flight, 32u);
  EXPECT_EQ(l.per_principal.at("peer:10.0.0.5").tool_calls_per_second, 1.0);
  EXPECT_TRUE(l.per_principal.contains("stdio"));
}

// Every error of the object at once, each at its path.
TEST(config_limits, refuses_bad_values_with_their_paths) {
  auto r = parse_config(with_limits(R"({
      "requestsPerSecond": 0, "requestBurst": 0.5, "toolCallsPerSecond": "fast",
      "maxCallsInFlight": 0, "tools": {"": {"callsPerSecond": 1}, "x": {"burst": 2}},
      "identities": {"alice": {}, "token:a": {"requestsPerSecond": 1e400}}})"),
                        "proxy.json");
  ASSERT_TRUE(r.has_error());
  const auto& m = r.error().message;
  for (std::string_view expected :
       {"$.mcpProxy.limits.requestsPerSecond: must be greater than 0",
        "$.mcpProxy.limits.requestBurst: must be at least 1",
        "$.mcpProxy.limits.toolCallsPerSecond", "$.mcpProxy.limits.maxCallsInFlight",
        "a pattern must not be empty", "missing required key \"callsPerSecond\"",
        "an identity is \"token:NAME\"", "$.mcpProxy.limits.identities[\"token:a\"]"})
    EXPECT_NE(m.find(expected), std::string::npos) << expected << "\nin:\n" << m;
}

TEST(config_limits, misspelt_key_is_a_warning_with_a_suggestion) {
  auto r = parse_config(with_limits(R"({"requestPerSecond": 5})"), "proxy.json");
  ASSERT_TRUE(r.has_value());
  std::string warnings;
  for (const auto& w : r->warnings) warnings += w + "\n";
  EXPECT_NE(warnings.find("requestsPerSecond"), std::string::npos) << warnings;
}

}  // namespace
}  // namespace mcp_proxy::config
