// A server's clientCredentials (config/config_server.cpp) and the sans-io part of the grant
// (transport/client_credentials.hpp): the token request, the strict reading of the token
// endpoint's answer and refusal, and when a token is replaced.

#include "transport/client_credentials.hpp"
#include "config/config.hpp"

#include <gtest/gtest.h>

#include <unistd.h>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

namespace mcp_proxy {
namespace {

using namespace std::chrono_literals;

// A file in the temporary directory, removed when the test is done with it.
struct temp_file {
  std::string path;
  explicit temp_file(std::string_view text, bool private_file = true) {
    static int n = 0;
    path = (std::filesystem::temp_directory_path() /
            ("client_credentials_test_" + std::to_string(::getpid()) + "_" + std::to_string(n++)))
               .string();
    std::ofstream(path) << text;
    auto perms = std::filesystem::perms::owner_read | std::filesystem::perms::owner_write;
    if (!private_file) perms |= std::filesystem::perms::others_read;
    std::filesystem::permissions(path, perms);
  }
  ~temp_file() {
    std::error_code ignored;
    std::filesystem::remove(path, ignored);
  }
  temp_file(const temp_file&) = delete;
  temp_file& operator=(const temp_file&) = delete;
};

boost::system::result<config::config, config::config_error> with_credentials(
    const std::string& credentials, const std::string& server_extra = "") {
  return config::parse_config(R"({"mcpServers": {"api": {"url": "https://api.example/mcp", )" +
                                  server_extra + R"("clientCredentials": )" + credentials + "}}}",
                              "cfg.json");
}

bool has_warning(const config::config& c, std::string_view part) {
  for (const auto& w : c.warnings)
    if (w.find(part) != std::string::npos) return true;
  return false;
}

// --- config ------------------------------------------------------------------------------------

TEST(client_credentials_config, reads_every_key) {
  const temp_file ca("-----BEGIN CERTIFICATE-----\n");
  auto c = with_credentials(R"({"tokenEndpoint": "https://as.example/oauth/token",
      "clientId": "mcp-proxy", "clientSecret": "s3cret", "scope": "mcp:read  mcp:call",
      "resource": "https://api.example/mcp", "audience": "api", "caFile": ")" +
                            ca.path + R"("})");
  ASSERT_TRUE(c) << c.error().message;
  const auto& cc = c->servers.at(0).client_credentials;
  EXPECT_TRUE(cc.enabled());
  EXPECT_EQ(cc.token_endpoint, "https://as.example/oauth/token");
  EXPECT_EQ(cc.client_id, "mcp-proxy");
  EXPECT_EQ(cc.client_secret, "s3cret");
  EXPECT_EQ(cc.scope, "mcp:read mcp:call");
  EXPECT_EQ(cc.resource, "https://api.example/mcp");
  EXPECT_EQ(cc.audience, "api");
  EXPECT_EQ(cc.ca_file, ca.path);
  EXPECT_TRUE(c->warnings.empty()) << c->warnings.at(0);
}

TEST(client_credentials_config, absent_means_disabled) {
  auto c = config::parse_config(R"({"mcpServers": {"api": {"url": "https://api.example/mcp"}}})",
                                "cfg.json");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_FALSE(c->servers.at(0).client_credentials.enabled());
}

TEST(client_credentials_config, reads_the_secret_from_a_file_or_the_environment) {
  const temp_file secret("from-file\n");
  auto c = with_credentials(R"({"tokenEndpoint": "http://127.0.0.1:9/token", "clientId": "p",
      "clientSecretFile": ")" +
                            secret.path + R"(", "scope": ["a", "b:c"]})");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->servers.at(0).client_credentials.client_secret, "from-file");
  EXPECT_EQ(c->servers.at(0).client_credentials.scope, "a b:c");

  ::setenv("CLIENT_CREDENTIALS_TEST_SECRET", "from-env", 1);
  c = with_credentials(R"({"tokenEndpoint": "http://localhost/token", "clientId": "p",
      "clientSecret": "${CLIENT_CREDENTIALS_TEST_SECRET}"})");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->servers.at(0).client_credentials.client_secret, "from-env");
}

TEST(client_credentials_config, warns_of_a_secret_file_others_can_read) {
  const temp_file secret("s\n", false);
  auto c = with_credentials(R"({"tokenEndpoint": "https://as.example/t", "clientId": "p",
      "clientSecretFile": ")" +
                            secret.path + R"("})");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_TRUE(has_warning(*c, "$.mcpServers.api.clientCredentials.clientSecretFile"));
  EXPECT_TRUE(has_warning(*c, "chmod 600"));
}

TEST(client_credentials_config, names_what_is_missing_or_wrong) {
  struct bad_case {
    std::string credentials;
    std::string expected;  // a part of the message
  };
  const bad_case cases[] = {
      {R"({"clientId": "p", "clientSecret": "s"})",
       "$.mcpServers.api.clientCredentials: missing required key \"tokenEndpoint\""},
      {R"({"tokenEndpoint": "https://as.example/t", "clientSecret": "s"})",
       "$.mcpServers.api.clientCredentials: missing required key \"clientId\""},
      {R"({"tokenEndpoint": "https://as.example/t", "clientId": "p"})",
       "$.mcpServers.api.clientCredentials: missing \"clientSecret\" or \"clientSecretFile\""},
      {R"({"tokenEndpoint": "https://as.example/t", "clientId": "p", "clientSecret": "s",
           "clientSecretFile": "/nonexistent"})",
       "set one of \"clientSecret\" and \"clientSecretFile\", not both"},
      {R"({"tokenEndpoint": "http://as.example/t", "clientId": "p", "clientSecret": "s"})",
       "$.mcpServers.api.clientCredentials.tokenEndpoint: must be https"},
      {R"({"tokenEndpoint": "http://10.0.0.1/t", "clientId": "p", "clientSecret": "s"})",
       "$.mcpServers.api.clientCredentials.tokenEndpoint: must be https"},
      {R"({"tokenEndpoint": "https://as.example/t#x", "clientId": "p", "clientSecret": "s"})",
       "tokenEndpoint: must not have a fragment"},
      {R"({"tokenEndpoint": "not a url", "clientId": "p", "clientSecret": "s"})",
       "tokenEndpoint: expected an absolute https URL"},
      {R"({"tokenEndpoint": "https://as.example/t", "clientId": "", "clientSecret": "s"})",
       "clientCredentials.clientId: must not be empty"},
      {R"({"tokenEndpoint": "https://as.example/t", "clientId": "p", "clientSecret": "s",
           "scope": "a \"b\""})",
       "clientCredentials.scope[1]: a scope is printable ASCII"},
      {R"({"tokenEndpoint": "https://as.example/t", "clientId": "p", "clientSecret": "s",
           "scope": 3})",
       "clientCredentials.scope: expected"},
      {R"({"tokenEndpoint": "https://as.example/t", "clientId": "p", "clientSecret": "s",
           "resource": "relative/path"})",
       "clientCredentials.resource: expected an absolute URI"},
      {R"({"tokenEndpoint": "https://as.example/t", "clientId": "p", "clientSecret": "s",
           "caFile": "/nonexistent/ca.pem"})",
       "clientCredentials.caFile: cannot read"},
      {R"({"tokenEndpoint": "https://as.example/t", "clientId": "p",
           "clientSecretFile": "/nonexistent/secret"})",
       "clientCredentials.clientSecretFile: cannot read"},
      {R"("https://as.example/t")", "$.mcpServers.api.clientCredentials: expected an object"},
  };
  for (const auto& bad : cases) {
    auto c = with_credentials(bad.credentials);
    ASSERT_FALSE(c) << bad.credentials;
    EXPECT_NE(c.error().message.find(bad.expected), std::string::npos)
        << bad.credentials << "\n  got: " << c.error().message;
    // Never the secret in a message.
    EXPECT_EQ(c.error().message.find("\"s\""), std::string::npos) << c.error().message;
  }
}

TEST(client_credentials_config, loopback_hosts_may_use_plain_http) {
  for (std::string host : {"127.0.0.1:8080", "[::1]:8080", "localhost"}) {
    auto c = with_credentials(R"({"tokenEndpoint": "http://)" + host +
                              R"(/t", "clientId": "p", "clientSecret": "s"})");
    EXPECT_TRUE(c) << host << ": " << c.error().message;
  }
}

TEST(client_credentials_config, an_unknown_key_is_a_warning_naming_the_closest) {
  auto c = with_credentials(
      R"({"tokenEndpoint": "https://as.example/t", "clientId": "p", "clientSecret": "s",
          "scopes": "a"})");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_TRUE(has_warning(*c, "$.mcpServers.api.clientCredentials.scopes"));
  EXPECT_TRUE(has_warning(*c, "scope"));
}

TEST(client_credentials_config, a_stdio_server_ignores_it_with_a_warning) {
  auto c = config::parse_config(
      R"({"mcpServers": {"local": {"command": "x", "clientCredentials":
          {"tokenEndpoint": "https://as.example/t", "clientId": "p", "clientSecret": "s"}}}})",
      "cfg.json");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_TRUE(has_warning(*c, "$.mcpServers.local.clientCredentials"));
  EXPECT_TRUE(has_warning(*c, "ignored for a stdio server"));
}

TEST(client_credentials_config, warns_that_it_replaces_a_configured_authorization_header) {
  auto c = with_credentials(
      R"({"tokenEndpoint": "https://as.example/t", "clientId": "p", "clientSecret": "s"})",
      R"("headers": {"authorization": "Bearer static", "X-Other": "1"}, )");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_TRUE(has_warning(*c, "$.mcpServers.api.headers.authorization"));
  EXPECT_FALSE(has_warning(*c, "X-Other"));
}

// --- the token request -------------------------------------------------------------------------

TEST(client_credentials_request, sends_only_the_parameters_set_form_encoded) {
  config::client_credentials_config c;
  c.token_endpoint = "https://as.example/t";
  EXPECT_EQ(transport::token_request_body(c), "grant_type=client_credentials");
  c.scope = "mcp:read mcp:call";
  c.resource = "https://api.example/mcp?x=1&y";
  c.audience = "api";
  EXPECT_EQ(transport::token_request_body(c),
            "grant_type=client_credentials&scope=mcp%3Aread+mcp%3Acall"
            "&resource=https%3A%2F%2Fapi.example%2Fmcp%3Fx%3D1%26y&audience=api");
}

// --- the answer --------------------------------------------------------------------------------

TEST(client_credentials_answer, reads_a_bearer_token_and_its_lifetime) {
  auto a = transport::parse_token_response(
      R"({"access_token": "abc.DEF-_~+/=", "token_type": "bearer", "expires_in": 120,
          "scope": "x", "unknown": {"kept": "ignored"}})");
  ASSERT_TRUE(a) << a.error();
  EXPECT_EQ(a->access_token, "abc.DEF-_~+/=");
  EXPECT_EQ(a->lifetime, 120s);
  EXPECT_TRUE(a->lifetime_given);

  a = transport::parse_token_response(R"({"access_token": "t", "token_type": "Bearer",
                                          "expires_in": 1.5})");
  ASSERT_TRUE(a) << a.error();
  EXPECT_EQ(a->lifetime, 1500ms);
}

TEST(client_credentials_answer, without_expires_in_a_token_lasts_an_hour) {
  auto a = transport::parse_token_response(R"({"access_token": "t", "token_type": "BEARER"})");
  ASSERT_TRUE(a) << a.error();
  EXPECT_EQ(a->lifetime, transport::default_token_lifetime);
  EXPECT_EQ(a->lifetime, 3600s);
  EXPECT_FALSE(a->lifetime_given);
}

TEST(client_credentials_answer, refuses_what_is_not_a_usable_bearer_token) {
  const std::string_view secret_token = "SECRET-TOKEN";
  struct bad_case {
    std::string body;
    std::string expected;
  };
  const bad_case cases[] = {
      {"", "not a JSON object"},
      {"[]", "not a JSON object"},
      {R"({"access_token": "SECRET-TOKEN", "access_token": "x", "token_type": "Bearer"})",
       "not a JSON object"},
      {R"({"token_type": "Bearer"})", "no access_token"},
      {R"({"access_token": "", "token_type": "Bearer"})", "access_token is not a non-empty"},
      {R"({"access_token": 5, "token_type": "Bearer"})", "access_token is not a non-empty"},
      {R"({"access_token": "SECRET TOKEN", "token_type": "Bearer"})",
       "characters a bearer token may not have"},
      {R"({"access_token": "SECRET-TOKEN\r\nX: y", "token_type": "Bearer"})",
       "characters a bearer token may not have"},
      {R"({"access_token": "SECRET-TOKEN"})", "no token_type"},
      {R"({"access_token": "SECRET-TOKEN", "token_type": "mac"})", "token_type is not"},
      {R"({"access_token": "SECRET-TOKEN", "token_type": ["Bearer"]})", "token_type is not"},
      {R"({"access_token": "SECRET-TOKEN", "token_type": "Bearer", "expires_in": "60"})",
       "expires_in is not a number"},
      {R"({"access_token": "SECRET-TOKEN", "token_type": "Bearer", "expires_in": 0})",
       "expires_in is not a positive number"},
      {R"({"access_token": "SECRET-TOKEN", "token_type": "Bearer", "expires_in": -5})",
       "expires_in is not a positive number"},
  };
  for (const auto& bad : cases) {
    auto a = transport::parse_token_response(bad.body);
    ASSERT_FALSE(a) << bad.body;
    EXPECT_NE(a.error().find(bad.expected), std::string::npos)
        << bad.body << "\n  got: " << a.error();
    EXPECT_EQ(a.error().find(secret_token), std::string::npos) << a.error();
  }
}

TEST(client_credentials_answer, a_refusal_names_the_status_and_the_oauth_error) {
  EXPECT_EQ(transport::token_refusal_text(
                400, R"({"error": "invalid_client", "error_description": "bad secret s3cret"})"),
            "the token endpoint answered HTTP 400 (invalid_client)");
  EXPECT_EQ(transport::token_refusal_text(503, "<html>down</html>"),
            "the token endpoint answered HTTP 503");
  // An error code with characters RFC 6749 does not allow is left out.
  EXPECT_EQ(transport::token_refusal_text(401, R"({"error": "bad\"code"})"),
            "the token endpoint answered HTTP 401");
}

// --- when a token is replaced ------------------------------------------------------------------

TEST(client_credentials_refresh, a_long_lived_token_is_replaced_30_s_or_a_tenth_before_expiry) {
  const auto t0 = transport::token_clock::time_point{} + 1000h;
  // One hour: a tenth (6 min) is more than 30 s.
  auto hour = transport::make_access_token({"t", 3600s, true}, t0);
  EXPECT_FALSE(transport::refresh_due(hour, t0));
  EXPECT_FALSE(transport::refresh_due(hour, t0 + 54min - 1s));
  EXPECT_TRUE(transport::refresh_due(hour, t0 + 54min + 1s));
  // Two minutes: 30 s (a tenth is 12 s).
  auto minutes = transport::make_access_token({"t", 120s, true}, t0);
  EXPECT_FALSE(transport::refresh_due(minutes, t0 + 89s));
  EXPECT_TRUE(transport::refresh_due(minutes, t0 + 91s));
  EXPECT_FALSE(transport::has_expired(minutes, t0 + 119s));
  EXPECT_TRUE(transport::has_expired(minutes, t0 + 120s));
}

TEST(client_credentials_refresh, a_short_lived_token_is_still_used_for_half_its_life) {
  const auto t0 = transport::token_clock::time_point{} + 1000h;
  auto short_lived = transport::make_access_token({"t", 4s, true}, t0);
  EXPECT_FALSE(transport::refresh_due(short_lived, t0));
  EXPECT_FALSE(transport::refresh_due(short_lived, t0 + 1900ms));
  EXPECT_TRUE(transport::refresh_due(short_lived, t0 + 2100ms));
  EXPECT_EQ(transport::refresh_margin(4s), 2s);
  EXPECT_EQ(transport::refresh_margin(60s), 30s);
  EXPECT_EQ(transport::refresh_margin(1000s), 100s);
}

}  // namespace
}  // namespace mcp_proxy
