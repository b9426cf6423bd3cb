#pragma once
// Where an HTTP backend is reached, read from its URL without I/O: the address to connect to, the
// Host header and request target, and the origin a legacy backend's `endpoint` event must keep
// (spec 2024-11-05 basic/transports: the client POSTs to the URI the event names). Used by the
// HTTP links (transport/http_link_base) and the sse_endpoint fuzz target.

#include <boost/system/result.hpp>
#include <boost/url/url_view.hpp>

#include <string>
#include <string_view>

namespace mcp_proxy::protocol {

struct target_url {
  bool tls = false;
  std::string host;  // for DNS and SNI (an IPv6 address without brackets)
  std::string port;
  std::string host_header;  // host[:port] as written in the URL
  std::string target;       // path and query
  std::string origin;       // scheme://host:port, to compare with an endpoint event's URL
  std::string shown;        // scheme://host:port/path: no userinfo, no query (keys live there)
  std::string basic_auth;   // "Basic ..." from the URL's userinfo, or empty
};

// An http or https URL with a host; the error says what is wrong with it.
boost::system::result<target_url, std::string> parse_target(boost::urls::url_view u);
boost::system::result<target_url, std::string> parse_target(std::string_view text);

// Where to POST after a legacy stream's `endpoint` event: `ref` resolved against `backend_url`
// (the stream's URL, whose parse is `backend`). The proxy sends its configured headers
// (credentials) there, so only the backend's own origin is accepted; the answer keeps the
// backend's basic_auth. The error is the link's reason to end.
boost::system::result<target_url, std::string> resolve_endpoint(std::string_view ref,
                                                                std::string_view backend_url,
                                                                const target_url& backend);

}  // namespace mcp_proxy::protocol
