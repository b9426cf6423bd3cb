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

// The name an exposed item is shown under.
std::string shown(const std::optional<exposed_item>& e) {
  if (!e) return "(left out)";
  return e->name.empty() ? std::string(e->item->at("name").as_string()) : e->name;
}

TEST(merged_catalog, tools_get_the_prefix_and_resolve_back_to_member_and_name) {
  auto c = three();
  std::vector<catalog_note> notes;
  const auto log = tool("log");
  auto exposed = c.expose(1, "tools", log, notes);
  ASSERT_TRUE(exposed);
  EXPECT_EQ(exposed->name, "git__log");
  auto back = c.resolve("tool", "git__log");
  ASSERT_TRUE(back);
  EXPECT_EQ(back->member, 1u);
  EXPECT_EQ(back->name, "log");
  EXPECT_FALSE(c.resolve("prompt", "git__log"));  // tools and prompts are apart
  EXPECT_FALSE(c.resolve("tool", "fs__log"));
  EXPECT_TRUE(notes.empty());
}

// A member's page may be cached and shared by concurrent merges: exposing an item neither copies
// nor changes it; the exposed name travels beside it (page_text writes it in).
TEST(merged_catalog, an_exposed_item_is_the_members_own_item_untouched) {
  auto c = three();
  std::vector<catalog_note> notes;
  const auto log = tool("log");
  const json::value resource = json::object{{"uri", "file:///a"}};
  auto renamed = c.expose(1, "tools", log, notes);
  ASSERT_TRUE(renamed);
  EXPECT_EQ(renamed->item, &log.get_object());
  EXPECT_EQ(log.at("name"), "log");
  auto plain = c.expose(2, "tools", log, notes);  // no prefix: shown under its own name
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->item, &log.get_object());
  EXPECT_EQ(plain->name, "");
  auto uri = c.expose(0, "resources", resource, notes);
  ASSERT_TRUE(uri);
  EXPECT_EQ(uri->item, &resource.get_object());
  EXPECT_EQ(uri->name, "");
}

TEST(merged_catalog, the_member_configured_first_keeps_a_plain_name_whatever_the_order) {
  merged_catalog c({{"a", ""}, {"b", ""}}, "__");
  std::vector<catalog_note> notes;
  const auto echo = tool("echo");
  EXPECT_EQ(shown(c.expose(1, "tools", echo, notes)), "echo");
  EXPECT_TRUE(notes.empty());
  EXPECT_EQ(shown(c.expose(0, "tools", echo, notes)), "echo");
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_EQ(notes[0].changed_list, "tools");  // b's clients knew "echo": tell them
  EXPECT_NE(notes[0].text.find("configured first"), std::string::npos);
  EXPECT_EQ(c.resolve("tool", "echo")->member, 0u);
  notes.clear();
  const std::string renamed = shown(c.expose(1, "tools", echo, notes));
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
