#include "http/http_server.hpp"

#include "frontend/http_io.hpp"
#include "frontend/legacy_sse.hpp"
#include "frontend/streamable_http.hpp"
#include "protocol/http_rules.hpp"
#include "util/ascii.hpp"
#include "util/scope_exit.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/parse.hpp>

#include <set>

namespace mcp_proxy::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using asio::awaitable;
using asio::ip::tcp;
using frontend::http_request;
namespace codes = jsonrpc::error_codes;

namespace {

constexpr auto read_timeout = std::chrono::seconds(120);
// Beyond this many open connections new ones are closed at once (descriptors are finite).
constexpr std::size_t max_connections = 4096;
constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);

// The headers check_request needs, in one pass over the fields (a lookup each costs a
// case-insensitive tree search); the first of a repeated header counts, as with find().
void read_facts(const http_request& req, protocol::request_facts& facts) {
  bool host = false;
  for (const auto& f : req) {
    switch (f.name()) {
      case bhttp::field::host:
        if (!host) facts.host = f.value();
        host = true;
        break;
      case bhttp::field::origin:
        if (!facts.origin) facts.origin = f.value();
        break;
      case bhttp::field::content_type:
        if (!facts.content_type) facts.content_type = f.value();
        break;
      case bhttp::field::accept:
        if (!facts.accept) facts.accept = f.value();
        break;
      case bhttp::field::unknown:
        if (!facts.protocol_version &&
            util::ascii_iequals({f.name_string().data(), f.name_string().size()},
                                frontend::version_header))
          facts.protocol_version = f.value();
        break;
      default:
        break;
    }
  }
}

}  // namespace

struct http_server::impl {
  impl(asio::any_io_executor ex, config::proxy_config p,
       std::map<std::string, std::shared_ptr<core::endpoint>, std::less<>> r, injected_faults f)
      : ctx(ex, std::move(p), f),
        acceptor(ex),
        routes(std::move(r)),
        allowed_hosts(ctx.proxy.allowed_hosts),
        path_prefix(protocol::route_prefix(ctx.proxy.base_url)),
        streamable(ctx),
        legacy(ctx) {
    // The public name in baseURL is how clients behind a reverse proxy reach us.
    if (auto u = boost::urls::parse_uri(ctx.proxy.base_url); u && !u->encoded_host().empty())
      allowed_hosts.emplace_back(u->encoded_host());
  }

  frontend::http_context ctx;
  tcp::acceptor acceptor;
  std::map<std::string, std::shared_ptr<core::endpoint>, std::less<>> routes;
  bool loopback_listener = false;          // set by listen()
  std::vector<std::string> allowed_hosts;  // proxy.allowed_hosts plus baseURL's host
  std::set<std::shared_ptr<beast::tcp_stream>> connections;
  std::string path_prefix;
  frontend::streamable_http streamable;
  frontend::legacy_sse legacy;

  awaitable<void> connection(std::shared_ptr<beast::tcp_stream> stream);
  awaitable<bool> dispatch(beast::tcp_stream& stream, http_request& req);
};

http_server::http_server(asio::any_io_executor ex, config::proxy_config proxy,
                         std::map<std::string, std::shared_ptr<core::endpoint>, std::less<>> routes,
                         injected_faults faults)
    : impl_(std::make_unique<impl>(ex, std::move(proxy), std::move(routes), faults)) {}

http_server::~http_server() = default;

boost::system::result<std::uint16_t, std::string> http_server::listen(
    const config::listen_address& addr) {
  boost::system::error_code ec;
  auto ip = asio::ip::make_address(addr.host == "localhost" ? "127.0.0.1" : addr.host, ec);
  if (ec) return "invalid listen address " + addr.host + ": " + ec.message();
  tcp::endpoint ep(ip, addr.port);
  auto& a = impl_->acceptor;
  a.open(ep.protocol(), ec);
  if (!ec) a.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) a.bind(ep, ec);
  if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return "cannot listen on " + addr.host + ":" + std::to_string(addr.port) + ": " + ec.message();
  impl_->loopback_listener = ip.is_loopback();
  return a.local_endpoint().port();
}

awaitable<void> http_server::run() {
  for (;;) {
    auto [ec, sock] = co_await impl_->acceptor.async_accept(tuple_awaitable);
    if (ec) {
      if (impl_->ctx.stopping || ec == asio::error::operation_aborted) break;
      spdlog::warn("accept failed: {}", ec.message());
      // Out of descriptors: the pending connection stays queued, so retrying at once would spin.
      asio::steady_timer pause(impl_->ctx.ex, std::chrono::milliseconds(100));
      co_await pause.async_wait(tuple_awaitable);
      continue;
    }
    if (impl_->connections.size() >= max_connections) {
      spdlog::warn("{} connections open; refusing a new one", max_connections);
      sock.close(ec);
      continue;
    }
    sock.set_option(tcp::no_delay(true), ec);
    auto stream = std::make_shared<beast::tcp_stream>(std::move(sock));
    impl_->connections.insert(stream);
    impl_->ctx.tasks.spawn(impl_->connection(stream), "http connection");
  }
}

awaitable<void> http_server::drain(std::chrono::steady_clock::time_point deadline) {
  impl_->ctx.tasks.cancel();
  const bool ended = co_await impl_->ctx.tasks.wait(deadline);
  if (!ended)
    spdlog::warn("{} connection task(s) still running at shutdown", impl_->ctx.tasks.size());
}

void http_server::stop() {
  impl_->ctx.stopping = true;
  boost::system::error_code ignored;
  impl_->acceptor.close(ignored);
  // Legacy event streams wait on their queue between keep-alives: wake them to end.
  impl_->legacy.close_all();
  for (auto& c : impl_->connections) c->socket().shutdown(tcp::socket::shutdown_both, ignored);
}

awaitable<void> http_server::impl::connection(std::shared_ptr<beast::tcp_stream> stream) {
  // However this task ends (an exception included), the socket is closed and forgotten.
  util::scope_exit forget([this, stream] {
    boost::system::error_code ignored;
    stream->socket().shutdown(tcp::socket::shutdown_send, ignored);
    connections.erase(stream);
  });
  beast::flat_buffer buffer;
  for (;;) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.body_limit(ctx.proxy.max_body_bytes);
    stream->expires_after(read_timeout);
    auto [ec, n] = co_await bhttp::async_read(*stream, buffer, parser, tuple_awaitable);
    stream->expires_never();
    if (ec == bhttp::error::body_limit) {
      http_request req;
      req.version(11);
      req.keep_alive(false);
      co_await frontend::reply_error(
          *stream, req, 413, codes::invalid_request,
          "request body exceeds " + std::to_string(ctx.proxy.max_body_bytes) + " bytes");
      break;
    }
    if (ec) break;
    http_request req = parser.release();
    if (!co_await dispatch(*stream, req) || ctx.stopping) break;
  }
}

awaitable<bool> http_server::impl::dispatch(beast::tcp_stream& stream, http_request& req) {
  std::string_view target = req.target();
  std::string_view path = target.substr(0, target.find('?'));
  if ((path == "/health" || path == path_prefix + "/health") &&
      (req.method() == bhttp::verb::get || req.method() == bhttp::verb::head))
    co_return co_await frontend::reply(stream, req, 200, R"({"status":"ok"})");

  auto r = protocol::parse_route(path, path_prefix);
  auto it = r ? routes.find(r->name) : routes.end();
  if (it == routes.end()) {
    co_return co_await frontend::reply_error(stream, req, 404, codes::invalid_request,
                                             "no MCP endpoint at " + std::string(path));
  }
  protocol::request_facts facts;
  facts.method = req.method_string();
  facts.kind = r->kind;
  read_facts(req, facts);
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
    co_return co_await frontend::reply(stream, req, refused->status,
                                       frontend::error_body(codes::invalid_request, refused->text),
                                       "application/json", {}, refused->allow);
  }
  if (r->kind == "sse") co_return co_await legacy.handle_stream(stream, req, it->second);
  if (r->kind == "message") co_return co_await legacy.handle_post(stream, req, it->second);
  co_return co_await streamable.handle(stream, req, *it->second);
}

}  // namespace mcp_proxy::http
