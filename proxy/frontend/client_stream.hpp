#pragma once
// A client's connection as the HTTP listener and frontends use it: plain TCP, or TLS over TCP
// (mcpProxy.tls) once its handshake is done (util/tcp_or_tls_stream.hpp).

#include "util/tcp_or_tls_stream.hpp"

namespace mcp_proxy::frontend {

using client_stream = util::tcp_or_tls_stream;

}  // namespace mcp_proxy::frontend
