#include "auth/jwks.hpp"

#include "jwt_test_keys.hpp"

#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>

namespace mcp_proxy::auth {
namespace {

using namespace std::chrono_literals;
using testing::jwks_document;
using testing::make_key;
using testing::test_key;

struct keys_t {
  test_key rsa = make_key(key_type::rsa, "rsa-1");
  test_key p256 = make_key(key_type::ec_p256, "ec-1");
  test_key p384 = make_key(key_type::ec_p384, "ec-384");
  test_key ed = make_key(key_type::ed25519, "ed-1");
};
const keys_t& keys() {
  static const keys_t k;
  return k;
}

// The document with `key` after one good key, and what the set made of it.
boost::system::result<jwk_set, std::string> with_good_key(const boost::json::object& key) {
  return jwk_set::parse(jwks_document({keys().ed.jwk(), key}));
}

void expect_skipped(const boost::json::object& key, const std::string& reason,
                    const std::string& context) {
  auto set = with_good_key(key);
  ASSERT_TRUE(set) << context << ": " << set.error();
  EXPECT_EQ(set->keys().size(), 1u) << context;
  ASSERT_EQ(set->skipped().size(), 1u) << context;
  EXPECT_NE(set->skipped()[0].find(reason), std::string::npos)
      << context << ": " << set->skipped()[0];
  EXPECT_EQ(set->skipped()[0].rfind("key 1", 0), 0u) << set->skipped()[0];
}

TEST(jwks, reads_rsa_ec_and_ed25519_keys_and_finds_them_by_kid) {
  const auto& k = keys();
  auto set = jwk_set::parse(jwks_document({k.rsa.jwk(), k.p256.jwk(), k.p384.jwk(), k.ed.jwk()}));
  ASSERT_TRUE(set) << set.error();
  EXPECT_TRUE(set->skipped().empty());
  ASSERT_EQ(set->keys().size(), 4u);
  struct row {
    jws_alg alg;
    const char* kid;
    key_type type;
  };
  for (auto [alg, kid, type] :
       {row{jws_alg::rs256, "rsa-1", key_type::rsa}, row{jws_alg::ps512, "rsa-1", key_type::rsa},
        row{jws_alg::es256, "ec-1", key_type::ec_p256},
        row{jws_alg::es384, "ec-384", key_type::ec_p384},
        row{jws_alg::eddsa, "ed-1", key_type::ed25519}}) {
    auto found = set->find(alg, std::string_view(kid));
    ASSERT_TRUE(found) << kid;
    EXPECT_EQ((*found)->kid, kid);
    EXPECT_EQ((*found)->type, type);
  }
  // The public key is the one generated: it compares equal to the test's pair.
  auto rsa = set->find(jws_alg::rs256, std::string_view("rsa-1"));
  EXPECT_EQ(EVP_PKEY_eq((*rsa)->public_key.get(), k.rsa.pair.get()), 1);
  auto ed = set->find(jws_alg::eddsa, std::string_view("ed-1"));
  EXPECT_EQ(EVP_PKEY_eq((*ed)->public_key.get(), k.ed.pair.get()), 1);
  auto ec = set->find(jws_alg::es256, std::string_view("ec-1"));
  EXPECT_EQ(EVP_PKEY_eq((*ec)->public_key.get(), k.p256.pair.get()), 1);
}

TEST(jwks, a_kid_of_another_type_or_an_unknown_kid_finds_nothing) {
  const auto& k = keys();
  auto set = jwk_set::parse(jwks_document({k.rsa.jwk(), k.p256.jwk(), k.ed.jwk()}));
  ASSERT_TRUE(set) << set.error();
  auto r = set->find(jws_alg::es256, std::string_view("rsa-1"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), key_lookup_failure::no_fitting_key);
  r = set->find(jws_alg::rs256, std::string_view("ed-1"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), key_lookup_failure::no_fitting_key);
  r = set->find(jws_alg::es384, std::string_view("ec-1"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), key_lookup_failure::no_fitting_key) << "P-256 key, ES384 token";
  r = set->find(jws_alg::rs256, std::string_view("rsa-2"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), key_lookup_failure::unknown_kid);
}

TEST(jwks, without_a_kid_only_a_single_fitting_key_is_found) {
  const auto& k = keys();
  auto set = jwk_set::parse(jwks_document({k.rsa.jwk(), k.p256.jwk()}));
  ASSERT_TRUE(set) << set.error();
  auto r = set->find(jws_alg::es256, std::nullopt);
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)->kid, "ec-1");
  r = set->find(jws_alg::eddsa, std::nullopt);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), key_lookup_failure::no_fitting_key);

  auto second = make_key(key_type::ec_p256, "ec-2").jwk();
  set = jwk_set::parse(jwks_document({k.rsa.jwk(), k.p256.jwk(), second}));
  ASSERT_TRUE(set) << set.error();
  r = set->find(jws_alg::es256, std::nullopt);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), key_lookup_failure::ambiguous);
  EXPECT_TRUE(set->find(jws_alg::es256, std::string_view("ec-2"))) << "a kid still picks one";
}

TEST(jwks, two_keys_under_one_kid_that_fit_the_same_alg_are_ambiguous) {
  auto a = make_key(key_type::ed25519, "same");
  auto b = make_key(key_type::ed25519, "same");
  auto c = make_key(key_type::ec_p256, "same");
  auto set = jwk_set::parse(jwks_document({a.jwk(), b.jwk(), c.jwk()}));
  ASSERT_TRUE(set) << set.error();
  auto r = set->find(jws_alg::eddsa, std::string_view("same"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), key_lookup_failure::ambiguous);
  EXPECT_TRUE(set->find(jws_alg::es256, std::string_view("same"))) << "one EC key has the kid";
}

TEST(jwks, a_keys_alg_restricts_it) {
  auto jwk = keys().rsa.jwk();
  jwk["alg"] = "PS256";
  auto set = jwk_set::parse(jwks_document({jwk}));
  ASSERT_TRUE(set) << set.error();
  EXPECT_TRUE(set->find(jws_alg::ps256, std::string_view("rsa-1")));
  auto r = set->find(jws_alg::rs256, std::string_view("rsa-1"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), key_lookup_failure::no_fitting_key);
}

TEST(jwks, unknown_key_types_are_skipped_not_fatal) {
  expect_skipped({{"kty", "oct"}, {"kid", "h"}, {"k", "c2VjcmV0"}}, "does not know", "oct");
  expect_skipped({{"kty", "PQC"}, {"x", "AAAA"}}, "does not know", "an invented kty");
}

TEST(jwks, keys_not_for_signatures_are_skipped) {
  auto enc = keys().rsa.jwk();
  enc["use"] = "enc";
  expect_skipped(enc, "use is not", "use enc");
  auto sig = keys().rsa.jwk();
  sig["use"] = "sig";
  auto set = with_good_key(sig);
  ASSERT_TRUE(set) << set.error();
  EXPECT_EQ(set->keys().size(), 2u) << "use sig is kept";
  auto ops = keys().rsa.jwk();
  ops["key_ops"] = boost::json::array{"encrypt"};
  expect_skipped(ops, "key_ops", "key_ops without verify");
  auto x25519 = keys().ed.jwk();
  x25519["crv"] = "X25519";
  expect_skipped(x25519, "curve", "X25519");
  auto p521 = keys().p256.jwk();
  p521["crv"] = "P-521";
  expect_skipped(p521, "curve", "P-521");
}

TEST(jwks, an_ec_point_off_the_curve_is_skipped) {
  auto jwk = keys().p256.jwk();
  auto y = *util::base64url_decode(jwk["y"].as_string());
  y[31] ^= 0x01;
  jwk["y"] = util::base64url_encode(y);
  expect_skipped(jwk, "not on the curve", "y changed");
  // The P-256 point declared on P-384 (wrong coordinate size), and a coordinate cut short.
  jwk = keys().p256.jwk();
  jwk["crv"] = "P-384";
  expect_skipped(jwk, "48 bytes", "P-256 point as P-384");
  jwk = keys().p256.jwk();
  auto x = *util::base64url_decode(jwk["x"].as_string());
  jwk["x"] = util::base64url_encode(x.substr(1));
  expect_skipped(jwk, "32 bytes", "x of 31 bytes");
  // The point at infinity has no affine coordinates; zeros are not on the curve.
  jwk = keys().p256.jwk();
  jwk["x"] = util::base64url_encode(std::string(32, '\0'));
  jwk["y"] = util::base64url_encode(std::string(32, '\0'));
  expect_skipped(jwk, "not on the curve", "(0, 0)");
}

TEST(jwks, weak_malformed_or_private_keys_are_skipped_with_the_reason) {
  auto small = make_key(key_type::rsa, "");
  {
    EVP_PKEY* raw = EVP_RSA_gen(1024);
    ASSERT_NE(raw, nullptr);
    small.pair.reset(raw, EVP_PKEY_free);
  }
  expect_skipped(small.jwk(), "1024 bits", "RSA 1024");
  auto rsa = keys().rsa.jwk();
  rsa.erase("e");
  expect_skipped(rsa, "no e", "no e");
  rsa = keys().rsa.jwk();
  rsa["n"] = std::string(rsa["n"].as_string()) + "=";
  expect_skipped(rsa, "n is not base64url", "padded n");
  rsa = keys().rsa.jwk();
  rsa["e"] = util::base64url_encode(std::string("\x01\x00\x00", 3));
  expect_skipped(rsa, "OpenSSL", "even e");
  rsa = keys().rsa.jwk();
  rsa["kid"] = 7;
  expect_skipped(rsa, "kid is not a string", "numeric kid");
  auto ed = keys().ed.jwk();
  ed["d"] = ed["x"];
  expect_skipped(ed, "private", "a private Ed25519 key");
  ed = keys().ed.jwk();
  ed["alg"] = "HS256";
  expect_skipped(ed, "alg", "alg HS256");
  ed = keys().ed.jwk();
  ed["alg"] = "ES256";
  expect_skipped(ed, "does not fit", "alg ES256 on an OKP key");
  expect_skipped({{"n", "AQAB"}}, "no kty", "no kty");
}

TEST(jwks, the_skip_line_shows_a_printable_kid_only) {
  auto jwk = keys().rsa.jwk();
  jwk["use"] = "enc";
  jwk["kid"] = "enc-key";
  auto set = with_good_key(jwk);
  ASSERT_TRUE(set);
  EXPECT_NE(set->skipped()[0].find("\"enc-key\""), std::string::npos) << set->skipped()[0];
  jwk["kid"] = "line\nbreak";
  set = with_good_key(jwk);
  ASSERT_TRUE(set);
  EXPECT_EQ(set->skipped()[0].find('\n'), std::string::npos) << set->skipped()[0];
}

TEST(jwks, documents_that_are_not_a_usable_set_are_errors) {
  struct bad {
    std::string text;
    const char* reason;
  };
  const auto ed = boost::json::serialize(keys().ed.jwk());
  for (const auto& [text, reason] : std::vector<bad>{
           {"", "not usable"},
           {"[]", "not usable"},
           {R"({"keys":{}})", "no \"keys\" array"},
           {R"({"keys":[]})", "no usable"},
           {R"({"keys":[{"kty":"oct","k":"AAAA"}]})", "no usable"},
           {R"({"keys":[)" + ed + "]} trailing", "not usable"},
           {R"({"keys":[)" + ed + R"(],"keys":[]})", "twice"},
           {R"({"keys":[{"kty":"OKP","kty":"RSA"}]})", "twice"},
       }) {
    auto set = jwk_set::parse(text);
    ASSERT_FALSE(set) << text;
    EXPECT_NE(set.error().find(reason), std::string::npos) << text << ": " << set.error();
  }
}

TEST(jwks, documents_beyond_the_limits_are_errors) {
  jwks_limits limits;
  limits.max_keys = 2;
  const auto& k = keys();
  auto set = jwk_set::parse(jwks_document({k.ed.jwk(), k.p256.jwk(), k.rsa.jwk()}), limits);
  ASSERT_FALSE(set);
  EXPECT_NE(set.error().find("more than 2 keys"), std::string::npos) << set.error();
  limits = {};
  limits.max_document_bytes = 100;
  set = jwk_set::parse(jwks_document({k.rsa.jwk()}), limits);
  ASSERT_FALSE(set);
  EXPECT_NE(set.error().find("larger than 100 bytes"), std::string::npos) << set.error();
}

TEST(jwks, alg_names_are_exact_and_never_none_or_hmac) {
  EXPECT_EQ(alg_from_name("RS256"), jws_alg::rs256);
  EXPECT_EQ(alg_from_name("EdDSA"), jws_alg::eddsa);
  EXPECT_EQ(alg_from_name("ES384"), jws_alg::es384);
  for (const char* name :
       {"none", "None", "HS256", "HS384", "HS512", "rs256", "RS256 ", "ES512", "EDDSA", ""}) {
    EXPECT_FALSE(alg_from_name(name)) << name;
  }
  for (auto alg : {jws_alg::rs256, jws_alg::rs384, jws_alg::rs512, jws_alg::ps256, jws_alg::ps384,
                   jws_alg::ps512, jws_alg::es256, jws_alg::es384, jws_alg::eddsa}) {
    EXPECT_EQ(alg_from_name(alg_name(alg)), alg) << alg_name(alg);
  }
}

TEST(jwks_refresh, an_unknown_kid_fetches_at_most_once_per_interval) {
  using clock = jwks_refresh_policy::clock;
  const auto t0 = clock::time_point(1000s);
  jwks_refresh_policy policy;
  EXPECT_TRUE(policy.may_fetch_for_unknown_kid(t0)) << "never fetched";
  EXPECT_TRUE(policy.stale(t0));
  policy.fetch_started(t0);
  EXPECT_FALSE(policy.may_fetch_for_unknown_kid(t0));
  EXPECT_FALSE(policy.may_fetch_for_unknown_kid(t0 + 29s));
  EXPECT_TRUE(policy.may_fetch_for_unknown_kid(t0 + 30s));
  EXPECT_EQ(policy.next_fetch_allowed(), t0 + 30s);
  EXPECT_FALSE(policy.stale(t0 + 3599s));
  EXPECT_TRUE(policy.stale(t0 + 3600s));
  // A fetch that failed counts as well: the next one waits its interval.
  policy.fetch_started(t0 + 30s);
  EXPECT_FALSE(policy.may_fetch_for_unknown_kid(t0 + 45s));
  EXPECT_TRUE(policy.may_fetch_for_unknown_kid(t0 + 60s));
}

TEST(jwks_refresh, the_interval_and_the_maximum_age_are_configurable) {
  using clock = jwks_refresh_policy::clock;
  const auto t0 = clock::time_point(1000s);
  jwks_refresh_policy policy({5s, 60s});
  policy.fetch_started(t0);
  EXPECT_FALSE(policy.may_fetch_for_unknown_kid(t0 + 4s));
  EXPECT_TRUE(policy.may_fetch_for_unknown_kid(t0 + 5s));
  EXPECT_FALSE(policy.stale(t0 + 59s));
  EXPECT_TRUE(policy.stale(t0 + 60s));
}

}  // namespace
}  // namespace mcp_proxy::auth
