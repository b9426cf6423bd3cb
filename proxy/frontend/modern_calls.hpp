#pragma once
// The calls of 2026-07-28 ("modern") clients on any frontend (Streamable HTTP, stdio): a request
// served through modern_dispatch, its events written to where the client reads them
// (modern_output), and the calls suspended for the client's input (spec 2026-07-28
// basic/patterns/mrtr) with the protocol::input_bridge that decides about them, until a retry
// resumes them or their deadline passes; a 2026-07-28 backend's own input_required passes with
// a requestState of the proxy's in place of the backend's.
// Thread-safety: one executor. Cancellation: an output the client left (a failed write, or
// stdio's notifications/cancelled) cancels its call (the backend is told); suspended calls end at
// their deadline, or when `stopping` is set.

#include "core/endpoint.hpp"
#include "frontend/modern_dispatch.hpp"
#include "protocol/input_bridge.hpp"
#include "util/task_group.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <map>

namespace mcp_proxy::frontend {

// Where the messages of one modern request go (an HTTP response, stdout).
class modern_output {
 public:
  virtual ~modern_output() = default;
  // One message for the request; `final` for its response (`overloaded`: refused for the
  // session limit). False when the client is gone: the call is then cancelled.
  virtual boost::asio::awaitable<bool> write(const jsonrpc::message& m, bool final,
                                             bool overloaded = false) = 0;
  // The call ended without a response (abandoned, or its backend session ended).
  virtual boost::asio::awaitable<bool> end_unanswered() = 0;
  // The call is in flight in `s` until the next final write or end_unanswered (a transport that
  // cancels by message, stdio's notifications/cancelled, keeps these to abandon it).
  virtual void started(core::endpoint&, core::client_session&, const core::call_started&) {}
};

class modern_calls {
 public:
  modern_calls(boost::asio::any_io_executor ex, util::task_group& tasks, const bool& stopping);
  // Serves a modern request that passed protocol::check_modern_request (not a listen): answered
  // at once, its call's events, or a retry's (protocol::input_bridge::is_retry). The result of
  // `out`'s last write.
  boost::asio::awaitable<bool> serve(core::endpoint& ep, jsonrpc::message msg,
                                     core::session_narrowing narrowing, modern_output& out);

 private:
  boost::asio::awaitable<bool> serve_new(core::endpoint& ep, jsonrpc::message msg,
                                         core::session_narrowing narrowing, modern_output& out);
  boost::asio::awaitable<bool> retry(core::endpoint& ep, jsonrpc::message msg,
                                     core::session_narrowing narrowing, modern_output& out);
  // The events of a call; a backend request suspends it (d.suspended_as) and answers
  // input_required instead.
  boost::asio::awaitable<bool> run(core::endpoint& ep, modern_dispatched& d, modern_output& out);
  // A 2026-07-28 backend's input_required answer: its requestState becomes one of ours.
  void pass_through(core::endpoint& ep, const modern_dispatched& d, jsonrpc::message& answer);
  // After run: keeps a suspended call, or ends the request's session.
  boost::asio::awaitable<void> settle(core::endpoint& ep, modern_dispatched d);
  // Ends the suspended calls whose deadline passed, until none is left.
  boost::asio::awaitable<void> reap_suspended();

  struct suspended_call {
    core::endpoint* ep = nullptr;  // the route's endpoint, which outlives the frontend's tasks
    modern_dispatched d;
  };
  boost::asio::any_io_executor ex_;
  util::task_group& tasks_;
  const bool& stopping_;
  protocol::input_bridge bridge_;
  std::map<protocol::input_bridge::ticket, suspended_call> suspended_;
  bool reaping_ = false;
};

}  // namespace mcp_proxy::frontend
