#pragma once
// One configured backend served as an MCP server (see the class comment).
// Thread-safety: all calls on one executor (the proxy runs one I/O thread).

#include "config/config.hpp"
#include "core/endpoint.hpp"
#include "protocol/log_level_mux.hpp"
#include "protocol/readiness.hpp"
#include "protocol/server_request_router.hpp"
#include "protocol/subscription_table.hpp"
#include "protocol/task_registry.hpp"
#include "util/async_event.hpp"
#include "util/keyed_quota.hpp"
#include "util/task_group.hpp"

#include <functional>
#include <map>
#include <set>

namespace mcp_proxy::core {

// What a member endpoint tells the merged endpoints over it (shared mode), whether or not any
// session is open: its backend came up or went away, or announced that a list changed.
enum class backend_event { up, down, tools_changed, prompts_changed, resources_changed };

// The MCP server one configured backend is exposed as (the per-server route `/{name}/mcp`): client
// sessions, the backend session(s) behind them in `shared` or `per-client` mode, and the relay of
// what the backend sends on its own to the right client session. The server's filters
// (options.toolFilter, ...) apply here: lists are thinned out, and calls of what they hide fail.
class server_endpoint : public endpoint {
 public:
  // `per_client_backends` counts the backend processes of per-client sessions of every server
  // (one key, mcpProxy.maxPerClientBackends); null: no bound.
  server_endpoint(boost::asio::any_io_executor ex, config::server_config server,
                  const config::proxy_config& proxy,
                  std::shared_ptr<util::keyed_quota> per_client_backends = nullptr);

  const std::string& name() const override { return server_.name; }
  const config::server_config& server() const { return server_; }
  std::size_t calls_in_flight() const override { return core::calls_in_flight(sessions_); }
  std::size_t queued_messages() const override { return core::queued_messages(sessions_); }
  std::size_t fail_calls_in_flight(std::string_view why) override {
    return core::fail_calls_in_flight(sessions_, why);
  }

  // Shared mode: starts and initializes the backend now, so a broken command shows at start-up.
  // A failure is logged, and the backend is started again in the background (1 s, doubling to
  // 30 s, with jitter: protocol/supervision.hpp) or by the next request. Also starts the reaper
  // of idle sessions.
  boost::asio::awaitable<void> start() override;
  boost::asio::awaitable<void> stop() override;

  // `narrowing` is for merged endpoints; a server route has nothing to narrow.
  boost::asio::awaitable<initialize_outcome> initialize(jsonrpc::message request,
                                                        session_narrowing narrowing) override;
  std::shared_ptr<client_session> find_session(std::string_view id) const override;
  boost::asio::awaitable<void> end_session(std::shared_ptr<client_session> session) override;

  boost::asio::awaitable<request_outcome> on_request(std::shared_ptr<client_session> session,
                                                     jsonrpc::message request) override;
  void on_notification(client_session& session, const jsonrpc::message& notification) override;
  bool on_response(client_session& session, jsonrpc::message response) override;
  void abandon(client_session& session, const backend::pending_call& call,
               std::string_view why) override;
  boost::asio::awaitable<std::optional<jsonrpc::message>> next_event(
      client_session& s, const call_started& cs) override;
  void drain(std::shared_ptr<client_session> s, call_started cs) override;

  // For merged endpoints. Shared mode: whether the backend is up now (per-client mode: always,
  // as each session starts its own); what it declared in its last initialize (empty before).
  bool backend_ready() const;
  // What GET /readyz shows of the backend: its state since when, the last error it started or
  // ended with, and how often it was started again. Per-client mode: always ready (each session
  // starts its own backend; their failures still show as the last error).
  protocol::backend_status status() const;
  const boost::json::object& backend_capabilities() const;
  std::string backend_instructions() const;
  void watch(std::function<void(backend_event)> watcher) {
    watchers_.push_back(std::move(watcher));
  }
  // Whether session `s` created task `task_id` (merged endpoints route tasks/* by it).
  bool owns_task(const client_session& s, std::string_view task_id) const {
    return tasks_.owns(s.key(), task_id);
  }
  bool has_tasks(const client_session& s) const { return tasks_.has_tasks(s.key()); }

 private:
  boost::asio::awaitable<std::shared_ptr<backend::backend_session>> shared_backend();
  // A backend that failed to start is stopped by a background task (bounded by its stop grace).
  void stop_in_background(std::shared_ptr<backend::backend_session> b);
  // A shared backend started again (it died, or its HTTP session expired): subscriptions are
  // renewed and clients told that lists may have changed.
  void on_shared_restart();
  // Shared mode, HTTP backends: a session that ended (a dropped legacy stream, an expired
  // Streamable HTTP session) is started again in the background, with a growing delay, so what
  // the server sends on its own keeps arriving without waiting for a client's next request.
  boost::asio::awaitable<void> reconnect_shared();
  // Ping supervision (server.ping_interval; docs/operations.md): `b` is pinged every interval
  // while it is the shared backend (owner null) or the backend of `owner` (per-client). A
  // missed ping makes a shared backend degraded, the next answer ready again; ping_misses in a
  // row stop it (and it is started again as when it exits), or end the per-client session.
  void start_supervision(std::shared_ptr<backend::backend_session> b,
                         std::weak_ptr<client_session> owner);
  boost::asio::awaitable<void> supervise(std::shared_ptr<backend::backend_session> b,
                                         std::weak_ptr<client_session> owner);
  backend::backend_session::handlers handlers_for(std::weak_ptr<client_session> owner);
  using related_call = backend::backend_session::related_call;
  void on_backend_notification(std::weak_ptr<client_session> owner, jsonrpc::message m,
                               related_call call);
  void on_backend_request(std::weak_ptr<client_session> owner, jsonrpc::message m,
                          related_call call);
  // Shared mode: the client session a backend request or notification is for. The call it came
  // in reply to says so exactly; without one, the only session with calls in flight, or (when
  // `idle_ok`) the only session. Null when that cannot be known.
  std::shared_ptr<client_session> shared_target(const related_call& call, bool idle_ok) const;
  // The open session with this key (the id the backend session knows it by), or null.
  std::shared_ptr<client_session> session_of(rpc::client_key key) const;
  std::shared_ptr<backend::backend_session> backend_of(const client_session& s) const;
  // Sends `m` to `s`: on the stream of `call` when it is still open, else (when
  // `related_to_call`) on the stream of its latest call, else on its own (the GET stream).
  void deliver(client_session& s, jsonrpc::message m, bool related_to_call,
               const related_call& call = nullptr);
  // Shared mode: the set of clients (and so of roots) behind the backend changed.
  void tell_roots_changed(const client_session& s);
  boost::json::object proxy_initialize_params() const;
  // "backend NAME is unavailable", with the last start error when there is one.
  std::string unavailable_reason() const;
  // Shared mode: sends the backend, without awaiting the answers, a logging level and
  // unsubscribes (what the tables decided).
  void send_to_shared(std::optional<int> log_rank, const std::vector<std::string>& unsubscribe);
  void tell_watchers(backend_event e);
  // Records a transition for status() (the time only when the state changes).
  void set_state(protocol::backend_state s);
  // Shared mode: the backend went away (`why`), and is started again in the background.
  void note_backend_down(std::string why);
  // A request for something the server's filters hide, or the session's identity may not use
  // (mcpProxy.access): the error to answer (that of an unknown item), else nullopt.
  std::optional<jsonrpc::message> refused_by_filters(const client_session& s,
                                                     const jsonrpc::message& request) const;
  // Whether the session's identity may use the item of `list_key` known here as `name`.
  bool access_allows(const client_session& s, std::string_view list_key,
                     std::string_view name) const;
  // Whether backend `b` lists a tool or prompt `name` (`list_method`: tools/list or
  // prompts/list, every page). Asked for sessions that access rules restrict, so that a name the
  // rules allow but the backend lacks is refused in the proxy's words, as a name the rules refuse
  // is: a client cannot tell "denied" from "absent" by the answer. True when the backend cannot
  // be asked (it then answers the call itself).
  boost::asio::awaitable<bool> backend_lists(std::shared_ptr<backend::backend_session> b,
                                             const client_session& s, std::string_view list_method,
                                             std::string name);
  // What a list answer keeps: what the filters and the session's access allow.
  bool keeps(const client_session& s, std::string_view list_key,
             const boost::json::value& item) const;

  boost::asio::any_io_executor ex_;
  config::server_config server_;
  config::proxy_config proxy_;
  std::shared_ptr<util::keyed_quota> per_client_backends_;
  session_map sessions_;
  // shared mode
  std::shared_ptr<backend::backend_session> shared_;
  boost::json::object shared_init_result_;
  std::chrono::steady_clock::time_point last_start_attempt_{};
  backend::backend_failure last_start_error_;  // empty text: the last start worked
  bool starting_ = false;
  util::async_event start_done_;  // a start ended: callers waiting for it look again
  bool shared_started_before_ = false;
  bool stopped_ = false;
  std::size_t initializing_ = 0;
  // Shared mode: the decisions about what the backend is sent and whom its messages reach.
  protocol::subscription_table subscriptions_;
  protocol::log_level_mux log_levels_;
  protocol::server_request_router requests_;  // and URL-mode elicitations
  protocol::task_registry tasks_;             // both modes (merged endpoints route by it)
  util::async_queue<bool> stop_signal_;       // wakes the idle reaper at stop()
  util::async_queue<bool> reconnect_signal_;  // wakes reconnect_shared at stop()
  util::async_event supervision_wake_;        // wakes supervise() at stop() and end_session()
  bool reconnecting_ = false;
  std::vector<std::function<void(backend_event)>> watchers_;
  // For status(): the state and since when, the last start or end error, the starts so far.
  protocol::backend_state state_ = protocol::backend_state::starting;
  std::chrono::system_clock::time_point state_since_ = std::chrono::system_clock::now();
  std::string last_error_;
  std::uint64_t starts_ = 0;
  util::task_group background_;  // the reaper, reconnects, drained calls: ended by stop()
};

}  // namespace mcp_proxy::core
