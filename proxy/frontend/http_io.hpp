#pragma once
// What the HTTP frontends (Streamable HTTP, legacy HTTP+SSE) share below the session dispatch:
// the request type, whole responses, chunked event streams, and the faults the mock servers
// inject. Internal to the frontends and the listener (it names Beast types).
// Thread-safety: every function runs on the connection's executor; a stream has one writer.

#include "config/config.hpp"
#include "frontend/client_stream.hpp"
#include "frontend/injected_faults.hpp"
#include "frontend/request_headers.hpp"
#include "jsonrpc/message.hpp"
#include "protocol/cors.hpp"
#include "protocol/session_narrowing.hpp"
#include "util/async_queue.hpp"
#include "util/keyed_quota.hpp"
#include "util/task_group.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace mcp_proxy::frontend {

using tcp_stream = client_stream;  // plain TCP or TLS (frontend/client_stream.hpp)
using http_request = boost::beast::http::request<boost::beast::http::string_body>;

// Who sent a request, as the listener's auth check found it (http/request_auth): the principal
// sessions are bound to ("" when the route needs no credential) and what it may use (null:
// everything).
struct request_identity {
  std::string principal;
  std::shared_ptr<const protocol::item_access> access;
  std::string limits_key;  // the principal, or "peer:ADDRESS" (frontend/call_gate.hpp)
};

// The session_narrowing of a request: what it narrows to (protocol::narrowing_of: the query's
// `servers` and `tools`, or the Mcp-Proxy-Servers and Mcp-Proxy-Tools headers) and who sent it.
protocol::session_narrowing narrowing_for(const http_request& req, const request_identity& who);
// Whether `session` belongs to `who`: another principal's request is answered as for an unknown
// session (a session id is no credential).
bool owned_by(const protocol::session_narrowing& session, const request_identity& who);

// What every HTTP frontend of one listener shares.
struct http_context {
  http_context(boost::asio::any_io_executor e, config::proxy_config p, injected_faults f)
      : ex(e),
        proxy(std::move(p)),
        faults(f),
        tasks(e),
        sessions_per_peer(proxy.max_sessions_per_peer) {}
  boost::asio::any_io_executor ex;
  config::proxy_config proxy;
  injected_faults faults;
  bool stopping = false;  // the listener is shutting down: long streams end
  // Connections and what they leave running (calls whose client went away): cancelled and
  // awaited at shutdown, after the endpoints they refer to have stopped.
  util::task_group tasks;
  // Client sessions (Streamable HTTP and legacy SSE, every route) per client address.
  util::keyed_quota sessions_per_peer;
};

// A session slot for the client of `stream`; null (and a log line) when its address holds
// mcpProxy.maxSessionsPerPeer sessions already.
std::shared_ptr<void> acquire_session_slot(http_context& ctx, tcp_stream& stream);
// The refusal of such a client: 503 with a JSON-RPC error saying which limit.
boost::asio::awaitable<bool> refuse_session_slot(http_context& ctx, tcp_stream& stream,
                                                 const http_request& req);

// A stream with nothing to say gets a comment this often, so intermediaries keep it open.
inline constexpr auto keepalive_interval = std::chrono::seconds(15);

// A JSON-RPC error body for answers given before the message reached a session: with `id`,
// the id the body's top level carries (body_id), null when it has none that can be read.
std::string error_body(std::int64_t code, std::string_view text,
                       const boost::json::value& id = nullptr);
// The request id of a POST body read at its top level only (jsonrpc::readable_id: cheap, and
// whatever the body's nesting); null for other methods, batches and unreadable bodies.
boost::json::value body_id(const http_request& req);

// The log line of a client message refused for its nesting (jsonrpc::max_json_depth).
void log_too_deep();

// Trace lines of message bodies (cut by protocol::body_excerpt): a client's POST body, and what
// is written to a client (whole answers and stream events). Never a header, nor the query (a
// legacy sessionId is there).
void trace_client_body(const http_request& req);
void trace_to_client(std::string_view data);

// The CORS answers of every response to a browser (protocol/cors.hpp): set once by the listener
// from mcpProxy (allowedOrigins, cors), process-wide like the JSON depth bound.
void set_cors_policy(std::vector<std::string> allowed_origins, bool allow_credentials,
                     std::chrono::seconds max_age);
const protocol::cors_policy& cors_policy();

// Writes a whole response; true when the connection stays usable (keep-alive and no error).
// Every response carries the CORS headers its request's Origin gets; `extra` adds others.
boost::asio::awaitable<bool> reply(tcp_stream& stream, const http_request& req, unsigned status,
                                   std::string body,
                                   std::string_view content_type = "application/json",
                                   std::string_view session_id = {}, std::string_view allow = {},
                                   const protocol::header_list& extra = {});
// A JSON-RPC message as a whole response; a message kept as text goes out of its text, with its
// id between, in one gather write (jsonrpc::pieces_of), not a copy.
boost::asio::awaitable<bool> reply_message(tcp_stream& stream, const http_request& req,
                                           unsigned status, const jsonrpc::message& m,
                                           std::string_view session_id = {},
                                           const protocol::header_list& extra = {});
// A JSON-RPC answer with `status`, or 429 with Retry-After when it refused the request for a
// limit (frontend/call_gate.hpp).
boost::asio::awaitable<bool> reply_answer(tcp_stream& stream, const http_request& req,
                                          unsigned status, const jsonrpc::message& answer,
                                          std::string_view session_id = {});
// An error answer whose JSON-RPC error carries the request's body_id.
boost::asio::awaitable<bool> reply_error(tcp_stream& stream, const http_request& req,
                                         unsigned status, std::int64_t code, std::string_view text);
// Starts a text/event-stream response (chunked); false if the client is gone.
boost::asio::awaitable<bool> begin_sse(tcp_stream& stream, const http_request& req);
boost::asio::awaitable<bool> write_chunk(http_context& ctx, tcp_stream& stream, std::string data);
boost::asio::awaitable<bool> end_chunks(tcp_stream& stream);
// Closes the connection at once: a response ends unfinished (the client sees it fail).
void cut(tcp_stream& stream);
// Writes the queue's messages with `write_one` until the queue is closed (true) or a write
// fails (false), with a keep-alive comment when it is idle, so intermediaries keep the stream.
// A message whose write failed goes back to the head of the queue: a client that vanished
// mid-write may not have it, and the session's next stream sends it again (at least once).
// Defined for util::async_queue<jsonrpc::message> and backend::event_backlog.
template <typename Queue>
boost::asio::awaitable<bool> write_queue(
    http_context& ctx, tcp_stream& stream, Queue& queue,
    const std::function<boost::asio::awaitable<bool>(const jsonrpc::message&)>& write_one);

}  // namespace mcp_proxy::frontend
