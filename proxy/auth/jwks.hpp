#pragma once
// JSON Web Key sets (RFC 7517) as the public keys that verify access tokens (auth/jwt.hpp), and
// when to fetch the set again. Sans-io: the caller reads the document (a file or an https URL)
// and hands its text to jwk_set::parse; jwks_refresh_policy only says when a fetch is allowed.
//
// What a set keeps (RFC 7518 section 6): RSA keys (n, e; 2048 to 8192 bits), EC keys on P-256 and
// P-384 (x and y of the curve's full size, the point checked to lie on the curve), OKP Ed25519
// keys (x). A key whose kty is unknown, whose curve is another, whose use is not "sig", whose
// key_ops lack "verify", that carries private material ("d"), or that is malformed is left out,
// with a line in skipped() that says why; the document fails only when it is not a JWK set or
// keeps no key at all, so one odd key from an authorization server does not stop every token.
// A key fits a token's alg by its type (RS and PS: RSA, ES256: P-256, ES384: P-384, EdDSA:
// Ed25519) and, when it has an "alg" of its own, by that alg too: a token can never make a key
// serve an algorithm of another family (the key-confusion attacks). HMAC and "none" have no
// jws_alg at all.
// Thread-safety: a jwk_set is immutable after parse and its keys are shared read-only
// (EVP_PKEY verification does not modify the key), so one set may serve many verifications; a
// refresh replaces the whole set. jwks_refresh_policy is a plain value, used by one owner.

#include <openssl/types.h>

#include <boost/system/result.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mcp_proxy::auth {

// The JWS algorithms a token may use (RFC 7518 section 3; RFC 8037 for EdDSA with Ed25519).
enum class jws_alg { rs256, rs384, rs512, ps256, ps384, ps512, es256, es384, eddsa };

// "RS256" -> rs256, exactly as RFC 7518 spells it; nullopt for anything else, "none" and the HMAC
// algorithms (HS256, HS384, HS512) included.
std::optional<jws_alg> alg_from_name(std::string_view name);
std::string_view alg_name(jws_alg alg);

enum class key_type { rsa, ec_p256, ec_p384, ed25519 };

struct jwk {
  std::string kid;             // empty: the key has no kid
  std::optional<jws_alg> alg;  // the key's own "alg": then it fits that alg only
  key_type type = key_type::rsa;
  std::shared_ptr<EVP_PKEY> public_key;  // never null in a parsed set

  bool fits(jws_alg token_alg) const;
};

struct jwks_limits {
  std::size_t max_document_bytes = 256 * 1024;
  std::size_t max_keys = 64;
  int min_rsa_bits = 2048;  // RFC 7518 section 3.3
  int max_rsa_bits = 8192;  // bounds the cost of one verification
};

enum class key_lookup_failure {
  unknown_kid,     // no key has the token's kid (the set may have rotated: see the policy)
  no_fitting_key,  // no key of the kid (or, without a kid, of the set) fits the token's alg
  ambiguous,       // more than one key fits and nothing tells them apart
};

class jwk_set {
 public:
  jwk_set() = default;

  // The error (one line) says why the document is not a usable set; never quotes key material.
  static boost::system::result<jwk_set, std::string> parse(std::string_view document,
                                                           const jwks_limits& limits = {});

  const std::vector<jwk>& keys() const { return keys_; }
  // One line per key of the document left out, with its index, kid and reason (for logs).
  const std::vector<std::string>& skipped() const { return skipped_; }

  // The one key that verifies a token of `alg` with `kid` (nullopt: the token has no kid, and
  // then exactly one key of the set may fit its alg).
  boost::system::result<const jwk*, key_lookup_failure> find(
      jws_alg alg, std::optional<std::string_view> kid) const;

 private:
  std::vector<jwk> keys_;
  std::vector<std::string> skipped_;
};

// Lets result<T, key_lookup_failure>::value() throw on error (a bug: callers check first).
[[noreturn]] void throw_exception_from_error(key_lookup_failure f,
                                             const boost::source_location& loc);

struct jwks_refresh_options {
  // At most one fetch for unknown kids in this interval: tokens that name random kids must not
  // turn the proxy into a load generator against the authorization server.
  std::chrono::seconds min_interval{30};
  // A set older than this is fetched again even without an unknown kid (keys withdrawn).
  std::chrono::seconds max_age{3600};
};

// When to fetch the JWK set of a URL. The caller reports every fetch it starts, successful or
// not (a failing server is not retried faster than min_interval either).
class jwks_refresh_policy {
 public:
  using clock = std::chrono::steady_clock;

  explicit jwks_refresh_policy(jwks_refresh_options options = {}) : options_(options) {}

  // A fetch started at `at`.
  void fetch_started(clock::time_point at) { last_fetch_ = at; }

  // A token names a kid the current set lacks: may the set be fetched now? Always before the
  // first fetch; afterwards once min_interval has passed since the last one.
  bool may_fetch_for_unknown_kid(clock::time_point now) const;
  // The set was never fetched, or is older than max_age.
  bool stale(clock::time_point now) const;
  // When may_fetch_for_unknown_kid turns true (now or earlier: it already is).
  clock::time_point next_fetch_allowed() const;

  const jwks_refresh_options& options() const { return options_; }

 private:
  jwks_refresh_options options_;
  std::optional<clock::time_point> last_fetch_;
};

}  // namespace mcp_proxy::auth
