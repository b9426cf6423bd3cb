#pragma once
// JWT access tokens as an OAuth 2.1 resource server checks them (RFC 7519, RFC 7515 compact
// serialization, RFC 9068 profile, MCP 2025-11-25 basic/authorization): the token is split and
// decoded strictly, its signature verified with a key of a JWK set (auth/jwks.hpp), then its
// claims: iss exact, aud containing one of the expected audiences (RFC 8707: the canonical
// resource URLs of the route, and any audience the operator adds), exp required, nbf and iat not
// in the future, all with a clock skew. Sans-io: the time is a parameter.
//
// JOSE library: OpenSSL 3 EVP, not libjwt 1.10 (Debian 12's libjwt-dev 1.10.2). libjwt 1.10
// takes the algorithm from the token's own header and uses the one key it is given for it: an
// HS256 token is checked with the RSA public key's PEM as the HMAC secret unless every caller
// remembers to compare jwt_get_alg() afterwards (the key-confusion attack this module must
// refuse by construction). It has no PS256 (libjwt 1.16) and no EdDSA (2.0), which issue #16
// requires; no JWK sets (3.0), so JWKs would need converting to PEM with OpenSSL anyway; it
// parses JSON with Jansson (another dependency, and duplicate keys are taken silently) and wants
// NUL-terminated tokens. OpenSSL 3 is already linked (TLS, cursor HMACs), verifies every alg here
// (RSASSA-PKCS1-v1_5, RSASSA-PSS, ECDSA, Ed25519) and builds keys from JWK parameters
// (EVP_PKEY_fromdata) with its own public-key checks. What is left to this module is small and
// fuzzed (fuzz/jwt.cpp): splitting three base64url parts, the raw R||S form of ECDSA signatures
// (RFC 7518 section 3.4), and the claim rules.
//
// Refused always, whatever the key: alg "none" and every HMAC alg (a resource server holds no
// shared secret; an HS token is a key-confusion attempt). The key is picked by the verifier from
// the trusted set by kid and must fit the alg by its type and its own "alg"; header parameters
// that carry keys (jwk, jku, x5u, x5c) are never used. A "crit" header is refused (no extension
// is understood), and typ, when present, must be "JWT" or "at+jwt" (RFC 9068).
//
// Errors are values: one line saying why, for logs, and the RFC 6750 error code for the
// WWW-Authenticate answer. No error text contains the token or any part of it; claim values
// are quoted only when short and printable.
// Thread-safety: plain functions over immutable inputs.

#include "auth/jwks.hpp"

#include <boost/json/object.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mcp_proxy::auth {

// RFC 6750 section 3.1 error codes.
enum class bearer_error { invalid_request, invalid_token, insufficient_scope };
std::string_view bearer_error_code(bearer_error e);

enum class token_failure {
  malformed,        // not a compact JWS: parts, base64url, JSON, size, header parameters
  unsupported_alg,  // none, HMAC, unknown, or not among the allowed algs
  unknown_key,      // the kid names no key of the set: the caller may fetch the set again
  key_mismatch,     // no key of the kid (or of the set) fits the alg, or more than one does
  bad_signature,
  missing_claim,  // iss, aud or exp absent
  invalid_claim,  // a registered claim of the wrong type
  wrong_issuer,
  wrong_audience,
  expired,
  not_yet_valid,     // nbf in the future
  issued_in_future,  // iat in the future
  inactive,          // introspection (auth/introspection.hpp): the server says it is not active
  misconfigured,     // no issuer or audience to check against: nothing is accepted
};

struct token_error {
  token_failure failure = token_failure::malformed;
  std::string message;  // one line, never the token

  bearer_error category() const { return bearer_error::invalid_token; }
};

// Lets result<T, token_error>::value() throw on error (a bug: callers check first).
[[noreturn]] void throw_exception_from_error(const token_error& e,
                                             const boost::source_location& loc);

struct token_limits {
  std::size_t max_token_bytes = 16 * 1024;
  std::size_t max_json_depth = 16;
};

struct validation_options {
  std::string issuer;  // required: the exact iss
  // Required, none empty: aud must be one of them, or an array holding at least one of them
  // (the route's resource URLs, compared exactly, and any extra audiences configured).
  std::vector<std::string> audiences;
  std::chrono::seconds clock_skew{60};
  // Empty: every jws_alg. Else only these (an operator pinning RS256, say).
  std::vector<jws_alg> allowed_algs;
  token_limits limits;
};

// A compact JWS split and decoded, its signature not yet checked.
struct compact_jws {
  jws_alg alg = jws_alg::rs256;
  std::optional<std::string> kid;
  boost::json::object header;
  std::string_view signing_input;  // "header.payload", a view into the token
  std::string payload;             // decoded, not yet parsed
  std::string signature;           // decoded
};

// Splits and decodes `token`: three base64url parts without padding or whitespace, a header that
// is a JSON object without duplicate keys naming a jws_alg (allowed by `allowed_algs`, when not
// empty), an optional string kid, no crit, a typ of JWT or at+jwt if any.
boost::system::result<compact_jws, token_error> parse_compact_jws(
    std::string_view token, const token_limits& limits = {},
    const std::vector<jws_alg>& allowed_algs = {});

// Whether `signature` (in JWS form: raw R||S for ECDSA) signs `signing_input` with `key` under
// `alg`. The key must fit the alg (jwk::fits); false for any mismatch.
bool verify_signature(jws_alg alg, const jwk& key, std::string_view signing_input,
                      std::string_view signature);

// The checks of iss, aud, exp, nbf and iat (numbers of seconds since the epoch; fractions
// allowed) at `now`.
boost::system::result<void, token_error> validate_claims(const boost::json::object& claims,
                                                         const validation_options& options,
                                                         std::chrono::system_clock::time_point now);

// The parts of validate_claims that introspection (auth/introspection.hpp) shares.
// A NumericDate claim (RFC 7519 section 2): nullopt when absent, invalid_claim when not a number.
boost::system::result<std::optional<double>, token_error> numeric_date(
    const boost::json::object& claims, std::string_view name);
// That `aud` (the claim's value: a string or an array of strings) names one of `audiences`:
// invalid_claim for another type, wrong_audience when it names none of them.
boost::system::result<void, token_error> check_audience(const boost::json::value& aud,
                                                        const std::vector<std::string>& audiences);

struct verified_token {
  jws_alg alg = jws_alg::rs256;
  std::string kid;  // of the key that verified it (empty: that key has none)
  boost::json::object header;
  boost::json::object claims;
};

// All of it: parse, pick the key, verify, parse the claims (a JSON object without duplicate
// keys), validate them. On token_failure::unknown_key the caller may refresh the set
// (jwks_refresh_policy) and try again.
boost::system::result<verified_token, token_error> verify_jwt(
    std::string_view token, const jwk_set& keys, const validation_options& options,
    std::chrono::system_clock::time_point now);

}  // namespace mcp_proxy::auth
