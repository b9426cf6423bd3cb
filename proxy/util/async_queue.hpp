#pragma once
// An unbounded FIFO whose consumer awaits the next item (one consumer). Producers never block,
// so a slow consumer cannot stall a backend's reader.
// Thread-safety: all calls on one executor (strand); the design runs each queue on one.
// Cancellation: by deadline or close(), not by cancellation slots.

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <deque>
#include <optional>
#include <utility>

namespace mcp_proxy::util {

template <typename T>
class async_queue {
 public:
  using clock = boost::asio::steady_timer::clock_type;

  explicit async_queue(boost::asio::any_io_executor ex) : signal_(ex) {
    signal_.expires_at(boost::asio::steady_timer::time_point::max());
  }

  void push(T item) {
    if (closed_) return;
    items_.push_back(std::move(item));
    signal_.cancel();
  }
  // Puts an item back at the head (a consumer that could not pass it on).
  void push_front(T item) {
    if (closed_) return;
    items_.push_front(std::move(item));
    signal_.cancel();
  }
  // After close, pop drains what is queued, then yields nullopt.
  void close() {
    closed_ = true;
    signal_.cancel();
  }
  // Wakes a waiting consumer with nullopt as if its deadline had passed (the queue stays open):
  // its owner wants it to look at something else (a connection being taken over).
  // Without a waiting consumer it does nothing (a later pop is not cut short).
  void interrupt() {
    if (!waiting_) return;
    interrupted_ = true;
    signal_.cancel();
  }
  bool closed() const { return closed_; }
  bool empty() const { return items_.empty(); }
  // The newest item, to be replaced in place (a bounded owner merging items); null when empty.
  T* back() { return items_.empty() ? nullptr : &items_.back(); }
  // Drops every queued item and frees their memory.
  void clear() { std::deque<T>().swap(items_); }
  std::size_t size() const { return items_.size(); }

  // The head item when one is queued, without waiting (a consumer batching what came meanwhile).
  std::optional<T> try_pop() {
    if (items_.empty()) return std::nullopt;
    T item = std::move(items_.front());
    items_.pop_front();
    return item;
  }

  // Waits until an item is queued or the queue is closed (true), or until `deadline` passes or
  // interrupt() is called (false). Takes nothing.
  boost::asio::awaitable<bool> wait(clock::time_point deadline) {
    while (items_.empty() && !closed_) {
      if (clock::now() >= deadline) co_return false;
      signal_.expires_at(deadline);
      waiting_ = true;
      co_await signal_.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
      waiting_ = false;
      if (std::exchange(interrupted_, false) && items_.empty()) co_return false;
    }
    co_return true;
  }

  // The next item; nullopt when closed and drained, or when `deadline` passed first (closed()
  // tells which). Closing the queue is how an owner stops a waiting consumer.
  boost::asio::awaitable<std::optional<T>> pop(
      clock::time_point deadline = clock::time_point::max()) {
    // push() and close() wake wait() by cancelling the timer; a normal expiry is the deadline.
    // (No co_await in a condition: GCC 12 miscompiles some of those.) An item already queued
    // costs no wait.
    if (items_.empty() && !closed_) {
      const bool ready = co_await wait(deadline);
      if (!ready) co_return std::nullopt;
    }
    co_return try_pop();
  }

 private:
  boost::asio::steady_timer signal_;
  std::deque<T> items_;
  bool closed_ = false;
  bool interrupted_ = false;
  bool waiting_ = false;  // a consumer is in pop(), waiting for the signal
};

}  // namespace mcp_proxy::util
