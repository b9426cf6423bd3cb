#include "protocol/patterns.hpp"

#include <gtest/gtest.h>

using namespace mcp_proxy::protocol;

TEST(glob, star_and_question_mark) {
  EXPECT_TRUE(glob_match("read_*", "read_file"));
  EXPECT_TRUE(glob_match("read_*", "read_"));
  EXPECT_FALSE(glob_match("read_*", "write_file"));
  EXPECT_TRUE(glob_match("*", ""));
  EXPECT_TRUE(glob_match("a?c", "abc"));
  EXPECT_FALSE(glob_match("a?c", "ac"));
  EXPECT_TRUE(glob_match("*_file", "read_file"));
  EXPECT_TRUE(glob_match("a*b*c", "aXXbYYc"));
  EXPECT_FALSE(glob_match("a*b*c", "aXXbYY"));
  EXPECT_TRUE(glob_match("exact", "exact"));
  EXPECT_FALSE(glob_match("exact", "exactly"));
}

TEST(glob, hostile_pattern_stays_fast) {
  std::string text(5000, 'a');
  std::string pattern;
  for (int i = 0; i < 200; ++i) pattern += "a*";
  pattern += "b";
  EXPECT_FALSE(glob_match(pattern, text));  // finishes: one backtrack point, not exponential
}

TEST(glob, any_of_a_list) {
  std::vector<std::string> list{"echo", "fs_*"};
  EXPECT_TRUE(any_glob_matches(list, "fs_read"));
  EXPECT_TRUE(any_glob_matches(list, "echo"));
  EXPECT_FALSE(any_glob_matches(list, "add"));
  EXPECT_FALSE(any_glob_matches({}, "add"));
}

TEST(uri_template, simple_expression_is_one_segment) {
  EXPECT_TRUE(uri_template_matches("file:///{path}", "file:///a.txt"));
  EXPECT_FALSE(uri_template_matches("file:///{path}", "file:///dir/a.txt"));
  EXPECT_FALSE(uri_template_matches("file:///{path}", "file:///"));
  EXPECT_TRUE(uri_template_matches("test://template/{id}/data", "test://template/42/data"));
  EXPECT_FALSE(uri_template_matches("test://template/{id}/data", "test://template/42/other"));
  EXPECT_FALSE(uri_template_matches("test://template/{id}/data", "other://template/42/data"));
}

TEST(uri_template, reserved_expression_spans_segments) {
  EXPECT_TRUE(uri_template_matches("file:///{+path}", "file:///dir/a.txt"));
  EXPECT_TRUE(uri_template_matches("repo://{owner}/{repo}/{+path}", "repo://me/proj/src/x.cc"));
}

TEST(uri_template, operators) {
  EXPECT_TRUE(uri_template_matches("api://items{?page,size}", "api://items?page=2&size=3"));
  EXPECT_TRUE(uri_template_matches("api://items{?page}", "api://items"));
  EXPECT_TRUE(uri_template_matches("api://x{/seg}", "api://x/abc"));
  EXPECT_TRUE(uri_template_matches("doc://a{#frag}", "doc://a#top"));
}

TEST(uri_template, literal_only_and_malformed) {
  EXPECT_TRUE(uri_template_matches("mem://fixed", "mem://fixed"));
  EXPECT_FALSE(uri_template_matches("mem://fixed", "mem://fixed2"));
  EXPECT_FALSE(uri_template_matches("mem://{open", "mem://open"));
  EXPECT_FALSE(uri_template_matches("mem://close}", "mem://close}"));
}
