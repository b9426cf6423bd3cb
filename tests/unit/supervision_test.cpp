// Ping supervision and restart backoff (protocol/supervision.hpp).

#include "protocol/supervision.hpp"

#include <gtest/gtest.h>

namespace mcp_proxy {
namespace {

using protocol::ping_watch;
using verdict = ping_watch::verdict;
using std::chrono::milliseconds;

TEST(ping_watch, answers_change_nothing) {
  ping_watch w(3);
  EXPECT_EQ(w.on_answer(), verdict::none);
  EXPECT_EQ(w.on_answer(), verdict::none);
  EXPECT_EQ(w.misses(), 0u);
}

TEST(ping_watch, the_first_miss_degrades_and_the_next_answer_recovers) {
  ping_watch w(3);
  EXPECT_EQ(w.on_miss(), verdict::degraded);
  EXPECT_EQ(w.misses(), 1u);
  EXPECT_EQ(w.on_miss(), verdict::none);  // still degraded
  EXPECT_EQ(w.on_answer(), verdict::recovered);
  EXPECT_EQ(w.misses(), 0u);
  EXPECT_EQ(w.on_answer(), verdict::none);
}

TEST(ping_watch, misses_in_a_row_up_to_the_bound_mean_a_restart) {
  ping_watch w(3);
  EXPECT_EQ(w.on_miss(), verdict::degraded);
  EXPECT_EQ(w.on_miss(), verdict::none);
  EXPECT_EQ(w.on_miss(), verdict::restart);
  EXPECT_EQ(w.misses(), 0u);  // the restarted backend starts with a clean count
  EXPECT_EQ(w.on_miss(), verdict::degraded);
}

TEST(ping_watch, an_answer_between_misses_starts_the_count_again) {
  ping_watch w(3);
  w.on_miss();
  w.on_miss();
  EXPECT_EQ(w.on_answer(), verdict::recovered);
  EXPECT_EQ(w.on_miss(), verdict::degraded);
  EXPECT_EQ(w.on_miss(), verdict::none);
  EXPECT_EQ(w.on_miss(), verdict::restart);
}

TEST(ping_watch, one_miss_allowed_restarts_at_once) {
  ping_watch w(1);
  EXPECT_EQ(w.on_miss(), verdict::restart);
  ping_watch zero(0);  // read as 1: a bound of none would never restart
  EXPECT_EQ(zero.misses_allowed(), 1u);
  EXPECT_EQ(zero.on_miss(), verdict::restart);
}

TEST(restart_delay, doubles_from_one_second_to_thirty_with_jitter_of_up_to_half) {
  EXPECT_EQ(protocol::restart_delay(0, 0.0), milliseconds(500));
  EXPECT_EQ(protocol::restart_delay(0, 0.5), milliseconds(750));
  EXPECT_EQ(protocol::restart_delay(1, 0.0), milliseconds(1000));
  EXPECT_EQ(protocol::restart_delay(2, 0.0), milliseconds(2000));
  EXPECT_EQ(protocol::restart_delay(4, 0.0), milliseconds(8000));
  EXPECT_EQ(protocol::restart_delay(5, 0.0), milliseconds(15000));  // 32 s capped at 30 s
  EXPECT_EQ(protocol::restart_delay(5, 0.999), milliseconds(29985));
  EXPECT_EQ(protocol::restart_delay(1000, 0.0), milliseconds(15000));  // no overflow
  EXPECT_LE(protocol::restart_delay(1000, 1.0), milliseconds(30000));
}

TEST(restart_delay, a_random_number_out_of_range_is_clamped) {
  EXPECT_EQ(protocol::restart_delay(0, -3.0), milliseconds(500));
  EXPECT_EQ(protocol::restart_delay(0, 7.0), milliseconds(1000));
}

TEST(restart_delay, different_draws_spread_the_wait) {
  // Two backends that failed together, with different draws, wait different times.
  EXPECT_NE(protocol::restart_delay(3, 0.1), protocol::restart_delay(3, 0.9));
  EXPECT_GE(protocol::restart_delay(3, 0.1), milliseconds(4000));
  EXPECT_LE(protocol::restart_delay(3, 0.9), milliseconds(8000));
}

}  // namespace
}  // namespace mcp_proxy
