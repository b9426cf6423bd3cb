#include "auth/introspection.hpp"

#include "auth/scopes.hpp"
#include "auth/strict_json.hpp"
#include "util/base64.hpp"

#include <openssl/evp.h>

#include <boost/json/string.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <utility>

namespace mcp_proxy::auth {

namespace json = boost::json;

namespace {

// Answers nest little; the bound keeps a hostile or broken server's answer from costing much.
constexpr std::size_t max_json_depth = 16;

token_error fail(token_failure f, std::string message) {
  return token_error{f, std::move(message)};
}

}  // namespace

std::string form_urlencode(std::string_view s) {
  boost::urls::encoding_opts opts;
  opts.space_as_plus = true;
  return boost::urls::encode(s, boost::urls::unreserved_chars, opts);
}

std::string introspection_request_body(std::string_view token) {
  return "token=" + form_urlencode(token) + "&token_type_hint=access_token";
}

std::string basic_client_credentials(std::string_view client_id, std::string_view secret) {
  return "Basic " + util::base64_encode(form_urlencode(client_id) + ":" + form_urlencode(secret));
}

boost::system::result<json::object, token_error> parse_introspection_response(
    std::string_view body) {
  auto answer = parse_strict_object(body, max_json_depth);
  if (!answer) {
    return fail(token_failure::malformed, "the introspection answer: " + answer.error());
  }
  const auto* active = answer->if_contains("active");
  if (!active) return fail(token_failure::inactive, "the introspection answer has no active");
  if (!active->is_bool()) {
    return fail(token_failure::invalid_claim, "the introspection answer's active is not a boolean");
  }
  if (!active->get_bool()) return fail(token_failure::inactive, "the token is not active");
  return std::move(*answer);
}

boost::system::result<void, token_error> check_introspection_claims(
    const json::object& claims, const introspection_checks& checks,
    std::chrono::system_clock::time_point now) {
  const double now_s = std::chrono::duration<double>(now.time_since_epoch()).count();
  const double skew = static_cast<double>(checks.clock_skew.count());
  auto exp = numeric_date(claims, "exp");
  if (!exp) return exp.error();
  if (*exp && now_s >= **exp + skew) return fail(token_failure::expired, "the token has expired");
  auto nbf = numeric_date(claims, "nbf");
  if (!nbf) return nbf.error();
  if (*nbf && **nbf > now_s + skew) {
    return fail(token_failure::not_yet_valid, "the token is not valid yet (nbf)");
  }

  if (const auto* iss = claims.if_contains("iss"); iss && !checks.issuer.empty()) {
    if (!iss->is_string()) return fail(token_failure::invalid_claim, "iss is not a string");
    if (iss->get_string() != checks.issuer) {
      return fail(token_failure::wrong_issuer, "iss is not the configured issuer");
    }
  }
  if (const auto* aud = claims.if_contains("aud"); aud && !checks.audiences.empty()) {
    auto audience = check_audience(*aud, checks.audiences);
    if (!audience) return audience.error();
  }
  auto scopes = scope_set::from_claims(claims);
  if (!scopes) return fail(token_failure::invalid_claim, scopes.error());
  return {};
}

boost::system::result<json::object, token_error> read_introspection_response(
    std::string_view body, const introspection_checks& checks,
    std::chrono::system_clock::time_point now) {
  auto claims = parse_introspection_response(body);
  if (!claims) return claims.error();
  auto valid = check_introspection_claims(*claims, checks, now);
  if (!valid) return valid.error();
  return claims;
}

std::size_t introspection_cache::digest_hash::operator()(const digest& d) const {
  // A SHA-256 digest is uniform already: its first bytes make a fine hash.
  std::size_t h = 0;
  std::memcpy(&h, d.data(), sizeof h);
  return h;
}

introspection_cache::digest introspection_cache::hash(std::string_view token) {
  digest out{};
  unsigned int size = 0;
  if (EVP_Digest(token.data(), token.size(), out.data(), &size, EVP_sha256(), nullptr) != 1 ||
      size != out.size()) {
    // Only when OpenSSL cannot allocate or has no SHA-256: a bug of the build, not of the input.
    throw std::runtime_error("SHA-256 is not available");
  }
  return out;
}

void introspection_cache::erase(order::iterator it) {
  by_digest_.erase(it->key);
  entries_.erase(it);
}

void introspection_cache::make_room(clock::time_point now) {
  if (now >= earliest_expiry_) {
    auto earliest = clock::time_point::max();
    for (auto it = entries_.begin(); it != entries_.end();) {
      if (it->expires <= now) {
        erase(it++);
      } else {
        earliest = std::min(earliest, it->expires);
        ++it;
      }
    }
    earliest_expiry_ = earliest;
  }
  if (by_digest_.size() >= max_entries_ && !entries_.empty()) erase(entries_.begin());
}

void introspection_cache::put(std::string_view token, std::optional<json::object> claims,
                              clock::time_point expires, clock::time_point now) {
  if (max_entries_ == 0) return;
  const digest key = hash(token);
  if (auto found = by_digest_.find(key); found != by_digest_.end()) erase(found->second);
  if (expires <= now) return;
  if (by_digest_.size() >= max_entries_) make_room(now);
  std::shared_ptr<const json::object> kept;
  if (claims) kept = std::make_shared<const json::object>(std::move(*claims));
  entries_.push_back(entry{key, std::move(kept), expires});
  by_digest_.emplace(key, std::prev(entries_.end()));
  earliest_expiry_ = std::min(earliest_expiry_, expires);
}

introspection_cache::lookup introspection_cache::find(std::string_view token,
                                                      clock::time_point now) {
  auto found = by_digest_.find(hash(token));
  if (found == by_digest_.end()) return {};
  if (found->second->expires <= now) {
    erase(found->second);
    return {};
  }
  const auto& e = *found->second;
  if (!e.claims) return lookup{lookup::state::inactive, nullptr};
  return lookup{lookup::state::active, e.claims};
}

void introspection_cache::clear() {
  by_digest_.clear();
  entries_.clear();
  earliest_expiry_ = clock::time_point::max();
}

introspection_cache::clock::time_point introspection_cache::expiry(
    clock::time_point now, std::chrono::system_clock::time_point now_system, clock::duration ttl,
    const json::object* claims) {
  if (ttl <= clock::duration::zero()) return now;
  if (!claims) return now + ttl / 10;
  const auto* exp = claims->if_contains("exp");
  if (!exp) return now + ttl;
  if (!exp->is_number()) return now;
  // In seconds as doubles, so that no exp (up to 1e308) overflows a duration.
  const double left = exp->to_number<double>() -
                      std::chrono::duration<double>(now_system.time_since_epoch()).count();
  if (left <= 0) return now;
  if (left >= std::chrono::duration<double>(ttl).count()) return now + ttl;
  return now + std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(left));
}

}  // namespace mcp_proxy::auth
