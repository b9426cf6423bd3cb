#pragma once
// HTTP request rules of the client-facing transports that need no socket (sans-io).
// Thread-safety: plain functions.

#include "protocol/session_narrowing.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mcp_proxy::protocol {

// Spec 2025-11-25, Streamable HTTP, security: servers MUST validate Origin. Localhost origins
// (any scheme and port) are allowed; `allowed` adds exact origins ("https://app.example:8443"),
// and "*" allows every origin. A malformed origin, or "null", is not allowed.
bool origin_allowed(std::string_view origin, const std::vector<std::string>& allowed);

// DNS-rebinding protection for requests without Origin (spec 2025-11-25 basic/transports,
// security warning; basic/security_best_practices): a Host header names who the client thinks
// it is talking to. When the proxy listens on loopback only (`loopback_listener`), Host must be
// a loopback name (localhost, 127.0.0.1, [::1], any port), or listed in `allowed` (a host, or
// host:port; "*" allows every host). Otherwise only a non-empty `allowed` restricts it.
bool host_allowed(std::string_view host_header, bool loopback_listener,
                  const std::vector<std::string>& allowed);

// Whether an Accept header value admits `media_type` ("application/json"), honouring wildcards
// ("*/*", "text/*") and q=0 exclusions. Case-insensitive.
bool accepts(std::string_view accept_header, std::string_view media_type);

// Whether a Content-Type header names `media_type`, ignoring parameters (charset).
bool content_type_is(std::string_view content_type, std::string_view media_type);

// A session id must be visible ASCII (0x21-0x7E) and non-empty.
bool valid_session_id(std::string_view id);

// The path of mcpProxy.baseURL without its trailing slashes ("" when it has none, or no baseURL):
// every route is served under it, as TBXark/mcp-proxy does ("https://h/tools/" -> "/tools").
std::string route_prefix(std::string_view base_url);

// A route `{prefix}/{name}/{kind}` of an absolute path (no query): kind is "mcp" (Streamable
// HTTP), "sse" (the legacy event stream) or "message" (legacy POSTs). One trailing slash is
// ignored.
struct route {
  std::string_view name, kind;
};
// The merged endpoint has the empty name: `{prefix}/mcp`, `{prefix}/sse`, `{prefix}/message`.
std::optional<route> parse_route(std::string_view path, std::string_view prefix);

// What a client narrows a merged session to: the `servers` and `tools` query parameters of the
// request target, and the Mcp-Proxy-Servers and Mcp-Proxy-Tools headers; each a comma-separated
// list (parameters may repeat). Empty entries are dropped.
session_narrowing narrowing_of(std::string_view target, std::string_view servers_header,
                               std::string_view tools_header);

// What the frontends check of an HTTP request before it reaches a session (spec 2025-11-25
// basic/transports), one function for every route, in this order: the DNS-rebinding rules (a
// Host not allowed, an Origin not allowed: 403), the method the route serves (405 with Allow),
// on GET and DELETE the MCP-Protocol-Version header (405 for 2026-07-28, 400 for a version not
// supported; a POST's is checked with its body), the media types (Content-Type 415, Accept
// 406). Sessions are looked up after (400 without one, 404 for an unknown one).
struct request_facts {
  std::string_view method;  // "GET", "POST", ... as sent
  std::string_view kind;    // the route's kind: "mcp", "sse" or "message" (parse_route)
  std::string_view host;
  std::optional<std::string_view> origin, content_type, accept, protocol_version;
  bool loopback_listener = true;
  const std::vector<std::string>* allowed_hosts = nullptr;
  const std::vector<std::string>* allowed_origins = nullptr;
  bool get_stream_offered = true;  // mcpProxy.getStream
};
struct rejection {
  int status = 400;
  std::string text;        // the JSON-RPC error's message (code -32600)
  std::string_view allow;  // 405: the Allow header
  bool operator==(const rejection&) const = default;
};
std::optional<rejection> check_request(const request_facts& r);

}  // namespace mcp_proxy::protocol
