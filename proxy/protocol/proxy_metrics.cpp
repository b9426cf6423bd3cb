#include "protocol/proxy_metrics.hpp"

#include "protocol/metrics_text.hpp"

#include <algorithm>

namespace mcp_proxy::protocol::metrics {

namespace codes = jsonrpc::error_codes;

namespace {

// The methods a label names; every other is "other" (a client chooses method names: the
// series must stay bounded).
constexpr std::array<std::string_view, 20> method_table{
    "other",
    "initialize",
    "ping",
    "tools/list",
    "tools/call",
    "resources/list",
    "resources/templates/list",
    "resources/read",
    "resources/subscribe",
    "resources/unsubscribe",
    "prompts/list",
    "prompts/get",
    "completion/complete",
    "logging/setLevel",
    "tasks/get",
    "tasks/result",
    "tasks/list",
    "tasks/cancel",
    "server/discover",
    "subscriptions/listen",
};

constexpr std::array<std::uint64_t, latency_bounds_s.size()> bounds_us = [] {
  std::array<std::uint64_t, latency_bounds_s.size()> out{};
  for (std::size_t i = 0; i < out.size(); ++i)
    out[i] = static_cast<std::uint64_t>(latency_bounds_s[i] * 1'000'000 + 0.5);
  return out;
}();

constexpr std::uint32_t name_mask = (1u << 24) - 1;

constexpr std::array<std::string_view, 6> every_state{"starting",    "ready",   "degraded",
                                                      "backing-off", "stopped", "disabled"};

std::string_view route_label(std::string_view name) {
  return name.empty() ? std::string_view("*") : name;
}

}  // namespace

void latency_histogram::observe(clock::duration d) {
  const auto us = static_cast<std::uint64_t>(
      std::max<std::int64_t>(0, std::chrono::duration_cast<std::chrono::microseconds>(d).count()));
  const auto at = std::lower_bound(bounds_us.begin(), bounds_us.end(), us) - bounds_us.begin();
  ++counts[static_cast<std::size_t>(at)];
  sum_us += us;
}

outcome outcome_of(const jsonrpc::message& answer) {
  const auto* error = answer.error();
  const auto* o = error ? error->if_object() : nullptr;
  if (!o) return outcome::ok;
  const auto* code = o->if_contains("code");
  if (code && code->is_int64()) {
    if (code->get_int64() == codes::rate_limited) return outcome::refused;
    if (code->get_int64() == codes::request_timeout) return outcome::timeout;
  }
  return outcome::error;
}

std::string_view outcome_name(outcome o) {
  static constexpr std::array<std::string_view, outcome_count> names{"ok", "error", "refused",
                                                                     "timeout", "no answer"};
  return names[static_cast<std::size_t>(o) % outcome_count];
}

limit_kind limit_kind_of(std::string_view what) {
  if (what.starts_with("requests")) return limit_kind::requests;
  if (what.starts_with("tool calls")) return limit_kind::tool_calls;
  if (what.starts_with("calls of tools")) return limit_kind::tool_pattern;
  return limit_kind::calls_in_flight;
}

std::string_view limit_kind_name(limit_kind k) {
  // The keys of mcpProxy.limits that set each limit.
  static constexpr std::array<std::string_view, limit_kind_count> names{
      "requestsPerSecond", "toolCallsPerSecond", "tools", "maxCallsInFlight"};
  return names[static_cast<std::size_t>(k) % limit_kind_count];
}

name_id registry::name(std::string_view route_or_backend) {
  if (route_or_backend.empty()) return 0;
  if (auto it = ids_.find(route_or_backend); it != ids_.end()) return it->second;
  // Names come from the configuration (a bounded set); past 2^24 they share the last id.
  const auto id = static_cast<name_id>(std::min<std::size_t>(names_.size(), name_mask));
  if (id == names_.size()) names_.emplace_back(route_or_backend);
  ids_.emplace(std::string(route_or_backend), id);
  return id;
}

std::string_view registry::name_of(name_id id) const {
  return id < names_.size() ? std::string_view(names_[id]) : std::string_view();
}

method_id registry::method(std::string_view m) {
  for (std::size_t i = 1; i < method_table.size(); ++i)
    if (method_table[i] == m) return static_cast<method_id>(i);
  return 0;
}

std::string_view registry::method_name(method_id m) {
  return m < method_table.size() ? method_table[m] : method_table[0];
}

void registry::answered(name_id route, method_id m, name_id backend, outcome o,
                        clock::duration took) {
  const std::uint64_t key = std::uint64_t(route & name_mask) << 40 |
                            std::uint64_t(backend & name_mask) << 16 | std::uint64_t(m) << 8 |
                            static_cast<std::uint64_t>(o);
  ++requests_[key];
  client_latency_[std::uint64_t(route) << 8 | m].observe(took);
}

void registry::backend_answered(name_id backend, method_id m, clock::duration took) {
  backend_latency_[std::uint64_t(backend) << 8 | m].observe(took);
}

void registry::left_out(std::string_view route, std::string_view member) {
  ++left_out_[{std::string(route_label(route)), std::string(member)}];
}

void registry::reset() {
  requests_.clear();
  client_latency_.clear();
  backend_latency_.clear();
  client_bytes_ = {};
  backend_bytes_.clear();
  left_out_.clear();
  refused_ = {};
  in_flight_.clear();
}

namespace {

// Series in label order, so that a scrape reads the same from one time to the next.
template <class Map>
std::vector<typename Map::const_iterator> sorted_by(
    const Map& m, const std::function<std::string(std::uint64_t)>& label_of) {
  std::vector<std::pair<std::string, typename Map::const_iterator>> keyed;
  for (auto it = m.begin(); it != m.end(); ++it) keyed.emplace_back(label_of(it->first), it);
  std::sort(keyed.begin(), keyed.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<typename Map::const_iterator> out;
  for (auto& k : keyed) out.push_back(k.second);
  return out;
}

void write_histograms(metrics_text& t, const registry& r,
                      const std::unordered_map<std::uint64_t, latency_histogram>& h,
                      std::string_view name_label, bool route) {
  auto label_of = [&](std::uint64_t key) {
    return std::string(r.name_of(static_cast<name_id>(key >> 8))) + '\n' +
           std::string(registry::method_name(static_cast<method_id>(key & 0xff)));
  };
  for (auto it : sorted_by(h, label_of)) {
    const auto n = r.name_of(static_cast<name_id>(it->first >> 8));
    const metric_label labels[] = {
        {name_label, route ? route_label(n) : n},
        {"method", registry::method_name(static_cast<method_id>(it->first & 0xff))}};
    t.histogram(labels, latency_bounds_s, it->second.counts, double(it->second.sum_us) / 1e6);
  }
}

}  // namespace

std::string registry::render(std::span<const backend_status> backends, std::string_view version,
                             std::span<const route_queue> queues) const {
  metrics_text t;
  t.family("mcp_proxy_build_info", metric_type::gauge, "Always 1; the version of mcp-proxy.");
  const metric_label build[] = {{"version", version}};
  t.sample(build, std::uint64_t{1});

  t.family("mcp_proxy_requests_total", metric_type::counter,
           "Client requests by route, method, the backend that answered (empty: the proxy "
           "itself) and outcome (ok, error, refused, timeout, no answer).");
  auto request_label = [&](std::uint64_t key) {
    return std::string(name_of(static_cast<name_id>(key >> 40))) + '\n' +
           std::string(method_name(static_cast<method_id>((key >> 8) & 0xff))) + '\n' +
           std::string(name_of(static_cast<name_id>((key >> 16) & name_mask))) + '\n' +
           std::to_string(key & 0xff);
  };
  for (auto it : sorted_by(requests_, request_label)) {
    const auto key = it->first;
    const metric_label labels[] = {
        {"route", route_label(name_of(static_cast<name_id>(key >> 40)))},
        {"method", method_name(static_cast<method_id>((key >> 8) & 0xff))},
        {"backend", name_of(static_cast<name_id>((key >> 16) & name_mask))},
        {"outcome", outcome_name(static_cast<outcome>(key & 0xff))}};
    t.sample(labels, it->second);
  }

  t.family("mcp_proxy_request_duration_seconds", metric_type::histogram,
           "Client requests from their arrival to their answer, by route and method.");
  write_histograms(t, *this, client_latency_, "route", true);
  t.family("mcp_proxy_backend_request_duration_seconds", metric_type::histogram,
           "Calls from their forwarding to a backend to the backend's answer, by backend and "
           "method.");
  write_histograms(t, *this, backend_latency_, "backend", false);

  t.family("mcp_proxy_calls_in_flight", metric_type::gauge,
           "Client requests received and not answered yet, by route.");
  auto by_name = [&](std::uint64_t key) { return std::string(name_of(static_cast<name_id>(key))); };
  for (auto it : sorted_by(in_flight_, by_name)) {
    const metric_label labels[] = {{"route", route_label(name_of(it->first))}};
    t.sample(labels, it->second);
  }

  t.family("mcp_proxy_session_queue_messages", metric_type::gauge,
           "Messages waiting in client sessions' queues for their streams (a GET stream, a "
           "legacy event stream), by route.");
  for (const auto& q : queues) {
    const metric_label labels[] = {{"route", route_label(q.route)}};
    t.sample(labels, std::uint64_t(q.messages));
  }

  t.family("mcp_proxy_sessions", metric_type::gauge,
           "Open client sessions by era (modern: the session of one 2026-07-28 request) and the "
           "mode of the endpoint that holds it (shared, per-client, merged).");
  static constexpr std::string_view eras[] = {"legacy", "modern"};
  static constexpr std::string_view modes[] = {"shared", "per-client", "merged"};
  for (std::size_t e = 0; e < 2; ++e)
    for (std::size_t m = 0; m < 3; ++m) {
      const metric_label labels[] = {{"era", eras[e]}, {"mode", modes[m]}};
      t.sample(labels, sessions_[e][m]);
    }

  t.family("mcp_proxy_backend_state", metric_type::gauge,
           "1 for the state each backend is in, 0 for the others (as GET /readyz reports).");
  for (const auto& b : backends)
    for (auto s : every_state) {
      const metric_label labels[] = {{"backend", b.name}, {"state", s}};
      t.sample(labels, std::uint64_t(state_name(b.state) == s ? 1 : 0));
    }
  t.family("mcp_proxy_backend_restarts_total", metric_type::counter,
           "Starts of each backend after its first.");
  for (const auto& b : backends) {
    const metric_label labels[] = {{"backend", b.name}};
    t.sample(labels, b.restarts);
  }

  t.family("mcp_proxy_client_received_bytes_total", metric_type::counter,
           "Bytes of request bodies from HTTP clients and lines from the stdio client.");
  t.sample({}, client_bytes_[0]);
  t.family("mcp_proxy_client_sent_bytes_total", metric_type::counter,
           "Bytes written to clients: HTTP responses and event-stream chunks, stdio lines.");
  t.sample({}, client_bytes_[1]);
  for (int dir = 0; dir < 2; ++dir) {
    t.family(
        dir == 0 ? "mcp_proxy_backend_received_bytes_total" : "mcp_proxy_backend_sent_bytes_total",
        metric_type::counter,
        dir == 0 ? "Bytes of messages received from each backend."
                 : "Bytes of messages sent to each backend.");
    for (auto it : sorted_by(backend_bytes_, by_name)) {
      const metric_label labels[] = {{"backend", name_of(it->first)}};
      t.sample(labels, it->second[static_cast<std::size_t>(dir)]);
    }
  }

  t.family("mcp_proxy_fanout_left_out_total", metric_type::counter,
           "Members of a merged endpoint left out of a fan-out (a list or a session's start), "
           "by merged route and member.");
  for (const auto& [key, n] : left_out_) {
    const metric_label labels[] = {{"route", key.first}, {"member", key.second}};
    t.sample(labels, n);
  }

  t.family("mcp_proxy_rate_limited_total", metric_type::counter,
           "Requests refused by mcpProxy.limits, by the limit that refused them.");
  for (std::size_t k = 0; k < limit_kind_count; ++k) {
    const metric_label labels[] = {{"limit", limit_kind_name(static_cast<limit_kind>(k))}};
    t.sample(labels, refused_[k]);
  }
  return t.take();
}

registry& metrics() {
  static registry instance;
  return instance;
}

}  // namespace mcp_proxy::protocol::metrics
