#include "protocol/versions.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

namespace mcp_proxy::protocol {
namespace {

TEST(versions, supported_list_is_the_legacy_versions_oldest_first) {
  const auto versions = supported_versions();
  const std::vector<std::string_view> got(versions.begin(), versions.end());
  EXPECT_EQ(
      got, (std::vector<std::string_view>{"2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"}));
  EXPECT_TRUE(std::is_sorted(got.begin(), got.end()));
  EXPECT_EQ(got.back(), latest_legacy_version);
  EXPECT_NE(std::find(got.begin(), got.end(), default_http_version), got.end());
}

TEST(versions, is_supported_version_accepts_exactly_the_list) {
  for (auto v : supported_versions()) EXPECT_TRUE(is_supported_version(v)) << v;
  for (std::string_view v : {"", "2024-11-04", "2025-11-26", "2026-07-28", "2025-06-18 ",
                             "2025-6-18", "latest", "2025-03-26\n"}) {
    EXPECT_FALSE(is_supported_version(v)) << v;
  }
}

TEST(versions, negotiate_returns_the_requested_version_when_supported) {
  for (auto v : supported_versions()) EXPECT_EQ(negotiate_version(v), v);
}

TEST(versions, negotiate_returns_latest_for_unsupported_versions) {
  for (std::string_view v :
       {"", "1.0", "2024-01-01", "2025-11-26", "2026-07-28", "9999-12-31", "garbage"}) {
    EXPECT_EQ(negotiate_version(v), latest_legacy_version) << v;
  }
  EXPECT_EQ(negotiate_version("2099-01-01"), "2025-11-25");
}

TEST(versions, negotiated_version_outlives_the_request_buffer) {
  // The answer must not view the caller's string: it is stored after the request is gone.
  std::string requested = "2025-03-26";
  const std::string_view answer = negotiate_version(requested);
  requested.assign("XXXX-XX-XX");
  EXPECT_EQ(answer, "2025-03-26");
}

TEST(versions, every_supported_version_is_legacy_era) {
  for (auto v : supported_versions()) EXPECT_EQ(era_of(v), era::legacy) << v;
}

TEST(versions, stateless_versions_are_modern_era) {
  EXPECT_EQ(era_of("2026-07-28"), era::modern);
  EXPECT_EQ(era_of("2026-12-01"), era::modern);
  EXPECT_EQ(era_of("2027-01-01"), era::modern);
  EXPECT_EQ(era_of("2026-07-27"), era::legacy);
  EXPECT_EQ(era_of("2024-11-05"), era::legacy);
}

TEST(versions, version_header_required_from_2025_06_18) {
  EXPECT_FALSE(requires_version_header("2024-11-05"));
  EXPECT_FALSE(requires_version_header("2025-03-26"));
  EXPECT_FALSE(requires_version_header("2025-06-17"));
  EXPECT_TRUE(requires_version_header("2025-06-18"));
  EXPECT_TRUE(requires_version_header("2025-11-25"));
  EXPECT_TRUE(requires_version_header("2026-07-28"));
}

}  // namespace
}  // namespace mcp_proxy::protocol

namespace mcp_proxy::protocol {

TEST(versions, strings_that_are_not_dates_are_legacy_and_need_no_header) {
  EXPECT_EQ(era_of("garbage"), era::legacy);
  EXPECT_EQ(era_of("draft"), era::legacy);
  EXPECT_FALSE(requires_version_header("zzzz"));
}

}  // namespace mcp_proxy::protocol
