#include "protocol/bearer_auth.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace mcp_proxy::protocol {
namespace {

using kind = bearer_credential::kind;

bearer_credential one(std::string_view field) {
  return read_bearer(std::vector<std::string_view>{field});
}

// RFC 6750 section 2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
TEST(is_b64token, follows_the_rfc_6750_grammar) {
  for (std::string_view ok : {"a", "Zz09-._~+/", "abc==", "x="}) EXPECT_TRUE(is_b64token(ok)) << ok;
  for (std::string_view bad : {"", "=", "==abc", "a=b", "a b", "a:b", "t\xc3\xa9", "a\"", "a,b"})
    EXPECT_FALSE(is_b64token(bad)) << bad;
}

TEST(read_bearer, takes_the_scheme_in_any_case_and_spaces_before_the_token) {
  for (std::string_view field :
       {"Bearer tok", "bearer tok", "BEARER tok", "Bearer    tok", "  Bearer tok  "}) {
    const auto c = one(field);
    EXPECT_EQ(c.what, kind::token) << field;
    EXPECT_EQ(c.token, "tok") << field;
  }
}

TEST(read_bearer, another_scheme_or_no_field_is_no_credential) {
  EXPECT_EQ(read_bearer({}).what, kind::none);
  EXPECT_EQ(one("Basic dXNlcjpwYXNz").what, kind::none);
  EXPECT_EQ(one("Bearertok").what, kind::none);  // no space: another scheme's name
}

TEST(read_bearer, a_bearer_without_one_b64token_is_malformed) {
  for (std::string_view field :
       {"Bearer", "Bearer ", "Bearer a b", "Bearer a,b", "Bearer t\xc3\xa9"})
    EXPECT_EQ(one(field).what, kind::malformed) << field;
  EXPECT_EQ(read_bearer({"Bearer a", "Bearer a"}).what, kind::malformed);  // two fields
}

TEST(token_table, finds_the_name_of_the_matching_token_only) {
  token_table t;
  t.add("alpha", "ci");
  t.add("beta");
  ASSERT_NE(t.find("alpha"), nullptr);
  EXPECT_EQ(*t.find("alpha"), "ci");
  ASSERT_NE(t.find("beta"), nullptr);
  EXPECT_EQ(*t.find("beta"), token_fingerprint("beta"));
  for (std::string_view miss : {"alph", "alphaa", "", "ALPHA", "gamma"})
    EXPECT_EQ(t.find(miss), nullptr) << miss;
}

TEST(token_fingerprint, names_a_token_without_showing_it) {
  const auto f = token_fingerprint("secret-token");
  EXPECT_EQ(f.rfind("sha256:", 0), 0u);
  EXPECT_EQ(f.size(), 7u + 12u);
  EXPECT_EQ(f.find("secret"), std::string::npos);
  EXPECT_NE(f, token_fingerprint("secret-tokem"));
}

// RFC 6750 section 3.1.
TEST(check_bearer, answers_each_failure_as_rfc_6750_says) {
  token_table t;
  t.add("good", "me");
  auto missing = check_bearer(read_bearer({}), t);
  ASSERT_TRUE(missing.refusal);
  EXPECT_EQ(missing.refusal->status, 401);
  EXPECT_EQ(missing.refusal->www_authenticate, R"(Bearer realm="mcp-proxy")");

  auto wrong = check_bearer(one("Bearer bad"), t);
  ASSERT_TRUE(wrong.refusal);
  EXPECT_EQ(wrong.refusal->status, 401);
  EXPECT_NE(wrong.refusal->www_authenticate.find(R"(error="invalid_token")"), std::string::npos);
  EXPECT_EQ(wrong.refusal->text.find("bad"), std::string::npos);

  auto malformed = check_bearer(one("Bearer"), t);
  ASSERT_TRUE(malformed.refusal);
  EXPECT_EQ(malformed.refusal->status, 400);
  EXPECT_NE(malformed.refusal->www_authenticate.find(R"(error="invalid_request")"),
            std::string::npos);

  auto good = check_bearer(one("Bearer good"), t);
  EXPECT_FALSE(good.refusal);
  ASSERT_NE(good.identity, nullptr);
  EXPECT_EQ(*good.identity, "me");
}

TEST(check_bearer, appends_extra_challenge_parameters) {
  token_table t;
  t.add("good");
  auto r =
      check_bearer(read_bearer({}), t, R"(resource_metadata="https://p.example/.well-known/x")");
  ASSERT_TRUE(r.refusal);
  EXPECT_EQ(r.refusal->www_authenticate,
            R"(Bearer realm="mcp-proxy", resource_metadata="https://p.example/.well-known/x")");
}

TEST(bearer_challenge, keeps_the_description_within_the_rfc_6750_characters) {
  // RFC 6750 section 3: error_description is %x20-21 / %x23-5B / %x5D-7E.
  EXPECT_EQ(
      bearer_challenge("invalid_token", "iss \"x\" is not\\ \"y\"\n\xc3\xa9"),
      R"(Bearer realm="mcp-proxy", error="invalid_token", error_description="iss 'x' is not  'y'   ")");
  EXPECT_EQ(bearer_challenge({}, "ignored without an error", R"(scope="a b")"),
            R"(Bearer realm="mcp-proxy", scope="a b")");
}

TEST(challenge_param, drops_what_a_quoted_string_may_not_hold) {
  EXPECT_EQ(challenge_param("scope", "mcp:read mcp:write"), R"(scope="mcp:read mcp:write")");
  EXPECT_EQ(challenge_param("resource_metadata", "https://h/\"x\\\n"),
            R"(resource_metadata="https://h/x")");
}

}  // namespace
}  // namespace mcp_proxy::protocol
