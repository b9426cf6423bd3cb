#pragma once
// MCP protocol versions and eras (sans-io). The era is a property of each connection, never global.

#include <optional>
#include <span>
#include <string_view>

namespace mcp_proxy::protocol {

enum class era { legacy, modern };

inline constexpr std::string_view latest_legacy_version = "2025-11-25";
// The version a Streamable HTTP server assumes when MCP-Protocol-Version is absent.
inline constexpr std::string_view default_http_version = "2025-03-26";

// Versions this proxy speaks to clients and backends, oldest first.
std::span<const std::string_view> supported_versions();
bool is_supported_version(std::string_view v);
// A string that is not a YYYY-MM-DD date is legacy.
era era_of(std::string_view version);

// The initialize answer: the requested version when supported, else the latest we support.
std::string_view negotiate_version(std::string_view requested);

// Whether the version carries the MCP-Protocol-Version header rule (2025-06-18 and later); false
// for a string that is not a date.
bool requires_version_header(std::string_view v);
// Whether a Streamable HTTP server primes its SSE streams for this version: an event with an id
// and empty data first, so the client can resume (2025-11-25 and later; older clients may not
// expect an event without a message).
bool primes_sse_streams(std::string_view v);

}  // namespace mcp_proxy::protocol
