#include "transport/client_credentials.hpp"

#include "auth/introspection.hpp"
#include "auth/strict_json.hpp"
#include "protocol/bearer_auth.hpp"
#include "util/ascii.hpp"

#include <algorithm>
#include <cmath>

namespace mcp_proxy::transport {

namespace json = boost::json;

namespace {

// Token answers nest little; the bound keeps a broken server's answer from costing much.
constexpr std::size_t max_json_depth = 16;
// expires_in past this is taken as this (a year): the arithmetic stays far from overflow.
constexpr double max_lifetime_s = 365.0 * 24 * 3600;
constexpr std::size_t max_error_code_chars = 64;

void add_param(std::string& body, std::string_view name, std::string_view value) {
  if (value.empty()) return;
  body += '&';
  body += name;
  body += '=';
  body += auth::form_urlencode(value);
}

// RFC 6749 section 5.2: error = 1*NQSCHAR, NQSCHAR = %x20-21 / %x23-5B / %x5D-7E.
bool is_error_code(std::string_view s) {
  return !s.empty() && s.size() <= max_error_code_chars &&
         std::all_of(s.begin(), s.end(), [](char c) {
           const auto u = static_cast<unsigned char>(c);
           return u >= 0x20 && u <= 0x7e && c != '"' && c != '\\';
         });
}

// token_answer is an aggregate whose first member is a string, so a plain string would be taken
// for either side of the result.
boost::system::result<token_answer, std::string> refuse(std::string why) {
  return boost::system::result<token_answer, std::string>(boost::system::in_place_error,
                                                          std::move(why));
}

}  // namespace

std::string token_request_body(const config::client_credentials_config& c) {
  std::string body = "grant_type=client_credentials";
  add_param(body, "scope", c.scope);
  add_param(body, "resource", c.resource);
  add_param(body, "audience", c.audience);
  return body;
}

boost::system::result<token_answer, std::string> parse_token_response(std::string_view body) {
  auto parsed = auth::parse_strict_object(body, max_json_depth);
  if (!parsed) return refuse("not a JSON object: " + parsed.error());
  const json::object& o = *parsed;
  token_answer out;
  const auto* token = o.if_contains("access_token");
  if (!token) return refuse("no access_token");
  if (!token->is_string() || token->get_string().empty())
    return refuse("access_token is not a non-empty string");
  const std::string_view value(token->get_string().data(), token->get_string().size());
  // It goes into an Authorization header: only what RFC 6750 allows there.
  if (!protocol::is_b64token(value))
    return refuse("access_token has characters a bearer token may not have");
  const auto* type = o.if_contains("token_type");
  if (!type) return refuse("no token_type");
  if (!type->is_string() ||
      !util::ascii_iequals(std::string_view(type->get_string().data(), type->get_string().size()),
                           "bearer"))
    return refuse("token_type is not \"Bearer\"");
  if (const auto* expires = o.if_contains("expires_in")) {
    if (!expires->is_number()) return refuse("expires_in is not a number");
    const double seconds = expires->to_number<double>();
    if (!std::isfinite(seconds) || seconds <= 0)
      return refuse("expires_in is not a positive number");
    out.lifetime = std::chrono::milliseconds(
        static_cast<std::int64_t>(std::min(seconds, max_lifetime_s) * 1000.0));
    if (out.lifetime.count() == 0) out.lifetime = std::chrono::milliseconds(1);
    out.lifetime_given = true;
  }
  out.access_token = std::string(value);
  return boost::system::result<token_answer, std::string>(boost::system::in_place_value,
                                                          std::move(out));
}

std::string token_refusal_text(unsigned status, std::string_view body) {
  std::string out = "the token endpoint answered HTTP " + std::to_string(status);
  auto parsed = auth::parse_strict_object(body, max_json_depth);
  if (!parsed) return out;
  const auto* error = parsed->if_contains("error");
  if (error && error->is_string()) {
    const std::string_view code(error->get_string().data(), error->get_string().size());
    if (is_error_code(code)) out += " (" + std::string(code) + ")";
  }
  return out;
}

access_token make_access_token(token_answer answer, token_clock::time_point now) {
  return access_token{std::move(answer.access_token), now, now + answer.lifetime};
}

token_clock::duration refresh_margin(token_clock::duration lifetime) {
  const token_clock::duration margin =
      std::max<token_clock::duration>(min_refresh_margin, lifetime / 10);
  return std::min(margin, lifetime / 2);
}

bool refresh_due(const access_token& t, token_clock::time_point now) {
  return t.expires - now < refresh_margin(t.expires - t.obtained);
}

bool has_expired(const access_token& t, token_clock::time_point now) {
  return now >= t.expires;
}

}  // namespace mcp_proxy::transport
