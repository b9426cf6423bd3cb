#include "protocol/merged_page.hpp"

#include <gtest/gtest.h>
#include <boost/json.hpp>

namespace mcp_proxy::protocol {
namespace {

namespace json = boost::json;

json::object page(std::vector<std::string> names, std::optional<std::string> next = {}) {
  json::array items;
  for (auto& n : names) items.push_back(json::object{{"name", n}});
  json::object o{{"tools", std::move(items)}};
  if (next) o["nextCursor"] = *next;
  return o;
}
// Every item as it is.
std::optional<exposed_item> keep(std::size_t, const json::value& item) {
  return exposed_item{&item.get_object(), {}};
}
std::vector<std::string> names(const merged_page& p) {
  std::vector<std::string> out;
  for (const auto& e : p.items) out.emplace_back(e.item->at("name").as_string());
  return out;
}

TEST(merged_page, a_first_walk_skips_members_that_lack_the_list) {
  auto walk = first_walk(7, {"a", "b", "c"}, {false, true, false});
  ASSERT_EQ(walk.backends.size(), 3u);
  EXPECT_EQ(walk.generation, 7u);
  EXPECT_FALSE(walk.backends[0].done);
  EXPECT_TRUE(walk.backends[1].done);
  EXPECT_TRUE(walk_fits(walk, {"a", "b", "c"}));
  EXPECT_FALSE(walk_fits(walk, {"a", "c", "b"}));
  EXPECT_FALSE(walk_fits(walk, {"a", "b"}));
}

TEST(merged_page, one_page_of_each_member_then_their_cursors) {
  auto walk = first_walk(1, {"a", "b"}, {false, false});
  auto pa = page({"a1", "a2"}, "a-next");
  auto pb = page({"b1"});
  auto p = assemble_page(walk, {&pa, &pb}, "tools", 0, keep);
  EXPECT_EQ(names(p), (std::vector<std::string>{"a1", "a2", "b1"}));
  EXPECT_TRUE(p.more);
  EXPECT_EQ(walk.backends[0].cursor, "a-next");
  EXPECT_FALSE(walk.backends[0].done);
  EXPECT_TRUE(walk.backends[1].done);
  auto pa2 = page({"a3"});
  p = assemble_page(walk, {&pa2, nullptr}, "tools", 0, keep);  // b is done: not looked at
  EXPECT_EQ(names(p), (std::vector<std::string>{"a3"}));
  EXPECT_FALSE(p.more);
  EXPECT_TRUE(p.left_out.empty());
}

TEST(merged_page, a_limit_ends_the_page_inside_a_member_page_and_the_next_resumes_there) {
  auto walk = first_walk(1, {"a", "b"}, {false, false});
  auto pa = page({"a1", "a2", "a3"});
  auto pb = page({"b1"});
  auto p = assemble_page(walk, {&pa, &pb}, "tools", 2, keep);
  EXPECT_EQ(names(p), (std::vector<std::string>{"a1", "a2"}));
  EXPECT_TRUE(p.more);
  EXPECT_EQ(walk.backends[0].skip, 2u);
  EXPECT_EQ(walk.backends[0].cursor, std::nullopt);  // the same member page again
  p = assemble_page(walk, {&pa, &pb}, "tools", 2, keep);
  EXPECT_EQ(names(p), (std::vector<std::string>{"a3", "b1"}));
  EXPECT_FALSE(p.more);
}

TEST(merged_page, a_member_without_a_page_is_left_out_and_done) {
  auto walk = first_walk(1, {"a", "b"}, {false, false});
  auto pb = page({"b1"});
  auto p = assemble_page(walk, {nullptr, &pb}, "tools", 0, keep);
  EXPECT_EQ(names(p), (std::vector<std::string>{"b1"}));
  EXPECT_EQ(p.left_out, (std::vector<std::size_t>{0}));
  EXPECT_TRUE(walk.backends[0].done);
  EXPECT_FALSE(p.more);
  EXPECT_EQ(p.items[0].item, &pb.at("tools").as_array()[0].as_object());  // b's own item
}

TEST(merged_page, hidden_items_and_odd_pages_do_not_stop_the_walk) {
  auto walk = first_walk(1, {"a"}, {false});
  auto pa = page({"keep", "hide", "keep2"}, "");  // an empty nextCursor ends the list
  auto p = assemble_page(walk, {&pa}, "tools", 0, [](std::size_t n, const json::value& item) {
    return item.at("name") == "hide" ? std::nullopt : keep(n, item);
  });
  EXPECT_EQ(names(p), (std::vector<std::string>{"keep", "keep2"}));
  EXPECT_FALSE(p.more);
  auto odd_walk = first_walk(1, {"a"}, {false});
  json::object no_array{{"tools", "not an array"}};
  p = assemble_page(odd_walk, {&no_array}, "tools", 0, keep);
  EXPECT_TRUE(p.items.empty());
  EXPECT_FALSE(p.more);
}

TEST(page_text, items_are_written_as_they_are_with_their_exposed_names_then_the_fields) {
  const json::value a = json::parse(
      R"({"name":"echo","description":"says \"hi\"\n","inputSchema":{"type":"object",)"
      R"("properties":{"t":{"type":"string"}}},"annotations":{"x":[1,2.5,null,true]}})");
  const json::value b = json::parse(R"({"uri":"file:///a","name":"a file"})");
  std::vector<exposed_item> items{{&a.get_object(), "s\"1__echo"},  // escaped as JSON
                                  {&b.get_object(), ""},
                                  {&a.get_object(), ""}};
  const json::object fields{{"nextCursor", "c1"}, {"ttlMs", 5}};
  const auto text = page_text("tools", items, fields);

  // The same as renaming copies in a tree and serializing it.
  json::value renamed = a;
  renamed.get_object()["name"] = "s\"1__echo";
  json::object expected{{"tools", json::array{renamed, b, a}}, {"nextCursor", "c1"}, {"ttlMs", 5}};
  EXPECT_EQ(json::parse(text), expected);
  EXPECT_TRUE(text.starts_with(R"({"tools":[{"name":"s\"1__echo","description":)")) << text;
  EXPECT_TRUE(text.ends_with(R"(],"nextCursor":"c1","ttlMs":5})")) << text;
  EXPECT_EQ(a.at("name"), "echo");  // the member's item is not touched

  EXPECT_EQ(page_text("prompts", {}, {}), R"({"prompts":[]})");
}

TEST(page_text, a_large_item_is_written_whole) {
  // Longer than the writer's buffer, in one string and across many members.
  json::object big{{"name", "big"}, {"description", std::string(10000, 'd')}};
  json::object schema;
  for (int k = 0; k < 500; ++k) schema["p" + std::to_string(k)] = json::object{{"type", "string"}};
  big["inputSchema"] = std::move(schema);
  const json::value item(std::move(big));
  const auto text = page_text("tools", {{&item.get_object(), "x__big"}}, {});
  json::value renamed = item;
  renamed.get_object()["name"] = "x__big";
  EXPECT_EQ(json::parse(text), (json::object{{"tools", json::array{renamed}}}));
}

TEST(merged_cache_fields, the_smallest_ttl_and_private_if_any_member_is) {
  // 2026-07-28 server/utilities/caching: a merge holds no longer than its shortest member.
  json::object a{{"tools", json::array{}}, {"ttlMs", 5000}, {"cacheScope", "public"}};
  json::object b{{"tools", json::array{}}, {"ttlMs", 2000}, {"cacheScope", "public"}};
  json::object c{{"tools", json::array{}}, {"ttlMs", 9000}, {"cacheScope", "private"}};
  json::object legacy{{"tools", json::array{}}};
  EXPECT_EQ(merged_cache_fields({&a, nullptr, &b}),
            (json::object{{"ttlMs", 2000}, {"cacheScope", "public"}}));
  EXPECT_EQ(merged_cache_fields({&a, &c}),
            (json::object{{"ttlMs", 5000}, {"cacheScope", "private"}}));
  // A member that says nothing (a 2025-11-25 backend) leaves the merge unsaid too.
  EXPECT_FALSE(merged_cache_fields({&a, &legacy}));
  EXPECT_FALSE(merged_cache_fields({nullptr}));
}

}  // namespace
}  // namespace mcp_proxy::protocol
