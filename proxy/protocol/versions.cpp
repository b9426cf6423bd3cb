#include "protocol/versions.hpp"

#include <algorithm>
#include <array>

namespace mcp_proxy::protocol {

namespace {
constexpr std::array<std::string_view, 4> versions = {"2024-11-05", "2025-03-26", "2025-06-18",
                                                      "2025-11-25"};
}  // namespace

std::span<const std::string_view> supported_versions() {
  return versions;
}

bool is_supported_version(std::string_view v) {
  return std::find(versions.begin(), versions.end(), v) != versions.end();
}

namespace {
// "YYYY-MM-DD": only such strings may be compared as dates.
bool is_date(std::string_view v) {
  if (v.size() != 10 || v[4] != '-' || v[7] != '-') return false;
  for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
    if (v[i] < '0' || v[i] > '9') return false;
  return true;
}
}  // namespace

era era_of(std::string_view version) {
  // Dates compare lexicographically; 2026-07-28 began the stateless era. Anything that is not a
  // date is treated as legacy (the era every client speaks today).
  return is_date(version) && version >= std::string_view("2026-07-28") ? era::modern : era::legacy;
}

std::string_view negotiate_version(std::string_view requested) {
  return is_supported_version(requested) ? *std::find(versions.begin(), versions.end(), requested)
                                         : latest_legacy_version;
}

bool requires_version_header(std::string_view v) {
  return is_date(v) && v >= std::string_view("2025-06-18");
}

bool primes_sse_streams(std::string_view v) {
  return is_date(v) && v >= std::string_view("2025-11-25");
}

}  // namespace mcp_proxy::protocol
