#pragma once
// A 2026-07-28 ("modern") request served by any endpoint: the proxy opens a 2025-11-25 client
// session for the request (with the capabilities and clientInfo of its _meta), serves the
// request in it like any other, shapes what goes back for the modern client, and ends the
// session with the request. Modern clients have no session (basic/index, statelessness), so
// nothing of one request is seen by another. Shared mode makes such a session cheap (the
// backend is already up); per-client mode starts a backend for each request.
// What is not bridged yet: a backend request raised during a call (sampling, elicitation,
// roots/list) is refused at once (-32601) instead of becoming an input_required result
// (issue #14, MRTR); subscriptions/listen gets -32601.
// Thread-safety: the endpoint's executor. Cancellation: the frontend abandons the call (a
// closed stream) and then finishes the request.

#include "core/endpoint.hpp"
#include "jsonrpc/message.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include <memory>
#include <optional>
#include <string>

namespace mcp_proxy::frontend {

struct modern_dispatched {
  std::optional<jsonrpc::message> answer;  // answered at once, modern-shaped
  std::optional<core::call_started> call;  // in flight: its events go through to_modern_event
  bool overloaded = false;                 // refused for the session limit (HTTP 503)
  // The session serving the request, ended by finish_modern.
  std::shared_ptr<core::client_session> session;
  std::string method;
  int log_rank = -1;  // the request's own log level; -1: no log messages for it
  boost::json::object server_info;
};

// Serves one modern request (checked already: protocol::check_modern_request).
boost::asio::awaitable<modern_dispatched> dispatch_modern(core::endpoint& ep, jsonrpc::message msg,
                                                          core::session_narrowing narrowing);

// An event of the call, as the modern client gets it; nullopt when it is not for the client (a
// log message below its level or without one; a backend request, which is refused here).
std::optional<jsonrpc::message> to_modern_event(core::endpoint& ep, modern_dispatched& d,
                                                jsonrpc::message ev);

// Ends the request's session (once its call is answered or abandoned).
boost::asio::awaitable<void> finish_modern(core::endpoint& ep, modern_dispatched& d);

}  // namespace mcp_proxy::frontend
