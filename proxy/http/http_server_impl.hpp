#pragma once
// The state behind http_server (http_server.hpp), shared by the two files that implement it:
// http_server.cpp (the public methods, the TLS handshake, a connection's loop and the routing
// of its requests) and http_connection.cpp (reading a request, and the connection limits'
// admissions, evictions and log). Internal to proxy/http/: it brings Asio and Beast in, which
// http_server.hpp keeps out of its users.
// Thread-safety: as http_server, on the executor given at construction (one I/O thread).

#include "core/server_endpoint.hpp"
#include "frontend/http_io.hpp"
#include "frontend/legacy_sse.hpp"
#include "frontend/streamable_http.hpp"
#include "http/connection_limits.hpp"
#include "http/http_server.hpp"
#include "http/metrics_endpoint.hpp"
#include "http/request_framing.hpp"
#include "protocol/http_rules.hpp"
#include "util/async_event.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/parse.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace mcp_proxy::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using asio::awaitable;
using asio::ip::tcp;
using frontend::client_stream;
using frontend::http_request;

namespace detail {

inline constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);

// A deadline for reading a request that cancels the socket's reads instead of closing it (as
// beast::tcp_stream's own timeout does), so a 408 can still be written. The handler holds the
// stream and a shared state, so it is safe whenever it runs; a generation number tells a stale
// expiry from the current one.
class read_deadline {
 public:
  read_deadline(asio::any_io_executor ex, std::shared_ptr<client_stream> stream)
      : timer_(ex), stream_(std::move(stream)), state_(std::make_shared<state>()) {}
  ~read_deadline() { timer_.cancel(); }

  void arm(std::chrono::steady_clock::duration d) {
    const auto generation = ++state_->generation;
    state_->expired = false;
    timer_.expires_after(d);
    timer_.async_wait([st = state_, generation, s = stream_](boost::system::error_code ec) {
      if (ec || st->generation != generation) return;
      st->expired = true;
      boost::system::error_code ignored;
      s->socket().cancel(ignored);
    });
  }
  // Whether the deadline had passed.
  bool disarm() {
    ++state_->generation;
    timer_.cancel();
    return state_->expired;
  }

 private:
  struct state {
    std::uint64_t generation = 0;
    bool expired = false;
  };
  asio::steady_timer timer_;
  std::shared_ptr<client_stream> stream_;
  std::shared_ptr<state> state_;
};

}  // namespace detail

struct http_server::impl {
  impl(asio::any_io_executor ex, config::proxy_config p,
       std::map<std::string, std::shared_ptr<core::endpoint>, std::less<>> r,
       route_security_map security, injected_faults f)
      : ctx(ex, std::move(p), f),
        acceptor(ex),
        routes(std::move(r)),
        allowed_hosts(ctx.proxy.allowed_hosts),
        limits(ctx.proxy.max_connections, ctx.proxy.max_connections_per_peer),
        framing{ctx.proxy.header_timeout, ctx.proxy.max_header_bytes, ctx.proxy.max_body_bytes},
        path_prefix(protocol::route_prefix(ctx.proxy.base_url)),
        auth(ex, ctx.proxy, std::move(security)),
        streamable(ctx),
        legacy(ctx) {
    // The public name in baseURL is how clients behind a reverse proxy reach us.
    if (auto u = boost::urls::parse_uri(ctx.proxy.base_url); u && !u->encoded_host().empty())
      allowed_hosts.emplace_back(u->encoded_host());
    frontend::set_cors_policy(ctx.proxy.allowed_origins, ctx.proxy.cors_allow_credentials,
                              ctx.proxy.cors_max_age);
    index_backends();
  }

  void index_backends() {
    backends.clear();
    for (const auto& [name, ep] : routes)
      if (auto server = std::dynamic_pointer_cast<core::server_endpoint>(ep))
        backends.push_back(std::move(server));
  }

  frontend::http_context ctx;
  tcp::acceptor acceptor;
  std::map<std::string, std::shared_ptr<core::endpoint>, std::less<>> routes;
  // The server endpoints among the routes: what /readyz reports.
  std::vector<std::shared_ptr<core::server_endpoint>> backends;
  bool loopback_listener = false;  // set by listen()
  bool draining = false;           // set_draining: new sessions get 503
  bool started = false;            // set_started: the backends' start is over
  util::async_event started_event{ctx.ex};
  std::vector<std::string> allowed_hosts;  // proxy.allowed_hosts plus baseURL's host
  connection_limits limits;
  framing_limits framing;
  std::unordered_map<connection_limits::id, std::shared_ptr<client_stream>> connections;
  connection_limits::id next_connection = 1;
  std::string path_prefix;
  // With mcpProxy.tls: the context new connections are made with (replaced by reload_tls; a
  // connection keeps the one it was made with).
  std::shared_ptr<asio::ssl::context> tls;
  request_auth auth;
  frontend::streamable_http streamable;
  frontend::legacy_sse legacy;
  // What the limits did since they were last logged: one summary line at most every 10 s, as
  // a flood would otherwise log a line per connection.
  struct limit_events {
    std::size_t evicted = 0, refused = 0, timed_out = 0, unreadable = 0;
    std::string last_peer;
    connection_limits::bound last_bound = connection_limits::bound::none;
    std::string last_unreadable;
    std::chrono::steady_clock::time_point next_log{};
  } events;

  void admit(tcp::socket sock);
  // Closes a connection the limits gave up (it was waiting for a request).
  void evict(connection_limits::id c);
  void note_limit(connection_limits::bound b, std::string_view peer, bool refused);
  void note_unreadable(const framing_answer& a, bool timed_out);
  void log_limits();
  awaitable<void> connection(std::shared_ptr<client_stream> stream, connection_limits::id c,
                             std::shared_ptr<asio::ssl::context> tls_context);
  // The TLS handshake of a new connection, within headerTimeout; the client certificate's
  // principal ("" without one), or nullopt when the handshake failed.
  awaitable<std::optional<std::string>> handshake(client_stream& stream);
  // What to answer a request that could not be read (request_framing.hpp), and answering it.
  std::optional<framing_answer> why_unreadable(
      boost::system::error_code ec, bool timed_out, bool in_body, const beast::flat_buffer& buffer,
      const bhttp::request_parser<bhttp::string_body>& parser) const;
  awaitable<bool> refuse_unreadable(client_stream& stream, framing_answer a, bool timed_out);
  // Reads one request into `parser`; false when the connection is to close (after an answer
  // when the request could not be read).
  awaitable<bool> read_request(client_stream& stream, detail::read_deadline& deadline,
                               beast::flat_buffer& buffer,
                               bhttp::request_parser<bhttp::string_body>& parser,
                               connection_limits::id c);
  awaitable<bool> dispatch(client_stream& stream, http_request& req,
                           const std::string& cert_principal);
  // The answer to a request under /.well-known/oauth-protected-resource.
  awaitable<bool> answer_metadata(client_stream& stream, http_request& req, std::string_view path);
  // What /readyz and /metrics report of the backends (disabled ones included).
  std::vector<protocol::backend_status> backend_states() const {
    std::vector<protocol::backend_status> states = ctx.proxy.readiness.disabled;
    for (const auto& b : backends) states.push_back(b->status());
    return states;
  }
  // GET /metrics (http/metrics_endpoint.hpp); with mcpProxy.metrics.addr, on its own listener.
  std::string metrics_text() const {
    std::vector<protocol::metrics::registry::route_queue> queues;
    for (const auto& [name, ep] : routes) queues.push_back({name, ep->queued_messages()});
    return protocol::metrics::metrics().render(backend_states(), MCP_PROXY_VERSION, queues);
  }
  bool is_metrics_path(std::string_view path) const {
    const auto& m = ctx.proxy.metrics;
    if (!m.enabled || !m.addr.empty()) return false;
    return path == m.path || (path.starts_with(path_prefix) &&
                              path.substr(path_prefix.size()) == m.path && !path_prefix.empty());
  }
  std::unique_ptr<metrics_listener> own_metrics;
  // A tools/call's tool name in a POST body (only read when the route has toolScopes).
  static std::optional<std::string> called_tool(const http_request& req);
};

}  // namespace mcp_proxy::http
