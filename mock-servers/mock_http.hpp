#pragma once
// `--http ADDR`: the mock served over HTTP at http://ADDR/mock/mcp (Streamable HTTP) and
// http://ADDR/mock/sse (legacy HTTP+SSE), one mock process per client session.

#include <string>

namespace mock {

// Runs until SIGINT/SIGTERM; returns the exit code. `argv` is the mock's own command line: every
// option but --http is passed on to the per-session processes.
int serve_over_http(int argc, char** argv, const std::string& addr);

}  // namespace mock
