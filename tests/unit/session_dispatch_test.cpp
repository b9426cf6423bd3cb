#include "frontend/session_dispatch.hpp"

#include <gtest/gtest.h>

namespace mcp_proxy::frontend {
namespace {

jsonrpc::payload batch_of(std::string_view text) {
  return *jsonrpc::parse_payload(text);
}

TEST(batch_refusal, batches_exist_only_up_to_2025_03_26) {
  auto b = batch_of(R"([{"jsonrpc":"2.0","id":1,"method":"ping"}])");
  EXPECT_EQ(batch_refusal(b, "2024-11-05"), std::nullopt);
  EXPECT_EQ(batch_refusal(b, "2025-03-26"), std::nullopt);
  auto later = batch_refusal(b, "2025-06-18");
  ASSERT_TRUE(later);
  EXPECT_NE(later->find("2025-06-18"), std::string::npos);
  EXPECT_TRUE(batch_refusal(b, "2025-11-25"));
}

TEST(batch_refusal, initialize_never_rides_in_a_batch) {
  auto b = batch_of(R"([{"jsonrpc":"2.0","id":1,"method":"ping"},)"
                    R"({"jsonrpc":"2.0","id":2,"method":"initialize","params":{}}])");
  auto why = batch_refusal(b, "2025-03-26");
  ASSERT_TRUE(why);
  EXPECT_NE(why->find("initialize"), std::string::npos);
}

}  // namespace
}  // namespace mcp_proxy::frontend
