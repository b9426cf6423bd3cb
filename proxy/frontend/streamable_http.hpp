#pragma once
// The Streamable HTTP frontend (spec 2025-11-25 basic/transports) of one route `/{name}/mcp`:
// POST (one message, or a batch in 2025-03-26) answered in JSON or as an event stream, GET for
// the session's own stream (and resumption with Last-Event-ID), DELETE to end the session.
// Checks of the request as such (Host, Origin, method, media types, a GET's version header) are
// done before (check_request); messages go through the session dispatch. A 2026-07-28 request
// (its era is in its _meta) is checked and served statelessly instead (modern_http).
// Thread-safety: the listener's executor. Cancellation: a stream ends when its client goes
// away (a disconnect is not a cancellation: the call runs on and can be resumed).

#include "core/endpoint.hpp"
#include "frontend/http_io.hpp"
#include "frontend/modern_http.hpp"
#include "frontend/stream_registry.hpp"

#include <boost/asio/awaitable.hpp>

#include <memory>

namespace mcp_proxy::frontend {

class streamable_http {
 public:
  explicit streamable_http(http_context& ctx)
      : ctx_(ctx), streams_(ctx.ex, ctx.proxy), modern_(ctx) {}
  // Answers one request on `ep`'s route; true when the connection stays usable.
  boost::asio::awaitable<bool> handle(tcp_stream& stream, http_request& req, core::endpoint& ep,
                                      const request_identity& who);

  struct logged_stream;

 private:
  boost::asio::awaitable<bool> handle_post(tcp_stream& stream, http_request& req,
                                           core::endpoint& ep, const request_identity& who);
  boost::asio::awaitable<bool> handle_get(tcp_stream& stream, http_request& req,
                                          std::shared_ptr<core::client_session> s);
  boost::asio::awaitable<bool> handle_batch(tcp_stream& stream, http_request& req,
                                            core::endpoint& ep, jsonrpc::payload batch,
                                            const request_identity& who);
  // The request's session; nullptr after answering 400 (no Mcp-Session-Id) or 404 (unknown,
  // ended, or another principal's), spec 2025-11-25 basic/transports: Session Management.
  boost::asio::awaitable<std::shared_ptr<core::client_session>> require_session(
      tcp_stream& stream, const http_request& req, core::endpoint& ep,
      std::optional<std::string_view> sid, const request_identity& who, bool& keep_alive);
  boost::asio::awaitable<bool> stream_call(tcp_stream& stream, http_request& req,
                                           core::endpoint& ep,
                                           std::shared_ptr<core::client_session> s,
                                           core::call_started cs);
  boost::asio::awaitable<bool> write_event(tcp_stream& stream, const jsonrpc::message& m,
                                           const logged_stream& log);
  // Starts an event stream of `s`: a new stream in its event log and, for clients of 2025-11-25
  // and later, the priming event (an id and empty data) that lets them resume even before the
  // first message (spec 2025-11-25 basic/transports: sending messages to the server).
  boost::asio::awaitable<bool> begin_session_sse(tcp_stream& stream, const http_request& req,
                                                 const core::client_session& s, logged_stream& log);
  // The client of a POST stream went away before the response: the call runs on (a disconnect
  // is not a cancellation) and its events wait, from `unsent` (the one whose write failed) on,
  // for a GET that resumes the stream with Last-Event-ID.
  void orphan_stream(core::endpoint& ep, std::shared_ptr<core::client_session> s,
                     std::shared_ptr<session_streams> st, core::call_started cs,
                     std::uint64_t stream_no, std::optional<jsonrpc::message> unsent, bool final);
  // GET with the Last-Event-ID of a POST stream: what the client missed, then the rest of the
  // call if it is still running.
  boost::asio::awaitable<bool> resume_stream(tcp_stream& stream, const http_request& req,
                                             std::shared_ptr<session_streams> st,
                                             event_log::replay replay);
  boost::asio::awaitable<bool> write_replay(tcp_stream& stream, const event_log::replay& replay);
  // write_queue with event ids from `log`.
  boost::asio::awaitable<bool> write_logged(tcp_stream& stream,
                                            util::async_queue<jsonrpc::message>& queue,
                                            const logged_stream& log);

  http_context& ctx_;
  stream_registry streams_;
  modern_http modern_;  // 2026-07-28 requests
};

}  // namespace mcp_proxy::frontend
