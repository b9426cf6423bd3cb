#pragma once
// HTTP request rules of the Streamable HTTP transport that need no socket (sans-io).

#include <string>
#include <string_view>
#include <vector>

namespace mcp_proxy::http {

// Spec 2025-11-25, Streamable HTTP, security: servers MUST validate Origin. Localhost origins
// (any scheme and port) are allowed; `allowed` adds exact origins ("https://app.example:8443"),
// and "*" allows every origin. A malformed origin, or "null", is not allowed.
bool origin_allowed(std::string_view origin, const std::vector<std::string>& allowed);

// Whether an Accept header value admits `media_type` ("application/json"), honouring wildcards
// ("*/*", "text/*") and q=0 exclusions. Case-insensitive.
bool accepts(std::string_view accept_header, std::string_view media_type);

// Whether a Content-Type header names `media_type`, ignoring parameters (charset).
bool content_type_is(std::string_view content_type, std::string_view media_type);

// A session id must be visible ASCII (0x21-0x7E) and non-empty.
bool valid_session_id(std::string_view id);

}  // namespace mcp_proxy::http
