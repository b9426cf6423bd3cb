#pragma once
// Matching of names and URIs (sans-io): the glob patterns of filters and client narrowing, and the
// URI templates of resources/templates/list (RFC 6570), read backwards to route a URI.
// Thread-safety: pure functions.

#include <string>
#include <string_view>
#include <vector>

namespace mcp_proxy::protocol {

// `*` matches any run of characters (also none), `?` one character; everything else itself.
bool glob_match(std::string_view pattern, std::string_view text);
bool any_glob_matches(const std::vector<std::string>& patterns, std::string_view text);

// Whether `uri` is one of the URIs `uri_template` expands to. Literal parts match themselves;
// an expression `{x}` (or `{x,y}`) matches one or more characters other than '/', '?' and '#';
// the reserved forms `{+x}` and `{#x}` match any run; `{/x}`, `{.x}`, `{;x}`, `{?x}`, `{&x}`
// match their prefix character and what follows up to the next literal. An unclosed brace never
// matches.
bool uri_template_matches(std::string_view uri_template, std::string_view uri);

}  // namespace mcp_proxy::protocol
