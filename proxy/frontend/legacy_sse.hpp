#pragma once
// The legacy HTTP+SSE frontend (spec 2024-11-05 basic/transports) of one route: `GET
// /{name}/sse` opens the event stream, whose first event (`endpoint`) names where to POST
// (`/{name}/message?sessionId=...`); every answer goes on the stream, and the stream is the
// session: when it ends, so does the session. Messages go through the session dispatch.
// Thread-safety: the listener's executor.

#include "core/endpoint.hpp"
#include "frontend/http_io.hpp"

#include <boost/asio/awaitable.hpp>

#include <map>
#include <memory>
#include <optional>
#include <string>

namespace mcp_proxy::frontend {

class legacy_sse {
 public:
  explicit legacy_sse(http_context& ctx) : ctx_(ctx) {}
  // `who` opens the session (handle_stream); a POST from another principal is answered as for
  // an unknown session.
  boost::asio::awaitable<bool> handle_stream(tcp_stream& stream, http_request& req,
                                             std::shared_ptr<core::endpoint> ep,
                                             const request_identity& who);
  boost::asio::awaitable<bool> handle_post(tcp_stream& stream, http_request& req,
                                           std::shared_ptr<core::endpoint> ep,
                                           const request_identity& who);
  // Wakes every event stream so it ends (shutdown).
  void close_all();

  struct session;

 private:
  // Dispatches one message of the session's POST; its answer goes on the event stream, except a
  // refusal for a limit (frontend/call_gate.hpp), which is returned for the POST to answer.
  boost::asio::awaitable<std::optional<jsonrpc::message>> on_message(
      std::shared_ptr<session> ls, std::shared_ptr<core::endpoint> ep, jsonrpc::message msg);
  // The endpoint event's URL: absolute under baseURL when it is set, else a path.
  std::string post_url(std::string_view name, std::string_view id) const;

  http_context& ctx_;
  std::map<std::string, std::shared_ptr<session>, std::less<>> sessions_;
};

}  // namespace mcp_proxy::frontend
