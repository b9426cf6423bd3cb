// Passing a long answer on as it arrives (issue #18, item 5c): the head a proxy reads before the
// result (scan_response_head), the check of the rest as it comes (streamed_check), the event
// stream decoder handing one long event on in pieces, and the streamed message itself.
#include "jsonrpc/message.hpp"
#include "jsonrpc/top_level_scan.hpp"
#include "protocol/sse.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace mcp_proxy {
namespace {

namespace json = boost::json;
using jsonrpc::scan_response_head;
using jsonrpc::streamed_check;

TEST(scan_response_head, reads_the_id_and_where_the_result_starts) {
  const std::string text = R"({"jsonrpc":"2.0","id":42,"result":{"content":[)";
  auto head = scan_response_head(text);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->id, json::value(42));
  EXPECT_EQ(text.substr(head->id_at, head->id_size), "42");
  EXPECT_EQ(text.substr(head->result_at), R"({"content":[)");
}

TEST(scan_response_head, either_order_whitespace_and_string_ids) {
  const std::string text = " { \"id\" : \"a\\\"b\" ,\n \"jsonrpc\":\"2.0\", \"result\" :  [1";
  auto head = scan_response_head(text);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->id, json::value("a\"b"));
  EXPECT_EQ(text.substr(head->id_at, head->id_size), R"("a\"b")");
  EXPECT_EQ(text.substr(head->result_at), "  [1");
}

TEST(scan_response_head, refuses_anything_but_a_response_head) {
  for (std::string_view text : {
           R"({"result":{},"jsonrpc":"2.0","id":1})",             // result first: id unknown
           R"({"jsonrpc":"2.0","result":{})",                     // no id
           R"({"id":1,"result":{})",                              // no jsonrpc
           R"({"jsonrpc":"1.0","id":1,"result":{})",              // not 2.0
           R"({"jsonrpc":"2.0","id":1,"error":{})",               // an error, not a result
           R"({"jsonrpc":"2.0","id":1,"method":"x","result":1)",  // another member first
           R"({"jsonrpc":"2.0","id":1,"id":2,"result":1)",        // the id twice
           R"({"jsonrpc":"2.0","id":null,"result":1)",            // no usable id
           R"({"jsonrpc":"2.0","id":{"a":1},"result":1)",
           R"({"jsonrpc":"2.0","id":12)",  // the id may still be growing
           R"({"jsonrpc":"2.0","id":1,"res)",
           R"([{"jsonrpc":"2.0","id":1,"result":1}])",
           "",
       })
    EXPECT_FALSE(scan_response_head(text)) << text;
}

bool checks(std::vector<std::string_view> parts) {
  streamed_check check;
  for (auto part : parts)
    if (!check.feed(part)) return false;
  return check.finish();
}

TEST(streamed_check, a_whole_response_in_any_split_passes) {
  const std::string text =
      R"({"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"a\"b"}],"n":1.5}})";
  for (std::size_t cut = 0; cut <= text.size(); ++cut)
    EXPECT_TRUE(checks({std::string_view(text).substr(0, cut), std::string_view(text).substr(cut)}))
        << cut;
  EXPECT_TRUE(checks({text, "  \n"}));  // whitespace after the object
}

TEST(streamed_check, an_unfinished_or_invalid_response_fails) {
  EXPECT_FALSE(checks({R"({"jsonrpc":"2.0","id":1,"result":{"a":)"}));  // cut
  EXPECT_FALSE(checks({R"({"jsonrpc":"2.0","id":1,"result":{"a":tru}})"}));
  EXPECT_FALSE(checks({R"({"jsonrpc":"2.0","id":1,"result":1})", "x"}));  // text after it
  EXPECT_FALSE(checks({R"({"jsonrpc":"2.0","id":1,"result":1e400})"}));   // not finite
}

TEST(streamed_check, no_member_of_the_response_may_come_again_after_its_result) {
  for (std::string_view key : {"jsonrpc", "id", "result", "error", "method"}) {
    const std::string text =
        R"({"jsonrpc":"2.0","id":1,"result":{"id":2,"error":3},")" + std::string(key) + R"(":1})";
    EXPECT_FALSE(checks({text})) << key;
  }
  // The same keys inside the result, and other members after it, are the result's business.
  EXPECT_TRUE(checks({R"({"jsonrpc":"2.0","id":1,"result":{"id":2,"error":3},"_x":1})"}));
}

TEST(streamed_check, nesting_deeper_than_the_bound_fails) {
  std::string deep = R"({"jsonrpc":"2.0","id":1,"result":)";
  for (std::size_t i = 0; i < jsonrpc::max_json_depth() + 1; ++i) deep += '[';
  EXPECT_FALSE(checks({deep}));
}

struct streamed_rest_stub final : jsonrpc::streamed_rest {};

TEST(streamed_message, keeps_its_head_and_takes_a_new_id) {
  const std::string head = R"({"jsonrpc":"2.0","id":7,"result":{"text":"xx)";
  auto rest = std::make_shared<streamed_rest_stub>();
  auto m = jsonrpc::message::streamed(head, 22, 1, 7, rest);
  EXPECT_TRUE(m.is_response());
  EXPECT_EQ(m.rest(), rest);
  EXPECT_EQ(m.kept_text(), nullptr);  // not all of it: never written as if whole
  EXPECT_FALSE(jsonrpc::pieces_of(m));
  EXPECT_EQ(m.error(), nullptr);
  m.set_id("client-1");
  auto pieces = jsonrpc::streamed_pieces(m);
  ASSERT_TRUE(pieces);
  EXPECT_EQ(std::string(pieces->before) + pieces->id + std::string(pieces->after),
            R"({"jsonrpc":"2.0","id":"client-1","result":{"text":"xx)");
  EXPECT_FALSE(jsonrpc::streamed_pieces(jsonrpc::message::response(1, 2)));
}

// Feeds `stream` to a decoder passing events of `threshold` bytes or more on; what it did.
struct streaming_run {
  std::vector<std::string> starts;  // the data each start saw
  std::string passed;               // what went on as pieces
  int ends = 0;
  std::vector<protocol::sse_event> whole;  // events dispatched whole
  bool failed = false;
};

streaming_run decode(const std::vector<std::string_view>& feeds, std::size_t threshold,
                     bool take = true, std::size_t max_line = 1 << 20) {
  streaming_run run;
  protocol::sse_decoder d(max_line);
  d.stream_long_events({threshold,
                        [&](std::string_view data) {
                          run.starts.emplace_back(data);
                          return take;
                        },
                        [&](std::string_view piece) { run.passed.append(piece); },
                        [&] { ++run.ends; }});
  for (auto f : feeds) {
    auto events = d.feed(f);
    if (!events) {
      run.failed = true;
      break;
    }
    for (auto& e : *events) run.whole.push_back(std::move(e));
  }
  return run;
}

TEST(sse_event_streaming, a_long_data_line_is_passed_on_in_pieces_and_ended) {
  auto run = decode({"id: 5\ndata: 0123456789", "abcdef", "ghi\n\n", "data: next\n\n"}, 8);
  ASSERT_EQ(run.starts.size(), 1u);
  EXPECT_EQ(run.starts[0], "0123456789");
  EXPECT_EQ(run.passed, "abcdefghi");
  EXPECT_EQ(run.ends, 1);
  ASSERT_EQ(run.whole.size(), 1u);  // the next (short) event, whole
  EXPECT_EQ(run.whole[0].data, "next");
  EXPECT_EQ(run.whole[0].id, "5");
}

TEST(sse_event_streaming, later_data_lines_follow_after_a_line_feed) {
  auto run = decode({"data:0123456789", "\r\ndata: second\r\ndata:\r\n\r\n"}, 4);
  ASSERT_EQ(run.starts.size(), 1u);
  EXPECT_EQ(run.starts[0] + run.passed, "0123456789\nsecond\n");
  EXPECT_EQ(run.ends, 1);
  EXPECT_TRUE(run.whole.empty());
}

TEST(sse_event_streaming, short_refused_or_other_events_are_dispatched_whole) {
  auto shorter = decode({"data: 0123", "\n\n"}, 16);
  EXPECT_TRUE(shorter.starts.empty());
  ASSERT_EQ(shorter.whole.size(), 1u);
  auto refused = decode({"data: 0123456789", "ab", "cd\n\n"}, 8, false);
  ASSERT_EQ(refused.starts.size(), 1u);  // asked once per event
  ASSERT_EQ(refused.whole.size(), 1u);
  EXPECT_EQ(refused.whole[0].data, "0123456789abcd");
  auto other = decode({"event: ping\ndata: 0123456789", "ab\n\n"}, 8);
  EXPECT_TRUE(other.starts.empty());
  ASSERT_EQ(other.whole.size(), 1u);
  EXPECT_EQ(other.whole[0].type, "ping");
  // A line that arrives whole in one feed is dispatched whole: nothing is gained by passing on.
  auto at_once = decode({"data: 0123456789ab\n\n"}, 8);
  EXPECT_TRUE(at_once.starts.empty());
  EXPECT_EQ(at_once.whole.size(), 1u);
}

TEST(sse_event_streaming, an_event_passed_on_still_counts_against_the_line_limit) {
  auto run = decode({"data: 0123456789", "abcdefghij", "klmnopqrstuvwxyz"}, 8, true, 24);
  EXPECT_EQ(run.starts.size(), 1u);
  EXPECT_TRUE(run.failed);
  EXPECT_EQ(run.ends, 0);
}

}  // namespace
}  // namespace mcp_proxy
