#pragma once
// The conformance fixture's questions to the client in the modern era (spec 2026-07-28
// basic/patterns/mrtr): a modern server sends no requests, so each tool (and the prompt) that
// needs sampling, elicitation or roots answers resultType "input_required" with inputRequests (a
// map of keys to {method, params}) and, where it spans rounds, an HMAC-signed requestState; the
// client retries with inputResponses (and the state echoed) and gets the complete result. A
// question the client declared no capability for is -32021 with data.requiredCapabilities
// (basic/index, error codes). Covers the legacy fixture's asking tools (test_sampling,
// test_elicitation*, test_streaming_elicitation, test_missing_capability) and the tools and
// prompt the 2026-07-28 scenarios name (test_input_required_result_*).
// Thread-safety: plain functions; the signing key is made once, on first use.

#include "jsonrpc/message.hpp"

#include <boost/json/array.hpp>

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace mock::modern_tools {

// The tools and prompts that exist only in the modern era (tools/list and prompts/list add them).
boost::json::array tools();
boost::json::array prompts();

// The answer to a tools/call or prompts/get of one of them (input_required, complete, or an
// error); nullopt for any other request.
std::optional<mcp_proxy::jsonrpc::message> answer(const mcp_proxy::jsonrpc::message& request);

// Streamable HTTP custom headers (streamable-http, x-mcp-header): for a tools/call of a tool with
// a parameter annotated x-mcp-header, why its Mcp-Param-{Name} header (looked up by `header`) is
// missing or differs from the body once decoded (-32020); nullopt when it matches, or when the
// parameter has no value (no header is then expected).
std::optional<std::string> param_header_mismatch(
    const mcp_proxy::jsonrpc::message& request,
    const std::function<std::optional<std::string_view>(const std::string&)>& header);

}  // namespace mock::modern_tools
