#pragma once
// Custom headers of 2026-07-28 tools/call requests (spec 2026-07-28
// basic/transports/streamable-http, custom headers): a tool's inputSchema marks properties with
// `x-mcp-header: NAME`, and a request carries each marked argument that has a value as the header
// `Mcp-Param-NAME` too (encoded: modern_request's encode_header_value). A server that processes
// the body MUST check that the decoded headers match it (400, -32020), and one that does not
// recognize a header MUST forward it. Sans-io.
// Thread-safety: plain functions.

#include "jsonrpc/message.hpp"
#include "protocol/modern_request.hpp"

#include <boost/json/object.hpp>

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace mcp_proxy::protocol {

inline constexpr std::string_view param_header_prefix = "Mcp-Param-";

// One marked property: the header's NAME, the property's path of `properties` keys, and its
// JSON Schema type ("string", "integer" or "boolean": the only ones a mark may be on).
struct param_header {
  std::string name;
  std::vector<std::string> path;
  std::string type;
};

// The marks of a tool (an entry of a tools/list result): properties reached through
// `properties` keys only; marks on other types, or repeated (case-insensitively), are left out.
std::vector<param_header> param_headers_of(const boost::json::object& tool);

// Header name (without the prefix, any case) and value, as the request brought them.
using sent_headers = std::vector<std::pair<std::string, std::string>>;

// The check of a tools/call against its tool's marks: every Mcp-Param-* value must decode, and
// each marked argument with a value must come with its header, equal to it once decoded
// (integers compared as numbers). nullopt: it passes.
std::optional<modern_refusal> check_param_headers(const jsonrpc::message& call,
                                                  const std::vector<param_header>& marks,
                                                  const sent_headers& sent);

// The headers a client sends for a tools/call of a tool with these marks ("Mcp-Param-NAME",
// encoded value), for the marked arguments that have a value.
sent_headers param_header_values(const jsonrpc::message& call,
                                 const std::vector<param_header>& marks);

}  // namespace mcp_proxy::protocol
