#include "mock_http.hpp"

#include "app/app.hpp"

#include <unistd.h>
#include <charconv>
#include <climits>
#include <cstdio>
#include <string>
#include <string_view>

namespace mock {

namespace {

bool read_count(int& i, int argc, char** argv, long& out) {
  if (i + 1 >= argc) return false;
  std::string_view v = argv[++i];
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  return ec == std::errc() && end == v.data() + v.size() && out >= 0;
}

}  // namespace

int serve_over_http(int argc, char** argv) {
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
  mcp_proxy::config::config cfg;
  cfg.proxy.name = "mock-mcp-server";
  mcp_proxy::serve_options options;
  std::string_view era = "legacy";
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    long value = 0;
    if (arg == "--http") {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "mock-mcp-server: --http needs HOST:PORT\n");
        return 2;
      }
      cfg.proxy.addr = argv[++i];
    } else if (arg == "--event-stream-answers") {
      options.faults.event_stream_answers = true;
    } else if (arg == "--hold-until") {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "mock-mcp-server: --hold-until needs a file path\n");
        return 2;
      }
      options.faults.hold_until = argv[++i];
    } else if (arg == "--drip-ms" || arg == "--drop-after-events" ||
               arg == "--close-stream-after-ms" || arg == "--hold-after-bytes") {
      if (!read_count(i, argc, argv, value)) {
        std::fprintf(stderr, "mock-mcp-server: %s needs a non-negative integer\n", arg.data());
        return 2;
      }
      if (arg == "--drip-ms")
        options.faults.drip_interval = std::chrono::milliseconds(value);
      else if (arg == "--hold-after-bytes")
        options.faults.hold_after_bytes = static_cast<std::size_t>(value);
      else if (arg == "--drop-after-events")
        options.faults.drop_stream_after_events = static_cast<std::size_t>(value);
      else  // polling: a long call's stream is ended once primed (mcpProxy.closeStreamAfter)
        cfg.proxy.close_stream_after = std::chrono::milliseconds(value);
    } else {
      // --era (mock_mcp_server.cpp) goes to the per-session processes too; a legacy mock's HTTP
      // side answers 2026-07-28 requests as a 2025-11-25 server does (no such era here).
      if (arg == "--era" && i + 1 < argc) era = argv[i + 1];
      server.args.emplace_back(arg);
    }
  }
  options.faults.legacy_only = era == "legacy";
  cfg.servers.push_back(std::move(server));
  mcp_proxy::init_logging("mock-mcp-server");
  return mcp_proxy::serve(std::move(cfg), options);
}

}  // namespace mock
