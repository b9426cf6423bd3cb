#include "http/http_server.hpp"

#include "http/request_rules.hpp"
#include "protocol/versions.hpp"
#include "transport/sse.hpp"
#include "util/random_id.hpp"
#include "util/spawn.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/parse.hpp>

#include <optional>
#include <set>

namespace mcp_proxy::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace json = boost::json;
using asio::awaitable;
using asio::ip::tcp;
using jsonrpc::message;
namespace codes = jsonrpc::error_codes;

namespace {

constexpr auto keepalive_interval = std::chrono::seconds(15);
// Events of a POST stream whose client went away, kept for a GET that resumes it; beyond this
// the newest progress and notifications are dropped (never the response).
constexpr std::size_t max_orphaned_events = 1000;
constexpr auto read_timeout = std::chrono::seconds(120);
// A client that stops reading (zero window) must not pin a handler, a session or a backend.
constexpr auto write_timeout = std::chrono::seconds(30);
// Beyond this many open connections new ones are closed at once (descriptors are finite).
constexpr std::size_t max_connections = 4096;
constexpr std::string_view session_header = "Mcp-Session-Id";
constexpr std::string_view version_header = "MCP-Protocol-Version";

using request = bhttp::request<bhttp::string_body>;
constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);

std::string error_body(std::int64_t code, std::string_view text) {
  return jsonrpc::serialize(message::error_response(nullptr, code, text));
}

std::optional<std::string> query_param(std::string_view target, std::string_view key) {
  auto u = boost::urls::parse_origin_form(target);
  if (!u) return std::nullopt;
  auto params = u->params();
  auto it = params.find(key);
  if (it == params.end() || !(*it).has_value) return std::nullopt;
  return std::string((*it).value);
}

// A legacy HTTP+SSE session (spec 2024-11-05 basic/transports): its event stream, and the core
// session once the client has initialized.
struct legacy_session {
  legacy_session(asio::any_io_executor ex, std::string i) : id(std::move(i)), events(ex) {}
  std::string id;
  std::shared_ptr<core::client_session> core;
  util::async_queue<message> events;  // written to the event stream, in order
  core::session_narrowing narrowing;  // what the GET asked of a merged endpoint
};

// Follows one call of a legacy session: its progress, related requests and response go on the
// event stream. If the stream is gone meanwhile the events are dropped; the call still runs to
// its end, like a drained Streamable HTTP call.
awaitable<void> follow_legacy_call(std::shared_ptr<legacy_session> ls,
                                   std::shared_ptr<core::endpoint> ep, core::call_started cs) {
  while (auto ev = co_await ep->next_event(*ls->core, cs)) {
    const bool final = ev->is_response();
    ls->events.push(std::move(*ev));
    if (final) break;
  }
}

// Messages of the session not tied to a call (list changes, log messages, ...) join the stream.
// The outbox closes when the core session ends; the stream then ends too.
awaitable<void> forward_outbox(std::shared_ptr<legacy_session> ls) {
  while (auto m = co_await ls->core->outbox.pop()) ls->events.push(std::move(*m));
  ls->events.close();
}

}  // namespace

namespace detail {
// A Streamable HTTP event stream of a session: its number in the session's event log, so each
// event written on it has an id and can be replayed after a reconnect. Empty for streams without
// ids (legacy SSE, batches).
struct logged_stream {
  core::client_session* session = nullptr;
  std::uint64_t no = 0;
};
}  // namespace detail
using detail::logged_stream;

struct http_server::impl {
  impl(asio::any_io_executor ex, config::proxy_config p,
       std::map<std::string, std::shared_ptr<core::endpoint>, std::less<>> r, injected_faults f)
      : ex(ex),
        acceptor(ex),
        proxy(std::move(p)),
        routes(std::move(r)),
        faults(f),
        allowed_hosts(proxy.allowed_hosts),
        path_prefix(route_prefix(proxy.base_url)) {
    // The public name in baseURL is how clients behind a reverse proxy reach us.
    if (auto u = boost::urls::parse_uri(proxy.base_url); u && !u->encoded_host().empty())
      allowed_hosts.emplace_back(u->encoded_host());
  }

  asio::any_io_executor ex;
  tcp::acceptor acceptor;
  config::proxy_config proxy;
  std::map<std::string, std::shared_ptr<core::endpoint>, std::less<>> routes;
  injected_faults faults;
  bool loopback_listener = false;          // set by listen()
  std::vector<std::string> allowed_hosts;  // proxy.allowed_hosts plus baseURL's host
  std::set<std::shared_ptr<beast::tcp_stream>> connections;
  std::string path_prefix;
  std::map<std::string, std::shared_ptr<legacy_session>, std::less<>> legacy_sessions;
  bool stopping = false;

  awaitable<void> connection(std::shared_ptr<beast::tcp_stream> stream);
  awaitable<bool> dispatch(beast::tcp_stream& stream, request& req);
  awaitable<bool> handle_mcp(beast::tcp_stream& stream, request& req, core::endpoint& ep);
  awaitable<bool> handle_post(beast::tcp_stream& stream, request& req, core::endpoint& ep);
  awaitable<bool> handle_get(beast::tcp_stream& stream, request& req,
                             std::shared_ptr<core::client_session> s);
  awaitable<bool> stream_call(beast::tcp_stream& stream, request& req, core::endpoint& ep,
                              std::shared_ptr<core::client_session> s, core::call_started cs);
  // The request's session; nullptr after answering 400 (no Mcp-Session-Id) or 404 (unknown or
  // ended), spec 2025-11-25 basic/transports: Session Management.
  awaitable<std::shared_ptr<core::client_session>> require_session(beast::tcp_stream& stream,
                                                                   const request& req,
                                                                   core::endpoint& ep,
                                                                   bool& keep_alive);
  awaitable<bool> handle_batch(beast::tcp_stream& stream, request& req, core::endpoint& ep,
                               jsonrpc::payload batch);
  awaitable<bool> write_event(beast::tcp_stream& stream, const message& m, logged_stream log = {});
  // Starts an event stream of `s`: a new stream in its event log and, for clients of 2025-11-25
  // and later, the priming event (an id and empty data) that lets them resume even before the
  // first message (spec 2025-11-25 basic/transports: sending messages to the server).
  awaitable<bool> begin_session_sse(beast::tcp_stream& stream, const request& req,
                                    core::client_session& s, logged_stream& log);
  // The client of a POST stream went away before the response: the call runs on (a disconnect
  // is not a cancellation) and its events wait, from `unsent` (the one whose write failed) on,
  // for a GET that resumes the stream with Last-Event-ID.
  void orphan_stream(core::endpoint& ep, std::shared_ptr<core::client_session> s,
                     core::call_started cs, std::uint64_t stream_no, std::optional<message> unsent,
                     bool final);
  // GET with the Last-Event-ID of a POST stream: what the client missed, then the rest of the
  // call if it is still running.
  awaitable<bool> resume_stream(beast::tcp_stream& stream, const request& req,
                                std::shared_ptr<core::client_session> s,
                                core::event_log::replay replay);
  awaitable<bool> write_replay(beast::tcp_stream& stream, const core::event_log::replay& replay);
  // Writes the queue's messages as events until it is closed (true) or a write fails (false),
  // with a keep-alive comment when it is idle, so intermediaries keep the stream. A message
  // whose write failed goes back to the head of the queue: a client that vanished mid-write may
  // not have it, and the session's next stream sends it again (at least once).
  awaitable<bool> write_queue(beast::tcp_stream& stream, util::async_queue<message>& queue,
                              logged_stream log = {});
  // Legacy HTTP+SSE (spec 2024-11-05): the event stream and the POSTs that feed it.
  awaitable<bool> handle_legacy_stream(beast::tcp_stream& stream, request& req,
                                       std::shared_ptr<core::endpoint> ep);
  awaitable<bool> handle_legacy_post(beast::tcp_stream& stream, request& req,
                                     std::shared_ptr<core::endpoint> ep);
  awaitable<void> legacy_message(std::shared_ptr<legacy_session> ls,
                                 std::shared_ptr<core::endpoint> ep, message msg);
  // The legacy endpoint event's URL: absolute under baseURL when it is set, else a path.
  std::string legacy_post_url(std::string_view name, std::string_view id) const {
    std::string base = proxy.base_url;
    while (!base.empty() && base.back() == '/') base.pop_back();
    if (!name.empty()) base += "/" + std::string(name);
    return base + "/message?sessionId=" + std::string(id);
  }

  awaitable<bool> reply(beast::tcp_stream& stream, const request& req, bhttp::status status,
                        std::string body, std::string_view content_type = "application/json",
                        std::string_view session_id = {}, std::string_view allow = {});
  awaitable<bool> reply_error(beast::tcp_stream& stream, const request& req, bhttp::status status,
                              std::int64_t code, std::string_view text) {
    co_return co_await reply(stream, req, status, error_body(code, text));
  }
  // Starts a text/event-stream response (chunked); false if the client is gone.
  awaitable<bool> begin_sse(beast::tcp_stream& stream, const request& req);
  awaitable<bool> write_chunk(beast::tcp_stream& stream, std::string data);
  awaitable<bool> end_chunks(beast::tcp_stream& stream);
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
      if (impl_->stopping || ec == asio::error::operation_aborted) break;
      spdlog::warn("accept failed: {}", ec.message());
      // Out of descriptors: the pending connection stays queued, so retrying at once would spin.
      asio::steady_timer pause(impl_->ex, std::chrono::milliseconds(100));
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
    util::spawn_logged(impl_->ex, impl_->connection(stream), "http connection");
  }
}

void http_server::stop() {
  impl_->stopping = true;
  boost::system::error_code ignored;
  impl_->acceptor.close(ignored);
  // Legacy event streams wait on their queue between keep-alives: wake them to end.
  for (auto& [id, ls] : impl_->legacy_sessions) ls->events.close();
  for (auto& c : impl_->connections) c->socket().shutdown(tcp::socket::shutdown_both, ignored);
}

awaitable<void> http_server::impl::connection(std::shared_ptr<beast::tcp_stream> stream) {
  // However this task ends (an exception included), the socket is closed and forgotten.
  struct forget_on_exit {
    impl& self;
    std::shared_ptr<beast::tcp_stream> stream;
    ~forget_on_exit() {
      boost::system::error_code ignored;
      stream->socket().shutdown(tcp::socket::shutdown_send, ignored);
      self.connections.erase(stream);
    }
  } guard{*this, stream};
  beast::flat_buffer buffer;
  for (;;) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.body_limit(proxy.max_body_bytes);
    stream->expires_after(read_timeout);
    auto [ec, n] = co_await bhttp::async_read(*stream, buffer, parser, tuple_awaitable);
    stream->expires_never();
    if (ec == bhttp::error::body_limit) {
      request req;
      req.version(11);
      req.keep_alive(false);
      co_await reply_error(
          *stream, req, bhttp::status::payload_too_large, codes::invalid_request,
          "request body exceeds " + std::to_string(proxy.max_body_bytes) + " bytes");
      break;
    }
    if (ec) break;
    request req = parser.release();
    if (!co_await dispatch(*stream, req) || stopping) break;
  }
}

awaitable<bool> http_server::impl::reply(beast::tcp_stream& stream, const request& req,
                                         bhttp::status status, std::string body,
                                         std::string_view content_type, std::string_view session_id,
                                         std::string_view allow) {
  bhttp::response<bhttp::string_body> res{status, req.version()};
  res.set(bhttp::field::server, "mcp-proxy");
  if (!body.empty()) res.set(bhttp::field::content_type, content_type);
  if (!session_id.empty()) res.set(session_header, session_id);
  if (!allow.empty()) res.set(bhttp::field::allow, allow);
  res.keep_alive(req.keep_alive());
  res.body() = std::move(body);
  res.prepare_payload();
  // A HEAD answer has the headers of the GET answer and no body (RFC 9110 section 9.3.2).
  if (req.method() == bhttp::verb::head) res.body().clear();
  stream.expires_after(write_timeout);
  auto [ec, n] = co_await bhttp::async_write(stream, res, tuple_awaitable);
  stream.expires_never();
  co_return !ec && res.keep_alive();
}

awaitable<bool> http_server::impl::begin_sse(beast::tcp_stream& stream, const request& req) {
  bhttp::response<bhttp::empty_body> res{bhttp::status::ok, req.version()};
  res.set(bhttp::field::server, "mcp-proxy");
  res.set(bhttp::field::content_type, "text/event-stream");
  res.set(bhttp::field::cache_control, "no-cache");
  res.keep_alive(req.keep_alive());
  res.chunked(true);
  bhttp::response_serializer<bhttp::empty_body> sr{res};
  stream.expires_after(write_timeout);
  auto [ec, n] = co_await bhttp::async_write_header(stream, sr, tuple_awaitable);
  stream.expires_never();
  co_return !ec;
}

awaitable<bool> http_server::impl::write_chunk(beast::tcp_stream& stream, std::string data) {
  if (faults.drip_interval.count() > 0 && data.size() > faults.drip_bytes) {
    // One chunk per piece, each after a pause: a slow-drip stream.
    for (std::size_t at = 0; at < data.size(); at += faults.drip_bytes) {
      asio::steady_timer pause(ex, faults.drip_interval);
      co_await pause.async_wait(tuple_awaitable);
      stream.expires_after(write_timeout);
      auto [ec, n] = co_await asio::async_write(
          stream, bhttp::make_chunk(asio::buffer(data.substr(at, faults.drip_bytes))),
          tuple_awaitable);
      stream.expires_never();
      if (ec) co_return false;
    }
    co_return true;
  }
  stream.expires_after(write_timeout);
  auto [ec, n] =
      co_await asio::async_write(stream, bhttp::make_chunk(asio::buffer(data)), tuple_awaitable);
  stream.expires_never();
  co_return !ec;
}

awaitable<bool> http_server::impl::end_chunks(beast::tcp_stream& stream) {
  stream.expires_after(write_timeout);
  auto [ec, n] = co_await asio::async_write(stream, bhttp::make_chunk_last(), tuple_awaitable);
  stream.expires_never();
  co_return !ec;
}

awaitable<std::shared_ptr<core::client_session>> http_server::impl::require_session(
    beast::tcp_stream& stream, const request& req, core::endpoint& ep, bool& keep_alive) {
  auto sid = req.find(session_header);
  if (sid == req.end()) {
    keep_alive =
        co_await reply_error(stream, req, bhttp::status::bad_request, codes::invalid_request,
                             "Bad Request: Mcp-Session-Id header is required");
    co_return nullptr;
  }
  auto session = ep.find_session(sid->value());
  if (!session)
    keep_alive = co_await reply_error(stream, req, bhttp::status::not_found, codes::invalid_request,
                                      "Session not found");
  co_return session;
}

awaitable<bool> http_server::impl::dispatch(beast::tcp_stream& stream, request& req) {
  std::string_view target = req.target();
  std::string_view path = target.substr(0, target.find('?'));
  if ((path == "/health" || path == path_prefix + "/health") &&
      (req.method() == bhttp::verb::get || req.method() == bhttp::verb::head))
    co_return co_await reply(stream, req, bhttp::status::ok, R"({"status":"ok"})");

  auto r = parse_route(path, path_prefix);
  auto it = r ? routes.find(r->name) : routes.end();
  if (it == routes.end()) {
    co_return co_await reply_error(stream, req, bhttp::status::not_found, codes::invalid_request,
                                   "no MCP endpoint at " + std::string(path));
  }
  // DNS-rebinding protection (spec 2025-11-25, Streamable HTTP, security warning; the same risk
  // applies to the legacy transport): a Host that names another server gets 403 (a rebound name
  // resolves to us but is still sent as Host), and so does an Origin that is not allowed.
  if (!host_allowed(req[bhttp::field::host], loopback_listener, allowed_hosts)) {
    spdlog::warn("rejected request for host {}", std::string(req[bhttp::field::host]));
    co_return co_await reply_error(stream, req, bhttp::status::forbidden, codes::invalid_request,
                                   "Forbidden: host not allowed");
  }
  if (auto origin = req.find(bhttp::field::origin); origin != req.end()) {
    if (!origin_allowed(origin->value(), proxy.allowed_origins)) {
      spdlog::warn("rejected request from origin {}", std::string(origin->value()));
      co_return co_await reply_error(stream, req, bhttp::status::forbidden, codes::invalid_request,
                                     "Forbidden: origin not allowed");
    }
  }
  if (r->kind == "sse") {
    if (req.method() != bhttp::verb::get) {
      co_return co_await reply(stream, req, bhttp::status::method_not_allowed,
                               error_body(codes::invalid_request, "Method not allowed"),
                               "application/json", {}, "GET");
    }
    co_return co_await handle_legacy_stream(stream, req, it->second);
  }
  if (r->kind == "message") {
    if (req.method() != bhttp::verb::post) {
      co_return co_await reply(stream, req, bhttp::status::method_not_allowed,
                               error_body(codes::invalid_request, "Method not allowed"),
                               "application/json", {}, "POST");
    }
    co_return co_await handle_legacy_post(stream, req, it->second);
  }
  co_return co_await handle_mcp(stream, req, *it->second);
}

awaitable<bool> http_server::impl::handle_mcp(beast::tcp_stream& stream, request& req,
                                              core::endpoint& ep) {
  // An unsupported MCP-Protocol-Version gets 400 (spec: Streamable HTTP, protocol version header).
  if (auto v = req.find(version_header);
      v != req.end() && !protocol::is_supported_version(v->value())) {
    co_return co_await reply_error(
        stream, req, bhttp::status::bad_request, codes::invalid_request,
        "Bad Request: unsupported MCP-Protocol-Version " + std::string(v->value()));
  }
  if (req.method() == bhttp::verb::post) co_return co_await handle_post(stream, req, ep);
  if (req.method() != bhttp::verb::get && req.method() != bhttp::verb::delete_) {
    co_return co_await reply(stream, req, bhttp::status::method_not_allowed,
                             error_body(codes::invalid_request, "Method not allowed"),
                             "application/json", {}, "GET, POST, DELETE");
  }
  if (req.method() == bhttp::verb::get && !proxy.get_stream) {
    co_return co_await reply(stream, req, bhttp::status::method_not_allowed,
                             error_body(codes::invalid_request, "this server offers no GET stream"),
                             "application/json", {}, "POST, DELETE");
  }
  bool keep_alive = false;
  auto session = co_await require_session(stream, req, ep, keep_alive);
  if (!session) co_return keep_alive;
  if (req.method() == bhttp::verb::delete_) {
    co_await ep.end_session(session);
    co_return co_await reply(stream, req, bhttp::status::ok, {});
  }
  co_return co_await handle_get(stream, req, session);
}

awaitable<bool> http_server::impl::handle_post(beast::tcp_stream& stream, request& req,
                                               core::endpoint& ep) {
  if (auto ct = req.find(bhttp::field::content_type);
      ct == req.end() || !content_type_is(ct->value(), "application/json")) {
    co_return co_await reply_error(stream, req, bhttp::status::unsupported_media_type,
                                   codes::invalid_request,
                                   "Unsupported Media Type: Content-Type must be application/json");
  }
  // The client MUST accept both answer forms (spec: Streamable HTTP, sending messages).
  std::string_view accept = req[bhttp::field::accept];
  if (!accepts(accept, "application/json") || !accepts(accept, "text/event-stream")) {
    co_return co_await reply_error(
        stream, req, bhttp::status::not_acceptable, codes::invalid_request,
        "Not Acceptable: Accept must list application/json and text/event-stream");
  }
  auto payload = jsonrpc::parse_payload(req.body());
  if (!payload) {
    co_return co_await reply(stream, req, bhttp::status::bad_request,
                             jsonrpc::serialize(jsonrpc::to_error_response(payload.error())));
  }
  if (payload->is_batch) co_return co_await handle_batch(stream, req, ep, std::move(*payload));
  auto& parsed = payload->items.front();
  if (!parsed) {
    co_return co_await reply(stream, req, bhttp::status::bad_request,
                             jsonrpc::serialize(jsonrpc::to_error_response(parsed.error())));
  }
  message msg = std::move(*parsed);

  if (msg.is_request() && msg.method() == "initialize") {
    auto narrowing = narrowing_of(req.target(), req["Mcp-Proxy-Servers"], req["Mcp-Proxy-Tools"]);
    auto outcome = co_await ep.initialize(std::move(msg), std::move(narrowing));
    // GCC 12 mishandles temporaries of a conditional inside co_await (double free): use locals.
    std::string session_id;
    if (outcome.session) session_id = outcome.session->id();
    std::string body = jsonrpc::serialize(outcome.reply);
    auto status = outcome.overloaded ? bhttp::status::service_unavailable : bhttp::status::ok;
    co_return co_await reply(stream, req, status, std::move(body), "application/json", session_id);
  }
  bool keep_alive = false;
  auto session = co_await require_session(stream, req, ep, keep_alive);
  if (!session) co_return keep_alive;
  if (msg.is_notification()) {
    ep.on_notification(*session, msg);
    co_return co_await reply(stream, req, bhttp::status::accepted, {});
  }
  if (msg.is_response()) {
    ep.on_response(*session, std::move(msg));
    co_return co_await reply(stream, req, bhttp::status::accepted, {});
  }
  auto outcome = co_await ep.on_request(session, std::move(msg));
  if (auto* now = std::get_if<message>(&outcome))
    co_return co_await reply(stream, req, bhttp::status::ok, jsonrpc::serialize(*now));
  co_return co_await stream_call(stream, req, ep, session, std::get<core::call_started>(outcome));
}

awaitable<bool> http_server::impl::write_event(beast::tcp_stream& stream, const message& m,
                                               logged_stream log) {
  std::string data = jsonrpc::serialize(m);
  std::string id;
  if (log.session) id = log.session->sse_log.next_id(log.no);
  std::string event = transport::encode_sse_event(data, "message", id);
  const bool ok = co_await write_chunk(stream, std::move(event));
  // Recorded once written: one that failed goes back to its queue instead (never twice).
  if (ok && log.session) log.session->sse_log.record(log.no, std::move(data));
  co_return ok;
}

awaitable<bool> http_server::impl::begin_session_sse(beast::tcp_stream& stream, const request& req,
                                                     core::client_session& s, logged_stream& log) {
  log = {&s, s.sse_log.open_stream()};
  if (!co_await begin_sse(stream, req)) co_return false;
  if (!protocol::primes_sse_streams(s.protocol_version)) co_return true;
  // With `retry`: how long a client that lost the stream waits before it reconnects.
  std::string priming =
      "retry: 1000\n" + transport::encode_sse_event("", {}, std::to_string(log.no) + "-0");
  co_return co_await write_chunk(stream, std::move(priming));
}

awaitable<bool> http_server::impl::write_replay(beast::tcp_stream& stream,
                                                const core::event_log::replay& replay) {
  for (const auto& [id, data] : replay.events) {
    std::string event = transport::encode_sse_event(data, "message", id);
    if (!co_await write_chunk(stream, std::move(event))) co_return false;
  }
  co_return true;
}

namespace {

// Follows a call whose POST stream lost its client, into the queue a resuming GET will read.
awaitable<void> follow_orphaned_call(core::endpoint& ep, std::shared_ptr<core::client_session> s,
                                     core::call_started cs,
                                     std::shared_ptr<util::async_queue<message>> pending) {
  bool warned = false;
  while (auto ev = co_await ep.next_event(*s, cs)) {
    const bool final = ev->is_response();
    if (final || pending->size() < max_orphaned_events) {
      pending->push(std::move(*ev));
    } else if (!warned) {
      warned = true;
      spdlog::warn("session {}: a stream nobody resumed holds {} events; dropping more", s->id(),
                   max_orphaned_events);
    }
    if (final) break;
  }
  pending->close();
}

}  // namespace

void http_server::impl::orphan_stream(core::endpoint& ep, std::shared_ptr<core::client_session> s,
                                      core::call_started cs, std::uint64_t stream_no,
                                      std::optional<message> unsent, bool final) {
  // A GET that resumes this stream may already wait on its queue; else a new one.
  auto& slot = s->orphaned_streams[stream_no];
  if (!slot || slot->closed()) slot = std::make_shared<util::async_queue<message>>(ex);
  auto pending = slot;
  if (unsent) pending->push_front(std::move(*unsent));
  // Only streams the log still knows can be resumed; the others are forgotten.
  std::erase_if(s->orphaned_streams, [&](const auto& kv) { return !s->sse_log.knows(kv.first); });
  if (final) {
    pending->close();
    return;
  }
  util::spawn_logged(ex, follow_orphaned_call(ep, s, std::move(cs), pending),
                     "follow a call whose client went away");
}

awaitable<bool> http_server::impl::resume_stream(beast::tcp_stream& stream, const request& req,
                                                 std::shared_ptr<core::client_session> s,
                                                 core::event_log::replay replay) {
  if (!co_await begin_sse(stream, req)) co_return false;
  if (!co_await write_replay(stream, replay)) co_return false;
  std::shared_ptr<util::async_queue<message>> pending;
  if (auto it = s->orphaned_streams.find(replay.stream); it != s->orphaned_streams.end()) {
    pending = it->second;
    s->orphaned_streams.erase(it);  // one reader at a time
  } else if (auto live = s->live_streams.find(replay.stream); live != s->live_streams.end()) {
    // Its POST handler has not noticed the client left: cut that connection, so its next write
    // fails and the call's remaining events come to this queue.
    pending = std::make_shared<util::async_queue<message>>(ex);
    s->orphaned_streams[replay.stream] = pending;
    live->second();
  }
  if (pending) {
    if (!co_await write_queue(stream, *pending, logged_stream{s.get(), replay.stream})) {
      s->orphaned_streams[replay.stream] = pending;  // resumable again
      co_return false;
    }
    s->orphaned_streams.erase(replay.stream);
  }
  co_return co_await end_chunks(stream) && req.keep_alive();
}

awaitable<bool> http_server::impl::write_queue(beast::tcp_stream& stream,
                                               util::async_queue<message>& queue,
                                               logged_stream log) {
  while (!stopping) {
    auto ev = co_await queue.pop(util::async_queue<message>::clock::now() + keepalive_interval);
    if (!ev) {
      if (queue.closed()) co_return true;
      if (!co_await write_chunk(stream, transport::encode_sse_comment("keep-alive")))
        co_return false;
      continue;
    }
    if (!co_await write_event(stream, *ev, log)) {
      queue.push_front(std::move(*ev));
      co_return false;
    }
  }
  co_return true;
}

awaitable<bool> http_server::impl::stream_call(beast::tcp_stream& stream, request& req,
                                               core::endpoint& ep,
                                               std::shared_ptr<core::client_session> s,
                                               core::call_started cs) {
  // JSON when the response comes first; an SSE stream as soon as anything else for this call
  // arrives before it (progress, logging, a server request).
  bool sse = false;
  logged_stream log;
  std::size_t events = 0;
  // While this stream is written, a GET resuming it can cut it; after, it is not live.
  struct not_live_on_exit {
    core::client_session& s;
    const logged_stream& log;
    bool orphaned = false;  // the call's events go on to a queue for a resuming GET
    ~not_live_on_exit() {
      if (!log.session) return;
      s.live_streams.erase(log.no);
      // Taken over by a GET, but ended here anyway (its last write got through): the GET's
      // queue ends too.
      auto it = s.orphaned_streams.find(log.no);
      if (!orphaned && it != s.orphaned_streams.end()) it->second->close();
    }
  } live_guard{*s, log};
  auto mark_live = [&] {
    s->live_streams[log.no] = [&stream] {
      boost::system::error_code ignored;
      stream.socket().close(ignored);
    };
  };
  // Polling: a call that runs on past closeStreamAfter has its stream ended, cleanly, once
  // primed, and what it sends later waits for the client's GET with Last-Event-ID.
  const auto close_at =
      proxy.close_stream_after.count() > 0 && protocol::primes_sse_streams(s->protocol_version)
          ? std::chrono::steady_clock::now() + proxy.close_stream_after
          : std::chrono::steady_clock::time_point::max();
  for (;;) {
    bool time_to_close = false;
    if (close_at != std::chrono::steady_clock::time_point::max() && cs.call) {
      const bool ready = co_await cs.call->events.wait(std::min(close_at, cs.deadline));
      time_to_close = !ready && std::chrono::steady_clock::now() >= close_at && !stopping;
    }
    if (time_to_close) {
      // No co_await inside || or && (GCC 12 miscompiles some of those): plain statements.
      bool primed = sse;
      if (!primed) primed = co_await begin_session_sse(stream, req, *s, log);
      live_guard.orphaned = true;
      orphan_stream(ep, s, std::move(cs), log.no, std::nullopt, false);
      if (!primed) co_return false;
      spdlog::debug("session {}: closing the stream of a call still running (closeStreamAfter)",
                    s->id());
      co_return co_await end_chunks(stream) && req.keep_alive();
    }
    auto ev = co_await ep.next_event(*s, cs);
    if (!ev) {
      // Cancelled by the client: no response is owed (spec: cancellation). End the stream.
      if (!sse) {
        if (!co_await begin_session_sse(stream, req, *s, log)) co_return false;
      }
      co_return co_await end_chunks(stream) && req.keep_alive();
    }
    const bool final = ev->is_response();
    if (!sse && final)
      co_return co_await reply(stream, req, bhttp::status::ok, jsonrpc::serialize(*ev));
    // No co_await inside || or && (GCC 12 miscompiles some of those): plain statements.
    bool written = true;
    if (!sse) {
      written = co_await begin_session_sse(stream, req, *s, log);
      mark_live();
    }
    sse = true;
    if (written) written = co_await write_event(stream, *ev, log);
    std::optional<message> unsent;
    if (!written) unsent = std::move(*ev);
    if (written && !final && faults.drop_stream_after_events > 0 &&
        ++events >= faults.drop_stream_after_events) {
      spdlog::info("injected fault: cutting a response stream after {} event(s)", events);
      boost::system::error_code ignored;
      stream.socket().close(ignored);
      written = false;
    }
    if (!written) {
      // A client that went away is not a cancellation (spec: Streamable HTTP): the call runs on
      // to its response or deadline, and what it sends waits for a GET that resumes the stream.
      live_guard.orphaned = true;
      orphan_stream(ep, s, std::move(cs), log.no, std::move(unsent), final);
      co_return false;
    }
    if (final) co_return co_await end_chunks(stream) && req.keep_alive();
  }
}

awaitable<bool> http_server::impl::handle_batch(beast::tcp_stream& stream, request& req,
                                                core::endpoint& ep, jsonrpc::payload batch) {
  // Batches exist only in 2025-03-26 (and the JSON-RPC of 2024-11-05); initialize never rides in
  // one (spec 2025-03-26, lifecycle). Every request of the batch gets its answer on one SSE stream.
  bool keep_alive = false;
  auto session = co_await require_session(stream, req, ep, keep_alive);
  if (!session) co_return keep_alive;
  if (protocol::requires_version_header(session->protocol_version)) {
    std::string why = "Invalid Request: JSON-RPC batches are not part of protocol version " +
                      session->protocol_version;
    co_return co_await reply_error(stream, req, bhttp::status::bad_request, codes::invalid_request,
                                   why);
  }
  for (auto& item : batch.items) {
    if (item && item->is_request() && item->method() == "initialize") {
      co_return co_await reply_error(stream, req, bhttp::status::bad_request,
                                     codes::invalid_request,
                                     "Invalid Request: initialize must not be part of a batch");
    }
  }
  std::vector<message> answers;  // answered at once (invalid items, ping, ...)
  std::vector<core::call_started> calls;
  for (auto& item : batch.items) {
    if (!item) {
      answers.push_back(jsonrpc::to_error_response(item.error()));
    } else if (item->is_notification()) {
      ep.on_notification(*session, *item);
    } else if (item->is_response()) {
      ep.on_response(*session, std::move(*item));
    } else {
      auto outcome = co_await ep.on_request(session, std::move(*item));
      if (auto* now = std::get_if<message>(&outcome))
        answers.push_back(std::move(*now));
      else
        calls.push_back(std::move(std::get<core::call_started>(outcome)));
    }
  }
  if (answers.empty() && calls.empty())
    co_return co_await reply(stream, req, bhttp::status::accepted, {});
  if (!co_await begin_sse(stream, req)) {
    for (auto& cs : calls) ep.drain(session, std::move(cs));
    co_return false;
  }
  for (auto& a : answers) {
    if (!co_await write_event(stream, a)) {
      for (auto& cs : calls) ep.drain(session, std::move(cs));
      co_return false;
    }
  }
  // The calls run concurrently at the backend; their events are written call by call.
  bool ok = true;
  for (auto& cs : calls) {
    if (!ok) {
      ep.drain(session, std::move(cs));
      continue;
    }
    while (auto ev = co_await ep.next_event(*session, cs)) {
      ok = co_await write_event(stream, *ev);
      if (ev->is_response()) break;
      if (!ok) {
        ep.drain(session, std::move(cs));
        break;
      }
    }
  }
  if (!ok) co_return false;
  co_return co_await end_chunks(stream) && req.keep_alive();
}

awaitable<bool> http_server::impl::handle_get(beast::tcp_stream& stream, request& req,
                                              std::shared_ptr<core::client_session> s) {
  if (!accepts(req[bhttp::field::accept], "text/event-stream")) {
    co_return co_await reply_error(stream, req, bhttp::status::not_acceptable,
                                   codes::invalid_request,
                                   "Not Acceptable: Accept must list text/event-stream");
  }
  // Last-Event-ID (spec 2025-11-25 basic/transports: resumability and redelivery): the stream
  // it names is resumed; an id the session cannot replay gets a fresh GET stream.
  std::optional<core::event_log::replay> replay;
  if (auto last = req.find("Last-Event-ID"); last != req.end())
    replay = s->sse_log.after(last->value());
  if (replay && replay->stream != s->get_stream_no)
    co_return co_await resume_stream(stream, req, s, std::move(*replay));
  if (replay && s->get_stream_open) {
    // The GET stream resumed while its old connection looks open (the client left without the
    // proxy noticing yet): that connection is cut and this one takes over, bounded in time.
    if (auto live = s->live_streams.find(replay->stream); live != s->live_streams.end())
      live->second();
    for (int i = 0; i < 200 && s->get_stream_open; ++i) {
      asio::steady_timer pause(ex, std::chrono::milliseconds(10));
      co_await pause.async_wait(tuple_awaitable);
    }
  }
  // One GET stream per session, so every message goes on exactly one stream.
  if (s->get_stream_open) {
    co_return co_await reply_error(stream, req, bhttp::status::conflict, codes::invalid_request,
                                   "Conflict: this session already has a GET stream open");
  }
  s->get_stream_open = true;  // before any co_await: a second GET must see it
  logged_stream log;
  bool ok = true;
  if (replay) {
    // The GET stream again: what may have been lost with the old connection, then the rest.
    log = {s.get(), replay->stream};
    ok = co_await begin_sse(stream, req);
    if (ok) ok = co_await write_replay(stream, *replay);
  } else {
    ok = co_await begin_session_sse(stream, req, *s, log);
    s->get_stream_no = log.no;
  }
  if (!ok) {
    s->get_stream_open = false;
    co_return false;
  }
  s->live_streams[log.no] = [&stream, &outbox = s->outbox] {
    boost::system::error_code ignored;
    stream.socket().close(ignored);
    outbox.interrupt();  // its writer notices now, not at the next keep-alive
  };
  ok = co_await write_queue(stream, s->outbox, log);
  s->live_streams.erase(log.no);
  s->get_stream_open = false;
  if (!ok) co_return false;
  co_return co_await end_chunks(stream) && req.keep_alive();
}

}  // namespace mcp_proxy::http

namespace mcp_proxy::http {

awaitable<bool> http_server::impl::handle_legacy_stream(beast::tcp_stream& stream, request& req,
                                                        std::shared_ptr<core::endpoint> ep) {
  if (req.find(bhttp::field::accept) != req.end() &&
      !accepts(req[bhttp::field::accept], "text/event-stream")) {
    co_return co_await reply_error(stream, req, bhttp::status::not_acceptable,
                                   codes::invalid_request,
                                   "Not Acceptable: Accept must list text/event-stream");
  }
  auto ls = std::make_shared<legacy_session>(ex, util::random_hex_id());
  ls->narrowing = narrowing_of(req.target(), req["Mcp-Proxy-Servers"], req["Mcp-Proxy-Tools"]);
  legacy_sessions.emplace(ls->id, ls);
  // The first event names where to POST (spec 2024-11-05: the endpoint event).
  std::string endpoint =
      transport::encode_sse_event(legacy_post_url(ep->name(), ls->id), "endpoint");
  bool ok = co_await begin_sse(stream, req);
  if (ok) ok = co_await write_chunk(stream, std::move(endpoint));
  if (ok) ok = co_await write_queue(stream, ls->events);
  // The stream is the session: when it ends, so does the session.
  legacy_sessions.erase(ls->id);
  ls->events.close();
  if (ls->core) co_await ep->end_session(ls->core);
  if (!ok) co_return false;
  co_return co_await end_chunks(stream) && req.keep_alive();
}

awaitable<bool> http_server::impl::handle_legacy_post(beast::tcp_stream& stream, request& req,
                                                      std::shared_ptr<core::endpoint> ep) {
  auto id = query_param(req.target(), "sessionId");
  if (!id) {
    co_return co_await reply_error(stream, req, bhttp::status::bad_request, codes::invalid_request,
                                   "Bad Request: sessionId query parameter is required");
  }
  auto it = legacy_sessions.find(*id);
  if (it == legacy_sessions.end()) {
    co_return co_await reply_error(stream, req, bhttp::status::not_found, codes::invalid_request,
                                   "Session not found");
  }
  auto ls = it->second;
  if (auto ct = req.find(bhttp::field::content_type);
      ct == req.end() || !content_type_is(ct->value(), "application/json")) {
    co_return co_await reply_error(stream, req, bhttp::status::unsupported_media_type,
                                   codes::invalid_request,
                                   "Unsupported Media Type: Content-Type must be application/json");
  }
  auto payload = jsonrpc::parse_payload(req.body());
  if (!payload) {
    co_return co_await reply(stream, req, bhttp::status::bad_request,
                             jsonrpc::serialize(jsonrpc::to_error_response(payload.error())));
  }
  // Every answer goes on the event stream; the POST itself is only acknowledged.
  for (auto& item : payload->items) {
    if (!item)
      ls->events.push(jsonrpc::to_error_response(item.error()));
    else
      co_await legacy_message(ls, ep, std::move(*item));
  }
  co_return co_await reply(stream, req, bhttp::status::accepted, "Accepted", "text/plain");
}

awaitable<void> http_server::impl::legacy_message(std::shared_ptr<legacy_session> ls,
                                                  std::shared_ptr<core::endpoint> ep, message msg) {
  if (msg.is_request() && msg.method() == "initialize") {
    if (ls->core) {
      ls->events.push(
          message::error_response(*msg.id(), codes::invalid_request,
                                  "Invalid Request: the session is already initialized"));
      co_return;
    }
    auto outcome = co_await ep->initialize(std::move(msg), ls->narrowing);
    ls->events.push(std::move(outcome.reply));
    if (!outcome.session) co_return;
    if (ls->events.closed()) {
      // The stream ended while the backend was being initialized.
      co_await ep->end_session(outcome.session);
      co_return;
    }
    ls->core = std::move(outcome.session);
    ls->core->get_stream_open = true;  // the event stream is open: not an idle session
    util::spawn_logged(ex, forward_outbox(ls), ep->name() + " legacy outbox");
    co_return;
  }
  if (!ls->core) {
    if (msg.is_request())
      ls->events.push(message::error_response(*msg.id(), codes::invalid_request,
                                              "Invalid Request: send initialize first"));
    co_return;
  }
  if (msg.is_notification()) {
    ep->on_notification(*ls->core, msg);
  } else if (msg.is_response()) {
    ep->on_response(*ls->core, std::move(msg));
  } else {
    auto outcome = co_await ep->on_request(ls->core, std::move(msg));
    if (auto* now = std::get_if<message>(&outcome))
      ls->events.push(std::move(*now));
    else
      util::spawn_logged(ex, follow_legacy_call(ls, ep, std::get<core::call_started>(outcome)),
                         ep->name() + " legacy call");
  }
}

}  // namespace mcp_proxy::http
