#include "protocol/readiness.hpp"

#include "util/utc_timestamp.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>

namespace mcp_proxy::protocol {

namespace json = boost::json;

std::string_view state_name(backend_state s) {
  switch (s) {
    case backend_state::starting:
      return "starting";
    case backend_state::ready:
      return "ready";
    case backend_state::degraded:
      return "degraded";
    case backend_state::backing_off:
      return "backing-off";
    case backend_state::stopped:
      return "stopped";
    case backend_state::disabled:
      return "disabled";
  }
  return "unknown";
}

namespace {

bool named_ready(std::span<const backend_status> backends, std::string_view name) {
  return std::any_of(backends.begin(), backends.end(), [&](const backend_status& b) {
    return b.name == name && b.state == backend_state::ready;
  });
}

std::string rule_text(const readiness_rule& rule) {
  switch (rule.rule) {
    case readiness_rule::kind::all:
      return "all";
    case readiness_rule::kind::any:
      return "any";
    case readiness_rule::kind::servers:
      break;
  }
  std::string text = "servers:";
  for (std::size_t i = 0; i < rule.servers.size(); ++i) text += (i ? "," : "") + rule.servers[i];
  return text;
}

}  // namespace

bool is_ready(std::span<const backend_status> backends, const readiness_rule& rule) {
  auto enabled_ready = [](const backend_status& b) {
    return b.state == backend_state::disabled || b.state == backend_state::ready;
  };
  switch (rule.rule) {
    case readiness_rule::kind::all:
      return std::all_of(backends.begin(), backends.end(), enabled_ready);
    case readiness_rule::kind::any:
      return std::any_of(backends.begin(), backends.end(),
                         [](const backend_status& b) { return b.state == backend_state::ready; });
    case readiness_rule::kind::servers:
      return std::all_of(rule.servers.begin(), rule.servers.end(),
                         [&](const std::string& name) { return named_ready(backends, name); });
  }
  return false;
}

readiness_answer answer_readiness(std::span<const backend_status> backends,
                                  const readiness_rule& rule) {
  readiness_answer a;
  a.ready = is_ready(backends, rule);
  json::object listed;
  for (const auto& b : backends) {
    json::object o;
    o["state"] = state_name(b.state);
    o["since"] = util::utc_timestamp(b.since);
    o["lastError"] = b.last_error.empty() ? json::value(nullptr) : json::value(b.last_error);
    o["restarts"] = b.restarts;
    if (b.backend_era)
      o["era"] = *b.backend_era == era::modern ? "2026-07-28" : latest_legacy_version;
    else
      o["era"] = nullptr;
    o["transport"] = b.transport;
    listed[b.name] = std::move(o);
  }
  a.body = json::serialize(
      json::object{{"ready", a.ready}, {"rule", rule_text(rule)}, {"backends", std::move(listed)}});
  return a;
}

}  // namespace mcp_proxy::protocol
