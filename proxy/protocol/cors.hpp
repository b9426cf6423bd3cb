#pragma once
// CORS for browser clients (Fetch standard, "CORS protocol"), decided without I/O: the answer to
// a preflight OPTIONS, and the headers an answer to an allowed origin carries. Which origins are
// allowed is origin_allowed's rule (http_rules.hpp: localhost origins and mcpProxy.allowedOrigins);
// the allowed origin is always echoed, never "*", so an answer is never shared with another site.
// Thread-safety: plain functions.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mcp_proxy::protocol {

struct cors_policy {
  const std::vector<std::string>* allowed_origins = nullptr;  // mcpProxy.allowedOrigins
  bool allow_credentials = false;                             // mcpProxy.cors.allowCredentials
  std::chrono::seconds max_age{600};                          // mcpProxy.cors.maxAge
};

using header_list = std::vector<std::pair<std::string_view, std::string>>;

// The request headers a browser client may send: the MCP ones, and Authorization.
inline constexpr std::string_view cors_allowed_headers =
    "Accept, Authorization, Content-Type, Last-Event-ID, Mcp-Method, Mcp-Name, Mcp-Proxy-Servers, "
    "Mcp-Proxy-Tools, Mcp-Session-Id, MCP-Protocol-Version";
// The response headers its script may read.
inline constexpr std::string_view cors_exposed_headers =
    "Mcp-Session-Id, MCP-Protocol-Version, WWW-Authenticate, Retry-After";
inline constexpr std::string_view cors_allowed_methods = "GET, POST, DELETE, OPTIONS";

struct preflight_answer {
  int status = 204;     // 204; 403 for an origin that is not allowed
  header_list headers;  // none with 403
  std::string text;     // with 403: why
};
// An OPTIONS request. `request_headers` is Access-Control-Request-Headers: of the names it
// lists, those of cors_allowed_headers and any Mcp-Param-* (2026-07-28) are allowed. Without an
// Origin (not a browser's preflight) the answer is 204 with Allow only.
preflight_answer answer_preflight(const cors_policy& policy, std::optional<std::string_view> origin,
                                  std::optional<std::string_view> request_headers);

// What any other answer to a request with `origin` carries: nothing when the origin is absent or
// not allowed.
header_list cors_response_headers(const cors_policy& policy,
                                  std::optional<std::string_view> origin);

}  // namespace mcp_proxy::protocol
