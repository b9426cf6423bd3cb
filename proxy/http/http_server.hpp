#pragma once
// The client-facing HTTP listener: every route (`/{name}/mcp`, `/{name}/sse`,
// `/{name}/message`, the merged `/mcp`, `/sse`, `/message` and the groups) checked by one
// function (protocol::check_request) and handed to its frontend (Streamable HTTP or legacy
// HTTP+SSE), `/health`, and with mcpProxy.oauth the protected resource metadata under
// `/.well-known/oauth-protected-resource`. Before any route is looked up: CORS preflights
// (protocol/cors) and the bearer-token check (http/request_auth), so that a refusal says nothing
// about which routes or sessions exist. Beast and Asio stay inside the .cpp files.
// Thread-safety: runs on the executor given at construction (one I/O thread).

#include "config/config.hpp"
#include "core/endpoint.hpp"
#include "frontend/injected_faults.hpp"
#include "http/request_auth.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mcp_proxy::http {

using injected_faults = frontend::injected_faults;

class http_server {
 public:
  http_server(boost::asio::any_io_executor ex, config::proxy_config proxy,
              std::map<std::string, std::shared_ptr<core::endpoint>, std::less<>> routes,
              route_security_map security = {}, injected_faults faults = {});
  ~http_server();

  // With mcpProxy.tls: (re)reads the certificate, key and client CA files into the context new
  // connections are made with. The error says what is wrong; the old context (if any) then
  // stays. Before listen() at start; again on SIGHUP.
  std::optional<std::string> load_tls();
  bool tls() const;  // HTTPS
  // Binds and listens; returns the bound port (useful with port 0) or a readable error.
  boost::system::result<std::uint16_t, std::string> listen(const config::listen_address& addr);
  // Accepts connections until stop().
  boost::asio::awaitable<void> run();
  // Stops accepting and closes idle connections; streams end when their sessions end.
  void stop();
  // After stop() and the endpoints' own stop: cancels what connections still run and waits for
  // it (until `deadline`), so nothing refers to an endpoint that is gone.
  boost::asio::awaitable<void> drain(std::chrono::steady_clock::time_point deadline);

  struct impl;

 private:
  std::unique_ptr<impl> impl_;
};

}  // namespace mcp_proxy::http
