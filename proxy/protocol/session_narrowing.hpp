#pragma once
// What a client asked to see of a merged endpoint when it started its session (query parameters
// `servers` and `tools`, or the headers Mcp-Proxy-Servers and Mcp-Proxy-Tools): the servers it
// wants, and glob patterns of the exposed tool names it wants. Empty: no narrowing.
// Thread-safety: a plain value.

#include <string>
#include <vector>

namespace mcp_proxy::protocol {

struct session_narrowing {
  std::vector<std::string> servers;
  std::vector<std::string> tools;
  bool empty() const { return servers.empty() && tools.empty(); }
};

}  // namespace mcp_proxy::protocol
