// mcpProxy.oauth, options.requiredScopes / toolScopes and a group's requiredScopes
// (config/config_oauth.cpp), and the route security built from them (http/request_auth).

#include "config/config.hpp"
#include "http/request_auth.hpp"

#include <gtest/gtest.h>

#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

namespace mcp_proxy::config {
namespace {

using namespace std::chrono_literals;

// One RSA key (2048 bits, e = 65537) as a JWK set.
constexpr std::string_view jwks_text = R"({"keys":[{"kty":"RSA","kid":"k1","use":"sig",
"n":"rPzOIlwg4WY-h5D0d-QGMPNIZ_oO9GdoWIz0WJZthERbGxan1GqXNj8Y8ejRtTTB7bn71aOmP5DRfYKJsdqFFX6STORGhIDSQguVKV-Evi5XSWLjzf990SptrdC5b3cfb_JQWYKtVtoqHcX9fm9PFHdumspL587tB3Lbp0ckh-wJ05W2Qq9J0q9ttZvhxlAzOu1IuHiy4A0wDyW8xYwKeHQhAnSTPJBFLgKoTpZE7eFgW_7f327kx6uMuolATpuSXE2Vhvyzc_Zp99DZ3rK4jGJEG39izqWjC9D_9svXPuBl0rLHcl9u3StSi3_e7HhNXI0uQuix3ITKY4oit1Kdzw",
"e":"AQAB"}]})";

std::string temp_file(std::string_view text) {
  static int n = 0;
  auto path = std::filesystem::temp_directory_path() /
              ("config_oauth_test_" + std::to_string(::getpid()) + "_" + std::to_string(n++));
  std::ofstream(path) << text;
  std::filesystem::permissions(
      path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  return path.string();
}

boost::system::result<config, config_error> parse(const std::string& text) {
  return parse_config(text, "cfg.json");
}

std::string with_oauth(const std::string& oauth, const std::string& server_options = "{}") {
  return R"({"mcpProxy": {"oauth": )" + oauth +
         R"(}, "mcpServers": {"s": {"command": "x", "options": )" + server_options + "}}}";
}

TEST(config_oauth, reads_every_key) {
  const auto jwks = temp_file(jwks_text);
  const auto secret = temp_file("s3cret\n");
  auto c = parse(with_oauth(R"({"issuer": "https://as.example", "jwksFile": ")" + jwks + R"(",
      "audiences": ["api"], "algorithms": ["RS256", "EdDSA"], "clockSkew": "5s",
      "jwksMinRefresh": "2s", "jwksMaxAge": "10m", "requiredScopes": ["mcp"],
      "scopesSupported": ["mcp", "extra"], "toolScopes": {"s__add": ["adder"]},
      "resourceName": "Proxy", "introspection": {"endpoint": "http://127.0.0.1:1/i",
      "clientId": "proxy", "clientSecretFile": ")" +
                                secret + R"(", "cacheTTL": "30s"}})",
                            R"({"requiredScopes": ["s"], "toolScopes": {"del*": ["admin"]}})"));
  ASSERT_TRUE(c) << c.error().message;
  const auto& o = c->proxy.oauth;
  EXPECT_TRUE(o.enabled);
  EXPECT_EQ(o.issuer, "https://as.example");
  EXPECT_EQ(o.authorization_servers, std::vector<std::string>{"https://as.example"});
  EXPECT_EQ(o.audiences, std::vector<std::string>{"api"});
  EXPECT_EQ(o.algorithms, (std::vector<std::string>{"RS256", "EdDSA"}));
  EXPECT_EQ(o.clock_skew, 5s);
  EXPECT_EQ(o.jwks_min_refresh, 2s);
  EXPECT_EQ(o.jwks_max_age, 10min);
  EXPECT_EQ(o.scopes_supported, (std::vector<std::string>{"mcp", "extra"}));
  ASSERT_EQ(o.tool_scopes.size(), 1u);
  EXPECT_EQ(o.tool_scopes[0].pattern, "s__add");
  ASSERT_TRUE(o.introspection);
  EXPECT_EQ(o.introspection->client_secret, "s3cret");
  EXPECT_EQ(o.introspection->cache_ttl, 30s);
  EXPECT_EQ(c->servers[0].required_scopes, std::vector<std::string>{"s"});
  ASSERT_EQ(c->servers[0].tool_scopes.size(), 1u);
  EXPECT_EQ(c->servers[0].tool_scopes[0].scopes, std::vector<std::string>{"admin"});
  std::filesystem::remove(jwks);
  std::filesystem::remove(secret);
}

TEST(config_oauth, names_what_is_missing_or_wrong) {
  auto expect_error = [](const std::string& text, std::string_view what) {
    auto c = parse(text);
    ASSERT_FALSE(c) << text;
    EXPECT_NE(c.error().message.find(what), std::string::npos) << c.error().message;
  };
  expect_error(with_oauth("{}"), "$.mcpProxy.oauth: needs a way to check tokens");
  expect_error(with_oauth(R"({"jwksUri": "https://as.example/jwks"})"),
               "missing required key \"issuer\"");
  expect_error(with_oauth(R"({"issuer": "https://a", "jwksUri": "http://as.example/jwks"})"),
               "$.mcpProxy.oauth.jwksUri: must be https");
  expect_error(with_oauth(R"({"issuer": "https://a", "jwksUri": "https://a/j", "jwksFile": "/x"})"),
               "$.mcpProxy.oauth.jwksFile: cannot read");
  expect_error(with_oauth(R"({"issuer": "https://a", "jwksUri": "https://a/j",
                              "algorithms": ["HS256"]})"),
               "$.mcpProxy.oauth.algorithms[0]: expected one of");
  expect_error(with_oauth(R"({"issuer": "https://a", "jwksUri": "https://a/j",
                              "requiredScopes": ["a b"]})"),
               "$.mcpProxy.oauth.requiredScopes[0]: a scope is printable ASCII");
  expect_error(with_oauth(R"({"introspection": {"endpoint": "https://a/i"}})"),
               "missing required key \"clientId\"");
  const auto bad = temp_file(R"({"keys": []})");
  expect_error(with_oauth(R"({"issuer": "https://a", "jwksFile": ")" + bad + R"("})"),
               "$.mcpProxy.oauth.jwksFile: ");
  std::filesystem::remove(bad);
  // Scopes without oauth: static tokens carry none.
  expect_error(R"({"mcpServers": {"s": {"command": "x", "options": {"requiredScopes": ["a"]}}}})",
               "$.mcpServers.s.options.requiredScopes: scopes need mcpProxy.oauth");
  expect_error(R"({"mcpProxy": {"groups": {"g": {"requiredScopes": ["a"]}}},
                   "mcpServers": {"s": {"command": "x"}}})",
               "$.mcpProxy.groups.g.requiredScopes: scopes need mcpProxy.oauth");
}

TEST(route_security, adds_each_route_its_scopes_and_tool_rules) {
  auto c = parse(R"({"mcpProxy": {"oauth": {"introspection": {"endpoint": "https://a/i",
        "clientId": "p", "clientSecret": "x"}, "authorizationServers": ["https://a"],
        "requiredScopes": ["mcp"], "toolScopes": {"s__add": ["adder"]}},
        "options": {"authTokens": ["static1"]},
        "groups": {"g": {"servers": ["s"], "requiredScopes": ["grp"]}}},
      "mcpServers": {"s": {"command": "x", "options": {"requiredScopes": ["own"],
                                                       "toolScopes": {"del*": ["admin"]}}},
                     "t": {"command": "y", "prefix": "", "options": {"toolScopes": {"x": ["tx"]}}}}})");
  ASSERT_TRUE(c) << c.error().message;
  auto security = http::security_of_routes(*c);
  ASSERT_EQ(security.size(), 4u);  // s, t, the merged endpoint, g
  const auto& s = security.at("s");
  EXPECT_EQ(s.required_scopes, (std::vector<std::string>{"mcp", "own"}));
  EXPECT_EQ(s.tokens.size(), 1u);
  ASSERT_EQ(s.tool_scopes.size(), 2u);
  // The global rule is on merged names: the server route's names get the prefix first.
  EXPECT_EQ(s.tool_scopes[0].pattern, "s__add");
  EXPECT_EQ(s.tool_scopes[0].exposed_prefix, "s__");
  EXPECT_EQ(s.tool_scopes[1].pattern, "del*");
  EXPECT_EQ(s.tool_scopes[1].exposed_prefix, "");
  const auto& merged = security.at("");
  // A member's own scopes hold on merged routes too.
  EXPECT_EQ(merged.required_scopes, (std::vector<std::string>{"mcp", "own"}));
  ASSERT_EQ(merged.tool_scopes.size(), 3u);
  EXPECT_EQ(merged.tool_scopes[1].pattern, "s__del*");  // a server's own rule, prefixed
  EXPECT_EQ(merged.tool_scopes[2].pattern, "x");        // an unprefixed server's
  const auto& g = security.at("g");
  EXPECT_EQ(g.required_scopes, (std::vector<std::string>{"mcp", "grp", "own"}));
  ASSERT_EQ(g.tool_scopes.size(), 2u);  // the global rule and s's: t is no member
}

}  // namespace
}  // namespace mcp_proxy::config
