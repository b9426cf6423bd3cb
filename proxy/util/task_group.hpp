#pragma once
// The coroutines one owner (an endpoint, the listener and its connections) runs in the
// background, so that its shutdown can cancel them and wait for them to end before the owner is
// destroyed: no task outlives the object it refers to (as the task group of Beast's
// advanced_server_flex_awaitable example does).
// Thread-safety: one executor. Cancellation: cancel() emits a terminal cancellation to every
// task: its pending operation ends with operation_aborted, and its next co_await throws; that end
// is not logged as an error.

#include "util/async_event.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_signal.hpp>

#include <list>
#include <string>

namespace mcp_proxy::util {

class task_group {
 public:
  explicit task_group(boost::asio::any_io_executor ex) : ex_(ex), ended_(ex) {}
  task_group(const task_group&) = delete;
  task_group& operator=(const task_group&) = delete;

  // Starts `task`; how it ended is logged when it threw (named `what`).
  void spawn(boost::asio::awaitable<void> task, std::string what);
  // Every task still running is asked to stop.
  void cancel();
  // Until every task has ended (true), or `deadline` (false).
  boost::asio::awaitable<bool> wait(async_event::clock::time_point deadline);
  std::size_t size() const { return running_.size(); }

 private:
  boost::asio::any_io_executor ex_;
  std::list<boost::asio::cancellation_signal> running_;
  async_event ended_;
  bool cancelled_ = false;
};

}  // namespace mcp_proxy::util
