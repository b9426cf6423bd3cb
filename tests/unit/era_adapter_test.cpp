// A backend of either era behind the 2025-11-25 core (protocol/era_adapter), step by step.
// Citations are to docs/specification/2026-07-28/.
#include "protocol/era_adapter.hpp"

#include <gtest/gtest.h>
#include <boost/json.hpp>

namespace mcp_proxy::protocol {
namespace {

namespace json = boost::json;
using jsonrpc::message;
using mode = era_adapter::mode;
using verdict = era_adapter::verdict;

message initialize() {
  return message::request(
      1, "initialize",
      json::object{{"protocolVersion", "2025-11-25"},
                   {"capabilities", json::object{{"sampling", json::object{}}}},
                   {"clientInfo", json::object{{"name", "c"}, {"version", "1"}}}});
}

json::object discover_result(json::object capabilities = {}) {
  return json::object{
      {"resultType", "complete"},
      {"supportedVersions", json::array{"2026-07-28"}},
      {"capabilities", std::move(capabilities)},
      {"instructions", "be nice"},
      {"ttlMs", 1000},
      {"cacheScope", "public"},
      {"_meta", json::object{{"io.modelcontextprotocol/serverInfo",
                              json::object{{"name", "modern"}, {"version", "2"}}}}}};
}

const json::object& meta_of(const message& m) {
  return m.params_object()->at("_meta").as_object();
}

// A modern adapter past its discover, with the given server capabilities.
era_adapter modern_adapter(json::object capabilities = {}) {
  era_adapter a(mode::detect);
  auto probe = a.on_send(initialize());
  auto discover = probe.to_backend.at(0);
  a.on_receive(message::response(*discover.id(), discover_result(std::move(capabilities))), {});
  return a;
}

message call(std::int64_t id, std::string_view tool) {
  return message::request(id, "tools/call",
                          json::object{{"name", tool}, {"arguments", json::object{}}});
}

TEST(era_adapter, detection_sends_discover_first_with_the_clients_meta) {
  // basic/versioning, backward compatibility: a dual-era client probes with server/discover
  // before any other request, with its preferred modern version in _meta.
  era_adapter a(mode::detect);
  auto out = a.on_send(initialize());
  ASSERT_EQ(out.to_backend.size(), 1u);
  EXPECT_TRUE(out.to_core.empty());
  EXPECT_TRUE(out.start_probe_timer);
  const auto& probe = out.to_backend[0];
  EXPECT_EQ(probe.method(), "server/discover");
  EXPECT_TRUE(era_adapter::is_own_id(*probe.id()));
  const auto& meta = meta_of(probe);
  EXPECT_EQ(meta.at("io.modelcontextprotocol/protocolVersion"), "2026-07-28");
  EXPECT_TRUE(
      meta.at("io.modelcontextprotocol/clientCapabilities").as_object().contains("sampling"));
  EXPECT_EQ(meta.at("io.modelcontextprotocol/clientInfo").as_object().at("name"), "c");
  EXPECT_EQ(a.current(), verdict::unknown);
  EXPECT_TRUE(a.probing());
}

TEST(era_adapter, a_discover_result_answers_initialize_and_the_backend_is_modern) {
  era_adapter a(mode::detect);
  auto probe = a.on_send(initialize()).to_backend.at(0);
  auto out = a.on_receive(message::response(*probe.id(), discover_result()), {});
  EXPECT_EQ(a.current(), verdict::modern);
  ASSERT_EQ(out.to_core.size(), 1u);
  const auto& init = out.to_core[0].m;
  EXPECT_EQ(*init.id(), 1);
  const auto& result = init.result()->as_object();
  EXPECT_EQ(result.at("protocolVersion"), "2025-11-25");
  EXPECT_EQ(result.at("serverInfo").as_object().at("name"), "modern");
  EXPECT_EQ(result.at("instructions"), "be nice");
  // The core's notifications/initialized has no 2026-07-28 counterpart.
  EXPECT_TRUE(a.on_send(message::notification("notifications/initialized")).to_backend.empty());
}

TEST(era_adapter, any_error_to_discover_falls_back_to_initialize) {
  // basic/versioning: "The fallback MUST NOT be keyed to one specific error code".
  for (std::int64_t code : {-32601, -32602, -32600, -32000}) {
    era_adapter a(mode::detect);
    auto probe = a.on_send(initialize()).to_backend.at(0);
    auto out = a.on_receive(message::error_response(*probe.id(), code, "no"), {});
    EXPECT_EQ(a.current(), verdict::legacy) << code;
    ASSERT_EQ(out.to_backend.size(), 1u);
    EXPECT_EQ(out.to_backend[0].method(), "initialize");
    EXPECT_EQ(*out.to_backend[0].id(), 1);
    EXPECT_TRUE(out.to_core.empty());
  }
}

TEST(era_adapter, no_answer_in_time_or_a_restart_falls_back_too) {
  era_adapter a(mode::detect);
  a.on_send(initialize());
  auto out = a.on_probe_timeout();
  EXPECT_EQ(a.current(), verdict::legacy);
  ASSERT_EQ(out.to_backend.size(), 1u);
  EXPECT_EQ(out.to_backend[0].method(), "initialize");
  EXPECT_TRUE(a.on_probe_timeout().to_backend.empty());  // once

  era_adapter b(mode::detect);
  b.on_send(initialize());
  EXPECT_EQ(b.on_backend_restarted().to_backend.at(0).method(), "initialize");
  EXPECT_FALSE(b.probing());
}

TEST(era_adapter, a_backend_said_to_be_modern_fails_initialize_on_a_discover_error) {
  era_adapter a(mode::modern);
  auto out = a.on_send(initialize());
  EXPECT_FALSE(out.start_probe_timer);  // no fallback: the core's own timeout applies
  auto answered =
      a.on_receive(message::error_response(*out.to_backend.at(0).id(), -32601, "x"), {});
  ASSERT_EQ(answered.to_core.size(), 1u);
  EXPECT_NE(answered.to_core[0].m.error(), nullptr);
  EXPECT_TRUE(answered.to_backend.empty());
}

TEST(era_adapter, a_legacy_backend_gets_messages_unchanged_but_without_modern_meta) {
  era_adapter a(mode::legacy);
  EXPECT_EQ(a.current(), verdict::legacy);
  auto plain = a.on_send(call(5, "t"));
  EXPECT_EQ(plain.to_backend.at(0).object(), call(5, "t").object());
  auto modern = call(6, "t");
  modern.params_object()->emplace(
      "_meta", json::object{{"io.modelcontextprotocol/protocolVersion", "2026-07-28"},
                            {"io.modelcontextprotocol/clientCapabilities", json::object{}},
                            {"progressToken", 7}});
  auto sent = a.on_send(modern).to_backend.at(0);
  EXPECT_EQ(meta_of(sent), (json::object{{"progressToken", 7}}));
  auto back = a.on_receive(message::response(6, json::object{}), {});
  EXPECT_EQ(back.to_core.at(0).m.object(), message::response(6, json::object{}).object());
}

TEST(era_adapter, requests_carry_the_per_request_meta_and_the_level_set) {
  // basic/index, per-request _meta: protocolVersion and clientCapabilities on every request;
  // logging: the level rides on the request (no logging/setLevel in 2026-07-28).
  auto a = modern_adapter();
  auto set = a.on_send(message::request(2, "logging/setLevel", json::object{{"level", "info"}}));
  EXPECT_TRUE(set.to_backend.empty());
  ASSERT_EQ(set.to_core.size(), 1u);
  EXPECT_EQ(set.to_core[0].m.result()->as_object(), json::object{});
  auto sent = a.on_send(call(3, "echo")).to_backend.at(0);
  EXPECT_EQ(*sent.id(), 3);
  const auto& meta = meta_of(sent);
  EXPECT_EQ(meta.at("io.modelcontextprotocol/protocolVersion"), "2026-07-28");
  EXPECT_EQ(meta.at("io.modelcontextprotocol/logLevel"), "info");
  EXPECT_TRUE(meta.contains("io.modelcontextprotocol/clientCapabilities"));
  // The complete answer loses its resultType for the 2025-11-25 core.
  auto back = a.on_receive(
      message::response(3, json::object{{"resultType", "complete"}, {"content", json::array{}}}),
      {});
  ASSERT_EQ(back.to_core.size(), 1u);
  EXPECT_FALSE(back.to_core[0].m.result()->as_object().contains("resultType"));
}

TEST(era_adapter, ping_becomes_discover) {
  auto a = modern_adapter();
  auto out = a.on_send(message::request(9, "ping"));
  ASSERT_EQ(out.to_backend.size(), 1u);
  EXPECT_EQ(out.to_backend[0].method(), "server/discover");
  auto back = a.on_receive(message::response(*out.to_backend[0].id(), discover_result()), {});
  ASSERT_EQ(back.to_core.size(), 1u);
  EXPECT_EQ(*back.to_core[0].m.id(), 9);
  EXPECT_EQ(back.to_core[0].m.result()->as_object(), json::object{});
}

json::object input_required(json::object requests, std::optional<std::string> state) {
  json::object r{{"resultType", "input_required"}, {"inputRequests", std::move(requests)}};
  if (state) r["requestState"] = *state;
  return r;
}

TEST(era_adapter, input_required_becomes_requests_to_the_core_and_a_retry_with_the_answers) {
  // basic/patterns/mrtr: the retry is a new request with a new id, the original params,
  // inputResponses keyed as the server keyed inputRequests, and requestState echoed exactly.
  auto a = modern_adapter();
  a.on_send(call(4, "weather"));
  auto asked = a.on_receive(
      message::response(
          4,
          input_required(
              json::object{{"login", json::object{{"method", "elicitation/create"},
                                                  {"params", json::object{{"message", "who?"}}}}},
                           {"roots", json::object{{"method", "roots/list"}}}},
              "opaque-1")),
      {});
  ASSERT_EQ(asked.to_core.size(), 2u);
  EXPECT_TRUE(asked.to_backend.empty());
  for (const auto& r : asked.to_core) {
    EXPECT_TRUE(r.m.is_request());
    EXPECT_TRUE(era_adapter::is_own_id(*r.m.id()));
    EXPECT_EQ(r.in_reply_to, 4);  // the core routes it to the client of call 4
  }
  const auto& elicit =
      asked.to_core[0].m.method() == "elicitation/create" ? asked.to_core[0] : asked.to_core[1];
  const auto& roots = &elicit == &asked.to_core[0] ? asked.to_core[1] : asked.to_core[0];
  EXPECT_EQ(elicit.m.params_object()->at("message"), "who?");
  auto first = a.on_send(message::response(*roots.m.id(), json::object{{"roots", json::array{}}}));
  EXPECT_TRUE(first.to_backend.empty());  // the round waits for every answer
  auto second = a.on_send(message::response(
      *elicit.m.id(), json::object{{"action", "accept"}, {"content", json::object{{"n", "a"}}}}));
  ASSERT_EQ(second.to_backend.size(), 1u);
  const auto& retry = second.to_backend[0];
  EXPECT_EQ(retry.method(), "tools/call");
  EXPECT_NE(*retry.id(), 4);
  const auto& params = *retry.params_object();
  EXPECT_EQ(params.at("name"), "weather");
  EXPECT_EQ(params.at("requestState"), "opaque-1");
  EXPECT_EQ(params.at("inputResponses").as_object().at("login").as_object().at("action"), "accept");
  EXPECT_TRUE(params.at("inputResponses").as_object().contains("roots"));
  // The retry's answer is the call's answer, under the core's id.
  auto done = a.on_receive(
      message::response(*retry.id(), json::object{{"resultType", "complete"}, {"content", 1}}), {});
  ASSERT_EQ(done.to_core.size(), 1u);
  EXPECT_EQ(*done.to_core[0].m.id(), 4);
  EXPECT_EQ(done.to_core[0].m.result()->as_object().at("content"), 1);
}

TEST(era_adapter, state_alone_is_retried_at_once_and_rounds_are_bounded) {
  auto a = modern_adapter();
  a.on_send(call(4, "loop"));
  json::value id = 4;
  for (int round = 1; round <= era_adapter::max_rounds; ++round) {
    auto out = a.on_receive(
        message::response(id, json::object{{"resultType", "input_required"},
                                           {"requestState", "s" + std::to_string(round)}}),
        {});
    ASSERT_EQ(out.to_backend.size(), 1u) << round;
    EXPECT_EQ(out.to_backend[0].params_object()->at("requestState"),
              json::value("s" + std::to_string(round)));
    id = *out.to_backend[0].id();
  }
  auto out = a.on_receive(
      message::response(id, json::object{{"resultType", "input_required"}, {"requestState", "x"}}),
      {});
  EXPECT_TRUE(out.to_backend.empty());
  ASSERT_EQ(out.to_core.size(), 1u);
  EXPECT_EQ(*out.to_core[0].m.id(), 4);
  EXPECT_NE(out.to_core[0].m.error(), nullptr);
}

TEST(era_adapter, a_client_error_ends_the_call_and_withdraws_the_other_requests) {
  auto a = modern_adapter();
  a.on_send(call(4, "t"));
  auto asked = a.on_receive(
      message::response(
          4, input_required(json::object{{"a", json::object{{"method", "sampling/createMessage"}}},
                                         {"b", json::object{{"method", "elicitation/create"}}}},
                            std::nullopt)),
      {});
  ASSERT_EQ(asked.to_core.size(), 2u);
  auto out =
      a.on_send(message::error_response(*asked.to_core[0].m.id(), -32601, "no sampling here"));
  ASSERT_EQ(out.to_core.size(), 2u);
  EXPECT_EQ(*out.to_core[0].m.id(), 4);
  EXPECT_NE(out.to_core[0].m.error(), nullptr);
  EXPECT_EQ(out.to_core[1].m.method(), "notifications/cancelled");
  EXPECT_EQ(out.to_core[1].m.params_object()->at("requestId"), *asked.to_core[1].m.id());
  // A late answer to the withdrawn request changes nothing.
  EXPECT_TRUE(
      a.on_send(message::response(*asked.to_core[1].m.id(), json::object{})).to_backend.empty());
}

TEST(era_adapter, each_request_carries_the_capabilities_of_the_client_it_is_for) {
  // basic/index, per-request protocol fields: a 2026-07-28 server knows the client only from
  // each request's _meta. In shared mode one backend session (initialized by the proxy) serves
  // many clients: each request carries what its own client declared, retries included.
  auto a = modern_adapter();
  const json::object caps{{"elicitation", json::object{{"form", json::object{}}}}};
  const json::object info{{"name", "client-b"}, {"version", "2"}};
  const declared_client b{&caps, &info};
  auto sent = a.on_send(call(3, "weather"), &b).to_backend.at(0);
  EXPECT_EQ(meta_of(sent).at("io.modelcontextprotocol/clientCapabilities"), caps);
  EXPECT_EQ(meta_of(sent).at("io.modelcontextprotocol/clientInfo"), info);
  EXPECT_EQ(meta_of(sent).at("io.modelcontextprotocol/protocolVersion"), "2026-07-28");
  // Its input_required round: the retry is still for that client.
  auto asked = a.on_receive(
      message::response(
          3, input_required(json::object{{"who", json::object{{"method", "elicitation/create"}}}},
                            "s1")),
      {});
  ASSERT_EQ(asked.to_core.size(), 1u);
  auto retry =
      a.on_send(message::response(*asked.to_core[0].m.id(), json::object{{"action", "decline"}}))
          .to_backend.at(0);
  EXPECT_EQ(meta_of(retry).at("io.modelcontextprotocol/clientCapabilities"), caps);
  EXPECT_EQ(meta_of(retry).at("io.modelcontextprotocol/clientInfo"), info);
  // A client that declared nothing gets nothing of another's; without a client, the initialize's.
  const declared_client bare{};
  auto plain = a.on_send(call(4, "echo"), &bare).to_backend.at(0);
  EXPECT_EQ(meta_of(plain).at("io.modelcontextprotocol/clientCapabilities"), json::object{});
  EXPECT_FALSE(meta_of(plain).contains("io.modelcontextprotocol/clientInfo"));
  auto own = a.on_send(call(5, "echo")).to_backend.at(0);
  EXPECT_TRUE(meta_of(own)
                  .at("io.modelcontextprotocol/clientCapabilities")
                  .as_object()
                  .contains("sampling"));
  EXPECT_EQ(meta_of(own).at("io.modelcontextprotocol/clientInfo").as_object().at("name"), "c");
  // A 2026-07-28 client's own request keeps its own _meta whoever the core says it is for.
  auto modern = call(6, "echo");
  const json::object own_meta{{"io.modelcontextprotocol/protocolVersion", "2026-07-28"},
                              {"io.modelcontextprotocol/clientCapabilities", json::object{}},
                              {"traceparent", "00-1-2-01"}};
  modern.params_object()->emplace("_meta", own_meta);
  EXPECT_EQ(meta_of(a.on_send(modern, &b).to_backend.at(0)), own_meta);
}

TEST(era_adapter, a_modern_clients_own_request_gets_its_answers_as_they_are) {
  auto a = modern_adapter();
  auto own = call(8, "t");
  own.params_object()->emplace(
      "_meta", json::object{{"io.modelcontextprotocol/protocolVersion", "2026-07-28"},
                            {"io.modelcontextprotocol/clientCapabilities",
                             json::object{{"elicitation", json::object{}}}}});
  auto sent = a.on_send(own).to_backend.at(0);
  EXPECT_EQ(sent.object(), own.object());  // its own _meta, untouched
  auto result = input_required(
      json::object{{"user_name", json::object{{"method", "elicitation/create"}}}}, "st");
  auto back = a.on_receive(message::response(8, result), {});
  ASSERT_EQ(back.to_core.size(), 1u);
  EXPECT_EQ(back.to_core[0].m.result()->as_object(), result);
}

TEST(era_adapter, cancelling_a_call_tells_the_backend_with_the_id_it_knows) {
  auto a = modern_adapter();
  a.on_send(call(4, "t"));
  auto out = a.on_send(message::notification("notifications/cancelled",
                                             json::object{{"requestId", 4}, {"reason", "x"}}));
  ASSERT_EQ(out.to_backend.size(), 1u);
  EXPECT_EQ(out.to_backend[0].params_object()->at("requestId"), 4);
  // Its late answer goes nowhere.
  EXPECT_TRUE(a.on_receive(message::response(4, json::object{}), {}).to_core.empty());
}

TEST(era_adapter, subscriptions_go_through_one_listen_opened_again_when_they_change) {
  // basic/patterns/subscriptions: listen replaces the GET stream and resources/subscribe.
  auto a = modern_adapter(json::object{{"tools", json::object{{"listChanged", true}}},
                                       {"resources", json::object{{"subscribe", true}}}});
  // Opened with the discover answer, for what the server declares.
  auto sub =
      a.on_send(message::request(5, "resources/subscribe", json::object{{"uri", "file:///a"}}));
  ASSERT_EQ(sub.to_core.size(), 1u);
  EXPECT_EQ(*sub.to_core[0].m.id(), 5);
  ASSERT_EQ(sub.to_backend.size(), 2u);  // the new listen, then the old one cancelled
  const auto& listen = sub.to_backend[0];
  EXPECT_EQ(listen.method(), "subscriptions/listen");
  const auto& filter = listen.params_object()->at("notifications").as_object();
  EXPECT_EQ(filter.at("toolsListChanged"), true);
  EXPECT_EQ(filter.at("resourceSubscriptions"), (json::array{"file:///a"}));
  EXPECT_EQ(sub.to_backend[1].method(), "notifications/cancelled");
  // The same filter again opens nothing.
  EXPECT_TRUE(
      a.on_send(message::request(6, "resources/subscribe", json::object{{"uri", "file:///a"}}))
          .to_backend.empty());

  const json::value tag = *listen.id();
  auto tagged = [&](std::string_view method, json::object params) {
    params["_meta"] = json::object{{"io.modelcontextprotocol/subscriptionId", tag}};
    return message::notification(method, std::move(params));
  };
  EXPECT_TRUE(a.on_receive(tagged("notifications/subscriptions/acknowledged",
                                  json::object{{"notifications", json::object{}}}),
                           {})
                  .to_core.empty());
  auto updated = a.on_receive(
      tagged("notifications/resources/updated", json::object{{"uri", "file:///a"}}), {});
  ASSERT_EQ(updated.to_core.size(), 1u);
  EXPECT_EQ(updated.to_core[0].m.params_object()->if_contains("_meta"), nullptr);
  // A graceful end of the listen: opened again after a pause.
  auto ended = a.on_receive(message::response(tag, json::object{{"resultType", "complete"}}), {});
  EXPECT_TRUE(ended.reopen_listen_later);
  auto again = a.reopen_listen();
  ASSERT_EQ(again.to_backend.size(), 1u);
  EXPECT_EQ(again.to_backend[0].method(), "subscriptions/listen");
  // A notification of the ended listen is dropped.
  EXPECT_TRUE(a.on_receive(tagged("notifications/tools/list_changed", {}), {}).to_core.empty());
}

TEST(era_adapter, a_refused_listen_is_not_opened_again_by_itself) {
  auto a = modern_adapter(json::object{{"tools", json::object{{"listChanged", true}}}});
  // modern_adapter's discover opened one; find its id through a subscription change.
  auto sub =
      a.on_send(message::request(5, "resources/subscribe", json::object{{"uri", "file:///a"}}));
  const json::value tag = *sub.to_backend.at(0).id();
  auto refused = a.on_receive(message::error_response(tag, -32601, "no listen"), {});
  EXPECT_FALSE(refused.reopen_listen_later);
  EXPECT_TRUE(a.reopen_listen().to_backend.empty());
}

TEST(era_adapter, a_tools_call_gets_the_mcp_param_headers_its_tool_marks) {
  // streamable-http, custom headers: the values of x-mcp-header arguments go as headers too.
  auto a = modern_adapter();
  a.on_send(message::request(3, "tools/list"));
  json::object tool{
      {"name", "deploy"},
      {"inputSchema",
       json::object{
           {"type", "object"},
           {"properties", json::object{{"region", json::object{{"type", "string"},
                                                               {"x-mcp-header", "Region"}}}}}}}};
  a.on_receive(message::response(3, json::object{{"tools", json::array{tool}}}), {});
  auto sent = a.on_send(message::request(
      4, "tools/call",
      json::object{{"name", "deploy"}, {"arguments", json::object{{"region", "eu"}}}}));
  EXPECT_EQ(sent.call_headers, (sent_headers{{"Mcp-Param-Region", "eu"}}));
  auto other = a.on_send(message::request(
      5, "tools/call", json::object{{"name", "unknown"}, {"arguments", json::object{}}}));
  EXPECT_TRUE(other.call_headers.empty());
}

}  // namespace
}  // namespace mcp_proxy::protocol
