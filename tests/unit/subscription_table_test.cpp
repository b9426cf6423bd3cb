#include "protocol/subscription_table.hpp"

#include <gtest/gtest.h>

namespace mcp_proxy::protocol {
namespace {

using forward = subscription_table::forward;

TEST(subscription_table, only_the_first_subscribe_and_the_last_unsubscribe_reach_the_backend) {
  subscription_table t;
  EXPECT_EQ(t.subscribe(1, "file:///a"), forward::subscribe);
  EXPECT_EQ(t.subscribe(2, "file:///a"), forward::none);
  EXPECT_EQ(t.subscribe(1, "file:///a"), forward::none);  // again: still one subscriber
  EXPECT_EQ(t.unsubscribe(1, "file:///a"), forward::none);
  EXPECT_TRUE(t.subscribed(2, "file:///a"));
  EXPECT_FALSE(t.subscribed(1, "file:///a"));
  EXPECT_EQ(t.unsubscribe(2, "file:///a"), forward::unsubscribe);
  EXPECT_TRUE(t.empty());
}

TEST(subscription_table, unsubscribing_what_nobody_subscribed_sends_nothing) {
  subscription_table t;
  EXPECT_EQ(t.unsubscribe(1, "file:///a"), forward::none);
  EXPECT_EQ(t.subscribe(2, "file:///a"), forward::subscribe);
  EXPECT_EQ(t.unsubscribe(1, "file:///a"), forward::none);  // 1 never was: 2 still is
  EXPECT_TRUE(t.subscribed(2, "file:///a"));
}

TEST(subscription_table, a_refused_subscribe_is_undone) {
  subscription_table t;
  EXPECT_EQ(t.subscribe(1, "file:///a"), forward::subscribe);
  t.undo_subscribe(1, "file:///a");
  EXPECT_FALSE(t.subscribed(1, "file:///a"));
  EXPECT_EQ(t.subscribe(2, "file:///a"), forward::subscribe);  // the backend is asked again
}

TEST(subscription_table, a_client_that_leaves_unsubscribes_only_where_it_was_the_last) {
  subscription_table t;
  t.subscribe(1, "file:///a");
  t.subscribe(1, "file:///b");
  t.subscribe(2, "file:///b");
  EXPECT_EQ(t.drop_client(1), (std::vector<std::string>{"file:///a"}));
  EXPECT_TRUE(t.subscribed(2, "file:///b"));
  EXPECT_EQ(t.drop_client(1), std::vector<std::string>{});
}

TEST(subscription_table, after_a_backend_restart_every_uri_is_subscribed_again_once) {
  subscription_table t;
  t.subscribe(1, "file:///a");
  t.subscribe(2, "file:///a");
  t.subscribe(2, "file:///b");
  EXPECT_EQ(t.uris(), (std::vector<std::string>{"file:///a", "file:///b"}));
}

}  // namespace
}  // namespace mcp_proxy::protocol
