#pragma once
// A 2026-07-28 ("modern") request served by any endpoint: the proxy opens a 2025-11-25 client
// session for the request (protocol::legacy_initialize_for: the clientInfo of its _meta, and
// the capabilities a backend may need to serve it), serves the
// request in it like any other, shapes what goes back for the modern client, and ends the
// session with the request. Modern clients have no session (basic/index, statelessness), so
// nothing of one request is seen by another. Shared mode makes such a session cheap (the
// backend is already up); per-client mode starts a backend for each request.
// A backend request raised during a call (sampling, elicitation, roots/list) becomes an
// input_required result to the client (protocol::input_bridge, kept by the frontend), and the
// client's retry answers it; one for a capability the client did not declare ends the request
// with -32021.
// Thread-safety: the endpoint's executor. Cancellation: the frontend abandons the call (a
// closed stream) and then finishes the request.

#include "core/endpoint.hpp"
#include "jsonrpc/message.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

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
  // The id the response carries: the request's, then that of each retry that resumes it.
  boost::json::value client_id;
  // The client's request as sent, kept for the calls that may be suspended for input
  // (protocol::input_bridge binds its requestState to it).
  std::optional<jsonrpc::message> request;
  // Set when the call was suspended for the client's input (the frontend keeps it).
  std::optional<std::uint64_t> suspended_as;
  // What the client declared in _meta (its session declares everything: legacy_initialize_for).
  boost::json::object client_capabilities;
};

// Serves one modern request (checked already: protocol::check_modern_request).
boost::asio::awaitable<modern_dispatched> dispatch_modern(core::endpoint& ep, jsonrpc::message msg,
                                                          core::session_narrowing narrowing);

// An event of the call, as the modern client gets it; nullopt when it is not for the client (a
// log message below its level or without one; a backend request, which is refused here: the
// frontend offers it to its input_bridge first).
std::optional<jsonrpc::message> to_modern_event(core::endpoint& ep, modern_dispatched& d,
                                                jsonrpc::message ev);

// A subscriptions/listen stream (basic/patterns/subscriptions) served from a 2025-11-25 session
// of its own: its list_changed notifications, and resources/updated of the URIs it subscribed
// to (resources/subscribe, refcounted by the endpoint like any client's).
struct modern_listen {
  boost::json::value id;  // the listen request's id: every notification's subscriptionId
  std::shared_ptr<core::client_session> session;
  boost::json::object honored;  // the part of the filter this endpoint can serve
  std::vector<std::string> subscribed;
  std::optional<jsonrpc::message> refused;  // the request's answer when no stream opens
  bool overloaded = false;
};
boost::asio::awaitable<modern_listen> open_listen(core::endpoint& ep, jsonrpc::message msg,
                                                  core::session_narrowing narrowing);
// notifications/subscriptions/acknowledged: the first message of the stream.
jsonrpc::message listen_ack(const modern_listen& l);
// A message of the listen session's outbox as the stream carries it (tagged with the
// subscriptionId), or nullopt when the filter leaves it out. A backend request cannot be
// answered by a modern client: it is refused at once.
std::optional<jsonrpc::message> to_listen_event(core::endpoint& ep, modern_listen& l,
                                                jsonrpc::message m);
// The listen result that ends the stream gracefully (the proxy is stopping).
jsonrpc::message listen_result(const modern_listen& l);
// Unsubscribes and ends the listen session.
boost::asio::awaitable<void> close_listen(core::endpoint& ep, modern_listen& l);

// A backend request a modern client cannot be asked: the backend hears so at once.
void refuse_backend_request(core::endpoint& ep, core::client_session& s,
                            const jsonrpc::message& request, std::string_view why);

// Every tool the endpoint lists (at most 100 pages), asked in a session of the proxy's own
// (for the x-mcp-header marks of their input schemas); empty when the endpoint cannot be asked.
boost::asio::awaitable<std::vector<boost::json::object>> list_tools(core::endpoint& ep);

// Ends the request's session (once its call is answered or abandoned).
boost::asio::awaitable<void> finish_modern(core::endpoint& ep, modern_dispatched& d);

}  // namespace mcp_proxy::frontend
