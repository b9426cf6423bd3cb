#pragma once
// The decisions of backend supervision (issue #17, "Supervision and readiness"), without I/O:
// what a ping's answer or miss means for a backend (ping_watch), and how long to wait before a
// restart (restart_delay). core/server_endpoint carries them out.
// Thread-safety: plain values and functions.

#include <chrono>
#include <cstdint>

namespace mcp_proxy::protocol {

// Counts a backend's unanswered pings. Every MCP server answers ping (spec basic/utilities/ping;
// a 2026-07-28 server is asked server/discover instead, by the era adapter). Its answer is due
// before the next ping is sent; `misses_allowed` (pingMisses) misses in a row mean it is hung.
class ping_watch {
 public:
  enum class verdict {
    none,       // nothing changed
    degraded,   // the first miss of a run: it answers no more, for now
    recovered,  // it answered after one or more misses
    restart,    // the misses reached misses_allowed: restart it (the count starts again)
  };
  explicit ping_watch(std::uint64_t misses_allowed)
      : misses_allowed_(misses_allowed < 1 ? 1 : misses_allowed) {}

  verdict on_answer();
  verdict on_miss();
  // Misses in a row so far (0 after an answer or a restart verdict).
  std::uint64_t misses() const { return misses_; }
  std::uint64_t misses_allowed() const { return misses_allowed_; }

 private:
  std::uint64_t misses_allowed_;
  std::uint64_t misses_ = 0;
};

// The wait before restart attempt `attempt` (0 for the first) of a backend that went away: 1 s,
// doubling to 30 s, of which a random part is taken off ("equal jitter": between half and all of
// it), so that backends that failed together (a network outage, a shared dependency) do not
// come back in step. `unit_random` is a number in [0, 1) the caller draws.
std::chrono::milliseconds restart_delay(std::uint64_t attempt, double unit_random);

inline constexpr std::chrono::milliseconds first_restart_delay{1000};
inline constexpr std::chrono::milliseconds max_restart_delay{30'000};

}  // namespace mcp_proxy::protocol
