#include "protocol/call_answer.hpp"

#include <gtest/gtest.h>

namespace mcp_proxy::protocol {
namespace {

using step = call_answer::step;

TEST(call_answer, a_response_that_comes_first_is_answered_as_json) {
  call_answer a;
  EXPECT_EQ(a.on_event(true), step::reply_json);
  EXPECT_TRUE(a.done());
  EXPECT_FALSE(a.streaming());
}

TEST(call_answer, anything_before_the_response_opens_a_stream_the_response_ends) {
  call_answer a;
  EXPECT_EQ(a.on_event(false), step::open_and_write);  // progress first
  EXPECT_TRUE(a.streaming());
  EXPECT_EQ(a.on_event(false), step::write);
  EXPECT_FALSE(a.done());
  EXPECT_EQ(a.on_event(true), step::write_and_end);
  EXPECT_TRUE(a.done());
}

TEST(call_answer, a_cancelled_call_owes_no_response_and_its_stream_ends) {
  call_answer before;
  EXPECT_EQ(before.on_cancelled(), step::open_and_end);  // an empty stream, not a JSON body
  EXPECT_TRUE(before.done());
  call_answer during;
  during.on_event(false);
  EXPECT_EQ(during.on_cancelled(), step::end);
  EXPECT_TRUE(during.done());
}

TEST(call_answer, at_the_close_time_a_running_call_gets_a_primed_stream_that_ends) {
  call_answer quiet;
  EXPECT_EQ(quiet.on_close_time(), step::open_and_end);
  EXPECT_TRUE(quiet.streaming());
  call_answer talking;
  talking.on_event(false);
  EXPECT_EQ(talking.on_close_time(), step::end);
}

}  // namespace
}  // namespace mcp_proxy::protocol
