#include "protocol/http_target.hpp"

#include "util/base64.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>

namespace mcp_proxy::protocol {

boost::system::result<target_url, std::string> parse_target(boost::urls::url_view u) {
  const auto scheme = u.scheme_id();
  if (scheme != boost::urls::scheme::http && scheme != boost::urls::scheme::https)
    return std::string("the URL scheme must be http or https");
  if (!u.has_authority() || u.encoded_host().empty()) return std::string("the URL has no host");
  target_url t;
  t.tls = scheme == boost::urls::scheme::https;
  t.host = u.host_address();
  t.port = u.has_port() ? std::string(u.port()) : (t.tls ? "443" : "80");
  t.host_header = u.encoded_host_and_port();
  t.target = u.encoded_path().empty() ? "/" : std::string(u.encoded_path());
  if (u.has_query()) t.target += "?" + std::string(u.encoded_query());
  t.origin = std::string(u.scheme()) + "://" + std::string(u.encoded_host()) + ":" + t.port;
  t.shown = t.origin + std::string(u.encoded_path());
  if (u.has_userinfo())
    t.basic_auth = "Basic " + util::base64_encode(u.user() + ":" + u.password());
  return t;
}

boost::system::result<target_url, std::string> parse_target(std::string_view text) {
  auto u = boost::urls::parse_uri(text);
  if (!u) return std::string("not an absolute URL");
  return parse_target(*u);
}

boost::system::result<target_url, std::string> resolve_endpoint(std::string_view ref,
                                                                std::string_view backend_url,
                                                                const target_url& backend) {
  auto parsed_ref = boost::urls::parse_uri_reference(ref);
  boost::urls::url resolved;
  auto base = boost::urls::parse_uri(backend_url);
  if (!parsed_ref || !base || !boost::urls::resolve(*base, *parsed_ref, resolved))
    return std::string("sent an endpoint event that is not a URL");
  auto t = parse_target(resolved);
  if (!t || t->origin != backend.origin)
    return std::string("sent an endpoint on another origin; refused");
  t->basic_auth = backend.basic_auth;
  return t;
}

}  // namespace mcp_proxy::protocol
