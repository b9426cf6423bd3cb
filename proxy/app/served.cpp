#include "app/served.hpp"

#include "frontend/audit_log.hpp"
#include "frontend/call_gate.hpp"
#include "http/tls_listener.hpp"
#include "util/spawn.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <set>

namespace mcp_proxy::app {

namespace asio = boost::asio;
using asio::awaitable;
using server_list = std::vector<std::shared_ptr<core::server_endpoint>>;

namespace {

bool contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// The configuration a reload moves to: `next`, except for the mcpProxy settings read only at
// start, which keep their values in `current`.
config::proxy_config effective_proxy(const config::proxy_config& current,
                                     const config::proxy_config& next) {
  config::proxy_config out = current;
  out.auth_tokens = next.auth_tokens;
  out.limits = next.limits;
  out.audit_log = next.audit_log;
  out.readiness = next.readiness;
  out.aggregate = next.aggregate;
  out.default_filters = next.default_filters;
  out.tls.cert_file = next.tls.cert_file;
  out.tls.key_file = next.tls.key_file;
  out.tls.client_ca_file = next.tls.client_ca_file;
  out.shutdown_grace = next.shutdown_grace;
  return out;
}

// What would keep `next` from being used, checked before anything changes.
std::optional<std::string> unusable(const config::reload_plan& plan,
                                    const config::proxy_config& next) {
  if (plan.audit_log_changed && !next.audit_log.empty() && next.audit_log != "stderr") {
    std::FILE* f = std::fopen(next.audit_log.c_str(), "a");
    if (!f)
      return "$.mcpProxy.auditLog: cannot open " + next.audit_log + ": " + std::strerror(errno);
    std::fclose(f);
  }
  if (next.tls.enabled())
    if (auto made = http::make_server_tls(next.tls); !made)
      return "$.mcpProxy.tls: TLS files not reloaded: " + made.error();
  return std::nullopt;
}

}  // namespace

served::served(asio::any_io_executor ex, config::config cfg)
    : ex_(ex),
      cfg_(std::move(cfg)),
      per_client_backends_(
          std::make_shared<util::keyed_quota>(cfg_.proxy.max_per_client_backends)) {
  for (const auto& s : cfg_.servers) {
    if (s.disabled) {
      spdlog::info("server {}: disabled", s.name);
      continue;
    }
    now_.servers.push_back(make_server(s));
  }
  for (auto& view : config::merged_views(cfg_))
    now_.merged.push_back(std::make_shared<core::aggregate_endpoint>(
        ex_, view.name, members_of(view, now_.servers), std::move(view.filters), cfg_.proxy));
  index_routes();
}

std::shared_ptr<core::server_endpoint> served::make_server(const config::server_config& s) {
  return std::make_shared<core::server_endpoint>(ex_, s, cfg_.proxy, per_client_backends_);
}

std::vector<std::shared_ptr<core::server_endpoint>> served::members_of(
    const config::merged_view& view, const server_list& servers) {
  for (const auto& name : view.left_out)
    spdlog::warn("group {}: server {} is disabled; left out", view.name, name);
  server_list out;
  for (const auto& wanted : view.members) {
    auto it = std::find_if(servers.begin(), servers.end(),
                           [&](const auto& ep) { return ep->name() == wanted; });
    if (it != servers.end()) out.push_back(*it);
  }
  return out;
}

void served::index_routes() {
  now_.routes.clear();
  for (const auto& ep : now_.servers) now_.routes.emplace(ep->name(), ep);
  for (const auto& ep : now_.merged) now_.routes.emplace(ep->name(), ep);
}

awaitable<std::optional<std::string>> served::reload(config::config next,
                                                     http::http_server& server) {
  if (reloading_) co_return std::string("a reload is already under way");
  reloading_ = true;
  struct done_t {
    bool& flag;
    ~done_t() { flag = false; }
  } done{reloading_};

  const auto plan = config::plan_reload(cfg_, next);
  next.proxy = effective_proxy(cfg_.proxy, next.proxy);
  if (auto why = unusable(plan, next.proxy)) co_return why;
  if (!plan.needs_restart.empty()) {
    std::string keys;
    for (const auto& k : plan.needs_restart)
      keys += (keys.empty() ? "mcpProxy." : ", mcpProxy.") + k;
    spdlog::warn("reload: {} changed; read only at start, kept as they were until a restart", keys);
  }
  spdlog::info("reload: {}", plan.summary());

  if (plan.limits_changed) frontend::set_call_limits(next.proxy.limits);
  // options.logEnabled: which servers' request lines are logged at info.
  std::vector<std::string> logged;
  for (const auto& s : next.servers)
    if (s.log_enabled && !s.disabled) logged.push_back(s.name);
  frontend::set_request_log_servers(std::move(logged));
  if (plan.audit_log_changed) {
    if (auto why = frontend::set_audit_log(next.proxy.audit_log))
      spdlog::error("reload: {}", *why);  // checked above; the file went away since
  }

  // Servers in the new config's order: kept ones are the same objects (their sessions and
  // calls go on), added and changed ones new.
  server_list servers, started, leaving;
  for (const auto& s : next.servers) {
    if (s.disabled) continue;
    auto old = std::find_if(now_.servers.begin(), now_.servers.end(),
                            [&](const auto& ep) { return ep->name() == s.name; });
    if (old != now_.servers.end() && !contains(plan.servers_changed, s.name)) {
      servers.push_back(*old);
      continue;
    }
    auto ep = make_server(s);
    servers.push_back(ep);
    started.push_back(ep);
  }
  for (const auto& ep : now_.servers)
    if (contains(plan.servers_removed, ep->name()) || contains(plan.servers_changed, ep->name()))
      leaving.push_back(ep);
  cfg_ = std::move(next);

  std::vector<awaitable<void>> starts;
  for (auto& ep : started) starts.push_back(ep->start());
  co_await util::run_all_until(ex_, std::move(starts),
                               std::chrono::steady_clock::now() + cfg_.proxy.fan_out_timeout,
                               "start backend");

  // Merged endpoints: kept ones take their new members in place, new ones start, gone ones stop.
  std::vector<std::shared_ptr<core::aggregate_endpoint>> merged, stopping;
  // A named local: a temporary's lifetime across co_await is what GCC 12 gets wrong.
  auto views = config::merged_views(cfg_);
  for (auto& view : views) {
    auto members = members_of(view, servers);
    auto old = std::find_if(now_.merged.begin(), now_.merged.end(),
                            [&](const auto& ep) { return ep->name() == view.name; });
    if (old == now_.merged.end()) {
      auto ep = std::make_shared<core::aggregate_endpoint>(ex_, view.name, std::move(members),
                                                           std::move(view.filters), cfg_.proxy);
      co_await ep->start();
      merged.push_back(std::move(ep));
      continue;
    }
    co_await (*old)->set_members(std::move(members), std::move(view.filters));
    merged.push_back(*old);
  }
  for (const auto& ep : now_.merged)
    if (std::find(merged.begin(), merged.end(), ep) == merged.end()) stopping.push_back(ep);

  now_.servers = std::move(servers);
  now_.merged = std::move(merged);
  index_routes();
  server.set_routes(now_.routes, http::security_of_routes(cfg_), cfg_.proxy.readiness,
                    cfg_.proxy.tls);

  // What left stops last: the merged endpoints first (they end their sessions on the servers).
  std::vector<awaitable<void>> merged_stops, server_stops;
  for (auto& ep : stopping) merged_stops.push_back(ep->stop());
  co_await util::run_all(ex_, std::move(merged_stops), "stop merged endpoint");
  for (auto& ep : leaving) server_stops.push_back(ep->stop());
  co_await util::run_all(ex_, std::move(server_stops), "stop backend");
  retired_.insert(retired_.end(), stopping.begin(), stopping.end());
  retired_.insert(retired_.end(), leaving.begin(), leaving.end());

  if (server.tls()) {
    if (auto why = server.load_tls())
      spdlog::error("reload: TLS files not reloaded, the old ones stay in use: {}", *why);
    else
      spdlog::info("reload: TLS certificate and key reloaded for new connections");
  }
  co_return std::nullopt;
}

}  // namespace mcp_proxy::app
