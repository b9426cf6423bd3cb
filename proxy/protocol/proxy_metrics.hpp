#pragma once
// What GET /metrics reports (issue #17, docs/operations.md "Metrics"): the proxy's counters,
// gauges and latency histograms, kept as plain integers, and their text (protocol/metrics_text).
//
// The hooks are cheap by design (issue #18, CPU per call): a series is found by a packed
// integer key (route, backend and method as small numbers: names are interned once, methods
// are a fixed table with "other" for the rest, so no label string is built per call and the
// number of series is bounded by the configuration); observing a latency is a search among 14
// bounds and three additions. Nothing is counted while the registry is off
// (mcpProxy.metrics.enabled: false), beyond the test of one bool.
//
// Thread-safety: none; every hook runs on the proxy's one I/O thread (the stdin reader thread
// only posts lines to it). The registry is process-wide, like the call limits.

#include "jsonrpc/message.hpp"
#include "protocol/readiness.hpp"
#include "util/string_map.hpp"

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace mcp_proxy::protocol::metrics {

using clock = std::chrono::steady_clock;

// Latency bucket bounds, in seconds (from 1 ms to 2 min: a tool call may run long).
inline constexpr std::array<double, 14> latency_bounds_s{0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                         0.5,   1,     2.5,  5,     10,   30,  120};

struct latency_histogram {
  std::array<std::uint64_t, latency_bounds_s.size() + 1> counts{};  // per bucket, +Inf last
  std::uint64_t sum_us = 0;
  void observe(clock::duration d);
};

// How a client request ended, as the audit log says it (frontend/audit_log.hpp).
enum class outcome : std::uint8_t { ok, error, refused, timeout, no_answer };
inline constexpr std::size_t outcome_count = 5;
outcome outcome_of(const jsonrpc::message& answer);
std::string_view outcome_name(outcome o);

// Which limit of mcpProxy.limits refused a request (auth::identity_limits::refusal::what).
enum class limit_kind : std::uint8_t { requests, tool_calls, tool_pattern, calls_in_flight };
inline constexpr std::size_t limit_kind_count = 4;
limit_kind limit_kind_of(std::string_view what);
std::string_view limit_kind_name(limit_kind k);

// A client session's era (modern: the session the proxy opens for one 2026-07-28 request) and
// the mode of the endpoint that holds it.
enum class session_era : std::uint8_t { legacy, modern };
enum class session_mode : std::uint8_t { shared, per_client, merged };

using name_id = std::uint32_t;   // an interned route or backend name; 0 is ""
using method_id = std::uint8_t;  // an index in the method table

class registry;

// One open client session, counted while it is held (movable; released when destroyed).
class session_count {
 public:
  session_count() = default;
  session_count(session_count&& o) noexcept : n_(std::exchange(o.n_, nullptr)) {}
  session_count& operator=(session_count&& o) noexcept {
    if (this != &o) {
      release();
      n_ = std::exchange(o.n_, nullptr);
    }
    return *this;
  }
  session_count(const session_count&) = delete;
  session_count& operator=(const session_count&) = delete;
  ~session_count() { release(); }
  void release() {
    if (n_) --*n_;
    n_ = nullptr;
  }

 private:
  friend class registry;
  explicit session_count(std::int64_t* n) : n_(n) { ++*n_; }
  std::int64_t* n_ = nullptr;
};

class registry {
 public:
  bool on() const { return on_; }
  void set_on(bool on) { on_ = on; }

  name_id name(std::string_view route_or_backend);
  std::string_view name_of(name_id id) const;
  static method_id method(std::string_view m);
  static std::string_view method_name(method_id m);

  // A client request answered (or refused, or never answered) after `took`.
  void answered(name_id route, method_id m, name_id backend, outcome o, clock::duration took);
  // A backend's answer to a call, `took` after it was forwarded.
  void backend_answered(name_id backend, method_id m, clock::duration took);
  void client_received(std::uint64_t bytes) { client_bytes_[0] += bytes; }
  void client_sent(std::uint64_t bytes) { client_bytes_[1] += bytes; }
  void backend_received(name_id backend, std::uint64_t bytes) {
    backend_bytes_[backend][0] += bytes;
  }
  void backend_sent(name_id backend, std::uint64_t bytes) { backend_bytes_[backend][1] += bytes; }
  // A member of a merged endpoint left out of a fan-out (a list, a session's start).
  void left_out(std::string_view route, std::string_view member);
  void refused(limit_kind k) { ++refused_[static_cast<std::size_t>(k)]; }
  void call_started(name_id route) { ++in_flight_[route]; }
  void call_ended(name_id route) { --in_flight_[route]; }
  session_count session_opened(session_era era, session_mode mode) {
    return session_count(&sessions_[static_cast<std::size_t>(era)][static_cast<std::size_t>(mode)]);
  }

  // Messages waiting in one route's client sessions for their streams (read at a scrape).
  struct route_queue {
    std::string route;
    std::size_t messages = 0;
  };
  // What a scrape needs besides the counters: every backend's state (disabled ones included),
  // the version and the routes' session queues. The whole exposition text.
  std::string render(std::span<const backend_status> backends, std::string_view version,
                     std::span<const route_queue> queues = {}) const;

  // Forgets every count (tests).
  void reset();

 private:
  bool on_ = false;
  util::string_map<name_id> ids_;
  std::vector<std::string> names_{std::string()};
  // Key: route << 40 | backend << 16 | method << 8 | outcome (names below 2^24).
  std::unordered_map<std::uint64_t, std::uint64_t> requests_;
  // Key: name << 8 | method.
  std::unordered_map<std::uint64_t, latency_histogram> client_latency_;
  std::unordered_map<std::uint64_t, latency_histogram> backend_latency_;
  std::array<std::uint64_t, 2> client_bytes_{};
  std::unordered_map<name_id, std::array<std::uint64_t, 2>> backend_bytes_;
  std::map<std::pair<std::string, std::string>, std::uint64_t> left_out_;
  std::array<std::uint64_t, limit_kind_count> refused_{};
  std::unordered_map<name_id, std::int64_t> in_flight_;
  std::array<std::array<std::int64_t, 3>, 2> sessions_{};
};

// The process's registry.
registry& metrics();

}  // namespace mcp_proxy::protocol::metrics
