#include "frontend/modern_dispatch.hpp"

#include "frontend/call_gate.hpp"

#include "protocol/input_bridge.hpp"
#include "protocol/modern_request.hpp"

#include <boost/json.hpp>

#include <algorithm>

namespace mcp_proxy::frontend {

using boost::asio::awaitable;
using jsonrpc::message;
namespace json = boost::json;
namespace codes = jsonrpc::error_codes;

namespace {

// The answer to a request the proxy itself sends in a session (its logging/setLevel, its
// resources/subscribe): given at once, or the response of the call; nullopt when the call
// ended without one.
awaitable<std::optional<message>> answer_of(core::endpoint& ep,
                                            std::shared_ptr<core::client_session> s,
                                            message request) {
  auto outcome = co_await ep.on_request(s, std::move(request));
  if (auto* now = std::get_if<message>(&outcome)) co_return std::move(*now);
  const auto& pending = std::get<core::call_started>(outcome);
  while (auto ev = co_await ep.next_event(*s, pending))
    if (ev->is_response()) co_return std::move(*ev);
  co_return std::nullopt;
}

}  // namespace

awaitable<modern_dispatched> dispatch_modern(core::endpoint& ep, message msg,
                                             core::session_narrowing narrowing) {
  modern_dispatched d;
  if (!msg.is_request()) co_return d;  // nothing is owed to a notification
  const json::value id = *msg.id();
  d.method = std::string(msg.method());
  d.client_id = id;
  d.client_capabilities = protocol::declared_capabilities(msg);
  if (protocol::input_bridge::may_suspend(d.method)) d.request = msg;
  d.log_rank = protocol::modern_log_rank(msg);
  auto pass = enter_gate(narrowing, ep.name(), msg);
  if (pass.refused) {
    d.answer = std::move(pass.refused);
    co_return d;
  }
  auto opened = co_await ep.initialize(protocol::legacy_initialize_for(msg), std::move(narrowing));
  if (!opened.session) {
    d.overloaded = opened.overloaded;
    message refused = std::move(opened.reply);
    refused.set_id(id);
    protocol::to_modern_answer(refused, d.method, d.server_info);
    answered_now(pass, refused);
    d.answer = std::move(refused);
    co_return d;
  }
  d.session = opened.session;
  ep.on_notification(*d.session, message::notification("notifications/initialized"));
  const auto* init = opened.reply.result();
  if (const auto* info =
          init && init->is_object() ? init->get_object().if_contains("serverInfo") : nullptr;
      info && info->is_object())
    d.server_info = info->get_object();
  if (d.method == "server/discover") {
    d.answer = message::response(id, protocol::discover_result(init->get_object()));
    answered_now(pass, *d.answer);
    co_await finish_modern(ep, d);
    co_return d;
  }
  if (d.log_rank >= 0) {
    // The per-request level goes through the endpoint's log-level rules like a client's own
    // logging/setLevel; its answer is the proxy's, not the client's.
    auto set = message::request("modern-log-level", "logging/setLevel",
                                json::object{{"level", core::log_level_name(d.log_rank)}});
    co_await answer_of(ep, d.session, std::move(set));
  }
  // The request keeps its 2026-07-28 _meta: a backend of that era serves it as it is (its
  // answers come back as they are, input_required included); a 2025-11-25 backend's link
  // removes it (protocol::era_adapter::for_legacy_backend).
  auto outcome = co_await ep.on_request(d.session, std::move(msg));
  if (auto* now = std::get_if<message>(&outcome)) {
    protocol::to_modern_answer(*now, d.method, d.server_info);
    answered_now(pass, *now);
    d.answer = std::move(*now);
    co_await finish_modern(ep, d);
  } else {
    d.call = std::get<core::call_started>(std::move(outcome));
    d.call->watcher = std::move(pass.watcher);
  }
  co_return d;
}

void refuse_backend_request(core::endpoint& ep, core::client_session& s, const message& request,
                            std::string_view why) {
  ep.on_response(s,
                 message::error_response(*request.id(), codes::method_not_found,
                                         std::string(request.method()) + ": " + std::string(why)));
}

namespace {

bool flag(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_bool() && v->get_bool();
}

const json::object& object_at(const json::object& o, std::string_view key) {
  static const json::object empty;
  const auto* v = o.if_contains(key);
  return v && v->is_object() ? v->get_object() : empty;
}

}  // namespace

std::optional<message> to_modern_event(core::endpoint& ep, modern_dispatched& d, message ev) {
  if (ev.is_response()) {
    protocol::to_modern_answer(ev, d.method, d.server_info);
    ev.set_id(d.client_id);
    return ev;
  }
  if (ev.is_request()) {
    // A modern server sends no requests (basic/patterns): one the frontend could not turn into
    // an input_required result is refused to the backend at once.
    if (d.session)
      refuse_backend_request(ep, *d.session, ev,
                             "the client speaks protocol version 2026-07-28 and this request "
                             "cannot wait for its input");
    return std::nullopt;
  }
  if (ev.method() == "notifications/message") {
    const auto* params = ev.params_object();
    const int rank = core::log_rank_of(params ? params->if_contains("level") : nullptr);
    if (d.log_rank < 0 || rank < d.log_rank) return std::nullopt;
  }
  return ev;
}

awaitable<std::vector<json::object>> list_tools(core::endpoint& ep) {
  std::vector<json::object> tools;
  auto init = message::request(
      "tools-for-headers", "initialize",
      json::object{{"protocolVersion", "2025-11-25"},
                   {"capabilities", json::object{}},
                   {"clientInfo", json::object{{"name", "mcp-proxy"}, {"version", "1"}}}});
  core::session_narrowing everything;  // GCC 12: no temporaries in co_await arguments
  auto opened = co_await ep.initialize(std::move(init), std::move(everything));
  if (!opened.session) co_return tools;
  ep.on_notification(*opened.session, message::notification("notifications/initialized"));
  json::value cursor;
  for (int page = 0; page < 100; ++page) {
    json::object params;
    if (cursor.is_string()) params["cursor"] = cursor;
    auto list_request = message::request(page, "tools/list", std::move(params));
    auto answer = co_await answer_of(ep, opened.session, std::move(list_request));
    const auto* result = answer && answer->result() ? answer->result()->if_object() : nullptr;
    const auto* list = result ? result->if_contains("tools") : nullptr;
    if (!list || !list->is_array()) break;
    for (const auto& t : list->get_array())
      if (t.is_object()) tools.push_back(t.get_object());
    const auto* next = result->if_contains("nextCursor");
    if (!next || !next->is_string()) break;
    cursor = *next;
  }
  co_await ep.end_session(opened.session);
  co_return tools;
}

awaitable<void> finish_modern(core::endpoint& ep, modern_dispatched& d) {
  if (!d.session) co_return;
  auto s = std::move(d.session);
  co_await ep.end_session(std::move(s));
}

}  // namespace mcp_proxy::frontend

namespace mcp_proxy::frontend {

awaitable<modern_listen> open_listen(core::endpoint& ep, message msg,
                                     core::session_narrowing narrowing) {
  modern_listen l;
  l.id = *msg.id();
  const auto* params = msg.params_object();
  const auto* filter = params ? params->if_contains("notifications") : nullptr;
  if (!filter || !filter->is_object()) {
    l.refused = message::error_response(
        l.id, codes::invalid_params,
        "Invalid params: subscriptions/listen needs params.notifications (an object)");
    co_return l;
  }
  // A stream, not a call: it counts as a request, and holds no slot of calls in flight.
  auto pass = enter_gate(narrowing, ep.name(), msg);
  if (pass.refused) {
    l.refused = std::move(pass.refused);
    co_return l;
  }
  auto opened = co_await ep.initialize(protocol::legacy_initialize_for(msg), std::move(narrowing));
  if (!opened.session) {
    l.overloaded = opened.overloaded;
    message refused = std::move(opened.reply);
    refused.set_id(l.id);
    answered_now(pass, refused);
    l.refused = std::move(refused);
    co_return l;
  }
  answered_now(pass, opened.reply);  // the stream is open
  l.session = opened.session;
  l.session->listening = true;  // an open stream: not an idle session
  ep.on_notification(*l.session, message::notification("notifications/initialized"));
  // What the endpoint can announce (its initialize capabilities) bounds what is honored
  // (subscriptions: "unsupported types are omitted" from the acknowledgment).
  static const json::object no_capabilities;
  const auto* init = opened.reply.result();
  const auto& caps =
      init && init->is_object() ? object_at(init->get_object(), "capabilities") : no_capabilities;
  const auto& wanted = filter->get_object();
  const auto& tools = object_at(caps, "tools");
  const auto& prompts = object_at(caps, "prompts");
  const auto& resources = object_at(caps, "resources");
  if (flag(wanted, "toolsListChanged") && flag(tools, "listChanged"))
    l.honored["toolsListChanged"] = true;
  if (flag(wanted, "promptsListChanged") && flag(prompts, "listChanged"))
    l.honored["promptsListChanged"] = true;
  if (flag(wanted, "resourcesListChanged") && flag(resources, "listChanged"))
    l.honored["resourcesListChanged"] = true;
  const auto* uris = wanted.if_contains("resourceSubscriptions");
  if (uris && uris->is_array() && flag(resources, "subscribe")) {
    json::array honored_uris;
    for (const auto& uri : uris->get_array()) {
      if (!uri.is_string()) continue;
      auto subscribe = message::request("modern-listen-subscribe", "resources/subscribe",
                                        json::object{{"uri", uri}});
      auto answer = co_await answer_of(ep, l.session, std::move(subscribe));
      if (!answer || !answer->result()) continue;  // refused: left out of the acknowledgment
      l.subscribed.emplace_back(uri.get_string());
      honored_uris.push_back(uri);
    }
    if (!honored_uris.empty()) l.honored["resourceSubscriptions"] = std::move(honored_uris);
  }
  co_return l;
}

message listen_ack(const modern_listen& l) {
  return message::notification(
      "notifications/subscriptions/acknowledged",
      json::object{{"_meta", json::object{{"io.modelcontextprotocol/subscriptionId", l.id}}},
                   {"notifications", l.honored}});
}

std::optional<message> to_listen_event(core::endpoint& ep, modern_listen& l, message m) {
  if (m.is_request()) {
    if (l.session)
      refuse_backend_request(ep, *l.session, m,
                             "a 2026-07-28 client's listen stream carries no requests");
    return std::nullopt;
  }
  if (!m.is_notification()) return std::nullopt;
  const auto method = m.method();
  bool wanted = false;
  if (method == "notifications/tools/list_changed")
    wanted = flag(l.honored, "toolsListChanged");
  else if (method == "notifications/prompts/list_changed")
    wanted = flag(l.honored, "promptsListChanged");
  else if (method == "notifications/resources/list_changed")
    wanted = flag(l.honored, "resourcesListChanged");
  else if (method == "notifications/resources/updated") {
    const auto* params = m.params_object();
    const auto* uri = params ? params->if_contains("uri") : nullptr;
    wanted = uri && uri->is_string() &&
             std::find(l.subscribed.begin(), l.subscribed.end(), uri->get_string()) !=
                 l.subscribed.end();
  }
  // Everything else (log messages, progress, other notifications) never goes on a listen
  // stream (subscriptions: only the opted-in types; logging: never on a listen stream).
  if (!wanted) return std::nullopt;
  auto& params = m.object()["params"];
  if (!params.is_object()) params = json::object{};
  auto& meta = params.get_object()["_meta"];
  if (!meta.is_object()) meta = json::object{};
  meta.get_object()["io.modelcontextprotocol/subscriptionId"] = l.id;
  return m;
}

message listen_result(const modern_listen& l) {
  return message::response(
      l.id,
      json::object{{"resultType", "complete"},
                   {"_meta", json::object{{"io.modelcontextprotocol/subscriptionId", l.id}}}});
}

awaitable<void> close_listen(core::endpoint& ep, modern_listen& l) {
  if (!l.session) co_return;
  auto s = std::move(l.session);
  // Ending the session undoes its subscriptions (the endpoint's refcounts).
  co_await ep.end_session(std::move(s));
}

}  // namespace mcp_proxy::frontend
