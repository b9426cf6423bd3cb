#include "transport/era_link.hpp"

#include "util/async_queue.hpp"
#include "util/spawn.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace mcp_proxy::transport {

namespace asio = boost::asio;
using asio::awaitable;
using protocol::era_adapter;

namespace {

// How long an ended listen waits before it is opened again.
constexpr std::chrono::seconds listen_pause{1};

class era_link final : public message_link, public std::enable_shared_from_this<era_link> {
 public:
  era_link(asio::any_io_executor ex, std::shared_ptr<message_link> inner, era_link_options o)
      : ex_(ex),
        inner_(std::move(inner)),
        options_(std::move(o)),
        adapter_(options_.mode),
        incoming_(ex),
        probe_timer_(ex),
        listen_timer_(ex) {
    direct_ = options_.mode == era_adapter::mode::legacy;
    if (direct_) incoming_.close();
  }

  void start() {
    if (!direct_) util::spawn_logged(ex_, reader(shared_from_this()), options_.name + " era");
  }

  void send(const jsonrpc::message& m) override {
    if (adapter_.current() == era_adapter::verdict::legacy) {
      // Not `stripped ? *stripped : m`: that conditional would copy the message every time.
      if (auto stripped = era_adapter::for_legacy_backend(m))
        inner_->send(*stripped);
      else
        inner_->send(m);
      return;
    }
    carry(adapter_.on_send(m));
  }

  void send_for(const jsonrpc::message& m, const protocol::declared_client& client) override {
    if (adapter_.current() == era_adapter::verdict::legacy) {
      send(m);  // a 2025-11-25 backend knows its clients from the initialize only
      return;
    }
    carry(adapter_.on_send(m, &client));
  }

  awaitable<std::optional<inbound>> receive() override {
    // A legacy backend, once what was queued is read: its own receive, with no frame of ours.
    if (direct_ && incoming_.closed() && incoming_.empty()) return inner_->receive();
    return receive_queued();
  }

  // Only answers that go on untouched may be passed on as they arrive: a legacy backend's (a
  // modern one's are bridged, whole).
  void set_stream_policy(stream_policy p) override {
    policy_ = std::move(p);
    give_policy();
  }

  awaitable<void> stop() override {
    stop_timers();
    co_await inner_->stop();
  }
  void kill_now() override {
    stop_timers();
    inner_->kill_now();
  }
  std::string end_reason() const override { return inner_->end_reason(); }
  boost::system::error_code end_cause() const override { return inner_->end_cause(); }
  std::optional<protocol::era> detected_era() const override {
    switch (adapter_.current()) {
      case era_adapter::verdict::modern:
        return protocol::era::modern;
      case era_adapter::verdict::legacy:
        return protocol::era::legacy;
      case era_adapter::verdict::unknown:
        break;
    }
    return std::nullopt;
  }
  std::string describe() const override { return inner_->describe(); }
  void set_protocol_version(std::string_view v) override {
    // A modern backend has no session and no GET stream.
    if (adapter_.current() == era_adapter::verdict::legacy) inner_->set_protocol_version(v);
  }

 private:
  awaitable<std::optional<inbound>> receive_queued() {
    if (auto in = co_await incoming_.pop()) co_return in;
    if (!direct_) co_return std::nullopt;
    co_return co_await inner_->receive();
  }

  // Reads the backend until it is known to be legacy (then receive() reads it directly) or the
  // link ends.
  awaitable<void> reader([[maybe_unused]] std::shared_ptr<era_link> self) {
    for (;;) {
      auto in = co_await inner_->receive();
      if (!in) {
        if (adapter_.probing() && options_.relaunch && !stopping_) {
          spdlog::info(
              "backend {}: {} on server/discover; starting it again as a 2025-11-25 "
              "server",
              options_.name, inner_->end_reason());
          if (auto fresh = options_.relaunch()) {
            inner_ = std::move(fresh);
            give_policy();
            carry(adapter_.on_backend_restarted());
            if (go_direct()) co_return;
            continue;
          }
        }
        break;
      }
      if (adapter_.current() == era_adapter::verdict::legacy || in->session_renewed) {
        incoming_.push(std::move(*in));
      } else if (auto m = jsonrpc::parse(in->text)) {
        carry(adapter_.on_receive(std::move(*m), in->in_reply_to));
      } else {
        incoming_.push(std::move(*in));  // the session logs what is wrong with it
      }
      if (go_direct()) co_return;
    }
    incoming_.close();
  }

  void give_policy() {
    if (!policy_) return;
    inner_->set_stream_policy([weak = weak_from_this(), p = policy_](const boost::json::value& id) {
      auto self = weak.lock();
      return self && self->adapter_.current() == era_adapter::verdict::legacy && p(id);
    });
  }

  // Legacy: receive() reads the backend itself from now on (after what is queued).
  bool go_direct() {
    if (adapter_.current() != era_adapter::verdict::legacy) return false;
    spdlog::info("backend {}: speaks protocol 2025-11-25 or older", options_.name);
    direct_ = true;
    incoming_.close();
    return true;
  }

  void carry(era_adapter::actions a) {
    for (auto& m : a.to_backend) {
      if (!a.call_headers.empty() && m.method() == "tools/call")
        inner_->send_with_headers(m, a.call_headers);
      else
        inner_->send(m);
    }
    for (auto& c : a.to_core)
      incoming_.push(inbound{jsonrpc::serialize(c.m), std::move(c.in_reply_to)});
    if (a.start_probe_timer)
      after(probe_timer_, options_.probe_time, [](era_adapter& e) { return e.on_probe_timeout(); });
    // Answered: the probe's timer must not keep the process (or its shutdown) waiting.
    if (!adapter_.probing()) probe_timer_.cancel();
    if (a.reopen_listen_later)
      after(listen_timer_, listen_pause, [](era_adapter& e) { return e.reopen_listen(); });
    if (adapter_.current() == era_adapter::verdict::modern && !announced_) {
      announced_ = true;
      spdlog::info("backend {}: speaks protocol 2026-07-28", options_.name);
    }
  }

  void stop_timers() {
    stopping_ = true;
    probe_timer_.cancel();
    listen_timer_.cancel();
  }

  // Runs `step` on the adapter once `timer` fires after `pause` (not when it is cancelled).
  template <typename Step>
  void after(asio::steady_timer& timer, std::chrono::milliseconds pause, Step step) {
    timer.expires_after(pause);
    util::spawn_logged(ex_, wait_then(shared_from_this(), timer, std::move(step)),
                       options_.name + " era timer");
  }

  template <typename Step>
  awaitable<void> wait_then(std::shared_ptr<era_link> self, asio::steady_timer& timer, Step step) {
    auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec || stopping_ || inner_->end_cause()) co_return;
    self->carry(step(adapter_));
  }

  asio::any_io_executor ex_;
  stream_policy policy_;
  std::shared_ptr<message_link> inner_;
  era_link_options options_;
  era_adapter adapter_;
  util::async_queue<inbound> incoming_;
  asio::steady_timer probe_timer_, listen_timer_;
  bool direct_ = false;
  bool stopping_ = false;
  bool announced_ = false;
};

}  // namespace

std::shared_ptr<message_link> make_era_link(asio::any_io_executor ex,
                                            std::shared_ptr<message_link> inner,
                                            era_link_options options) {
  auto link = std::make_shared<era_link>(ex, std::move(inner), std::move(options));
  link->start();
  return link;
}

}  // namespace mcp_proxy::transport
