#include "protocol/log_level_mux.hpp"

#include <gtest/gtest.h>

namespace mcp_proxy::protocol {
namespace {

constexpr int debug = 0, info = 1, warning = 3, error = 4;

TEST(log_level_mux, the_backend_gets_the_most_verbose_level_any_client_asked_for) {
  log_level_mux m;
  EXPECT_EQ(m.set(1, warning), warning);
  EXPECT_EQ(m.set(2, error), std::nullopt);  // warning serves error too: answered locally
  EXPECT_EQ(m.set(2, debug), debug);
  EXPECT_EQ(m.backend_rank(), debug);
  EXPECT_EQ(m.set(1, info), std::nullopt);
}

TEST(log_level_mux, each_client_gets_only_what_its_own_level_admits) {
  log_level_mux m;
  m.set(1, warning);
  m.set(2, debug);
  EXPECT_FALSE(m.admits(1, info));
  EXPECT_TRUE(m.admits(1, error));
  EXPECT_TRUE(m.admits(2, debug));
  EXPECT_TRUE(m.admits(3, debug));  // set no level: gets what the backend sends
  EXPECT_TRUE(m.admits(1, -1));     // an unknown level is not held back
}

TEST(log_level_mux, when_the_most_verbose_client_leaves_the_backend_needs_less) {
  log_level_mux m;
  m.set(1, warning);
  m.set(2, debug);
  EXPECT_EQ(m.drop_client(2), warning);
  EXPECT_EQ(m.drop_client(2), std::nullopt);  // gone already
  EXPECT_EQ(m.drop_client(1), std::nullopt);  // nobody asks: the backend keeps its level
  EXPECT_EQ(m.backend_rank(), warning);
}

TEST(log_level_mux, a_restarted_backend_is_set_again) {
  log_level_mux m;
  EXPECT_EQ(m.backend_restarted(), std::nullopt);  // nobody asked: nothing to send
  m.set(1, info);
  EXPECT_EQ(m.backend_restarted(), info);
  EXPECT_EQ(m.set(1, info), std::nullopt);
}

}  // namespace
}  // namespace mcp_proxy::protocol
