// Mcp-Param-* headers of 2026-07-28 tools/call requests (protocol/param_headers); citations are
// to docs/specification/2026-07-28/basic/transports/streamable-http, custom headers.
#include "protocol/param_headers.hpp"

#include <gtest/gtest.h>
#include <boost/json.hpp>

namespace mcp_proxy::protocol {
namespace {

namespace json = boost::json;
using jsonrpc::message;

json::object tool() {
  return json::object{
      {"name", "deploy"},
      {"inputSchema",
       json::object{
           {"type", "object"},
           {"properties",
            json::object{
                {"region", json::object{{"type", "string"}, {"x-mcp-header", "Region"}}},
                {"count", json::object{{"type", "integer"}, {"x-mcp-header", "Count"}}},
                {"ratio", json::object{{"type", "number"}, {"x-mcp-header", "Ratio"}}},
                {"opts",
                 json::object{
                     {"type", "object"},
                     {"properties", json::object{{"dry", json::object{{"type", "boolean"},
                                                                      {"x-mcp-header", "Dry"}}}}}}},
                {"list", json::object{{"type", "array"},
                                      {"items", json::object{{"type", "string"},
                                                             {"x-mcp-header", "Item"}}}}}}}}}};
}

message call(json::object arguments) {
  return message::request(1, "tools/call",
                          json::object{{"name", "deploy"}, {"arguments", std::move(arguments)}});
}

TEST(param_headers, marks_follow_properties_chains_on_the_allowed_types_only) {
  auto marks = param_headers_of(tool());
  std::vector<std::string> names;
  for (const auto& m : marks) names.push_back(m.name);
  std::sort(names.begin(), names.end());
  // "number" is not a type a mark may be on; "items" is not a properties chain.
  EXPECT_EQ(names, (std::vector<std::string>{"Count", "Dry", "Region"}));
  for (const auto& m : marks)
    if (m.name == "Dry") EXPECT_EQ(m.path, (std::vector<std::string>{"opts", "dry"}));
}

TEST(param_headers, a_name_used_twice_marks_nothing) {
  auto t = tool();
  t["inputSchema"].as_object()["properties"].as_object()["other"] =
      json::object{{"type", "string"}, {"x-mcp-header", "region"}};
  for (const auto& m : param_headers_of(t)) EXPECT_NE(m.name, "Region");
}

TEST(param_headers, matching_headers_pass_and_integers_compare_as_numbers) {
  auto marks = param_headers_of(tool());
  auto c = call(
      json::object{{"region", "eu-west"}, {"count", 42}, {"opts", json::object{{"dry", true}}}});
  EXPECT_FALSE(
      check_param_headers(c, marks, {{"Region", "eu-west"}, {"count", "42.0"}, {"DRY", " true "}}));
  // A base64 sentinel is decoded before comparing.
  EXPECT_FALSE(check_param_headers(
      c, marks, {{"Region", "=?base64?ZXUtd2VzdA==?="}, {"Count", "42"}, {"Dry", "true"}}));
}

TEST(param_headers, a_missing_or_different_or_undecodable_header_is_refused) {
  auto marks = param_headers_of(tool());
  auto c = call(json::object{{"region", "eu-west"}});
  // A value in the body needs its header.
  auto missing = check_param_headers(c, marks, {});
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 400u);
  EXPECT_EQ(missing->code, modern_codes::header_mismatch);
  EXPECT_TRUE(check_param_headers(c, marks, {{"Region", "us-east"}}));
  // Bad padding, or characters outside the alphabet (also on a header nothing marks).
  EXPECT_TRUE(check_param_headers(c, marks, {{"Region", "=?base64?SGVsbG8?="}}));
  EXPECT_TRUE(check_param_headers(c, marks, {{"Region", "eu-west"}, {"X", "=?base64?a!b=?="}}));
  // Without the value in the body, no header is expected.
  EXPECT_FALSE(check_param_headers(call(json::object{{"region", nullptr}}), marks, {}));
}

TEST(param_headers, a_client_sends_each_marked_value_encoded) {
  auto marks = param_headers_of(tool());
  auto headers = param_header_values(
      call(json::object{{"region", " spaced "}, {"count", 7}, {"opts", json::object{}}}), marks);
  std::sort(headers.begin(), headers.end());
  EXPECT_EQ(headers, (sent_headers{{"Mcp-Param-Count", "7"},
                                   {"Mcp-Param-Region", "=?base64?IHNwYWNlZCA=?="}}));
}

}  // namespace
}  // namespace mcp_proxy::protocol
