#pragma once
// 2026-07-28 ("modern") requests on a Streamable HTTP route (spec 2026-07-28
// basic/transports/streamable-http): the header and _meta checks, then modern_calls with the
// answer in JSON or as an event stream without ids; and subscriptions/listen streams.
// Thread-safety: the listener's executor. Cancellation: a closed response stream cancels its
// call (the backend is told); suspended calls end at their deadline, or with the listener.

#include "core/endpoint.hpp"
#include "frontend/http_io.hpp"
#include "frontend/modern_calls.hpp"
#include "frontend/modern_dispatch.hpp"
#include "protocol/param_headers.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace mcp_proxy::frontend {

class modern_http {
 public:
  explicit modern_http(http_context& ctx);
  // Answers one modern message (protocol::is_modern) with the request's MCP headers (read once
  // by the caller); true when the connection stays usable.
  boost::asio::awaitable<bool> handle(tcp_stream& stream, http_request& req, core::endpoint& ep,
                                      const mcp_header_values& mcp, jsonrpc::message msg,
                                      const request_identity& who);

 private:
  boost::asio::awaitable<bool> serve_listen(tcp_stream& stream, http_request& req,
                                            core::endpoint& ep, jsonrpc::message msg,
                                            core::session_narrowing narrowing);
  boost::asio::awaitable<bool> run_listen(tcp_stream& stream, http_request& req, core::endpoint& ep,
                                          modern_listen& l);
  // The refusal of a tools/call whose Mcp-Param-* headers do not match its body (streamable-http,
  // custom headers), or nullopt.
  boost::asio::awaitable<std::optional<jsonrpc::message>> check_params(core::endpoint& ep,
                                                                       const http_request& req,
                                                                       const jsonrpc::message& msg);

  // Each route's tools' x-mcp-header marks, asked for again when a tool is not known (at most
  // every few seconds) or after a minute.
  struct tool_marks {
    std::chrono::steady_clock::time_point fetched;
    std::map<std::string, std::vector<protocol::param_header>, std::less<>> by_tool;
  };
  http_context& ctx_;
  modern_calls calls_;
  std::map<std::string, tool_marks, std::less<>> marks_;
};

}  // namespace mcp_proxy::frontend
