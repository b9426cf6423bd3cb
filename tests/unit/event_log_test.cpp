#include "protocol/event_log.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace mcp_proxy::protocol {
namespace {

TEST(event_log, ids_name_the_stream_and_replay_only_its_events) {
  event_log log;
  const auto a = log.open_stream();
  const auto b = log.open_stream();
  EXPECT_EQ(log.next_id(a), std::to_string(a) + "-1");
  log.record(a, "a1");
  log.record(b, "b1");
  log.record(a, "a2");
  log.record(a, "a3");
  auto r = log.after(std::to_string(a) + "-1");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->stream, a);
  ASSERT_EQ(r->events.size(), 2u);
  EXPECT_EQ(r->events[0], std::make_pair(std::to_string(a) + "-2", std::string("a2")));
  EXPECT_EQ(r->events[1].second, "a3");
  auto primed = log.after(std::to_string(b) + "-0");  // the priming event: everything after it
  ASSERT_TRUE(primed);
  ASSERT_EQ(primed->events.size(), 1u);
  EXPECT_EQ(primed->events[0].second, "b1");
  auto all_seen = log.after(std::to_string(a) + "-3");
  ASSERT_TRUE(all_seen);
  EXPECT_TRUE(all_seen->events.empty());
}

TEST(event_log, unknown_future_and_malformed_ids_replay_nothing) {
  event_log log;
  const auto a = log.open_stream();
  log.record(a, "x");
  for (const std::string& id :
       std::vector<std::string>{"", "7", "-1", "1-", "x-1", "99-0", std::to_string(a) + "-5",
                                std::to_string(a) + "-1-2", "18446744073709551616-0"})
    EXPECT_FALSE(log.after(id)) << id;
}

TEST(event_log, bounded_per_stream_and_in_streams) {
  event_log log(2, 2);
  const auto a = log.open_stream();
  for (int i = 0; i < 5; ++i) log.record(a, "e" + std::to_string(i));
  EXPECT_FALSE(log.after(std::to_string(a) + "-1")) << "events 2 and 3 are gone: a hole";
  auto r = log.after(std::to_string(a) + "-3");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->events.size(), 2u);
  EXPECT_EQ(r->events[0].second, "e3");
  log.open_stream();
  log.open_stream();
  EXPECT_FALSE(log.knows(a)) << "the oldest stream is forgotten";
  EXPECT_FALSE(log.after(std::to_string(a) + "-5"));
}

TEST(event_log, bounded_in_bytes_oldest_streams_first) {
  event_log log(256, 16, 10);
  const auto a = log.open_stream();
  log.record(a, "aaaa");  // a-1
  log.record(a, "bbbb");  // a-2
  const auto b = log.open_stream();
  log.record(b, "cccc");  // 12 bytes in all: a-1 goes
  EXPECT_EQ(log.kept_bytes(), 8u);
  EXPECT_FALSE(log.after(std::to_string(a) + "-0")) << "a-1 is gone: a hole";
  auto r = log.after(std::to_string(a) + "-1");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->events.size(), 1u);
  EXPECT_EQ(r->events[0].second, "bbbb");
  log.record(b, std::string(20, 'x'));  // larger than the bound: everything goes, itself too
  EXPECT_EQ(log.kept_bytes(), 0u);
  EXPECT_FALSE(log.after(std::to_string(b) + "-1"));
  log.record(b, "dd");  // kept again once it fits
  EXPECT_EQ(log.kept_bytes(), 2u);
  r = log.after(std::to_string(b) + "-2");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->events.size(), 1u);
  log.open_stream();  // forgetting streams forgets their bytes
  for (int i = 0; i < 16; ++i) log.open_stream();
  EXPECT_EQ(log.kept_bytes(), 0u);
}

}  // namespace
}  // namespace mcp_proxy::protocol
