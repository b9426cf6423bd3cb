#include "transport/lazy_tls_context.hpp"

namespace mcp_proxy::transport {

namespace ssl = boost::asio::ssl;

ssl::context& lazy_tls_context::get() {
  if (!ctx_) {
    ctx_.emplace(ssl::context::tls_client);
    ctx_->set_verify_mode(verify_ ? ssl::verify_peer : ssl::verify_none);
    boost::system::error_code ignored;
    // The system store; OpenSSL also honours SSL_CERT_FILE and SSL_CERT_DIR.
    ctx_->set_default_verify_paths(ignored);
  }
  return *ctx_;
}

std::optional<std::string> lazy_tls_context::trust_ca_file(const std::string& file) {
  boost::system::error_code ec;
  get().load_verify_file(file, ec);
  if (ec) return file + ": " + ec.message();
  return std::nullopt;
}

void lazy_tls_context::skip_verification() {
  verify_ = false;
  if (ctx_) ctx_->set_verify_mode(ssl::verify_none);
}

}  // namespace mcp_proxy::transport
