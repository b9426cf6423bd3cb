#include "mock_http.hpp"

#include "app/app.hpp"

#include <unistd.h>
#include <climits>
#include <cstdio>
#include <cstring>
#include <string>

namespace mock {

int serve_over_http(int argc, char** argv, const std::string& addr) {
  // The HTTP side is the proxy library's server (the same strict Streamable HTTP and legacy
  // HTTP+SSE the proxy serves); each client session gets its own mock process over stdio, so
  // sessions never share state.
  char self[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) {
    std::perror("mock-mcp-server: cannot find its own executable");
    return 1;
  }
  self[n] = '\0';
  mcp_proxy::config::server_config server;
  server.name = "mock";
  server.command = self;
  server.mode = mcp_proxy::config::session_mode::per_client;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--http")) {
      ++i;  // and its value
      continue;
    }
    server.args.emplace_back(argv[i]);
  }
  mcp_proxy::config::config cfg;
  cfg.proxy.addr = addr;
  cfg.proxy.name = "mock-mcp-server";
  cfg.servers.push_back(std::move(server));
  mcp_proxy::init_logging("mock-mcp-server");
  return mcp_proxy::serve(std::move(cfg), {});
}

}  // namespace mock
