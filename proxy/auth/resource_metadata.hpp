#pragma once
// OAuth 2.0 Protected Resource Metadata (RFC 9728) of the proxy's routes: the JSON document a
// client fetches to learn which authorization servers issue tokens for a resource and which
// scopes it knows (MCP 2025-11-25 authorization discovers the authorization server this way, from
// the resource_metadata URL of a 401's WWW-Authenticate), the URL of that document for a
// resource URL (section 3.1), and the reverse: which resource path a request for the well-known
// URL asks about. Sans-io: the HTTP layer routes the request and writes the answer.
// Thread-safety: plain functions over values.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mcp_proxy::auth {

// The well-known path segment of RFC 9728 section 3.
inline constexpr std::string_view resource_metadata_well_known =
    "/.well-known/oauth-protected-resource";

struct resource_metadata {
  std::string resource;  // the resource URL, exactly as tokens name it in aud
  std::vector<std::string> authorization_servers;
  std::vector<std::string> scopes_supported;
  std::string resource_name;  // human-readable; empty: left out
};

// The JSON text (RFC 9728 section 2): resource, authorization_servers and scopes_supported (each
// left out when empty: an empty list tells a client nothing), bearer_methods_supported ["header"]
// (the proxy reads tokens from the Authorization header only), resource_name when not empty.
std::string metadata_document(const resource_metadata& metadata);

// The metadata URL of a resource URL (RFC 9728 section 3.1): the well-known segment goes between
// the authority and the path, a path of "/" (or none) adds nothing, a query or fragment is
// dropped; "https://h:8443/a/b" -> "https://h:8443/.well-known/oauth-protected-resource/a/b".
// `resource_url` must be an absolute URL with an authority (the proxy's own, built from a
// validated base URL); for anything else the result is empty.
std::string metadata_url(std::string_view resource_url);

// Which resource path a request for the metadata asks about: the request path (without its
// query) "/.well-known/oauth-protected-resource/a/b" -> "/a/b", the bare well-known path -> ""
// (a resource at the host's root), anything else -> nullopt (not a metadata request; that
// includes "/.well-known/oauth-protected-resourceX"). The view points into `request_path`.
std::optional<std::string_view> metadata_resource_path(std::string_view request_path);

}  // namespace mcp_proxy::auth
