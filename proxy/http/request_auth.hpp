#pragma once
// Who a client request comes from, and whether it may reach its route (issue #16): the bearer
// token of the request checked against the route's static tokens and, with mcpProxy.oauth, as an
// OAuth 2.1 access token (a JWT verified with the authorization server's JWK set, or an opaque
// token introspected, RFC 7662); the scopes the route and its tools require (403
// insufficient_scope); the protected resource metadata of every route (RFC 9728). The refusals
// follow RFC 6750 section 3 and carry `resource_metadata` (RFC 9728 section 5.1).
//
// Resource URLs (RFC 8707): the route NAME's are {base}/NAME/mcp and {base}/NAME/sse (the
// merged endpoint's {base}/mcp and {base}/sse), where base is mcpProxy.baseURL or, without it,
// http://HOST:PORT of the listener. A JWT's aud must name one of the route's or one of
// oauth.audiences. The token is never logged and never forwarded (the frontends drop the
// client's Authorization header; backends get their own credentials).
//
// Thread-safety: one I/O thread (the listener's); checks may overlap (a JWK set fetch is shared by
// the checks that wait for it).

#include "auth/access.hpp"
#include "config/config.hpp"
#include "protocol/bearer_auth.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mcp_proxy::http {

// What one route (a server, a group, or the merged endpoint at "") asks of its clients.
struct route_security {
  std::vector<config::auth_token> tokens;    // static tokens; none (and no oauth): open
  std::vector<std::string> required_scopes;  // with oauth: the global ones and the route's own
  // Tools that need scopes, by the name this route shows. `exposed_prefix` is prepended to a
  // name before the rule's pattern is matched: for a server's own rules on a merged route
  // (prefix and separator), for the global rules (on merged-endpoint names) on a server route.
  struct tool_rule {
    std::string pattern;
    std::string exposed_prefix;
    std::vector<std::string> scopes;
  };
  std::vector<tool_rule> tool_scopes;
};
using route_security_map = std::map<std::string, route_security, std::less<>>;

// Every route's security from the config: a server's own tokens (else the global ones), the
// merged endpoint's and groups' the global ones; with oauth, the scopes: the global ones, the
// route's own, and on a merged route (the merged endpoint, a group) every member's own too.
route_security_map security_of_routes(const config::config& cfg);

class request_auth {
 public:
  request_auth(boost::asio::any_io_executor ex, const config::proxy_config& proxy,
               route_security_map routes);
  ~request_auth();

  // A configuration reload: the routes and their tokens and scopes from now on (requests being
  // checked keep what they were checked against).
  void set_routes(route_security_map routes);
  // The public base URL (baseURL, or the listener's address once bound), for resource URLs.
  void set_base_url(std::string base);
  // With a jwksUri: the first fetch of the JWK set (logged; a failure leaves tokens refused
  // until a later fetch succeeds).
  boost::asio::awaitable<void> start();

  bool oauth() const;
  // Whether some route needs a credential (a token table that is not empty, or oauth).
  bool needs_credentials(std::string_view route) const;

  // The RFC 9728 document for a request path under /.well-known/oauth-protected-resource;
  // nullopt when the path is not one the proxy describes (404).
  std::optional<std::string> metadata_for(std::string_view request_path) const;

  struct outcome {
    std::optional<protocol::auth_refusal> refusal;
    std::shared_ptr<const auth::identity> who;  // set when admitted
    // Set when admitted: what sessions are bound to ("token:NAME", "jwt:SUB",
    // "introspection:SUB"; "" on a route that needs no credential) and what the identity may use
    // by mcpProxy.access (null: everything).
    std::string principal;
    std::shared_ptr<const protocol::item_access> access;
  };
  // The check of a request with these Authorization field values for `route` (nullptr: a path
  // that is no route; `route_name` and `kind` are then what the path looks like, so that the
  // answer is the same as for a route).
  boost::asio::awaitable<outcome> check(std::vector<std::string_view> authorization,
                                        const std::string* route, std::string_view route_name,
                                        std::string_view kind);
  // A tools/call of the tool this route shows as `tool`, by `who`: the 403 when a toolScopes rule
  // needs scopes the caller lacks.
  std::optional<protocol::auth_refusal> check_tool(std::string_view route, std::string_view kind,
                                                   std::string_view tool,
                                                   const auth::identity& who) const;
  // Whether the route has tool scope rules (a POST's body is read for tools/call only then).
  bool has_tool_scopes(std::string_view route) const;

  struct impl;

 private:
  std::unique_ptr<impl> impl_;
};

}  // namespace mcp_proxy::http
