#include "util/spawn.hpp"

#include "util/async_queue.hpp"
#include "util/scope_exit.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>

#include <exception>
#include <memory>

namespace mcp_proxy::util {

void spawn_logged(boost::asio::any_io_executor ex, boost::asio::awaitable<void> task,
                  std::string what) {
  boost::asio::co_spawn(ex, std::move(task), [what = std::move(what)](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      spdlog::error("task '{}' ended with an exception: {}", what, ex.what());
    } catch (...) {
      spdlog::error("task '{}' ended with an unknown exception", what);
    }
  });
}

namespace {

// Spawns the tasks; each pushes to `done` when it ends (also by an exception).
std::shared_ptr<async_queue<int>> spawn_counted(boost::asio::any_io_executor ex,
                                                std::vector<boost::asio::awaitable<void>> tasks,
                                                const std::string& what) {
  auto done = std::make_shared<async_queue<int>>(ex);
  for (auto& t : tasks) {
    auto signal_when_done =
        [](boost::asio::awaitable<void> task,
           std::shared_ptr<async_queue<int>> done) -> boost::asio::awaitable<void> {
      scope_exit notify([&q = *done] { q.push(0); });  // also when the task throws
      co_await std::move(task);
    };
    spawn_logged(ex, signal_when_done(std::move(t), done), what);
  }
  return done;
}

}  // namespace

boost::asio::awaitable<void> run_all(boost::asio::any_io_executor ex,
                                     std::vector<boost::asio::awaitable<void>> tasks,
                                     std::string what) {
  const std::size_t n = tasks.size();
  auto done = spawn_counted(ex, std::move(tasks), what);
  for (std::size_t i = 0; i < n; ++i) co_await done->pop();
}

boost::asio::awaitable<void> run_all_until(boost::asio::any_io_executor ex,
                                           std::vector<boost::asio::awaitable<void>> tasks,
                                           std::chrono::steady_clock::time_point deadline,
                                           std::string what) {
  const std::size_t n = tasks.size();
  auto done = spawn_counted(ex, std::move(tasks), what);
  for (std::size_t i = 0; i < n; ++i)
    if (!co_await done->pop(deadline)) break;
}

}  // namespace mcp_proxy::util
