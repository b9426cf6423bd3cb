#include "backend/event_backlog.hpp"

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

namespace mcp_proxy::backend {
namespace {

namespace asio = boost::asio;
using jsonrpc::message;

message progress(std::string_view token, int step) {
  return message::notification("notifications/progress",
                               {{"progressToken", token}, {"progress", step}});
}

message log_line(int n) {
  return message::notification("notifications/message", {{"level", "info"}, {"data", n}});
}

// Everything queued, popped in order (the queue is closed first, so no pop waits).
std::vector<message> drain(asio::io_context& io, event_backlog& q) {
  std::vector<message> out;
  q.close();
  auto reader = [&]() -> asio::awaitable<void> {
    for (;;) {
      auto m = co_await q.pop();
      if (!m) break;
      out.push_back(std::move(*m));
    }
  };
  asio::co_spawn(io, reader(), asio::detached);
  io.run();
  io.restart();
  return out;
}

TEST(event_backlog, under_the_soft_bound_every_event_is_kept_in_order) {
  asio::io_context io;
  event_backlog q(io.get_executor(), {10, 1 << 20});
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(q.push(progress("t", i)));
  auto out = drain(io, q);
  ASSERT_EQ(out.size(), 10u);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(out[i].params_object()->at("progress"), i);
  EXPECT_EQ(q.coalesced(), 0u);
  EXPECT_EQ(q.bytes(), 0u);
}

TEST(event_backlog, past_the_soft_bound_progress_of_one_token_is_merged_into_the_newest) {
  asio::io_context io;
  event_backlog q(io.get_executor(), {4, 1 << 20});
  for (int i = 0; i < 4; ++i) q.push(log_line(i));
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(q.push(progress("t", i)));
  EXPECT_EQ(q.size(), 5u);  // the logs and one progress, the newest
  EXPECT_EQ(q.coalesced(), 999u);
  q.push(progress("other", 1));  // another token is not merged into it
  q.push(progress("t", 1000));   // nor into one with another token before it
  EXPECT_EQ(q.size(), 7u);
  auto out = drain(io, q);
  ASSERT_EQ(out.size(), 7u);
  EXPECT_EQ(out[4].params_object()->at("progress"), 999);
  EXPECT_EQ(out[5].params_object()->at("progressToken"), "other");
  EXPECT_EQ(out[6].params_object()->at("progress"), 1000);
}

TEST(event_backlog, past_the_hard_bound_everything_goes_but_the_answer_and_the_owner_is_told) {
  asio::io_context io;
  event_backlog q(io.get_executor(), {4, 1 << 20});
  q.answer_id = 7;
  int told = 0;
  q.on_overflow = [&] { ++told; };
  for (int i = 0; i < 16; ++i) EXPECT_TRUE(q.push(log_line(i)));  // 4x the soft bound
  EXPECT_FALSE(q.push(log_line(16)));
  EXPECT_TRUE(q.overflowed());
  EXPECT_TRUE(q.closed());
  EXPECT_FALSE(q.push(log_line(17)));
  EXPECT_EQ(told, 0);  // posted, never run inside push
  auto out = drain(io, q);
  EXPECT_EQ(told, 1);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(*out[0].id(), 7);
  ASSERT_NE(out[0].error(), nullptr);
  EXPECT_EQ(out[0].error()->at("code"), -32603);
  EXPECT_EQ(q.bytes(), 0u);
}

TEST(event_backlog, bytes_are_bounded_as_well_as_events) {
  asio::io_context io;
  event_backlog q(io.get_executor(), {1000, 10'000});
  auto big = [](int n) {
    auto m = log_line(n);
    m.set_size_hint(6'000);
    return m;
  };
  EXPECT_TRUE(q.push(big(0)));
  EXPECT_EQ(q.bytes(), 6'000u);
  for (int i = 1; i < 6; ++i) EXPECT_TRUE(q.push(big(i)));  // 36 000 bytes, under 4x 10 000
  EXPECT_FALSE(q.push(big(6)));                             // 42 000: over
  EXPECT_TRUE(q.overflowed());
  EXPECT_TRUE(drain(io, q).empty());  // no answer was set
}

TEST(event_backlog, popping_gives_the_bytes_back) {
  asio::io_context io;
  event_backlog q(io.get_executor(), {1000, 1 << 20});
  auto m = log_line(1);
  m.set_size_hint(1000);
  q.push(std::move(m));
  q.push(log_line(2));  // counted as 64
  EXPECT_EQ(q.bytes(), 1064u);
  std::optional<message> first;
  auto reader = [&]() -> asio::awaitable<void> { first = co_await q.pop(); };
  asio::co_spawn(io, reader(), asio::detached);
  io.run();
  ASSERT_TRUE(first);
  EXPECT_EQ(q.bytes(), 64u);
}

}  // namespace
}  // namespace mcp_proxy::backend
