#include "auth/introspection.hpp"

#include "util/base64.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace mcp_proxy::auth {
namespace {

using namespace std::chrono_literals;
namespace json = boost::json;

constexpr std::int64_t now_s = 1'800'000'000;
const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(now_s));
constexpr const char* issuer = "https://as.example.com";
constexpr const char* resource = "https://proxy.example.com/mock/mcp";

introspection_checks checks() {
  introspection_checks c;
  c.issuer = issuer;
  c.audiences = {resource, "extra-aud"};
  return c;
}

json::object good_answer() {
  return {{"active", true},     {"iss", issuer},
          {"aud", resource},    {"sub", "alice"},
          {"exp", now_s + 300}, {"nbf", now_s - 10},
          {"iat", now_s - 10},  {"scope", "mcp:read mcp:tools"},
          {"client_id", "c1"}};
}

boost::system::result<json::object, token_error> read(
    const json::object& answer, const introspection_checks& c = checks(),
    std::chrono::system_clock::time_point at = now) {
  return read_introspection_response(json::serialize(answer), c, at);
}

void expect_refused(std::string_view body, token_failure why, const std::string& context,
                    const introspection_checks& c = checks()) {
  auto r = read_introspection_response(body, c, now);
  ASSERT_FALSE(r) << context << ": accepted";
  EXPECT_EQ(r.error().failure, why) << context << ": " << r.error().message;
  EXPECT_EQ(r.error().category(), bearer_error::invalid_token) << context;
  EXPECT_FALSE(r.error().message.empty()) << context;
  EXPECT_EQ(r.error().message.find('\n'), std::string::npos) << context;
}

void expect_refused(const json::object& answer, token_failure why, const std::string& context,
                    const introspection_checks& c = checks()) {
  expect_refused(json::serialize(answer), why, context, c);
}

TEST(introspection, the_request_body_form_encodes_the_token) {
  EXPECT_EQ(introspection_request_body("mF_9.B5f-4.1JqM"),
            "token=mF_9.B5f-4.1JqM&token_type_hint=access_token");
  EXPECT_EQ(introspection_request_body("a b+c/d=e&f~g%h"),
            "token=a+b%2Bc%2Fd%3De%26f~g%25h&token_type_hint=access_token");
  EXPECT_EQ(introspection_request_body(std::string_view("\xc3\xa9\n\0", 4)),
            "token=%C3%A9%0A%00&token_type_hint=access_token");
  EXPECT_EQ(introspection_request_body(""), "token=&token_type_hint=access_token");
}

TEST(introspection, client_credentials_are_form_encoded_then_basic) {
  // RFC 6749 section 2.3.1's example.
  EXPECT_EQ(basic_client_credentials("s6BhdRkqt3", "gX1fBat3bV"),
            "Basic czZCaGRSa3F0MzpnWDFmQmF0M2JW");
  const auto value = basic_client_credentials("my proxy:1", "p@ss:w rd+é");
  ASSERT_EQ(value.substr(0, 6), "Basic ");
  EXPECT_EQ(util::base64_decode(value.substr(6)),
            std::optional<std::string>("my+proxy%3A1:p%40ss%3Aw+rd%2B%C3%A9"))
      << "a colon in the id or secret stays apart from the separator";
}

TEST(introspection, an_active_answer_gives_its_claims) {
  auto r = read(good_answer());
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->at("sub").as_string(), "alice");
  EXPECT_EQ(r->at("scope").as_string(), "mcp:read mcp:tools");
  EXPECT_TRUE(read(json::object{{"active", true}})) << "every other member is optional";
}

TEST(introspection, an_inactive_or_absent_active_is_inactive) {
  expect_refused(R"({"active":false})", token_failure::inactive, "active false");
  expect_refused(R"({"active":false,"exp":1})", token_failure::inactive, "inactive and expired");
  auto a = good_answer();
  a.erase("active");
  expect_refused(a, token_failure::inactive, "no active");
}

TEST(introspection, active_must_be_the_boolean_true) {
  for (const char* body :
       {R"({"active":"true"})", R"({"active":1})", R"({"active":null})", R"({"active":[true]})"}) {
    expect_refused(body, token_failure::invalid_claim, body);
  }
}

TEST(introspection, an_answer_that_is_not_one_strict_json_object_is_malformed) {
  for (const char* body : {"", "not json", "[]", R"("active")", R"({"active":true} x)",
                           R"({"active":true,"active":false})", R"({"active":false,"active":true})",
                           R"({"active":true,"x":{"a":1,"a":2}})"}) {
    expect_refused(body, token_failure::malformed, body);
  }
  std::string deep = R"({"active":true,"x":)";
  for (int i = 0; i < 40; ++i) deep += "[";
  for (int i = 0; i < 40; ++i) deep += "]";
  deep += "}";
  expect_refused(deep, token_failure::malformed, "40 levels deep");
}

TEST(introspection, exp_and_nbf_hold_with_the_skew) {
  auto a = good_answer();
  a["exp"] = now_s - 61;
  expect_refused(a, token_failure::expired, "61 s ago");
  a["exp"] = now_s - 59;
  EXPECT_TRUE(read(a)) << "59 s ago, within the skew";
  auto strict = checks();
  strict.clock_skew = 0s;
  a["exp"] = now_s;
  expect_refused(a, token_failure::expired, "exp now without skew", strict);
  a["exp"] = "tomorrow";
  expect_refused(a, token_failure::invalid_claim, "exp a string");
  a.erase("exp");
  EXPECT_TRUE(read(a)) << "exp is optional in an introspection answer";

  a = good_answer();
  a["nbf"] = now_s + 61;
  expect_refused(a, token_failure::not_yet_valid, "nbf 61 s ahead");
  a["nbf"] = now_s + 59.5;
  EXPECT_TRUE(read(a)) << "nbf within the skew";
  a["nbf"] = true;
  expect_refused(a, token_failure::invalid_claim, "nbf a boolean");
}

TEST(introspection, iss_when_present_must_be_the_issuer) {
  auto a = good_answer();
  a["iss"] = "https://evil.example.com";
  expect_refused(a, token_failure::wrong_issuer, "another iss");
  a["iss"] = 7;
  expect_refused(a, token_failure::invalid_claim, "iss a number");
  a.erase("iss");
  EXPECT_TRUE(read(a)) << "no iss";
  a["iss"] = "https://evil.example.com";
  auto c = checks();
  c.issuer.clear();
  EXPECT_TRUE(read(a, c)) << "no issuer configured: iss not checked";
}

TEST(introspection, aud_when_present_must_name_one_of_the_audiences) {
  auto a = good_answer();
  a["aud"] = "extra-aud";
  EXPECT_TRUE(read(a));
  a["aud"] = json::array{"https://other.example.com", resource};
  EXPECT_TRUE(read(a));
  a["aud"] = "https://proxy.example.com/other/mcp";
  expect_refused(a, token_failure::wrong_audience, "another resource");
  a["aud"] = json::array{};
  expect_refused(a, token_failure::wrong_audience, "an empty array");
  a["aud"] = json::array{resource, 7};
  expect_refused(a, token_failure::invalid_claim, "an array with a number");
  a["aud"] = json::object{};
  expect_refused(a, token_failure::invalid_claim, "an object");
  a.erase("aud");
  EXPECT_TRUE(read(a)) << "no aud";
  a["aud"] = "https://proxy.example.com/other/mcp";
  auto c = checks();
  c.audiences.clear();
  EXPECT_TRUE(read(a, c)) << "no audiences configured: aud not checked";
}

TEST(introspection, scope_of_the_wrong_type_is_invalid) {
  auto a = good_answer();
  a["scope"] = json::array{"mcp:read"};
  expect_refused(a, token_failure::invalid_claim, "scope an array");
  a["scope"] = "mcp:read";
  a["scp"] = 3;
  expect_refused(a, token_failure::invalid_claim, "scp a number");
}

TEST(introspection, parse_and_check_apart_serve_a_cache_per_route) {
  auto claims = parse_introspection_response(json::serialize(good_answer()));
  ASSERT_TRUE(claims) << claims.error().message;
  EXPECT_TRUE(check_introspection_claims(*claims, checks(), now));
  auto other_route = checks();
  other_route.audiences = {"https://proxy.example.com/other/mcp"};
  auto r = check_introspection_claims(*claims, other_route, now);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().failure, token_failure::wrong_audience);
  r = check_introspection_claims(*claims, checks(), now + 361s);
  ASSERT_FALSE(r) << "the same claims expire later";
  EXPECT_EQ(r.error().failure, token_failure::expired);
  EXPECT_TRUE(parse_introspection_response(R"({"active":true,"aud":"x","exp":1})"))
      << "parse alone checks nothing but active";
}

// The cache.

using steady = introspection_cache::clock;
const steady::time_point t0 = steady::time_point(1000h);

TEST(introspection_cache, an_unknown_token_is_a_miss) {
  introspection_cache cache;
  const auto r = cache.find("tok", t0);
  EXPECT_FALSE(r);
  EXPECT_EQ(r.found, introspection_cache::lookup::state::miss);
  EXPECT_EQ(r.claims, nullptr);
}

TEST(introspection_cache, an_active_answer_is_found_with_its_claims_until_it_expires) {
  introspection_cache cache;
  cache.put("tok", json::object{{"sub", "alice"}}, t0 + 60s, t0);
  auto r = cache.find("tok", t0 + 59s);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r.active());
  EXPECT_EQ(r->at("sub").as_string(), "alice");
  EXPECT_EQ((*r).size(), 1u);
  EXPECT_FALSE(cache.find("tok2", t0)) << "another token";
  EXPECT_FALSE(cache.find("to", t0)) << "a prefix";
  EXPECT_FALSE(cache.find("tok", t0 + 60s)) << "expired";
  EXPECT_EQ(cache.size(), 0u) << "an expired entry found is dropped";
}

TEST(introspection_cache, an_inactive_answer_is_a_hit_without_claims) {
  introspection_cache cache;
  cache.put("bad", std::nullopt, t0 + 6s, t0);
  auto r = cache.find("bad", t0 + 1s);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r.active());
  EXPECT_EQ(r.found, introspection_cache::lookup::state::inactive);
  EXPECT_EQ(r.claims, nullptr);
}

TEST(introspection_cache, a_second_answer_replaces_the_first) {
  introspection_cache cache;
  cache.put("tok", json::object{{"n", 1}}, t0 + 60s, t0);
  auto first = cache.find("tok", t0);
  cache.put("tok", std::nullopt, t0 + 6s, t0 + 1s);
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(cache.find("tok", t0 + 2s).found, introspection_cache::lookup::state::inactive);
  ASSERT_TRUE(first.active());
  EXPECT_EQ(first->at("n").as_int64(), 1) << "claims handed out outlive their entry";
  cache.put("tok", json::object{{"n", 2}}, t0 + 1s, t0 + 1s);
  EXPECT_FALSE(cache.find("tok", t0 + 1s)) << "an answer already expired replaces but is not kept";
  EXPECT_EQ(cache.size(), 0u);
}

TEST(introspection_cache, a_full_cache_drops_the_oldest_insertion) {
  introspection_cache cache(3);
  cache.put("a", json::object{}, t0 + 60s, t0);
  cache.put("b", json::object{}, t0 + 60s, t0);
  cache.put("c", json::object{}, t0 + 60s, t0);
  EXPECT_TRUE(cache.find("a", t0)) << "a lookup does not make an entry younger";
  cache.put("d", json::object{}, t0 + 60s, t0);
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_FALSE(cache.find("a", t0));
  EXPECT_TRUE(cache.find("b", t0));
  EXPECT_TRUE(cache.find("d", t0));
  cache.put("b", json::object{}, t0 + 60s, t0);  // b inserted again: c is now the oldest
  cache.put("e", json::object{}, t0 + 60s, t0);
  EXPECT_FALSE(cache.find("c", t0));
  EXPECT_TRUE(cache.find("b", t0));
}

TEST(introspection_cache, a_full_cache_drops_expired_entries_first) {
  introspection_cache cache(3);
  cache.put("a", json::object{}, t0 + 60s, t0);
  cache.put("b", std::nullopt, t0 + 5s, t0);
  cache.put("c", json::object{}, t0 + 5s, t0);
  cache.put("d", json::object{}, t0 + 60s, t0 + 10s);
  EXPECT_EQ(cache.size(), 2u) << "both expired entries went, the oldest stayed";
  EXPECT_TRUE(cache.find("a", t0 + 10s));
  EXPECT_TRUE(cache.find("d", t0 + 10s));
  cache.put("e", json::object{}, t0 + 60s, t0 + 10s);
  cache.put("f", json::object{}, t0 + 60s, t0 + 10s);
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_FALSE(cache.find("a", t0 + 10s)) << "nothing expired: the oldest went";
}

TEST(introspection_cache, many_tokens_stay_within_the_bound) {
  introspection_cache cache(100);
  for (int i = 0; i < 1000; ++i) {
    cache.put("token-" + std::to_string(i), json::object{{"i", i}},
              t0 + 60s + std::chrono::seconds(i % 7), t0);
  }
  EXPECT_EQ(cache.size(), 100u);
  EXPECT_TRUE(cache.find("token-999", t0));
  EXPECT_TRUE(cache.find("token-900", t0));
  EXPECT_FALSE(cache.find("token-899", t0));
  cache.clear();
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_FALSE(cache.find("token-999", t0));
}

TEST(introspection_cache, a_cache_of_no_entries_keeps_nothing) {
  introspection_cache cache(0);
  cache.put("tok", json::object{}, t0 + 60s, t0);
  EXPECT_FALSE(cache.find("tok", t0));
  EXPECT_EQ(cache.size(), 0u);
}

TEST(introspection_cache, expiry_is_the_ttl_cut_short_at_exp) {
  const auto wall = now;
  const json::object no_exp{{"sub", "alice"}};
  EXPECT_EQ(introspection_cache::expiry(t0, wall, 60s, &no_exp), t0 + 60s);
  const json::object late{{"exp", now_s + 3600}};
  EXPECT_EQ(introspection_cache::expiry(t0, wall, 60s, &late), t0 + 60s);
  const json::object soon{{"exp", now_s + 20}};
  EXPECT_EQ(introspection_cache::expiry(t0, wall, 60s, &soon), t0 + 20s);
  const json::object fraction{{"exp", now_s + 2.5}};
  EXPECT_EQ(introspection_cache::expiry(t0, wall, 60s, &fraction), t0 + 2500ms);
  const json::object past{{"exp", now_s - 1}};
  EXPECT_EQ(introspection_cache::expiry(t0, wall, 60s, &past), t0) << "not kept";
  const json::object huge{{"exp", 1e300}};
  EXPECT_EQ(introspection_cache::expiry(t0, wall, 60s, &huge), t0 + 60s);
  const json::object odd{{"exp", "soon"}};
  EXPECT_EQ(introspection_cache::expiry(t0, wall, 60s, &odd), t0) << "not kept";
}

TEST(introspection_cache, an_inactive_answer_is_kept_a_tenth_of_the_ttl) {
  EXPECT_EQ(introspection_cache::expiry(t0, now, 60s, nullptr), t0 + 6s);
  EXPECT_EQ(introspection_cache::expiry(t0, now, 5s, nullptr), t0 + 500ms);
  EXPECT_EQ(introspection_cache::expiry(t0, now, 0s, nullptr), t0);
  const json::object no_exp;
  EXPECT_EQ(introspection_cache::expiry(t0, now, 0s, &no_exp), t0) << "a ttl of 0: no caching";
}

}  // namespace
}  // namespace mcp_proxy::auth
