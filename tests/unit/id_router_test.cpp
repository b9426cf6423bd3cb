#include "rpc/id_router.hpp"

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace mcp_proxy::rpc {
namespace {

namespace json = boost::json;
using jsonrpc::message;

// Parses `text` as one JSON-RPC message; a test input that does not parse is a test bug.
message msg(std::string_view text) {
  auto r = jsonrpc::parse(text);
  EXPECT_TRUE(r.has_value()) << text;
  if (!r.has_value()) return message::notification("test/unparsable");
  return *r;
}

// The serialized message without its id member, to compare everything else.
std::string without_id(const message& m) {
  json::object o = m.object();
  o.erase("id");
  return json::serialize(o);
}

// The progressToken in params._meta, or null when absent.
json::value meta_token(const message& m) {
  const auto* params = m.params_object();
  if (!params) return nullptr;
  const auto* meta = params->if_contains("_meta");
  if (!meta || !meta->is_object()) return nullptr;
  const auto* token = meta->get_object().if_contains("progressToken");
  return token ? *token : json::value(nullptr);
}

message progress(const json::value& token, double value = 1) {
  json::object params;
  params["progressToken"] = token;
  params["progress"] = value;
  return message::notification("notifications/progress", std::move(params));
}

message response_to(std::int64_t backend_id) {
  return message::response(backend_id, json::object{{"ok", true}});
}

// --- client -> backend requests -----------------------------------------------------------------

TEST(id_router, client_id_is_replaced_by_the_returned_backend_id) {
  id_router router;
  auto m = msg(R"({"jsonrpc":"2.0","id":"client-7","method":"tools/list"})");
  const std::int64_t backend_id = router.on_client_request(1, m);
  ASSERT_NE(m.id(), nullptr);
  ASSERT_TRUE(m.id()->is_int64());
  EXPECT_EQ(m.id()->get_int64(), backend_id);
  EXPECT_EQ(serialize(m).find("client-7"), std::string::npos) << serialize(m);
}

TEST(id_router, numeric_client_id_never_reaches_backend_unchanged) {
  id_router router;
  for (std::int64_t client_id : {1000, 2000, 3000}) {
    auto m = message::request(client_id, "ping");
    const std::int64_t backend_id = router.on_client_request(9, m);
    EXPECT_EQ(m.id()->get_int64(), backend_id);
    EXPECT_NE(backend_id, client_id);
    EXPECT_EQ(router.backend_id_of(9, json::value(client_id)), backend_id);
  }
  // Backend ids are distinct for distinct requests of one client.
  auto ids = router.in_flight();
  EXPECT_EQ(std::set<std::int64_t>(ids.begin(), ids.end()).size(), 3u);
}

TEST(id_router, two_clients_with_same_ids_get_distinct_backend_ids) {
  id_router router;
  auto a1 = message::request(1, "tools/call");
  auto b1 = message::request(1, "tools/call");
  auto as = message::request("a", "tools/call");
  auto bs = message::request("a", "tools/call");
  const auto ba1 = router.on_client_request(10, a1);
  const auto bb1 = router.on_client_request(20, b1);
  const auto bas = router.on_client_request(10, as);
  const auto bbs = router.on_client_request(20, bs);
  std::set<std::int64_t> distinct{ba1, bb1, bas, bbs};
  EXPECT_EQ(distinct.size(), 4u);
  EXPECT_EQ(router.in_flight_count(), 4u);
}

TEST(id_router, each_response_maps_back_to_its_client_and_original_id) {
  id_router router;
  auto a1 = message::request(1, "tools/call");
  auto b1 = message::request(1, "tools/call");
  auto as = message::request("a", "tools/call");
  auto bs = message::request("a", "tools/call");
  const auto ba1 = router.on_client_request(10, a1);
  const auto bb1 = router.on_client_request(20, b1);
  const auto bas = router.on_client_request(10, as);
  const auto bbs = router.on_client_request(20, bs);

  // Answer in a different order than sent.
  struct expectation {
    std::int64_t backend_id;
    client_key client;
    json::value id;
  };
  std::vector<expectation> cases{{bbs, 20, "a"}, {ba1, 10, 1}, {bas, 10, "a"}, {bb1, 20, 1}};
  for (const auto& c : cases) {
    auto r = response_to(c.backend_id);
    auto origin = router.on_backend_response(r);
    ASSERT_TRUE(origin.has_value()) << c.backend_id;
    EXPECT_EQ(origin->client, c.client);
    EXPECT_EQ(origin->client_id, c.id);
    ASSERT_NE(r.id(), nullptr);
    EXPECT_EQ(*r.id(), c.id);
    EXPECT_EQ(r.id()->kind(), c.id.kind());
  }
  EXPECT_EQ(router.in_flight_count(), 0u);
}

TEST(id_router, response_restores_exact_json_type_of_client_id) {
  id_router router;
  // "1" and 1 are different ids; 2.5 and a uint64 beyond int64 are valid JSON-RPC numbers.
  const std::vector<std::string_view> ids{R"("1")", "1",    "2.5", "18446744073709551615",
                                          "-4",     R"("")"};
  std::vector<std::int64_t> backend_ids;
  for (auto id : ids) {
    auto m = msg(R"({"jsonrpc":"2.0","method":"ping","id":)" + std::string(id) + "}");
    backend_ids.push_back(router.on_client_request(5, m));
  }
  for (std::size_t i = 0; i < ids.size(); ++i) {
    auto r = response_to(backend_ids[i]);
    auto origin = router.on_backend_response(r);
    ASSERT_TRUE(origin.has_value()) << ids[i];
    const json::value expected = json::parse(ids[i]);
    EXPECT_EQ(r.id()->kind(), expected.kind()) << ids[i];
    EXPECT_EQ(json::serialize(*r.id()), json::serialize(expected)) << ids[i];
    // The id as the client wrote it (2.5, not Boost.JSON's 2.5E0: issue #15).
    EXPECT_EQ(serialize(r),
              R"({"jsonrpc":"2.0","id":)" + std::string(ids[i]) + R"(,"result":{"ok":true}})");
  }
}

TEST(id_router, error_response_maps_back_and_keeps_error_object) {
  id_router router;
  auto m = message::request("req-1", "tools/call");
  const auto backend_id = router.on_client_request(3, m);
  auto r = message::error_response(backend_id, -32602, "bad params");
  const std::string before = without_id(r);
  auto origin = router.on_backend_response(r);
  ASSERT_TRUE(origin.has_value());
  EXPECT_EQ(origin->client, 3u);
  EXPECT_EQ(*r.id(), json::value("req-1"));
  EXPECT_EQ(without_id(r), before);
}

TEST(id_router, backend_may_answer_with_unsigned_id) {
  id_router router;
  auto m = message::request("x", "ping");
  const auto backend_id = router.on_client_request(3, m);
  auto r = message::response(static_cast<std::uint64_t>(backend_id), json::object{});
  ASSERT_TRUE(r.id()->is_uint64());
  auto origin = router.on_backend_response(r);
  ASSERT_TRUE(origin.has_value());
  EXPECT_EQ(*r.id(), json::value("x"));
}

TEST(id_router, unknown_response_id_is_nullopt_and_message_untouched) {
  id_router router;
  auto m = message::request(1, "ping");
  const auto backend_id = router.on_client_request(1, m);
  for (const json::value& id : {json::value(backend_id + 1), json::value(0), json::value(-1),
                                json::value("1"), json::value(nullptr), json::value(1.0)}) {
    auto r = message::response(id, json::object{});
    const std::string before = serialize(r);
    EXPECT_FALSE(router.on_backend_response(r).has_value()) << json::serialize(id);
    EXPECT_EQ(serialize(r), before);
  }
  EXPECT_EQ(router.in_flight_count(), 1u);
}

TEST(id_router, second_response_with_same_id_is_nullopt) {
  id_router router;
  auto m = message::request(1, "ping");
  const auto backend_id = router.on_client_request(1, m);
  auto r1 = response_to(backend_id);
  ASSERT_TRUE(router.on_backend_response(r1).has_value());
  auto r2 = response_to(backend_id);
  EXPECT_FALSE(router.on_backend_response(r2).has_value());
}

TEST(id_router, response_after_forget_is_nullopt) {
  id_router router;
  auto m = message::request("t", "tools/call");
  const auto backend_id = router.on_client_request(4, m);
  auto origin = router.forget(backend_id);
  ASSERT_TRUE(origin.has_value());
  EXPECT_EQ(origin->client, 4u);
  EXPECT_EQ(origin->client_id, json::value("t"));
  EXPECT_EQ(router.in_flight_count(), 0u);

  auto r = response_to(backend_id);
  EXPECT_FALSE(router.on_backend_response(r).has_value());
  EXPECT_FALSE(router.forget(backend_id).has_value());
}

TEST(id_router, message_without_meta_is_unchanged_apart_from_id) {
  id_router router;
  const std::string_view text =
      R"({"jsonrpc":"2.0","id":"c1","method":"tools/call","params":{"name":"echo",)"
      R"("arguments":{"text":"hi","n":[1,2.5,null,{"z":false}]},"extra":"kept"},"x-unknown":7})";
  auto m = msg(text);
  const std::string before = without_id(m);
  router.on_client_request(1, m);
  EXPECT_EQ(without_id(m), before);
  // set_id rewrites in place: member order is kept too.
  EXPECT_EQ(serialize(m).find(R"({"jsonrpc":"2.0","id":)"), 0u) << serialize(m);
}

TEST(id_router, message_without_params_is_unchanged_apart_from_id) {
  id_router router;
  auto m = msg(R"({"jsonrpc":"2.0","method":"ping","id":3})");
  const std::string before = without_id(m);
  router.on_client_request(1, m);
  EXPECT_EQ(without_id(m), before);
}

TEST(id_router, meta_without_progress_token_is_left_alone) {
  id_router router;
  auto m = msg(
      R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"_meta":{"other":"v"},"name":"t"}})");
  const std::string before = without_id(m);
  router.on_client_request(1, m);
  EXPECT_EQ(without_id(m), before);
}

// --- progress tokens ----------------------------------------------------------------------------

TEST(id_router, progress_token_is_replaced_by_a_backend_unique_token) {
  id_router router;
  auto a = msg(
      R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"_meta":{"progressToken":"tok","keep":1},"name":"t"}})");
  auto b = msg(
      R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"_meta":{"progressToken":"tok","keep":1},"name":"t"}})");
  router.on_client_request(1, a);
  router.on_client_request(2, b);
  const json::value ta = meta_token(a);
  const json::value tb = meta_token(b);
  EXPECT_FALSE(ta.is_null());
  EXPECT_FALSE(tb.is_null());
  EXPECT_NE(ta, json::value("tok"));
  EXPECT_NE(tb, json::value("tok"));
  EXPECT_NE(ta, tb);
  // Other _meta members and params survive.
  EXPECT_EQ(a.params_object()->at("_meta").as_object().at("keep"), json::value(1));
  EXPECT_EQ(a.params_object()->at("name"), json::value("t"));
}

TEST(id_router, progress_maps_back_to_client_and_string_token) {
  id_router router;
  auto a = msg(
      R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"_meta":{"progressToken":"tok"}}})");
  auto b = msg(
      R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"_meta":{"progressToken":"tok"}}})");
  const auto ida = router.on_client_request(1, a);
  const auto idb = router.on_client_request(2, b);

  auto pb = progress(meta_token(b), 0.5);
  auto target_b = router.on_backend_progress(pb);
  ASSERT_TRUE(target_b.has_value());
  EXPECT_EQ(target_b->client, 2u);
  EXPECT_EQ(target_b->backend_id, idb);
  EXPECT_EQ(pb.params_object()->at("progressToken"), json::value("tok"));
  EXPECT_EQ(pb.params_object()->at("progress"), json::value(0.5));

  auto pa = progress(meta_token(a));
  auto target_a = router.on_backend_progress(pa);
  ASSERT_TRUE(target_a.has_value());
  EXPECT_EQ(target_a->client, 1u);
  EXPECT_EQ(target_a->backend_id, ida);
  EXPECT_EQ(pa.params_object()->at("progressToken"), json::value("tok"));
}

TEST(id_router, progress_maps_back_to_numeric_token_with_its_type) {
  id_router router;
  auto m = msg(
      R"({"jsonrpc":"2.0","id":"r","method":"tools/call","params":{"_meta":{"progressToken":42}}})");
  router.on_client_request(7, m);
  const json::value backend_token = meta_token(m);
  // Repeated notifications for one request all map back.
  for (int i = 0; i < 3; ++i) {
    auto p = progress(backend_token, i);
    auto target = router.on_backend_progress(p);
    ASSERT_TRUE(target.has_value());
    EXPECT_EQ(target->client, 7u);
    const auto& token = p.params_object()->at("progressToken");
    EXPECT_TRUE(token.is_int64());
    EXPECT_EQ(token, json::value(42));
  }
}

TEST(id_router, unknown_progress_token_is_nullopt) {
  id_router router;
  auto with_token = msg(
      R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"_meta":{"progressToken":"t"}}})");
  auto without_token = message::request(2, "tools/call");
  const auto with_id = router.on_client_request(1, with_token);
  const auto without_id_ = router.on_client_request(1, without_token);

  for (const json::value& token : {json::value(with_id + 100), json::value("t"),
                                   json::value(without_id_), json::value(nullptr)}) {
    auto p = progress(token);
    EXPECT_FALSE(router.on_backend_progress(p).has_value()) << json::serialize(token);
    EXPECT_EQ(p.params_object()->at("progressToken"), token);
  }
  auto no_token = message::notification("notifications/progress", json::object{{"progress", 1}});
  EXPECT_FALSE(router.on_backend_progress(no_token).has_value());
  auto no_params = message::notification("notifications/progress");
  EXPECT_FALSE(router.on_backend_progress(no_params).has_value());
}

TEST(id_router, progress_after_response_is_nullopt) {
  id_router router;
  auto m = msg(
      R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"_meta":{"progressToken":"t"}}})");
  const auto backend_id = router.on_client_request(1, m);
  const json::value token = meta_token(m);
  auto r = response_to(backend_id);
  ASSERT_TRUE(router.on_backend_response(r).has_value());
  auto p = progress(token);
  EXPECT_FALSE(router.on_backend_progress(p).has_value());
}

TEST(id_router, response_carries_original_progress_token) {
  id_router router;
  auto m = msg(
      R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"_meta":{"progressToken":"orig"}}})");
  const auto backend_id = router.on_client_request(1, m);
  auto r = response_to(backend_id);
  auto origin = router.on_backend_response(r);
  ASSERT_TRUE(origin.has_value());
  ASSERT_TRUE(origin->progress_token.has_value());
  EXPECT_EQ(*origin->progress_token, json::value("orig"));

  auto plain = message::request(2, "ping");
  const auto plain_id = router.on_client_request(1, plain);
  auto r2 = response_to(plain_id);
  auto origin2 = router.on_backend_response(r2);
  ASSERT_TRUE(origin2.has_value());
  EXPECT_FALSE(origin2->progress_token.has_value());
}

// --- bookkeeping --------------------------------------------------------------------------------

TEST(id_router, backend_id_of_finds_only_that_clients_request) {
  id_router router;
  auto a = message::request(1, "tools/call");
  auto b = message::request(1, "tools/call");
  auto c = message::request("1", "tools/call");
  const auto ida = router.on_client_request(1, a);
  const auto idb = router.on_client_request(2, b);
  const auto idc = router.on_client_request(1, c);
  EXPECT_EQ(router.backend_id_of(1, json::value(1)), ida);
  EXPECT_EQ(router.backend_id_of(2, json::value(1)), idb);
  EXPECT_EQ(router.backend_id_of(1, json::value("1")), idc);
  EXPECT_FALSE(router.backend_id_of(2, json::value("1")).has_value());
  EXPECT_FALSE(router.backend_id_of(3, json::value(1)).has_value());
  EXPECT_FALSE(router.backend_id_of(1, json::value(2)).has_value());

  auto r = response_to(ida);
  ASSERT_TRUE(router.on_backend_response(r).has_value());
  EXPECT_FALSE(router.backend_id_of(1, json::value(1)).has_value());
}

TEST(id_router, forget_client_returns_exactly_its_requests_and_keeps_others) {
  id_router router;
  std::vector<std::int64_t> of_one;
  std::vector<std::int64_t> of_two;
  for (int i = 0; i < 5; ++i) {
    auto a = message::request(i, "tools/call");
    auto b = message::request(i, "tools/call");
    of_one.push_back(router.on_client_request(1, a));
    of_two.push_back(router.on_client_request(2, b));
  }
  auto forgotten = router.forget_client(1);
  std::sort(forgotten.begin(), forgotten.end());
  EXPECT_EQ(forgotten, of_one);
  EXPECT_EQ(router.in_flight_count(), of_two.size());

  auto remaining = router.in_flight();
  std::sort(remaining.begin(), remaining.end());
  EXPECT_EQ(remaining, of_two);

  for (auto id : of_one) {
    auto r = response_to(id);
    EXPECT_FALSE(router.on_backend_response(r).has_value());
  }
  for (std::size_t i = 0; i < of_two.size(); ++i) {
    auto r = response_to(of_two[i]);
    auto origin = router.on_backend_response(r);
    ASSERT_TRUE(origin.has_value());
    EXPECT_EQ(origin->client, 2u);
    EXPECT_EQ(origin->client_id, json::value(static_cast<std::int64_t>(i)));
  }
  EXPECT_TRUE(router.forget_client(1).empty());
  EXPECT_TRUE(router.forget_client(3).empty());
}

TEST(id_router, in_flight_lists_every_pending_backend_id) {
  id_router router;
  EXPECT_TRUE(router.in_flight().empty());
  EXPECT_EQ(router.in_flight_count(), 0u);
  std::vector<std::int64_t> sent;
  for (int i = 0; i < 4; ++i) {
    auto m = message::request(i, "ping");
    sent.push_back(router.on_client_request(static_cast<client_key>(i % 2), m));
  }
  auto ids = router.in_flight();
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, sent);
  EXPECT_EQ(router.in_flight_count(), 4u);

  auto r = response_to(sent[1]);
  ASSERT_TRUE(router.on_backend_response(r).has_value());
  ASSERT_TRUE(router.forget(sent[2]).has_value());
  ids = router.in_flight();
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, (std::vector<std::int64_t>{sent[0], sent[3]}));
  EXPECT_EQ(router.in_flight_count(), 2u);
}

// --- backend -> client requests -----------------------------------------------------------------

TEST(id_router, backend_request_gets_ids_unique_across_clients) {
  id_router router;
  auto to_a = message::request(1, "sampling/createMessage");
  auto to_b = message::request(1, "sampling/createMessage");
  auto to_a2 = message::request("s", "roots/list");
  const json::value ia = router.on_backend_request(1, to_a);
  const json::value ib = router.on_backend_request(2, to_b);
  const json::value ia2 = router.on_backend_request(1, to_a2);
  EXPECT_EQ(*to_a.id(), ia);
  EXPECT_EQ(*to_b.id(), ib);
  EXPECT_EQ(*to_a2.id(), ia2);
  EXPECT_NE(ia, ib);
  EXPECT_NE(ia, ia2);
  EXPECT_NE(ib, ia2);
}

TEST(id_router, backend_request_is_unchanged_apart_from_id) {
  id_router router;
  auto m = msg(
      R"({"jsonrpc":"2.0","id":"srv-1","method":"elicitation/create","params":{"message":"q","_meta":{"k":1}}})");
  const std::string before = without_id(m);
  router.on_backend_request(1, m);
  EXPECT_EQ(without_id(m), before);
}

TEST(id_router, client_response_restores_backend_original_id) {
  id_router router;
  auto num = message::request(17, "sampling/createMessage");
  auto str = message::request("srv-abc", "roots/list");
  const json::value num_id = router.on_backend_request(1, num);
  const json::value str_id = router.on_backend_request(1, str);

  // Answer in reverse order.
  auto rs = message::response(str_id, json::object{{"roots", json::array{}}});
  auto origin_s = router.on_client_response(1, rs);
  ASSERT_TRUE(origin_s.has_value());
  EXPECT_EQ(origin_s->client, 1u);
  EXPECT_EQ(origin_s->backend_id, json::value("srv-abc"));
  EXPECT_TRUE(rs.id()->is_string());
  EXPECT_EQ(*rs.id(), json::value("srv-abc"));

  auto rn = message::error_response(num_id, -1, "user rejected");
  auto origin_n = router.on_client_response(1, rn);
  ASSERT_TRUE(origin_n.has_value());
  EXPECT_TRUE(rn.id()->is_int64());
  EXPECT_EQ(*rn.id(), json::value(17));
  EXPECT_EQ(rn.error()->as_object().at("message"), json::value("user rejected"));
}

TEST(id_router, client_response_from_another_client_is_nullopt) {
  id_router router;
  auto to_a = message::request(5, "sampling/createMessage");
  const json::value ia = router.on_backend_request(1, to_a);

  auto wrong = message::response(ia, json::object{});
  const std::string before = serialize(wrong);
  EXPECT_FALSE(router.on_client_response(2, wrong).has_value());
  EXPECT_EQ(serialize(wrong), before);

  // The rightful client can still answer once, and only once.
  auto right = message::response(ia, json::object{});
  auto origin = router.on_client_response(1, right);
  ASSERT_TRUE(origin.has_value());
  EXPECT_EQ(*right.id(), json::value(5));
  auto again = message::response(ia, json::object{});
  EXPECT_FALSE(router.on_client_response(1, again).has_value());
}

TEST(id_router, same_client_facing_id_answered_by_each_client_maps_to_its_own_request) {
  id_router router;
  auto to_a = message::request(1, "ping");
  auto to_b = message::request(2, "ping");
  const json::value ia = router.on_backend_request(1, to_a);
  const json::value ib = router.on_backend_request(2, to_b);

  // Client 1 answering client 2's id, and vice versa, is rejected.
  auto cross_a = message::response(ib, json::object{});
  auto cross_b = message::response(ia, json::object{});
  EXPECT_FALSE(router.on_client_response(1, cross_a).has_value());
  EXPECT_FALSE(router.on_client_response(2, cross_b).has_value());

  auto ra = message::response(ia, json::object{});
  auto rb = message::response(ib, json::object{});
  ASSERT_TRUE(router.on_client_response(1, ra).has_value());
  ASSERT_TRUE(router.on_client_response(2, rb).has_value());
  EXPECT_EQ(*ra.id(), json::value(1));
  EXPECT_EQ(*rb.id(), json::value(2));
}

TEST(id_router, unknown_client_response_id_is_nullopt) {
  id_router router;
  auto m = message::request(1, "ping");
  const json::value issued = router.on_backend_request(1, m);
  for (const json::value& id : {json::value(issued.as_int64() + 1), json::value("1"),
                                json::value(nullptr), json::value(-5)}) {
    auto r = message::response(id, json::object{});
    EXPECT_FALSE(router.on_client_response(1, r).has_value()) << json::serialize(id);
  }
}

TEST(id_router, forget_client_drops_its_pending_backend_requests) {
  id_router router;
  auto to_a = message::request(1, "ping");
  auto to_b = message::request(2, "ping");
  const json::value ia = router.on_backend_request(1, to_a);
  const json::value ib = router.on_backend_request(2, to_b);
  router.forget_client(1);
  auto ra = message::response(ia, json::object{});
  EXPECT_FALSE(router.on_client_response(1, ra).has_value());
  auto rb = message::response(ib, json::object{});
  EXPECT_TRUE(router.on_client_response(2, rb).has_value());
}

TEST(id_router, client_and_backend_id_spaces_do_not_interfere) {
  id_router router;
  auto client_req = message::request(1, "tools/call");
  const auto backend_id = router.on_client_request(1, client_req);
  auto server_req = message::request(1, "ping");
  const json::value client_facing = router.on_backend_request(1, server_req);

  // A client's answer to the server request does not complete the client's own request.
  auto client_answer = message::response(client_facing, json::object{});
  ASSERT_TRUE(router.on_client_response(1, client_answer).has_value());
  EXPECT_EQ(router.in_flight_count(), 1u);
  auto backend_answer = response_to(backend_id);
  auto origin = router.on_backend_response(backend_answer);
  ASSERT_TRUE(origin.has_value());
  EXPECT_EQ(origin->client_id, json::value(1));
}

}  // namespace
}  // namespace mcp_proxy::rpc

namespace mcp_proxy::rpc {

TEST(id_router, take_server_requests_of_returns_only_that_clients_unanswered_backend_ids) {
  mcp_proxy::rpc::id_router router;
  auto a = mcp_proxy::jsonrpc::message::request("s-1", "sampling/createMessage");
  auto b = mcp_proxy::jsonrpc::message::request(7, "roots/list");
  router.on_backend_request(1, a);
  router.on_backend_request(2, b);
  auto taken = router.take_server_requests_of(1);
  ASSERT_EQ(taken.size(), 1u);
  EXPECT_EQ(taken[0], "s-1");
  EXPECT_TRUE(router.take_server_requests_of(1).empty());
  EXPECT_EQ(router.take_server_requests_of(2).size(), 1u);
}

}  // namespace mcp_proxy::rpc

namespace mcp_proxy::rpc {

TEST(id_router, a_backend_cancellation_reaches_the_client_its_request_went_to_with_that_id) {
  id_router router;
  auto to_a = jsonrpc::message::request("s-1", "sampling/createMessage");
  auto to_b = jsonrpc::message::request("s-2", "elicitation/create");
  const json::value seen_by_a = router.on_backend_request(1, to_a);
  router.on_backend_request(2, to_b);
  auto cancel = jsonrpc::message::notification(
      "notifications/cancelled", json::object{{"requestId", "s-1"}, {"reason", "took too long"}});
  auto client = router.on_backend_cancelled(cancel);
  ASSERT_TRUE(client);
  EXPECT_EQ(*client, 1u);
  EXPECT_EQ(cancel.params_object()->at("requestId"), seen_by_a);
  EXPECT_EQ(cancel.params_object()->at("reason"), "took too long");
  // Forgotten: a late answer from the client maps to nothing, a second cancel to no one.
  auto late = jsonrpc::message::response(seen_by_a, json::object{});
  EXPECT_FALSE(router.on_client_response(1, late));
  auto again =
      jsonrpc::message::notification("notifications/cancelled", json::object{{"requestId", "s-1"}});
  EXPECT_FALSE(router.on_backend_cancelled(again));
  auto unknown =
      jsonrpc::message::notification("notifications/cancelled", json::object{{"requestId", 99}});
  EXPECT_FALSE(router.on_backend_cancelled(unknown));
  EXPECT_EQ(router.take_server_requests_of(2).size(), 1u) << "b's request is untouched";
}

}  // namespace mcp_proxy::rpc

namespace mcp_proxy::rpc {

TEST(id_router, ids_given_to_clients_are_not_reused_by_a_new_router) {
  // A shared backend that restarts gets a new router; its requests must not reuse ids a client
  // may still answer.
  id_router before, after;
  auto r1 = jsonrpc::message::request(1, "roots/list");
  auto r2 = jsonrpc::message::request(1, "roots/list");
  EXPECT_NE(before.on_backend_request(7, r1), after.on_backend_request(7, r2));
}

}  // namespace mcp_proxy::rpc
