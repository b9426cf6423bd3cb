#include "jsonrpc/message.hpp"

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

namespace mcp_proxy::jsonrpc {
namespace {

namespace json = boost::json;

// Parses `text` and expects a message of `kind`; returns it for further checks.
message expect_message(std::string_view text, message_kind kind) {
  auto r = parse(text);
  EXPECT_TRUE(r.has_value()) << text << " -> " << (r.has_error() ? r.error().reason : "");
  if (!r.has_value()) return message::notification("test/failed");
  EXPECT_EQ(r->kind(), kind) << text;
  return *r;
}

// Parses `text` and expects a failure with `code`; returns it for further checks.
parse_failure expect_failure(std::string_view text, std::int64_t code) {
  auto r = parse(text);
  EXPECT_TRUE(r.has_error()) << text << " parsed as " << (r ? to_string(r->kind()) : "");
  if (!r.has_error()) return {};
  EXPECT_EQ(r.error().code, code) << text << ": " << r.error().reason;
  EXPECT_FALSE(r.error().reason.empty());
  return r.error();
}

parse_failure expect_invalid_request(std::string_view text) {
  return expect_failure(text, error_codes::invalid_request);
}

// --- parse errors and the envelope -------------------------------------------------------------

TEST(jsonrpc_message, invalid_json_is_parse_error_with_null_id) {
  auto f = expect_failure(R"({"jsonrpc":"2.0","id":1,"method":"ping")", error_codes::parse_error);
  EXPECT_TRUE(f.id.is_null());
}

TEST(jsonrpc_message, empty_input_is_parse_error) {
  expect_failure("", error_codes::parse_error);
}

TEST(jsonrpc_message, trailing_garbage_is_parse_error) {
  expect_failure(R"({"jsonrpc":"2.0","method":"ping"} x)", error_codes::parse_error);
}

TEST(jsonrpc_message, non_object_values_are_invalid_request) {
  for (std::string_view text : {"1", "\"hello\"", "null", "true"}) {
    auto f = expect_invalid_request(text);
    EXPECT_TRUE(f.id.is_null()) << text;
  }
}

TEST(jsonrpc_message, missing_jsonrpc_member_is_invalid_request) {
  expect_invalid_request(R"({"id":1,"method":"ping"})");
}

TEST(jsonrpc_message, jsonrpc_version_1_0_is_invalid_request) {
  expect_invalid_request(R"({"jsonrpc":"1.0","id":1,"method":"ping"})");
}

TEST(jsonrpc_message, numeric_jsonrpc_version_is_invalid_request) {
  expect_invalid_request(R"({"jsonrpc":2.0,"id":1,"method":"ping"})");
  expect_invalid_request(R"({"jsonrpc":2,"id":1,"method":"ping"})");
}

// --- requests and notifications ----------------------------------------------------------------

TEST(jsonrpc_message, non_string_method_is_invalid_request) {
  expect_invalid_request(R"({"jsonrpc":"2.0","id":1,"method":42})");
  expect_invalid_request(R"({"jsonrpc":"2.0","id":1,"method":null})");
  expect_invalid_request(R"({"jsonrpc":"2.0","id":1,"method":["ping"]})");
}

TEST(jsonrpc_message, request_carrying_result_is_invalid_request) {
  expect_invalid_request(R"({"jsonrpc":"2.0","id":1,"method":"ping","result":{}})");
}

TEST(jsonrpc_message, request_carrying_error_is_invalid_request) {
  expect_invalid_request(
      R"({"jsonrpc":"2.0","id":1,"method":"ping","error":{"code":1,"message":"x"}})");
}

TEST(jsonrpc_message, scalar_params_are_invalid_request) {
  for (std::string_view params : {"1", "\"a\"", "true", "null"}) {
    std::string text =
        R"({"jsonrpc":"2.0","id":1,"method":"m","params":)" + std::string(params) + "}";
    expect_invalid_request(text);
  }
}

TEST(jsonrpc_message, object_params_are_accepted) {
  auto m = expect_message(R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x"}})",
                          message_kind::request);
  ASSERT_NE(m.params_object(), nullptr);
  EXPECT_EQ(m.params_object()->at("name"), "x");
}

TEST(jsonrpc_message, array_params_are_accepted) {
  auto m = expect_message(R"({"jsonrpc":"2.0","id":1,"method":"sum","params":[1,2,3]})",
                          message_kind::request);
  ASSERT_NE(m.params(), nullptr);
  ASSERT_TRUE(m.params()->is_array());
  EXPECT_EQ(m.params()->get_array().size(), 3u);
  EXPECT_EQ(m.params_object(), nullptr);
}

TEST(jsonrpc_message, request_without_params_has_no_params) {
  auto m = expect_message(R"({"jsonrpc":"2.0","id":1,"method":"ping"})", message_kind::request);
  EXPECT_EQ(m.params(), nullptr);
  EXPECT_EQ(m.params_object(), nullptr);
  EXPECT_EQ(m.method(), "ping");
  EXPECT_TRUE(m.is_request());
  EXPECT_FALSE(m.is_notification());
  EXPECT_FALSE(m.is_response());
}

TEST(jsonrpc_message, message_without_id_is_notification) {
  auto m = expect_message(R"({"jsonrpc":"2.0","method":"notifications/initialized"})",
                          message_kind::notification);
  EXPECT_TRUE(m.is_notification());
  EXPECT_EQ(m.id(), nullptr);
  EXPECT_EQ(m.method(), "notifications/initialized");
}

TEST(jsonrpc_message, notification_with_scalar_params_is_invalid_request) {
  expect_invalid_request(R"({"jsonrpc":"2.0","method":"notifications/x","params":3})");
}

TEST(jsonrpc_message, string_request_id_is_accepted) {
  auto m =
      expect_message(R"({"jsonrpc":"2.0","id":"abc-1","method":"ping"})", message_kind::request);
  ASSERT_NE(m.id(), nullptr);
  EXPECT_EQ(*m.id(), "abc-1");
}

TEST(jsonrpc_message, integer_request_id_is_accepted) {
  auto m = expect_message(R"({"jsonrpc":"2.0","id":7,"method":"ping"})", message_kind::request);
  ASSERT_NE(m.id(), nullptr);
  EXPECT_EQ(m.id()->to_number<std::int64_t>(), 7);
}

TEST(jsonrpc_message, negative_request_id_is_accepted) {
  auto m = expect_message(R"({"jsonrpc":"2.0","id":-42,"method":"ping"})", message_kind::request);
  ASSERT_NE(m.id(), nullptr);
  ASSERT_TRUE(m.id()->is_int64());
  EXPECT_EQ(m.id()->get_int64(), -42);
}

TEST(jsonrpc_message, large_uint64_request_id_is_accepted_and_kept_exact) {
  auto m = expect_message(R"({"jsonrpc":"2.0","id":18446744073709551615,"method":"ping"})",
                          message_kind::request);
  ASSERT_NE(m.id(), nullptr);
  ASSERT_TRUE(m.id()->is_uint64());
  EXPECT_EQ(m.id()->get_uint64(), UINT64_MAX);
  EXPECT_NE(serialize(m).find("18446744073709551615"), std::string::npos);
}

// JSON-RPC 2.0 says ids SHOULD NOT be fractional; a SHOULD NOT is no reason to drop a request.
TEST(jsonrpc_message, fractional_request_id_is_accepted) {
  auto m = expect_message(R"({"jsonrpc":"2.0","id":1.5,"method":"ping"})", message_kind::request);
  ASSERT_NE(m.id(), nullptr);
  ASSERT_TRUE(m.id()->is_double());
  EXPECT_DOUBLE_EQ(m.id()->get_double(), 1.5);
}

TEST(jsonrpc_message, null_request_id_is_invalid_request) {
  auto f = expect_invalid_request(R"({"jsonrpc":"2.0","id":null,"method":"ping"})");
  EXPECT_TRUE(f.id.is_null());
}

TEST(jsonrpc_message, structured_request_id_is_invalid_request_with_null_id) {
  for (std::string_view id : {"{}", "[1]", "true"}) {
    std::string text = R"({"jsonrpc":"2.0","method":"ping","id":)" + std::string(id) + "}";
    auto f = expect_invalid_request(text);
    EXPECT_TRUE(f.id.is_null()) << text;
  }
}

TEST(jsonrpc_message, is_valid_request_id_accepts_only_strings_and_numbers) {
  EXPECT_TRUE(is_valid_request_id(json::value("x")));
  EXPECT_TRUE(is_valid_request_id(json::value(std::int64_t{-1})));
  EXPECT_TRUE(is_valid_request_id(json::value(std::uint64_t{UINT64_MAX})));
  EXPECT_TRUE(is_valid_request_id(json::value(0.5)));
  EXPECT_FALSE(is_valid_request_id(json::value(nullptr)));
  EXPECT_FALSE(is_valid_request_id(json::value(true)));
  EXPECT_FALSE(is_valid_request_id(json::value(json::object{})));
  EXPECT_FALSE(is_valid_request_id(json::value(json::array{})));
}

// Boost.JSON 1.81 reads 1e400 as infinity and would write it back as `Infinity` (not JSON).
TEST(jsonrpc_message, number_beyond_double_range_is_invalid_request_echoing_id) {
  auto f =
      expect_invalid_request(R"({"jsonrpc":"2.0","id":4,"method":"m","params":{"x":[1e400]}})");
  EXPECT_EQ(f.id, 4);
  expect_invalid_request(R"({"jsonrpc":"2.0","id":4,"result":{"x":-1e400}})");
  expect_invalid_request(R"({"jsonrpc":"2.0","method":"m","_meta":{"n":1e999}})");
}

TEST(jsonrpc_message, infinite_request_id_is_invalid_request_with_null_id) {
  auto f = expect_invalid_request(R"({"jsonrpc":"2.0","id":1e400,"method":"ping"})");
  EXPECT_TRUE(f.id.is_null());
  EXPECT_EQ(serialize(to_error_response(f)).find("Infinity"), std::string::npos);
  EXPECT_FALSE(is_valid_request_id(json::value(std::numeric_limits<double>::infinity())));
  EXPECT_FALSE(is_valid_request_id(json::value(std::numeric_limits<double>::quiet_NaN())));
}

// --- responses ---------------------------------------------------------------------------------

TEST(jsonrpc_message, response_with_result_is_response) {
  auto m =
      expect_message(R"({"jsonrpc":"2.0","id":3,"result":{"tools":[]}})", message_kind::response);
  EXPECT_TRUE(m.is_response());
  ASSERT_NE(m.result(), nullptr);
  EXPECT_TRUE(m.result()->is_object());
  EXPECT_EQ(m.error(), nullptr);
  EXPECT_EQ(m.method(), "");
}

TEST(jsonrpc_message, response_with_null_result_is_response) {
  auto m = expect_message(R"({"jsonrpc":"2.0","id":"a","result":null})", message_kind::response);
  ASSERT_NE(m.result(), nullptr);
  EXPECT_TRUE(m.result()->is_null());
}

TEST(jsonrpc_message, error_response_is_error_response) {
  auto m = expect_message(
      R"({"jsonrpc":"2.0","id":3,"error":{"code":-32601,"message":"Method not found","data":{"m":"x"}}})",
      message_kind::error_response);
  EXPECT_TRUE(m.is_response());
  ASSERT_NE(m.error(), nullptr);
  EXPECT_EQ(m.error()->at("code").to_number<std::int64_t>(), error_codes::method_not_found);
  EXPECT_EQ(m.result(), nullptr);
}

TEST(jsonrpc_message, error_response_with_null_id_is_allowed) {
  auto m = expect_message(
      R"({"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}})",
      message_kind::error_response);
  ASSERT_NE(m.id(), nullptr);
  EXPECT_TRUE(m.id()->is_null());
}

TEST(jsonrpc_message, success_response_with_null_id_is_invalid_request) {
  expect_invalid_request(R"({"jsonrpc":"2.0","id":null,"result":{}})");
}

TEST(jsonrpc_message, response_with_both_result_and_error_is_invalid_request) {
  auto f = expect_invalid_request(
      R"({"jsonrpc":"2.0","id":5,"result":{},"error":{"code":1,"message":"x"}})");
  EXPECT_EQ(f.id, 5);
}

TEST(jsonrpc_message, message_with_neither_method_nor_result_nor_error_is_invalid_request) {
  expect_invalid_request(R"({"jsonrpc":"2.0","id":5})");
  expect_invalid_request(R"({"jsonrpc":"2.0"})");
}

TEST(jsonrpc_message, error_without_integer_code_is_invalid_request) {
  expect_invalid_request(R"({"jsonrpc":"2.0","id":1,"error":{"message":"x"}})");
  expect_invalid_request(R"({"jsonrpc":"2.0","id":1,"error":{"code":"-32600","message":"x"}})");
  expect_invalid_request(R"({"jsonrpc":"2.0","id":1,"error":{"code":1.5,"message":"x"}})");
  expect_invalid_request(R"({"jsonrpc":"2.0","id":1,"error":{"code":null,"message":"x"}})");
}

TEST(jsonrpc_message, error_without_string_message_is_invalid_request) {
  expect_invalid_request(R"({"jsonrpc":"2.0","id":1,"error":{"code":-32000}})");
  expect_invalid_request(R"({"jsonrpc":"2.0","id":1,"error":{"code":-32000,"message":7}})");
}

TEST(jsonrpc_message, non_object_error_member_is_invalid_request) {
  expect_invalid_request(R"({"jsonrpc":"2.0","id":1,"error":"boom"})");
  expect_invalid_request(R"({"jsonrpc":"2.0","id":1,"error":null})");
}

TEST(jsonrpc_message, response_without_id_is_invalid_request) {
  expect_invalid_request(R"({"jsonrpc":"2.0","result":{}})");
  expect_invalid_request(R"({"jsonrpc":"2.0","error":{"code":-32000,"message":"x"}})");
}

TEST(jsonrpc_message, response_with_structured_id_is_invalid_request) {
  expect_invalid_request(R"({"jsonrpc":"2.0","id":{},"result":{}})");
  expect_invalid_request(R"({"jsonrpc":"2.0","id":[],"error":{"code":1,"message":"x"}})");
}

// --- id recovery for error responses -----------------------------------------------------------

TEST(jsonrpc_message, well_formed_id_is_recovered_into_failure) {
  auto f = expect_invalid_request(R"({"jsonrpc":"1.0","id":"req-9","method":"ping"})");
  EXPECT_EQ(f.id, "req-9");

  f = expect_invalid_request(R"({"jsonrpc":"2.0","id":12,"method":"m","params":"scalar"})");
  EXPECT_EQ(f.id, 12);

  f = expect_invalid_request(R"({"jsonrpc":"2.0","id":13,"method":false})");
  EXPECT_EQ(f.id, 13);
}

TEST(jsonrpc_message, malformed_id_is_not_recovered_into_failure) {
  auto f = expect_invalid_request(R"({"jsonrpc":"1.0","id":{"x":1},"method":"ping"})");
  EXPECT_TRUE(f.id.is_null());
}

TEST(jsonrpc_message, error_response_for_recovered_id_echoes_it) {
  auto f = expect_invalid_request(R"({"id":"abc","method":"ping"})");
  auto reply = to_error_response(f);
  ASSERT_NE(reply.id(), nullptr);
  EXPECT_EQ(*reply.id(), "abc");
}

// --- batches -----------------------------------------------------------------------------------

TEST(jsonrpc_message, single_parse_rejects_batches) {
  auto f = expect_invalid_request(R"([{"jsonrpc":"2.0","method":"ping","id":1}])");
  EXPECT_TRUE(f.id.is_null());
}

TEST(jsonrpc_message, empty_batch_is_invalid_request) {
  auto r = parse_payload("[]");
  ASSERT_TRUE(r.has_error());
  EXPECT_EQ(r.error().code, error_codes::invalid_request);
  EXPECT_TRUE(r.error().id.is_null());
}

TEST(jsonrpc_message, payload_with_invalid_json_is_parse_error) {
  auto r = parse_payload(R"([{"jsonrpc":"2.0",)");
  ASSERT_TRUE(r.has_error());
  EXPECT_EQ(r.error().code, error_codes::parse_error);
}

TEST(jsonrpc_message, payload_with_single_object_is_not_a_batch) {
  auto r = parse_payload(R"({"jsonrpc":"2.0","id":1,"method":"ping"})");
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->is_batch);
  ASSERT_EQ(r->items.size(), 1u);
  ASSERT_TRUE(r->items[0].has_value());
  EXPECT_EQ(r->items[0]->kind(), message_kind::request);
}

TEST(jsonrpc_message, payload_with_single_invalid_object_reports_item_failure) {
  auto r = parse_payload(R"({"jsonrpc":"2.0","id":4})");
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->is_batch);
  ASSERT_EQ(r->items.size(), 1u);
  ASSERT_TRUE(r->items[0].has_error());
  EXPECT_EQ(r->items[0].error().code, error_codes::invalid_request);
  EXPECT_EQ(r->items[0].error().id, 4);
}

TEST(jsonrpc_message, mixed_batch_gives_one_result_per_item_in_order) {
  auto r = parse_payload(R"([
    {"jsonrpc":"2.0","id":1,"method":"tools/list"},
    {"jsonrpc":"2.0","method":"notifications/initialized"},
    1,
    {"jsonrpc":"2.0","id":"x","result":{}},
    {"jsonrpc":"1.0","id":2,"method":"ping"},
    {"jsonrpc":"2.0","id":3,"error":{"code":-32000,"message":"down"}},
    []
  ])");
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->is_batch);
  ASSERT_EQ(r->items.size(), 7u);

  ASSERT_TRUE(r->items[0].has_value());
  EXPECT_EQ(r->items[0]->kind(), message_kind::request);
  ASSERT_TRUE(r->items[1].has_value());
  EXPECT_EQ(r->items[1]->kind(), message_kind::notification);
  ASSERT_TRUE(r->items[2].has_error());
  EXPECT_EQ(r->items[2].error().code, error_codes::invalid_request);
  EXPECT_TRUE(r->items[2].error().id.is_null());
  ASSERT_TRUE(r->items[3].has_value());
  EXPECT_EQ(r->items[3]->kind(), message_kind::response);
  ASSERT_TRUE(r->items[4].has_error());
  EXPECT_EQ(r->items[4].error().code, error_codes::invalid_request);
  EXPECT_EQ(r->items[4].error().id, 2);
  ASSERT_TRUE(r->items[5].has_value());
  EXPECT_EQ(r->items[5]->kind(), message_kind::error_response);
  // A nested array inside a batch is an invalid item, not a nested batch.
  ASSERT_TRUE(r->items[6].has_error());
  EXPECT_EQ(r->items[6].error().code, error_codes::invalid_request);
}

// --- pass-through of unknown members -----------------------------------------------------------

TEST(jsonrpc_message, unknown_members_survive_parse_serialize_parse) {
  constexpr std::string_view text = R"({
    "jsonrpc":"2.0","id":"c-1","method":"tools/call",
    "x-extra":{"deep":[1,{"k":null}],"n":-0.25},
    "params":{"name":"search","arguments":{"q":"x"},
              "_meta":{"progressToken":"p-1","io.example/trace":{"span":[1,2,3]}},
              "futureField":true}
  })";
  auto first = expect_message(text, message_kind::request);
  auto second = expect_message(serialize(first), message_kind::request);

  EXPECT_EQ(first.object(), second.object());
  EXPECT_EQ(second.object(), json::parse(text).as_object());
  EXPECT_EQ(second.object().at("x-extra").at("deep").at(1).at("k"), nullptr);
  ASSERT_NE(second.params_object(), nullptr);
  const auto& meta = second.params_object()->at("_meta");
  EXPECT_EQ(meta.at("progressToken"), "p-1");
  EXPECT_EQ(meta.at("io.example/trace").at("span").as_array().size(), 3u);
  EXPECT_EQ(second.params_object()->at("futureField"), true);
}

TEST(jsonrpc_message, unknown_members_survive_in_responses_and_errors) {
  constexpr std::string_view response =
      R"({"jsonrpc":"2.0","id":1,"result":{"content":[],"_meta":{"a":1}},"_meta":{"b":2}})";
  auto r = expect_message(response, message_kind::response);
  EXPECT_EQ(expect_message(serialize(r), message_kind::response).object(),
            json::parse(response).as_object());

  constexpr std::string_view error =
      R"({"jsonrpc":"2.0","id":1,"error":{"code":-1,"message":"m","data":[1],"x":{}},"y":0})";
  auto e = expect_message(error, message_kind::error_response);
  EXPECT_EQ(expect_message(serialize(e), message_kind::error_response).object(),
            json::parse(error).as_object());
}

TEST(jsonrpc_message, set_id_replaces_the_id_and_keeps_other_members) {
  auto m = expect_message(R"({"jsonrpc":"2.0","id":1,"method":"ping","_meta":{"a":1}})",
                          message_kind::request);
  m.set_id("proxy-17");
  auto again = expect_message(serialize(m), message_kind::request);
  EXPECT_EQ(*again.id(), "proxy-17");
  EXPECT_EQ(again.object().at("_meta").at("a"), 1);
}

// --- error responses for parse failures --------------------------------------------------------

TEST(jsonrpc_message, parse_error_becomes_valid_error_response) {
  auto f = expect_failure("{not json", error_codes::parse_error);
  auto reply = to_error_response(f);
  EXPECT_EQ(reply.kind(), message_kind::error_response);

  auto again = expect_message(serialize(reply), message_kind::error_response);
  ASSERT_NE(again.id(), nullptr);
  EXPECT_TRUE(again.id()->is_null());
  const auto& err = again.error()->as_object();
  EXPECT_EQ(err.at("code").to_number<std::int64_t>(), error_codes::parse_error);
  ASSERT_TRUE(err.at("message").is_string());
  std::string_view text = err.at("message").get_string();
  EXPECT_NE(text.find("Parse error"), std::string_view::npos) << text;
  EXPECT_NE(text.find(f.reason), std::string_view::npos) << text;
}

TEST(jsonrpc_message, invalid_request_becomes_error_response_echoing_id) {
  auto f = expect_invalid_request(R"({"jsonrpc":"2.0","id":99,"method":"m","params":1})");
  auto reply = to_error_response(f);

  auto again = expect_message(serialize(reply), message_kind::error_response);
  EXPECT_EQ(*again.id(), 99);
  const auto& err = again.error()->as_object();
  EXPECT_EQ(err.at("code").to_number<std::int64_t>(), error_codes::invalid_request);
  std::string_view text = err.at("message").get_string();
  EXPECT_NE(text.find("Invalid Request"), std::string_view::npos) << text;
  EXPECT_NE(text.find(f.reason), std::string_view::npos) << text;
}

// --- constructors ------------------------------------------------------------------------------

TEST(jsonrpc_message, constructed_request_reparses_as_request) {
  auto m = message::request(5, "tools/call", json::object{{"name", "echo"}});
  EXPECT_EQ(m.kind(), message_kind::request);
  auto again = expect_message(serialize(m), message_kind::request);
  EXPECT_EQ(again.object(), m.object());
  EXPECT_EQ(again.method(), "tools/call");
  EXPECT_EQ(*again.id(), 5);
  EXPECT_EQ(again.params_object()->at("name"), "echo");
}

TEST(jsonrpc_message, constructed_request_with_string_id_reparses_as_request) {
  auto m = message::request("abc", "ping");
  auto again = expect_message(serialize(m), message_kind::request);
  EXPECT_EQ(again.object(), m.object());
  EXPECT_EQ(*again.id(), "abc");
}

TEST(jsonrpc_message, constructed_notification_reparses_as_notification) {
  auto bare = message::notification("notifications/initialized");
  EXPECT_EQ(bare.kind(), message_kind::notification);
  auto again = expect_message(serialize(bare), message_kind::notification);
  EXPECT_EQ(again.object(), bare.object());
  EXPECT_EQ(again.params(), nullptr);

  auto with_params =
      message::notification("notifications/progress", json::object{{"progressToken", "t"}});
  auto again2 = expect_message(serialize(with_params), message_kind::notification);
  EXPECT_EQ(again2.object(), with_params.object());
  EXPECT_EQ(again2.params_object()->at("progressToken"), "t");
}

TEST(jsonrpc_message, constructed_response_reparses_as_response) {
  auto m = message::response("r1", json::object{{"tools", json::array{}}});
  EXPECT_EQ(m.kind(), message_kind::response);
  auto again = expect_message(serialize(m), message_kind::response);
  EXPECT_EQ(again.object(), m.object());
  EXPECT_EQ(*again.id(), "r1");
}

TEST(jsonrpc_message, constructed_error_response_reparses_as_error_response) {
  json::value data = json::object{{"backend", "b1"}};
  auto m = message::error_response(8, error_codes::backend_unavailable, "backend down", &data);
  EXPECT_EQ(m.kind(), message_kind::error_response);
  auto again = expect_message(serialize(m), message_kind::error_response);
  EXPECT_EQ(again.object(), m.object());
  const auto& err = again.error()->as_object();
  EXPECT_EQ(err.at("code").to_number<std::int64_t>(), error_codes::backend_unavailable);
  EXPECT_EQ(err.at("message"), "backend down");
  EXPECT_EQ(err.at("data").at("backend"), "b1");
}

TEST(jsonrpc_message, constructed_error_response_without_data_has_no_data_member) {
  auto m = message::error_response(nullptr, error_codes::internal_error, "oops");
  auto again = expect_message(serialize(m), message_kind::error_response);
  EXPECT_FALSE(again.error()->as_object().contains("data"));
  EXPECT_TRUE(again.id()->is_null());
}

TEST(jsonrpc_message, message_kind_names_are_distinct) {
  EXPECT_EQ(to_string(message_kind::request), "request");
  EXPECT_EQ(to_string(message_kind::notification), "notification");
  EXPECT_EQ(to_string(message_kind::response), "response");
  EXPECT_EQ(to_string(message_kind::error_response), "error response");
}

TEST(jsonrpc_message, a_large_parsed_message_serializes_like_boost_json_whatever_its_ids) {
  // serialize() writes large messages into a buffer sized from the parsed text; an id that grew
  // after parsing makes it grow the buffer.
  std::string text(300'000, 'x');
  for (std::size_t i = 0; i < text.size(); i += 97)
    text[i] = '\n';  // escaped: longer than the hint
  auto m = parse(json::serialize(
      json::object{{"jsonrpc", "2.0"}, {"id", 1}, {"result", json::object{{"text", text}}}}));
  ASSERT_TRUE(m);
  EXPECT_GT(m->size_hint(), 300'000u);
  EXPECT_EQ(serialize(*m), json::serialize(m->object()));
  m->set_id(json::string(std::string(1000, 'i')));
  EXPECT_EQ(serialize(*m), json::serialize(m->object()));
  m->set_size_hint(5000);  // far too small a hint still gives the whole text
  EXPECT_EQ(serialize(*m), json::serialize(m->object()));
}

// --- responses kept as text (the pass-through relay) -------------------------------------------

TEST(jsonrpc_message, a_response_with_a_result_is_relayed_as_written_with_its_new_id) {
  // Spellings the tree would change (1.50, the key order, \u escapes, spaces) stay as they were.
  const std::string result = R"({"b": 1.50, "a":[true,"\u00e9\n"], "_meta":{"x":{}}})";
  auto m = parse("  {\"jsonrpc\":\"2.0\", \"id\":7,\"result\":" + result + "}\t ");
  ASSERT_TRUE(m);
  ASSERT_NE(m->kept_text(), nullptr);
  EXPECT_EQ(m->kind(), message_kind::response);
  EXPECT_EQ(*m->id(), json::value(7));
  EXPECT_EQ(m->error(), nullptr);
  EXPECT_EQ(m->method(), "");
  EXPECT_EQ(serialize(*m), "{\"jsonrpc\":\"2.0\", \"id\":7,\"result\":" + result + "}");
  m->set_id("client-\"1\"");
  EXPECT_EQ(serialize(*m),
            "{\"jsonrpc\":\"2.0\", \"id\":\"client-\\\"1\\\"\",\"result\":" + result + "}");
  ASSERT_NE(m->kept_text(), nullptr);  // nothing asked for the members yet
}

TEST(jsonrpc_message, a_kept_responses_pieces_are_its_text_around_the_new_id) {
  auto m = parse(R"({"jsonrpc":"2.0","id":"backend-9","result":{"big":"...."}})");
  ASSERT_TRUE(m);
  m->set_id(12);
  const auto pieces = pieces_of(*m);
  ASSERT_TRUE(pieces);
  EXPECT_EQ(pieces->before, R"({"jsonrpc":"2.0","id":)");
  EXPECT_EQ(pieces->id, "12");
  EXPECT_EQ(pieces->after, R"(,"result":{"big":"...."}})");
  EXPECT_EQ(pieces->size(), serialize(*m).size());
  // The pieces point into the message's own text, not a copy.
  const std::string_view text = m->kept_text()->text;
  EXPECT_EQ(pieces->before.data(), text.data());
  EXPECT_EQ(pieces->after.data() + pieces->after.size(), text.data() + text.size());

  ASSERT_NE(m->result(), nullptr);  // built: no longer kept, so no pieces
  EXPECT_FALSE(pieces_of(*m));
  EXPECT_FALSE(pieces_of(message::request(1, "ping")));
}

TEST(jsonrpc_message, asking_for_a_kept_responses_members_builds_them_with_the_new_id) {
  auto m = parse(R"({"id":"s-1","result":{"content":[]},"jsonrpc":"2.0","extra":[1]})");
  ASSERT_TRUE(m);
  m->set_id(42);
  ASSERT_NE(m->result(), nullptr);
  EXPECT_EQ(m->kept_text(), nullptr);
  EXPECT_EQ(m->object(),
            json::parse(R"({"id":42,"result":{"content":[]},"jsonrpc":"2.0","extra":[1]})"));
  EXPECT_EQ(serialize(*m), R"({"id":42,"result":{"content":[]},"jsonrpc":"2.0","extra":[1]})");
}

TEST(jsonrpc_message, a_copy_of_a_kept_response_is_independent) {
  auto m = parse(R"({"jsonrpc":"2.0","id":1,"result":{}})");
  ASSERT_TRUE(m);
  message copy = *m;
  copy.set_id(2);
  copy.object()["result"].as_object()["changed"] = true;
  EXPECT_EQ(serialize(*m), R"({"jsonrpc":"2.0","id":1,"result":{}})");
  EXPECT_EQ(serialize(copy), R"({"jsonrpc":"2.0","id":2,"result":{"changed":true}})");
}

TEST(jsonrpc_message, a_non_integer_id_keeps_its_spelling_in_a_kept_response) {
  auto m = parse(R"({"jsonrpc":"2.0","id":2.50,"result":{}})");
  ASSERT_TRUE(m);
  ASSERT_NE(m->kept_text(), nullptr);
  auto request_id = *m->id();
  m->set_id("x");
  m->set_id(request_id);  // as the proxy gives the client its id back
  EXPECT_EQ(serialize(*m), R"({"jsonrpc":"2.0","id":2.50,"result":{}})");
}

TEST(jsonrpc_message, only_plain_responses_with_a_result_are_kept_as_text) {
  const char* built[] = {
      "{\"jsonrpc\":\"2.0\",\n\"id\":1,\"result\":{}}",                // a line break: one line out
      R"({"jsonrpc":"2.0","id":1,"error":{"code":1,"message":"m"}})",  // errors are built
      R"({"jsonrpc":"2.0","id":1,"id":2,"result":{}})",                // a repeated member
      R"({"jsonrpc":"2.0","id":1,"result":{},"result":[]})",
      R"({"jsonrpc":"2\u002e0","id":1,"result":{}})",  // an escaped version
      R"({"jsonrpc":"2.0","method":"x","id":1})",      // requests
  };
  for (const char* text : built) {
    auto m = parse(text);
    ASSERT_TRUE(m) << text;
    EXPECT_EQ(m->kept_text(), nullptr) << text;
  }
  // What the full way refuses is refused as before, with its reason.
  expect_failure(R"({"jsonrpc":"2.0","id":1,"result":{"a":[1,}})", error_codes::parse_error);
  expect_failure("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"a\":\"\xff\"}}",
                 error_codes::parse_error);  // not UTF-8
  auto far = expect_invalid_request(R"({"jsonrpc":"2.0","id":1,"result":{"n":1e400}})");
  EXPECT_EQ(far.id, json::value(1));
  expect_invalid_request(R"({"jsonrpc":"2.0","id":null,"result":{}})");
  expect_invalid_request(R"({"jsonrpc":"2.0","id":[1],"result":{}})");
  expect_invalid_request(R"({"jsonrpc":"1.0","id":1,"result":{}})");
  std::string deep = R"({"jsonrpc":"2.0","id":3,"result":)" + std::string(2000, '[') +
                     std::string(2000, ']') + "}";
  auto too_deep = parse(deep);
  ASSERT_FALSE(too_deep);
  EXPECT_TRUE(too_deep.error().too_deep);
  EXPECT_EQ(too_deep.error().id, json::value(3));
}

TEST(jsonrpc_message, a_response_from_result_text_is_written_with_that_text) {
  auto m = message::response_text("req-9", R"({"tools":[{"name":"a"}],"nextCursor":"c"})");
  EXPECT_EQ(serialize(m),
            R"({"jsonrpc":"2.0","id":"req-9","result":{"tools":[{"name":"a"}],"nextCursor":"c"}})");
  m.set_id(3);
  EXPECT_EQ(serialize(m),
            R"({"jsonrpc":"2.0","id":3,"result":{"tools":[{"name":"a"}],"nextCursor":"c"}})");
  ASSERT_NE(m.result(), nullptr);
  EXPECT_EQ(m.result()->at("nextCursor"), json::value("c"));
}

}  // namespace
}  // namespace mcp_proxy::jsonrpc
