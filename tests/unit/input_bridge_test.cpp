// The suspended calls of 2026-07-28 clients (protocol/input_bridge), step by step; citations
// are to docs/specification/2026-07-28/basic/patterns/mrtr.
#include "protocol/input_bridge.hpp"

#include <gtest/gtest.h>
#include <boost/json.hpp>

namespace mcp_proxy::protocol {
namespace {

namespace json = boost::json;
using jsonrpc::message;
using clock = input_bridge::clock;
using kind = input_bridge::retry_outcome::kind;

input_bridge make_bridge(std::size_t max = 1000) {
  auto n = std::make_shared<int>(0);
  return input_bridge([n] { return "state-" + std::to_string(++*n); }, max);
}

message call(std::string_view tool, json::object extra = {}) {
  extra["name"] = tool;
  return message::request(1, "tools/call", std::move(extra));
}

message elicit(std::int64_t backend_id) {
  return message::request(backend_id, "elicitation/create",
                          json::object{{"message", "Name?"},
                                       {"requestedSchema", json::object{{"type", "object"}}},
                                       {"_meta", json::object{{"x", 1}}}});
}

message retry(std::string_view tool, json::value state, json::object responses) {
  return message::request(
      2, "tools/call",
      json::object{{"name", tool}, {"inputResponses", responses}, {"requestState", state}});
}

const auto later = clock::now() + std::chrono::minutes(1);

TEST(input_bridge, a_backend_request_becomes_an_input_required_result) {
  // mrtr: InputRequiredResult has resultType, inputRequests (a map of {method, params}) and
  // requestState.
  auto b = make_bridge();
  auto s = b.suspend("route", call("greet"), elicit(40), later);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->result.at("resultType"), "input_required");
  const auto& requests = s->result.at("inputRequests").as_object();
  ASSERT_EQ(requests.size(), 1u);
  const auto& only = requests.begin()->value().as_object();
  EXPECT_EQ(only.at("method"), "elicitation/create");
  EXPECT_EQ(only.at("params").at("message"), "Name?");
  EXPECT_EQ(only.at("params").as_object().if_contains("_meta"), nullptr);
  EXPECT_EQ(only.if_contains("id"), nullptr);  // no jsonrpc id in an input request
  EXPECT_EQ(s->result.at("requestState"), "state-1");
  EXPECT_EQ(b.size(), 1u);
}

TEST(input_bridge, only_tools_prompts_and_resources_reads_may_be_suspended) {
  // mrtr, supported requests: servers MUST NOT send InputRequiredResult on other requests.
  auto b = make_bridge();
  EXPECT_FALSE(b.suspend("route", message::request(1, "tools/list"), elicit(1), later));
  EXPECT_TRUE(b.suspend("route", message::request(1, "prompts/get", json::object{{"name", "p"}}),
                        elicit(2), later));
  EXPECT_TRUE(b.suspend("route", message::request(1, "resources/read", json::object{{"uri", "u"}}),
                        elicit(3), later));
}

TEST(input_bridge, a_retry_with_the_input_resumes_the_call_once) {
  auto b = make_bridge();
  auto s = b.suspend("route", call("greet"), elicit(40), later);
  const std::string key = s->result.at("inputRequests").as_object().begin()->key();
  json::object answer{{"action", "accept"}, {"content", json::object{{"name", "Alice"}}}};
  auto r =
      b.on_retry("route", retry("greet", "state-1", json::object{{key, answer}}), clock::now());
  ASSERT_EQ(r.what, kind::resume);
  EXPECT_EQ(r.id, s->id);
  EXPECT_EQ(r.backend_id, 40);
  EXPECT_EQ(r.input, answer);
  EXPECT_EQ(b.size(), 0u);
  // Single use: the same state again is refused.
  auto again =
      b.on_retry("route", retry("greet", "state-1", json::object{{key, answer}}), clock::now());
  EXPECT_EQ(again.what, kind::refuse);
}

TEST(input_bridge, a_tampered_or_unknown_state_is_refused) {
  // mrtr, server requirements 4: requestState is attacker-controlled; reject what fails.
  auto b = make_bridge();
  auto s = b.suspend("route", call("greet"), elicit(40), later);
  auto r = b.on_retry("route", retry("greet", "state-1-TAMPERED", {}), clock::now());
  EXPECT_EQ(r.what, kind::refuse);
  EXPECT_FALSE(r.error.empty());
  r = b.on_retry("route", retry("greet", 17, {}), clock::now());
  EXPECT_EQ(r.what, kind::refuse);
  EXPECT_EQ(b.size(), 1u);  // the call waits on for a good retry
}

TEST(input_bridge, a_state_is_bound_to_the_request_it_came_from) {
  // mrtr, server requirements 5: bind the state to the originating request.
  auto b = make_bridge();
  auto s = b.suspend("route", call("greet"), elicit(40), later);
  auto r = b.on_retry("route", retry("other_tool", "state-1", {}), clock::now());
  EXPECT_EQ(r.what, kind::refuse);
  EXPECT_EQ(b.size(), 1u);
}

TEST(input_bridge, a_state_is_bound_to_its_route) {
  // A state minted on one route does not resume a call there from another.
  auto b = make_bridge();
  auto s = b.suspend("route", call("greet"), elicit(40), later);
  auto r = b.on_retry("other-route", retry("greet", "state-1", {}), clock::now());
  EXPECT_EQ(r.what, kind::refuse);
  EXPECT_EQ(b.size(), 1u);
}

TEST(input_bridge, missing_input_is_asked_for_again_under_a_new_state) {
  // mrtr, error handling: re-request missing input with a new InputRequiredResult.
  auto b = make_bridge();
  auto s = b.suspend("route", call("greet"), elicit(40), later);
  auto r =
      b.on_retry("route", retry("greet", "state-1", json::object{{"wrong_key", json::object{}}}),
                 clock::now());
  ASSERT_EQ(r.what, kind::ask_again);
  EXPECT_EQ(r.result.at("resultType"), "input_required");
  EXPECT_EQ(r.result.at("requestState"), "state-2");
  EXPECT_EQ(r.result.at("inputRequests"), s->result.at("inputRequests"));
  EXPECT_EQ(b.on_retry("route", retry("greet", "state-1", {}), clock::now()).what, kind::refuse);
}

TEST(input_bridge, a_call_nobody_retries_expires_at_its_deadline) {
  // mrtr, server requirements 8: servers MUST NOT assume clients will retry.
  auto b = make_bridge();
  const auto soon = clock::now() + std::chrono::seconds(1);
  auto s = b.suspend("route", call("greet"), elicit(40), soon);
  auto s2 = b.suspend("route", call("greet"), elicit(41), later);
  EXPECT_EQ(b.next_deadline(), soon);
  EXPECT_TRUE(b.expire(clock::now()).empty());
  auto gone = b.expire(soon);
  ASSERT_EQ(gone.size(), 1u);
  EXPECT_EQ(gone[0].id, s->id);
  EXPECT_EQ(gone[0].backend_id, 40);
  EXPECT_EQ(b.on_retry("route", retry("greet", "state-1", {}), soon).what, kind::refuse);
  EXPECT_EQ(b.size(), 1u);
}

TEST(input_bridge, the_table_is_bounded) {
  auto b = make_bridge(1);
  EXPECT_TRUE(b.suspend("route", call("a"), elicit(1), later));
  EXPECT_FALSE(b.suspend("route", call("a"), elicit(2), later));
  b.forget(1);
  EXPECT_TRUE(b.suspend("route", call("a"), elicit(3), later));
}

TEST(input_bridge, retries_are_recognised_by_their_state_or_responses) {
  EXPECT_TRUE(input_bridge::is_retry(retry("t", "s", {})));
  EXPECT_FALSE(input_bridge::is_retry(call("t")));
}

}  // namespace
}  // namespace mcp_proxy::protocol
