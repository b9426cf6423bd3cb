#pragma once
// The header values an HTTP request is judged and dispatched by, each found in one pass over its
// fields (a lookup each would cost a case-insensitive tree search); the first of a repeated
// header counts, as with find(). Used by the listener (http/http_server), the frontends, and the
// http_request fuzz target.

#include "protocol/http_rules.hpp"

#include <boost/beast/http/fields.hpp>

#include <optional>
#include <string_view>

namespace mcp_proxy::frontend {

inline constexpr std::string_view session_header = "Mcp-Session-Id";
inline constexpr std::string_view version_header = "MCP-Protocol-Version";

// What check_request needs: Host, Origin, Content-Type, Accept, MCP-Protocol-Version.
void read_facts(const boost::beast::http::fields& fields, protocol::request_facts& facts);

// The MCP headers: MCP-Protocol-Version, Mcp-Session-Id, and 2026-07-28's Mcp-Method and
// Mcp-Name.
struct mcp_header_values {
  std::optional<std::string_view> version, session, method, name;
};
mcp_header_values mcp_headers(const boost::beast::http::fields& fields);

}  // namespace mcp_proxy::frontend
