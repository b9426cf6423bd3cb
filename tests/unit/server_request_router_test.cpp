#include "protocol/server_request_router.hpp"

#include <gtest/gtest.h>

namespace mcp_proxy::protocol {
namespace {

namespace json = boost::json;
using jsonrpc::message;
using kind = request_decision::kind;

TEST(route_target, the_call_a_request_came_with_decides_however_many_clients_are_busy) {
  std::vector<client_view> clients{{1, true}, {2, true}, {3, false}};
  EXPECT_EQ(route_target(rpc::client_key{2}, clients, false), rpc::client_key{2});
}

TEST(route_target, else_the_only_busy_client_else_the_only_client_when_idle_is_fine) {
  EXPECT_EQ(route_target(std::nullopt, {{1, false}, {2, true}}, false), rpc::client_key{2});
  EXPECT_EQ(route_target(std::nullopt, {{1, true}, {2, true}}, true), std::nullopt);
  EXPECT_EQ(route_target(std::nullopt, {{1, false}}, true), rpc::client_key{1});
  EXPECT_EQ(route_target(std::nullopt, {{1, false}}, false), std::nullopt);
  EXPECT_EQ(route_target(std::nullopt, {{1, false}, {2, false}}, true), std::nullopt);
  EXPECT_EQ(route_target(std::nullopt, {}, true), std::nullopt);
}

TEST(server_request_router, a_request_goes_to_a_client_that_declared_its_capability) {
  server_request_router r;
  json::object caps{{"sampling", json::object{}}};
  auto sampling = message::request(1, "sampling/createMessage", {});
  EXPECT_EQ(r.decide(sampling, &caps, false).what, kind::deliver);
  auto roots = message::request(2, "roots/list", {});
  auto refused = r.decide(roots, &caps, false);
  EXPECT_EQ(refused.what, kind::refuse);
  EXPECT_EQ(refused.code, jsonrpc::error_codes::method_not_found);
  EXPECT_NE(refused.text.find("roots/list"), std::string::npos);
}

TEST(server_request_router, elicitation_modes_follow_the_clients_declaration) {
  json::object form_only{{"elicitation", json::object{}}};
  json::object url_only{{"elicitation", json::object{{"url", json::object{}}}}};
  auto form = message::request(1, "elicitation/create", {{"message", "m"}});
  auto url = message::request(2, "elicitation/create", {{"mode", "url"}});
  EXPECT_TRUE(client_can_answer(form_only, form));
  EXPECT_FALSE(client_can_answer(form_only, url));
  EXPECT_TRUE(client_can_answer(url_only, url));
  EXPECT_FALSE(client_can_answer(url_only, form));
  EXPECT_FALSE(client_can_answer(json::object{}, form));
  EXPECT_TRUE(client_can_answer(json::object{}, message::request(3, "ping", {})));
}

TEST(server_request_router, without_a_target_ping_and_roots_are_answered_else_refused) {
  server_request_router r;
  auto ping = r.decide(message::request(1, "ping", {}), nullptr, false);
  EXPECT_EQ(ping.what, kind::answer);
  EXPECT_EQ(ping.result, json::object{});
  auto roots = r.decide(message::request(2, "roots/list", {}), nullptr, true);
  EXPECT_EQ(roots.what, kind::answer);
  EXPECT_EQ(roots.result, (json::object{{"roots", json::array{}}}));
  // Clients exist but none can be told apart: never a guess.
  auto guess = r.decide(message::request(3, "roots/list", {}), nullptr, false);
  EXPECT_EQ(guess.what, kind::refuse);
  EXPECT_EQ(guess.code, jsonrpc::error_codes::internal_error);
}

TEST(server_request_router, elicitation_complete_reaches_only_the_client_the_url_went_to) {
  server_request_router r;
  r.elicitation_sent(
      message::request(1, "elicitation/create", {{"mode", "url"}, {"elicitationId", "e1"}}), 4);
  r.elicitation_sent(message::request(2, "sampling/createMessage", {{"elicitationId", "e2"}}), 5);
  auto done =
      message::notification("notifications/elicitation/complete", {{"elicitationId", "e1"}});
  EXPECT_EQ(r.elicitation_complete(done), rpc::client_key{4});
  EXPECT_EQ(r.elicitation_complete(done), std::nullopt);  // once
  auto other =
      message::notification("notifications/elicitation/complete", {{"elicitationId", "e2"}});
  EXPECT_EQ(r.elicitation_complete(other), std::nullopt);
}

TEST(server_request_router, a_client_that_leaves_gets_no_completion) {
  server_request_router r;
  r.elicitation_sent(message::request(1, "elicitation/create", {{"elicitationId", "e1"}}), 4);
  r.drop_client(4);
  auto done =
      message::notification("notifications/elicitation/complete", {{"elicitationId", "e1"}});
  EXPECT_EQ(r.elicitation_complete(done), std::nullopt);
}

}  // namespace
}  // namespace mcp_proxy::protocol
