#pragma once
// The mcp-proxy program: command line -> config -> listeners and backends -> run until signalled.

namespace mcp_proxy {

// Returns the process exit code. Never throws.
int run_proxy(int argc, char** argv);

}  // namespace mcp_proxy
