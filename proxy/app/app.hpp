#pragma once
// The mcp-proxy program: command line -> config -> listeners and backends -> run until signalled.

#include "config/config.hpp"
#include "http/http_server.hpp"

#include <string>
#include <string_view>

namespace mcp_proxy {

// Returns the process exit code. Never throws.
int run_proxy(int argc, char** argv);

// Logs go to stderr, one line per record, under `name`.
void init_logging(std::string_view name);

struct serve_options {
  bool stdio = false;            // serve one server on stdin/stdout instead of HTTP
  std::string server;            // with stdio: which one (needed when several are enabled)
  http::injected_faults faults;  // the mock servers' fault modes only
};
// Serves a loaded config until SIGINT/SIGTERM (or, with stdio, the end of stdin). The mock
// servers use it to offer their tools over HTTP. Returns the process exit code.
int serve(config::config cfg, const serve_options& opt);

}  // namespace mcp_proxy
