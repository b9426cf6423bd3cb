#pragma once
// The client a request of the core is for, as that client declared itself in its own
// initialize: its capabilities and clientInfo. A backend of the 2026-07-28 era learns who asks
// from each request's _meta (spec 2026-07-28 basic/index, per-request protocol fields), and in
// shared mode one backend session serves many clients, so the session's initialize cannot say.
// Pointers to what the client session holds, valid for the call that is given them; null: not
// declared.

#include <boost/json/object.hpp>

namespace mcp_proxy::protocol {

struct declared_client {
  const boost::json::object* capabilities = nullptr;
  const boost::json::object* client_info = nullptr;
};

}  // namespace mcp_proxy::protocol
