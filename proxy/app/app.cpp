#include "app/app.hpp"

#include "app/served.hpp"
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

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <sstream>
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

// Serving beyond loopback, every route needs a token unless the operator said otherwise (or
// required client certificates authenticate every connection): the error, or nullopt.
std::optional<std::string> exposure_problem(const config::config& cfg,
                                            const config::listen_address& listen,
                                            const http::route_security_map& security) {
  const bool mtls_required =
      cfg.proxy.tls.enabled() &&
      cfg.proxy.tls.client_certificates == config::tls_listener_config::client_certs::required;
  if (cfg.proxy.allow_unauthenticated || mtls_required) return std::nullopt;
  boost::system::error_code ec;
  const auto ip =
      asio::ip::make_address(listen.host == "localhost" ? "127.0.0.1" : listen.host, ec);
  if (ec || ip.is_loopback()) return std::nullopt;
  auto open = open_routes(security, cfg.proxy.oauth.enabled);
  if (!open) return std::nullopt;
  return cfg.proxy.addr_origin + ": " + cfg.proxy.addr +
         " is reachable from other machines, and these routes need no token: " + *open +
         ". Set mcpProxy.options.authTokens (or a server's own), or, if something in front of "
         "the proxy authenticates, start with --allow-unauthenticated or set "
         "mcpProxy.allowUnauthenticated: true";
}

// A file's identity for --watch: a change of any part (an editor that writes a new file and
// renames it changes the inode) is a change.
struct file_stamp {
  bool exists = false;
  std::uint64_t inode = 0, size = 0;
  std::int64_t mtime_ns = 0;
  bool operator==(const file_stamp&) const = default;
};
file_stamp stamp_of(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return {};
  return {true, static_cast<std::uint64_t>(st.st_ino), static_cast<std::uint64_t>(st.st_size),
          static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec};
}

}  // namespace

void log_config_error(const config::config_error& e) {
  for (const auto& w : e.warnings) spdlog::warn("{}", w);
  // The message holds every problem of the file, one a line: one log line each.
  std::istringstream lines(e.message);
  for (std::string line; std::getline(lines, line);) spdlog::error("{}", line);
}

namespace {

// glibc gives a block of 128 KB and more its own mapping and unmaps it when freed, and trims the
// top of the heap past 128 KB free: every large message (a list page, a big tool result) then
// faults in fresh zeroed pages, which cost more CPU than the relay itself (a 10 MB result: 112-140
// ms of CPU per call, 7-10 ms without). Blocks up to 32 MB (glibc's ceiling) come from the heap
// and stay there between calls; the 30 s malloc_trim in serve() gives idle pages back.
void keep_freed_memory_for_reuse() {
#ifdef __GLIBC__
  ::mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
  ::mallopt(M_TRIM_THRESHOLD, 1024 * 1024 * 1024);
#endif
}

}  // namespace

int serve(config::config cfg, const serve_options& opt) {
  keep_freed_memory_for_reuse();
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
  app::served state(ex, cfg);
  auto& [servers, merged, routes] = state.now();
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
  if (!opt.stdio) {
    if (auto why = exposure_problem(cfg, *listen, security)) {
      spdlog::error("{}", *why);
      return 2;
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

  util::scope_exit pid_file_removal([&] {
    if (!opt.pid_file.empty()) ::unlink(opt.pid_file.c_str());
  });
  if (!opt.pid_file.empty()) {
    std::ofstream pid(opt.pid_file, std::ios::trunc);
    pid << ::getpid() << '\n';
    if (!pid.flush()) {
      spdlog::error("--pid-file {}: cannot write it: {}", opt.pid_file, std::strerror(errno));
      return 2;
    }
  }

  asio::signal_set signals(ctx, SIGINT, SIGTERM);
  int signals_seen = 0;
  // SIGHUP, and with --watch a change of the config file, reload the configuration
  // (app/served.hpp); without a loader (the mock servers) only the TLS files. One reload at a
  // time: a trigger during one runs another after it. Over stdio SIGHUP keeps its default (the
  // client's terminal went away: exit).
  asio::signal_set hangup(ctx);
  bool reload_running = false, reload_again = false;
  auto reload_tls_only = [&] {
    if (!server.tls())
      spdlog::warn("nothing to reload: this server was started without a config file");
    else if (auto why = server.load_tls())
      spdlog::error("TLS files not reloaded, the old ones stay in use: {}", *why);
    else
      spdlog::info("TLS certificate and key reloaded for new connections");
  };
  auto reload_config = [&]() -> asio::awaitable<void> {
    auto loaded = opt.load_again();
    if (!loaded) {
      spdlog::error(
          "reload refused: the new configuration has {} problem(s); the running one stays in "
          "use",
          loaded.error().errors.size());
      log_config_error(loaded.error());
      co_return;
    }
    for (const auto& w : loaded->warnings) spdlog::warn("{}", w);
    // Read only at start: the check is of the new tokens on the address in use.
    loaded->proxy.allow_unauthenticated = state.cfg().proxy.allow_unauthenticated;
    loaded->proxy.addr = state.cfg().proxy.addr;
    loaded->proxy.addr_origin = state.cfg().proxy.addr_origin;
    const auto next_security = http::security_of_routes(*loaded);
    if (auto why = exposure_problem(*loaded, *listen, next_security)) {
      spdlog::error("reload refused; the running configuration stays in use: {}", *why);
      co_return;
    }
    auto refused = co_await state.reload(std::move(*loaded), server);
    if (refused)
      spdlog::error("reload refused; the running configuration stays in use: {}", *refused);
    else
      spdlog::info("reload done");
  };
  auto reload = [&](std::string trigger) -> asio::awaitable<void> {
    if (reload_running) {
      reload_again = true;
      co_return;
    }
    reload_running = true;
    util::scope_exit not_running([&] { reload_running = false; });
    do {
      reload_again = false;
      if (signals_seen) co_return;
      spdlog::info("{}: reloading the configuration", trigger);
      if (opt.load_again)
        co_await reload_config();
      else
        reload_tls_only();
    } while (reload_again);
  };
  std::function<void(const boost::system::error_code&, int)> on_hangup =
      [&](const boost::system::error_code& ec, int) {
        if (ec) return;
        util::spawn_logged(ex, reload("received SIGHUP"), "reload");
        hangup.async_wait(on_hangup);
      };
  if (!opt.stdio) {
    hangup.add(SIGHUP);
    hangup.async_wait(on_hangup);
  }
  // --watch: the file is looked at every second; a change is reloaded once the file has stayed
  // the same for 300 ms (an editor may write it in several steps).
  asio::steady_timer watch_timer(ex);
  auto watch_config = [&]() -> asio::awaitable<void> {
    auto last = stamp_of(opt.watch_file);
    bool settling = false;
    for (;;) {
      watch_timer.expires_after(settling ? std::chrono::milliseconds(300)
                                         : std::chrono::milliseconds(1000));
      auto [ec] = co_await watch_timer.async_wait(asio::as_tuple(asio::use_awaitable));
      if (ec || signals_seen) co_return;
      auto now = stamp_of(opt.watch_file);
      if (now != last || !now.exists) {
        last = now;
        settling = true;
        continue;
      }
      if (!settling) continue;
      settling = false;
      co_await reload("the config file changed");
    }
  };
  bool shutdown_done = false;
  // glibc keeps the pages of freed memory mapped while anything sits above them in its heap, so
  // RSS creeps up with churn (sessions and calls come and go) though the heap in use stays flat
  // (measured by the soak: heaptrack's peak heap 3.7 MB at an RSS growing 0.4 MB/min). Every
  // 30 s the free pages go back to the system (malloc_trim releases them wherever they are).
  asio::steady_timer trim_timer(ex);
  // Backends stop in parallel (each may take a few seconds to escalate to SIGKILL).
  std::shared_ptr<util::async_queue<std::string>> stdin_lines;
  auto shutdown = [&]() -> asio::awaitable<void> {
    // New sessions get 503 (and /readyz) while the calls in flight get mcpProxy.shutdownGrace to
    // finish; a second signal ends the wait (and the process).
    const auto grace = state.cfg().proxy.shutdown_grace;
    auto running = [&] {
      std::size_t n = 0;
      for (auto& ep : servers) n += ep->calls_in_flight();
      return n;
    };
    if (!opt.stdio) server.set_draining();
    if (const auto n = running(); n > 0 && grace.count() > 0 && !opt.stdio) {
      spdlog::info(
          "shutting down: new sessions are refused; waiting up to {} ms for {} call(s) in "
          "flight",
          grace.count(), n);
      const auto deadline = std::chrono::steady_clock::now() + grace;
      asio::steady_timer tick(ex);
      while (running() > 0 && std::chrono::steady_clock::now() < deadline) {
        tick.expires_after(std::chrono::milliseconds(50));
        co_await tick.async_wait(asio::as_tuple(asio::use_awaitable));
      }
    }
    spdlog::info("shutting down: closing sessions and stopping backends");
    watch_timer.cancel();
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
  // options.panicIfInvalid (TBXark's): a server whose first start fails ends the proxy with exit
  // code 1, when that start ends (serving may have begun, as in TBXark).
  int exit_code = 0;
  auto start_checked = [&](std::shared_ptr<core::server_endpoint> ep) -> asio::awaitable<void> {
    co_await ep->start();
    if (!ep->server().panic_if_invalid || ep->backend_ready() || signals_seen || exit_code)
      co_return;
    spdlog::critical("backend {}: failed to start, and options.panicIfInvalid is true: exiting",
                     ep->name());
    exit_code = 1;
    std::raise(SIGTERM);  // the usual shutdown, from the signal handler
  };
  auto start_all = [&]() -> asio::awaitable<void> {
    std::vector<asio::awaitable<void>> starts;
    for (auto& ep : servers) starts.push_back(start_checked(ep));
    co_await util::run_all_until(ex, std::move(starts),
                                 std::chrono::steady_clock::now() + cfg.proxy.fan_out_timeout,
                                 "start backend");
    for (auto& ep : servers)
      if (!ep->backend_ready())
        spdlog::warn("backend {}: not up yet; serving without it (it joins when it comes up)",
                     ep->name());
    for (auto& ep : merged) co_await ep->start();
  };
  // The listener accepts at once (probes answer; MCP requests wait for the start), and the
  // backends start meanwhile (docs/operations.md, "Start-up").
  // "listening on" (and the routes) is logged once the start is over, when requests are served.
  auto serve = [&]() -> asio::awaitable<void> {
    util::spawn_logged(ex, server.run(), "http listener");
    spdlog::info(
        "accepting connections on port {}; /healthz and /readyz answer, MCP requests wait "
        "until the backends have started (at most fanOutTimeout, {} ms)",
        *port, cfg.proxy.fan_out_timeout.count());
    co_await start_all();
    server.set_started();
    print_ready(*port, *listen, cfg, security, server.tls());
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
  if (!opt.stdio && !opt.watch_file.empty() && opt.load_again)
    util::spawn_logged(ex, watch_config(), "config watch");
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
        std::_Exit(exit_code);
      }
    }
  } catch (const std::exception& e) {
    spdlog::critical("fatal: {}", e.what());
    return 1;
  }
  return exit_code;
}

}  // namespace mcp_proxy
