// The client-facing HTTP listener's public methods (http_server.hpp), the accept loop, the TLS
// handshake, a connection's loop and the routing of each request (probes, /metrics, OAuth
// metadata, tokens, the checks of protocol::check_request, then the frontends). Reading a
// request and the connection limits are in http_connection.cpp; the shared state in
// http_server_impl.hpp.

#include "http/http_server.hpp"

#include "auth/resource_metadata.hpp"
#include "http/http_server_impl.hpp"
#include "http/tls_listener.hpp"
#include "jsonrpc/message.hpp"
#include "protocol/http_rules.hpp"
#include "util/scope_exit.hpp"

#include <spdlog/spdlog.h>

namespace mcp_proxy::http {

using detail::tuple_awaitable;
namespace codes = jsonrpc::error_codes;

namespace {

// A kept-alive connection may sit idle this long between requests (it can be given up sooner
// for a new client, see connection_limits).
constexpr auto keep_alive_idle = std::chrono::seconds(120);

// What a draining listener refuses: a request that would open a session (a legacy event stream,
// a POST without Mcp-Session-Id: an initialize, or a 2026-07-28 request, which has no session).
bool starts_new_work(const http_request& req, std::string_view kind) {
  if (kind == "sse") return req.method() == bhttp::verb::get;
  return kind == "mcp" && req.method() == bhttp::verb::post &&
         req.find("Mcp-Session-Id") == req.end();
}

}  // namespace

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
  detail::read_deadline deadline(ctx.ex, stream);
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
