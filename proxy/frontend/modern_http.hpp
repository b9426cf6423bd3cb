#pragma once
// 2026-07-28 ("modern") requests on a Streamable HTTP route (spec 2026-07-28
// basic/transports/streamable-http): the header and _meta checks, then modern_dispatch; answers
// in JSON or as an event stream without ids; subscriptions/listen streams; and the calls
// suspended for the client's input (basic/patterns/mrtr) with the protocol::input_bridge that
// decides about them, until a retry resumes them or their deadline passes.
// Thread-safety: the listener's executor. Cancellation: a closed response stream cancels its
// call (the backend is told); suspended calls end at their deadline, or with the listener.

#include "core/endpoint.hpp"
#include "frontend/http_io.hpp"
#include "frontend/modern_dispatch.hpp"
#include "protocol/input_bridge.hpp"

#include <boost/asio/awaitable.hpp>

#include <map>

namespace mcp_proxy::frontend {

class modern_http {
 public:
  explicit modern_http(http_context& ctx);
  // Answers one modern message (protocol::is_modern) with the request's MCP headers (read once
  // by the caller); true when the connection stays usable.
  boost::asio::awaitable<bool> handle(tcp_stream& stream, http_request& req, core::endpoint& ep,
                                      const mcp_header_values& mcp, jsonrpc::message msg);

 private:
  boost::asio::awaitable<bool> serve_listen(tcp_stream& stream, http_request& req,
                                            core::endpoint& ep, jsonrpc::message msg,
                                            core::session_narrowing narrowing);
  boost::asio::awaitable<bool> run_listen(tcp_stream& stream, http_request& req, core::endpoint& ep,
                                          modern_listen& l);
  // The events of a call, without event ids; a closed stream cancels it. A backend request
  // suspends it (d.suspended_as) and answers input_required instead.
  boost::asio::awaitable<bool> stream_call(tcp_stream& stream, http_request& req,
                                           core::endpoint& ep, modern_dispatched& d);
  // A retry of a suspended call (protocol::input_bridge::is_retry).
  boost::asio::awaitable<bool> retry(tcp_stream& stream, http_request& req, core::endpoint& ep,
                                     jsonrpc::message msg);
  // After stream_call: keeps a suspended call, or ends the request's session.
  boost::asio::awaitable<void> settle(core::endpoint& ep, modern_dispatched d);
  // Ends the suspended calls whose deadline passed, until none is left.
  boost::asio::awaitable<void> reap_suspended();

  struct suspended_call {
    core::endpoint* ep = nullptr;  // the route's endpoint, which outlives the listener's tasks
    modern_dispatched d;
  };
  http_context& ctx_;
  protocol::input_bridge bridge_;
  std::map<protocol::input_bridge::ticket, suspended_call> suspended_;
  bool reaping_ = false;
};

}  // namespace mcp_proxy::frontend
