#include "http/http_server.hpp"

#include "auth/resource_metadata.hpp"
#include "core/server_endpoint.hpp"
#include "frontend/http_io.hpp"
#include "frontend/legacy_sse.hpp"
#include "frontend/streamable_http.hpp"
#include "http/connection_limits.hpp"
#include "http/metrics_endpoint.hpp"
#include "http/request_framing.hpp"
#include "http/tls_listener.hpp"
#include "jsonrpc/message.hpp"
#include "protocol/http_rules.hpp"
#include "util/async_event.hpp"
#include "util/scope_exit.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/parse.hpp>

#include <netinet/tcp.h>

#include <tuple>
#include <unordered_map>

namespace mcp_proxy::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using asio::awaitable;
using asio::ip::tcp;
using frontend::client_stream;
using frontend::http_request;
namespace codes = jsonrpc::error_codes;

namespace {

// A request body must arrive within this once its headers are in; a kept-alive connection may
// sit idle this long between requests (it can be given up sooner for a new client, see
// connection_limits).
constexpr auto body_timeout = std::chrono::seconds(120);
constexpr auto keep_alive_idle = std::chrono::seconds(120);
constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);
// How often the connection limits' summary may be logged (a flood would log a line each).
constexpr auto limits_log_interval = std::chrono::seconds(10);

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

// Feeds `parser` what `buffer` holds, as Beast's read algorithms do between reads, up to the end
// of the header (or, with `body`, of the message). Empty when it needs more bytes or is done;
// else the parse error, which the read would have given.
boost::system::error_code parse_buffered(beast::flat_buffer& buffer,
                                         bhttp::request_parser<bhttp::string_body>& parser,
                                         bool body) {
  boost::system::error_code ec;
  while (buffer.size() > 0 && !(body ? parser.is_done() : parser.is_header_done())) {
    const auto used = parser.put(buffer.data(), ec);
    buffer.consume(used);
    if (ec == bhttp::error::need_more) return {};
    if (ec) return ec;
    if (used == 0) break;
  }
  return ec;
}

// Linux delays the ACK of a segment that brings no answer (40 ms and more). A client that writes
// a request's header and body separately with Nagle's algorithm on (Python's httpx, which the
// official Python SDK uses) holds the body back until the header is ACKed, so each of its
// requests would wait for that timer. Asking for a quick ACK while the body is pending sends the
// ACK at once (tcp(7), TCP_QUICKACK; the kernel turns it off again by itself): one system call,
// only for a request whose body did not come with its header.
void ack_now(client_stream& stream) {
  using quick_ack = asio::detail::socket_option::boolean<IPPROTO_TCP, TCP_QUICKACK>;
  boost::system::error_code ignored;
  stream.socket().set_option(quick_ack(true), ignored);
}

// What a draining listener refuses: a request that would open a session (a legacy event stream,
// a POST without Mcp-Session-Id: an initialize, or a 2026-07-28 request, which has no session).
bool starts_new_work(const http_request& req, std::string_view kind) {
  if (kind == "sse") return req.method() == bhttp::verb::get;
  return kind == "mcp" && req.method() == bhttp::verb::post &&
         req.find("Mcp-Session-Id") == req.end();
}

// A connection the limits refused: told so in one non-blocking write (a short answer fits any
// send buffer), then closed, with no task left behind.
void refuse_connection(tcp::socket& sock) {
  static constexpr std::string_view body =
      R"({"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Service Unavailable: too many connections"}})";
  static const std::string answer =
      "HTTP/1.1 503 Service Unavailable\r\nServer: mcp-proxy\r\n"
      "Content-Type: application/json\r\nRetry-After: 1\r\n"
      "Connection: close\r\nContent-Length: " +
      std::to_string(body.size()) + "\r\n\r\n" + std::string(body);
  boost::system::error_code ignored;
  sock.non_blocking(true, ignored);
  sock.write_some(asio::buffer(answer), ignored);
  sock.shutdown(tcp::socket::shutdown_both, ignored);
  sock.close(ignored);
}

std::string_view bound_name(connection_limits::bound b) {
  switch (b) {
    case connection_limits::bound::total:
      return "maxConnections";
    case connection_limits::bound::per_peer:
      return "maxConnectionsPerPeer";
    case connection_limits::bound::descriptors:
      return "the descriptor limit";
    default:
      return "none";
  }
}

}  // namespace

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
  // Reads one request into `parser`; false when the connection is to close (after an answer
  // when the request could not be read, see request_framing.hpp).
  std::optional<framing_answer> why_unreadable(
      boost::system::error_code ec, bool timed_out, bool in_body, const beast::flat_buffer& buffer,
      const bhttp::request_parser<bhttp::string_body>& parser) const;
  awaitable<bool> refuse_unreadable(client_stream& stream, framing_answer a, bool timed_out);
  awaitable<bool> read_request(client_stream& stream, read_deadline& deadline,
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

http_server::http_server(asio::any_io_executor ex, config::proxy_config proxy,
                         std::map<std::string, std::shared_ptr<core::endpoint>, std::less<>> routes,
                         route_security_map security, injected_faults faults)
    : impl_(std::make_unique<impl>(ex, std::move(proxy), std::move(routes), std::move(security),
                                   faults)) {}

http_server::~http_server() = default;

boost::system::result<std::uint16_t, std::string> http_server::listen(
    const config::listen_address& addr) {
  // Errors name where the address came from (the file's $.mcpProxy.addr, or --addr).
  const auto& origin = impl_->ctx.proxy.addr_origin;
  boost::system::error_code ec;
  auto ip = asio::ip::make_address(addr.host == "localhost" ? "127.0.0.1" : addr.host, ec);
  if (ec) return origin + ": invalid listen address " + addr.host + ": " + ec.message();
  tcp::endpoint ep(ip, addr.port);
  auto& a = impl_->acceptor;
  a.open(ep.protocol(), ec);
  if (!ec) a.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) a.bind(ep, ec);
  if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return origin + ": cannot listen on " + addr.host + ":" + std::to_string(addr.port) + ": " +
           ec.message();
  impl_->loopback_listener = ip.is_loopback();
  const auto port = a.local_endpoint().port();
  protocol::metrics::metrics().set_on(impl_->ctx.proxy.metrics.enabled);
  if (impl_->ctx.proxy.metrics.enabled && !impl_->ctx.proxy.metrics.addr.empty()) {
    impl_->own_metrics = std::make_unique<metrics_listener>(
        impl_->ctx.ex, impl_->ctx.proxy, [i = impl_.get()] { return i->metrics_text(); });
    if (auto bound = impl_->own_metrics->listen(); !bound) return bound.error();
  }
  // Without baseURL, resource URLs (OAuth) name the listener's own address.
  const std::string host = ip.is_v6() ? "[" + ip.to_string() + "]" : ip.to_string();
  impl_->auth.set_base_url((impl_->tls ? "https://" : "http://") + host + ":" +
                           std::to_string(port));
  return port;
}

std::optional<std::string> http_server::load_tls() {
  if (!impl_->ctx.proxy.tls.enabled()) return std::nullopt;
  auto made = make_server_tls(impl_->ctx.proxy.tls);
  if (!made) return "$.mcpProxy.tls: " + made.error();
  impl_->tls = std::move(*made);
  return std::nullopt;
}

void http_server::set_routes(routes_map routes, route_security_map security,
                             config::readiness_config readiness, config::tls_listener_config tls) {
  impl_->routes = std::move(routes);
  impl_->index_backends();
  impl_->auth.set_routes(std::move(security));
  impl_->ctx.proxy.readiness = std::move(readiness);
  impl_->ctx.proxy.tls = std::move(tls);
}

void http_server::set_started() {
  impl_->started = true;
  impl_->started_event.notify_all();
}

void http_server::set_draining() {
  impl_->draining = true;
}

bool http_server::tls() const {
  return impl_->tls != nullptr;
}

awaitable<void> http_server::run() {
  impl_->ctx.tasks.spawn(impl_->auth.start(), "JWK set fetch");
  if (impl_->own_metrics) impl_->ctx.tasks.spawn(impl_->own_metrics->run(), "metrics listener");
  for (;;) {
    auto [ec, sock] = co_await impl_->acceptor.async_accept(tuple_awaitable);
    if (ec) {
      if (impl_->ctx.stopping || ec == asio::error::operation_aborted) break;
      // Out of descriptors: a connection waiting for a request gives its own up, so new
      // clients (and /health) still get in; with none, the pending one stays queued, and
      // retrying at once would spin.
      if (ec == asio::error::no_descriptors || ec.value() == ENFILE) {
        if (auto victim = impl_->limits.evict_for_descriptors()) {
          impl_->note_limit(connection_limits::bound::descriptors, {}, false);
          impl_->evict(*victim);
          continue;
        }
      }
      spdlog::warn("accept failed: {}", ec.message());
      asio::steady_timer pause(impl_->ctx.ex, std::chrono::milliseconds(100));
      co_await pause.async_wait(tuple_awaitable);
      continue;
    }
    impl_->admit(std::move(sock));
  }
}

void http_server::impl::admit(tcp::socket sock) {
  boost::system::error_code ec;
  auto remote = sock.remote_endpoint(ec);
  if (ec) return;  // already gone
  const std::string peer = remote.address().to_string();
  const auto c = next_connection++;
  auto decision = limits.on_accept(c, peer);
  if (decision.evicted) evict(*decision.evicted);
  if (decision.reached != connection_limits::bound::none)
    note_limit(decision.reached, decision.admitted ? decision.evicted_peer : peer,
               !decision.admitted);
  if (!decision.admitted) {
    refuse_connection(sock);
    return;
  }
  sock.set_option(tcp::no_delay(true), ec);
  auto stream = tls ? std::make_shared<client_stream>(std::move(sock), *tls)
                    : std::make_shared<client_stream>(std::move(sock));
  connections.emplace(c, stream);
  ctx.tasks.spawn(connection(stream, c, tls), "http connection");
}

void http_server::impl::evict(connection_limits::id c) {
  auto it = connections.find(c);
  if (it == connections.end()) return;
  boost::system::error_code ignored;
  // Its read ends with an error and its task forgets it; the table already has.
  it->second->socket().shutdown(tcp::socket::shutdown_both, ignored);
  it->second->socket().close(ignored);
}

void http_server::impl::note_limit(connection_limits::bound b, std::string_view peer,
                                   bool refused) {
  ++(refused ? events.refused : events.evicted);
  if (!peer.empty()) events.last_peer = std::string(peer);
  events.last_bound = b;
  log_limits();
}

void http_server::impl::note_unreadable(const framing_answer& a, bool timed_out) {
  ++(timed_out ? events.timed_out : events.unreadable);
  if (!timed_out) events.last_unreadable = std::to_string(a.status) + " " + a.text;
  log_limits();
}

void http_server::impl::log_limits() {
  const auto now = std::chrono::steady_clock::now();
  if (now < events.next_log) return;
  events.next_log = now + limits_log_interval;
  if (events.evicted || events.refused)
    spdlog::warn(
        "connection limits ({} reached, last by peer {}): {} waiting connection(s) closed to "
        "make room, {} refused with 503 since the last report; {} open (maxConnections {}, "
        "maxConnectionsPerPeer {})",
        bound_name(events.last_bound), events.last_peer.empty() ? "?" : events.last_peer,
        events.evicted, events.refused, limits.size(), ctx.proxy.max_connections,
        ctx.proxy.max_connections_per_peer);
  if (events.timed_out)
    spdlog::warn("{} request(s) answered 408: headers not in within headerTimeout ({} ms)",
                 events.timed_out, ctx.proxy.header_timeout.count());
  if (events.unreadable)
    spdlog::warn("{} request(s) that could not be read refused (the last: {})", events.unreadable,
                 events.last_unreadable);
  events.evicted = events.refused = events.timed_out = events.unreadable = 0;
}

awaitable<void> http_server::drain(std::chrono::steady_clock::time_point deadline) {
  impl_->ctx.tasks.cancel();
  const bool ended = co_await impl_->ctx.tasks.wait(deadline);
  if (!ended)
    spdlog::warn("{} connection task(s) still running at shutdown", impl_->ctx.tasks.size());
}

void http_server::stop() {
  impl_->ctx.stopping = true;
  impl_->started_event.notify_all();  // requests waiting for the start give up
  boost::system::error_code ignored;
  impl_->acceptor.close(ignored);
  if (impl_->own_metrics) impl_->own_metrics->stop();
  // Legacy event streams wait on their queue between keep-alives: wake them to end.
  impl_->legacy.close_all();
  for (auto& [id, c] : impl_->connections)
    c->socket().shutdown(tcp::socket::shutdown_both, ignored);
}

awaitable<std::optional<std::string>> http_server::impl::handshake(client_stream& stream) {
  auto* t = stream.tls();
  if (!t) co_return std::string();
  stream.expires_after(ctx.proxy.header_timeout);
  auto [ec] = co_await t->async_handshake(asio::ssl::stream_base::server, tuple_awaitable);
  stream.expires_never();
  if (ec) {
    // Scanners and plain-HTTP clients fail here often: debug, not a warning each.
    spdlog::debug("TLS handshake with {} failed: {}", stream.peer_address(), ec.message());
    co_return std::nullopt;
  }
  co_return client_certificate_principal(t->native_handle());
}

awaitable<void> http_server::impl::connection(std::shared_ptr<client_stream> stream,
                                              connection_limits::id c,
                                              std::shared_ptr<asio::ssl::context> tls_context) {
  // However this task ends (an exception included), the socket is closed and forgotten.
  util::scope_exit forget([this, stream, c] {
    boost::system::error_code ignored;
    stream->socket().shutdown(tcp::socket::shutdown_send, ignored);
    connections.erase(c);
    limits.on_closed(c);
  });
  const auto cert_principal = co_await handshake(*stream);
  if (!cert_principal) co_return;
  beast::flat_buffer buffer;
  read_deadline deadline(ctx.ex, stream);
  for (bool first = true;; first = false) {
    if (!first) {
      limits.on_waiting(c);
      if (buffer.size() == 0) {
        // Idle between requests: closed without a word when nothing comes.
        stream->expires_after(keep_alive_idle);
        auto [ec, n] = co_await stream->async_read_some(buffer.prepare(4096), tuple_awaitable);
        stream->expires_never();
        if (ec || ctx.stopping) break;
        buffer.commit(n);
      }
    }
    bhttp::request_parser<bhttp::string_body> parser;
    if (!co_await read_request(*stream, deadline, buffer, parser, c)) break;
    http_request req = parser.release();
    if (buffer.capacity() > 16 * 1024 && buffer.size() == 0) buffer.shrink_to_fit();
    if (auto& m = protocol::metrics::metrics(); m.on()) m.client_received(req.body().size());
    if (!co_await dispatch(*stream, req, *cert_principal) || ctx.stopping) break;
  }
}

awaitable<bool> http_server::impl::refuse_unreadable(client_stream& stream, framing_answer a,
                                                     bool timed_out) {
  note_unreadable(a, timed_out);
  http_request req;
  req.version(11);
  req.keep_alive(false);
  co_await frontend::reply_error(stream, req, a.status, codes::invalid_request, a.text);
  co_return false;
}

std::optional<framing_answer> http_server::impl::why_unreadable(
    boost::system::error_code ec, bool timed_out, bool in_body, const beast::flat_buffer& buffer,
    const bhttp::request_parser<bhttp::string_body>& parser) const {
  read_progress progress;
  progress.timed_out = timed_out;
  progress.got_bytes = parser.got_some() || buffer.size() > 0;
  // Beast hands the method and target over as soon as the request line is complete.
  progress.request_line_read = !parser.get().target().empty();
  progress.in_body = in_body;
  return answer_unreadable_request(ec, progress, framing);
}

awaitable<bool> http_server::impl::read_request(client_stream& stream, read_deadline& deadline,
                                                beast::flat_buffer& buffer,
                                                bhttp::request_parser<bhttp::string_body>& parser,
                                                connection_limits::id c) {
  parser.header_limit(static_cast<std::uint32_t>(
      std::min<std::uint64_t>(ctx.proxy.max_header_bytes, std::uint32_t(-1))));
  parser.body_limit(ctx.proxy.max_body_bytes);
  // A request that cannot be read gets its answer and the connection closes: nothing after a
  // broken frame can be trusted. What is buffered already (the idle wait's read often brings
  // the whole request) is parsed first: no read operation, no deadline, for a request that is
  // all there.
  auto ec = parse_buffered(buffer, parser, false);
  bool timed_out = false;
  if (!ec && !parser.is_header_done()) {
    deadline.arm(ctx.proxy.header_timeout);
    std::tie(ec, std::ignore) =
        co_await bhttp::async_read_header(stream, buffer, parser, tuple_awaitable);
    timed_out = deadline.disarm();
  }
  if (ec) {
    auto why = why_unreadable(ec, timed_out, false, buffer, parser);
    if (!why) co_return false;
    co_return co_await refuse_unreadable(stream, std::move(*why), timed_out);
  }
  limits.on_busy(c);
  const auto& header = parser.get();
  const auto fields = static_cast<std::size_t>(std::distance(header.begin(), header.end()));
  auto bad_fields = check_header_fields(fields, header.count(bhttp::field::host), header.version(),
                                        ctx.proxy.max_headers);
  if (bad_fields) co_return co_await refuse_unreadable(stream, std::move(*bad_fields), false);
  ec = parse_buffered(buffer, parser, true);
  if (!ec && !parser.is_done()) {
    ack_now(stream);
    // Beast reads as much as the buffer has room for (at least 512 bytes) and the body parser
    // empties it: room for a large body's chunks, given back once the request is read.
    if (const auto length = parser.content_length(); length && *length > buffer.capacity())
      buffer.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(*length, 64 * 1024)));
    deadline.arm(body_timeout);
    std::tie(ec, std::ignore) = co_await bhttp::async_read(stream, buffer, parser, tuple_awaitable);
    timed_out = deadline.disarm();
  }
  if (!ec) co_return true;
  auto why = why_unreadable(ec, timed_out, true, buffer, parser);
  if (!why) co_return false;
  co_return co_await refuse_unreadable(stream, std::move(*why), timed_out);
}

awaitable<bool> http_server::impl::answer_metadata(client_stream& stream, http_request& req,
                                                   std::string_view path) {
  if (req.method() != bhttp::verb::get && req.method() != bhttp::verb::head) {
    std::string body = frontend::error_body(codes::invalid_request, "Method not allowed");
    co_return co_await frontend::reply(stream, req, 405, std::move(body), "application/json", {},
                                       "GET, HEAD");
  }
  auto document = auth.metadata_for(path);
  if (!document) {
    const std::string why = "no protected resource metadata at " + std::string(path);
    co_return co_await frontend::reply_error(stream, req, 404, codes::invalid_request, why);
  }
  co_return co_await frontend::reply(stream, req, 200, std::move(*document));
}

std::optional<std::string> http_server::impl::called_tool(const http_request& req) {
  if (req.method() != bhttp::verb::post) return std::nullopt;
  boost::system::error_code ec;
  auto v = jsonrpc::parse_json_value(req.body(), ec);
  const auto* o = ec ? nullptr : v.if_object();
  const auto* method = o ? o->if_contains("method") : nullptr;
  if (!method || !method->is_string() || method->get_string() != "tools/call") return std::nullopt;
  const auto* params = o->if_contains("params");
  const auto* name =
      params && params->is_object() ? params->get_object().if_contains("name") : nullptr;
  if (!name || !name->is_string()) return std::nullopt;
  return std::string(name->get_string());
}

awaitable<bool> http_server::impl::dispatch(client_stream& stream, http_request& req,
                                            const std::string& cert_principal) {
  std::string_view target = req.target();
  std::string_view path = target.substr(0, target.find('?'));
  if (req.method() == bhttp::verb::options) {
    // A browser's CORS preflight carries no credentials: it is answered for any path.
    const auto origin = req.find(bhttp::field::origin);
    const auto asked = req.find(bhttp::field::access_control_request_headers);
    auto a = protocol::answer_preflight(
        frontend::cors_policy(),
        origin == req.end() ? std::nullopt : std::optional<std::string_view>(origin->value()),
        asked == req.end() ? std::nullopt : std::optional<std::string_view>(asked->value()));
    if (a.status == 403) spdlog::warn("refused a CORS preflight from origin {}", origin->value());
    std::string body =
        a.text.empty() ? std::string() : frontend::error_body(codes::invalid_request, a.text);
    co_return co_await frontend::reply(stream, req, a.status, std::move(body), "application/json",
                                       {}, {}, a.headers);
  }
  // Probes need no token (/health is TBXark's; /healthz and /readyz, issue #17): /readyz shows
  // backend names, states and the errors clients get anyway (protocol/readiness.hpp).
  std::string_view probe = path.starts_with(path_prefix) ? path.substr(path_prefix.size()) : "";
  if (probe != "/health" && probe != "/healthz" && probe != "/readyz") probe = path;
  if (probe == "/health" || probe == "/healthz" || probe == "/readyz") {
    if (req.method() != bhttp::verb::get && req.method() != bhttp::verb::head) {
      std::string body = frontend::error_body(codes::invalid_request, "Method not allowed");
      co_return co_await frontend::reply(stream, req, 405, std::move(body), "application/json", {},
                                         "GET, HEAD");
    }
    const protocol::header_list no_store{{"Cache-Control", "no-store"}};
    if (probe != "/readyz") {
      std::string ok = R"({"status":"ok"})";  // a local: see dispatch's GCC 12 note below
      co_return co_await frontend::reply(stream, req, 200, std::move(ok), "application/json", {},
                                         {}, no_store);
    }
    // Host is checked as on the MCP routes (http/metrics_endpoint.hpp).
    if (!probe_host_allowed(req, loopback_listener, allowed_hosts, "/readyz")) {
      const std::string why = "Forbidden: host not allowed";
      co_return co_await frontend::reply_error(stream, req, 403, codes::invalid_request, why);
    }
    if (draining) {
      std::string body = R"({"ready":false,"reason":"shutting down"})";
      co_return co_await frontend::reply(stream, req, 503, std::move(body), "application/json", {},
                                         {}, no_store);
    }
    auto answer = protocol::answer_readiness(backend_states(), ctx.proxy.readiness.rule);
    const unsigned status = answer.ready ? 200 : 503;
    co_return co_await frontend::reply(stream, req, status, std::move(answer.body),
                                       "application/json", {}, {}, no_store);
  }

  if (is_metrics_path(path)) {
    const std::function<std::string()> render = [this] { return metrics_text(); };
    co_return co_await answer_metrics(stream, req, render, loopback_listener, allowed_hosts);
  }
  if (!started) {
    // The backends are starting (app.cpp): MCP requests wait for that, so that an early client
    // sees every backend that comes up in time; probes have answered above.
    const auto until =
        std::chrono::steady_clock::now() + ctx.proxy.fan_out_timeout + std::chrono::seconds(5);
    while (!started && !ctx.stopping && std::chrono::steady_clock::now() < until)
      if (!co_await started_event.wait(until)) break;
  }
  if (auth.oauth() && auth::metadata_resource_path(path))
    co_return co_await answer_metadata(stream, req, path);

  auto r = protocol::parse_route(path, path_prefix);
  auto it = r ? routes.find(r->name) : routes.end();
  // Tokens first: a client without a valid one learns nothing of routes or sessions.
  std::string route_name = it == routes.end() ? std::string() : it->first;
  std::vector<std::string_view> authorization;
  for (const auto& f : req)
    if (f.name() == bhttp::field::authorization) authorization.push_back(f.value());
  // Locals, not conditionals inside co_await (GCC 12 and coroutine temporaries).
  const std::string* known = it == routes.end() ? nullptr : &route_name;
  const std::string_view asked_name = r ? r->name : std::string_view();
  const std::string_view asked_kind = r ? r->kind : std::string_view("mcp");
  // Held here: a reload (set_routes) may replace the routes while the token is checked.
  std::shared_ptr<core::endpoint> routed = it == routes.end() ? nullptr : it->second;
  auto admitted = co_await auth.check(std::move(authorization), known, asked_name, asked_kind);
  if (!admitted.refusal && admitted.who && routed && auth.has_tool_scopes(route_name))
    if (auto tool = called_tool(req))
      admitted.refusal = auth.check_tool(route_name, r->kind, *tool, *admitted.who);
  if (admitted.refusal) {
    const auto& refused = *admitted.refusal;
    std::string body =
        frontend::error_body(codes::invalid_request, refused.text, frontend::body_id(req));
    const protocol::header_list challenge{{"WWW-Authenticate", refused.www_authenticate}};
    co_return co_await frontend::reply(stream, req, refused.status, std::move(body),
                                       "application/json", {}, {}, challenge);
  }
  if (!routed) {
    co_return co_await frontend::reply_error(stream, req, 404, codes::invalid_request,
                                             "no MCP endpoint at " + std::string(path));
  }
  protocol::request_facts facts;
  facts.method = req.method_string();
  facts.kind = r->kind;
  frontend::read_facts(req, facts);
  facts.loopback_listener = loopback_listener;
  facts.allowed_hosts = &allowed_hosts;
  facts.allowed_origins = &ctx.proxy.allowed_origins;
  facts.get_stream_offered = ctx.proxy.get_stream;
  if (auto refused = protocol::check_request(facts)) {
    // DNS-rebinding protection (spec 2025-11-25, Streamable HTTP, security warning; the same
    // risk applies to the legacy transport) is logged: someone may be probing.
    if (refused->status == 403)
      spdlog::warn("rejected request for host {} from origin {}: {}", facts.host,
                   facts.origin.value_or("(none)"), refused->text);
    // A local, not a temporary inside co_await (GCC 12 and coroutine temporaries).
    std::string body =
        frontend::error_body(codes::invalid_request, refused->text, frontend::body_id(req));
    co_return co_await frontend::reply(stream, req, refused->status, std::move(body),
                                       "application/json", {}, refused->allow);
  }
  // Without a bearer credential, a verified client certificate names the caller (mTLS).
  if (admitted.principal.empty()) admitted.principal = cert_principal;
  // Limits count per principal; clients without one, per peer address.
  std::string limits_key =
      admitted.principal.empty() ? "peer:" + stream.peer_address() : admitted.principal;
  const frontend::request_identity who{std::move(admitted.principal), std::move(admitted.access),
                                       std::move(limits_key)};
  if (draining && starts_new_work(req, r->kind)) {
    // SIGTERM: calls in flight finish; new clients go to another instance.
    const std::string why = "mcp-proxy is shutting down";
    co_return co_await frontend::reply_error(stream, req, 503, codes::backend_unavailable, why);
  }
  if (r->kind == "sse") co_return co_await legacy.handle_stream(stream, req, routed, who);
  if (r->kind == "message") co_return co_await legacy.handle_post(stream, req, routed, who);
  co_return co_await streamable.handle(stream, req, *routed, who);
}

}  // namespace mcp_proxy::http
