#include "protocol/versions.hpp"

#include <algorithm>
#include <array>

namespace mcp_proxy::protocol {

namespace {
constexpr std::array<std::string_view, 4> versions = {"2024-11-05", "2025-03-26", "2025-06-18",
                                                      "2025-11-25"};
}  // namespace

std::span<const std::string_view> supported_versions() { return versions; }

bool is_supported_version(std::string_view v) {
  return std::find(versions.begin(), versions.end(), v) != versions.end();
}

era era_of(std::string_view version) {
  // Dates compare lexicographically; 2026-07-28 began the stateless era.
  return version >= std::string_view("2026-07-28") ? era::modern : era::legacy;
}

std::string_view negotiate_version(std::string_view requested) {
  return is_supported_version(requested) ? *std::find(versions.begin(), versions.end(), requested)
                                         : latest_legacy_version;
}

bool requires_version_header(std::string_view v) { return v >= std::string_view("2025-06-18"); }

}  // namespace mcp_proxy::protocol
