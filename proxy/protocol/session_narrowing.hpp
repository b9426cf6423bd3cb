#pragma once
// What a client may see of an endpoint, fixed when its session starts: what it asked for on a
// merged endpoint (query parameters `servers` and `tools`, or the headers Mcp-Proxy-Servers and
// Mcp-Proxy-Tools: the servers it wants, and glob patterns of the exposed tool names it wants),
// and who it is: the principal its session is bound to and what its identity may use
// (mcpProxy.access, through item_access). Narrowing can only narrow what access allows.
// Thread-safety: a plain value; an item_access is immutable and shared.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace mcp_proxy::protocol {

enum class item_kind { tool, prompt, resource };

// What an identity may use (auth::access_grant behind it).
class item_access {
 public:
  virtual ~item_access() = default;
  // `server`: the configured name of the server that has the item; `own_name`: its name there (a
  // resource's or template's URI); `exposed_name`: its name on the merged endpoint (prefix,
  // separator and name for tools and prompts; the URI for resources), whatever the route.
  virtual bool allows(item_kind kind, std::string_view server, std::string_view own_name,
                      std::string_view exposed_name) const = 0;
};

struct session_narrowing {
  std::vector<std::string> servers;
  std::vector<std::string> tools;
  // Who opened the session ("" when the route needs no credential): a request for the session
  // from another principal is answered as for an unknown session.
  std::string principal;
  std::shared_ptr<const item_access> access;  // null: everything
  // Whose limits (mcpProxy.limits) its requests count against: the principal, or without one
  // "peer:ADDRESS" (HTTP) or "stdio" (frontend/call_gate.hpp).
  std::string limits_key;
  bool empty() const { return servers.empty() && tools.empty(); }
  bool allows(item_kind kind, std::string_view server, std::string_view own_name,
              std::string_view exposed_name) const {
    return !access || access->allows(kind, server, own_name, exposed_name);
  }
};

}  // namespace mcp_proxy::protocol
