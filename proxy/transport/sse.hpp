#pragma once
// Server-Sent Events encoding (sans-io), per the WHATWG event-stream format.

#include <string>
#include <string_view>

namespace mcp_proxy::transport {

// One event: optional `event:` and `id:` fields, the data split into `data:` lines, a blank line.
std::string encode_sse_event(std::string_view data, std::string_view event = {},
                             std::string_view id = {});
// A comment line, used as a keep-alive.
std::string encode_sse_comment(std::string_view text);

}  // namespace mcp_proxy::transport
