#include "protocol/naming.hpp"

#include <gtest/gtest.h>

#include <set>

namespace mcp_proxy::protocol {
namespace {

TEST(naming, prefix_and_separator_make_the_plain_exposed_name) {
  EXPECT_EQ(expose_name("fs", "fs", "__", "read_file"), "fs__read_file");
  EXPECT_EQ(expose_name("fs", "", "__", "read_file"), "read_file") << "an empty prefix";
  EXPECT_EQ(expose_name("fs", "files", "-", "read"), "files-read");
}

TEST(naming, invalid_or_long_names_get_a_stable_valid_form_with_a_hash) {
  const std::string long_name(80, 'n');
  auto a = expose_name("srv", "srv", "__", long_name);
  EXPECT_TRUE(is_valid_exposed_name(a)) << a;
  EXPECT_EQ(a.size(), max_exposed_name);
  EXPECT_TRUE(a.ends_with("_" + short_hash("srv", long_name))) << a;
  EXPECT_EQ(a, expose_name("srv", "srv", "__", long_name)) << "stable";
  auto dotted = expose_name("s", "my.server", "__", "get weather/now");
  EXPECT_TRUE(is_valid_exposed_name(dotted)) << dotted;
  EXPECT_TRUE(dotted.starts_with("my_server__get_weather_now_")) << dotted;
  // Two originals that sanitize alike stay apart.
  EXPECT_NE(expose_name("s", "", "__", "a.b"), expose_name("s", "", "__", "a/b"));
  EXPECT_TRUE(is_valid_exposed_name(expose_name("s", "", "__", "")));
}

TEST(naming, validity_is_the_clients_pattern) {
  EXPECT_TRUE(is_valid_exposed_name("a"));
  EXPECT_TRUE(is_valid_exposed_name("A-z_09"));
  EXPECT_TRUE(is_valid_exposed_name(std::string(64, 'x')));
  EXPECT_FALSE(is_valid_exposed_name(std::string(65, 'x')));
  EXPECT_FALSE(is_valid_exposed_name(""));
  EXPECT_FALSE(is_valid_exposed_name("a.b"));
  EXPECT_FALSE(is_valid_exposed_name("a b"));
}

TEST(naming, the_table_maps_back_without_splitting_on_the_separator) {
  name_table t;
  // Prefixes and names that contain the separator: splitting on "__" would go wrong.
  auto a = t.add("a__b", "a__b", "__", "c");
  auto b = t.add("a", "a", "__", "b__c");
  EXPECT_EQ(a.exposed, "a__b__c");
  EXPECT_NE(b.exposed, a.exposed) << "the second one collides and is renamed";
  ASSERT_TRUE(b.collided_with);
  EXPECT_EQ(*b.collided_with, (name_table::origin{"a__b", "c"}));
  EXPECT_EQ(t.resolve(a.exposed), (name_table::origin{"a__b", "c"}));
  EXPECT_EQ(t.resolve(b.exposed), (name_table::origin{"a", "b__c"}));
  EXPECT_FALSE(t.resolve("a__b"));
  // Adding the same item again gives the same name and no collision.
  auto again = t.add("a", "a", "__", "b__c");
  EXPECT_EQ(again.exposed, b.exposed);
  EXPECT_FALSE(again.collided_with);
}

TEST(naming, collisions_resolve_deterministically_and_forget_frees_names) {
  auto build = [] {
    name_table t;
    std::vector<std::string> names;
    for (const char* server : {"x", "y", "z"})
      names.push_back(t.add(server, "", "__", "same").exposed);
    return names;
  };
  auto first = build();
  EXPECT_EQ(first, build());
  EXPECT_EQ(first[0], "same");
  EXPECT_EQ(std::set<std::string>(first.begin(), first.end()).size(), 3u);
  for (const auto& n : first) EXPECT_TRUE(is_valid_exposed_name(n)) << n;

  name_table t;
  t.add("x", "", "__", "same");
  t.add("x", "", "__", "other");
  t.forget_server("x");
  EXPECT_EQ(t.size(), 0u);
  EXPECT_EQ(t.add("y", "", "__", "same").exposed, "same");
}

TEST(name_table, the_server_configured_first_keeps_the_plain_name_whatever_the_order) {
  name_table t;
  auto late = t.add("second", "", "__", "echo", 1);
  EXPECT_EQ(late.exposed, "echo");
  auto early = t.add("first", "", "__", "echo", 0);
  EXPECT_EQ(early.exposed, "echo");
  ASSERT_TRUE(early.collided_with);
  EXPECT_EQ(early.collided_with->server, "second");
  ASSERT_TRUE(early.renamed_other);
  EXPECT_TRUE(early.renamed_other->starts_with("echo_")) << *early.renamed_other;
  EXPECT_EQ(t.resolve("echo")->server, "first");
  EXPECT_EQ(t.resolve(*early.renamed_other)->server, "second");
  // The renamed one keeps its new name, and it is the name it would have had from the start.
  EXPECT_EQ(t.add("second", "", "__", "echo", 1).exposed, *early.renamed_other);
  name_table in_order;
  in_order.add("first", "", "__", "echo", 0);
  EXPECT_EQ(in_order.add("second", "", "__", "echo", 1).exposed, *early.renamed_other);
}

}  // namespace
}  // namespace mcp_proxy::protocol
