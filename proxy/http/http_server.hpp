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

using routes_map = std::map<std::string, std::shared_ptr<core::endpoint>, std::less<>>;

class http_server {
 public:
  http_server(boost::asio::any_io_executor ex, config::proxy_config proxy, routes_map routes,
              route_security_map security = {}, injected_faults faults = {});
  ~http_server();

  // With mcpProxy.tls: (re)reads the certificate, key and client CA files into the context new
  // connections are made with. The error says what is wrong; the old context (if any) then
  // stays. Before listen() at start; again on SIGHUP.
  std::optional<std::string> load_tls();
  bool tls() const;  // HTTPS
  // A configuration reload: the routes, their tokens and scopes, the readiness rule and the TLS
  // files (read by the next load_tls) from now on. Requests under way keep the endpoint they
  // were routed to.
  void set_routes(routes_map routes, route_security_map security,
                  config::readiness_config readiness, config::tls_listener_config tls);
  // SIGTERM: requests that would open a session (initialize, a legacy event stream, a
  // 2026-07-28 request) get 503 and /readyz answers 503; requests in open sessions go on.
  void set_draining();
  // Binds and listens; returns the bound port (useful with port 0) or a readable error.
  boost::system::result<std::uint16_t, std::string> listen(const config::listen_address& addr);
  // Accepts connections until stop(). Until set_started(), requests to the MCP routes wait for
  // it (at most fanOutTimeout + 5 s); /healthz, /readyz and /metrics answer at once.
  void set_started();
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
