#include "http/connection_limits.hpp"

#include <gtest/gtest.h>

namespace mcp_proxy::http {
namespace {

using bound = connection_limits::bound;

TEST(connection_limits, admits_within_the_bounds) {
  connection_limits l(4, 2);
  EXPECT_TRUE(l.on_accept(1, "a").admitted);
  EXPECT_TRUE(l.on_accept(2, "b").admitted);
  auto d = l.on_accept(3, "a");
  EXPECT_TRUE(d.admitted);
  EXPECT_FALSE(d.evicted);
  EXPECT_EQ(d.reached, bound::none);
  EXPECT_EQ(l.size(), 3u);
  EXPECT_EQ(l.of_peer("a"), 2u);
}

// Issue #15: one client filling the cap with connections that drip header bytes locked out
// everyone. Now a new client takes the place of the busiest peer's longest-waiting connection.
TEST(connection_limits, at_the_total_bound_the_busiest_peers_oldest_waiting_one_goes) {
  connection_limits l(4, 4);
  for (connection_limits::id c = 1; c <= 3; ++c) l.on_accept(c, "flood");
  l.on_accept(4, "calm");
  auto d = l.on_accept(5, "newcomer");
  EXPECT_TRUE(d.admitted);
  EXPECT_EQ(d.reached, bound::total);
  EXPECT_EQ(d.evicted, 1u);
  EXPECT_EQ(d.evicted_peer, "flood");
  EXPECT_EQ(l.size(), 4u);
  EXPECT_EQ(l.of_peer("flood"), 2u);
  l.on_closed(1);  // the evicted connection's task ends later: nothing changes
  EXPECT_EQ(l.size(), 4u);
}

TEST(connection_limits, busy_connections_are_never_taken) {
  connection_limits l(3, 3);
  l.on_accept(1, "a");
  l.on_accept(2, "a");
  l.on_accept(3, "b");
  l.on_busy(1);
  l.on_busy(2);
  // "a" has more connections but none waiting: "b"'s waiting one goes.
  auto d = l.on_accept(4, "c");
  EXPECT_TRUE(d.admitted);
  EXPECT_EQ(d.evicted, 3u);
  l.on_busy(4);
  // Nothing waiting anywhere: refused.
  auto refused = l.on_accept(5, "d");
  EXPECT_FALSE(refused.admitted);
  EXPECT_FALSE(refused.evicted);
  EXPECT_EQ(refused.reached, bound::total);
  EXPECT_EQ(l.size(), 3u);
}

TEST(connection_limits, the_per_peer_bound_takes_from_that_peer_only) {
  connection_limits l(100, 2);
  l.on_accept(1, "other");
  l.on_accept(2, "p");
  l.on_accept(3, "p");
  auto d = l.on_accept(4, "p");
  EXPECT_TRUE(d.admitted);
  EXPECT_EQ(d.reached, bound::per_peer);
  EXPECT_EQ(d.evicted, 2u);
  EXPECT_EQ(l.of_peer("p"), 2u);
  l.on_busy(3);
  l.on_busy(4);
  auto refused = l.on_accept(5, "p");
  EXPECT_FALSE(refused.admitted);
  EXPECT_EQ(refused.reached, bound::per_peer);
  EXPECT_TRUE(l.on_accept(6, "other").admitted);  // others are not affected
}

TEST(connection_limits, a_connection_waiting_again_goes_to_the_back_of_its_peers_queue) {
  connection_limits l(10, 3);
  l.on_accept(1, "a");
  l.on_accept(2, "a");
  l.on_accept(3, "a");
  l.on_busy(1);
  l.on_waiting(1);  // answered, idle again: now the newest waiting
  EXPECT_EQ(l.on_accept(4, "a").evicted, 2u);
  EXPECT_EQ(l.on_accept(5, "a").evicted, 3u);
  EXPECT_EQ(l.on_accept(6, "a").evicted, 1u);
}

TEST(connection_limits, closing_frees_room_and_forgets_empty_peers) {
  connection_limits l(2, 2);
  l.on_accept(1, "a");
  l.on_accept(2, "b");
  l.on_busy(1);
  l.on_closed(1);
  l.on_closed(2);
  EXPECT_EQ(l.size(), 0u);
  EXPECT_EQ(l.of_peer("a"), 0u);
  auto d = l.on_accept(3, "c");
  EXPECT_TRUE(d.admitted);
  EXPECT_FALSE(d.evicted);
}

TEST(connection_limits, descriptors_running_out_take_a_waiting_connection) {
  connection_limits l(10, 10);
  EXPECT_FALSE(l.evict_for_descriptors());
  l.on_accept(1, "a");
  l.on_accept(2, "b");
  l.on_accept(3, "b");
  EXPECT_EQ(l.evict_for_descriptors(), 2u);
  EXPECT_FALSE(l.is_waiting(2));
  EXPECT_EQ(l.size(), 2u);
}

// The flood in numbers: 4200 dripping connections of one peer, then a new peer and the
// flooding peer itself (a /health probe shares the address on loopback) still get in.
TEST(connection_limits, a_flood_cannot_lock_anyone_out) {
  connection_limits l(4096, 1024);
  connection_limits::id next = 1;
  std::size_t evicted = 0;
  for (int i = 0; i < 4200; ++i) {
    auto d = l.on_accept(next++, "127.0.0.1");
    ASSERT_TRUE(d.admitted);
    evicted += d.evicted ? 1 : 0;
  }
  EXPECT_EQ(l.of_peer("127.0.0.1"), 1024u);
  EXPECT_EQ(evicted, 4200u - 1024u);
  EXPECT_TRUE(l.on_accept(next++, "10.0.0.2").admitted);
  auto probe = l.on_accept(next++, "127.0.0.1");
  EXPECT_TRUE(probe.admitted);
  EXPECT_TRUE(probe.evicted);
}

}  // namespace
}  // namespace mcp_proxy::http
