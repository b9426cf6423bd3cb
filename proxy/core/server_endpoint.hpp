#pragma once
// The MCP server one configured backend is exposed as (the per-server route `/{name}/mcp`): client
// sessions, the backend session(s) behind them in `shared` or `per-client` mode, and the relay of
// what the backend sends on its own to the right client session. Transport-neutral: the HTTP
// layer maps its outcomes to status codes and streams.
// Thread-safety: all calls on one executor (the proxy runs one I/O thread).

#include "backend/backend_session.hpp"
#include "config/config.hpp"
#include "jsonrpc/message.hpp"
#include "util/async_queue.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <variant>
#include <vector>

namespace mcp_proxy::core {

class client_session {
  std::string id_;
  rpc::client_key key_;

 public:
  client_session(boost::asio::any_io_executor ex, std::string id, rpc::client_key key)
      : id_(std::move(id)), key_(key), outbox(ex) {}
  const std::string& id() const { return id_; }
  rpc::client_key key() const { return key_; }

  std::string protocol_version;             // negotiated with the client
  std::string backend_version;              // negotiated with the backend
  boost::json::object client_capabilities;  // as the client declared them in initialize
  // Shared mode: the rank of the level this client set with logging/setLevel (debug = 0 ..
  // emergency = 7); -1 while it set none. Log messages below it are not delivered to it.
  int log_rank = -1;
  std::shared_ptr<backend::backend_session> own_backend;  // per-client mode only
  // Messages for the client not tied to one of its requests (the GET stream). Bounded by the
  // endpoint; closed when the session ends.
  util::async_queue<jsonrpc::message> outbox;
  bool get_stream_open = false;
  bool ended = false;
  std::chrono::steady_clock::time_point last_activity = std::chrono::steady_clock::now();
  // Calls in flight, most recent last; messages related to a call go on that call's stream.
  std::vector<std::weak_ptr<backend::pending_call>> calls;
  std::shared_ptr<backend::pending_call> latest_call();
};

// Whether a client declared the capability a backend request needs (sampling, elicitation,
// roots); requests that need none are answerable.
bool client_can_answer(const client_session& s, std::string_view method);

// What a client request turns into: an answer now, or a call whose events the transport streams.
struct call_started {
  std::shared_ptr<backend::pending_call> call;
  std::chrono::steady_clock::time_point deadline;
  // Shared mode: the URI of a resources/subscribe forwarded for its first subscriber; the
  // subscription is undone if the backend refuses it.
  std::string subscribing_uri;
};
using request_outcome = std::variant<jsonrpc::message, call_started>;

struct initialize_outcome {
  std::shared_ptr<client_session> session;  // null when initialize failed
  jsonrpc::message reply;
  bool overloaded = false;  // refused for the session limit (HTTP 503)
};

class server_endpoint {
 public:
  server_endpoint(boost::asio::any_io_executor ex, config::server_config server,
                  const config::proxy_config& proxy);

  const std::string& name() const { return server_.name; }
  const config::server_config& server() const { return server_; }

  // Shared mode: starts and initializes the backend now, so a broken command shows at start-up.
  // A failure is logged; the backend is started again on demand. Also starts the reaper of
  // idle sessions.
  boost::asio::awaitable<void> start();
  boost::asio::awaitable<void> stop();

  boost::asio::awaitable<initialize_outcome> initialize(jsonrpc::message request);
  std::shared_ptr<client_session> find_session(std::string_view id) const;
  boost::asio::awaitable<void> end_session(std::shared_ptr<client_session> session);

  boost::asio::awaitable<request_outcome> on_request(std::shared_ptr<client_session> session,
                                                     jsonrpc::message request);
  void on_notification(client_session& session, const jsonrpc::message& notification);
  void on_response(client_session& session, jsonrpc::message response);
  // The transport stopped waiting for a call (deadline passed): the backend is told to cancel.
  void abandon(client_session& session, const backend::pending_call& call, std::string_view why);
  // The next event of a call: progress, a related message, or its final response; when the
  // deadline passes, a timeout error (and the backend is told to cancel). nullopt: the client
  // cancelled the call, and no response is owed.
  boost::asio::awaitable<std::optional<jsonrpc::message>> next_event(client_session& s,
                                                                     const call_started& cs);
  // Follows, in the background, a call whose client went away (not a cancellation) until its
  // response or deadline, so it neither lingers nor keeps the session busy.
  void drain(std::shared_ptr<client_session> s, call_started cs);

 private:
  boost::asio::awaitable<std::shared_ptr<backend::backend_session>> shared_backend();
  // A shared backend started again (it died, or its HTTP session expired): subscriptions are
  // renewed and clients told that lists may have changed.
  void on_shared_restart();
  // Shared mode, HTTP backends: a session that ended (a dropped legacy stream, an expired
  // Streamable HTTP session) is started again in the background, with a growing delay, so what
  // the server sends on its own keeps arriving without waiting for a client's next request.
  boost::asio::awaitable<void> reconnect_shared();
  backend::backend_session::handlers handlers_for(std::weak_ptr<client_session> owner);
  void on_backend_notification(std::weak_ptr<client_session> owner, jsonrpc::message m);
  void on_backend_request(std::weak_ptr<client_session> owner, jsonrpc::message m);
  std::shared_ptr<backend::backend_session> backend_of(const client_session& s) const;
  void deliver(client_session& s, jsonrpc::message m, bool related_to_call);
  boost::json::object proxy_initialize_params() const;
  std::string new_session_id();
  // "backend NAME is unavailable", with the last start error when there is one.
  std::string unavailable_reason() const;
  boost::asio::awaitable<void> reap_idle_sessions();
  // Shared mode: forgets a session's subscriptions, unsubscribing at the backend where it was
  // the last subscriber.
  void drop_subscriptions(const client_session& s);
  // Shared mode: the most verbose level any session asked for (-1: none asked).
  int wanted_log_rank() const;
  // Shared mode: tells the backend `rank` when it is not what the backend has (no answer awaited).
  void send_log_level(int rank);
  // A forwarded subscribe failed: the session is not a subscriber after all.
  void undo_subscription(const client_session& s, const std::string& uri);

  boost::asio::any_io_executor ex_;
  config::server_config server_;
  config::proxy_config proxy_;
  std::map<std::string, std::shared_ptr<client_session>, std::less<>> sessions_;
  // shared mode
  std::shared_ptr<backend::backend_session> shared_;
  boost::json::object shared_init_result_;
  std::chrono::steady_clock::time_point last_start_attempt_{};
  std::string last_start_error_;
  bool starting_ = false;
  bool shared_started_before_ = false;
  int backend_log_rank_ = -1;  // shared mode: the level last sent to the backend
  bool stopped_ = false;
  std::size_t initializing_ = 0;
  // Shared mode: resource URI -> the sessions subscribed to it.
  std::map<std::string, std::set<rpc::client_key>, std::less<>>
      subscriptions_;  // initialize requests in progress (counted against the limit)
  util::async_queue<bool> stop_signal_;       // wakes the idle reaper at stop()
  util::async_queue<bool> reconnect_signal_;  // wakes reconnect_shared at stop()
  bool reconnecting_ = false;
};

}  // namespace mcp_proxy::core
