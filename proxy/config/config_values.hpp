#pragma once
// Checks and spellings of single config values, shared by the reader's files. Internal to
// config/: plain functions, no state.

#include "config/config.hpp"
#include "util/ascii.hpp"

#include <boost/json/value.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace mcp_proxy::config::detail {

// Echoed values (enum names, addresses) are cut to this length in messages.
inline constexpr std::size_t max_echo_chars = 80;

bool is_ascii_digit(char c);
bool is_ascii_alnum(char c);
bool is_identifier(std::string_view s);
// ^[A-Za-z0-9_.-]{1,64}$: server and group names become URL path segments and tool prefixes.
bool is_valid_server_name(std::string_view s);
// Characters a tool name may have (spec 2025-11-25 server/tools: tool names).
bool protocol_name_chars(std::string_view s);
// RFC 9110 token, the syntax of a header name.
bool is_header_token(std::string_view s);
bool contains_nul(std::string_view s);
using util::ascii_iequals;

// A JSON string literal for `s`: escapes quotes and control characters, so that messages stay on
// one line whatever the file holds. Long values are shortened.
std::string quoted(std::string_view s);
// "$.a.b" for an identifier key, `$.a["b c"]` otherwise.
std::string child_path(std::string_view parent, std::string_view key);
std::string index_path(std::string_view parent, std::size_t i);
// "a string", "an array", ... for "expected X, got Y".
std::string_view kind_name(const boost::json::value& v);

// An absolute http or https URL with a host, returned with the bytes a URI may not hold
// percent-encoded, so that later consumers can parse it with Boost.URL.
std::optional<std::string> normalize_http_url(std::string_view s);
// "*" or scheme://host[:port], the shape of an Origin header.
bool is_origin(std::string_view s);
// Whether the path of an absolute URL ends in "/sse"; `url` comes from normalize_http_url.
bool url_path_ends_in_sse(std::string_view url);

// "stdio", "sse", "streamable-http"; Claude's "type" key also says "http".
std::optional<transport_type> transport_from_name(std::string_view s, bool claude_type_key);
std::string_view transport_name(transport_type t);

// How close a misspelt key is to a known one, for "did you mean": 0 when they differ only in
// case, else the edit distance (a swap of neighbours counts as one edit) when it is at most 2 and
// leaves at least one character of `unknown` in place; nullopt when they are not close.
std::optional<std::size_t> typo_distance(std::string_view unknown, std::string_view known);

}  // namespace mcp_proxy::config::detail
