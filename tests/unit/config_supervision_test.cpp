// The server keys of ping supervision (pingInterval, pingMisses) as the config reader reads and
// checks them (protocol/supervision.hpp has the decisions).

#include "config/config.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mcp_proxy {
namespace {

using std::chrono::milliseconds;

std::string with_server_keys(std::string_view keys) {
  return R"({"mcpServers": {"a": {"command": "a")" + std::string(keys) + "}}}";
}

TEST(config_supervision, defaults_are_30_s_and_3_misses) {
  auto r = config::parse_config(with_server_keys(""), "proxy.json");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->servers.at(0).ping_interval, milliseconds(30000));
  EXPECT_EQ(r->servers.at(0).ping_misses, 3u);
}

TEST(config_supervision, reads_an_interval_a_count_and_0_for_no_pings) {
  auto r = config::parse_config(with_server_keys(R"(, "pingInterval": "2s", "pingMisses": 5)"),
                                "proxy.json");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->servers.at(0).ping_interval, milliseconds(2000));
  EXPECT_EQ(r->servers.at(0).ping_misses, 5u);
  auto off = config::parse_config(with_server_keys(R"(, "pingInterval": 0)"), "proxy.json");
  ASSERT_TRUE(off.has_value()) << off.error().message;
  EXPECT_EQ(off->servers.at(0).ping_interval, milliseconds(0));
}

TEST(config_supervision, refuses_bad_values_with_their_paths) {
  for (const auto& [keys, error] : std::vector<std::pair<std::string_view, std::string_view>>{
           {R"(, "pingInterval": "99ms")",
            "$.mcpServers.a.pingInterval: must be 0 (no pings) or at least 100ms"},
           {R"(, "pingInterval": -1)", "$.mcpServers.a.pingInterval: must be greater than 0"},
           {R"(, "pingMisses": 0)", "$.mcpServers.a.pingMisses: "},
           {R"(, "pingMisses": "3")", "$.mcpServers.a.pingMisses: "},
       }) {
    auto r = config::parse_config(with_server_keys(keys), "proxy.json");
    ASSERT_FALSE(r.has_value()) << keys;
    EXPECT_NE(r.error().message.find(error), std::string::npos)
        << keys << ": " << r.error().message;
  }
}

}  // namespace
}  // namespace mcp_proxy
