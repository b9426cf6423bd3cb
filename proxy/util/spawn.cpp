#include "util/spawn.hpp"

#include "util/async_queue.hpp"

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

boost::asio::awaitable<void> run_all(boost::asio::any_io_executor ex,
                                     std::vector<boost::asio::awaitable<void>> tasks,
                                     std::string what) {
  auto done = std::make_shared<async_queue<int>>(ex);
  const std::size_t n = tasks.size();
  for (auto& t : tasks) {
    auto signal_when_done =
        [](boost::asio::awaitable<void> task,
           std::shared_ptr<async_queue<int>> done) -> boost::asio::awaitable<void> {
      struct notify {
        async_queue<int>& q;
        ~notify() { q.push(0); }  // also when the task throws
      } n{*done};
      co_await std::move(task);
    };
    spawn_logged(ex, signal_when_done(std::move(t), done), what);
  }
  for (std::size_t i = 0; i < n; ++i) co_await done->pop();
}

}  // namespace mcp_proxy::util
