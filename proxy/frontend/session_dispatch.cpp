#include "frontend/session_dispatch.hpp"

#include "frontend/call_gate.hpp"

#include "protocol/versions.hpp"

namespace mcp_proxy::frontend {

using boost::asio::awaitable;
using jsonrpc::message;
namespace codes = jsonrpc::error_codes;

awaitable<dispatched> dispatch(core::endpoint& ep, std::shared_ptr<core::client_session> s,
                               message msg) {
  if (msg.is_notification()) {
    ep.on_notification(*s, msg);
    co_return dispatched{};
  }
  if (msg.is_response()) {
    ep.on_response(*s, std::move(msg));
    co_return dispatched{};
  }
  dispatched d;
  auto pass = enter_gate(s->narrowing, ep.name(), msg);
  if (pass.refused) {
    d.answer = std::move(pass.refused);
    co_return d;
  }
  auto outcome = co_await ep.on_request(std::move(s), std::move(msg));
  if (auto* now = std::get_if<message>(&outcome)) {
    answered_now(pass, *now);
    d.answer = std::move(*now);
  } else {
    d.call = std::get<core::call_started>(std::move(outcome));
    d.call->watcher = std::move(pass.watcher);
  }
  co_return d;
}

std::optional<std::string> batch_refusal(const jsonrpc::payload& batch, std::string_view version) {
  if (protocol::requires_version_header(version))
    return "Invalid Request: JSON-RPC batches are not part of protocol version " +
           std::string(version);
  for (const auto& item : batch.items)
    if (item && item->is_request() && item->method() == "initialize")
      return std::string("Invalid Request: initialize must not be part of a batch");
  return std::nullopt;
}

awaitable<dispatched_batch> dispatch_batch(core::endpoint& ep,
                                           std::shared_ptr<core::client_session> s,
                                           jsonrpc::payload batch) {
  dispatched_batch out;
  for (auto& item : batch.items) {
    if (!item) {
      out.answers.push_back(jsonrpc::to_error_response(item.error()));
      continue;
    }
    auto d = co_await dispatch(ep, s, std::move(*item));
    if (d.answer) out.answers.push_back(std::move(*d.answer));
    if (d.call) out.calls.push_back(std::move(*d.call));
  }
  co_return out;
}

awaitable<opening> open_session(core::endpoint& ep, message msg,
                                core::session_narrowing narrowing) {
  if (msg.is_request() && msg.method() == "initialize") {
    auto pass = enter_gate(narrowing, ep.name(), msg);
    if (pass.refused) co_return opening{{}, std::move(pass.refused)};
    // A local, not a co_await inside an initializer (GCC 12 destroys such temporaries twice).
    auto outcome = co_await ep.initialize(std::move(msg), std::move(narrowing));
    answered_now(pass, outcome.reply);
    opening o;
    o.opened = std::move(outcome);
    co_return o;
  }
  if (msg.is_request())
    co_return opening{{},
                      message::error_response(*msg.id(), codes::invalid_request,
                                              "Invalid Request: the session is not initialized: "
                                              "send initialize first")};
  co_return opening{};
}

}  // namespace mcp_proxy::frontend
