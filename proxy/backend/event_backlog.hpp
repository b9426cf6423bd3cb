#pragma once
// The messages on their way to one client: the events of one call (its progress, related
// requests and notifications, its response) and a legacy SSE session's stream. A client that
// reads slower than its backend writes, or not at all, makes them pile up here; they are bounded
// (issue #15):
// - past the soft bound (events or bytes), a progress notification that follows a progress
//   notification of the same token still waiting replaces it (the newest progress is what a
//   client shows);
// - past the hard bound (4x the soft one), everything waiting is dropped and its memory freed,
//   an error response to answer_id (if set: the call's request id) is queued in its place, the
//   queue closes, and on_overflow runs once (posted, never inside push): the owner cancels the call
//   at the backend, or ends the stream.
// Bytes are counted from each message's size_hint (its size as received), at least 64 each.
// Thread-safety and cancellation: those of util::async_queue (one executor; deadline or close).

#include "jsonrpc/message.hpp"
#include "util/async_queue.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace mcp_proxy::backend {

struct backlog_limits {
  std::size_t events = 1000;     // soft bound; the hard bound is 4x
  std::size_t bytes = 8u << 20;  // soft bound; the hard bound is 4x
};

class event_backlog {
 public:
  using clock = util::async_queue<jsonrpc::message>::clock;

  explicit event_backlog(boost::asio::any_io_executor ex, backlog_limits limits = {});

  // Queues `m` under the bounds above. False when it went over the hard bound (or the queue was
  // closed): nothing was queued.
  bool push(jsonrpc::message m);
  void push_front(jsonrpc::message m);
  void close() { queue_.close(); }
  void interrupt() { queue_.interrupt(); }
  bool closed() const { return queue_.closed(); }
  bool empty() const { return queue_.empty(); }
  std::size_t size() const { return queue_.size(); }
  std::size_t bytes() const { return bytes_; }
  // Progress notifications merged into a newer one so far.
  std::size_t coalesced() const { return coalesced_; }
  bool overflowed() const { return overflowed_; }

  boost::asio::awaitable<bool> wait(clock::time_point deadline) { return queue_.wait(deadline); }
  boost::asio::awaitable<std::optional<jsonrpc::message>> pop(
      clock::time_point deadline = clock::time_point::max());

  // Names the queue in the log line written when it first coalesces ("backend fs: call 12"):
  // the backend's name (owned by whoever pushes, alive while it does) and the call's id there.
  // Kept as parts, not a string: a call costs no allocation for a line that is rarely written.
  std::string_view backend_name;
  std::int64_t call_id = 0;
  // The id of the call's request: past the hard bound the consumer gets, last, an error
  // response (-32603) to it, made then (most calls never need it).
  std::optional<boost::json::value> answer_id;
  // Runs (posted on the executor) when the hard bound is passed.
  std::function<void()> on_overflow;

 private:
  static std::size_t weight(const jsonrpc::message& m);

  boost::asio::any_io_executor ex_;
  util::async_queue<jsonrpc::message> queue_;
  backlog_limits limits_;
  std::size_t bytes_ = 0;
  std::size_t coalesced_ = 0;
  bool overflowed_ = false;
};

}  // namespace mcp_proxy::backend
