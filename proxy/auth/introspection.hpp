#pragma once
// OAuth 2.0 Token Introspection (RFC 7662) for opaque access tokens, sans-io: the request body
// and the client credentials the caller POSTs to the authorization server's endpoint, the
// reading of its answer, and a bounded cache of answers so that one token does not cost one
// round trip per request. The caller performs the HTTP exchange.
//
// An answer is read as strictly as a JWT's claims (auth/jwt.hpp): a JSON object without
// duplicate keys whose "active" is the boolean true; exp and nbf (when present) hold at `now`
// with the skew; iss and aud (when present) are checked against what the caller configures; a
// "scope" (or "scp") of the wrong type makes the token invalid, not merely short of scopes.
// Errors are token_error values (one line, never the token); the inactive answer is
// token_failure::inactive.
//
// The aud check depends on the route (its resource URLs), the token's activity does not. A
// caller that caches therefore keeps what parse_introspection_response gives (the claims of an
// active token, or nullopt after token_failure::inactive) and runs check_introspection_claims
// for each request, on a fresh answer and on a cached one alike.
//
// Thread-safety: the functions are plain; introspection_cache is not synchronised (one owner, or
// the owner's lock around every call) and performs no I/O.

#include "auth/jwt.hpp"

#include <boost/json/object.hpp>
#include <boost/system/result.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace mcp_proxy::auth {

// The request body (RFC 7662 section 2.1), application/x-www-form-urlencoded:
// "token=<token>&token_type_hint=access_token". Holds the token: never log it.
std::string introspection_request_body(std::string_view token);

// The Authorization header value that authenticates the proxy as a client (RFC 6749 section
// 2.3.1): "Basic " base64(urlencoded(id) ":" urlencoded(secret)). Holds the secret: never log it.
std::string basic_client_credentials(std::string_view client_id, std::string_view secret);

// application/x-www-form-urlencoded (RFC 6749 appendix B): unreserved characters as they are, a
// space as '+', every other byte as %XX.
std::string form_urlencode(std::string_view s);

struct introspection_checks {
  std::string issuer;                  // empty: iss not checked
  std::vector<std::string> audiences;  // empty: aud not checked
  std::chrono::seconds clock_skew{60};
};

// The answer's JSON with "active": true, as an object (the claims), or token_failure::inactive
// (active false or absent), malformed (not a JSON object, a key twice, too deep), invalid_claim
// (active not a boolean). No other check: see check_introspection_claims.
boost::system::result<boost::json::object, token_error> parse_introspection_response(
    std::string_view body);

// The checks that depend on the time and the route: exp (when present) not past (expired), nbf
// (when present) not in the future (not_yet_valid), both with the skew; iss (when present and
// checks.issuer is set) equal to it; aud (when present and checks.audiences is set; a string or
// an array of strings) naming one of them; scope and scp, when present, of the right types
// (scope_set::from_claims). A claim of the wrong type is invalid_claim.
boost::system::result<void, token_error> check_introspection_claims(
    const boost::json::object& claims, const introspection_checks& checks,
    std::chrono::system_clock::time_point now);

// Both of the above: the claims of a token that is active and passes the checks.
boost::system::result<boost::json::object, token_error> read_introspection_response(
    std::string_view body, const introspection_checks& checks,
    std::chrono::system_clock::time_point now);

// Introspection answers by token, kept until an expiry the caller gives (see expiry()). Keyed by
// the SHA-256 of the token: the token itself is never kept. Bounded: when full, a put drops every
// expired entry, and when none has expired, the entry inserted first.
class introspection_cache {
 public:
  using clock = std::chrono::steady_clock;

  struct lookup {
    enum class state { miss, active, inactive };
    state found = state::miss;
    // The claims of an active token (null otherwise); shared, so it outlives later puts.
    std::shared_ptr<const boost::json::object> claims;

    explicit operator bool() const { return found != state::miss; }  // a hit, either kind
    bool active() const { return found == state::active; }
    const boost::json::object* operator->() const { return claims.get(); }
    const boost::json::object& operator*() const { return *claims; }
  };

  explicit introspection_cache(std::size_t max_entries = 10000) : max_entries_(max_entries) {}

  // Keeps the answer for `token` until `expires`: the claims of an active token, or nullopt for
  // an inactive one. Replaces an earlier answer for the same token (it then counts as inserted
  // now). `now` finds the expired entries to drop when the cache is full. An answer that has
  // already expired is not kept.
  void put(std::string_view token, std::optional<boost::json::object> claims,
           clock::time_point expires, clock::time_point now);

  // The answer kept for `token`, unless it has expired by `now` (then it is dropped: a miss).
  lookup find(std::string_view token, clock::time_point now);

  void clear();
  std::size_t size() const { return by_digest_.size(); }
  std::size_t max_entries() const { return max_entries_; }

  // Until when to keep an answer fetched at `now` (`now_system` on the wall clock): for an
  // active answer (`claims` not null) `ttl`, cut short at the claims' exp (an exp already past,
  // or not a number: `now`, so not kept); for an inactive one (`claims` null) a tenth of `ttl`,
  // so that a token that becomes active is seen soon and a flood of bad tokens is still cached.
  static clock::time_point expiry(clock::time_point now,
                                  std::chrono::system_clock::time_point now_system,
                                  clock::duration ttl, const boost::json::object* claims);

 private:
  using digest = std::array<unsigned char, 32>;
  struct digest_hash {
    std::size_t operator()(const digest& d) const;
  };
  struct entry {
    digest key;
    std::shared_ptr<const boost::json::object> claims;  // null: inactive
    clock::time_point expires;
  };
  using order = std::list<entry>;  // oldest insertion first

  static digest hash(std::string_view token);
  void erase(order::iterator it);
  void make_room(clock::time_point now);

  std::size_t max_entries_;
  order entries_;
  std::unordered_map<digest, order::iterator, digest_hash> by_digest_;
  // No entry expires before this (a lower bound): a full cache scans for expired entries only
  // when one may have expired, not on every put.
  clock::time_point earliest_expiry_ = clock::time_point::max();
};

}  // namespace mcp_proxy::auth
