#pragma once
// OAuth 2.1 client credentials (RFC 6749 section 4.4) for HTTP backends, the part without I/O:
// the token request's body, the strict reading of the token endpoint's answer (section 5.1) and
// of its refusal (section 5.2), and when a token is replaced. token_source.hpp performs the
// exchange. Nothing here puts a secret or a token into an error text.
// Thread-safety: plain functions and values.

#include "config/config.hpp"

#include <boost/system/result.hpp>

#include <chrono>
#include <string>
#include <string_view>

namespace mcp_proxy::transport {

using token_clock = std::chrono::steady_clock;

// A token endpoint's answer that omits expires_in (it is RECOMMENDED only): the token is taken
// to last this long (a 401 from the backend replaces it sooner).
inline constexpr std::chrono::seconds default_token_lifetime{3600};
// A token is replaced once less than max(30 s, a tenth of its lifetime) remains, but never
// before half of it has passed (so a token that lasts less than a minute is still reused).
inline constexpr std::chrono::seconds min_refresh_margin{30};

// What a successful answer says (RFC 6749 section 5.1).
struct token_answer {
  std::string access_token;  // a b64token (RFC 6750 section 2.1); never logged
  std::chrono::milliseconds lifetime{default_token_lifetime};
  bool lifetime_given = false;  // expires_in was there
};

// A token in use, with its lifetime on the steady clock.
struct access_token {
  std::string value;  // never logged
  token_clock::time_point obtained;
  token_clock::time_point expires;
};

// The form of the token request: grant_type=client_credentials, then scope, resource and
// audience when the config sets them (application/x-www-form-urlencoded). The client's
// credentials go in the Authorization header (auth::basic_client_credentials), not here.
std::string token_request_body(const config::client_credentials_config& c);

// A 2xx answer's body: a JSON object (no key twice) with a non-empty access_token that is a
// b64token, a token_type of "Bearer" (any case), and, when present, a positive numeric
// expires_in. The error says what is wrong and never quotes the token.
boost::system::result<token_answer, std::string> parse_token_response(std::string_view body);

// One line for a refusal: "the token endpoint answered HTTP 400 (invalid_client)"; the OAuth
// error code (section 5.2) is named when the body has one of the allowed characters.
std::string token_refusal_text(unsigned status, std::string_view body);

access_token make_access_token(token_answer answer, token_clock::time_point now);

// How long before expiry a token of `lifetime` is replaced.
token_clock::duration refresh_margin(token_clock::duration lifetime);
// Whether `t` should be replaced before it is used at `now`.
bool refresh_due(const access_token& t, token_clock::time_point now);
bool has_expired(const access_token& t, token_clock::time_point now);

}  // namespace mcp_proxy::transport
