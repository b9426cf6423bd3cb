#pragma once
// What GET /readyz answers (issue #17, "Supervision and readiness"), decided without I/O: from
// the state of each backend and the rule of mcpProxy.readiness, whether the proxy is ready (200)
// or not (503), and the JSON body that lists every backend. The body is served without a token:
// it holds backend names, states and the error texts clients already get for an unavailable
// backend (which name the backend, never a command, path, URL or token).
// Thread-safety: plain values and functions.

#include "protocol/versions.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace mcp_proxy::protocol {

// The states of issue #17. What the proxy tells apart today (core/server_endpoint.cpp):
// starting (the first start is under way), ready, degraded (it missed its last ping, fewer than
// pingMisses in a row; it is still used, but counts as not ready), backing-off (down: it failed
// to start, went away or was restarted for missed pings, and is started again with a growing
// delay), stopped (the proxy is shutting down), disabled (options.disabled).
enum class backend_state { starting, ready, degraded, backing_off, stopped, disabled };
std::string_view state_name(backend_state s);

struct backend_status {
  std::string name;
  backend_state state = backend_state::starting;
  std::chrono::system_clock::time_point since{};  // when it entered `state` (shown in UTC)
  std::string last_error;                         // empty: none yet
  std::uint64_t restarts = 0;                     // starts after the first
  std::optional<era> backend_era;                 // nullopt: not known
  std::string transport;                          // "stdio", "streamable-http", "sse"
};

// mcpProxy.readiness: "all" (every enabled backend ready), "any" (one is), or {"servers": [...]}
// (each named one is).
struct readiness_rule {
  enum class kind { all, any, servers };
  kind rule = kind::all;
  std::vector<std::string> servers;  // with kind::servers
  bool operator==(const readiness_rule&) const = default;
};

struct readiness_answer {
  bool ready = false;
  std::string body;  // {"ready": ..., "rule": ..., "backends": {NAME: {...}}}
};

// Disabled backends count for no rule. "all" with no enabled backend is ready (nothing to wait
// for); "any" then is not. A named server without a status is not ready.
bool is_ready(std::span<const backend_status> backends, const readiness_rule& rule);
readiness_answer answer_readiness(std::span<const backend_status> backends,
                                  const readiness_rule& rule);

}  // namespace mcp_proxy::protocol
