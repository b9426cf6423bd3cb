#pragma once
// MCP clients over HTTP, as message_links for backend sessions:
// - Streamable HTTP (spec 2025-11-25 basic/transports): each message is a POST; a request's answer
//   comes as JSON or as an SSE stream (progress and server requests first); Mcp-Session-Id and
//   MCP-Protocol-Version are sent once known; a GET stream carries server-initiated messages; a
//   POST stream that drops before its response is resumed with GET + Last-Event-ID when the
//   server gave event ids; HTTP 404 on a session means it expired: the link ends, so the owner
//   starts a new session; stop() sends DELETE.
// - Legacy HTTP+SSE (spec 2024-11-05): GET opens the event stream, whose `endpoint` event names
//   the URL to POST messages to (it must have the same origin as the stream's URL); every answer
//   comes on the stream; the link ends with the stream.
// Both speak http and https (certificates verified against the system store, or SSL_CERT_FILE /
// SSL_CERT_DIR; the host name is checked; SNI sent), reuse keep-alive connections, send the
// configured headers on every request (with client credentials also `Authorization: Bearer` and a
// token from the backend's authorization server, which wins over a configured Authorization; a
// POST answered 401 is sent once more with a new token), and answer a request they cannot
// deliver (connection refused, HTTP error, no token) with a JSON-RPC error response, so no call
// waits for its deadline.
// Thread-safety and lifetime: see message_link.

#include "config/config.hpp"
#include "transport/message_link.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace mcp_proxy::transport {

struct http_link_options {
  std::string name;  // for logs
  std::string url;   // absolute http or https URL
  std::map<std::string, std::string> headers;
  // Bounds one request's exchange (a POST and its response stream).
  std::chrono::milliseconds timeout{60'000};
  std::optional<std::string> tls_ca_file;  // PEM certificates trusted besides the system store
  bool tls_insecure_skip_verify = false;   // accept any certificate (a warning is logged)
  // make_streamable_http_link: when the server refuses the first POST (initialize) with a 4xx
  // other than 401/403, fall back to legacy SSE at the same URL (spec 2025-11-25
  // basic/transports, backwards compatibility).
  bool detect_transport = false;
  // make_streamable_http_link: when the server ends the session (HTTP 404), start a new one with
  // the first initialize and send the requests it refused again, instead of ending the link
  // (shared backends: the proxy is the client, and the 404'd requests were never processed).
  bool renew_expired_session = false;
  // The largest message accepted (a JSON body, an SSE line): past it the request fails with
  // that reason (server key maxMessageBytes).
  std::size_t max_message_bytes = 64u << 20;
  // The longest wait honoured of what a server's `retry` field asks before a stream is resumed
  // (server key maxRetryWait; see docs/conformance.md on why the default follows the server).
  std::chrono::milliseconds max_retry_wait{30'000};
  // OAuth 2.1 client credentials (server key clientCredentials): every request carries a bearer
  // token got with them (transport/token_source.hpp). Disabled when its token_endpoint is empty.
  config::client_credentials_config client_credentials;
};

// The error says why the URL or the TLS options cannot be used. No I/O happens before the first
// send().
boost::system::result<std::shared_ptr<message_link>, std::string> make_streamable_http_link(
    boost::asio::any_io_executor ex, http_link_options options);
// Opens the event stream at once; sends wait for its `endpoint` event.
boost::system::result<std::shared_ptr<message_link>, std::string> make_sse_link(
    boost::asio::any_io_executor ex, http_link_options options);

}  // namespace mcp_proxy::transport
