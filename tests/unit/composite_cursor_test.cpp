#include "protocol/composite_cursor.hpp"

#include <gtest/gtest.h>

namespace mcp_proxy::protocol {
namespace {

composite_cursor sample() {
  return {7,
          {{"fs", std::string("page-2"), false, 3},
           {"web", std::nullopt, true, 0},
           {"db", std::string(""), false, 0},
           {"new", std::nullopt, false, 12}}};
}

TEST(composite_cursor, round_trips_every_backend_position) {
  cursor_codec codec("k");
  auto text = codec.encode(sample());
  EXPECT_EQ(
      text.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
      std::string::npos)
      << "URL-safe, no padding: " << text;
  auto back = codec.decode(text, 7);
  ASSERT_TRUE(back) << back.error();
  EXPECT_EQ(*back, sample());
}

TEST(composite_cursor, a_changed_byte_anywhere_is_refused) {
  cursor_codec codec("k");
  const auto text = codec.encode(sample());
  for (std::size_t i = 0; i < text.size(); ++i) {
    std::string t = text;
    t[i] = t[i] == 'A' ? 'B' : 'A';
    auto r = codec.decode(t, 7);
    EXPECT_FALSE(r) << "position " << i;  // also the last one, with its padding bits
  }
  for (const char* extra : {"A", "x", "AA", "AAAA"})
    EXPECT_FALSE(codec.decode(text + extra, 7)) << "appended " << extra;
}

TEST(composite_cursor, stale_foreign_and_garbage_cursors_are_refused_with_a_reason) {
  cursor_codec codec("k");
  auto stale = codec.decode(codec.encode(sample()), 8);
  ASSERT_FALSE(stale);
  EXPECT_NE(stale.error().find("stale"), std::string::npos);
  cursor_codec other("another key");
  EXPECT_FALSE(other.decode(codec.encode(sample()), 7));
  for (std::string_view junk : {"", "x", "!!!!", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "page:5"})
    EXPECT_FALSE(codec.decode(junk, 7)) << junk;
  cursor_codec random_key;  // the default: a key of this process
  EXPECT_TRUE(random_key.decode(random_key.encode(sample()), 7));
  EXPECT_FALSE(codec.decode(random_key.encode(sample()), 7));
}

}  // namespace
}  // namespace mcp_proxy::protocol
