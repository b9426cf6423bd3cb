// mcpProxy.limits (limits per identity, docs/security.md "Limits per identity"): token-bucket
// rates on requests and tool calls, per identity and per tool, and a bound on calls in flight.
// auth/rate_limits.hpp enforces them; frontend/call_gate.hpp applies them to every client.

#include "config/config_reader.hpp"

#include <cmath>
#include <utility>

namespace mcp_proxy::config::detail {

namespace json = boost::json;

namespace {

// Rates and bursts are numbers > 0 (bursts at least 1), finite, at most a billion.
constexpr double max_limit_value = 1e9;

bool read_limit_number(reader& r, const json::value& v, std::string_view path, double least,
                       double& out) {
  if (!v.is_number()) return r.type_error(path, "a number", v);
  const double d = v.to_number<double>();
  if (!std::isfinite(d) || d > max_limit_value) return r.fail(path, "must be at most 1e9");
  if (d < least || d <= 0)
    return r.fail(path, least >= 1 ? "must be at least 1" : "must be greater than 0");
  out = d;
  return true;
}

template <std::optional<double> auth::limit_settings::*rate>
void read_rate(reader& r, const json::value& v, std::string_view path, auth::limit_settings& s) {
  double d = 0;
  if (read_limit_number(r, v, path, 0, d)) s.*rate = d;
}

template <double auth::limit_settings::*burst>
void read_burst(reader& r, const json::value& v, std::string_view path, auth::limit_settings& s) {
  read_limit_number(r, v, path, 1, s.*burst);
}

void read_in_flight(reader& r, const json::value& v, std::string_view path,
                    auth::limit_settings& s) {
  std::uint64_t n = 0;
  if (r.read_positive_integer(v, path, n)) s.max_calls_in_flight = n;
}

void read_tool_rate(reader& r, const json::value& v, std::string_view path, auth::tool_limit& t) {
  read_limit_number(r, v, path, 0, t.calls_per_second);
}

void read_tool_burst(reader& r, const json::value& v, std::string_view path, auth::tool_limit& t) {
  read_limit_number(r, v, path, 1, t.burst);
}

constexpr auto tool_limit_keys = std::to_array<key_rule<auth::tool_limit>>({
    {"callsPerSecond", read_tool_rate},
    {"burst", read_tool_burst},
});

// "tools": {PATTERN: {"callsPerSecond": N, "burst": N}}: the calls of every tool whose name (as
// the route shows it) matches PATTERN share one bucket per identity.
void read_tool_limits(reader& r, const json::value& v, std::string_view path,
                      auth::limit_settings& s) {
  const auto* o = v.if_object();
  if (!o) {
    r.type_error(path, "an object of tool name patterns", v);
    return;
  }
  s.per_tool.clear();
  for (const auto& kv : *o) {
    const auto p = child_path(path, std::string_view(kv.key().data(), kv.key().size()));
    auth::tool_limit t;
    t.pattern = std::string(kv.key());
    if (t.pattern.empty()) {
      r.fail(p, "a pattern must not be empty (\"*\" matches every tool)");
      continue;
    }
    if (!r.read_object<auth::tool_limit>(kv.value(), p, tool_limit_keys, t)) continue;
    if (t.calls_per_second <= 0) {
      r.fail(p, "missing required key \"callsPerSecond\"");
      continue;
    }
    s.per_tool.push_back(std::move(t));
  }
}

constexpr auto settings_keys = std::to_array<key_rule<auth::limit_settings>>({
    {"requestsPerSecond", read_rate<&auth::limit_settings::requests_per_second>},
    {"requestBurst", read_burst<&auth::limit_settings::request_burst>},
    {"toolCallsPerSecond", read_rate<&auth::limit_settings::tool_calls_per_second>},
    {"toolCallBurst", read_burst<&auth::limit_settings::tool_call_burst>},
    {"maxCallsInFlight", read_in_flight},
    {"tools", read_tool_limits},
});

// What an identity key may be: the principal auth gives a client, or the fallback of a client
// without one (frontend/call_gate.hpp).
bool is_identity_key(std::string_view key) {
  for (std::string_view prefix : {"token:", "jwt:", "introspection:", "cert:", "peer:"})
    if (key.size() > prefix.size() && key.substr(0, prefix.size()) == prefix) return true;
  return key == "stdio";
}

void read_identities(reader& r, const json::value& v, std::string_view path,
                     auth::limits_config& c) {
  const auto* o = v.if_object();
  if (!o) {
    r.type_error(path, "an object of identities", v);
    return;
  }
  for (const auto& kv : *o) {
    const std::string_view key(kv.key().data(), kv.key().size());
    const auto p = child_path(path, key);
    if (!is_identity_key(key)) {
      r.fail(p,
             "an identity is \"token:NAME\", \"jwt:SUB\", \"introspection:SUB\", "
             "\"cert:NAME\", \"peer:ADDRESS\" or \"stdio\", got " +
                 quoted(key));
      continue;
    }
    auth::limit_settings s;
    if (r.read_object<auth::limit_settings>(kv.value(), p, settings_keys, s))
      c.per_principal.insert_or_assign(std::string(key), std::move(s));
  }
}

// The defaults' keys sit at the top of mcpProxy.limits, beside "identities".
template <std::size_t I>
void read_default(reader& r, const json::value& v, std::string_view path, auth::limits_config& c) {
  settings_keys[I].read(r, v, path, c.defaults);
}

template <std::size_t... I>
constexpr auto limits_keys_of(std::index_sequence<I...>) {
  return std::to_array<key_rule<auth::limits_config>>({
      {settings_keys[I].key, read_default<I>}...,
      {"identities", read_identities},
  });
}
constexpr auto limits_keys = limits_keys_of(std::make_index_sequence<settings_keys.size()>());

}  // namespace

void read_limits(reader& r, const json::value& v, std::string_view path, config& c) {
  auto& limits = c.proxy.limits.emplace();
  if (!r.read_object<auth::limits_config>(v, path, limits_keys, limits)) return;
  if (auto problem = auth::limits_problem(limits)) r.fail(path, *problem);
}

}  // namespace mcp_proxy::config::detail
