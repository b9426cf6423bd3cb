#include "core/server_endpoint.hpp"

#include "protocol/log_text.hpp"
#include "protocol/naming.hpp"
#include "protocol/versions.hpp"
#include "transport/chunk_stream.hpp"
#include "util/scope_exit.hpp"
#include "util/spawn.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <stdexcept>

namespace mcp_proxy::core {

namespace asio = boost::asio;
namespace json = boost::json;
using asio::awaitable;
using jsonrpc::message;
namespace codes = jsonrpc::error_codes;

namespace {

// A backend that failed to start is not started again sooner than this.
constexpr std::chrono::seconds restart_backoff{1};

}  // namespace

server_endpoint::server_endpoint(asio::any_io_executor ex, config::server_config server,
                                 const config::proxy_config& proxy,
                                 std::shared_ptr<util::keyed_quota> per_client_backends)
    : ex_(ex),
      server_(std::move(server)),
      proxy_(proxy),
      per_client_backends_(std::move(per_client_backends)),
      start_done_(ex),
      stop_signal_(ex),
      reconnect_signal_(ex),
      supervision_wake_(ex),
      background_(ex) {
  if (server_.mode == config::session_mode::per_client) state_ = protocol::backend_state::ready;
}

json::object server_endpoint::proxy_initialize_params() const {
  return json::object{
      {"protocolVersion", protocol::latest_legacy_version},
      // What the proxy can relay to a client that itself declares it (checked per request in
      // on_backend_request). A request goes to the client whose call it came with, else to the
      // only client; when that cannot be known the backend gets an error. Roots change whenever
      // a client comes or goes, hence listChanged (per-client mode passes each client's own
      // capabilities instead).
      {"capabilities", json::object{{"sampling", json::object{}},
                                    {"elicitation", json::object{{"form", json::object{}},
                                                                 {"url", json::object{}}}},
                                    {"roots", json::object{{"listChanged", true}}}}},
      {"clientInfo", json::object{{"name", proxy_.name}, {"version", proxy_.version}}},
  };
}

awaitable<void> server_endpoint::start() {
  auto end = [this](std::shared_ptr<client_session> s) { return end_session(std::move(s)); };
  background_.spawn(reap_idle_sessions(sessions_, stop_signal_, stopped_,
                                       proxy_.session_idle_timeout, end, server_.name),
                    server_.name + " idle session reaper");
  if (server_.mode != config::session_mode::shared) co_return;
  // A local, not co_await inside a condition (GCC 12 miscompiles some of those).
  auto started = co_await shared_backend();
  if (started || stopped_ || reconnecting_) co_return;
  // Down at start: it joins when it comes up, without waiting for a client's request.
  reconnecting_ = true;
  background_.spawn(reconnect_shared(), server_.name + " reconnect");
}

bool server_endpoint::backend_ready() const {
  return server_.mode == config::session_mode::per_client || (shared_ && shared_->alive());
}

const json::object& server_endpoint::backend_capabilities() const {
  static const json::object none;
  const auto* caps = shared_init_result_.if_contains("capabilities");
  return caps && caps->is_object() ? caps->get_object() : none;
}

std::string server_endpoint::backend_instructions() const {
  const auto* text = shared_init_result_.if_contains("instructions");
  return text && text->is_string() ? std::string(text->get_string()) : std::string();
}

void server_endpoint::tell_watchers(backend_event e) {
  for (const auto& w : watchers_) w(e);
}

awaitable<void> server_endpoint::stop() {
  stopped_ = true;
  set_state(protocol::backend_state::stopped);
  stop_signal_.close();
  reconnect_signal_.close();
  supervision_wake_.notify_all();
  std::vector<awaitable<void>> ends;
  for (auto& [id, s] : sessions_) ends.push_back(end_session(s));
  co_await util::run_all(ex_, std::move(ends), server_.name + " end session");
  if (shared_) {
    auto b = std::move(shared_);
    co_await b->stop();
  }
  // What still runs in the background refers to this endpoint: it ends before the endpoint.
  background_.cancel();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  const bool ended = co_await background_.wait(deadline);  // a local: see start()
  if (!ended)
    spdlog::warn("{}: {} task(s) still running 5 s after stop", server_.name, background_.size());
}

void server_endpoint::stop_in_background(std::shared_ptr<backend::backend_session> b) {
  // The client that waited for this backend has its answer now, not after the stop's grace.
  auto stop = [](std::shared_ptr<backend::backend_session> backend) -> awaitable<void> {
    co_await backend->stop();
  };
  background_.spawn(stop(std::move(b)), server_.name + " stop backend");
}

awaitable<std::shared_ptr<backend::backend_session>> server_endpoint::shared_backend() {
  if (shared_ && shared_->alive()) co_return shared_;
  // One start at a time; concurrent callers wait for it (it is bounded by the backend's
  // timeout, and its end wakes them).
  while (starting_) co_await start_done_.wait(std::chrono::steady_clock::time_point::max());
  if (shared_ && shared_->alive()) co_return shared_;
  auto now = std::chrono::steady_clock::now();
  if (now - last_start_attempt_ < restart_backoff && !last_start_error_.text.empty())
    co_return nullptr;
  if (stopped_) co_return nullptr;
  last_start_attempt_ = now;
  starting_ = true;
  ++starts_;  // the first start stays "starting"; later ones are retries while "backing-off"
  // However this start ends (an exception included), waiting callers are released.
  util::scope_exit release([this] {
    starting_ = false;
    start_done_.notify_all();
  });
  auto started = backend::backend_session::start(ex_, server_, handlers_for({}));
  std::shared_ptr<backend::backend_session> b;
  if (!started) {
    last_start_error_ = started.error();
  } else {
    b = *started;
    auto init = co_await b->initialize(proxy_initialize_params(), server_.timeout);
    if (stopped_) {  // the proxy began to stop meanwhile (stop() did not see this backend)
      co_await b->stop();
      co_return nullptr;
    }
    if (!init) {
      last_start_error_ = init.error();
      stop_in_background(std::move(b));
    } else {
      shared_init_result_ = std::move(*init);
      last_start_error_ = {};
      spdlog::info("backend {}: initialized, protocol {}", server_.name,
                   json::value_to<std::string>(shared_init_result_.at("protocolVersion")));
    }
  }
  if (!b) {
    spdlog::error("{}", last_start_error_.text);
    note_backend_down(last_start_error_.text);
  } else {
    set_state(protocol::backend_state::ready);
  }
  shared_ = b;
  if (b) {
    if (shared_started_before_) on_shared_restart();
    shared_started_before_ = true;
    tell_watchers(backend_event::up);
    start_supervision(b, {});
  }
  co_return b;
}

void server_endpoint::send_to_shared(std::optional<int> log_rank,
                                     const std::vector<std::string>& unsubscribe) {
  // The proxy's own requests: their answers are not awaited.
  if (stopped_ || !shared_ || !shared_->alive()) return;
  if (log_rank)
    shared_->call(backend::proxy_client_key,
                  message::request(0, "logging/setLevel", {{"level", log_level_name(*log_rank)}}));
  for (const auto& uri : unsubscribe)
    shared_->call(backend::proxy_client_key,
                  message::request(0, "resources/unsubscribe", {{"uri", uri}}));
}

void server_endpoint::on_shared_restart() {
  // The new backend session starts at its default level.
  send_to_shared(log_levels_.backend_restarted(), {});
  // The new backend session knows nothing of the old one's subscriptions: subscribe again (the
  // answers are not awaited; a refusal is logged by nobody, as the URI may be gone).
  for (const auto& uri : subscriptions_.uris())
    shared_->call(backend::proxy_client_key,
                  message::request(0, "resources/subscribe", {{"uri", uri}}));
  // Lists may differ after a restart (a new process, a new remote session): clients that cached
  // them are told, for each list the backend can announce changes of.
  const auto* caps = shared_init_result_.if_contains("capabilities");
  if (!caps || !caps->is_object()) return;
  for (std::string_view list : {"tools", "resources", "prompts"}) {
    const auto* cap = caps->get_object().if_contains(list);
    const auto* changes =
        cap && cap->is_object() ? cap->get_object().if_contains("listChanged") : nullptr;
    if (!changes || !changes->is_bool() || !changes->get_bool()) continue;
    const std::string method = "notifications/" + std::string(list) + "/list_changed";
    for (auto& [id, session] : sessions_) deliver(*session, message::notification(method), false);
  }
}

std::string server_endpoint::unavailable_reason() const {
  std::string why = "backend " + server_.name + " is unavailable";
  if (!last_start_error_.text.empty()) why += ": " + last_start_error_.text;
  return why;
}

awaitable<initialize_outcome> server_endpoint::initialize(message request,
                                                          session_narrowing narrowing) {
  if (auto refused = refuse_initialize(request, stopped_, sessions_.size() + initializing_,
                                       proxy_.max_sessions, server_.name))
    co_return std::move(*refused);
  json::value id = *request.id();
  // Every way initialize can fail from here: no session, an error response with the client's id.
  auto refuse = [&id](std::int64_t code, std::string_view text) {
    return initialize_outcome{nullptr, message::error_response(id, code, text), false};
  };
  auto* params = request.params_object();
  auto* requested = params->if_contains("protocolVersion");
  ++initializing_;
  util::scope_exit counted([this] { --initializing_; });
  auto session = new_client_session(ex_, sessions_, request);
  // Who opened it and what it may use (a server route has nothing to narrow).
  session->narrowing = std::move(narrowing);
  json::object result;
  if (server_.mode == config::session_mode::shared) {
    auto b = co_await shared_backend();
    if (!b) {
      // -32001 when the backend did not answer initialize in time.
      const auto code = last_start_error_.text.empty() ? codes::backend_unavailable
                                                       : last_start_error_.rpc_code();
      co_return refuse(code, unavailable_reason());
    }
    result = shared_init_result_;
    session->backend_version = json::value_to<std::string>(result.at("protocolVersion"));
    session->protocol_version = protocol::negotiate_version(requested->get_string());
  } else {
    std::shared_ptr<void> slot;
    if (per_client_backends_) {
      slot = per_client_backends_->acquire({});
      if (!slot) {
        const auto bound = per_client_backends_->per_key();
        spdlog::warn(
            "{}: {} per-client backends running (mcpProxy.maxPerClientBackends); refusing "
            "a new session",
            server_.name, bound);
        co_return initialize_outcome{
            nullptr,
            message::error_response(id, codes::backend_unavailable,
                                    "too many per-client backend processes (mcpProxy."
                                    "maxPerClientBackends is " +
                                        std::to_string(bound) + "); try again later"),
            true};
      }
    }
    session->backend_slot = std::move(slot);
    auto started = backend::backend_session::start(ex_, server_, handlers_for(session));
    if (!started) {
      spdlog::error("{}", started.error().text);
      last_error_ = started.error().text;
      co_return refuse(started.error().rpc_code(), started.error().text);
    }
    auto b = *started;
    auto init = co_await b->initialize(*params, server_.timeout);
    if (!init) {
      spdlog::error("{}", init.error().text);
      last_error_ = init.error().text;
      stop_in_background(std::move(b));
      co_return refuse(init.error().rpc_code(), init.error().text);
    }
    result = std::move(*init);
    session->own_backend = b;
    session->backend_version = json::value_to<std::string>(result.at("protocolVersion"));
    // The client speaks what the backend chose when the proxy speaks it too.
    session->protocol_version =
        protocol::is_supported_version(session->backend_version)
            ? session->backend_version
            : std::string(protocol::negotiate_version(requested->get_string()));
  }
  if (session->ended || (session->own_backend && !session->own_backend->alive()))
    co_return refuse(codes::backend_unavailable,
                     "backend " + server_.name + " exited during initialize");
  result["protocolVersion"] = session->protocol_version;
  sessions_.emplace(session->id(), session);
  count_session(*session, request,
                server_.mode == config::session_mode::shared
                    ? protocol::metrics::session_mode::shared
                    : protocol::metrics::session_mode::per_client);
  if (session->own_backend) start_supervision(session->own_backend, session);
  spdlog::info("session {} on {}: initialized (client protocol {}, backend protocol {})",
               protocol::short_id(session->id()), server_.name, session->protocol_version,
               session->backend_version);
  co_return initialize_outcome{session, message::response(std::move(id), std::move(result))};
}

std::shared_ptr<client_session> server_endpoint::find_session(std::string_view id) const {
  return find_and_touch(sessions_, id);
}

awaitable<void> server_endpoint::end_session(std::shared_ptr<client_session> s) {
  close_session(sessions_, *s, server_.name, "ended");
  tasks_.drop_client(s->key());
  requests_.drop_client(s->key());
  if (server_.mode == config::session_mode::shared) {
    // The last subscriber of a URI unsubscribes; the most verbose client may have left, and the
    // others need no more than they asked for.
    auto last = subscriptions_.drop_client(s->key());
    send_to_shared(log_levels_.drop_client(s->key()), last);
    if (shared_) shared_->drop_client(s->key());
    if (s->initialized) tell_roots_changed(*s);
  } else if (s->own_backend) {
    auto b = std::move(s->own_backend);
    supervision_wake_.notify_all();  // its supervision ends
    co_await b->stop();
    s->backend_slot.reset();  // its process is gone now
  }
}

awaitable<request_outcome> server_endpoint::on_request(std::shared_ptr<client_session> s,
                                                       message request) {
  json::value id = *request.id();
  if (request.params() && !request.params()->is_object()) {
    co_return message::error_response(std::move(id), codes::invalid_params,
                                      "Invalid params: MCP params must be an object");
  }
  if (request.method() == "ping") co_return message::response(std::move(id), json::object{});
  if (request.method() == "initialize") {
    co_return message::error_response(std::move(id), codes::invalid_request,
                                      "this session is already initialized");
  }
  if (auto refused = refused_by_filters(*s, request)) co_return std::move(*refused);
  std::shared_ptr<backend::backend_session> b = s->own_backend;
  if (server_.mode == config::session_mode::shared) b = co_await shared_backend();
  if (!b || !b->alive())
    co_return message::error_response(std::move(id), codes::backend_unavailable,
                                      unavailable_reason());
  if (s->narrowing.access &&
      (request.method() == "tools/call" || request.method() == "prompts/get")) {
    const bool tool = request.method() == "tools/call";
    const auto* params = request.params_object();
    const auto* name = params ? params->if_contains("name") : nullptr;
    if (name && name->is_string()) {
      std::string asked(name->get_string());
      const std::string_view list_method = tool ? "tools/list" : "prompts/list";
      const bool listed = co_await backend_lists(b, *s, list_method, asked);
      if (!listed) co_return unknown_item_error(std::move(id), tool ? "tool" : "prompt", asked);
    }
  }
  if (server_.mode == config::session_mode::shared && request.method() == "logging/setLevel") {
    // Per-session levels over one backend: the backend gets the most verbose level asked for,
    // and deliver() filters per session.
    const auto* params = request.params_object();
    const int rank = log_rank_of(params ? params->if_contains("level") : nullptr);
    if (rank < 0) {
      co_return message::error_response(std::move(id), codes::invalid_params, invalid_level_text);
    }
    auto send = log_levels_.set(s->key(), rank);
    if (!send) co_return message::response(std::move(id), json::object{});
    request.params_object()->at("level") = log_level_name(*send);
  }
  std::string subscribing;
  if (server_.mode == config::session_mode::shared) {
    // One backend subscription per URI, shared by the sessions that asked: only the first
    // subscribe and the last unsubscribe reach the backend.
    const bool subscribe = request.method() == "resources/subscribe";
    if (subscribe || request.method() == "resources/unsubscribe") {
      auto* uri = request.params_object() ? request.params_object()->if_contains("uri") : nullptr;
      if (!uri || !uri->is_string()) {
        co_return message::error_response(std::move(id), codes::invalid_params,
                                          "Invalid params: uri must be a string");
      }
      const auto forward = subscribe ? subscriptions_.subscribe(s->key(), uri->get_string())
                                     : subscriptions_.unsubscribe(s->key(), uri->get_string());
      if (forward == protocol::subscription_table::forward::none)
        co_return message::response(std::move(id), json::object{});
      if (subscribe) subscribing = std::string(uri->get_string());
    }
  }
  const bool shared = server_.mode == config::session_mode::shared;
  if (shared && protocol::is_task_request(request.method())) {
    // One backend's tasks belong to the sessions that created them (spec 2025-11-25 tasks:
    // tasks are bound to their requestor): another session's task id is unknown here.
    const auto* task = protocol::task_id_of(request);
    if (!task || !tasks_.owns(s->key(), std::string_view(*task))) {
      // Built apart (GCC 12 and conditional temporaries in coroutines do not mix well).
      std::string why = "Invalid params: unknown taskId";
      if (task) why += " \"" + std::string(*task) + "\"";
      co_return message::error_response(std::move(id), codes::invalid_params, why);
    }
  }
  std::string filtered_list;
  if (auto key = list_key_of(request.method());
      !key.empty() && (!filter_for(server_.filters, key).empty() || s->narrowing.access))
    filtered_list = key;
  const bool own_tasks_only = shared && request.method() == "tasks/list";
  const auto* params = request.params_object();
  const auto* task_meta = params ? params->if_contains("task") : nullptr;
  const bool creates_task = task_meta && task_meta->is_object();
  // Each request for who its client declared itself to be (shared mode: the backend session's
  // initialize was the proxy's): a 2026-07-28 backend gets that in the request's _meta.
  const protocol::declared_client declared{&s->client_capabilities, &s->client_info};
  auto call = b->call(s->key(), std::move(request), &declared);
  call->creates_task = creates_task;
  s->add_call(call);
  call_started cs{call, std::chrono::steady_clock::now() + server_.timeout, std::move(subscribing),
                  std::move(filtered_list)};
  cs.own_tasks_only = own_tasks_only;
  co_return cs;
}

bool server_endpoint::access_allows(const client_session& s, std::string_view list_key,
                                    std::string_view name) const {
  if (!s.narrowing.access) return true;
  const auto kind = item_kind_of(list_key);
  if (kind == protocol::item_kind::resource)
    return s.narrowing.allows(kind, server_.name, name, name);
  // Rules on exposed names mean the names the merged endpoint shows, on every route.
  const auto exposed = protocol::expose_name(server_.name, server_.prefix.value_or(server_.name),
                                             proxy_.tool_name_separator, name);
  return s.narrowing.allows(kind, server_.name, name, exposed);
}

awaitable<bool> server_endpoint::backend_lists(std::shared_ptr<backend::backend_session> b,
                                               const client_session& s,
                                               std::string_view list_method, std::string name) {
  constexpr int max_pages = 100;
  const auto key = list_key_of(list_method);
  const protocol::declared_client declared{&s.client_capabilities, &s.client_info};
  json::value cursor;
  for (int page = 0; page < max_pages; ++page) {
    json::object params;
    if (cursor.is_string()) params["cursor"] = cursor;
    const json::value request_id(json::string("mcp-proxy-names-" + std::to_string(page)));
    auto call =
        b->call(s.key(), message::request(request_id, list_method, std::move(params)), &declared);
    const auto deadline = std::chrono::steady_clock::now() + server_.timeout;
    std::optional<message> answer;
    for (;;) {
      auto ev = co_await call->events.pop(deadline);
      if (!ev || ev->is_response()) {
        answer = std::move(ev);
        break;
      }
    }
    if (!answer) {
      b->abandon(*call, "timed out in mcp-proxy");
      co_return true;
    }
    const auto* result = answer->result() ? answer->result()->if_object() : nullptr;
    const auto* items = result ? result->if_contains(key) : nullptr;
    if (!items || !items->is_array()) co_return true;  // not a list: the backend decides
    for (const auto& item : items->get_array())
      if (auto n = item_key(key, item); n && *n == name) co_return true;
    const auto* next = result->if_contains("nextCursor");
    if (!next || !next->is_string()) co_return false;
    cursor = *next;
  }
  co_return true;
}

bool server_endpoint::keeps(const client_session& s, std::string_view list_key,
                            const json::value& item) const {
  if (!filters_allow(server_.filters, list_key, item)) return false;
  if (!s.narrowing.access) return true;
  const auto key = item_key(list_key, item);
  return key && access_allows(s, list_key, *key);
}

std::optional<message> server_endpoint::refused_by_filters(const client_session& s,
                                                           const message& request) const {
  const auto& f = server_.filters;
  const auto* params = request.params_object();
  auto text_param = [params](std::string_view key) -> std::optional<std::string_view> {
    const auto* v = params ? params->if_contains(key) : nullptr;
    if (!v || !v->is_string()) return std::nullopt;
    return std::string_view(v->get_string());
  };
  const auto method = request.method();
  if (method == "tools/call") {
    if (auto name = text_param("name");
        name && (!f.tools.allows(*name) || !access_allows(s, "tools", *name)))
      return unknown_item_error(*request.id(), "tool", *name);
  } else if (method == "prompts/get") {
    if (auto name = text_param("name");
        name && (!f.prompts.allows(*name) || !access_allows(s, "prompts", *name)))
      return unknown_item_error(*request.id(), "prompt", *name);
  } else if (method == "resources/read" || method == "resources/subscribe" ||
             method == "resources/unsubscribe") {
    if (auto uri = text_param("uri");
        uri && (!f.resources.allows(*uri) || !access_allows(s, "resources", *uri)))
      return unknown_item_error(*request.id(), "resource", *uri);
  }
  return std::nullopt;
}

void server_endpoint::on_notification(client_session& s, const message& n) {
  auto b = backend_of(s);
  if (n.method() == "notifications/initialized") {
    // The proxy sent this to the backend right after its initialize (in both modes), so the
    // client's copy would be a second one. A shared backend learns instead that the roots
    // behind it changed, now that the client can answer roots/list.
    if (!s.initialized) {
      s.initialized = true;
      tell_roots_changed(s);
    }
    return;
  }
  if (!b) return;
  if (n.method() == "notifications/cancelled") {
    if (!b->cancel_from_client(s.key(), n))
      spdlog::debug("session {}: cancellation for no request in flight",
                    protocol::short_id(s.id()));
    return;
  }
  if (n.method() == "notifications/roots/list_changed") {
    // A shared backend asks only clients that declared roots; the others have none to change.
    if (server_.mode == config::session_mode::shared)
      tell_roots_changed(s);
    else
      b->notify(n);
    return;
  }
  b->notify(n);
}

bool server_endpoint::on_response(client_session& s, message response) {
  auto b = backend_of(s);
  if (b && b->answer_from_client(s.key(), std::move(response))) return true;
  if (!s.forward_to_parent)  // a merged endpoint asks each member in turn, and logs itself
    spdlog::warn("session {} on {}: response to no request of the backend; dropped",
                 protocol::short_id(s.id()), server_.name);
  return false;
}

awaitable<std::optional<message>> server_endpoint::next_event(client_session& s,
                                                              const call_started& cs) {
  auto ev = co_await cs.call->events.pop(cs.deadline);
  if (ev && ev->rest() && (!cs.stream_ok || !cs.filtered_list.empty() || cs.own_tasks_only)) {
    auto whole = co_await transport::gather_streamed(*ev, cs.deadline);
    if (whole)
      ev = std::move(*whole);
    else
      ev = message::error_response(cs.call->client_id, codes::backend_unavailable,
                                   "backend " + server_.name + ": " + whole.error());
  }
  if (!cs.subscribing_uri.empty() && (!ev || ev->error()))
    subscriptions_.undo_subscribe(s.key(), cs.subscribing_uri);
  if (ev && !cs.filtered_list.empty() && ev->is_response())
    filter_list_result(*ev, cs.filtered_list,
                       [&](const json::value& item) { return keeps(s, cs.filtered_list, item); });
  if (ev && cs.own_tasks_only && ev->is_response()) tasks_.keep_own(s.key(), *ev);
  if (!ev && !cs.call->events.closed()) {
    abandon(s, *cs.call, "timed out in mcp-proxy");
    spdlog::warn("session {} on {}: request timed out after {} ms", protocol::short_id(s.id()),
                 server_.name, server_.timeout.count());
    ev = message::error_response(cs.call->client_id, codes::request_timeout,
                                 "backend " + server_.name + " did not answer within " +
                                     std::to_string(server_.timeout.count()) + " ms");
  }
  if (ev && ev->is_response() && cs.watcher) cs.watcher->on_final(*ev, server_.name);
  co_return ev;
}

void server_endpoint::drain(std::shared_ptr<client_session> s, call_started cs) {
  auto follow = [](server_endpoint& ep, std::shared_ptr<client_session> s,
                   call_started cs) -> awaitable<void> {
    while (auto ev = co_await ep.next_event(*s, cs))
      if (ev->is_response()) break;
  };
  background_.spawn(follow(*this, std::move(s), std::move(cs)), "drain abandoned call");
}

void server_endpoint::abandon(client_session& s, const backend::pending_call& call,
                              std::string_view why) {
  if (auto b = backend_of(s)) b->abandon(call, why);
}

}  // namespace mcp_proxy::core
