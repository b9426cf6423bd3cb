#include "util/base64.hpp"

#include <gtest/gtest.h>

namespace mcp_proxy::util {
namespace {

TEST(base64, standard_round_trips_with_padding) {
  // RFC 4648 section 10 test vectors.
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  for (std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar", "\xff\xfe\x00\x01"})
    EXPECT_EQ(base64_decode(base64_encode(s)), s);
}

TEST(base64, strict_decoding_refuses_what_no_encoder_writes) {
  EXPECT_EQ(base64_decode("SGVsbG8="), "Hello");
  EXPECT_EQ(base64_decode("SGVsbG8"), std::nullopt);     // padding missing
  EXPECT_EQ(base64_decode("SGVsbG9="), std::nullopt);    // stray low bits
  EXPECT_EQ(base64_decode("SGV*bG8="), std::nullopt);    // not in the alphabet
  EXPECT_EQ(base64_decode("SG=sbG8="), std::nullopt);    // padding inside
  EXPECT_EQ(base64_decode("SGVsbG8=\n"), std::nullopt);  // whitespace
}

TEST(base64, url_safe_is_unpadded) {
  EXPECT_EQ(base64url_encode("\xfb\xff"), "-_8");
  EXPECT_EQ(base64url_decode("-_8"), "\xfb\xff");
  EXPECT_EQ(base64url_decode("-_8="), std::nullopt);
  EXPECT_EQ(base64url_decode("A"), std::nullopt);
}

}  // namespace
}  // namespace mcp_proxy::util
