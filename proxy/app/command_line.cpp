#include "app/app.hpp"

#include "config/config.hpp"

#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <sstream>

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
  serve_options serve;
};

// TBXark/mcp-proxy spells its flags with one dash (-config); CLI11 wants two for long names.
std::vector<std::string> normalized_args(int argc, char** argv) {
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-config" || a.starts_with("-config=") || a == "-addr" || a.starts_with("-addr="))
      a = "-" + a;
    args.push_back(std::move(a));
  }
  std::reverse(args.begin(), args.end());  // CLI11 parses a reversed vector
  return args;
}

}  // namespace

int run_proxy(int argc, char** argv) {
  init_logging("mcp-proxy");

  CLI::App cli{"mcp-proxy: many MCP servers behind one endpoint", "mcp-proxy"};
  options opt;
  cli.add_option("-c,--config", opt.config_path, "config file (TBXark/mcp-proxy format)")
      ->capture_default_str();
  cli.add_option("--addr", opt.addr, "listen address HOST:PORT, overrides mcpProxy.addr");
  cli.add_flag("--allow-unauthenticated", opt.allow_unauthenticated,
               "serve beyond loopback routes that need no token (mcpProxy.allowUnauthenticated)");
  // An unknown name is refused by CLI11 (spdlog's from_str would turn logging off silently).
  cli.add_option("--log-level", opt.log_level, "trace, debug, info, warn, error, off")
      ->capture_default_str()
      ->check(
          CLI::IsMember({"trace", "debug", "info", "warn", "warning", "error", "critical", "off"}));
  cli.add_flag("--stdio", opt.serve.stdio,
               "serve one configured server over this process's stdin/stdout instead of HTTP");
  cli.add_option("--server", opt.serve.server,
                 "with --stdio: the server to serve (needed when several)");
  cli.set_version_flag("-v,--version", std::string("mcp-proxy ") + MCP_PROXY_VERSION);
  try {
    cli.parse(normalized_args(argc, argv));
  } catch (const CLI::ParseError& e) {
    return cli.exit(e);
  }
  spdlog::set_level(spdlog::level::from_str(opt.log_level));

  auto loaded = config::load_config_file(opt.config_path);
  if (!loaded) {
    for (const auto& w : loaded.error().warnings) spdlog::warn("{}", w);
    // The message holds every problem of the file, one a line: one log line each.
    std::istringstream lines(loaded.error().message);
    for (std::string line; std::getline(lines, line);) spdlog::error("{}", line);
    return 2;
  }
  config::config cfg = std::move(*loaded);
  for (const auto& w : cfg.warnings) spdlog::warn("{}", w);
  if (!opt.addr.empty()) {
    cfg.proxy.addr = opt.addr;
    cfg.proxy.addr_origin = "--addr";
  }
  if (opt.allow_unauthenticated) cfg.proxy.allow_unauthenticated = true;
  return serve(std::move(cfg), opt.serve);
}

}  // namespace mcp_proxy
