// libFuzzer target: the JOSE core of the OAuth resource server (auth/jwt, auth/jwks,
// auth/scopes), which reads bearer tokens from any client and JWK sets from an authorization
// server (both untrusted). Byte 0 of the input picks what the rest is:
//   bits 0-1 = 0 or 3: a token, verified as it is against the fixed key set below;
//   bits 0-1 = 1: a header JSON text, a 0 byte, a claims JSON text: the target encodes both and
//                 signs them with one of the fixed keys (bits 2-3: Ed25519, P-256, RSA, P-384;
//                 bit 4: PSS instead of PKCS#1 v1.5 for RSA), so that the header and claim
//                 rules run behind a valid signature;
//   bits 0-1 = 2: a JWK set document for jwk_set::parse.
// Properties (a violation aborts):
// - nothing crashes (ASan, UBSan), and no refusal's message holds a part of the token (a
//   base64url run between dots) longer than the 64 characters to which a quoted claim, kid or alg
//   is limited (shorter parts may equal such a value, or the fixed text, by chance);
// - an accepted token names an alg, read again here from its header with Boost.JSON, that is
//   RS*, PS*, ES256, ES384 or EdDSA: never none, never HS*;
// - an accepted token verifies against the fixed key whose kid the result names, and that key
//   fits the alg: for the deterministic schemes (EdDSA, RS*) signing its input again with the
//   private key gives the very signature; for ES* and PS* verify_signature with the key taken
//   from this target's own list, not from the set;
// - an accepted token's claims pass this target's own reading of iss, aud (either of the two
//   accepted audiences) and exp at `now`;
// - a parsed JWK set holds at least one key, each with a public key that fits one alg.
// The seeds (fuzz/corpus/jwt/) are tokens signed with these keys, claims and headers for the
// signing mode, and JWK sets; the keys are test keys, generated for this target alone.

#include "auth/jwt.hpp"
#include "auth/scopes.hpp"

#include "../tests/unit/jwt_test_keys.hpp"

#include <openssl/pem.h>

#include <boost/json/parse.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace auth = mcp_proxy::auth;
namespace json = boost::json;
using auth::jws_alg;
using auth::key_type;

// Test keys (PKCS#8), for this target only.
constexpr const char* ed25519_pem =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIMNpuupm+bJRrR0RtOZkmmQ0qRiCmp7vkehc38cQ6HtR\n"
    "-----END PRIVATE KEY-----\n";

constexpr const char* p256_pem =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgrkejKSYgoteMjbeO\n"
    "lyyfODuvUlJGQ7wMOWwJX+DotsGhRANCAASijKzTYAwBmsO4Dt2DMrHh20qz4zMj\n"
    "E1671PG9h05HxJT7ucbCczLzE3uQTKpssqm53QyekS7M5Bw2XwpUy1s3\n"
    "-----END PRIVATE KEY-----\n";

constexpr const char* p384_pem =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIG2AgEAMBAGByqGSM49AgEGBSuBBAAiBIGeMIGbAgEBBDCX8MRjqHZd5cnVk6R+\n"
    "i+EEbXIZQK1qYGgmaIcnlJgX1kkg7G/46aeR4H54zhhlPz6hZANiAARb19Mj50rz\n"
    "YBNPOBdHGYnfyUfqzAdBxyivvSlDWsP5JyDRlO8kb5mPoV0cOW29co3d7mSPxAGe\n"
    "g5YQYW1J1VUBsXDuMaDZ4hVFKTkOUrO499oheEWC9zRZ7kr5oUjNPyM=\n"
    "-----END PRIVATE KEY-----\n";

constexpr const char* rsa_pem =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQDA4DyHZc2aWuIH\n"
    "t06mtMbbj0xbLFWKhtivZ4CGHMiRJ30eYLmsbYyLXp27EOiaL4vmm36/WldmPmDk\n"
    "a3ecHUMH3JKrnv7ZWOOn8vTJENP+YGg3BFHFqS3xhKe6gR4/ylOB++cMvM8vghGX\n"
    "jbENvW/cDOJtXbYLstD2UShbaFk1x9exD0NNXxXF0HJIEV41vF0uEiUyY1GlNH8/\n"
    "YjuwpUZYrcf9mKHP0zEAop+mKzyQrFXHFrfoauOyzmZ0TZLosEKtK6+vz2F0JNWo\n"
    "zUxXVmIxaMS/kUv2PKx8uRWOvX3hAssS2kZ6gAcDTXwKHuP9oDyopnfrwkkGYe/7\n"
    "w98EifG5AgMBAAECggEARtY0NNAVXoLRb98Jcl2DiWDMPNIACrPywh0DzX2lxfXY\n"
    "VH9Wwfar/wW9bVZM70/WFFh4iQO/hKwVPt8fW0U9+JWwgnqPA7lLR0QKVgwpp8u1\n"
    "irs54xv65TCAv5UrTGddGyiul3WCrGKbXmtqIu83tXw/7sXTleFTMJvm9AdTeFXr\n"
    "4l2mSlRv4h+RKbIZFavMBV2Qw6+ietLJ550OTUleYKCGconPL8o4pvJS1FAOr5Gt\n"
    "e/tz7o/7I0vP3tYzmSxBL4iBz3ZpC8bw37wq9+7d8O4F0lInROQYxeerO8BfWNYD\n"
    "SYEYj6k1ZOq8nhRFLrvF3om0BSiRX6CHYJ1DSvB15wKBgQD/COPITpMlJ1yB66dN\n"
    "jIEw4IeBGTofLnoZE6MCXsQhzESVIG61mrU4vIeSuWCUU2h2s0V2LPxHFD8UZgd+\n"
    "VdBX8VZ8motQVTgA286Cet35+Hou2AfDdeYNCxkDyzE7rrDLJDUumwWZN4nhQ+Hc\n"
    "m2Rmredk863fBZRuFweIQ24LuwKBgQDBmx6I8cf/P3mhoaq/24YrehVqmnpqiVlC\n"
    "Ydofdzm6JxLMJFzjKntwO0R8IdQeKGeBnO+IXWKmTkJ0DppKYGi3ikyt4TpBVMkI\n"
    "3eUs2SCKTUddpHJK+kkLXbBfaW8zScYdkaFSd/IijnZ+gvJLCzNus6/4dewhYR3s\n"
    "1esfKfBPGwKBgQDNaSqVnfvUE/TlS5lv03gGlwFs0JXIoZWD9xX3Bb7w/eZLOlkQ\n"
    "+i92KBsF6TtJnDhqSo/q0+bJlRwNYPQuJA3vlxkyuQL2S/0Ua/XTkASTnjdC3Yq7\n"
    "Oo10+fhG3vSjfls08s/G3uNOebYa8qLLHXlrXiweWkozc/oOBYxyiuTqmwKBgFHJ\n"
    "GoQVRzxPby1VYxE7Rhl1sDhhW5dHwDonpgIm1m8J9IniTo70MkL99ndNvxKiVN9P\n"
    "EW0Urgi9BJuMU6dZxMLMHIpTm81faLFjM13Xt0RVUvF+930u785qXIhhvMT4xEVX\n"
    "cMOqwdHRRsM4w+vppmd8ZrjZ789F/GNBFtsKV2bDAoGBALdwftjTF/QtJ91M2hey\n"
    "2aXXoiOqvqFmDQGMfDrfiDhoTzsQTyKb6m8LsgJf3Hmu+enPrlXLF/wE8J+r6mOY\n"
    "gcGjvi9v9tYcwc4mzE40l8Je2YX+/jkPfrnD/z+AM5lTvdir+VglSGKAR1wRwXqk\n"
    "6xPaoBbSeo7KAQaHNVYVOxAn\n"
    "-----END PRIVATE KEY-----\n";

constexpr std::int64_t now_s = 1'800'000'000;
constexpr std::string_view base64url_alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr const char* issuer = "https://as.example.com";
constexpr const char* audience = "https://proxy.example.com/mcp";
constexpr const char* other_audience = "extra-aud";  // validation_options takes a list

void check(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "property violated: %s\n", what);
  std::abort();
}

auth::testing::test_key load(const char* pem, key_type type, const char* kid) {
  std::unique_ptr<BIO, int (*)(BIO*)> bio(BIO_new_mem_buf(pem, -1), BIO_free);
  EVP_PKEY* key = bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr;
  check(key != nullptr, "a test key loads");
  return {std::shared_ptr<EVP_PKEY>(key, EVP_PKEY_free), type, kid};
}

struct fixture {
  std::vector<auth::testing::test_key> keys{
      load(ed25519_pem, key_type::ed25519, "ed-1"), load(p256_pem, key_type::ec_p256, "ec-1"),
      load(rsa_pem, key_type::rsa, "rsa-1"), load(p384_pem, key_type::ec_p384, "ec-384")};
  auth::jwk_set set;
  auth::validation_options options;
  fixture() {
    std::vector<json::object> jwks;
    for (const auto& k : keys) jwks.push_back(k.jwk());
    auto parsed = auth::jwk_set::parse(auth::testing::jwks_document(jwks));
    check(parsed && parsed->keys().size() == keys.size(), "the fixed set parses");
    set = std::move(*parsed);
    options.issuer = issuer;
    options.audiences = {audience, other_audience};
  }
  const auth::testing::test_key* by_kid(std::string_view kid) const {
    for (const auto& k : keys)
      if (k.kid == kid) return &k;
    return nullptr;
  }
};

const fixture& fixed() {
  static const fixture f;
  return f;
}

bool deterministic(jws_alg alg) {
  return alg == jws_alg::eddsa || alg == jws_alg::rs256 || alg == jws_alg::rs384 ||
         alg == jws_alg::rs512;
}

// This target's own reading of the claims that must hold for an accepted token.
bool claims_hold(const json::object& claims) {
  const auto* iss = claims.if_contains("iss");
  const auto* aud = claims.if_contains("aud");
  const auto* exp = claims.if_contains("exp");
  if (!iss || !aud || !exp || !exp->is_number()) return false;
  auto one_of_ours = [](const json::value& a) {
    return a.is_string() && (a.get_string() == audience || a.get_string() == other_audience);
  };
  bool ours = one_of_ours(*aud);
  if (const auto* list = aud->if_array()) {
    for (const auto& a : *list) ours = ours || one_of_ours(a);
  }
  return iss->is_string() && iss->get_string() == issuer && ours &&
         exp->to_number<double>() + 60 > static_cast<double>(now_s);
}

void verify(const std::string& token) {
  const auto& f = fixed();
  const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(now_s));
  auto r = auth::verify_jwt(token, f.set, f.options, now);
  if (!r) {
    for (std::size_t start = 0; start < token.size();) {
      const auto end = std::min(token.find('.', start), token.size());
      const auto part = std::string_view(token).substr(start, end - start);
      if (part.size() > 64 && part.find_first_not_of(base64url_alphabet) == part.npos) {
        check(r.error().message.find(part) == std::string::npos, "an error quotes the token");
      }
      start = end + 1;
    }
    return;
  }
  // The alg, read again from the header.
  const auto first = token.find('.');
  const auto second = token.find('.', first + 1);
  const auto header_text = mcp_proxy::util::base64url_decode(token.substr(0, first));
  check(header_text.has_value(), "an accepted header decodes");
  json::error_code ec;
  const auto header = json::parse(*header_text, ec);
  check(!ec && header.is_object(), "an accepted header is an object");
  const auto* alg_value = header.as_object().if_contains("alg");
  check(alg_value && alg_value->is_string(), "an accepted header has an alg");
  const std::string_view alg_text = alg_value->get_string();
  check(alg_text != "none" && alg_text.substr(0, 2) != "HS", "none or HS* accepted");
  const auto alg = auth::alg_from_name(alg_text);
  check(alg && *alg == r->alg, "the accepted alg is the header's");

  const auto* key = f.by_kid(r->kid);
  check(key != nullptr, "accepted by a key not in the fixed set");
  auth::jwk as_jwk{key->kid, std::nullopt, key->type, key->pair};
  check(as_jwk.fits(*alg), "accepted by a key that does not fit the alg");
  const auto input = token.substr(0, second);
  const auto signature = mcp_proxy::util::base64url_decode(token.substr(second + 1));
  check(signature.has_value(), "an accepted signature decodes");
  if (deterministic(*alg)) {
    check(key->sign(*alg, input) == *signature, "the signature is not the key's");
  } else {
    check(auth::verify_signature(*alg, as_jwk, input, *signature),
          "the signature does not verify with the fixed key");
  }
  check(claims_hold(r->claims), "the claims do not hold");
  (void)auth::scope_set::from_claims(r->claims);
}

void sign_and_verify(std::uint8_t mode, std::string_view rest) {
  const auto& f = fixed();
  const auto& key = f.keys[(mode >> 2) & 3];
  jws_alg alg = jws_alg::eddsa;
  switch (key.type) {
    case key_type::ed25519:
      alg = jws_alg::eddsa;
      break;
    case key_type::ec_p256:
      alg = jws_alg::es256;
      break;
    case key_type::ec_p384:
      alg = jws_alg::es384;
      break;
    case key_type::rsa:
      alg = (mode & 0x10) ? jws_alg::ps256 : jws_alg::rs256;
      break;
  }
  const auto split = rest.find('\0');
  const auto header = rest.substr(0, split);
  const auto claims =
      split == std::string_view::npos ? std::string_view("{}") : rest.substr(split + 1);
  const auto input = auth::testing::signing_input(header, claims);
  verify(input + "." + mcp_proxy::util::base64url_encode(key.sign(alg, input)));
}

void parse_set(std::string_view document) {
  auto set = auth::jwk_set::parse(document);
  if (!set) return;
  check(!set->keys().empty(), "a parsed set without keys");
  for (const auto& k : set->keys()) {
    check(k.public_key != nullptr, "a key without a public key");
    bool fits_one = false;
    for (auto alg : {jws_alg::rs256, jws_alg::es256, jws_alg::es384, jws_alg::eddsa})
      fits_one = fits_one || k.fits(alg) || (k.alg && k.fits(*k.alg));
    check(fits_one, "a key that fits no alg");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] & 3) {
    case 1:
      sign_and_verify(data[0], rest);
      break;
    case 2:
      parse_set(rest);
      break;
    default:
      verify(std::string(rest));
      break;
  }
  return 0;
}
