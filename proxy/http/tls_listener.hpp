#pragma once
// HTTPS on the listener (mcpProxy.tls, docs/security.md "TLS on the listener"): the server's TLS
// context from the certificate and key files (TLS 1.2 at least, or 1.3 only), client
// certificates (mTLS) verified against a CA file, and the identity a verified client certificate
// gives. A context is built whole or not at all, so a reload (SIGHUP) that fails keeps the old.
// Thread-safety: a context is shared by the connections made with it (OpenSSL counts them).

#include "config/config.hpp"

#include <boost/asio/ssl/context.hpp>
#include <boost/system/result.hpp>

#include <memory>
#include <string>

typedef struct ssl_st SSL;

namespace mcp_proxy::http {

// The context for `tls`; the error names the file and what OpenSSL said of it.
boost::system::result<std::shared_ptr<boost::asio::ssl::context>, std::string> make_server_tls(
    const config::tls_listener_config& tls);

// The principal of the client certificate of a finished handshake: "cert:" and the subject's
// common name (else its first DNS name), when a certificate was sent and verified; "" otherwise.
std::string client_certificate_principal(SSL* ssl);

}  // namespace mcp_proxy::http
