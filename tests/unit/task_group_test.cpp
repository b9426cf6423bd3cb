#include "util/task_group.hpp"

#include <gtest/gtest.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace mcp_proxy::util {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

// Sleeps `d`; counts how it ended.
asio::awaitable<void> sleeper(std::chrono::milliseconds d, int& finished) {
  asio::steady_timer t(co_await asio::this_coro::executor, d);
  co_await t.async_wait(asio::use_awaitable);  // throws when cancelled
  ++finished;
}

TEST(task_group, wait_returns_when_every_task_has_ended) {
  asio::io_context io;
  task_group g(io.get_executor());
  int finished = 0;
  g.spawn(sleeper(10ms, finished), "short");
  g.spawn(sleeper(30ms, finished), "longer");
  EXPECT_EQ(g.size(), 2u);
  bool all = false;
  asio::co_spawn(
      io, [&]() -> asio::awaitable<void> { all = co_await g.wait(async_event::clock::now() + 5s); },
      asio::detached);
  io.run_for(3s);
  EXPECT_TRUE(all);
  EXPECT_EQ(finished, 2);
  EXPECT_EQ(g.size(), 0u);
}

TEST(task_group, cancel_ends_tasks_that_would_run_for_hours_and_later_spawns_at_once) {
  asio::io_context io;
  task_group g(io.get_executor());
  int finished = 0;
  g.spawn(sleeper(std::chrono::hours(2), finished), "long");
  g.spawn(sleeper(std::chrono::hours(3), finished), "longer");
  io.run_for(20ms);
  bool all = false;
  const auto start = async_event::clock::now();
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        g.cancel();
        g.spawn(sleeper(std::chrono::hours(1), finished), "late");  // during shutdown
        all = co_await g.wait(async_event::clock::now() + 5s);
      },
      asio::detached);
  io.run_for(3s);
  EXPECT_TRUE(all);
  EXPECT_EQ(finished, 0);  // none ran to its end
  EXPECT_LT(async_event::clock::now() - start, 2s);
}

TEST(task_group, wait_gives_up_at_its_deadline) {
  asio::io_context io;
  task_group g(io.get_executor());
  int finished = 0;
  g.spawn(sleeper(std::chrono::hours(1), finished), "long");
  bool all = true;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        all = co_await g.wait(async_event::clock::now() + 50ms);
        g.cancel();  // let the io_context run out of work
      },
      asio::detached);
  io.run_for(3s);
  EXPECT_FALSE(all);
}

}  // namespace
}  // namespace mcp_proxy::util
