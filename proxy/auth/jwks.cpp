#include "auth/jwks.hpp"

#include "auth/strict_json.hpp"
#include "util/base64.hpp"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <boost/json/array.hpp>
#include <boost/json/string.hpp>
#include <boost/throw_exception.hpp>

#include <algorithm>
#include <array>
#include <stdexcept>
#include <utility>

namespace mcp_proxy::auth {

namespace json = boost::json;

namespace {

struct alg_spelling {
  jws_alg alg;
  std::string_view name;
};
constexpr std::array<alg_spelling, 9> alg_names{{
    {jws_alg::rs256, "RS256"},
    {jws_alg::rs384, "RS384"},
    {jws_alg::rs512, "RS512"},
    {jws_alg::ps256, "PS256"},
    {jws_alg::ps384, "PS384"},
    {jws_alg::ps512, "PS512"},
    {jws_alg::es256, "ES256"},
    {jws_alg::es384, "ES384"},
    {jws_alg::eddsa, "EdDSA"},
}};

template <class T, void (*Free)(T*)>
struct openssl_deleter {
  void operator()(T* p) const { Free(p); }
};
using bignum = std::unique_ptr<BIGNUM, openssl_deleter<BIGNUM, BN_free>>;
using param_builder =
    std::unique_ptr<OSSL_PARAM_BLD, openssl_deleter<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>>;
using params = std::unique_ptr<OSSL_PARAM, openssl_deleter<OSSL_PARAM, OSSL_PARAM_free>>;
using pkey_ctx = std::unique_ptr<EVP_PKEY_CTX, openssl_deleter<EVP_PKEY_CTX, EVP_PKEY_CTX_free>>;

std::shared_ptr<EVP_PKEY> adopt(EVP_PKEY* key) {
  return std::shared_ptr<EVP_PKEY>(key, EVP_PKEY_free);
}

// A key that cannot be kept, with the reason for skipped().
struct unusable {
  std::string reason;
};
template <class T>
using key_result = boost::system::result<T, unusable>;

// A member that must be a string when present. nullopt: absent; an error: of another type.
key_result<std::optional<std::string_view>> optional_string(const json::object& key,
                                                            std::string_view name) {
  const auto* v = key.if_contains(name);
  if (!v) return std::optional<std::string_view>();
  const auto* s = v->if_string();
  if (!s) return unusable{std::string(name) + " is not a string"};
  return std::optional<std::string_view>(std::string_view(*s));
}

// A required base64url member (no padding), decoded.
key_result<std::string> required_bytes(const json::object& key, std::string_view name) {
  auto s = optional_string(key, name);
  if (!s) return s.error();
  if (!*s) return unusable{"no " + std::string(name)};
  auto bytes = util::base64url_decode(**s);
  if (!bytes) return unusable{std::string(name) + " is not base64url"};
  if (bytes->empty()) return unusable{std::string(name) + " is empty"};
  // In place: a std::string would also construct an unusable.
  return key_result<std::string>(boost::system::in_place_value, std::move(*bytes));
}

// OpenSSL's own check of a public key: for RSA that n and e are sane (SP 800-56B), for EC that
// the point is on the curve and not the point at infinity.
bool passes_public_check(EVP_PKEY* key) {
  pkey_ctx ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key, nullptr));
  return ctx && EVP_PKEY_public_check(ctx.get()) == 1;
}

key_result<std::shared_ptr<EVP_PKEY>> from_params(const char* type, const OSSL_PARAM* p) {
  pkey_ctx ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* raw = nullptr;
  if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, const_cast<OSSL_PARAM*>(p)) != 1) {
    return unusable{"OpenSSL refuses the key"};
  }
  auto key = adopt(raw);
  if (!passes_public_check(key.get())) return unusable{"OpenSSL's public key check fails"};
  return key;
}

key_result<std::shared_ptr<EVP_PKEY>> rsa_key(const json::object& key, const jwks_limits& limits) {
  auto n_bytes = required_bytes(key, "n");
  if (!n_bytes) return n_bytes.error();
  auto e_bytes = required_bytes(key, "e");
  if (!e_bytes) return e_bytes.error();
  // Beyond 64 bits e is no exponent anyone uses, and OpenSSL's check wants it below 2^256.
  if (e_bytes->size() > 8) return unusable{"e is too large"};
  bignum n(BN_bin2bn(reinterpret_cast<const unsigned char*>(n_bytes->data()),
                     static_cast<int>(n_bytes->size()), nullptr));
  bignum e(BN_bin2bn(reinterpret_cast<const unsigned char*>(e_bytes->data()),
                     static_cast<int>(e_bytes->size()), nullptr));
  if (!n || !e) return unusable{"out of memory"};
  const int bits = BN_num_bits(n.get());
  if (bits < limits.min_rsa_bits || bits > limits.max_rsa_bits) {
    return unusable{"an RSA modulus of " + std::to_string(bits) +
                    " bits (allowed: " + std::to_string(limits.min_rsa_bits) + " to " +
                    std::to_string(limits.max_rsa_bits) + ")"};
  }
  param_builder builder(OSSL_PARAM_BLD_new());
  if (!builder || OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_E, e.get()) != 1) {
    return unusable{"out of memory"};
  }
  params p(OSSL_PARAM_BLD_to_param(builder.get()));
  if (!p) return unusable{"out of memory"};
  return from_params("RSA", p.get());
}

key_result<std::shared_ptr<EVP_PKEY>> ec_key(const json::object& key, const char* group,
                                             std::size_t coordinate_bytes) {
  auto x = required_bytes(key, "x");
  if (!x) return x.error();
  auto y = required_bytes(key, "y");
  if (!y) return y.error();
  // RFC 7518 section 6.2.1.2: each coordinate is spelled at the curve's full size.
  if (x->size() != coordinate_bytes || y->size() != coordinate_bytes) {
    return unusable{"x and y must be " + std::to_string(coordinate_bytes) + " bytes each"};
  }
  std::string point = "\x04" + *x + *y;  // SEC 1 uncompressed point
  param_builder builder(OSSL_PARAM_BLD_new());
  if (!builder ||
      OSSL_PARAM_BLD_push_utf8_string(builder.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(builder.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1) {
    return unusable{"out of memory"};
  }
  params p(OSSL_PARAM_BLD_to_param(builder.get()));
  if (!p) return unusable{"out of memory"};
  auto made = from_params("EC", p.get());
  if (!made) return unusable{"the point is not on the curve"};
  return made;
}

key_result<std::shared_ptr<EVP_PKEY>> ed25519_key(const json::object& key) {
  auto x = required_bytes(key, "x");
  if (!x) return x.error();
  if (x->size() != 32) return unusable{"x must be 32 bytes"};
  EVP_PKEY* raw = EVP_PKEY_new_raw_public_key_ex(
      nullptr, "ED25519", nullptr, reinterpret_cast<const unsigned char*>(x->data()), x->size());
  if (!raw) return unusable{"OpenSSL refuses the key"};
  return adopt(raw);
}

bool alg_fits_type(jws_alg alg, key_type type) {
  switch (alg) {
    case jws_alg::rs256:
    case jws_alg::rs384:
    case jws_alg::rs512:
    case jws_alg::ps256:
    case jws_alg::ps384:
    case jws_alg::ps512:
      return type == key_type::rsa;
    case jws_alg::es256:
      return type == key_type::ec_p256;
    case jws_alg::es384:
      return type == key_type::ec_p384;
    case jws_alg::eddsa:
      return type == key_type::ed25519;
  }
  return false;
}

// nullopt: a kty (or a curve) this set does not know, left out quietly as RFC 7517 section 5
// asks; an error: a key of a known kind that cannot be used.
key_result<std::optional<jwk>> read_key(const json::object& key, const jwks_limits& limits) {
  auto kty = optional_string(key, "kty");
  if (!kty) return kty.error();
  if (!*kty) return unusable{"no kty"};
  auto kid = optional_string(key, "kid");
  if (!kid) return kid.error();
  auto use = optional_string(key, "use");
  if (!use) return use.error();
  auto alg = optional_string(key, "alg");
  if (!alg) return alg.error();
  auto crv = optional_string(key, "crv");
  if (!crv) return crv.error();

  jwk out;
  out.kid = std::string(kid->value_or(""));
  std::shared_ptr<EVP_PKEY> public_key;
  if (**kty == "RSA") {
    out.type = key_type::rsa;
  } else if (**kty == "EC" && *crv == "P-256") {
    out.type = key_type::ec_p256;
  } else if (**kty == "EC" && *crv == "P-384") {
    out.type = key_type::ec_p384;
  } else if (**kty == "OKP" && *crv == "Ed25519") {
    out.type = key_type::ed25519;
  } else if (**kty == "EC" || **kty == "OKP") {
    return unusable{"the curve is not P-256, P-384 or Ed25519"};
  } else {
    return std::optional<jwk>();
  }
  if (*use && **use != "sig") return unusable{"use is not \"sig\""};
  if (const auto* ops = key.if_contains("key_ops")) {
    const auto* list = ops->if_array();
    if (!list) return unusable{"key_ops is not an array"};
    if (std::find(list->begin(), list->end(), json::value("verify")) == list->end()) {
      return unusable{"key_ops lacks \"verify\""};
    }
  }
  if (*alg) {
    out.alg = alg_from_name(**alg);
    if (!out.alg) return unusable{"its alg is not one this proxy verifies"};
    if (!alg_fits_type(*out.alg, out.type)) return unusable{"its alg does not fit its kty"};
  }
  // A published private key is a leak at the authorization server: trust nothing from it.
  if (key.contains("d")) return unusable{"it holds private key material"};

  key_result<std::shared_ptr<EVP_PKEY>> made = unusable{};
  switch (out.type) {
    case key_type::rsa:
      made = rsa_key(key, limits);
      break;
    case key_type::ec_p256:
      made = ec_key(key, "prime256v1", 32);
      break;
    case key_type::ec_p384:
      made = ec_key(key, "secp384r1", 48);
      break;
    case key_type::ed25519:
      made = ed25519_key(key);
      break;
  }
  if (!made) return made.error();
  out.public_key = std::move(*made);
  return std::optional<jwk>(std::move(out));
}

// Key ids come from the document: shown in logs only when short and printable.
std::string describe_kid(const json::object& key) {
  const auto* kid = key.if_contains("kid");
  if (!kid || !kid->is_string()) return "";
  std::string_view s = kid->get_string();
  const bool printable = s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
                           return c >= 0x20 && c < 0x7f;
                         });
  return printable ? " (kid \"" + std::string(s) + "\")" : " (kid not shown)";
}

}  // namespace

std::optional<jws_alg> alg_from_name(std::string_view name) {
  for (const auto& a : alg_names)
    if (a.name == name) return a.alg;
  return std::nullopt;
}

std::string_view alg_name(jws_alg alg) {
  for (const auto& a : alg_names)
    if (a.alg == alg) return a.name;
  return "?";
}

bool jwk::fits(jws_alg token_alg) const {
  return alg_fits_type(token_alg, type) && (!alg || *alg == token_alg);
}

boost::system::result<jwk_set, std::string> jwk_set::parse(std::string_view document,
                                                           const jwks_limits& limits) {
  if (document.size() > limits.max_document_bytes) {
    return "the JWK set is larger than " + std::to_string(limits.max_document_bytes) + " bytes";
  }
  auto root = parse_strict_object(document, 8);
  if (!root) return "the JWK set is not usable: " + root.error();
  const auto* keys = root->if_contains("keys");
  if (!keys || !keys->is_array()) return std::string("the JWK set has no \"keys\" array");
  const auto& list = keys->get_array();
  if (list.size() > limits.max_keys) {
    return "the JWK set has more than " + std::to_string(limits.max_keys) + " keys";
  }
  jwk_set set;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const auto* key = list[i].if_object();
    if (!key) {
      set.skipped_.push_back("key " + std::to_string(i) + ": not an object");
      continue;
    }
    auto read = read_key(*key, limits);
    if (!read) {
      set.skipped_.push_back("key " + std::to_string(i) + describe_kid(*key) + ": " +
                             read.error().reason);
    } else if (*read) {
      set.keys_.push_back(std::move(**read));
    } else {
      set.skipped_.push_back("key " + std::to_string(i) + describe_kid(*key) +
                             ": a kty or curve this proxy does not know");
    }
  }
  if (set.keys_.empty()) {
    return "the JWK set has no usable signature key" +
           (set.skipped_.empty() ? std::string() : " (" + set.skipped_.front() + ")");
  }
  return set;
}

boost::system::result<const jwk*, key_lookup_failure> jwk_set::find(
    jws_alg alg, std::optional<std::string_view> kid) const {
  const jwk* found = nullptr;
  bool kid_seen = false;
  for (const auto& key : keys_) {
    if (kid && key.kid != *kid) continue;
    kid_seen = true;
    if (!key.fits(alg)) continue;
    if (found) return key_lookup_failure::ambiguous;
    found = &key;
  }
  if (found) return found;
  return kid && !kid_seen ? key_lookup_failure::unknown_kid : key_lookup_failure::no_fitting_key;
}

void throw_exception_from_error(key_lookup_failure, const boost::source_location& loc) {
  boost::throw_exception(std::logic_error("jwk_set::find failed"), loc);
}

bool jwks_refresh_policy::may_fetch_for_unknown_kid(clock::time_point now) const {
  return now >= next_fetch_allowed();
}

bool jwks_refresh_policy::stale(clock::time_point now) const {
  return !last_fetch_ || now - *last_fetch_ >= options_.max_age;
}

jwks_refresh_policy::clock::time_point jwks_refresh_policy::next_fetch_allowed() const {
  if (!last_fetch_) return clock::time_point::min();
  return *last_fetch_ + options_.min_interval;
}

}  // namespace mcp_proxy::auth
