#pragma once
// An event any number of coroutines wait on until it is notified (or a deadline passes): the
// awaitable replacement for polling a flag. Waiters re-check what they wait for after waking.
// Thread-safety: one executor. Cancellation: by deadline.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <set>

namespace mcp_proxy::util {

class async_event {
 public:
  using clock = boost::asio::steady_timer::clock_type;
  explicit async_event(boost::asio::any_io_executor ex) : ex_(std::move(ex)) {}
  async_event(const async_event&) = delete;
  async_event& operator=(const async_event&) = delete;

  // Wakes every coroutine waiting now.
  void notify_all() {
    for (auto* t : waiting_) t->cancel();
  }
  // Waits for notify_all(); false when `deadline` passed first.
  boost::asio::awaitable<bool> wait(clock::time_point deadline) {
    boost::asio::steady_timer timer(ex_, deadline);
    waiting_.insert(&timer);
    auto [ec] = co_await timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    waiting_.erase(&timer);
    co_return ec == boost::asio::error::operation_aborted;
  }

 private:
  boost::asio::any_io_executor ex_;
  std::set<boost::asio::steady_timer*> waiting_;
};

}  // namespace mcp_proxy::util
