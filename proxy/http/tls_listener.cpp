#include "http/tls_listener.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

namespace mcp_proxy::http {

namespace ssl = boost::asio::ssl;

namespace {

// OpenSSL's reason for the last failure (the error code's message is often just "error").
std::string openssl_reason(const boost::system::error_code& ec) {
  const unsigned long e = ERR_peek_last_error();
  ERR_clear_error();
  if (e == 0) return ec.message();
  char text[256];
  ERR_error_string_n(e, text, sizeof text);
  return text;
}

}  // namespace

boost::system::result<std::shared_ptr<ssl::context>, std::string> make_server_tls(
    const config::tls_listener_config& tls) {
  using client_certs = config::tls_listener_config::client_certs;
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                   ssl::context::single_dh_use);
  SSL_CTX_set_min_proto_version(ctx->native_handle(),
                                tls.tls13_only ? TLS1_3_VERSION : TLS1_2_VERSION);
  ERR_clear_error();
  boost::system::error_code ec;
  ctx->use_certificate_chain_file(tls.cert_file, ec);
  if (ec)
    return "certFile " + tls.cert_file + ": not a PEM certificate chain (" + openssl_reason(ec) +
           ")";
  // OpenSSL checks that the key matches the certificate as it loads it.
  ctx->use_private_key_file(tls.key_file, ssl::context::pem, ec);
  if (ec)
    return "keyFile " + tls.key_file + ": not a PEM private key for the certificate of certFile (" +
           openssl_reason(ec) + ")";
  if (tls.client_certificates != client_certs::none) {
    ctx->load_verify_file(tls.client_ca_file, ec);
    if (ec) return "clientCaFile " + tls.client_ca_file + ": " + openssl_reason(ec);
    // The CAs a client is asked for (its certificate must chain to one of them).
    if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(tls.client_ca_file.c_str()))
      SSL_CTX_set_client_CA_list(ctx->native_handle(), names);
    ssl::verify_mode mode = ssl::verify_peer;
    if (tls.client_certificates == client_certs::required) mode |= ssl::verify_fail_if_no_peer_cert;
    ctx->set_verify_mode(mode);
  }
  return ctx;
}

std::string client_certificate_principal(SSL* ssl) {
  if (!ssl || SSL_get_verify_result(ssl) != X509_V_OK) return {};
  X509* cert = SSL_get1_peer_certificate(ssl);
  if (!cert) return {};
  std::string name;
  char cn[256];
  const int n =
      X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn);
  if (n > 0) {
    name.assign(cn, static_cast<std::size_t>(n));
  } else if (auto* sans = static_cast<GENERAL_NAMES*>(
                 X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr))) {
    for (int i = 0; i < sk_GENERAL_NAME_num(sans) && name.empty(); ++i) {
      const GENERAL_NAME* g = sk_GENERAL_NAME_value(sans, i);
      if (g->type == GEN_DNS)
        name.assign(reinterpret_cast<const char*>(ASN1_STRING_get0_data(g->d.dNSName)),
                    static_cast<std::size_t>(ASN1_STRING_length(g->d.dNSName)));
    }
    GENERAL_NAMES_free(sans);
  }
  X509_free(cert);
  // It reaches logs and the audit log: printable ASCII only.
  for (auto& c : name)
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) c = '?';
  return name.empty() ? std::string() : "cert:" + name;
}

}  // namespace mcp_proxy::http
