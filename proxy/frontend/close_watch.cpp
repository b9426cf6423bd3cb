#include "frontend/close_watch.hpp"

#include "util/spawn.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <poll.h>

#include <chrono>

namespace mcp_proxy::frontend {

namespace asio = boost::asio;
using asio::awaitable;
using asio::ip::tcp;

struct close_watch::state {
  explicit state(tcp::socket& s) : socket(s), timer(s.get_executor()) {}
  tcp::socket& socket;  // touched only while !stopped (the connection outlives the watch)
  asio::steady_timer timer;
  asio::cancellation_signal cancel;
  std::function<void()> on_close;
  bool started = false;
  bool stopped = false;
  bool closed = false;
};

namespace {

// How often a connection with a pipelined request waiting in it is looked at.
constexpr std::chrono::milliseconds pipelined_poll{250};

enum class peer { open, closed, sent_more };

// What a socket that woke its reader means, read without taking a byte.
peer look_at(int fd) {
  if (fd < 0) return peer::closed;  // the proxy closed it meanwhile (a timeout, a takeover)
  pollfd p{fd, POLLIN | POLLRDHUP, 0};
  const int n = ::poll(&p, 1, 0);
  if (n <= 0) return peer::open;  // nothing after all (or EINTR): wait again
  if (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) return peer::closed;
  return (p.revents & POLLIN) ? peer::sent_more : peer::open;
}

awaitable<void> watch(std::shared_ptr<close_watch::state> st) {
  bool pipelined = false;
  while (!st->stopped) {
    boost::system::error_code ec;
    if (!pipelined) {
      // The cancellation slot is the watch's own: stop() ends this wait and nothing else on
      // the socket (a write may be under way).
      auto [wec] = co_await st->socket.async_wait(
          tcp::socket::wait_read,
          asio::bind_cancellation_slot(st->cancel.slot(), asio::as_tuple(asio::use_awaitable)));
      ec = wec;
    } else {
      st->timer.expires_after(pipelined_poll);
      auto [tec] = co_await st->timer.async_wait(asio::as_tuple(asio::use_awaitable));
      if (tec) co_return;  // stop()
    }
    if (st->stopped) co_return;
    const peer p = ec ? peer::closed : look_at(st->socket.native_handle());
    if (p == peer::sent_more) pipelined = true;
    if (p != peer::closed) continue;
    st->closed = true;
    if (auto f = std::move(st->on_close)) f();
    co_return;
  }
}

}  // namespace

close_watch::close_watch(tcp::socket& socket) : state_(std::make_shared<state>(socket)) {}

close_watch::~close_watch() {
  stop();
}

void close_watch::start(std::function<void()> on_close) {
  if (state_->started || state_->stopped) return;
  state_->started = true;
  state_->on_close = std::move(on_close);
  util::spawn_logged(state_->socket.get_executor(), watch(state_), "watch a client's connection");
}

void close_watch::stop() {
  if (state_->stopped) return;
  state_->stopped = true;
  state_->on_close = nullptr;
  if (!state_->started) return;
  state_->cancel.emit(asio::cancellation_type::all);
  state_->timer.cancel();
}

bool close_watch::closed() const {
  return state_->closed;
}

}  // namespace mcp_proxy::frontend
