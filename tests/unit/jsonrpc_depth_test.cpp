// Issue #15: the nesting bound of messages (at least 512 levels, 1024 by default), the id of a
// message nested too deep, ids echoed as spelled, and the stack the bound costs.
#include "jsonrpc/message.hpp"

#include <gtest/gtest.h>
#include <boost/json/serialize.hpp>

#include <pthread.h>
#include <functional>
#include <string>

namespace mcp_proxy::jsonrpc {
namespace {

namespace json = boost::json;

// `depth` levels of objects and arrays, alternating, the first an object.
std::string nested(std::size_t depth) {
  std::string s;
  for (std::size_t i = 0; i < depth; ++i) s += (i % 2) ? "[" : "{\"a\":";
  s += "1.5";
  for (std::size_t i = depth; i-- > 0;) s += (i % 2) ? "]" : "}";
  return s;
}

// A response whose result makes the whole message `depth` levels deep.
std::string response_of_depth(std::size_t depth, std::string_view id = "7") {
  return R"({"jsonrpc":"2.0","id":)" + std::string(id) + R"(,"result":)" + nested(depth - 1) + "}";
}

class depth_bound : public ::testing::Test {
 protected:
  void TearDown() override { set_max_json_depth(default_max_json_depth); }
};

TEST_F(depth_bound, default_is_1024_levels) {
  EXPECT_EQ(max_json_depth(), 1024u);
  EXPECT_GE(default_max_json_depth, 512u);
}

TEST_F(depth_bound, a_result_40_deep_is_read) {
  // Boost.JSON's own default (32) refused this: issue #15's backend result.
  auto m = parse(response_of_depth(40));
  ASSERT_TRUE(m) << m.error().reason;
  EXPECT_TRUE(m->is_response());
}

TEST_F(depth_bound, the_bound_itself_is_read_and_one_more_is_refused_with_the_id) {
  ASSERT_TRUE(parse(response_of_depth(1024)));
  auto f = parse(R"({"jsonrpc":"2.0","id":"deep-1","method":"tools/call","params":)" +
                 nested(1024) + "}");
  ASSERT_FALSE(f);
  EXPECT_EQ(f.error().code, error_codes::parse_error);
  EXPECT_TRUE(f.error().too_deep);
  EXPECT_EQ(f.error().id, json::value("deep-1"));
  EXPECT_EQ(f.error().reason,
            "JSON nested deeper than 1024 levels (the bound is mcpProxy.maxJsonDepth)");
  auto answer = to_error_response(f.error());
  EXPECT_EQ(*answer.id(), json::value("deep-1"));
}

TEST_F(depth_bound, batches_and_invalid_json_keep_a_null_id) {
  auto batch = parse_payload("[" + response_of_depth(1100) + "]");
  ASSERT_FALSE(batch);
  EXPECT_TRUE(batch.error().id.is_null());
  // Invalid JSON has no id to read, as JSON-RPC 2.0 section 5 says (the scan is not asked).
  auto bad = parse(R"({"jsonrpc":"2.0","id":3,"method":"x","params":{"a":tru}})");
  ASSERT_FALSE(bad);
  EXPECT_FALSE(bad.error().too_deep);
  EXPECT_TRUE(bad.error().id.is_null());
}

TEST_F(depth_bound, is_configurable_within_its_range) {
  set_max_json_depth(64);
  EXPECT_FALSE(parse(response_of_depth(65)));
  EXPECT_TRUE(parse(response_of_depth(64)));
  set_max_json_depth(1);  // clamped to the floor
  EXPECT_EQ(max_json_depth(), min_max_json_depth);
  set_max_json_depth(1u << 20);  // clamped to the ceiling
  EXPECT_EQ(max_json_depth(), max_json_depth_ceiling);
}

TEST_F(depth_bound, parse_json_value_has_the_same_bound) {
  boost::system::error_code ec;
  parse_json_value(nested(1000), ec);
  EXPECT_FALSE(ec);
  parse_json_value(nested(1025), ec);
  EXPECT_EQ(ec, json::error::too_deep);
}

// Runs `f` on a thread with a stack of `bytes`: an overflow there is a crash ASan reports.
void on_small_stack(std::size_t bytes, std::function<void()> f) {
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, bytes);
  pthread_t t;
  auto run = [](void* p) -> void* {
    (*static_cast<std::function<void()>*>(p))();
    return nullptr;
  };
  ASSERT_EQ(pthread_create(&t, &attr, run, &f), 0);
  pthread_join(t, nullptr);
  pthread_attr_destroy(&attr);
}

// Everything that walks a message recursively (Boost.JSON's parser, the finiteness check of
// from_value, copy, comparison, serialization, destruction) at the ceiling of the bound, on a
// 6 MB stack: the I/O runs on the main thread, whose stack is 8 MB by default.
TEST_F(depth_bound, the_ceiling_fits_the_main_thread_stack) {
  set_max_json_depth(max_json_depth_ceiling);
  const std::string text = response_of_depth(max_json_depth_ceiling);
  bool ok = false;
  on_small_stack(6u << 20, [&] {
    auto m = parse(text);
    if (!m) return;
    message copy = *m;
    const bool same = copy.object() == m->object();
    const std::string out = serialize(copy);
    ok = same && out.size() + 16 > text.size();
  });
  EXPECT_TRUE(ok);
}

// --- ids echoed as spelled ----------------------------------------------------------------------

TEST(id_spelling, a_float_id_comes_back_as_sent) {
  // Boost.JSON writes 1.5 as 1.5E0: issue #15.
  auto m = parse(R"({"jsonrpc":"2.0","id":1.5,"method":"ping"})");
  ASSERT_TRUE(m);
  auto answer = message::response(*m->id(), json::object{});
  EXPECT_EQ(serialize(answer), R"({"jsonrpc":"2.0","id":1.5,"result":{}})");
}

TEST(id_spelling, spellings_survive_id_copies_and_big_integers_keep_their_digits) {
  auto m = parse(R"({"jsonrpc":"2.0","id":12345678901234567890123,"method":"ping"})");
  ASSERT_TRUE(m);
  json::value id = *m->id();  // as the id remapping keeps it
  auto answer = message::error_response(id, error_codes::method_not_found, "no");
  EXPECT_EQ(serialize(answer),
            R"({"jsonrpc":"2.0","id":12345678901234567890123,"error":{"code":-32601,)"
            R"("message":"no"}})");
  auto e = parse(R"({"jsonrpc":"2.0","id":2.50e0,"method":"ping"})");
  ASSERT_TRUE(e);
  EXPECT_EQ(serialize(message::response(*e->id(), 1)),
            R"({"jsonrpc":"2.0","id":2.50e0,"result":1})");
}

TEST(id_spelling, single_messages_of_a_payload_are_remembered_too) {
  auto p = parse_payload(R"({"jsonrpc":"2.0","id":3.25,"method":"ping"})");
  ASSERT_TRUE(p);
  ASSERT_TRUE(p->items.front());
  EXPECT_EQ(serialize(message::response(*p->items.front()->id(), 1)),
            R"({"jsonrpc":"2.0","id":3.25,"result":1})");
}

TEST(id_spelling, integer_and_string_ids_are_untouched) {
  auto m = parse(R"({"jsonrpc":"2.0","id":"1.5","method":"ping"})");
  ASSERT_TRUE(m);
  EXPECT_EQ(serialize(message::response(*m->id(), 1)),
            R"({"jsonrpc":"2.0","id":"1.5","result":1})");
  EXPECT_EQ(serialize(message::response(json::value(1), 1)),
            R"({"jsonrpc":"2.0","id":1,"result":1})");
}

}  // namespace
}  // namespace mcp_proxy::jsonrpc
