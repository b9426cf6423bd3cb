#pragma once
// GET /metrics (issue #17; docs/operations.md "Metrics"): the answer, on the main listener or
// on a listener of its own (mcpProxy.metrics.addr). The text is protocol::metrics' render.
//
// /metrics is protected as /readyz is: no token (Prometheus scrapes it as a probe), and its Host
// checked as the MCP routes' (on a loopback listener a page that rebinds its name to 127.0.0.1
// gets 403): it names servers and routes, never a token, a path or an argument. An operator who
// wants it off the client-facing port gives it its own address (a loopback or an internal one).
//
// The listener of its own serves that one path (404 elsewhere, 405 for other methods), plain
// HTTP, one request per connection, at most 16 connections at once, each within headerTimeout.
// Thread-safety: the executor given (the proxy's one I/O thread).

#include "config/config.hpp"
#include "frontend/client_stream.hpp"
#include "frontend/http_io.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/system/result.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace mcp_proxy::http {

// Whether a probe that names backends (/readyz, /metrics: `what`) may answer a request with
// this Host (protocol::host_allowed, as the MCP routes); logs a refusal.
bool probe_host_allowed(const frontend::http_request& req, bool loopback_listener,
                        const std::vector<std::string>& allowed_hosts, std::string_view what);

// What a scrape is answered with (GET or HEAD; else 405): 200 with the text
// (`text/plain; version=0.0.4`), or 403 for a Host the listener does not serve.
boost::asio::awaitable<bool> answer_metrics(frontend::client_stream& stream,
                                            const frontend::http_request& req,
                                            const std::function<std::string()>& render,
                                            bool loopback_listener,
                                            const std::vector<std::string>& allowed_hosts);

class metrics_listener {
 public:
  metrics_listener(boost::asio::any_io_executor ex, const config::proxy_config& proxy,
                   std::function<std::string()> render);
  ~metrics_listener();
  // Binds mcpProxy.metrics.addr; the bound port, or an error naming the key.
  boost::system::result<std::uint16_t, std::string> listen();
  boost::asio::awaitable<void> run();
  void stop();

  struct impl;

 private:
  std::shared_ptr<impl> impl_;
};

}  // namespace mcp_proxy::http
