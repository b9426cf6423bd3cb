#pragma once
// The rules of a 2026-07-28 ("modern") request that need no socket (sans-io): whether a request
// is of the modern era, the checks it must pass before it is served, and the shape of what it
// gets back. Spec 2026-07-28: basic/index (per-request _meta, resultType, error codes),
// basic/versioning (era detection), basic/transports/streamable-http (headers and statuses),
// server/discover, server/utilities/caching.
// Thread-safety: plain functions.

#include "jsonrpc/message.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace mcp_proxy::protocol {

inline constexpr std::string_view modern_version = "2026-07-28";
// The modern revisions this proxy serves, newest first (server/discover's supportedVersions and
// the `supported` of an UnsupportedProtocolVersion error: the same list, as the spec requires).
std::span<const std::string_view> modern_versions();

namespace meta {
inline constexpr std::string_view protocol_version = "io.modelcontextprotocol/protocolVersion";
inline constexpr std::string_view client_capabilities =
    "io.modelcontextprotocol/clientCapabilities";
inline constexpr std::string_view client_info = "io.modelcontextprotocol/clientInfo";
inline constexpr std::string_view log_level = "io.modelcontextprotocol/logLevel";
inline constexpr std::string_view server_info = "io.modelcontextprotocol/serverInfo";
}  // namespace meta

// Error codes the modern era defines (basic/index, error codes).
namespace modern_codes {
inline constexpr std::int64_t header_mismatch = -32020;
inline constexpr std::int64_t missing_required_client_capability = -32021;
inline constexpr std::int64_t unsupported_protocol_version = -32022;
// 2025-11-25's resource-not-found code, which 2026-07-28 implementations must not emit.
inline constexpr std::int64_t legacy_resource_not_found = -32002;
}  // namespace modern_codes

// The era of one message (basic/versioning, backward compatibility): a request whose
// params._meta names a protocol version is modern whatever the version or method (so an
// unknown version gets -32022, and a modern initialize gets -32601). Without that claim, a
// request is modern only when `version_header` names a modern revision (it then lacks its
// _meta: -32602) and carries no session id; everything else is legacy. A session id beside the
// claim is ignored.
bool is_modern(const jsonrpc::message& m, std::optional<std::string_view> version_header,
               bool has_session_id);

// The headers of a modern Streamable HTTP request (absent on stdio).
struct modern_headers {
  std::optional<std::string_view> protocol_version, method, name;
};

// Why a modern request is refused before it is served: the HTTP status (stdio has none), the
// JSON-RPC error, and its data (null when none).
struct modern_refusal {
  unsigned status = 400;
  std::int64_t code = 0;
  std::string text;
  boost::json::value data;
};

// The checks of a modern request, in the order the conformance suite relies on: the _meta
// fields it must carry (-32602, basic/index), then on HTTP the headers (`headers` set): the
// version header and its match with the body, Mcp-Method, Mcp-Name (-32020,
// streamable-http "Server Validation"), then the version itself (-32022 with data.supported and
// data.requested, basic/versioning), then the methods the era removed (404, -32601). nullopt:
// serve it.
std::optional<modern_refusal> check_modern_request(const jsonrpc::message& m,
                                                   const std::optional<modern_headers>& headers);

// A header value as the body holds it (streamable-http, value encoding): "=?base64?...?=" is
// decoded (nullopt when that is not valid base64 or not UTF-8 text); anything else is the
// value itself, with surrounding spaces and tabs trimmed.
std::optional<std::string> decode_header_value(std::string_view v);

// A value as a header carries it (streamable-http, value encoding): itself when it is visible
// ASCII without surrounding spaces, else "=?base64?...?=" (as is a value that looks like one).
std::string encode_header_value(std::string_view v);

// The headers a proxy sends with a modern request to a Streamable HTTP server (streamable-http,
// standard headers): MCP-Protocol-Version from the _meta claim, Mcp-Method, and Mcp-Name for
// the methods that name an item, encoded. nullopt for a message without the claim.
struct outgoing_headers {
  std::string protocol_version, method;
  std::optional<std::string> name;
};
std::optional<outgoing_headers> outgoing_headers_of(const jsonrpc::message& m);

// The methods a modern client may not send: the 2025-11-25 lifecycle and session methods that
// 2026-07-28 removed (changelog): initialize, ping, logging/setLevel, resources/subscribe and
// resources/unsubscribe.
bool removed_in_modern(std::string_view method);

// The error answering `m` for a refusal.
jsonrpc::message refusal_response(const jsonrpc::message& m, const modern_refusal& r);

// The rank of the request's per-request log level (debug = 0 .. emergency = 7), or -1 when
// it sets none: then no notifications/message may reach the client for it (logging).
int modern_log_rank(const jsonrpc::message& m);

// The request as a 2025-11-25 session takes it: params._meta without the modern keys (an empty
// _meta is removed; progressToken and other keys stay).
jsonrpc::message to_legacy_request(jsonrpc::message m);

// The initialize a proxy sends on a modern client's behalf (its clientInfo from _meta), to serve
// it through a 2025-11-25 session. It declares the capabilities a backend asks for to serve a
// request (sampling, elicitation in both modes) whatever the client declared: what the client
// cannot answer, the proxy refuses with -32021 (missing_capability_error). Roots, which servers
// ask for on their own, only when the client declared them.
jsonrpc::message legacy_initialize_for(const jsonrpc::message& modern_request);

// The capabilities the modern request declared in its _meta (empty when none).
boost::json::object declared_capabilities(const jsonrpc::message& modern_request);

// MissingRequiredClientCapabilityError (basic/index, error codes): the answer to `request_id`
// when processing it needs a capability the client did not declare, the one `backend_request`
// asks for; HTTP 400 (streamable-http).
jsonrpc::message missing_capability_error(const boost::json::value& request_id,
                                          const jsonrpc::message& backend_request);

// A 2025-11-25 answer to `method` made a modern one: resultType "complete" (unless it has one)
// and serverInfo in result _meta; complete list and read results get ttlMs and cacheScope unless
// a 2026-07-28 backend gave them (caching: a proxy cannot know how long a 2025-11-25 backend's
// answer holds, so ttlMs 0 and "private"); the
// 2025-11-25 resource-not-found code -32002 becomes -32602 (server/resources, error handling).
void to_modern_answer(jsonrpc::message& answer, std::string_view method,
                      const boost::json::object& server_info);

// Whether an answer is a result of resultType "input_required" (basic/patterns/mrtr).
bool is_input_required(const jsonrpc::message& answer);

// The HTTP status of a modern answer (streamable-http, protocol version header): 404 for a
// method not found (-32601, whoever found it missing: the proxy serves no method its backend
// lacks), 400 for a missing client capability (-32021, basic/index), 200 for results and every
// other error (in-band).
unsigned modern_http_status(const jsonrpc::message& answer);

// server/discover's result from a 2025-11-25 initialize result (capabilities, serverInfo,
// instructions).
boost::json::object discover_result(const boost::json::object& initialize_result);

}  // namespace mcp_proxy::protocol
