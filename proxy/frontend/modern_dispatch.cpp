#include "frontend/modern_dispatch.hpp"

#include "protocol/modern_request.hpp"

#include <boost/json.hpp>

namespace mcp_proxy::frontend {

using boost::asio::awaitable;
using jsonrpc::message;
namespace json = boost::json;
namespace codes = jsonrpc::error_codes;

awaitable<modern_dispatched> dispatch_modern(core::endpoint& ep, message msg,
                                             core::session_narrowing narrowing) {
  modern_dispatched d;
  if (!msg.is_request()) co_return d;  // nothing is owed to a notification
  const json::value id = *msg.id();
  d.method = std::string(msg.method());
  d.log_rank = protocol::modern_log_rank(msg);
  if (d.method == "subscriptions/listen") {
    d.answer = message::error_response(
        id, codes::method_not_found,
        "Method not found: subscriptions/listen is not served by this proxy yet");
    co_return d;
  }
  auto opened = co_await ep.initialize(protocol::legacy_initialize_for(msg), std::move(narrowing));
  if (!opened.session) {
    d.overloaded = opened.overloaded;
    message refused = std::move(opened.reply);
    refused.set_id(id);
    protocol::to_modern_answer(refused, d.method, d.server_info);
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
    co_await finish_modern(ep, d);
    co_return d;
  }
  if (d.log_rank >= 0) {
    // The per-request level goes through the endpoint's log-level rules like a client's own
    // logging/setLevel; its answer is the proxy's, not the client's.
    auto set = message::request("modern-log-level", "logging/setLevel",
                                json::object{{"level", core::log_level_name(d.log_rank)}});
    auto ignored = co_await ep.on_request(d.session, std::move(set));
    if (auto* pending = std::get_if<core::call_started>(&ignored))
      while (auto ev = co_await ep.next_event(*d.session, *pending))
        if (ev->is_response()) break;
  }
  auto outcome = co_await ep.on_request(d.session, protocol::to_legacy_request(std::move(msg)));
  if (auto* now = std::get_if<message>(&outcome)) {
    protocol::to_modern_answer(*now, d.method, d.server_info);
    d.answer = std::move(*now);
    co_await finish_modern(ep, d);
  } else {
    d.call = std::get<core::call_started>(std::move(outcome));
  }
  co_return d;
}

std::optional<message> to_modern_event(core::endpoint& ep, modern_dispatched& d, message ev) {
  if (ev.is_response()) {
    protocol::to_modern_answer(ev, d.method, d.server_info);
    return ev;
  }
  if (ev.is_request()) {
    // A modern server sends no requests (basic/patterns): until input_required bridging lands,
    // the backend hears at once that this client cannot answer.
    if (d.session)
      ep.on_response(*d.session,
                     message::error_response(*ev.id(), codes::method_not_found,
                                             "the client speaks protocol version 2026-07-28: "
                                             "the proxy does not bridge " +
                                                 std::string(ev.method()) + " to it yet"));
    return std::nullopt;
  }
  if (ev.method() == "notifications/message") {
    const auto* params = ev.params_object();
    const int rank = core::log_rank_of(params ? params->if_contains("level") : nullptr);
    if (d.log_rank < 0 || rank < d.log_rank) return std::nullopt;
  }
  return ev;
}

awaitable<void> finish_modern(core::endpoint& ep, modern_dispatched& d) {
  if (!d.session) co_return;
  auto s = std::move(d.session);
  co_await ep.end_session(std::move(s));
}

}  // namespace mcp_proxy::frontend
