#include "protocol/line_splitter.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace mcp_proxy::protocol {
namespace {

// Every complete line available now.
std::vector<std::string> drain(line_splitter& s) {
  std::vector<std::string> lines;
  while (auto line = s.next_line()) lines.push_back(std::move(*line));
  return lines;
}

// Feeds `bytes` in pieces of `chunk` bytes, draining after each piece, as a reader loop does.
std::vector<std::string> feed_in_chunks(line_splitter& s, std::string_view bytes,
                                        std::size_t chunk) {
  std::vector<std::string> lines;
  for (std::size_t i = 0; i < bytes.size(); i += chunk) {
    s.feed(bytes.substr(i, chunk));
    for (auto& line : drain(s)) lines.push_back(std::move(line));
  }
  return lines;
}

TEST(line_splitter, no_line_before_its_newline_arrives) {
  line_splitter s;
  EXPECT_FALSE(s.next_line().has_value());
  s.feed(R"({"jsonrpc":"2.0")");
  EXPECT_FALSE(s.next_line().has_value());
  EXPECT_FALSE(s.next_line().has_value());
  s.feed(R"(,"method":"ping"})");
  EXPECT_FALSE(s.next_line().has_value());
  s.feed("\n");
  EXPECT_EQ(s.next_line(), R"({"jsonrpc":"2.0","method":"ping"})");
  EXPECT_FALSE(s.next_line().has_value());
}

TEST(line_splitter, line_fed_byte_by_byte_comes_out_whole) {
  line_splitter s;
  const std::string_view stream =
      "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\n"
      "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\"}\r\n"
      "third\n";
  const auto lines = feed_in_chunks(s, stream, 1);
  EXPECT_EQ(lines, (std::vector<std::string>{R"({"jsonrpc":"2.0","id":1,"method":"ping"})",
                                             R"({"jsonrpc":"2.0","id":2,"method":"tools/list"})",
                                             "third"}));
  EXPECT_EQ(s.pending_bytes(), 0u);
}

TEST(line_splitter, every_chunk_size_gives_the_same_lines) {
  const std::string_view stream = "alpha\nbeta\r\n\n\r\ngamma delta\nepsilon\r\nz\n";
  const std::vector<std::string> expected{"alpha", "beta", "gamma delta", "epsilon", "z"};
  for (std::size_t chunk = 1; chunk <= stream.size(); ++chunk) {
    line_splitter s;
    EXPECT_EQ(feed_in_chunks(s, stream, chunk), expected) << "chunk " << chunk;
    EXPECT_EQ(s.pending_bytes(), 0u) << "chunk " << chunk;
  }
}

TEST(line_splitter, several_lines_in_one_feed) {
  line_splitter s;
  s.feed("one\ntwo\nthree\nfour");
  EXPECT_EQ(s.next_line(), "one");
  EXPECT_EQ(s.next_line(), "two");
  EXPECT_EQ(s.next_line(), "three");
  EXPECT_FALSE(s.next_line().has_value());
  EXPECT_EQ(s.pending_bytes(), 4u);
  s.feed("\n");
  EXPECT_EQ(s.next_line(), "four");
  EXPECT_FALSE(s.next_line().has_value());
}

TEST(line_splitter, crlf_is_stripped) {
  line_splitter s;
  s.feed("a\r\nb\r\n");
  EXPECT_EQ(s.next_line(), "a");
  EXPECT_EQ(s.next_line(), "b");
  EXPECT_FALSE(s.next_line().has_value());
}

TEST(line_splitter, cr_and_lf_in_separate_feeds_are_stripped) {
  line_splitter s;
  s.feed("abc\r");
  EXPECT_FALSE(s.next_line().has_value());
  EXPECT_EQ(s.pending_bytes(), 4u);
  s.feed("\n");
  EXPECT_EQ(s.next_line(), "abc");
}

TEST(line_splitter, only_one_trailing_cr_is_stripped_and_inner_cr_kept) {
  line_splitter s;
  s.feed(
      "a\rb\n"
      "c\r\r\n");
  EXPECT_EQ(s.next_line(), "a\rb");
  EXPECT_EQ(s.next_line(), "c\r");
}

TEST(line_splitter, empty_lines_are_skipped) {
  line_splitter s;
  s.feed("\n\n\r\n\r\nx\n\n\ny\n\r\n");
  EXPECT_EQ(s.next_line(), "x");
  EXPECT_EQ(s.next_line(), "y");
  EXPECT_FALSE(s.next_line().has_value());
  EXPECT_EQ(s.pending_bytes(), 0u);
}

TEST(line_splitter, only_empty_lines_give_nothing) {
  line_splitter s;
  s.feed("\n\r\n\n");
  EXPECT_FALSE(s.next_line().has_value());
  EXPECT_EQ(s.pending_bytes(), 0u);
}

TEST(line_splitter, whitespace_only_line_is_not_empty) {
  line_splitter s;
  s.feed(" \t\n");
  EXPECT_EQ(s.next_line(), " \t");
}

TEST(line_splitter, twenty_megabyte_line_in_64k_chunks_comes_out_intact) {
  constexpr std::size_t size = 20 * 1024 * 1024;
  constexpr std::size_t chunk = 64 * 1024;
  std::string line(size, '\0');
  for (std::size_t i = 0; i < size; ++i) line[i] = static_cast<char>('a' + (i * 7 + i / 977) % 26);
  line.front() = '{';
  line.back() = '}';

  line_splitter s;
  s.feed("before\n");
  std::vector<std::string> lines = drain(s);
  for (std::size_t i = 0; i < size; i += chunk) {
    s.feed(std::string_view(line).substr(i, chunk));
    EXPECT_FALSE(s.next_line().has_value()) << "at " << i;
    ASSERT_EQ(s.pending_bytes(), std::min(i + chunk, size));
  }
  s.feed("\r\nafter\n");
  for (auto& l : drain(s)) lines.push_back(std::move(l));
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0], "before");
  ASSERT_EQ(lines[1].size(), size);
  EXPECT_TRUE(lines[1] == line);
  EXPECT_EQ(lines[2], "after");
  EXPECT_EQ(s.pending_bytes(), 0u);
}

TEST(line_splitter, pending_bytes_reports_the_incomplete_tail) {
  line_splitter s;
  EXPECT_EQ(s.pending_bytes(), 0u);
  s.feed("abc");
  EXPECT_EQ(s.pending_bytes(), 3u);
  s.feed("\nde");
  // Nothing consumed yet: the whole buffer is pending.
  EXPECT_EQ(s.pending_bytes(), 6u);
  EXPECT_EQ(s.next_line(), "abc");
  EXPECT_EQ(s.pending_bytes(), 2u);
  EXPECT_FALSE(s.next_line().has_value());
  EXPECT_EQ(s.pending_bytes(), 2u);
  s.feed("f\r");
  EXPECT_EQ(s.pending_bytes(), 4u);
  EXPECT_FALSE(s.next_line().has_value());
  s.feed("\n");
  EXPECT_EQ(s.next_line(), "def");
  EXPECT_EQ(s.pending_bytes(), 0u);
}

TEST(line_splitter, after_many_lines_only_the_tail_is_pending) {
  line_splitter s;
  std::string stream;
  for (int i = 0; i < 10000; ++i)
    stream += "{\"jsonrpc\":\"2.0\",\"method\":\"n\",\"i\":" + std::to_string(i) + "}\n";
  stream += "partial";
  // One big feed, then many small ones: both must end with only the tail pending.
  s.feed(stream);
  auto lines = drain(s);
  EXPECT_EQ(lines.size(), 10000u);
  EXPECT_EQ(lines.back(), R"({"jsonrpc":"2.0","method":"n","i":9999})");
  EXPECT_EQ(s.pending_bytes(), 7u);

  s.feed("-end\n");
  EXPECT_EQ(s.next_line(), "partial-end");

  line_splitter small;
  lines = feed_in_chunks(small, stream, 13);
  EXPECT_EQ(lines.size(), 10000u);
  EXPECT_EQ(small.pending_bytes(), 7u);
  small.feed("\n");
  EXPECT_EQ(small.next_line(), "partial");
  EXPECT_EQ(small.pending_bytes(), 0u);
}

TEST(line_splitter, keeps_splitting_correctly_across_compactions) {
  // Lines whose newline lands at every offset of a feed, so the buffer is compacted while a
  // partly scanned tail is pending; every line must still come out exactly once and intact.
  std::vector<std::string> expected;
  std::string stream;
  for (int i = 0; i < 500; ++i) {
    std::string line(static_cast<std::size_t>(i % 37 + 1), static_cast<char>('A' + i % 26));
    line += std::to_string(i);
    expected.push_back(line);
    stream += line;
    stream += i % 3 == 0 ? "\r\n" : "\n";
  }
  for (std::size_t chunk : {1u, 2u, 5u, 64u, 1000u}) {
    line_splitter t;
    EXPECT_EQ(feed_in_chunks(t, stream, chunk), expected) << "chunk " << chunk;
    EXPECT_EQ(t.pending_bytes(), 0u);
  }
}

TEST(line_splitter, a_line_at_the_limit_passes_and_one_byte_more_overflows) {
  line_splitter s(10);
  s.feed("0123456789\r\nshort\n");
  EXPECT_EQ(s.next_line(), "0123456789");  // the \r is not counted
  EXPECT_EQ(s.next_line(), "short");
  EXPECT_FALSE(s.overflowed());
  s.feed("0123456789A\nafter\n");
  EXPECT_EQ(s.next_line(), std::nullopt);
  EXPECT_TRUE(s.overflowed());
  EXPECT_EQ(s.pending_bytes(), 0u);
  s.feed("more\n");  // ignored from now on
  EXPECT_EQ(s.next_line(), std::nullopt);
}

TEST(line_splitter, an_endless_line_overflows_before_its_newline_and_frees_what_it_held) {
  line_splitter s(1000);
  const std::string zeros(300, '\0');
  int fed = 0;
  while (!s.overflowed() && fed < 100) {
    s.feed(zeros);
    ++fed;
    EXPECT_EQ(s.next_line(), std::nullopt);
  }
  EXPECT_TRUE(s.overflowed());
  EXPECT_EQ(fed, 4);  // 1200 bytes pending is the first state over 1000
  EXPECT_EQ(s.pending_bytes(), 0u);
}

}  // namespace
}  // namespace mcp_proxy::protocol
