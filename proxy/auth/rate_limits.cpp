#include "auth/rate_limits.hpp"

#include "protocol/patterns.hpp"

#include <algorithm>
#include <cmath>

namespace mcp_proxy::auth {

namespace {

constexpr double min_rate = 1e-6;
constexpr double max_amount = 1e9;  // the largest rate, burst and wait (in seconds) kept
// Floating-point slack: 1/3 s at 3 per second refills 0.999999999 tokens, which is one.
constexpr double epsilon = 1e-6;

double clamp_finite(double v, double lo, double hi) {
  if (std::isnan(v)) return lo;
  return std::clamp(v, lo, hi);
}

limits_clock::duration seconds_to_duration(double s) {
  s = clamp_finite(s, 0, max_amount);
  return std::chrono::duration_cast<limits_clock::duration>(std::chrono::duration<double>(s));
}

bool valid_rate(double r) {
  return std::isfinite(r) && r > 0;
}
bool valid_burst(double b) {
  return b == 0 || (std::isfinite(b) && b >= 1);
}

double one_second_of(double rate) {
  return std::max(1.0, rate);
}

// per_principal's entry onto the defaults (o null: the defaults alone), bursts filled in.
limit_settings merge(const limit_settings& d, const limit_settings* o) {
  limit_settings r = d;
  if (o) {
    if (o->requests_per_second) r.requests_per_second = o->requests_per_second;
    if (o->request_burst != 0) r.request_burst = o->request_burst;
    if (o->tool_calls_per_second) r.tool_calls_per_second = o->tool_calls_per_second;
    if (o->tool_call_burst != 0) r.tool_call_burst = o->tool_call_burst;
    if (o->max_calls_in_flight) r.max_calls_in_flight = o->max_calls_in_flight;
    for (const auto& t : o->per_tool) {
      auto same = std::find_if(r.per_tool.begin(), r.per_tool.end(),
                               [&](const tool_limit& x) { return x.pattern == t.pattern; });
      if (same == r.per_tool.end()) {
        r.per_tool.push_back(t);
      } else {
        same->calls_per_second = t.calls_per_second;
        if (t.burst != 0) same->burst = t.burst;
      }
    }
  }
  if (r.requests_per_second && r.request_burst == 0)
    r.request_burst = one_second_of(*r.requests_per_second);
  if (r.tool_calls_per_second && r.tool_call_burst == 0)
    r.tool_call_burst = one_second_of(*r.tool_calls_per_second);
  for (auto& t : r.per_tool)
    if (t.burst == 0) t.burst = one_second_of(t.calls_per_second);
  return r;
}

}  // namespace

// --- token_bucket ---

token_bucket::token_bucket(double per_second, double burst)
    : per_second_(clamp_finite(per_second, min_rate, max_amount)),
      burst_(clamp_finite(burst, 1, max_amount)),
      tokens_(burst_) {}

double token_bucket::tokens(clock::time_point now) const {
  if (!last_ || now <= *last_) return tokens_;
  double elapsed = std::chrono::duration<double>(now - *last_).count();
  return std::min(burst_, tokens_ + elapsed * per_second_);
}

bool token_bucket::can_take(clock::time_point now) const {
  return tokens(now) >= 1 - epsilon;
}

bool token_bucket::take(clock::time_point now) {
  double t = tokens(now);
  if (t < 1 - epsilon) return false;
  tokens_ = std::max(0.0, t - 1);
  if (!last_ || now > *last_) last_ = now;
  return true;
}

std::chrono::seconds token_bucket::retry_after(clock::time_point now) const {
  double wait = (1 - tokens(now)) / per_second_;
  double whole = std::ceil(clamp_finite(wait, 0, max_amount) - epsilon);
  return std::chrono::seconds(static_cast<std::int64_t>(std::max(1.0, whole)));
}

token_bucket::clock::time_point token_bucket::full_at() const {
  if (!last_) return clock::time_point::min();
  return *last_ + seconds_to_duration((burst_ - tokens_) / per_second_);
}

// --- settings ---

std::optional<std::string> settings_problem(const limit_settings& s) {
  if (s.requests_per_second && !valid_rate(*s.requests_per_second))
    return "requests_per_second must be a number greater than 0";
  if (!valid_burst(s.request_burst)) return "request_burst must be at least 1";
  if (s.tool_calls_per_second && !valid_rate(*s.tool_calls_per_second))
    return "tool_calls_per_second must be a number greater than 0";
  if (!valid_burst(s.tool_call_burst)) return "tool_call_burst must be at least 1";
  if (s.max_calls_in_flight && *s.max_calls_in_flight == 0)
    return "max_calls_in_flight must be at least 1";
  for (std::size_t i = 0; i < s.per_tool.size(); ++i) {
    const auto& t = s.per_tool[i];
    if (t.pattern.empty()) return "per_tool pattern must not be empty";
    if (!valid_rate(t.calls_per_second))
      return "per_tool '" + t.pattern + "': calls_per_second must be a number greater than 0";
    if (!valid_burst(t.burst)) return "per_tool '" + t.pattern + "': burst must be at least 1";
    for (std::size_t j = 0; j < i; ++j)
      if (s.per_tool[j].pattern == t.pattern)
        return "per_tool pattern '" + t.pattern + "' is listed twice";
  }
  return std::nullopt;
}

std::optional<std::string> limits_problem(const limits_config& c) {
  if (auto p = settings_problem(c.defaults)) return "defaults: " + *p;
  for (const auto& [principal, s] : c.per_principal)
    if (auto p = settings_problem(s)) return "principal '" + principal + "': " + *p;
  return std::nullopt;
}

// --- call_slot ---

struct identity_limits::call_slot::table {
  util::string_map<std::size_t> held;
};

identity_limits::call_slot::call_slot(call_slot&& other) noexcept
    : table_(std::move(other.table_)), entry_(std::exchange(other.entry_, nullptr)) {}

identity_limits::call_slot& identity_limits::call_slot::operator=(call_slot&& other) noexcept {
  if (this != &other) {
    release();
    table_ = std::move(other.table_);
    entry_ = std::exchange(other.entry_, nullptr);
  }
  return *this;
}

void identity_limits::call_slot::release() noexcept {
  if (!entry_) return;
  // The entry stays in the table while its count is above 0, so the pointer is good until here.
  if (--entry_->second == 0) table_->held.erase(table_->held.find(entry_->first));
  entry_ = nullptr;
  table_.reset();
}

// --- identity_limits ---

identity_limits::identity_limits(limits_config config, std::size_t max_principals)
    : defaults_(merge(config.defaults, nullptr)),
      max_principals_(std::max<std::size_t>(1, max_principals)),
      in_flight_(std::make_shared<call_slot::table>()) {
  for (const auto& [principal, s] : config.per_principal)
    per_principal_.emplace(principal, merge(config.defaults, &s));
}

identity_limits::~identity_limits() = default;

const limit_settings& identity_limits::settings_for(std::string_view principal) const {
  auto it = per_principal_.find(principal);
  return it == per_principal_.end() ? defaults_ : it->second;
}

identity_limits::state_map::iterator identity_limits::state_of(std::string_view principal,
                                                               const limit_settings& s,
                                                               clock::time_point now) {
  if (auto it = states_.find(principal); it != states_.end()) return it;
  if (states_.size() >= max_principals_) drop_one(now);
  principal_state st;
  if (s.requests_per_second) st.requests.emplace(*s.requests_per_second, s.request_burst);
  if (s.tool_calls_per_second) st.tool_calls.emplace(*s.tool_calls_per_second, s.tool_call_burst);
  st.per_tool.reserve(s.per_tool.size());
  for (const auto& t : s.per_tool) st.per_tool.emplace_back(t.calls_per_second, t.burst);
  auto it = states_.emplace(std::string(principal), std::move(st)).first;
  by_full_at_.emplace(it->second.full_at, it->first);
  return it;
}

void identity_limits::drop_one(clock::time_point now) {
  // The earliest to be full: one that is full when there is one (nothing lost), otherwise the
  // one that has the least left to refill.
  auto victim = by_full_at_.begin();
  if (victim == by_full_at_.end()) return;
  if (victim->first > now) ++forced_drops_;
  auto key = victim->second;
  by_full_at_.erase(victim);
  states_.erase(states_.find(key));
}

void identity_limits::update_full_at(state_map::iterator it) {
  auto& st = it->second;
  auto full_at = clock::time_point::min();
  if (st.requests) full_at = std::max(full_at, st.requests->full_at());
  if (st.tool_calls) full_at = std::max(full_at, st.tool_calls->full_at());
  for (const auto& b : st.per_tool) full_at = std::max(full_at, b.full_at());
  if (full_at == st.full_at) return;
  by_full_at_.erase({st.full_at, it->first});
  st.full_at = full_at;
  by_full_at_.emplace(full_at, it->first);
}

std::optional<identity_limits::refusal> identity_limits::admit_request(std::string_view principal,
                                                                       clock::time_point now) {
  const auto& s = settings_for(principal);
  if (!s.requests_per_second) return std::nullopt;
  auto it = state_of(principal, s, now);
  auto& bucket = *it->second.requests;
  if (!bucket.take(now)) return refusal{"requests per second", bucket.retry_after(now)};
  update_full_at(it);
  return std::nullopt;
}

std::optional<identity_limits::refusal> identity_limits::admit_tool_call(std::string_view principal,
                                                                         std::string_view tool,
                                                                         clock::time_point now) {
  const auto& s = settings_for(principal);
  std::vector<std::size_t> matching;
  for (std::size_t i = 0; i < s.per_tool.size(); ++i)
    if (protocol::glob_match(s.per_tool[i].pattern, tool)) matching.push_back(i);
  if (!s.tool_calls_per_second && matching.empty()) return std::nullopt;

  auto it = state_of(principal, s, now);
  auto& st = it->second;
  // Check every bucket before taking from any: a refused call costs nothing.
  std::optional<refusal> refused;
  auto check = [&](const token_bucket& b, auto&& what) {
    if (b.can_take(now)) return;
    auto wait = b.retry_after(now);
    if (!refused || wait > refused->retry_after) refused = refusal{what(), wait};
  };
  if (st.tool_calls) check(*st.tool_calls, [] { return std::string("tool calls per second"); });
  for (auto i : matching)
    check(st.per_tool[i], [&] { return "calls of tools matching " + s.per_tool[i].pattern; });
  if (refused) return refused;

  if (st.tool_calls) st.tool_calls->take(now);
  for (auto i : matching) st.per_tool[i].take(now);
  update_full_at(it);
  return std::nullopt;
}

std::variant<identity_limits::call_slot, identity_limits::refusal> identity_limits::acquire_call(
    std::string_view principal) {
  const auto& s = settings_for(principal);
  auto& held = in_flight_->held;
  auto it = held.find(principal);
  if (s.max_calls_in_flight && (it == held.end() ? 0 : it->second) >= *s.max_calls_in_flight)
    return refusal{"calls in flight", std::chrono::seconds(1)};
  if (it == held.end()) it = held.emplace(std::string(principal), 0).first;
  ++it->second;
  return call_slot(in_flight_, &*it);
}

std::size_t identity_limits::calls_in_flight(std::string_view principal) const {
  auto it = in_flight_->held.find(principal);
  return it == in_flight_->held.end() ? 0 : it->second;
}

}  // namespace mcp_proxy::auth
