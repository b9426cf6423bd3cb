#pragma once
// What a client-facing transport (HTTP, legacy SSE, stdio) serves: an MCP server with client
// sessions. Two kinds implement it: server_endpoint (one configured backend, `/{name}/mcp`) and
// aggregate_endpoint (several backends merged, `/mcp` and the groups). Transport-neutral: the
// HTTP layer maps outcomes to status codes and streams.
// Thread-safety: all calls on one executor (the proxy runs one I/O thread).

#include "backend/backend_session.hpp"
#include "config/config.hpp"
#include "jsonrpc/message.hpp"
#include "protocol/proxy_metrics.hpp"
#include "protocol/session_narrowing.hpp"
#include "util/async_queue.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

namespace mcp_proxy::core {

using protocol::session_narrowing;

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
  boost::json::object client_info;          // the same (a 2026-07-28 backend is told both)
  // The rank of the level this client set with logging/setLevel (debug = 0 .. emergency = 7);
  // -1 while it set none. Log messages below it are not delivered to it.
  int log_rank = -1;
  std::shared_ptr<backend::backend_session> own_backend;  // per-client mode only
  // Messages for the client not tied to one of its requests (the GET stream). Bounded by the
  // endpoint; closed when the session ends.
  util::async_queue<jsonrpc::message> outbox;
  // The client has a stream open for messages not tied to its requests (a Streamable HTTP GET
  // stream, the legacy event stream): the session is not idle.
  bool listening = false;
  bool initialized = false;  // the client sent notifications/initialized
  bool ended = false;
  // What the session holds of a frontend's per-client-address quota (frontend/peer_quota.hpp);
  // dropped when the session ends.
  std::shared_ptr<void> quota_slot;
  // Counted in /metrics' open sessions (count_session) until it ends.
  protocol::metrics::session_count counted;
  // Per-client mode: the slot of its backend process (mcpProxy.maxPerClientBackends), held until
  // that process is stopped.
  std::shared_ptr<void> backend_slot;
  std::chrono::steady_clock::time_point last_activity = std::chrono::steady_clock::now();
  // Calls in flight, most recent last; messages related to a call go on that call's stream.
  // add_call drops the finished ones first: an entry keeps its call's make_shared block
  // (456 bytes) allocated through the weak_ptr, and a long-lived client (a merged session's
  // member sessions are never reaped for idleness) would otherwise keep one per call it ever
  // made (the soak's RSS rose 0.22-0.28 MB/min).
  std::vector<std::weak_ptr<backend::pending_call>> calls;
  void add_call(const std::shared_ptr<backend::pending_call>& call);
  std::shared_ptr<backend::pending_call> latest_call();

  // A session of a merged endpoint: its session on each member endpoint (by member index; null
  // while that member has none), and what the client narrowed it to.
  std::vector<std::shared_ptr<client_session>> children;
  session_narrowing narrowing;
  boost::json::object initialize_params;      // as the client sent them (members' sessions too)
  boost::json::object declared_capabilities;  // what the merged initialize declared
  // A member's session held by a merged session: what would go to its outbox goes here (to the
  // merged session) instead. Such sessions end with their parent, never for being idle.
  std::function<void(jsonrpc::message)> forward_to_parent;
};

// The rank of a syslog level name (spec 2025-11-25 server/utilities/logging): debug = 0 ..
// emergency = 7; -1 for anything else.
int log_rank_of(const boost::json::value* level);
std::string_view log_level_name(int rank);
inline constexpr std::string_view invalid_level_text =
    "Invalid params: level must be one of debug, info, notice, warning, error, critical, alert, "
    "emergency";

// A key no other client session has (process-wide).
rpc::client_key new_client_key();

class endpoint;

// What a client request turns into: an answer now, or a call whose events the transport streams.
// What a frontend attaches to a call it starts; the server endpoint that serves the call tells it
// the call's final answer (the backend's, or the proxy's own: a timeout), with the backend's name.
// A call that ends without one (cancelled, the session gone) is never told.
class call_watcher {
 public:
  virtual ~call_watcher() = default;
  virtual void on_final(const jsonrpc::message& answer, std::string_view backend) = 0;
};

struct call_started {
  std::shared_ptr<backend::pending_call> call;
  std::chrono::steady_clock::time_point deadline;
  // Shared mode: the URI of a resources/subscribe forwarded for its first subscriber; the
  // subscription is undone if the backend refuses it.
  std::string subscribing_uri;
  // A list call whose items the server's filter thins out: "tools", "prompts", "resources" or
  // "resourceTemplates" (the key of the result's array); empty for other calls.
  std::string filtered_list;
  // Shared mode: a tasks/list whose result is thinned out to the session's own tasks.
  bool own_tasks_only = false;
  // Set by a frontend about to write the call's response as it arrives (a long answer passed on
  // by the backend: jsonrpc::message::streamed). Otherwise next_event gathers such an answer
  // whole first.
  bool stream_ok = false;
  // A call a merged endpoint routed to a member: the member and the member's session. The
  // member outlives the call (the merged endpoint holds it).
  endpoint* via = nullptr;
  std::shared_ptr<client_session> via_session;
  // The frontend's watch on the call (frontend/call_gate.hpp: the slot of its identity's calls in
  // flight, the audit record): told the final answer by the endpoint that serves the call, and
  // released with the call.
  std::shared_ptr<call_watcher> watcher;
};
using request_outcome = std::variant<jsonrpc::message, call_started>;

struct initialize_outcome {
  std::shared_ptr<client_session> session;  // null when initialize failed
  jsonrpc::message reply;
  bool overloaded = false;  // refused for the session limit (HTTP 503)
};

class endpoint {
 public:
  virtual ~endpoint() = default;

  // The route name (`/{name}/mcp`); empty for the merged endpoint at `/mcp`.
  virtual const std::string& name() const = 0;
  // Starts what must run before clients come (backends, the idle reaper).
  virtual boost::asio::awaitable<void> start() = 0;
  virtual boost::asio::awaitable<void> stop() = 0;

  virtual boost::asio::awaitable<initialize_outcome> initialize(jsonrpc::message request,
                                                                session_narrowing narrowing) = 0;
  virtual std::shared_ptr<client_session> find_session(std::string_view id) const = 0;
  virtual boost::asio::awaitable<void> end_session(std::shared_ptr<client_session> session) = 0;

  virtual boost::asio::awaitable<request_outcome> on_request(
      std::shared_ptr<client_session> session, jsonrpc::message request) = 0;
  virtual void on_notification(client_session& session, const jsonrpc::message& notification) = 0;
  // A client's response to a request the server sent it; false (and a log line) when it answers
  // nothing that session was asked.
  virtual bool on_response(client_session& session, jsonrpc::message response) = 0;
  // The transport stopped waiting for a call (deadline passed): the backend is told to cancel.
  virtual void abandon(client_session& session, const backend::pending_call& call,
                       std::string_view why) = 0;
  // The next event of a call: progress, a related message, or its final response; when the
  // deadline passes, a timeout error (and the backend is told to cancel). nullopt: the client
  // cancelled the call, and no response is owed.
  virtual boost::asio::awaitable<std::optional<jsonrpc::message>> next_event(
      client_session& s, const call_started& cs) = 0;
  // Follows, in the background, a call whose client went away (not a cancellation) until its
  // response or deadline, so it neither lingers nor keeps the session busy.
  virtual void drain(std::shared_ptr<client_session> s, call_started cs) = 0;
  // The proxy is shutting down: every call in flight is answered with an error saying so now,
  // while its client's stream is still open (its backend's answer, if any, is dropped).
  // Returns how many.
  virtual std::size_t fail_calls_in_flight(std::string_view /*why*/) { return 0; }
  // Calls not answered yet (SIGTERM waits for them, up to mcpProxy.shutdownGrace).
  virtual std::size_t calls_in_flight() const { return 0; }
  // Messages waiting in the sessions' queues for their streams (/metrics).
  virtual std::size_t queued_messages() const { return 0; }
};

// The key of a list method's item array ("tools" for tools/list, "resourceTemplates" for
// resources/templates/list, ...); empty for other methods.
std::string_view list_key_of(std::string_view method);
// The filter of a list key, and the item field it is matched against (name, uri, uriTemplate).
const config::name_filter& filter_for(const config::item_filters& f, std::string_view list_key);
bool filters_allow(const config::item_filters& f, std::string_view list_key,
                   const boost::json::value& item);
// The same for an item known by `key` (item_key; nullopt: it has none).
bool filters_allow(const config::item_filters& f, std::string_view list_key,
                   std::optional<std::string_view> key);
// Removes from a list response the items `keep` says no to.
void filter_list_result(jsonrpc::message& response, std::string_view list_key,
                        const std::function<bool(const boost::json::value& item)>& keep);
// The kind of item of a list key (tools, prompts; resources and their templates), for access
// rules (session_narrowing::allows).
protocol::item_kind item_kind_of(std::string_view list_key);
// The string an item of a list key is known by (its name, uri or uriTemplate), if it has one.
std::optional<std::string_view> item_key(std::string_view list_key, const boost::json::value& item);
// The error for a tool, prompt or resource the client may not see or that no server has:
// -32602 for tools and prompts (spec 2025-11-25 server/tools and server/prompts, error handling),
// -32002 for resources (server/resources, error handling).
jsonrpc::message unknown_item_error(boost::json::value id, std::string_view kind,
                                    std::string_view name);

using session_map = std::map<std::string, std::shared_ptr<client_session>, std::less<>>;

// endpoint::calls_in_flight over a session map.
std::size_t calls_in_flight(const session_map& sessions);
// endpoint::queued_messages over a session map.
std::size_t queued_messages(const session_map& sessions);
// endpoint::fail_calls_in_flight over a session map.
std::size_t fail_calls_in_flight(const session_map& sessions, std::string_view why);

// The checks every initialize starts with: a protocolVersion string, an endpoint not stopping,
// room under maxSessions (`open`: sessions open or being initialized; the error asks the
// transport for HTTP 503). An error outcome, else nullopt.
std::optional<initialize_outcome> refuse_initialize(const jsonrpc::message& request, bool stopped,
                                                    std::size_t open, std::uint64_t max_sessions,
                                                    std::string_view label);
// A session for an initialize request: an id not in `sessions`, a fresh key, the client's
// capabilities.
std::shared_ptr<client_session> new_client_session(boost::asio::any_io_executor ex,
                                                   const session_map& sessions,
                                                   const jsonrpc::message& initialize);
// Counts an initialized session in /metrics (protocol/proxy_metrics.hpp) by the era of the
// `initialize` that opened it and `mode`, until close_session.
void count_session(client_session& s, const jsonrpc::message& initialize,
                   protocol::metrics::session_mode mode);
// Marks a session ended, closes its outbox and forgets it (logged with `why`).
void close_session(session_map& sessions, client_session& s, std::string_view label,
                   std::string_view why);
// The session with that id (its last activity now), or null.
std::shared_ptr<client_session> find_and_touch(const session_map& sessions, std::string_view id);
// Until `stopped`, ends with `end` the sessions with nothing in flight, no GET stream and no
// request for `idle` (sessions held by a merged session end with it instead). `stop_signal`
// is closed to wake it at stop.
boost::asio::awaitable<void> reap_idle_sessions(
    const session_map& sessions, util::async_queue<bool>& stop_signal, const bool& stopped,
    std::chrono::milliseconds idle,
    std::function<boost::asio::awaitable<void>(std::shared_ptr<client_session>)> end,
    std::string label);

// Puts a message in a session's outbox (or hands it to the merged session that owns it); beyond
// a bound the newest are dropped with a warning naming `where`.
void push_unrelated(client_session& s, jsonrpc::message m, std::string_view where);

}  // namespace mcp_proxy::core
