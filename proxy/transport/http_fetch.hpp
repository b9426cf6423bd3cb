#pragma once
// One HTTP(S) request and its whole answer, for what the proxy fetches for itself rather than
// relays: the JWK set of an authorization server, a token introspection (issue #16). A new
// connection each time (these are rare: a key rotation, a cache miss), certificates verified
// against the system store and an optional CA file, the host name checked, SNI sent; the answer
// bounded in time and size.
// Thread-safety: an http_fetcher is used on its executor's thread; fetches may overlap.

#include "transport/lazy_tls_context.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace mcp_proxy::transport {

struct fetch_request {
  bool post = false;  // GET otherwise
  std::string url;    // absolute http or https URL
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // with post; its Content-Type is in headers
  std::chrono::milliseconds timeout{10'000};
  std::size_t max_body = 1 << 20;
};

struct fetch_response {
  unsigned status = 0;
  std::string content_type;
  std::string location;  // of a redirect
  std::string body;
};

class http_fetcher {
 public:
  explicit http_fetcher(boost::asio::any_io_executor ex);
  // Trusts the PEM certificates of `file` besides the system store; the error says why not.
  std::optional<std::string> trust_ca_file(const std::string& file);
  // Accepts any certificate and host name (TBXark's -insecure, for the config URL only).
  void skip_verification();

  // The error is one line naming the URL's origin (never its path or query, which may hold keys).
  boost::asio::awaitable<boost::system::result<fetch_response, std::string>> fetch(
      fetch_request request);

 private:
  boost::asio::any_io_executor ex_;
  lazy_tls_context tls_;  // made at the first https fetch
};

}  // namespace mcp_proxy::transport
