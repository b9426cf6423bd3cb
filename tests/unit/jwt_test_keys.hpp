#pragma once
// Keys and tokens made in the test with OpenSSL 3 EVP, for the tests of auth/ and fuzz/jwt.cpp:
// key pairs (RSA 2048, P-256, P-384, Ed25519), their public JWKs, tokens signed with them in JWS
// form (ECDSA as raw R||S, or as DER to show that DER is refused), and HMAC tokens for the
// key-confusion cases. Header-only: the unit tests are built from *_test.cpp files alone.

#include "auth/jwks.hpp"
#include "util/base64.hpp"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace mcp_proxy::auth::testing {

namespace json = boost::json;

inline void require(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("OpenSSL test helper failed: ") + what);
}

inline std::string bignum_bytes(const EVP_PKEY* key, const char* param, int pad_to = 0) {
  BIGNUM* bn = nullptr;
  require(EVP_PKEY_get_bn_param(key, param, &bn) == 1, param);
  std::string out(pad_to ? static_cast<std::size_t>(pad_to) : BN_num_bytes(bn), '\0');
  auto* to = reinterpret_cast<unsigned char*>(out.data());
  const int n = pad_to ? BN_bn2binpad(bn, to, pad_to) : BN_bn2bin(bn, to);
  BN_free(bn);
  require(n >= 0, "BN_bn2bin");
  return out;
}

struct test_key {
  std::shared_ptr<EVP_PKEY> pair;  // private and public
  key_type type = key_type::rsa;
  std::string kid;

  std::size_t coordinate_bytes() const { return type == key_type::ec_p384 ? 48 : 32; }

  // The public JWK (RFC 7517/7518), with the kid when there is one.
  json::object jwk() const {
    json::object k;
    switch (type) {
      case key_type::rsa:
        k["kty"] = "RSA";
        k["n"] = util::base64url_encode(bignum_bytes(pair.get(), OSSL_PKEY_PARAM_RSA_N));
        k["e"] = util::base64url_encode(bignum_bytes(pair.get(), OSSL_PKEY_PARAM_RSA_E));
        break;
      case key_type::ec_p256:
      case key_type::ec_p384: {
        const int size = static_cast<int>(coordinate_bytes());
        k["kty"] = "EC";
        k["crv"] = type == key_type::ec_p256 ? "P-256" : "P-384";
        k["x"] = util::base64url_encode(bignum_bytes(pair.get(), OSSL_PKEY_PARAM_EC_PUB_X, size));
        k["y"] = util::base64url_encode(bignum_bytes(pair.get(), OSSL_PKEY_PARAM_EC_PUB_Y, size));
        break;
      }
      case key_type::ed25519: {
        std::string x(32, '\0');
        std::size_t len = x.size();
        require(EVP_PKEY_get_raw_public_key(pair.get(), reinterpret_cast<unsigned char*>(x.data()),
                                            &len) == 1,
                "raw public key");
        k["kty"] = "OKP";
        k["crv"] = "Ed25519";
        k["x"] = util::base64url_encode(x);
        break;
      }
    }
    if (!kid.empty()) k["kid"] = kid;
    return k;
  }

  // The public key as SubjectPublicKeyInfo, PEM or DER: what an attacker would try as an HMAC
  // secret.
  std::string public_pem() const {
    std::unique_ptr<BIO, int (*)(BIO*)> bio(BIO_new(BIO_s_mem()), BIO_free);
    require(bio && PEM_write_bio_PUBKEY(bio.get(), pair.get()) == 1, "PEM_write_bio_PUBKEY");
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(n));
  }
  std::string public_der() const {
    unsigned char* data = nullptr;
    const int n = i2d_PUBKEY(pair.get(), &data);
    require(n > 0, "i2d_PUBKEY");
    std::string out(reinterpret_cast<char*>(data), static_cast<std::size_t>(n));
    OPENSSL_free(data);
    return out;
  }

  // A signature of `input` under `alg`, in JWS form; for ECDSA `der` keeps OpenSSL's DER form.
  std::string sign(jws_alg alg, std::string_view input, bool der = false) const {
    const char* md = nullptr;
    switch (alg) {
      case jws_alg::rs256:
      case jws_alg::ps256:
      case jws_alg::es256:
        md = "SHA256";
        break;
      case jws_alg::rs384:
      case jws_alg::ps384:
      case jws_alg::es384:
        md = "SHA384";
        break;
      case jws_alg::rs512:
      case jws_alg::ps512:
        md = "SHA512";
        break;
      case jws_alg::eddsa:
        break;
    }
    std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    EVP_PKEY_CTX* pctx = nullptr;
    require(ctx && EVP_DigestSignInit_ex(ctx.get(), &pctx, md, nullptr, nullptr, pair.get(),
                                         nullptr) == 1,
            "EVP_DigestSignInit_ex");
    if (alg == jws_alg::ps256 || alg == jws_alg::ps384 || alg == jws_alg::ps512) {
      require(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
                  EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1,
              "PSS");
    }
    const auto* data = reinterpret_cast<const unsigned char*>(input.data());
    std::size_t len = 0;
    require(EVP_DigestSign(ctx.get(), nullptr, &len, data, input.size()) == 1, "sign size");
    std::string sig(len, '\0');
    require(EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, data,
                           input.size()) == 1,
            "sign");
    sig.resize(len);
    if (der || (type != key_type::ec_p256 && type != key_type::ec_p384)) return sig;
    // DER -> R||S, each at the curve's full size (RFC 7518 section 3.4).
    const auto* p = reinterpret_cast<const unsigned char*>(sig.data());
    std::unique_ptr<ECDSA_SIG, void (*)(ECDSA_SIG*)> parsed(
        d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size())), ECDSA_SIG_free);
    require(parsed != nullptr, "d2i_ECDSA_SIG");
    const int size = static_cast<int>(coordinate_bytes());
    std::string raw(2 * coordinate_bytes(), '\0');
    auto* out = reinterpret_cast<unsigned char*>(raw.data());
    require(BN_bn2binpad(ECDSA_SIG_get0_r(parsed.get()), out, size) == size &&
                BN_bn2binpad(ECDSA_SIG_get0_s(parsed.get()), out + size, size) == size,
            "R||S");
    return raw;
  }
};

inline test_key make_key(key_type type, std::string kid) {
  EVP_PKEY* raw = nullptr;
  switch (type) {
    case key_type::rsa:
      raw = EVP_RSA_gen(2048);
      break;
    case key_type::ec_p256:
      raw = EVP_EC_gen("P-256");
      break;
    case key_type::ec_p384:
      raw = EVP_EC_gen("P-384");
      break;
    case key_type::ed25519:
      raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
      break;
  }
  require(raw != nullptr, "key generation");
  return test_key{std::shared_ptr<EVP_PKEY>(raw, EVP_PKEY_free), type, std::move(kid)};
}

inline std::string encode_json(const json::object& o) {
  return util::base64url_encode(json::serialize(o));
}

// header.payload from JSON texts (a test may spell them with duplicate keys or as non-objects).
inline std::string signing_input(std::string_view header_json, std::string_view payload_json) {
  return util::base64url_encode(header_json) + "." + util::base64url_encode(payload_json);
}

// A compact JWS: `header` gets alg (and the key's kid unless it has one or kid is null).
inline std::string make_token(const test_key& key, jws_alg alg, const json::object& claims,
                              json::object header = {}) {
  header["alg"] = alg_name(alg);
  if (!header.contains("kid") && !key.kid.empty()) header["kid"] = key.kid;
  if (const auto* k = header.if_contains("kid"); k && k->is_null()) header.erase("kid");
  const std::string input = encode_json(header) + "." + encode_json(claims);
  return input + "." + util::base64url_encode(key.sign(alg, input));
}

// An HMAC-SHA token (HS256, HS384, HS512) with `secret` as its key.
inline std::string make_hmac_token(const char* alg, const char* digest, std::string_view secret,
                                   const json::object& claims, json::object header = {}) {
  header["alg"] = alg;
  const std::string input = encode_json(header) + "." + encode_json(claims);
  unsigned char mac[EVP_MAX_MD_SIZE];
  std::size_t len = 0;
  require(EVP_Q_mac(nullptr, "HMAC", nullptr, digest, nullptr, secret.data(), secret.size(),
                    reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac,
                    sizeof mac, &len) != nullptr,
          "EVP_Q_mac");
  return input + "." + util::base64url_encode(std::string(reinterpret_cast<char*>(mac), len));
}

inline std::string jwks_document(const std::vector<json::object>& keys) {
  json::array list;
  for (const auto& k : keys) list.push_back(k);
  return json::serialize(json::object{{"keys", std::move(list)}});
}

}  // namespace mcp_proxy::auth::testing
