// server_endpoint's supervision of its backend: the state /readyz shows, the restarts of a
// shared backend that went away (with jittered backoff), and ping supervision
// (protocol/supervision.hpp decides; this carries it out).

#include "core/server_endpoint.hpp"

#include "config/config_values.hpp"
#include "protocol/log_text.hpp"
#include "protocol/supervision.hpp"
#include "util/scope_exit.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <random>

namespace mcp_proxy::core {

namespace asio = boost::asio;
namespace json = boost::json;
using asio::awaitable;
namespace codes = jsonrpc::error_codes;
using jsonrpc::message;

namespace {

// A number in [0, 1) for the jitter of restart delays.
double unit_random() {
  thread_local std::mt19937_64 engine{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(engine);
}

}  // namespace

protocol::backend_status server_endpoint::status() const {
  protocol::backend_status b;
  b.name = server_.name;
  b.state = state_;
  b.since = state_since_;
  b.last_error = last_error_;
  b.restarts = starts_ > 1 ? starts_ - 1 : 0;
  if (server_.era == config::backend_era::modern) b.backend_era = protocol::era::modern;
  if (server_.era == config::backend_era::legacy) b.backend_era = protocol::era::legacy;
  // "protocol": "auto": what the shared backend's link found, once it has.
  if (!b.backend_era && shared_) b.backend_era = shared_->detected_era();
  b.transport = std::string(config::detail::transport_name(server_.transport));
  return b;
}

void server_endpoint::set_state(protocol::backend_state s) {
  // Stopped is the last state (a start that was under way may end after stop()).
  if (s == state_ || state_ == protocol::backend_state::stopped) return;
  state_ = s;
  state_since_ = std::chrono::system_clock::now();
}

void server_endpoint::note_backend_down(std::string why) {
  last_error_ = std::move(why);
  set_state(protocol::backend_state::backing_off);
}

awaitable<void> server_endpoint::reconnect_shared() {
  util::scope_exit done([this] { reconnecting_ = false; });
  for (std::uint64_t attempt = 0; attempt < 1000 && !stopped_; ++attempt) {
    const auto delay = protocol::restart_delay(attempt, unit_random());
    // Closed at stop(): the wait ends at once.
    co_await reconnect_signal_.pop(std::chrono::steady_clock::now() + delay);
    if (stopped_ || (shared_ && shared_->alive())) co_return;  // a request restarted it
    spdlog::info("backend {}: reconnecting (attempt {}, after {} ms)", server_.name, attempt + 1,
                 delay.count());
    auto b = co_await shared_backend();
    if (b) co_return;
  }
}

void server_endpoint::start_supervision(std::shared_ptr<backend::backend_session> b,
                                        std::weak_ptr<client_session> owner) {
  if (server_.ping_interval.count() == 0 || stopped_) return;
  background_.spawn(supervise(std::move(b), std::move(owner)), server_.name + " ping supervision");
}

awaitable<void> server_endpoint::supervise(std::shared_ptr<backend::backend_session> b,
                                           std::weak_ptr<client_session> owner) {
  using clock = std::chrono::steady_clock;
  const bool per_client = server_.mode == config::session_mode::per_client;
  const auto interval = server_.ping_interval;
  auto watched = [&] {
    if (stopped_ || !b->alive()) return false;
    if (!per_client) return shared_ == b;
    auto s = owner.lock();
    return s && !s->ended && s->own_backend == b;
  };
  protocol::ping_watch watch(server_.ping_misses);
  std::uint64_t sent = 0;
  // Per-client: which session's backend (a server may have many).
  std::string who = server_.name;
  if (auto s = owner.lock()) who += " (session " + std::string(protocol::short_id(s->id())) + ")";
  // The first ping one interval after initialize, whose answer was the first sign of life.
  auto next = clock::now() + interval;
  while (watched()) {
    co_await supervision_wake_.wait(next);
    if (!watched()) break;
    if (clock::now() < next) continue;  // woken for another backend, or for stop()
    // Each answer is due before the next ping: one ping in flight at a time.
    next = clock::now() + interval;
    const json::value ping_id(json::string("mcp-proxy-ping-" + std::to_string(++sent)));
    auto call = b->call(backend::proxy_client_key, message::request(ping_id, "ping"));
    std::optional<message> answer;
    for (;;) {
      answer = co_await call->events.pop(next);
      if (!answer || answer->is_response()) break;
    }
    // A backend that ended failed the ping: what happens next is the exit's business.
    if (!watched()) break;
    if (!answer) b->abandon(*call, "mcp-proxy: ping unanswered within pingInterval");
    // An error from the server is an answer: it is there (one without ping says -32601). The
    // link's own errors for a request that never got through (an HTTP server that refuses the
    // connection or times out) carry -32000 or -32001, and are misses.
    const auto* error = answer ? answer->error() : nullptr;
    const auto* code =
        error && error->is_object() ? error->get_object().if_contains("code") : nullptr;
    const bool link_failed = code && code->is_int64() &&
                             (code->get_int64() == codes::backend_unavailable ||
                              code->get_int64() == codes::request_timeout);
    const bool answered = answer && !link_failed;
    const auto verdict = answered ? watch.on_answer() : watch.on_miss();
    std::string miss = "no answer to ping within " + std::to_string(interval.count()) + " ms";
    if (link_failed) {
      const auto* text = error->get_object().if_contains("message");
      miss = "ping failed: " + (text && text->is_string() ? std::string(text->get_string())
                                                          : json::serialize(*error));
    }
    switch (verdict) {
      case protocol::ping_watch::verdict::none:
        if (!answered)
          spdlog::warn("backend {}: {} ({} of {} misses in a row)", who, miss, watch.misses(),
                       watch.misses_allowed());
        break;
      case protocol::ping_watch::verdict::degraded:
        spdlog::warn("backend {}: {} ({} of {} misses in a row); degraded", who, miss,
                     watch.misses(), watch.misses_allowed());
        if (!per_client && state_ == protocol::backend_state::ready)
          set_state(protocol::backend_state::degraded);
        break;
      case protocol::ping_watch::verdict::recovered:
        spdlog::info("backend {}: answered a ping again; ready", who);
        if (!per_client && state_ == protocol::backend_state::degraded)
          set_state(protocol::backend_state::ready);
        break;
      case protocol::ping_watch::verdict::restart: {
        const std::string why = "backend " + server_.name + " did not answer " +
                                std::to_string(watch.misses_allowed()) +
                                " pings in a row (pingInterval " +
                                std::to_string(interval.count()) + " ms)";
        if (per_client) {
          auto s = owner.lock();
          if (!s) co_return;
          spdlog::error("{}; ending session {} (its client starts a new one)", why,
                        protocol::short_id(s->id()));
          last_error_ = why;
          co_await end_session(s);
          co_return;
        }
        spdlog::error("{}; restarting it", why);
        co_await b->stop();
        // Its end was recorded as a stop; the reason is this.
        if (!stopped_) last_error_ = why;
        co_return;
      }
    }
  }
}

}  // namespace mcp_proxy::core
