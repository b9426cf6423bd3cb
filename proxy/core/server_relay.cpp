// server_endpoint: what the backend sends on its own (notifications, server-to-client requests)
// and to which client session it goes.
#include "core/server_endpoint.hpp"

#include "protocol/versions.hpp"

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

bool relates_to_current_call(std::string_view method) {
  // Logging and progress emitted while a call runs belong to that call's stream.
  return method == "notifications/message" || method == "notifications/progress";
}

}  // namespace

backend::backend_session::handlers server_endpoint::handlers_for(
    std::weak_ptr<client_session> owner) {
  backend::backend_session::handlers h;
  h.on_notification = [this, owner](message m, related_call call) {
    on_backend_notification(owner, std::move(m), std::move(call));
  };
  h.on_request = [this, owner](message m, related_call call) {
    on_backend_request(owner, std::move(m), std::move(call));
  };
  h.on_answer = [this](const backend::pending_call& call, const message& answer) {
    if (!call.creates_task) return;
    // The task is that client's; status notifications that came before it are delivered now.
    auto early = tasks_.on_answer(call.client, answer);
    if (auto s = session_of(call.client))
      for (auto& m : early) deliver(*s, std::move(m), false);
  };
  h.on_cancelled_for = [this](rpc::client_key client, message m) {
    if (auto s = session_of(client); s && !s->ended) deliver(*s, std::move(m), true);
  };
  if (server_.mode == config::session_mode::shared) {
    h.on_renewed = [this] {
      // Like a restart: subscriptions and the log level again, and lists may have changed.
      on_shared_restart();
      tell_watchers(backend_event::up);
    };
    h.on_closed = [this] {
      if (stopped_) return;
      // A backend that failed its initialize ends here too: only the shared one going away is
      // a change of state.
      if (shared_ && !shared_->alive()) note_backend_down(shared_->end_reason());
      tell_watchers(backend_event::down);
      if (reconnecting_) return;
      reconnecting_ = true;
      background_.spawn(reconnect_shared(), server_.name + " reconnect");
    };
  }
  if (server_.mode == config::session_mode::per_client) {
    // The backend session was this client's: end the client session, so its next request gets
    // 404 and the client starts a new session (spec: Streamable HTTP, session management).
    h.on_closed = [this, owner] {
      if (auto s = owner.lock())
        close_session(sessions_, *s, server_.name, "ended: its backend went away");
    };
  }
  return h;
}

std::shared_ptr<backend::backend_session> server_endpoint::backend_of(
    const client_session& s) const {
  return server_.mode == config::session_mode::per_client ? s.own_backend : shared_;
}

void server_endpoint::deliver(client_session& s, message m, bool related_to_call,
                              const related_call& call) {
  if (m.is_notification() && m.method() == "notifications/message") {
    // Shared mode: the backend logs at the most verbose level any client asked for; each
    // client gets what its own level admits.
    const auto* params = m.params_object();
    if (!log_levels_.admits(s.key(), log_rank_of(params ? params->if_contains("level") : nullptr)))
      return;
  }
  if (call && !call->events.closed()) {
    call->events.push(std::move(m));
    return;
  }
  if (related_to_call) {
    if (auto latest = s.latest_call()) {
      latest->events.push(std::move(m));
      return;
    }
  }
  push_unrelated(s, std::move(m), server_.name);
}

std::shared_ptr<client_session> server_endpoint::session_of(rpc::client_key key) const {
  for (const auto& [id, s] : sessions_)
    if (s->key() == key) return s;
  return nullptr;
}

std::shared_ptr<client_session> server_endpoint::shared_target(const related_call& call,
                                                               bool idle_ok) const {
  std::optional<rpc::client_key> related;
  if (call) related = call->client;
  std::vector<protocol::client_view> clients;
  clients.reserve(sessions_.size());
  for (const auto& [id, s] : sessions_) clients.push_back({s->key(), s->latest_call() != nullptr});
  auto key = protocol::route_target(related, clients, idle_ok);
  auto target = key ? session_of(*key) : nullptr;  // null: that client has gone
  return target && !target->ended ? target : nullptr;
}

void server_endpoint::on_backend_notification(std::weak_ptr<client_session> owner, message m,
                                              related_call call) {
  const bool related = relates_to_current_call(m.method());
  if (server_.mode == config::session_mode::per_client) {
    if (auto s = owner.lock(); s && !s->ended) deliver(*s, std::move(m), related, call);
    return;
  }
  if (m.method() == "notifications/tools/list_changed")
    tell_watchers(backend_event::tools_changed);
  else if (m.method() == "notifications/prompts/list_changed")
    tell_watchers(backend_event::prompts_changed);
  else if (m.method() == "notifications/resources/list_changed")
    tell_watchers(backend_event::resources_changed);
  if (m.method() == "notifications/elicitation/complete") {
    // Only the session the URL-mode elicitation went to.
    auto client = requests_.elicitation_complete(m);
    if (!client) {
      spdlog::debug("backend {}: elicitation/complete for no elicitation sent; dropped",
                    server_.name);
      return;
    }
    if (auto s = session_of(*client)) deliver(*s, std::move(m), false);
    return;
  }
  if (m.method() == "notifications/tasks/status") {
    // Only the session that created the task hears of it (kept until its owner is known).
    if (auto client = tasks_.on_status(m))
      if (auto s = session_of(*client)) deliver(*s, std::move(m), false);
    return;
  }
  if (m.method() == "notifications/resources/updated") {
    // Only the sessions subscribed to that URI hear of it.
    auto* uri = m.params_object() ? m.params_object()->if_contains("uri") : nullptr;
    if (!uri || !uri->is_string()) return;
    for (auto& [id, s] : sessions_)
      if (subscriptions_.subscribed(s->key(), uri->get_string())) deliver(*s, m, false);
    return;
  }
  if (related) {
    // Shared backend: the call's client is known when the message came with the call (a POST
    // stream), or when exactly one client has calls running; else every client hears it.
    if (auto target = shared_target(call, false)) {
      deliver(*target, std::move(m), true, call);
      return;
    }
  }
  for (auto& [id, s] : sessions_) deliver(*s, m, false);
}

void server_endpoint::on_backend_request(std::weak_ptr<client_session> owner, message m,
                                         related_call call) {
  std::shared_ptr<client_session> target;
  std::shared_ptr<backend::backend_session> b;
  if (server_.mode == config::session_mode::per_client) {
    target = owner.lock();
    if (target) b = target->own_backend;
  } else {
    b = shared_;
    target = shared_target(call, true);
  }
  if (!b) return;
  if (target && target->ended) target = nullptr;
  json::value id = m.id() ? *m.id() : json::value();
  const auto decision = requests_.decide(m, target ? &target->client_capabilities : nullptr,
                                         !call && sessions_.empty());
  using kind = protocol::request_decision::kind;
  if (decision.what == kind::answer) {
    b->reply(message::response(id, decision.result));
    return;
  }
  if (decision.what == kind::refuse) {
    spdlog::warn("backend {}: {} request not routed ({}); answering an error", server_.name,
                 m.method(), decision.text);
    b->reply(message::error_response(id, decision.code, decision.text));
    return;
  }
  if (server_.mode == config::session_mode::shared) requests_.elicitation_sent(m, target->key());
  b->route_request_to(target->key(), m);
  deliver(*target, std::move(m), true, call);
}

void server_endpoint::tell_roots_changed(const client_session& s) {
  if (server_.mode != config::session_mode::shared || !s.client_capabilities.contains("roots"))
    return;
  if (shared_ && shared_->alive())
    shared_->notify(message::notification("notifications/roots/list_changed"));
}

}  // namespace mcp_proxy::core
