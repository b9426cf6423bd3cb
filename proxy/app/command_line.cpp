#include "app/app.hpp"

#include "app/config_source.hpp"
#include "config/config.hpp"
#include "frontend/audit_log.hpp"
#include "protocol/http_target.hpp"

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>

#ifndef MCP_PROXY_VERSION
#define MCP_PROXY_VERSION "0.0.0"
#endif

// The command line of mcp-proxy: flags -> a loaded config -> serve().

namespace mcp_proxy {

namespace {

struct options {
  std::string config_path = "config.json";
  std::string addr;
  bool allow_unauthenticated = false;
  std::string log_level = "info";
  std::string log_format = "text";
  serve_options serve;
};

// TBXark/mcp-proxy spells its flags with one dash (-config); CLI11 wants two for long names.
std::vector<std::string> normalized_args(int argc, char** argv) {
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    for (std::string_view name : {"-config", "-addr", "-insecure", "-expand-env", "-http-headers",
                                  "-http-timeout", "-check", "-version", "-help"}) {
      if (a == name || (a.starts_with(name) && a[name.size()] == '=')) {
        a = "-" + a;
        break;
      }
    }
    args.push_back(std::move(a));
  }
  std::reverse(args.begin(), args.end());  // CLI11 parses a reversed vector
  return args;
}

// --reload PIDFILE: SIGHUP to the process the file names; 0 when it was sent.
int signal_reload(const std::string& pid_file) {
  std::ifstream in(pid_file);
  if (!in) {
    spdlog::error("--reload {}: cannot read it: {}", pid_file, std::strerror(errno));
    return 1;
  }
  long pid = 0;
  if (!(in >> pid) || pid <= 1) {
    spdlog::error("--reload {}: no process id in it (start mcp-proxy with --pid-file {})", pid_file,
                  pid_file);
    return 1;
  }
  // A stale file may name a process id reused by another program, which SIGHUP would end.
  std::string comm;
  std::getline(std::ifstream("/proc/" + std::to_string(pid) + "/comm"), comm);
  if (!comm.empty() && !comm.starts_with("mcp-proxy")) {
    spdlog::error("--reload {}: process {} is {}, not mcp-proxy (a stale pid file?); not signalled",
                  pid_file, pid, comm);
    return 1;
  }
  if (::kill(static_cast<pid_t>(pid), SIGHUP) != 0) {
    spdlog::error("--reload {}: cannot signal process {}: {}", pid_file, pid, std::strerror(errno));
    return 1;
  }
  spdlog::info("sent SIGHUP to mcp-proxy (process {}): it logs what the reload changed", pid);
  return 0;
}

}  // namespace

int run_proxy(int argc, char** argv) {
  init_logging("mcp-proxy");

  CLI::App cli{"mcp-proxy: many MCP servers behind one endpoint", "mcp-proxy"};
  options opt;
  cli.add_option("-c,--config", opt.config_path,
                 "config file (TBXark/mcp-proxy format), or an http(s) URL to fetch it from")
      ->capture_default_str();
  std::string check_path;
  auto* check_flag = cli.add_option("--check", check_path,
                                    "check the config (--config, or the file named here) and print "
                                    "its resolved view with secrets redacted; start nothing. Exit "
                                    "0: valid, 2: not")
                         ->expected(0, 1);
  // TBXark's flags for the config: -expand-env (here without it: ${VAR} in values, see
  // docs/configuration.md), and for a URL -http-headers, -insecure, -http-timeout.
  std::string expand_env;
  auto* expand_flag =
      cli.add_option("--expand-env", expand_env,
                     "TBXark's expansion: $VAR and ${VAR} anywhere in the file, unset ones empty; "
                     "--expand-env=false: none. Without it: ${VAR} in string values, unset is an "
                     "error")
          ->expected(0, 1)
          // Go's strconv.ParseBool spellings.
          ->check(CLI::IsMember({"", "1", "t", "T", "true", "TRUE", "True", "0", "f", "F", "false",
                                 "FALSE", "False"}));
  std::string http_headers;
  cli.add_option("--http-headers", http_headers,
                 "with a config URL: headers to send, 'Key1:Value1;Key2:Value2'");
  bool insecure = false;
  cli.add_flag("--insecure", insecure,
               "with an https config URL: accept any certificate (for test servers only)");
  int http_timeout = 10;
  cli.add_option("--http-timeout", http_timeout, "with a config URL: seconds to fetch it in")
      ->capture_default_str()
      ->check(CLI::Range(1, 3600));
  cli.add_option("--addr", opt.addr, "listen address HOST:PORT, overrides mcpProxy.addr");
  cli.add_flag("--allow-unauthenticated", opt.allow_unauthenticated,
               "serve beyond loopback routes that need no token (mcpProxy.allowUnauthenticated)");
  // An unknown name is refused by CLI11 (spdlog's from_str would turn logging off silently).
  auto* level_flag =
      cli.add_option("--log-level", opt.log_level,
                     "trace, debug, info, warn, error, off (wins over mcpProxy.logLevel)")
          ->capture_default_str()
          ->check(CLI::IsMember(std::vector<std::string>(protocol::log_level_names.begin(),
                                                         protocol::log_level_names.end())));
  auto* format_flag =
      cli.add_option("--log-format", opt.log_format,
                     "text, or json: one JSON object per line (wins over mcpProxy.logFormat)")
          ->capture_default_str()
          ->check(CLI::IsMember({"text", "json"}));
  cli.add_flag("--stdio", opt.serve.stdio,
               "serve over this process's stdin/stdout instead of HTTP: one server or group "
               "(--server), else the only enabled server, else all of them merged");
  cli.add_option("--server", opt.serve.server,
                 "with --stdio: the server or group to serve (default: the only enabled server, "
                 "else every server merged as /mcp)");
  bool watch = false;
  cli.add_flag("--watch", watch,
               "reload the configuration when the config file changes (as SIGHUP does)");
  cli.add_option("--pid-file", opt.serve.pid_file,
                 "write the process id to this file once listening (removed at exit)");
  std::string reload_pid_file;
  cli.add_option("--reload", reload_pid_file,
                 "reload a running mcp-proxy: send SIGHUP to the process in this --pid-file, "
                 "then exit");
  cli.set_version_flag("-v,--version", std::string("mcp-proxy ") + MCP_PROXY_VERSION);
  try {
    cli.parse(normalized_args(argc, argv));
  } catch (const CLI::ParseError& e) {
    return cli.exit(e);
  }
  if (!reload_pid_file.empty()) return signal_reload(reload_pid_file);

  config_source source;
  source.location = opt.config_path;
  if (check_flag->count() && !check_path.empty()) {
    if (cli.get_option("--config")->count() && check_path != opt.config_path) {
      spdlog::error("--check {} and --config {}: name the config once", check_path,
                    opt.config_path);
      return 2;
    }
    source.location = check_path;
  }
  if (expand_flag->count())
    source.load.expansion = expand_env == "0" || expand_env == "f" || expand_env == "F" ||
                                    expand_env == "false" || expand_env == "FALSE" ||
                                    expand_env == "False"
                                ? config::env_expansion::none
                                : config::env_expansion::whole_text;
  if (auto headers = parse_http_headers(http_headers)) {
    source.http_headers = std::move(*headers);
  } else {
    spdlog::error("{}", headers.error());
    return 2;
  }
  source.insecure = insecure;
  source.http_timeout = std::chrono::seconds(http_timeout);
  const config_overrides overrides{opt.addr, opt.allow_unauthenticated};
  if (check_flag->count()) return run_check(source, overrides, stdout, stderr);
  spdlog::set_level(spdlog::level::from_str(opt.log_level));
  set_log_format(protocol::log_format_of(opt.log_format).value_or(protocol::log_format::text));

  auto loaded = load_config_source(source);
  if (!loaded) {
    log_config_error(loaded.error());
    return 2;
  }
  config::config cfg = std::move(*loaded);
  // mcpProxy.logLevel and logFormat (checked by the loader), unless the command line set them.
  if (!level_flag->count() && !cfg.proxy.log_level.empty())
    spdlog::set_level(spdlog::level::from_str(cfg.proxy.log_level));
  if (!format_flag->count() && !cfg.proxy.log_format.empty())
    set_log_format(
        protocol::log_format_of(cfg.proxy.log_format).value_or(protocol::log_format::text));
  // options.logEnabled (TBXark's): these servers' request lines are logged at info.
  std::vector<std::string> logged_servers;
  for (const auto& s : cfg.servers)
    if (s.log_enabled) logged_servers.push_back(s.name);
  frontend::set_request_log_servers(std::move(logged_servers));
  for (const auto& w : cfg.warnings) spdlog::warn("{}", w);
  overrides.apply(cfg);
  // A reload reads the same file (or URL) with the same overrides (SIGHUP, --watch).
  opt.serve.load_again = [source, overrides] {
    auto again = load_config_source(source);
    if (again) overrides.apply(*again);
    return again;
  };
  if (watch && is_config_url(source.location)) {
    spdlog::error("--watch: {} is a URL; watching needs a config file (reload with SIGHUP)",
                  protocol::parse_target(source.location)->shown);
    return 2;
  }
  if (watch) opt.serve.watch_file = source.location;
  return serve(std::move(cfg), opt.serve);
}

}  // namespace mcp_proxy
