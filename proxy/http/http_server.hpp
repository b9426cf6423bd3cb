#pragma once
// The client-facing HTTP listener: Streamable HTTP (spec 2025-11-25) at `/{name}/mcp` for each
// configured backend, and `/health`. Beast and Asio stay inside http_server.cpp.
// Thread-safety: runs on the executor given at construction (one I/O thread).

#include "config/config.hpp"
#include "core/endpoint.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <cstddef>

#include <map>
#include <memory>
#include <string>

namespace mcp_proxy::http {

// Misbehaviour on purpose, for the mock servers' fault modes (never set by the proxy): the
// streams of answers are written slowly, or cut.
struct injected_faults {
  // Each event-stream write is sent in pieces of `drip_bytes`, one piece per `drip_interval`.
  std::chrono::milliseconds drip_interval{0};
  std::size_t drip_bytes = 8;
  // A POST's event stream is cut (the connection closed) after this many events, before the
  // response; 0 = never.
  std::size_t drop_stream_after_events = 0;
};

class http_server {
 public:
  http_server(boost::asio::any_io_executor ex, config::proxy_config proxy,
              std::map<std::string, std::shared_ptr<core::endpoint>, std::less<>> routes,
              injected_faults faults = {});
  ~http_server();

  // Binds and listens; returns the bound port (useful with port 0) or a readable error.
  boost::system::result<std::uint16_t, std::string> listen(const config::listen_address& addr);
  // Accepts connections until stop().
  boost::asio::awaitable<void> run();
  // Stops accepting and closes idle connections; streams end when their sessions end.
  void stop();

  struct impl;

 private:
  std::unique_ptr<impl> impl_;
};

}  // namespace mcp_proxy::http
