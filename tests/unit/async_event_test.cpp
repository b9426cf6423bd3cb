#include "util/async_event.hpp"

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

namespace mcp_proxy::util {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

TEST(async_event, notify_wakes_every_waiter_and_a_deadline_ends_a_wait_unnotified) {
  asio::io_context io;
  async_event event(io.get_executor());
  std::vector<bool> woke;
  auto waiter = [&](std::chrono::milliseconds limit) -> asio::awaitable<void> {
    woke.push_back(co_await event.wait(async_event::clock::now() + limit));
  };
  asio::co_spawn(io, waiter(10s), asio::detached);
  asio::co_spawn(io, waiter(10s), asio::detached);
  io.run_for(20ms);  // both are waiting now
  EXPECT_TRUE(woke.empty());
  event.notify_all();
  io.run_for(200ms);
  EXPECT_EQ(woke, (std::vector<bool>{true, true}));
  woke.clear();
  io.restart();  // it ran out of work
  asio::co_spawn(io, waiter(30ms), asio::detached);
  const auto start = async_event::clock::now();
  io.run_for(2s);
  EXPECT_EQ(woke, std::vector<bool>{false});
  EXPECT_LT(async_event::clock::now() - start, 1500ms);
  event.notify_all();  // nobody waits: a later wait is not cut short
}

}  // namespace
}  // namespace mcp_proxy::util
