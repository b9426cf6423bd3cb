#pragma once
// Limits per identity (issue #16), sans-io: how many requests and tool calls an identity may
// make per second (token buckets, with a burst), how many calls of the tools matching a pattern,
// and how many calls it may have in flight at once. The caller passes the time and the identity
// (the principal that auth gives each request: "token:NAME", "jwt:SUB", "introspection:SUB", or
// "" for every unauthenticated client together) and turns a refusal into its answer (HTTP 429
// with Retry-After, or a JSON-RPC error naming the limit).
//
// A request is admitted by admit_request; a tools/call is also a request, and is admitted by
// admit_tool_call in addition. A call in flight holds a call_slot from acquire_call until its
// answer is sent.
//
// Memory is bounded: the buckets of at most max_principals identities are kept. Full buckets
// carry nothing worth keeping (a dropped identity comes back exactly as it was), so room is made
// by dropping an identity whose buckets are all full; only when none is, the one nearest to full
// is dropped (it is forgiven what it took: a new identity starts full). The counts of calls in
// flight are kept apart, one entry per identity holding a slot, gone with its last slot.
//
// Thread-safety: none. token_bucket and identity_limits have one owner and are used on one thread
// (the listener's executor); call_slot must be released (destroyed) on that thread too. A slot
// may outlive the identity_limits that gave it (its count lives in a shared table).

#include "util/string_map.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace mcp_proxy::auth {

using limits_clock = std::chrono::steady_clock;

// A token bucket: holds up to `burst` tokens, refilled continuously at `per_second`; starts
// full. The clock starts at the first call that passes a time. Time that goes backwards refills
// nothing (and the later forward steps are counted from the latest time seen); a long idle
// refills up to the burst, no further.
class token_bucket {
 public:
  using clock = limits_clock;

  // per_second > 0 and burst >= 1, both finite (settings_problem checks this for the config);
  // values outside are clamped into [1e-6, 1e9] and [1, 1e9], so nothing undefined follows.
  token_bucket(double per_second, double burst);

  // Takes one token if there is one at `now`.
  bool take(clock::time_point now);
  bool can_take(clock::time_point now) const;
  // How long until one token is there, in whole seconds rounded up, at least 1 s (a
  // Retry-After of 0 invites a retry loop), at most 1e9 s.
  std::chrono::seconds retry_after(clock::time_point now) const;

  double tokens(clock::time_point now) const;  // what it holds at `now` (fractional)
  // When it will be full again if nothing is taken; time_point::min() when never used.
  clock::time_point full_at() const;

  double per_second() const { return per_second_; }
  double burst() const { return burst_; }

 private:
  double per_second_;
  double burst_;
  double tokens_;                          // at last_
  std::optional<clock::time_point> last_;  // the latest time seen by take
};

// One limit on the tools whose (routed) names match a glob (protocol/patterns.hpp glob_match:
// `*` any run, `?` one character). All calls of all matching tools share one bucket per identity.
struct tool_limit {
  std::string pattern;
  double calls_per_second = 0;  // > 0
  double burst = 0;             // >= 1; 0: not given (see limit_settings)
  bool operator==(const tool_limit&) const = default;
};

// The limits of one identity. An unset rate (or max_calls_in_flight) is no limit. A burst of 0 is
// "not given": in limits_config::per_principal it falls back to the default's; in the defaults it
// is one second's worth (the rate, at least 1).
struct limit_settings {
  std::optional<double> requests_per_second;
  double request_burst = 0;
  std::optional<double> tool_calls_per_second;
  double tool_call_burst = 0;
  std::optional<std::size_t> max_calls_in_flight;  // >= 1
  std::vector<tool_limit> per_tool;
  bool operator==(const limit_settings&) const = default;
};

struct limits_config {
  limit_settings defaults;
  // Key: the principal ("token:NAME", "jwt:SUB", "introspection:SUB", "" for unauthenticated
  // clients). Overrides the defaults field by field: an unset rate, max_calls_in_flight or a
  // burst of 0 falls back to the default's. per_tool entries replace the default's entry with the
  // same pattern (its burst falls back to that entry's) and add the others: an override never
  // lifts a default tool limit it does not name.
  std::map<std::string, limit_settings, std::less<>> per_principal;
  bool operator==(const limits_config&) const = default;
};

// What is wrong with `s` as configured, in one line naming the field, or nullopt: a rate not
// finite or not greater than 0, a burst other than 0 (not given) below 1 or not finite, a
// max_calls_in_flight of 0, an empty per_tool pattern or one listed twice.
std::optional<std::string> settings_problem(const limit_settings& s);
// The same for the defaults and every per_principal entry (the message names the principal).
std::optional<std::string> limits_problem(const limits_config& c);

class identity_limits {
 public:
  using clock = limits_clock;

  struct refusal {
    // Which limit, for the JSON-RPC message: "requests per second", "tool calls per second",
    // "calls of tools matching PATTERN", "calls in flight".
    std::string what;
    std::chrono::seconds retry_after;
  };

  // A call in flight; releases it when destroyed (or by release()). Movable; a default or
  // moved-from slot holds nothing.
  class call_slot {
   public:
    call_slot() = default;
    call_slot(call_slot&& other) noexcept;
    call_slot& operator=(call_slot&& other) noexcept;
    call_slot(const call_slot&) = delete;
    call_slot& operator=(const call_slot&) = delete;
    ~call_slot() { release(); }

    void release() noexcept;
    bool held() const { return entry_ != nullptr; }
    explicit operator bool() const { return held(); }

   private:
    friend class identity_limits;
    struct table;  // calls in flight per principal, shared by the limits and their slots
    call_slot(std::shared_ptr<table> t, std::pair<const std::string, std::size_t>* entry)
        : table_(std::move(t)), entry_(entry) {}

    std::shared_ptr<table> table_;
    std::pair<const std::string, std::size_t>* entry_ = nullptr;  // in *table_, while held
  };

  // `config` as given (limits_problem is the caller's check; values out of range are clamped).
  // max_principals: how many identities' buckets are kept (at least 1).
  explicit identity_limits(limits_config config, std::size_t max_principals = 10000);
  ~identity_limits();
  identity_limits(const identity_limits&) = delete;
  identity_limits& operator=(const identity_limits&) = delete;

  // One request of `principal` at `now`: nullopt (admitted, a token taken) or why not.
  std::optional<refusal> admit_request(std::string_view principal, clock::time_point now);

  // One call of `tool` (the name the route shows): takes a token from the identity's tool-call
  // bucket and from the bucket of every per_tool pattern that matches, or, when any of them is
  // empty, from none. The refusal names the limit that frees up last, and waits for it.
  std::optional<refusal> admit_tool_call(std::string_view principal, std::string_view tool,
                                         clock::time_point now);

  // A slot for one call in flight, or a refusal ("calls in flight", retry after 1 s) when
  // `principal` already holds max_calls_in_flight of them. Without that limit, always a slot.
  std::variant<call_slot, refusal> acquire_call(std::string_view principal);

  // The settings that apply to `principal`, per_principal merged onto the defaults, with every
  // burst of a set rate filled in (never 0).
  const limit_settings& settings_for(std::string_view principal) const;

  std::size_t calls_in_flight(std::string_view principal) const;
  // How many identities' buckets are kept (at most max_principals).
  std::size_t tracked_principals() const { return states_.size(); }
  std::size_t max_principals() const { return max_principals_; }
  // How often an identity was dropped before its buckets were full (the table was full of
  // identities that had all taken tokens recently): a sign max_principals is too small.
  std::uint64_t forced_drops() const { return forced_drops_; }

 private:
  struct principal_state {
    std::optional<token_bucket> requests;
    std::optional<token_bucket> tool_calls;
    std::vector<token_bucket> per_tool;  // one per settings_for(principal).per_tool entry
    clock::time_point full_at = clock::time_point::min();  // all buckets full from then on
  };
  using state_map = util::string_map<principal_state>;

  state_map::iterator state_of(std::string_view principal, const limit_settings& s,
                               clock::time_point now);
  void drop_one(clock::time_point now);
  void update_full_at(state_map::iterator it);

  limit_settings defaults_;
  std::map<std::string, limit_settings, std::less<>> per_principal_;
  std::size_t max_principals_;
  state_map states_;
  // Every kept identity by when its buckets are all full; the key views the state_map's key.
  std::set<std::pair<clock::time_point, std::string_view>> by_full_at_;
  std::shared_ptr<call_slot::table> in_flight_;
  std::uint64_t forced_drops_ = 0;
};

}  // namespace mcp_proxy::auth
