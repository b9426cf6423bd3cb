#pragma once
// What a backend session needs from a transport to one MCP server: send a message, receive the
// next one, stop. Implemented by stdio_child (a local process) and by the HTTP clients
// (http_link.hpp: Streamable HTTP and legacy HTTP+SSE).
// Thread-safety: all calls on the executor the link was made with. Lifetime: shared; a link's
// I/O tasks hold a reference until they end.

#include "jsonrpc/message.hpp"
#include "protocol/declared_client.hpp"
#include "protocol/versions.hpp"
#include "transport/chunk_stream.hpp"
#include "transport/link_error.hpp"

#include <boost/asio/awaitable.hpp>

#include <functional>
#include <memory>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mcp_proxy::transport {

// One message text from the server (one JSON-RPC message or batch, unparsed), and the id of the
// proxy's request it came in answer to when the transport tells (Streamable HTTP: it came on the
// event stream of that request's POST); null when it came on its own (stdio, a GET stream).
struct inbound {
  std::string text;
  boost::json::value in_reply_to;
  // No message: the transport replaced an expired server session with a new one (Streamable
  // HTTP with renew_expired_session); what the old session held (subscriptions, the log level)
  // is gone.
  bool session_renewed = false;
  // Set when `text` is only the head of a response (jsonrpc::scan_response_head reads it) whose
  // rest comes through here as it arrives: a long answer the stream policy let pass on.
  std::shared_ptr<chunk_stream> rest;
};

class message_link {
 public:
  virtual ~message_link() = default;

  // Queues one message for the server; never blocks. Dropped once the link has ended. A request
  // the transport cannot deliver is answered by the link itself with an error response.
  virtual void send(const jsonrpc::message& m) = 0;
  // The same with HTTP headers for it (2026-07-28 Mcp-Param-*); a transport without headers
  // sends the message alone.
  using header_list = std::vector<std::pair<std::string, std::string>>;
  virtual void send_with_headers(const jsonrpc::message& m, const header_list&) { send(m); }
  // A client's request with the client it is for (shared mode: one backend session serves many
  // clients); a link that gives each request the client's _meta (a 2026-07-28 backend's) puts
  // that client's capabilities and clientInfo there. Others send the message alone.
  virtual void send_for(const jsonrpc::message& m, const protocol::declared_client&) { send(m); }
  // Whether the answer to the request with this id (the id the server was sent) may be passed on
  // as it arrives rather than whole: its owner knows which answers go on unchanged.
  using stream_policy = std::function<bool(const boost::json::value& id)>;
  // A link that can pass a long answer on as it arrives (an event of a Streamable HTTP POST's
  // stream) asks `p` first; the others read every answer whole.
  virtual void set_stream_policy(stream_policy) {}
  // The next message from the server; nullopt once the link has ended, and end_reason() then
  // says why.
  virtual boost::asio::awaitable<std::optional<inbound>> receive() = 0;
  // Ends the link gracefully (a process is stopped and reaped, an HTTP session is deleted).
  // Safe to call more than once.
  virtual boost::asio::awaitable<void> stop() = 0;
  // Best effort, synchronous (destructors, fatal paths).
  virtual void kill_now() = 0;

  // Why receive() ended, for logs and errors: "exited with code 3", "session expired (HTTP 404)".
  virtual std::string end_reason() const = 0;
  // The same as a code to branch on (link_error); empty while the link lives.
  virtual boost::system::error_code end_cause() const = 0;
  // What the link talks to, for logs: "pid 1234", "http://host:port/path".
  virtual std::string describe() const = 0;
  // The protocol version negotiated by initialize (HTTP sends it in MCP-Protocol-Version).
  virtual void set_protocol_version(std::string_view) {}
  // The era the server was found to speak, when the link finds it out (era_link, for
  // "protocol": "auto"); nullopt when it does not know or does not look.
  virtual std::optional<protocol::era> detected_era() const { return std::nullopt; }
};

}  // namespace mcp_proxy::transport
