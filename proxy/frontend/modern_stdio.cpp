#include "frontend/modern_stdio.hpp"

#include "frontend/call_gate.hpp"
#include "protocol/modern_request.hpp"

#include <spdlog/spdlog.h>
#include <boost/json.hpp>

namespace mcp_proxy::frontend {

namespace asio = boost::asio;
namespace json = boost::json;
using asio::awaitable;
using jsonrpc::message;

namespace {

std::string key_of(const json::value& id) {
  return json::serialize(id);
}

// The request a notifications/cancelled names ("" when none).
std::string cancelled_key(const message& m) {
  if (!m.is_notification() || m.method() != "notifications/cancelled") return {};
  const auto* params = m.params_object();
  const auto* id = params ? params->if_contains("requestId") : nullptr;
  return id ? key_of(*id) : std::string();
}

}  // namespace

// One request's messages on stdout; its call, while in flight, for notifications/cancelled.
struct modern_stdio::in_flight final : modern_output {
  explicit in_flight(std::function<void(const message&)> w) : write_(std::move(w)) {}

  awaitable<bool> write(const message& m, bool final, bool) override {
    if (cancelled) co_return false;  // basic/utilities/cancellation: nothing more for it
    write_(m);
    if (final) ep = nullptr;
    co_return true;
  }
  awaitable<bool> end_unanswered() override {
    ep = nullptr;
    co_return true;
  }
  void started(core::endpoint& e, core::client_session& s, const core::call_started& c) override {
    ep = &e;
    session = &s;
    call = c.call;
  }
  // Cancels the call in flight (its session stays until the call's task ends it).
  void cancel() {
    cancelled = true;
    if (ep && call) ep->abandon(*session, *call, "cancelled by the client");
    ep = nullptr;
  }

  std::function<void(const message&)> write_;
  core::endpoint* ep = nullptr;
  core::client_session* session = nullptr;
  std::shared_ptr<backend::pending_call> call;
  bool cancelled = false;
};

modern_stdio::modern_stdio(asio::any_io_executor ex, std::function<void(const message&)> write)
    : ex_(ex), write_(std::move(write)), tasks_(ex), calls_(ex, tasks_, stopping_) {}

bool modern_stdio::takes(const message& msg) const {
  if (msg.is_request()) return protocol::is_modern(msg, std::nullopt, false);
  const auto key = cancelled_key(msg);
  return !key.empty() && (requests_.contains(key) || listens_.contains(key));
}

void modern_stdio::handle(std::shared_ptr<core::endpoint> ep, message msg) {
  if (!msg.is_request()) {
    cancel(cancelled_key(msg));
    return;
  }
  if (auto refused = protocol::check_modern_request(msg, std::nullopt)) {
    write_(protocol::refusal_response(msg, *refused));
    return;
  }
  if (msg.method() == "subscriptions/listen")
    tasks_.spawn(listen(std::move(ep), std::move(msg)), "stdio subscriptions/listen");
  else
    tasks_.spawn(serve(std::move(ep), std::move(msg)), "stdio 2026-07-28 request");
}

void modern_stdio::cancel(const std::string& key) {
  if (auto it = requests_.find(key); it != requests_.end()) {
    it->second->cancel();
    requests_.erase(it);
  }
  if (auto it = listens_.find(key); it != listens_.end()) {
    auto l = std::move(it->second);
    listens_.erase(it);  // its task ends without a result: the client ended it
    if (l->session) l->session->outbox.close();
  }
}

awaitable<void> modern_stdio::serve(std::shared_ptr<core::endpoint> ep, message msg) {
  const auto key = key_of(*msg.id());
  auto out = std::make_shared<in_flight>(write_);
  requests_[key] = out;
  core::session_narrowing everything;  // stdio serves what it was started for
  everything.limits_key = stdio_limits_key;
  co_await calls_.serve(*ep, std::move(msg), std::move(everything), *out);
  if (auto it = requests_.find(key); it != requests_.end() && it->second == out)
    requests_.erase(it);
}

awaitable<void> modern_stdio::listen(std::shared_ptr<core::endpoint> ep, message msg) {
  const auto key = key_of(*msg.id());
  // Locals, not temporaries, in and around co_await (GCC 12 mishandles those).
  core::session_narrowing everything;  // stdio serves what it was started for
  everything.limits_key = stdio_limits_key;
  auto opened = co_await open_listen(*ep, std::move(msg), std::move(everything));
  auto l = std::make_shared<modern_listen>(std::move(opened));
  if (l->refused) {
    write_(*l->refused);
    co_return;
  }
  listens_[key] = l;
  write_(listen_ack(*l));
  while (auto m = co_await l->session->outbox.pop())
    if (auto ev = to_listen_event(*ep, *l, std::move(*m))) write_(*ev);
  // Still listed: the proxy ended it (stdin closed, or its session ended), so the client gets
  // its result; else the client cancelled it and gets nothing more.
  if (auto it = listens_.find(key); it != listens_.end() && it->second == l) {
    listens_.erase(it);
    write_(listen_result(*l));
  }
  co_await close_listen(*ep, *l);
}

awaitable<void> modern_stdio::stop() {
  stopping_ = true;
  for (auto& [key, l] : listens_)
    if (l->session) l->session->outbox.close();
  // The listens write their results and end; calls still running are cancelled.
  co_await tasks_.wait(util::async_event::clock::now() + std::chrono::seconds(1));
  tasks_.cancel();
  if (!co_await tasks_.wait(util::async_event::clock::now() + std::chrono::seconds(5)))
    spdlog::warn("stdio: 2026-07-28 requests still running 5 s after stdin closed");
}

}  // namespace mcp_proxy::frontend
