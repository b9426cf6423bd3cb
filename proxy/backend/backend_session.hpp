#pragma once
// One live MCP session with one backend server (stdio: one child process; HTTP: one MCP session).
// It multiplexes the calls of any number of clients over that session through an id_router, and
// hands what the backend sends on its own (notifications, server-to-client requests) to its owner.
// Thread-safety: all calls on one executor. Cancellation: a call ends with its response, with an
// error when the backend dies, or when its owner abandons it (which tells the backend).

#include "backend/event_backlog.hpp"
#include "config/config.hpp"
#include "jsonrpc/message.hpp"
#include "protocol/declared_client.hpp"
#include "protocol/versions.hpp"
#include "rpc/id_router.hpp"
#include "util/async_queue.hpp"
#include "util/line_budget.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

namespace mcp_proxy::transport {
class message_link;
}

namespace mcp_proxy::backend {

// One client request in flight at the backend. `events` yields, in order, the progress
// notifications for it and then its final response (already mapped back to the client's ids);
// it is closed after the final response.
struct pending_call {
  pending_call(boost::asio::any_io_executor ex, rpc::client_key c, std::int64_t id,
               boost::json::value cid, backlog_limits limits);
  rpc::client_key client;
  std::int64_t backend_id;
  boost::json::value client_id;
  // Bounded (event_backlog.hpp): past the hard bound the client gets an error and the backend
  // request is cancelled.
  event_backlog events;
  // A task-augmented request (params.task, spec 2025-11-25 basic/utilities/tasks): its answer
  // names the task it created.
  bool creates_task = false;
  // Its answer goes to the client as the backend sent it (a tool's result, a resource, a
  // prompt): a long one may be passed on as it arrives (jsonrpc::message::streamed).
  bool may_stream = false;
  // For /metrics (protocol/proxy_metrics.hpp): when it was forwarded, and its method's number.
  std::chrono::steady_clock::time_point sent_at{};
  std::uint8_t metrics_method = 0;
};

// Why a backend could not be used: the cause to branch on (transport::link_error) and the text
// for logs and clients (it names the backend, never a path or URL).
struct backend_failure {
  boost::system::error_code cause;
  std::string text;
  // The JSON-RPC error a client gets for it: -32001 when the backend did not answer in time,
  // -32000 otherwise.
  std::int64_t rpc_code() const;
};

// result<T, backend_failure>::value() throws std::runtime_error(text) (found by argument-dependent
// lookup); callers test the result instead.
[[noreturn]] void throw_exception_from_error(const backend_failure& e,
                                             const boost::source_location& loc);

class backend_session : public std::enable_shared_from_this<backend_session> {
 public:
  // The client call a message from the backend came in reply to, when the transport tells
  // (Streamable HTTP: the message came on that call's POST stream); else null.
  using related_call = std::shared_ptr<pending_call>;
  struct handlers {
    // Notifications other than progress for a known call.
    std::function<void(jsonrpc::message, related_call)> on_notification;
    // Requests from the backend (sampling, elicitation, roots, ping), ids as the backend sent.
    std::function<void(jsonrpc::message, related_call)> on_request;
    // The response to a call, as it arrives (before the call's reader sees it).
    std::function<void(const pending_call&, const jsonrpc::message&)> on_answer;
    // The backend cancelled a request of its own that went to this client (ids already mapped).
    std::function<void(rpc::client_key, jsonrpc::message)> on_cancelled_for;
    // The backend is gone; every call in flight has already been failed.
    std::function<void()> on_closed;
    // The transport replaced an expired server session with a new one (shared Streamable HTTP
    // backends): calls go on, but what the old session held must be set up again.
    std::function<void()> on_renewed;
  };

  // Starts the transport; the error names the backend and the cause.
  static boost::system::result<std::shared_ptr<backend_session>, backend_failure> start(
      boost::asio::any_io_executor ex, const config::server_config& server, handlers h);
  ~backend_session();

  // Sends a client request; the returned call yields its progress and response. `declared`:
  // how that client declared itself (a 2026-07-28 backend gets it in the request's _meta);
  // null: as the session's initialize did.
  std::shared_ptr<pending_call> call(rpc::client_key client, jsonrpc::message request,
                                     const protocol::declared_client* declared = nullptr);
  // The client no longer waits: forget the call, close its events (its reader gets what was
  // queued, then nullopt) and send notifications/cancelled with `reason`.
  void abandon(const pending_call& call, std::string_view reason);
  // A client's notifications/cancelled for one of its requests; false if none is in flight.
  bool cancel_from_client(rpc::client_key client, const jsonrpc::message& cancelled);
  // Forgets every call of a client that went away, cancelling them at the backend.
  void drop_client(rpc::client_key client);
  // A notification from a client, forwarded as-is.
  void notify(const jsonrpc::message& notification);
  // Delivers a backend request to a client: rewrites its id to one the client can answer.
  void route_request_to(rpc::client_key client, jsonrpc::message& request);
  // A client's answer to a backend request; false if it answers nothing we sent that client.
  bool answer_from_client(rpc::client_key client, jsonrpc::message response);
  // Answers a backend request directly (the proxy itself answers, e.g. ping).
  void reply(jsonrpc::message response);

  // The initialize handshake: sends `initialize` with `params`, waits for the answer, then sends
  // notifications/initialized. Returns the InitializeResult or why not.
  boost::asio::awaitable<boost::system::result<boost::json::object, backend_failure>> initialize(
      boost::json::object params, std::chrono::milliseconds timeout);

  boost::asio::awaitable<void> stop();
  bool alive() const { return alive_; }
  // Why it ended ("backend NAME exited with code 1"), once it has; the text clients may see.
  const std::string& end_reason() const { return end_reason_; }
  // The era its link found the server to speak ("protocol": "auto"), if it knows.
  std::optional<protocol::era> detected_era() const;
  const std::string& name() const { return server_.name; }
  const config::server_config& server() const { return server_; }

 private:
  backend_session(boost::asio::any_io_executor ex, config::server_config server, handlers h);
  boost::asio::awaitable<void> read_loop([[maybe_unused]] std::shared_ptr<backend_session> self);
  void dispatch(jsonrpc::message m, const boost::json::value& in_reply_to);
  // The client call (not the proxy's own) the backend's request `id` belongs to, if in flight.
  related_call call_of(const boost::json::value& id) const;
  void send(const jsonrpc::message& m);
  // A message that did not parse, by its top level: fails the call it answers, or answers the
  // request it makes, when its id can be read (jsonrpc::outline_of).
  void answer_unreadable(std::string_view text, std::string_view why,
                         const boost::json::value& in_reply_to);
  void fail_all(std::string_view why);
  // Logs how many junk lines junk_lines_ kept out of the log since the last report, if any.
  void report_junk_suppressed();

  boost::asio::any_io_executor ex_;
  config::server_config server_;
  handlers handlers_;
  std::shared_ptr<transport::message_link> link_;
  rpc::id_router router_;
  std::unordered_map<std::int64_t, std::shared_ptr<pending_call>> calls_;
  bool alive_ = true;
  std::string end_reason_;
  bool stopping_ = false;            // stop() was called: the end of the child is expected
  std::int64_t initialize_id_ = -1;  // backend id of our initialize request
  util::line_budget junk_lines_;     // the log of stdout lines that are not JSON-RPC
  std::uint32_t metrics_id_;         // server_.name in protocol::metrics
};

// The client key the proxy uses for its own requests (initialize of a shared backend).
inline constexpr rpc::client_key proxy_client_key = 0;

}  // namespace mcp_proxy::backend
