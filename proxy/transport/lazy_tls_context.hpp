#pragma once
// A TLS client context made at its first use: making one initializes OpenSSL (about 2.5 MB of
// libcrypto made resident) and the system store costs about 0.9 MB more, which a proxy with only
// http:// backends and no OAuth never needs (a per-client backend is a link per session).
// Thread-safety: none (one link or fetcher, one executor).

#include <boost/asio/ssl/context.hpp>

#include <optional>
#include <string>

namespace mcp_proxy::transport {

class lazy_tls_context {
 public:
  explicit lazy_tls_context(bool verify) : verify_(verify) {}
  // The context: made (verify mode, the system store) at the first call.
  boost::asio::ssl::context& get();
  // Trusts the PEM certificates of `file` besides the system store; the error says why not.
  std::optional<std::string> trust_ca_file(const std::string& file);
  void skip_verification();
  bool verifies() const { return verify_; }

 private:
  std::optional<boost::asio::ssl::context> ctx_;
  bool verify_;
};

}  // namespace mcp_proxy::transport
