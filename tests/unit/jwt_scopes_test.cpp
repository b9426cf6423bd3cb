#include "auth/scopes.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace mcp_proxy::auth {
namespace {

boost::json::object claims(const char* text) {
  return boost::json::parse(text).as_object();
}

TEST(jwt_scopes, a_space_separated_scope_claim_is_split) {
  auto s = scope_set::from_claims(claims(R"({"scope":"tools:read  tools:call prompts"})"));
  ASSERT_TRUE(s) << s.error();
  EXPECT_EQ(s->scopes(),
            (std::set<std::string, std::less<>>{"tools:read", "tools:call", "prompts"}));
  EXPECT_TRUE(s->contains("tools:call"));
  EXPECT_FALSE(s->contains("tools"));
  EXPECT_FALSE(s->contains("TOOLS:CALL")) << "case-sensitive";
  EXPECT_FALSE(s->contains("")) << "repeated spaces make no empty scope";
}

TEST(jwt_scopes, scp_as_an_array_or_a_string_joins_scope) {
  auto s = scope_set::from_claims(claims(R"({"scp":["a","b"],"scope":"c"})"));
  ASSERT_TRUE(s) << s.error();
  EXPECT_TRUE(s->contains_all({"a", "b", "c"}));
  s = scope_set::from_claims(claims(R"({"scp":"a b"})"));
  ASSERT_TRUE(s) << s.error();
  EXPECT_TRUE(s->contains_all({"a", "b"}));
  s = scope_set::from_claims(claims(R"({"sub":"x"})"));
  ASSERT_TRUE(s) << s.error();
  EXPECT_TRUE(s->scopes().empty());
  EXPECT_TRUE(s->contains_all({})) << "nothing required, nothing missing";
}

TEST(jwt_scopes, scope_claims_of_the_wrong_type_are_errors) {
  for (const char* text : {R"({"scope":["a"]})", R"({"scope":1})", R"({"scp":{"a":1}})",
                           R"({"scp":["a",2]})", R"({"scope":"a","scp":[null]})"}) {
    EXPECT_FALSE(scope_set::from_claims(claims(text))) << text;
  }
}

TEST(jwt_scopes, missing_lists_the_required_scopes_not_granted_in_order) {
  auto s = scope_set::from_string("read write");
  EXPECT_EQ(s.missing({"admin", "read", "delete"}), (std::vector<std::string>{"admin", "delete"}));
  EXPECT_FALSE(s.contains_all({"read", "admin"}));
  EXPECT_TRUE(s.contains_all({"write", "read"}));
  EXPECT_EQ(scope_attribute({"admin", "delete"}), "admin delete");
  EXPECT_EQ(scope_attribute({}), "");
}

}  // namespace
}  // namespace mcp_proxy::auth
