#include "http/metrics_endpoint.hpp"

#include "jsonrpc/message.hpp"
#include "protocol/http_rules.hpp"
#include "util/task_group.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>

namespace mcp_proxy::http {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using asio::awaitable;
using asio::ip::tcp;
namespace codes = jsonrpc::error_codes;

namespace {

constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t max_connections = 16;
constexpr std::uint32_t max_header_bytes = 8 * 1024;

}  // namespace

bool probe_host_allowed(const frontend::http_request& req, bool loopback_listener,
                        const std::vector<std::string>& allowed_hosts, std::string_view what) {
  // Backend names are for the operator's probes and scrapers, not for a page that rebinds a
  // name to a loopback listener.
  const auto host = req.find(bhttp::field::host);
  const std::string_view host_name = host == req.end() ? "" : host->value();
  if (protocol::host_allowed(host_name, loopback_listener, allowed_hosts)) return true;
  spdlog::warn("refused {} for host {}", what, host_name);
  return false;
}

awaitable<bool> answer_metrics(frontend::client_stream& stream, const frontend::http_request& req,
                               const std::function<std::string()>& render, bool loopback_listener,
                               const std::vector<std::string>& allowed_hosts) {
  if (req.method() != bhttp::verb::get && req.method() != bhttp::verb::head) {
    std::string body = frontend::error_body(codes::invalid_request, "Method not allowed");
    co_return co_await frontend::reply(stream, req, 405, std::move(body), "application/json", {},
                                       "GET, HEAD");
  }
  if (!probe_host_allowed(req, loopback_listener, allowed_hosts, "/metrics")) {
    const std::string why = "Forbidden: host not allowed";
    co_return co_await frontend::reply_error(stream, req, 403, codes::invalid_request, why);
  }
  const protocol::header_list no_store{{"Cache-Control", "no-store"}};
  co_return co_await frontend::reply(stream, req, 200, render(),
                                     "text/plain; version=0.0.4; charset=utf-8", {}, {}, no_store);
}

struct metrics_listener::impl {
  impl(asio::any_io_executor e, const config::proxy_config& p, std::function<std::string()> r)
      : ex(e),
        acceptor(e),
        tasks(e),
        metrics(p.metrics),
        header_timeout(p.header_timeout),
        allowed_hosts(p.allowed_hosts),
        render(std::move(r)) {}

  awaitable<void> serve(std::shared_ptr<frontend::client_stream> stream);

  asio::any_io_executor ex;
  tcp::acceptor acceptor;
  util::task_group tasks;
  // Copies: the coroutines share this, not the server's configuration.
  config::metrics_config metrics;
  std::chrono::milliseconds header_timeout;
  std::vector<std::string> allowed_hosts;
  std::function<std::string()> render;
  bool loopback = false;
  bool stopping = false;
  std::size_t open = 0;
};

metrics_listener::metrics_listener(asio::any_io_executor ex, const config::proxy_config& proxy,
                                   std::function<std::string()> render)
    : impl_(std::make_shared<impl>(ex, proxy, std::move(render))) {}

metrics_listener::~metrics_listener() {
  stop();
}

boost::system::result<std::uint16_t, std::string> metrics_listener::listen() {
  const auto& where = impl_->metrics.addr;
  const std::string origin = "$.mcpProxy.metrics.addr";
  auto addr = config::parse_listen_address(where);
  if (!addr) return origin + ": invalid listen address " + where;
  boost::system::error_code ec;
  auto ip = asio::ip::make_address(addr->host == "localhost" ? "127.0.0.1" : addr->host, ec);
  if (ec) return origin + ": invalid listen address " + addr->host + ": " + ec.message();
  tcp::endpoint ep(ip, addr->port);
  auto& a = impl_->acceptor;
  a.open(ep.protocol(), ec);
  if (!ec) a.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) a.bind(ep, ec);
  if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return origin + ": cannot listen on " + where + ": " + ec.message();
  impl_->loopback = ip.is_loopback();
  const auto port = a.local_endpoint().port();
  const std::string host = ip.is_v6() ? "[" + ip.to_string() + "]" : ip.to_string();
  spdlog::info("metrics served at http://{}:{}{}", host, port, impl_->metrics.path);
  return port;
}

awaitable<void> metrics_listener::run() {
  auto self = impl_;  // the listener may be destroyed while this runs
  for (;;) {
    auto [ec, sock] = co_await self->acceptor.async_accept(tuple_awaitable);
    if (ec) {
      if (self->stopping || ec == asio::error::operation_aborted) break;
      spdlog::warn("metrics listener: accept failed: {}", ec.message());
      continue;
    }
    if (self->open >= max_connections) {
      boost::system::error_code ignored;
      sock.close(ignored);  // a scraper retries; more than 16 at once is no scraper
      continue;
    }
    ++self->open;
    boost::system::error_code ignored;
    sock.set_option(tcp::no_delay(true), ignored);  // an answer is one write: never held back
    self->tasks.spawn(self->serve(std::make_shared<frontend::client_stream>(std::move(sock))),
                      "metrics connection");
  }
}

awaitable<void> metrics_listener::impl::serve(std::shared_ptr<frontend::client_stream> stream) {
  struct counted {
    std::size_t& n;
    ~counted() { --n; }
  } slot{open};
  boost::beast::flat_buffer buffer;
  bhttp::request_parser<bhttp::string_body> parser;
  parser.header_limit(max_header_bytes);
  parser.body_limit(max_header_bytes);
  stream->expires_after(header_timeout);
  auto [ec, n] = co_await bhttp::async_read(*stream, buffer, parser, tuple_awaitable);
  stream->expires_never();
  if (ec) co_return;  // nothing readable: closed without an answer
  frontend::http_request req = parser.release();
  req.keep_alive(false);
  const std::string_view target = req.target();
  if (target.substr(0, target.find('?')) != metrics.path) {
    const std::string why = "not found: metrics are at " + metrics.path;
    co_await frontend::reply_error(*stream, req, 404, codes::invalid_request, why);
  } else {
    co_await answer_metrics(*stream, req, render, loopback, allowed_hosts);
  }
  boost::system::error_code ignored;
  stream->socket().shutdown(tcp::socket::shutdown_both, ignored);
}

void metrics_listener::stop() {
  impl_->stopping = true;
  boost::system::error_code ignored;
  impl_->acceptor.close(ignored);
  impl_->tasks.cancel();
}

}  // namespace mcp_proxy::http
