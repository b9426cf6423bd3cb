#include "app/app.hpp"

#include "config/config.hpp"
#include "core/aggregate_endpoint.hpp"
#include "core/server_endpoint.hpp"
#include "frontend/audit_log.hpp"
#include "frontend/call_gate.hpp"
#include "frontend/stdio_frontend.hpp"
#include "http/http_server.hpp"
#include "jsonrpc/message.hpp"
#include "protocol/http_rules.hpp"
#include "util/process_guardian.hpp"
#include "util/scope_exit.hpp"
#include "util/spawn.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <csignal>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <functional>

#ifndef MCP_PROXY_VERSION
#define MCP_PROXY_VERSION "0.0.0"
#endif

namespace mcp_proxy {

namespace asio = boost::asio;

namespace {

void print_ready(std::uint16_t port, const config::listen_address& la, const config::config& cfg,
                 const http::route_security_map& security, bool tls) {
  const bool v6 = la.host.find(':') != std::string::npos;
  const std::string bound = (v6 ? "[" + la.host + "]" : la.host) + ":" + std::to_string(port);
  // A wildcard address is no URL a client can use: the routes are shown on loopback.
  const bool wildcard = la.host == "0.0.0.0" || la.host == "::";
  std::string host = wildcard ? (v6 ? "[::1]" : "127.0.0.1") : v6 ? "[" + la.host + "]" : la.host;
  std::string base = (tls ? "https://" : "http://") + host + ":" + std::to_string(port) +
                     protocol::route_prefix(cfg.proxy.base_url);
  if (wildcard)
    spdlog::info("{} {} listening on {} (every interface); locally: {}", cfg.proxy.name,
                 MCP_PROXY_VERSION, bound, base);
  else
    spdlog::info("{} {} listening on {}", cfg.proxy.name, MCP_PROXY_VERSION, base);
  auto auth = [&](const std::string& route) {
    const auto& r = security.at(route);
    std::string out;
    if (!r.tokens.empty()) out = std::to_string(r.tokens.size()) + " token(s)";
    if (cfg.proxy.oauth.enabled) {
      out += (out.empty() ? "" : " or ") + std::string("OAuth access tokens");
      if (!r.required_scopes.empty()) {
        out += " with scopes";
        for (const auto& scope : r.required_scopes) out += " " + scope;
      }
    }
    return out.empty() ? std::string("no token needed") : out;
  };
  for (const auto& s : cfg.servers)
    if (!s.disabled)
      spdlog::info("  server {}: {}/{}/mcp (legacy SSE: {}/{}/sse; session mode {}; {})", s.name,
                   base, s.name, base, s.name,
                   s.mode == config::session_mode::shared ? "shared" : "per-client", auth(s.name));
  if (cfg.proxy.aggregate)
    spdlog::info("  every server merged: {}/mcp (legacy SSE: {}/sse; {})", base, base, auth(""));
  for (const auto& g : cfg.groups)
    spdlog::info("  group {}: {}/{}/mcp (legacy SSE: {}/{}/sse; {})", g.name, base, g.name, base,
                 g.name, auth(g.name));
}

// Serving beyond loopback, every route needs a token unless the operator said otherwise: the
// routes that need none, or nullopt.
std::optional<std::string> open_routes(const http::route_security_map& routes, bool oauth) {
  if (oauth) return std::nullopt;
  std::string open;
  for (const auto& [name, security] : routes)
    if (security.tokens.empty())
      open += (open.empty() ? "/" : ", /") + (name.empty() ? "" : name + "/") + "mcp";
  if (open.empty()) return std::nullopt;
  return open;
}

using endpoint_map = std::map<std::string, std::shared_ptr<core::endpoint>, std::less<>>;

// What the process serves: the server endpoints, the merged ones over them (the one at "" when
// mcpProxy.aggregate, and the groups), and the routes to all of them. Disabled servers are in
// none.
struct endpoints {
  std::vector<std::shared_ptr<core::server_endpoint>> servers;
  std::vector<std::shared_ptr<core::aggregate_endpoint>> merged;
  endpoint_map routes;
  void add_merged(std::string name, std::vector<std::shared_ptr<core::server_endpoint>> members,
                  config::item_filters filters, asio::any_io_executor ex,
                  const config::proxy_config& proxy) {
    auto ep = std::make_shared<core::aggregate_endpoint>(ex, name, std::move(members),
                                                         std::move(filters), proxy);
    merged.push_back(ep);
    routes.emplace(std::move(name), std::move(ep));
  }
};

endpoints make_endpoints(asio::any_io_executor ex, const config::config& cfg) {
  endpoints out;
  auto& servers = out.servers;
  std::map<std::string, std::shared_ptr<core::server_endpoint>, std::less<>> by_name;
  auto per_client_backends = std::make_shared<util::keyed_quota>(cfg.proxy.max_per_client_backends);
  for (const auto& s : cfg.servers) {
    if (s.disabled) {
      spdlog::info("server {}: disabled", s.name);
      continue;
    }
    auto ep = std::make_shared<core::server_endpoint>(ex, s, cfg.proxy, per_client_backends);
    servers.push_back(ep);
    by_name.emplace(s.name, ep);
    out.routes.emplace(s.name, ep);
  }
  if (cfg.proxy.aggregate) out.add_merged("", servers, {}, ex, cfg.proxy);
  for (const auto& g : cfg.groups) {
    std::vector<std::shared_ptr<core::server_endpoint>> members;
    if (g.servers.empty()) members = servers;
    for (const auto& name : g.servers) {
      if (auto it = by_name.find(name); it != by_name.end())
        members.push_back(it->second);
      else
        spdlog::warn("group {}: server {} is disabled; left out", g.name, name);
    }
    out.add_merged(g.name, std::move(members), g.filters, ex, cfg.proxy);
  }
  return out;
}

}  // namespace

int serve(config::config cfg, const serve_options& opt) {
  jsonrpc::set_max_json_depth(cfg.proxy.max_json_depth);
  frontend::set_call_limits(cfg.proxy.limits);
  if (auto why = frontend::set_audit_log(cfg.proxy.audit_log)) {
    spdlog::error("$.mcpProxy.auditLog: {}", *why);
    return 2;
  }
  auto listen = config::parse_listen_address(cfg.proxy.addr);
  if (!listen) {
    spdlog::error("{}: {}", cfg.proxy.addr_origin,
                  config::listen_address_problem(cfg.proxy.addr).value_or("invalid address"));
    return 2;
  }

  // A client that vanishes mid-write must not kill the process.
  std::signal(SIGPIPE, SIG_IGN);
  // Before any backend starts; it outlives every local below (the endpoints end their children
  // as they are destroyed).
  util::start_process_guardian();
  util::scope_exit guardian_stop([] { util::stop_process_guardian(); });

  asio::io_context ctx(1);
  auto ex = ctx.get_executor();
  auto [servers, merged, routes] = make_endpoints(ex, cfg);
  std::shared_ptr<core::endpoint> stdio_endpoint;
  if (opt.stdio) {
    // One endpoint is served; no listener. Without --server: the only server, else all merged.
    std::string chosen = opt.server;
    if (chosen.empty() && servers.size() == 1) chosen = servers.front()->name();
    auto it = routes.find(chosen);
    if (it == routes.end()) {
      if (chosen.empty())
        spdlog::error(
            "--stdio: {} servers are configured and mcpProxy.aggregate is off: choose "
            "one with --server NAME",
            servers.size());
      else
        spdlog::error("--server {}: no enabled server or group of that name", chosen);
      return 2;
    }
    stdio_endpoint = it->second;
    // Only what serves it starts (a merged endpoint needs all its servers).
    if (auto one = std::dynamic_pointer_cast<core::server_endpoint>(stdio_endpoint)) {
      servers = {one};
      merged.clear();
    } else {
      std::erase_if(merged, [&](const auto& m) { return m != stdio_endpoint; });
    }
    routes = {{it->first, stdio_endpoint}};
  }
  auto security = http::security_of_routes(cfg);
  // Required client certificates (mTLS) authenticate every connection.
  const bool mtls_required =
      cfg.proxy.tls.enabled() &&
      cfg.proxy.tls.client_certificates == config::tls_listener_config::client_certs::required;
  if (!opt.stdio && !cfg.proxy.allow_unauthenticated && !mtls_required) {
    boost::system::error_code ec;
    const auto ip =
        asio::ip::make_address(listen->host == "localhost" ? "127.0.0.1" : listen->host, ec);
    if (!ec && !ip.is_loopback()) {
      if (auto open = open_routes(security, cfg.proxy.oauth.enabled)) {
        spdlog::error(
            "{}: {} is reachable from other machines, and these routes need no token: {}. Set "
            "mcpProxy.options.authTokens (or a server's own), or, if something in front of the "
            "proxy authenticates, start with --allow-unauthenticated or set "
            "mcpProxy.allowUnauthenticated: true",
            cfg.proxy.addr_origin, cfg.proxy.addr, *open);
        return 2;
      }
    }
  }
  http::http_server server(ex, cfg.proxy, routes, security, opt.faults);
  std::optional<std::uint16_t> port;
  if (!opt.stdio) {
    if (auto why = server.load_tls()) {
      spdlog::error("{}", *why);
      return 2;
    }
    auto bound = server.listen(*listen);
    if (!bound) {
      spdlog::error("{}", bound.error());
      return 2;
    }
    port = *bound;
  }

  asio::signal_set signals(ctx, SIGINT, SIGTERM);
  // SIGHUP reloads the TLS files; the rest of the configuration is not reloaded yet (issue #17).
  // Over stdio it keeps its default (the client's terminal went away: exit).
  asio::signal_set hangup(ctx);
  std::function<void(const boost::system::error_code&, int)> on_hangup =
      [&](const boost::system::error_code& ec, int) {
        if (ec) return;
        if (!server.tls()) {
          spdlog::warn(
              "received SIGHUP: reloading the configuration is not built yet (issue #17); "
              "nothing changed");
        } else if (auto why = server.load_tls()) {
          spdlog::error("received SIGHUP: TLS files not reloaded, the old ones stay in use: {}",
                        *why);
        } else {
          spdlog::info("received SIGHUP: TLS certificate and key reloaded for new connections");
        }
        hangup.async_wait(on_hangup);
      };
  if (!opt.stdio) {
    hangup.add(SIGHUP);
    hangup.async_wait(on_hangup);
  }
  bool shutdown_done = false;
  // glibc keeps the pages of freed memory mapped while anything sits above them in its heap, so
  // RSS creeps up with churn (sessions and calls come and go) though the heap in use stays flat
  // (measured by the soak: heaptrack's peak heap 3.7 MB at an RSS growing 0.4 MB/min). Every
  // 30 s the free pages go back to the system (malloc_trim releases them wherever they are).
  asio::steady_timer trim_timer(ex);
  // Backends stop in parallel (each may take a few seconds to escalate to SIGKILL).
  std::shared_ptr<util::async_queue<std::string>> stdin_lines;
  auto shutdown = [&]() -> asio::awaitable<void> {
    spdlog::info("shutting down: closing sessions and stopping backends");
    // Calls in flight are answered while their clients' streams are still open.
    std::size_t failed = 0;
    for (auto& ep : servers) failed += ep->fail_calls_in_flight("mcp-proxy is shutting down");
    if (failed > 0) {
      spdlog::info("{} call(s) in flight answered with an error", failed);
      asio::steady_timer flush(ex, std::chrono::milliseconds(200));  // for their writers
      co_await flush.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    server.stop();
    trim_timer.cancel();
    if (stdin_lines) stdin_lines->close();
    // Merged endpoints first (they end their sessions on the servers), then the servers.
    std::vector<asio::awaitable<void>> merged_stops, server_stops;
    for (auto& ep : merged) merged_stops.push_back(ep->stop());
    co_await util::run_all(ex, std::move(merged_stops), "stop merged endpoint");
    for (auto& ep : servers) server_stops.push_back(ep->stop());
    co_await util::run_all(ex, std::move(server_stops), "stop backend");
    co_await server.drain(std::chrono::steady_clock::now() + std::chrono::seconds(5));
    boost::system::error_code ignored;
    signals.cancel(ignored);
    hangup.cancel(ignored);
    spdlog::info("shutdown complete");
    shutdown_done = true;
    ctx.stop();
  };
  std::function<void(const boost::system::error_code&, int)> on_signal;
  int signals_seen = 0;
  on_signal = [&](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    if (++signals_seen > 1) {
      // A second signal means "now": the guardian ends the backends' process groups
      // (util/process_guardian.hpp).
      spdlog::warn("received signal {} again; exiting without waiting for backends", sig);
      std::_Exit(128 + sig);
    }
    spdlog::info("received signal {}", sig);
    signals.async_wait(on_signal);
    util::spawn_logged(ex, shutdown(), "shutdown");
  };
  signals.async_wait(on_signal);

  // Named, so the closures outlive the coroutines that refer to their captures.
  // Servers start in parallel, then the merged endpoints over them. A backend slower than
  // fanOutTimeout (one that hangs, up to its own timeout) does not hold up the others: serving
  // starts without it, and it joins the merged endpoints when it comes up.
  auto start_all = [&]() -> asio::awaitable<void> {
    std::vector<asio::awaitable<void>> starts;
    for (auto& ep : servers) starts.push_back(ep->start());
    co_await util::run_all_until(ex, std::move(starts),
                                 std::chrono::steady_clock::now() + cfg.proxy.fan_out_timeout,
                                 "start backend");
    for (auto& ep : servers)
      if (!ep->backend_ready())
        spdlog::warn("backend {}: not up yet; serving without it (it joins when it comes up)",
                     ep->name());
    for (auto& ep : merged) co_await ep->start();
  };
  auto serve = [&]() -> asio::awaitable<void> {
    co_await start_all();
    print_ready(*port, *listen, cfg, security, server.tls());
    co_await server.run();
  };
  auto serve_stdio = [&]() -> asio::awaitable<void> {
    co_await start_all();
    spdlog::info("mcp-proxy {} serving {} on stdio", MCP_PROXY_VERSION,
                 stdio_endpoint->name().empty() ? std::string("every server merged")
                                                : "server " + stdio_endpoint->name());
    co_await frontend::serve_stdio(ex, stdio_endpoint, stdin_lines);
    if (!signals_seen) {
      ++signals_seen;  // a signal from now on means "exit now"
      co_await shutdown();
    }
  };
  auto trim_memory = [&]() -> asio::awaitable<void> {
    for (;;) {
      trim_timer.expires_after(std::chrono::seconds(30));
      auto [ec] = co_await trim_timer.async_wait(asio::as_tuple(asio::use_awaitable));
      if (ec || signals_seen) co_return;
#ifdef __GLIBC__
      ::malloc_trim(0);
#endif
    }
  };
  util::spawn_logged(ex, trim_memory(), "memory trim");
  if (opt.stdio) {
    stdin_lines = frontend::read_stdin_lines(ex);
    util::spawn_logged(ex, serve_stdio(), "stdio server");
  } else {
    util::spawn_logged(ex, serve(), "http server");
  }

  try {
    ctx.run();
    if (shutdown_done) {
      // Let the tasks that shutdown woke (connections, streams, reapers) finish, so no coroutine
      // frame is left to be destroyed after the objects it refers to.
      ctx.restart();
      ctx.run_for(std::chrono::seconds(5));
      if (!ctx.stopped()) {
        spdlog::warn("tasks still pending 5 s after shutdown; exiting without cleanup");
        spdlog::shutdown();
        std::_Exit(0);
      }
    }
  } catch (const std::exception& e) {
    spdlog::critical("fatal: {}", e.what());
    return 1;
  }
  return 0;
}

}  // namespace mcp_proxy
