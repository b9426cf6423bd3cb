#include "util/task_group.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/system/system_error.hpp>

#include <exception>

namespace mcp_proxy::util {

namespace asio = boost::asio;

void task_group::spawn(asio::awaitable<void> task, std::string what) {
  auto it = running_.emplace(running_.end());
  // A task spawned after cancel() (a shutdown still running) is cancelled as it starts.
  auto done = [this, it, what = std::move(what)](std::exception_ptr e) {
    // co_spawn calls this from inside the task's last frame, whose cancellation state still
    // refers to the signal: the entry goes once that frame is gone.
    asio::post(ex_, [this, it] {
      running_.erase(it);
      ended_.notify_all();
    });
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const boost::system::system_error& ex) {
      if (cancelled_ && ex.code() == asio::error::operation_aborted) {
        spdlog::debug("task '{}' cancelled at shutdown", what);
        return;
      }
      spdlog::error("task '{}' ended with an exception: {}", what, ex.what());
    } catch (const std::exception& ex) {
      spdlog::error("task '{}' ended with an exception: {}", what, ex.what());
    } catch (...) {
      spdlog::error("task '{}' ended with an unknown exception", what);
    }
  };
  asio::co_spawn(ex_, std::move(task), asio::bind_cancellation_slot(it->slot(), std::move(done)));
  if (cancelled_) it->emit(asio::cancellation_type::terminal);
}

void task_group::cancel() {
  cancelled_ = true;
  // Emitting may end a task at once, which erases its entry: step past it first.
  for (auto it = running_.begin(); it != running_.end();) {
    auto current = it++;
    current->emit(asio::cancellation_type::terminal);
  }
}

asio::awaitable<bool> task_group::wait(async_event::clock::time_point deadline) {
  while (!running_.empty()) {
    const bool woke = co_await ended_.wait(deadline);
    if (!woke && !running_.empty()) co_return false;
  }
  co_return true;
}

}  // namespace mcp_proxy::util
