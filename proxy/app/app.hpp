#pragma once
// The mcp-proxy program: command line -> config -> listeners and backends -> run until signalled.

#include "config/config.hpp"
#include "http/http_server.hpp"
#include "protocol/log_text.hpp"

#include <functional>
#include <string>
#include <string_view>

namespace mcp_proxy {

// Returns the process exit code. Never throws.
int run_proxy(int argc, char** argv);

// Logs go to stderr, one line per record, under `name`, as text with UTC times.
void init_logging(std::string_view name);
// Every later line as text or as one JSON object (docs/operations.md, "Logs").
void set_log_format(protocol::log_format format);

// Logs the warnings and every problem of a config that could not be loaded, a line each.
void log_config_error(const config::config_error& e);

struct serve_options {
  bool stdio = false;            // serve one server on stdin/stdout instead of HTTP
  std::string server;            // with stdio: which one (needed when several are enabled)
  http::injected_faults faults;  // the mock servers' fault modes only
  // Reads the configuration again, from the same place and with the same command-line
  // overrides as at start: SIGHUP, or a change of `watch_file`, reloads with it. Unset: SIGHUP
  // only reloads the TLS files (the mock servers).
  std::function<boost::system::result<config::config, config::config_error>()> load_again;
  std::string watch_file;  // --watch: the config file whose changes trigger a reload
  std::string pid_file;    // --pid-file: written once listening, removed at exit
};
// Serves a loaded config until SIGINT/SIGTERM (or, with stdio, the end of stdin). The mock
// servers use it to offer their tools over HTTP. Returns the process exit code.
int serve(config::config cfg, const serve_options& opt);

}  // namespace mcp_proxy
