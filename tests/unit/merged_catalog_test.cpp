#include "protocol/merged_catalog.hpp"

#include <gtest/gtest.h>
#include <boost/json.hpp>

namespace mcp_proxy::protocol {
namespace {

namespace json = boost::json;

merged_catalog three() {
  return merged_catalog({{"fs", "fs"}, {"git", "git"}, {"raw", ""}}, "__");
}
json::value tool(std::string_view name) {
  return json::object{{"name", name}, {"description", "d"}, {"inputSchema", json::object{}}};
}
auto everyone = [](std::size_t) { return true; };

TEST(merged_catalog, tools_get_the_prefix_and_resolve_back_to_member_and_name) {
  auto c = three();
  std::vector<catalog_note> notes;
  auto exposed = c.expose(1, "tools", tool("log"), notes);
  ASSERT_TRUE(exposed);
  EXPECT_EQ(exposed->at("name"), "git__log");
  EXPECT_EQ(exposed->at("description"), "d");  // everything else passes untouched
  auto back = c.resolve("tool", "git__log");
  ASSERT_TRUE(back);
  EXPECT_EQ(back->member, 1u);
  EXPECT_EQ(back->name, "log");
  EXPECT_FALSE(c.resolve("prompt", "git__log"));  // tools and prompts are apart
  EXPECT_FALSE(c.resolve("tool", "fs__log"));
  EXPECT_TRUE(notes.empty());
}

// A member's page may live in an arena that lives as long as the page is cached: an exposed copy
// must go where the caller says (a request's arena, or the heap), never into the item's arena.
TEST(merged_catalog, exposed_items_are_copies_in_the_callers_storage_not_the_items) {
  auto c = three();
  std::vector<catalog_note> notes;
  const json::storage_ptr page_arena = json::make_shared_resource<json::monotonic_resource>();
  json::monotonic_resource request_arena;
  const json::storage_ptr in_request(&request_arena);
  const json::value item(tool("log"), page_arena);
  const json::value resource(json::object{{"uri", "file:///a"}}, page_arena);

  auto on_heap = c.expose(1, "tools", item, notes);
  ASSERT_TRUE(on_heap);
  EXPECT_EQ(on_heap->storage().get(), json::storage_ptr().get());
  auto in_arena = c.expose(1, "tools", item, notes, in_request);
  ASSERT_TRUE(in_arena);
  EXPECT_EQ(in_arena->storage().get(), &request_arena);
  EXPECT_EQ(in_arena->at("name"), "git__log");
  auto uri = c.expose(0, "resources", resource, notes, in_request);
  ASSERT_TRUE(uri);
  EXPECT_EQ(uri->storage().get(), &request_arena);
  EXPECT_EQ(item.at("name"), "log");  // the page is not touched
}

TEST(merged_catalog, the_member_configured_first_keeps_a_plain_name_whatever_the_order) {
  merged_catalog c({{"a", ""}, {"b", ""}}, "__");
  std::vector<catalog_note> notes;
  EXPECT_EQ(c.expose(1, "tools", tool("echo"), notes)->at("name"), "echo");
  EXPECT_TRUE(notes.empty());
  auto first = c.expose(0, "tools", tool("echo"), notes);
  EXPECT_EQ(first->at("name"), "echo");
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_EQ(notes[0].changed_list, "tools");  // b's clients knew "echo": tell them
  EXPECT_NE(notes[0].text.find("configured first"), std::string::npos);
  EXPECT_EQ(c.resolve("tool", "echo")->member, 0u);
  notes.clear();
  auto again = c.expose(1, "tools", tool("echo"), notes);
  const std::string renamed(again->at("name").as_string());
  EXPECT_TRUE(renamed.starts_with("echo_")) << renamed;
  EXPECT_EQ(c.resolve("tool", renamed)->member, 1u);
}

TEST(merged_catalog, items_without_a_usable_key_are_left_out) {
  auto c = three();
  std::vector<catalog_note> notes;
  EXPECT_FALSE(c.expose(0, "tools", json::object{{"name", 3}}, notes));
  EXPECT_FALSE(c.expose(0, "resources", json::object{{"name", "no uri"}}, notes));
  EXPECT_FALSE(c.expose(0, "resourceTemplates", json::string("x"), notes));
}

TEST(merged_catalog, a_uri_offered_twice_is_served_by_the_member_configured_first) {
  auto c = three();
  std::vector<catalog_note> notes;
  json::value r = json::object{{"uri", "file:///x"}, {"name", "x"}};
  EXPECT_TRUE(c.expose(2, "resources", r, notes));
  EXPECT_TRUE(c.expose(0, "resources", r, notes));   // configured first: it takes the URI
  ASSERT_EQ(notes.size(), 1u);                       // noted once
  EXPECT_FALSE(c.expose(2, "resources", r, notes));  // the later member's copy is left out
  EXPECT_EQ(notes.size(), 1u);
  EXPECT_EQ(c.owner_of_uri("file:///x", everyone), 0u);
  EXPECT_EQ(c.owner_of_uri("file:///x", [](std::size_t i) { return i != 0; }), std::nullopt);
}

TEST(merged_catalog, templates_route_uris_no_list_named_in_member_order) {
  auto c = three();
  std::vector<catalog_note> notes;
  c.expose(2, "resourceTemplates", json::object{{"uriTemplate", "file:///{path}"}}, notes);
  c.expose(1, "resourceTemplates", json::object{{"uriTemplate", "file:///{path}"}}, notes);
  EXPECT_EQ(c.owner_of_uri("file:///a", everyone), 1u);
  EXPECT_EQ(c.owner_of_uri("git://x", everyone), std::nullopt);
  EXPECT_EQ(c.owner_of_template("file:///{path}", [](std::size_t i) { return i == 2; }), 2u);
  c.forget_templates(1);
  EXPECT_EQ(c.owner_of_uri("file:///a", everyone), 2u);
}

TEST(merged_catalog, members_are_found_by_server_name) {
  auto c = three();
  EXPECT_EQ(c.member_index("raw"), 2u);
  EXPECT_EQ(c.member_index("nope"), std::nullopt);
  EXPECT_EQ(c.member(0).prefix, "fs");
}

}  // namespace
}  // namespace mcp_proxy::protocol
