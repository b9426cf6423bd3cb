#include "protocol/cors.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace mcp_proxy::protocol {
namespace {

const std::string* header(const header_list& h, std::string_view name) {
  for (const auto& [k, v] : h)
    if (k == name) return &v;
  return nullptr;
}

struct cors_test : ::testing::Test {
  std::vector<std::string> origins{"https://app.example"};
  cors_policy policy{&origins, false, std::chrono::seconds(600)};
};

TEST_F(cors_test, a_preflight_from_an_allowed_origin_lists_methods_and_mcp_headers) {
  const auto a = answer_preflight(policy, "https://app.example", "content-type, mcp-param-region");
  EXPECT_EQ(a.status, 204);
  ASSERT_NE(header(a.headers, "Access-Control-Allow-Origin"), nullptr);
  EXPECT_EQ(*header(a.headers, "Access-Control-Allow-Origin"), "https://app.example");
  EXPECT_EQ(*header(a.headers, "Access-Control-Allow-Methods"), cors_allowed_methods);
  const auto& allowed = *header(a.headers, "Access-Control-Allow-Headers");
  for (std::string_view h : {"Authorization", "Mcp-Session-Id", "MCP-Protocol-Version",
                             "Last-Event-ID", "Mcp-Method", "Mcp-Name", "mcp-param-region"})
    EXPECT_NE(allowed.find(h), std::string::npos) << h;
  EXPECT_EQ(*header(a.headers, "Access-Control-Max-Age"), "600");
  EXPECT_EQ(header(a.headers, "Access-Control-Allow-Credentials"), nullptr);
  EXPECT_NE(header(a.headers, "Vary")->find("Origin"), std::string::npos);
}

TEST_F(cors_test, only_well_formed_mcp_param_names_are_added) {
  const auto a = answer_preflight(policy, "https://app.example",
                                  "x-custom, mcp-param-, mcp-param-a b, mcp-param-ok");
  const auto& allowed = *header(a.headers, "Access-Control-Allow-Headers");
  EXPECT_EQ(allowed.find("x-custom"), std::string::npos);
  EXPECT_EQ(allowed.find("a b"), std::string::npos);
  EXPECT_NE(allowed.find("mcp-param-ok"), std::string::npos);
}

TEST_F(cors_test, localhost_origins_are_allowed_and_others_refused_without_cors_headers) {
  EXPECT_EQ(answer_preflight(policy, "http://localhost:5173", std::nullopt).status, 204);
  const auto refused = answer_preflight(policy, "https://evil.example", std::nullopt);
  EXPECT_EQ(refused.status, 403);
  EXPECT_TRUE(refused.headers.empty());
  EXPECT_FALSE(refused.text.empty());
}

TEST_F(cors_test, options_without_an_origin_gets_allow_only) {
  const auto a = answer_preflight(policy, std::nullopt, std::nullopt);
  EXPECT_EQ(a.status, 204);
  ASSERT_EQ(a.headers.size(), 1u);
  EXPECT_EQ(a.headers[0].first, "Allow");
}

TEST_F(cors_test, answers_echo_the_origin_never_a_wildcard) {
  origins = {"*"};
  const auto h = cors_response_headers(policy, "https://anything.example");
  EXPECT_EQ(*header(h, "Access-Control-Allow-Origin"), "https://anything.example");
  EXPECT_NE(header(h, "Access-Control-Expose-Headers")->find("Mcp-Session-Id"), std::string::npos);
  EXPECT_TRUE(cors_response_headers(policy, std::nullopt).empty());
}

TEST_F(cors_test, credentials_are_allowed_only_when_configured) {
  policy.allow_credentials = true;
  const auto h = cors_response_headers(policy, "https://app.example");
  ASSERT_NE(header(h, "Access-Control-Allow-Credentials"), nullptr);
  EXPECT_EQ(*header(h, "Access-Control-Allow-Credentials"), "true");
  EXPECT_TRUE(cors_response_headers(policy, "https://other.example").empty());
}

}  // namespace
}  // namespace mcp_proxy::protocol
