#include "jsonrpc/top_level_scan.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <string_view>

namespace mcp_proxy::jsonrpc {
namespace {

namespace json = boost::json;

std::string nested(std::size_t depth, std::string_view inner = "1") {
  std::string s;
  for (std::size_t i = 0; i < depth; ++i) s += (i % 2) ? "[" : "{\"a\":";
  s += inner;
  for (std::size_t i = depth; i-- > 0;) s += (i % 2) ? "]" : "}";
  return s;
}

TEST(top_level_scan, reads_members_of_the_top_level_only) {
  auto top = scan_top_level(
      R"( {"jsonrpc":"2.0","params":{"id":"inner","method":"x"},"id":7,"result":{"error":1}} )");
  ASSERT_TRUE(top);
  EXPECT_EQ(top->id, "7");
  EXPECT_FALSE(top->has_method);  // params.method is not the message's
  EXPECT_TRUE(top->has_result);
  EXPECT_FALSE(top->has_error);
}

TEST(top_level_scan, keeps_the_id_as_written) {
  for (std::string_view id : {"1.5", "-0", "12345678901234567890123", "1E+2", R"("a\"b")", "null",
                              R"({"x":[1]})", "true"}) {
    const std::string text = R"({"id":)" + std::string(id) + R"(,"method":"m"})";
    auto top = scan_top_level(text);
    ASSERT_TRUE(top) << text;
    EXPECT_EQ(top->id, id);
    EXPECT_TRUE(top->has_method);
  }
}

TEST(top_level_scan, the_last_of_a_repeated_id_counts_as_in_boost_json) {
  auto top = scan_top_level(R"({"id":1,"id":2})");
  ASSERT_TRUE(top);
  EXPECT_EQ(top->id, "2");
}

TEST(top_level_scan, escaped_keys_are_decoded) {
  auto top = scan_top_level(R"({"\u0069d":3,"meth\u006fd":"x"})");
  ASSERT_TRUE(top);
  EXPECT_EQ(top->id, "3");
  EXPECT_TRUE(top->has_method);
}

TEST(top_level_scan, an_empty_object_has_nothing) {
  auto top = scan_top_level(" {} ");
  ASSERT_TRUE(top);
  EXPECT_FALSE(top->id);
}

TEST(top_level_scan, deep_nesting_is_skipped_without_recursion) {
  // Far deeper than any parser would take: one pass, no stack.
  const std::string text = R"({"jsonrpc":"2.0","result":)" + nested(200000) + R"(,"id":42})";
  auto top = scan_top_level(text);
  ASSERT_TRUE(top);
  EXPECT_EQ(top->id, "42");
  EXPECT_TRUE(top->has_result);
}

TEST(top_level_scan, brackets_inside_strings_do_not_count) {
  auto top = scan_top_level(R"({"result":{"t":"}}]]\"{{"},"id":"x"})");
  ASSERT_TRUE(top);
  EXPECT_EQ(top->id, R"("x")");
}

TEST(top_level_scan, malformed_top_levels_are_not_read) {
  for (std::string_view text : {"",
                                " ",
                                "[1]",
                                "1",
                                "\"s\"",
                                "{",
                                "}",
                                "{\"id\"}",
                                "{\"id\":}",
                                "{\"id\":1,}",
                                "{\"id\":1 \"m\":2}",
                                "{\"id\":1}x",
                                "{\"id\":1}{}",
                                "{id:1}",
                                "{\"id\":01}",
                                "{\"id\":1.}",
                                "{\"id\":-}",
                                "{\"id\":tru}",
                                "{\"id\":\"open}",
                                "{\"a\":[1,2}",
                                "{\"a\":{\"b\":1}",
                                "{\"id\":\"a\nb\"}",
                                "{\"id\":\"\\\"}",
                                "{\"id\":1e}",
                                "{\"a\":\"x\\",
                                "{'id':1}",
                                "{\"id\":NaN}",
                                "{\"id\":Infinity}"}) {
    EXPECT_FALSE(scan_top_level(text)) << text;
  }
}

TEST(top_level_scan, readable_id_accepts_only_ids_jsonrpc_allows) {
  EXPECT_EQ(readable_id(R"({"id":"a","method":"m"})"), json::value("a"));
  EXPECT_EQ(readable_id(R"({"id":7})"), json::value(7));
  EXPECT_TRUE(readable_id(R"({"id":1.5})").is_double());
  EXPECT_TRUE(readable_id(R"({"id":null})").is_null());
  EXPECT_TRUE(readable_id(R"({"id":true})").is_null());
  EXPECT_TRUE(readable_id(R"({"id":{"a":1}})").is_null());
  EXPECT_TRUE(readable_id(R"({"id":[1]})").is_null());
  EXPECT_TRUE(readable_id(R"({"id":1e999})").is_null());    // no finite number
  EXPECT_TRUE(readable_id("{\"id\":\"\xff\"}").is_null());  // not UTF-8
  EXPECT_TRUE(readable_id(R"([{"id":1}])").is_null());      // a batch has no one id
  EXPECT_TRUE(readable_id("not json").is_null());
}

TEST(top_level_scan, outline_tells_requests_from_responses) {
  auto request =
      outline_of(R"({"jsonrpc":"2.0","id":3,"method":"x","params":)" + nested(3000) + "}");
  EXPECT_TRUE(request.is_request);
  EXPECT_FALSE(request.is_response);
  EXPECT_EQ(request.id, json::value(3));
  auto response = outline_of(R"({"jsonrpc":"2.0","id":4,"result":)" + nested(3000) + "}");
  EXPECT_TRUE(response.is_response);
  EXPECT_EQ(response.id, json::value(4));
  auto error = outline_of(R"({"id":"e","error":{"code":1,"message":"m"}})");
  EXPECT_TRUE(error.is_response);
  auto notification = outline_of(R"({"method":"x","params":)" + nested(3000) + "}");
  EXPECT_FALSE(notification.is_request);
  EXPECT_FALSE(notification.is_response);
  EXPECT_TRUE(notification.id.is_null());
}

// Hostile input: random bytes and random cuts of valid messages never crash the scan (ASan and
// UBSan watch), and a scan that succeeds only ever reports a slice of the input.
TEST(top_level_scan, survives_random_and_truncated_input) {
  std::mt19937 rng(15);
  const std::string alphabet = "{}[]\":,\\ \t\n0123456789.eE+-abcdefnulltrid\x01\xff";
  for (int round = 0; round < 20000; ++round) {
    std::string s(rng() % 64, ' ');
    for (auto& c : s) c = alphabet[rng() % alphabet.size()];
    auto top = scan_top_level(s);
    if (top && top->id) {
      EXPECT_GE(top->id->data(), s.data());
      EXPECT_LE(top->id->data() + top->id->size(), s.data() + s.size());
    }
    (void)readable_id(s);
    (void)outline_of(s);
  }
  const std::string valid =
      R"({"jsonrpc":"2.0","id":"r-1","result":{"content":[{"type":"text","text":"a\"]}"}]}})";
  for (std::size_t n = 0; n < valid.size(); ++n)
    EXPECT_FALSE(scan_top_level(valid.substr(0, n))) << n;
  EXPECT_TRUE(scan_top_level(valid));
}

}  // namespace
}  // namespace mcp_proxy::jsonrpc
