#pragma once
// "2026-12-05T14:31:17.123Z": a time in UTC with milliseconds, as logs, the audit log and
// /readyz write it. Thread-safety: a plain function (gmtime_r).

#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>

namespace mcp_proxy::util {

inline std::string utc_timestamp(std::chrono::system_clock::time_point t) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch());
  const std::time_t secs = static_cast<std::time_t>(ms.count() / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char out[40];
  const auto n = std::strftime(out, sizeof out, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(out + n, sizeof out - n, ".%03dZ", static_cast<int>(ms.count() % 1000));
  return out;
}

}  // namespace mcp_proxy::util
