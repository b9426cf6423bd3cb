#include "auth/jwt.hpp"

#include "jwt_test_keys.hpp"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace mcp_proxy::auth {
namespace {

using namespace std::chrono_literals;
using testing::make_hmac_token;
using testing::make_key;
using testing::make_token;
using testing::signing_input;
using testing::test_key;

constexpr std::int64_t now_s = 1'800'000'000;
const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(now_s));
constexpr const char* issuer = "https://as.example.com";
constexpr const char* audience = "https://proxy.example.com/mcp";

// Key generation is the slow part (RSA 2048 under ASan): one set for every test.
struct keys_t {
  test_key rsa = make_key(key_type::rsa, "rsa-1");
  test_key p256 = make_key(key_type::ec_p256, "ec-1");
  test_key p384 = make_key(key_type::ec_p384, "ec-384");
  test_key ed = make_key(key_type::ed25519, "ed-1");
  jwk_set set;
  keys_t() {
    auto parsed =
        jwk_set::parse(testing::jwks_document({rsa.jwk(), p256.jwk(), p384.jwk(), ed.jwk()}));
    if (!parsed) throw std::runtime_error(parsed.error());
    set = std::move(*parsed);
  }
};
const keys_t& keys() {
  static const keys_t k;
  return k;
}

boost::json::object good_claims() {
  return {{"iss", issuer}, {"aud", audience},   {"sub", "alice"},       {"exp", now_s + 300},
          {"iat", now_s},  {"nbf", now_s - 10}, {"scope", "tools:read"}};
}

validation_options options() {
  validation_options o;
  o.issuer = issuer;
  o.audiences = {audience};
  return o;
}

boost::system::result<verified_token, token_error> check(const std::string& token,
                                                         const validation_options& o = options()) {
  return verify_jwt(token, keys().set, o, now);
}

// A refusal for the reason given, as invalid_token, with an error line that quotes no part of
// the token.
void expect_refused(const std::string& token, token_failure why, const std::string& context,
                    const validation_options& o = options()) {
  auto r = check(token, o);
  ASSERT_FALSE(r) << context << ": accepted";
  EXPECT_EQ(r.error().failure, why) << context << ": " << r.error().message;
  EXPECT_EQ(r.error().category(), bearer_error::invalid_token) << context;
  EXPECT_EQ(r.error().message.find('\n'), std::string::npos) << context;
  EXPECT_FALSE(r.error().message.empty()) << context;
  std::size_t start = 0;
  while (start < token.size()) {
    auto end = std::min(token.find('.', start), token.size());
    auto part = token.substr(start, end - start);
    if (part.size() >= 8) {
      EXPECT_EQ(r.error().message.find(part), std::string::npos)
          << context << ": the error quotes the token: " << r.error().message;
    }
    start = end + 1;
  }
}

TEST(jwt, every_supported_alg_verifies_with_its_key) {
  const auto& k = keys();
  struct row {
    const test_key* key;
    jws_alg alg;
  };
  for (auto [key, alg] :
       {row{&k.rsa, jws_alg::rs256}, row{&k.rsa, jws_alg::rs384}, row{&k.rsa, jws_alg::rs512},
        row{&k.rsa, jws_alg::ps256}, row{&k.rsa, jws_alg::ps384}, row{&k.rsa, jws_alg::ps512},
        row{&k.p256, jws_alg::es256}, row{&k.p384, jws_alg::es384}, row{&k.ed, jws_alg::eddsa}}) {
    auto r = check(make_token(*key, alg, good_claims()));
    ASSERT_TRUE(r) << alg_name(alg) << ": " << r.error().message;
    EXPECT_EQ(r->alg, alg);
    EXPECT_EQ(r->kid, key->kid);
    EXPECT_EQ(r->claims.at("sub").as_string(), "alice") << alg_name(alg);
    EXPECT_EQ(std::string_view(r->header.at("alg").as_string()), alg_name(alg));
  }
}

TEST(jwt, typ_jwt_and_at_jwt_pass_and_other_types_are_refused) {
  for (const char* typ : {"JWT", "jwt", "at+jwt", "application/at+jwt"}) {
    EXPECT_TRUE(check(make_token(keys().ed, jws_alg::eddsa, good_claims(), {{"typ", typ}}))) << typ;
  }
  expect_refused(make_token(keys().ed, jws_alg::eddsa, good_claims(), {{"typ", "dpop+jwt"}}),
                 token_failure::malformed, "typ dpop+jwt");
  expect_refused(make_token(keys().ed, jws_alg::eddsa, good_claims(), {{"typ", 1}}),
                 token_failure::malformed, "typ a number");
}

TEST(jwt, expired_tokens_are_refused_beyond_the_skew) {
  auto c = good_claims();
  c["exp"] = now_s - 61;
  expect_refused(make_token(keys().rsa, jws_alg::rs256, c), token_failure::expired, "61 s ago");
  c["exp"] = now_s - 59;
  EXPECT_TRUE(check(make_token(keys().rsa, jws_alg::rs256, c))) << "within the default 60 s";
  auto strict = options();
  strict.clock_skew = 0s;
  expect_refused(make_token(keys().rsa, jws_alg::rs256, c), token_failure::expired, "no skew",
                 strict);
  c["exp"] = now_s;
  expect_refused(make_token(keys().rsa, jws_alg::rs256, c), token_failure::expired,
                 "exp is now, no skew", strict);
  c["exp"] = static_cast<double>(now_s) + 0.5;
  EXPECT_TRUE(check(make_token(keys().rsa, jws_alg::rs256, c), strict)) << "a fractional exp";
}

TEST(jwt, a_token_without_exp_is_refused) {
  auto c = good_claims();
  c.erase("exp");
  expect_refused(make_token(keys().ed, jws_alg::eddsa, c), token_failure::missing_claim, "no exp");
  c["exp"] = std::to_string(now_s + 300);
  expect_refused(make_token(keys().ed, jws_alg::eddsa, c), token_failure::invalid_claim,
                 "exp a string");
}

TEST(jwt, not_yet_valid_and_future_iat_are_refused_beyond_the_skew) {
  auto c = good_claims();
  c["nbf"] = now_s + 61;
  expect_refused(make_token(keys().p256, jws_alg::es256, c), token_failure::not_yet_valid, "nbf");
  c["nbf"] = now_s + 59;
  EXPECT_TRUE(check(make_token(keys().p256, jws_alg::es256, c))) << "nbf within the skew";
  c["nbf"] = now_s;
  c["iat"] = now_s + 120;
  expect_refused(make_token(keys().p256, jws_alg::es256, c), token_failure::issued_in_future,
                 "iat");
  auto wide = options();
  wide.clock_skew = 180s;
  EXPECT_TRUE(check(make_token(keys().p256, jws_alg::es256, c), wide)) << "a wider skew";
}

TEST(jwt, the_issuer_must_match_exactly) {
  for (const char* iss : {"https://evil.example.com", "https://as.example.com/",
                          "HTTPS://AS.EXAMPLE.COM", "https://as.example.co"}) {
    auto c = good_claims();
    c["iss"] = iss;
    expect_refused(make_token(keys().rsa, jws_alg::rs256, c), token_failure::wrong_issuer, iss);
  }
  auto c = good_claims();
  c.erase("iss");
  expect_refused(make_token(keys().rsa, jws_alg::rs256, c), token_failure::missing_claim, "no iss");
  c["iss"] = boost::json::array{issuer};
  expect_refused(make_token(keys().rsa, jws_alg::rs256, c), token_failure::invalid_claim,
                 "iss an array");
}

TEST(jwt, the_audience_must_name_this_resource) {
  auto c = good_claims();
  c["aud"] = "https://other.example.com/mcp";
  expect_refused(make_token(keys().rsa, jws_alg::rs256, c), token_failure::wrong_audience, "aud");
  c["aud"] = "https://proxy.example.com/mcp/";
  expect_refused(make_token(keys().rsa, jws_alg::rs256, c), token_failure::wrong_audience,
                 "aud with a trailing slash");
  c["aud"] = boost::json::array{"https://other.example.com", "https://x.example.com"};
  expect_refused(make_token(keys().rsa, jws_alg::rs256, c), token_failure::wrong_audience,
                 "aud array without ours");
  c["aud"] = boost::json::array{};
  expect_refused(make_token(keys().rsa, jws_alg::rs256, c), token_failure::wrong_audience,
                 "empty aud");
  c["aud"] = boost::json::array{"https://other.example.com", audience};
  EXPECT_TRUE(check(make_token(keys().rsa, jws_alg::rs256, c))) << "aud array holding ours";
  c["aud"] = boost::json::array{audience, 7};
  expect_refused(make_token(keys().rsa, jws_alg::rs256, c), token_failure::invalid_claim,
                 "aud array with a number");
  c.erase("aud");
  expect_refused(make_token(keys().rsa, jws_alg::rs256, c), token_failure::missing_claim, "no aud");
}

TEST(jwt, the_audience_may_be_any_of_several) {
  auto o = options();
  o.audiences = {"https://proxy.example.com/mcp", "https://proxy.example.com/sse", "extra-aud"};
  auto c = good_claims();
  for (const char* aud :
       {"https://proxy.example.com/mcp", "https://proxy.example.com/sse", "extra-aud"}) {
    c["aud"] = aud;
    auto r = check(make_token(keys().p256, jws_alg::es256, c), o);
    EXPECT_TRUE(r) << aud << ": " << (r ? "" : r.error().message);
  }
  c["aud"] = boost::json::array{"https://other.example.com", "extra-aud"};
  EXPECT_TRUE(check(make_token(keys().p256, jws_alg::es256, c), o)) << "array holding one";
  c["aud"] = boost::json::array{"https://other.example.com", "EXTRA-AUD"};
  expect_refused(make_token(keys().p256, jws_alg::es256, c), token_failure::wrong_audience,
                 "array holding none (compared exactly)", o);
  c["aud"] = "https://proxy.example.com/message";
  expect_refused(make_token(keys().p256, jws_alg::es256, c), token_failure::wrong_audience,
                 "a string naming none", o);
  c["aud"] = "";
  expect_refused(make_token(keys().p256, jws_alg::es256, c), token_failure::wrong_audience,
                 "an empty aud", o);
  c["aud"] = boost::json::object{{"a", "extra-aud"}};
  expect_refused(make_token(keys().p256, jws_alg::es256, c), token_failure::invalid_claim,
                 "aud an object", o);
}

TEST(jwt, check_audience_alone_reads_a_string_or_an_array) {
  const std::vector<std::string> ours{"a", "b"};
  EXPECT_TRUE(check_audience(boost::json::value("b"), ours));
  EXPECT_TRUE(check_audience(boost::json::value(boost::json::array{"x", "a"}), ours));
  auto none = check_audience(boost::json::value(boost::json::array{"x"}), ours);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().failure, token_failure::wrong_audience);
  EXPECT_EQ(none.error().message, "aud names none of the 2 audiences of this resource");
  auto one = check_audience(boost::json::value("x"), {"a"});
  ASSERT_FALSE(one);
  EXPECT_EQ(one.error().message, R"(aud does not name this resource "a")");
  auto number = check_audience(boost::json::value(7), ours);
  ASSERT_FALSE(number);
  EXPECT_EQ(number.error().failure, token_failure::invalid_claim);
}

TEST(jwt, alg_none_is_refused_with_or_without_a_signature) {
  const auto claims = testing::encode_json(good_claims());
  for (const char* alg : {"none", "None", "NONE"}) {
    const auto header = testing::encode_json({{"alg", alg}, {"kid", "rsa-1"}});
    for (const char* sig : {"", "c2lnbmF0dXJl"}) {
      expect_refused(header + "." + claims + "." + sig, token_failure::unsupported_alg,
                     std::string(alg) + " signature '" + sig + "'");
    }
    EXPECT_NE(check(header + "." + claims + ".").error().message.find("none"), std::string::npos);
  }
}

TEST(jwt, hmac_with_the_public_key_as_secret_is_refused) {
  const auto& rsa = keys().rsa;
  struct hs {
    const char* alg;
    const char* digest;
  };
  for (auto [alg, digest] : {hs{"HS256", "SHA256"}, hs{"HS384", "SHA384"}, hs{"HS512", "SHA512"}}) {
    for (const auto& secret :
         {rsa.public_pem(), rsa.public_der(), boost::json::serialize(rsa.jwk())}) {
      for (const char* kid : {"rsa-1", "ec-1", ""}) {
        boost::json::object header;
        if (*kid) header["kid"] = kid;
        expect_refused(make_hmac_token(alg, digest, secret, good_claims(), header),
                       token_failure::unsupported_alg, std::string(alg) + " kid " + kid);
      }
    }
  }
  // Even a set that holds an HMAC key ("oct") never verifies one: it is not a key of the set.
  auto with_oct = jwk_set::parse(
      testing::jwks_document({rsa.jwk(), {{"kty", "oct"}, {"kid", "hmac"}, {"k", "c2VjcmV0"}}}));
  ASSERT_TRUE(with_oct) << with_oct.error();
  auto r =
      verify_jwt(make_hmac_token("HS256", "SHA256", "secret", good_claims(), {{"kid", "hmac"}}),
                 *with_oct, options(), now);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().failure, token_failure::unsupported_alg);
}

TEST(jwt, a_kid_naming_a_key_of_another_type_is_refused) {
  const auto& k = keys();
  // Signed by the EC key, but its kid names the RSA key (and the other ways round).
  expect_refused(make_token(k.p256, jws_alg::es256, good_claims(), {{"kid", "rsa-1"}}),
                 token_failure::key_mismatch, "ES256 with the RSA kid");
  expect_refused(make_token(k.rsa, jws_alg::rs256, good_claims(), {{"kid", "ed-1"}}),
                 token_failure::key_mismatch, "RS256 with the Ed25519 kid");
  expect_refused(make_token(k.ed, jws_alg::eddsa, good_claims(), {{"kid", "ec-1"}}),
                 token_failure::key_mismatch, "EdDSA with the EC kid");
  expect_refused(make_token(k.p384, jws_alg::es384, good_claims(), {{"kid", "ec-1"}}),
                 token_failure::key_mismatch, "ES384 with the P-256 kid");
  // The right type but another key: the signature fails.
  auto other = make_key(key_type::ed25519, "ed-1");
  expect_refused(make_token(other, jws_alg::eddsa, good_claims()), token_failure::bad_signature,
                 "another Ed25519 key under the same kid");
}

TEST(jwt, a_key_with_its_own_alg_serves_that_alg_only) {
  const auto& rsa = keys().rsa;
  auto jwk = rsa.jwk();
  jwk["alg"] = "RS256";
  auto set = jwk_set::parse(testing::jwks_document({jwk}));
  ASSERT_TRUE(set) << set.error();
  EXPECT_TRUE(verify_jwt(make_token(rsa, jws_alg::rs256, good_claims()), *set, options(), now));
  auto r = verify_jwt(make_token(rsa, jws_alg::ps256, good_claims()), *set, options(), now);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().failure, token_failure::key_mismatch) << r.error().message;
}

TEST(jwt, an_unknown_kid_says_so_so_that_the_set_can_be_fetched_again) {
  auto fresh = make_key(key_type::ed25519, "ed-2");
  expect_refused(make_token(fresh, jws_alg::eddsa, good_claims()), token_failure::unknown_key,
                 "kid ed-2");
  auto r = check(make_token(fresh, jws_alg::eddsa, good_claims(), {{"kid", "bad\nkid"}}));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message.find("bad"), std::string::npos) << "unprintable kids are not echoed";
}

TEST(jwt, without_a_kid_exactly_one_fitting_key_is_used) {
  const auto& k = keys();
  EXPECT_TRUE(check(make_token(k.ed, jws_alg::eddsa, good_claims(), {{"kid", nullptr}})))
      << "one Ed25519 key in the set";
  auto two =
      jwk_set::parse(testing::jwks_document({k.ed.jwk(), make_key(key_type::ed25519, "").jwk()}));
  ASSERT_TRUE(two) << two.error();
  auto r = verify_jwt(make_token(k.ed, jws_alg::eddsa, good_claims(), {{"kid", nullptr}}), *two,
                      options(), now);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().failure, token_failure::key_mismatch) << r.error().message;
}

TEST(jwt, a_tampered_payload_or_signature_fails_verification) {
  const auto& k = keys();
  for (auto [key, alg] : {std::pair{&k.rsa, jws_alg::rs256}, std::pair{&k.rsa, jws_alg::ps256},
                          std::pair{&k.p256, jws_alg::es256}, std::pair{&k.ed, jws_alg::eddsa}}) {
    const auto token = make_token(*key, alg, good_claims());
    const auto first = token.find('.');
    const auto second = token.find('.', first + 1);
    // Another payload under the original signature: a raised exp.
    auto claims = good_claims();
    claims["exp"] = now_s + 999999;
    const auto forged =
        token.substr(0, first) + "." + testing::encode_json(claims) + token.substr(second);
    expect_refused(forged, token_failure::bad_signature, std::string(alg_name(alg)) + " payload");
    // One bit of the signature flipped.
    auto sig = *util::base64url_decode(token.substr(second + 1));
    sig[sig.size() / 2] ^= 0x01;
    expect_refused(token.substr(0, second + 1) + util::base64url_encode(sig),
                   token_failure::bad_signature, std::string(alg_name(alg)) + " signature");
    // The signature cut short.
    sig = *util::base64url_decode(token.substr(second + 1));
    expect_refused(token.substr(0, second + 1) + util::base64url_encode(sig.substr(1)),
                   token_failure::bad_signature, std::string(alg_name(alg)) + " short");
  }
}

TEST(jwt, an_ecdsa_signature_in_der_is_refused) {
  for (const auto* key : {&keys().p256, &keys().p384}) {
    const auto alg = key->type == key_type::ec_p256 ? jws_alg::es256 : jws_alg::es384;
    const auto input = testing::encode_json({{"alg", alg_name(alg)}, {"kid", key->kid}}) + "." +
                       testing::encode_json(good_claims());
    const auto der = key->sign(alg, input, true);
    ASSERT_EQ(static_cast<unsigned char>(der[0]), 0x30) << "a DER SEQUENCE";
    expect_refused(input + "." + util::base64url_encode(der), token_failure::bad_signature,
                   std::string(alg_name(alg)) + " DER");
    EXPECT_TRUE(check(input + "." + util::base64url_encode(key->sign(alg, input))))
        << "the same input signed as R||S";
  }
}

TEST(jwt, malformed_compact_serializations_are_refused) {
  const auto token = make_token(keys().ed, jws_alg::eddsa, good_claims());
  ASSERT_TRUE(check(token));
  const auto first = token.find('.');
  const auto second = token.find('.', first + 1);
  const auto header = token.substr(0, first);
  const auto payload = token.substr(first + 1, second - first - 1);
  const auto sig = token.substr(second + 1);
  struct bad {
    std::string token;
    const char* what;
  };
  for (const auto& [t, what] : std::vector<bad>{
           {"", "empty"},
           {header + "." + payload, "two parts"},
           {token + ".", "four parts"},
           {token + ".AAAA.BBBB", "five parts (JWE)"},
           {header + "=." + payload + "." + sig, "padded header"},
           {header + "." + payload + "." + sig + "==", "padded signature"},
           {header + "." + payload + "==." + sig, "padded payload"},
           {" " + token, "leading space"},
           {token + "\n", "trailing newline"},
           {header + ". " + payload + "." + sig, "space inside"},
           {header + "." + payload + "." + sig.substr(0, 10) + "+" + sig.substr(11), "'+'"},
           {header + "." + payload + "." + sig.substr(0, 10) + "/" + sig.substr(11), "'/'"},
           {"." + payload + "." + sig, "empty header"},
           {header + "." + payload + ".", "empty signature"},
           {header + "." + payload + "." + sig.substr(1), "a signature of 4n+1 characters"},
           {util::base64url_encode("not json") + "." + payload + "." + sig, "header not JSON"},
           {util::base64url_encode("[\"alg\",\"EdDSA\"]") + "." + payload + "." + sig,
            "header an array"},
           {util::base64url_encode(R"({"alg":"EdDSA","kid":"ed-1"} x)") + "." + payload + "." + sig,
            "text after the header"},
           {util::base64url_encode(R"({"kid":"ed-1"})") + "." + payload + "." + sig, "no alg"},
           {util::base64url_encode(R"({"alg":["EdDSA"]})") + "." + payload + "." + sig,
            "alg an array"},
       }) {
    expect_refused(t, token_failure::malformed, what);
  }
}

TEST(jwt, duplicate_keys_are_refused_in_the_header_and_in_the_claims) {
  const auto& ed = keys().ed;
  const auto claims = boost::json::serialize(good_claims());
  // alg twice: a parser that keeps the first sees HS256, one that keeps the last EdDSA.
  auto input = signing_input(R"({"alg":"HS256","alg":"EdDSA","kid":"ed-1"})", claims);
  expect_refused(input + "." + util::base64url_encode(ed.sign(jws_alg::eddsa, input)),
                 token_failure::malformed, "alg twice");
  // A validly signed token whose claims spell sub twice, and nested ones too.
  for (const char* dup : {R"("sub":"alice","sub":"admin")", R"("x":{"a":1,"a":2})",
                          R"("x":[{"a":1},{"b":1,"b":2}])"}) {
    auto c = claims;
    c.insert(1, std::string(dup) + ",");
    input = signing_input(R"({"alg":"EdDSA","kid":"ed-1"})", c);
    expect_refused(input + "." + util::base64url_encode(ed.sign(jws_alg::eddsa, input)),
                   token_failure::malformed, dup);
  }
  // Equal keys in different objects are fine.
  auto c = claims;
  c.insert(1, R"("x":{"a":1},"y":{"a":1},)");
  input = signing_input(R"({"alg":"EdDSA","kid":"ed-1"})", c);
  EXPECT_TRUE(check(input + "." + util::base64url_encode(ed.sign(jws_alg::eddsa, input))));
}

TEST(jwt, claims_that_are_not_an_object_are_refused_even_when_signed) {
  const auto& ed = keys().ed;
  for (const char* payload : {"[1,2]", "\"text\"", "", "{\"exp\":1"}) {
    auto input = signing_input(R"({"alg":"EdDSA","kid":"ed-1"})", payload);
    expect_refused(input + "." + util::base64url_encode(ed.sign(jws_alg::eddsa, input)),
                   token_failure::malformed, payload);
  }
}

TEST(jwt, oversized_tokens_are_refused_before_any_work) {
  auto c = good_claims();
  c["pad"] = std::string(20000, 'a');
  const auto token = make_token(keys().ed, jws_alg::eddsa, c);
  expect_refused(token, token_failure::malformed, "20 kB of claims");
  EXPECT_NE(check(token).error().message.find("longer than 16384 bytes"), std::string::npos);
  auto o = options();
  o.limits.max_token_bytes = 32 * 1024;
  EXPECT_TRUE(check(token, o)) << "within a larger limit";
  // Deep nesting is bounded too.
  std::string deep = "{\"iss\":\"x\",\"n\":" + std::string(40, '[') + std::string(40, ']') + "}";
  auto input = signing_input(R"({"alg":"EdDSA","kid":"ed-1"})", deep);
  expect_refused(input + "." + util::base64url_encode(keys().ed.sign(jws_alg::eddsa, input)),
                 token_failure::malformed, "40 levels deep");
}

TEST(jwt, crit_headers_are_refused) {
  expect_refused(make_token(keys().ed, jws_alg::eddsa, good_claims(),
                            {{"crit", boost::json::array{"b64"}}, {"b64", false}}),
                 token_failure::malformed, "crit b64");
}

TEST(jwt, allowed_algs_narrow_what_is_accepted) {
  auto o = options();
  o.allowed_algs = {jws_alg::rs256};
  EXPECT_TRUE(check(make_token(keys().rsa, jws_alg::rs256, good_claims()), o));
  expect_refused(make_token(keys().rsa, jws_alg::ps256, good_claims()),
                 token_failure::unsupported_alg, "PS256 not allowed", o);
  expect_refused(make_token(keys().ed, jws_alg::eddsa, good_claims()),
                 token_failure::unsupported_alg, "EdDSA not allowed", o);
}

TEST(jwt, an_unknown_alg_is_refused) {
  const auto& ed = keys().ed;
  for (const char* alg : {"ES512", "RS1", "eddsa", "ES256K", ""}) {
    auto input = signing_input(std::string(R"({"kid":"ed-1","alg":")") + alg + "\"}",
                               boost::json::serialize(good_claims()));
    expect_refused(input + "." + util::base64url_encode(ed.sign(jws_alg::eddsa, input)),
                   token_failure::unsupported_alg, alg);
  }
}

TEST(jwt, nothing_is_accepted_without_an_issuer_and_an_audience_to_check) {
  auto o = options();
  o.issuer.clear();
  expect_refused(make_token(keys().ed, jws_alg::eddsa, good_claims()), token_failure::misconfigured,
                 "no issuer", o);
  o = options();
  o.audiences.clear();
  expect_refused(make_token(keys().ed, jws_alg::eddsa, good_claims()), token_failure::misconfigured,
                 "no audience", o);
  o.audiences = {audience, ""};
  expect_refused(make_token(keys().ed, jws_alg::eddsa, good_claims()), token_failure::misconfigured,
                 "an empty audience in the list", o);
}

TEST(jwt, every_failure_maps_to_invalid_token) {
  EXPECT_EQ(bearer_error_code(bearer_error::invalid_token), "invalid_token");
  EXPECT_EQ(bearer_error_code(bearer_error::invalid_request), "invalid_request");
  EXPECT_EQ(bearer_error_code(bearer_error::insufficient_scope), "insufficient_scope");
  const token_error expired{token_failure::expired, "x"};
  EXPECT_EQ(expired.category(), bearer_error::invalid_token);
}

TEST(jwt, validate_claims_alone_checks_the_times_at_the_given_now) {
  const auto c = good_claims();
  EXPECT_TRUE(validate_claims(c, options(), now));
  auto later = validate_claims(c, options(), now + 361s);
  ASSERT_FALSE(later);
  EXPECT_EQ(later.error().failure, token_failure::expired);
  auto earlier = validate_claims(c, options(), now - 71s);
  ASSERT_FALSE(earlier);
  EXPECT_EQ(earlier.error().failure, token_failure::not_yet_valid);
}

}  // namespace
}  // namespace mcp_proxy::auth
