#include "frontend/http_io.hpp"

#include "backend/event_backlog.hpp"
#include "frontend/call_gate.hpp"
#include "jsonrpc/top_level_scan.hpp"

#include "protocol/http_rules.hpp"
#include "protocol/log_text.hpp"
#include "protocol/proxy_metrics.hpp"
#include "protocol/sse.hpp"
#include "transport/chunk_stream.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http.hpp>
#include <boost/optional.hpp>

#include <array>
#include <filesystem>
#include <tuple>
#include <utility>

namespace mcp_proxy::frontend {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using asio::awaitable;

namespace {
constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);
// A client that stops reading (zero window) must not pin a handler, a session or a backend.
constexpr auto write_timeout = std::chrono::seconds(30);
}  // namespace

std::string error_body(std::int64_t code, std::string_view text, const boost::json::value& id) {
  return jsonrpc::serialize(jsonrpc::message::error_response(id, code, text));
}

boost::json::value body_id(const http_request& req) {
  if (req.method() != bhttp::verb::post || req.body().empty()) return nullptr;
  return jsonrpc::readable_id(req.body());
}

void log_too_deep() {
  spdlog::warn("refused a client message nested deeper than {} levels (mcpProxy.maxJsonDepth)",
               jsonrpc::max_json_depth());
}

namespace {
std::vector<std::string> cors_origins;
protocol::cors_policy cors{&cors_origins};

template <class Response>
void add_cors(Response& res, const http_request& req) {
  const auto origin = req.find(bhttp::field::origin);
  if (origin == req.end()) return;
  for (auto& [name, value] : protocol::cors_response_headers(cors, origin->value()))
    res.set(name, value);
}
}  // namespace

void set_cors_policy(std::vector<std::string> allowed_origins, bool allow_credentials,
                     std::chrono::seconds max_age) {
  cors_origins = std::move(allowed_origins);
  cors.allow_credentials = allow_credentials;
  cors.max_age = max_age;
}

const protocol::cors_policy& cors_policy() {
  return cors;
}

namespace {
// Every whole response: who answers, CORS, the extra headers, the body's type when it has one.
template <class Body>
void set_headers(bhttp::response<Body>& res, const http_request& req, bool has_body,
                 std::string_view content_type, std::string_view session_id, std::string_view allow,
                 const protocol::header_list& extra) {
  res.set(bhttp::field::server, "mcp-proxy");
  add_cors(res, req);
  for (const auto& [name, value] : extra) res.set(name, value);
  if (has_body) res.set(bhttp::field::content_type, content_type);
  if (!session_id.empty()) res.set(session_header, session_id);
  if (!allow.empty()) res.set(bhttp::field::allow, allow);
  res.keep_alive(req.keep_alive());
}

template <class Body>
awaitable<bool> write_response(tcp_stream& stream, bhttp::response<Body>& res) {
  stream.expires_after(write_timeout);
  auto [ec, n] = co_await bhttp::async_write(stream, res, tuple_awaitable);
  stream.expires_never();
  if (auto& m = protocol::metrics::metrics(); m.on()) m.client_sent(n);
  co_return !ec && res.keep_alive();
}

// A body of a kept message's pieces (jsonrpc::kept_pieces): written with the header in one gather
// write, so a large result goes out of the text it was read into, not out of a spliced copy.
struct pieces_body {
  using value_type = jsonrpc::kept_pieces;
  static std::uint64_t size(const value_type& v) { return v.size(); }
  class writer {
   public:
    using const_buffers_type = std::array<asio::const_buffer, 3>;
    template <bool is_request, class Fields>
    writer(const bhttp::header<is_request, Fields>&, const value_type& v) : v_(v) {}
    void init(boost::system::error_code& ec) { ec = {}; }
    boost::optional<std::pair<const_buffers_type, bool>> get(boost::system::error_code& ec) {
      ec = {};
      if (done_) return boost::none;
      done_ = true;
      return std::pair{
          const_buffers_type{asio::buffer(v_.before), asio::buffer(v_.id), asio::buffer(v_.after)},
          false};
    }

   private:
    const value_type& v_;
    bool done_ = false;
  };
};
}  // namespace

awaitable<bool> reply(tcp_stream& stream, const http_request& req, unsigned status,
                      std::string body, std::string_view content_type, std::string_view session_id,
                      std::string_view allow, const protocol::header_list& extra) {
  bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(status), req.version()};
  set_headers(res, req, !body.empty(), content_type, session_id, allow, extra);
  trace_to_client(body);
  res.body() = std::move(body);
  res.prepare_payload();
  // A HEAD answer has the headers of the GET answer and no body (RFC 9110 section 9.3.2).
  if (req.method() == bhttp::verb::head) res.body().clear();
  co_return co_await write_response(stream, res);
}

void trace_client_body(const http_request& req) {
  if (!spdlog::should_log(spdlog::level::trace)) return;
  const std::string_view target = req.target();
  const auto path = target.substr(0, target.find('?'));
  spdlog::trace("client -> proxy {} {}: {}", std::string_view(req.method_string()),
                protocol::body_excerpt(path, 256), protocol::body_excerpt(req.body()));
}

void trace_to_client(std::string_view data) {
  if (data.empty() || data.front() == ':' || !spdlog::should_log(spdlog::level::trace)) return;
  // A legacy SSE stream's endpoint event holds the session id in its URL.
  spdlog::trace("proxy -> client: {}",
                protocol::body_excerpt(protocol::redact_session_query(data)));
}

namespace {
// How long the rest of a streamed answer may pause. The link ends it sooner when the backend's
// own deadline passes; this only bounds a writer whose link went away without a word.
constexpr auto rest_pause_limit = std::chrono::seconds(120);

// A response whose rest is still arriving (jsonrpc::message::streamed), written as it comes in a
// chunked body. Cut short (the connection closed without the last chunk) when the rest does not
// come whole, so that the client sees the call fail rather than a truncated answer.
awaitable<bool> reply_streamed(tcp_stream& stream, const http_request& req, unsigned status,
                               const jsonrpc::message& m, std::string_view session_id,
                               const protocol::header_list& extra) {
  auto head = jsonrpc::streamed_pieces(m);
  auto rest = std::dynamic_pointer_cast<transport::chunk_stream>(m.rest());
  bhttp::response<bhttp::empty_body> res{static_cast<bhttp::status>(status), req.version()};
  set_headers(res, req, true, "application/json", session_id, {}, extra);
  res.chunked(true);
  bhttp::response_serializer<bhttp::empty_body> sr{res};
  stream.expires_after(write_timeout);
  auto [ec, n] = co_await bhttp::async_write_header(stream, sr, tuple_awaitable);
  stream.expires_never();
  if (ec || !head || !rest) co_return false;
  std::size_t sent = n;
  std::array<asio::const_buffer, 3> first{asio::buffer(head->before), asio::buffer(head->id),
                                          asio::buffer(head->after)};
  stream.expires_after(write_timeout);
  std::tie(ec, n) = co_await asio::async_write(stream, bhttp::make_chunk(first), tuple_awaitable);
  stream.expires_never();
  sent += n;
  while (!ec) {
    const auto until = std::chrono::steady_clock::now() + rest_pause_limit;
    auto piece = co_await rest->next(until);
    if (!piece) break;
    stream.expires_after(write_timeout);
    std::tie(ec, n) = co_await asio::async_write(stream, bhttp::make_chunk(asio::buffer(*piece)),
                                                 tuple_awaitable);
    stream.expires_never();
    sent += n;
  }
  if (auto& metrics = protocol::metrics::metrics(); metrics.on()) metrics.client_sent(sent);
  if (ec) co_return false;
  if (!rest->failure().empty()) {
    spdlog::warn(
        "backend {}: an answer passed on as it came was cut ({}): ending the response "
        "unfinished",
        rest->from(), rest->failure());
    cut(stream);
    co_return false;
  }
  co_return co_await end_chunks(stream) && res.keep_alive();
}
}  // namespace

awaitable<bool> reply_message(tcp_stream& stream, const http_request& req, unsigned status,
                              const jsonrpc::message& m, std::string_view session_id,
                              const protocol::header_list& extra) {
  if (m.rest()) co_return co_await reply_streamed(stream, req, status, m, session_id, extra);
  auto pieces = jsonrpc::pieces_of(m);
  if (!pieces) {
    std::string body = jsonrpc::serialize(m);
    co_return co_await reply(stream, req, status, std::move(body), "application/json", session_id,
                             {}, extra);
  }
  if (spdlog::should_log(spdlog::level::trace)) trace_to_client(jsonrpc::serialize(m));
  bhttp::response<pieces_body> res{static_cast<bhttp::status>(status), req.version()};
  set_headers(res, req, true, "application/json", session_id, {}, extra);
  res.body() = std::move(*pieces);
  res.prepare_payload();
  co_return co_await write_response(stream, res);
}

awaitable<bool> reply_answer(tcp_stream& stream, const http_request& req, unsigned status,
                             const jsonrpc::message& answer, std::string_view session_id) {
  protocol::header_list extra;
  if (auto after = retry_after_of(answer)) {
    status = 429;  // RFC 6585 section 4
    extra.emplace_back("Retry-After", std::to_string(after->count()));
  }
  co_return co_await reply_message(stream, req, status, answer, session_id, extra);
}

awaitable<bool> reply_error(tcp_stream& stream, const http_request& req, unsigned status,
                            std::int64_t code, std::string_view text) {
  // A local, not a temporary inside co_await (GCC 12 and coroutine temporaries).
  std::string body = error_body(code, text, body_id(req));
  co_return co_await reply(stream, req, status, std::move(body));
}

protocol::session_narrowing narrowing_for(const http_request& req, const request_identity& who) {
  auto n = protocol::narrowing_of(req.target(), req["Mcp-Proxy-Servers"], req["Mcp-Proxy-Tools"]);
  n.principal = who.principal;
  n.access = who.access;
  n.limits_key = who.limits_key;
  return n;
}

bool owned_by(const protocol::session_narrowing& session, const request_identity& who) {
  return session.principal == who.principal;
}

std::shared_ptr<void> acquire_session_slot(http_context& ctx, tcp_stream& stream) {
  const std::string& peer = stream.peer_address();
  auto slot = ctx.sessions_per_peer.acquire(peer);
  if (!slot)
    spdlog::warn("client {} holds {} sessions (mcpProxy.maxSessionsPerPeer); refusing another",
                 peer, ctx.sessions_per_peer.per_key());
  return slot;
}

awaitable<bool> refuse_session_slot(http_context& ctx, tcp_stream& stream,
                                    const http_request& req) {
  co_return co_await reply_error(
      stream, req, 503, jsonrpc::error_codes::backend_unavailable,
      "too many sessions from this client address (mcpProxy.maxSessionsPerPeer is " +
          std::to_string(ctx.sessions_per_peer.per_key()) +
          "): end some (DELETE) or try again later");
}

awaitable<bool> begin_sse(tcp_stream& stream, const http_request& req) {
  bhttp::response<bhttp::empty_body> res{bhttp::status::ok, req.version()};
  set_headers(res, req, true, "text/event-stream", {}, {}, {});
  res.set(bhttp::field::cache_control, "no-cache");
  res.chunked(true);
  bhttp::response_serializer<bhttp::empty_body> sr{res};
  stream.expires_after(write_timeout);
  auto [ec, n] = co_await bhttp::async_write_header(stream, sr, tuple_awaitable);
  stream.expires_never();
  co_return !ec;
}

awaitable<bool> write_chunk(http_context& ctx, tcp_stream& stream, std::string data) {
  trace_to_client(data);
  if (auto& m = protocol::metrics::metrics(); m.on()) m.client_sent(data.size());
  const auto& faults = ctx.faults;
  if (faults.hold_after_bytes > 0 && data.size() > faults.hold_after_bytes) {
    // Part of the event, then a wait for the test's signal (or a cut): a backend mid-answer.
    stream.expires_after(write_timeout);
    auto [ec, n] = co_await asio::async_write(
        stream, bhttp::make_chunk(asio::buffer(data.data(), faults.hold_after_bytes)),
        tuple_awaitable);
    stream.expires_never();
    if (ec) co_return false;
    if (faults.hold_until.empty()) {
      cut(stream);
      co_return false;
    }
    for (int polls = 0; polls < 3000 && !std::filesystem::exists(faults.hold_until); ++polls) {
      asio::steady_timer pause(ctx.ex, std::chrono::milliseconds(10));
      co_await pause.async_wait(tuple_awaitable);
    }
    data.erase(0, faults.hold_after_bytes);
  }
  if (faults.drip_interval.count() > 0 && data.size() > faults.drip_bytes) {
    // One chunk per piece, each after a pause: a slow-drip stream.
    for (std::size_t at = 0; at < data.size(); at += faults.drip_bytes) {
      asio::steady_timer pause(ctx.ex, faults.drip_interval);
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

void cut(tcp_stream& stream) {
  boost::system::error_code ignored;
  stream.socket().close(ignored);
}

awaitable<bool> end_chunks(tcp_stream& stream) {
  stream.expires_after(write_timeout);
  auto [ec, n] = co_await asio::async_write(stream, bhttp::make_chunk_last(), tuple_awaitable);
  stream.expires_never();
  co_return !ec;
}

template <typename Queue>
awaitable<bool> write_queue(
    http_context& ctx, tcp_stream& stream, Queue& queue,
    const std::function<awaitable<bool>(const jsonrpc::message&)>& write_one) {
  while (!ctx.stopping) {
    auto ev = co_await queue.pop(Queue::clock::now() + keepalive_interval);
    if (!ev) {
      if (queue.closed()) co_return true;
      if (!co_await write_chunk(ctx, stream, protocol::encode_sse_comment("keep-alive")))
        co_return false;
      continue;
    }
    if (!co_await write_one(*ev)) {
      queue.push_front(std::move(*ev));
      co_return false;
    }
  }
  co_return true;
}

template awaitable<bool> write_queue(
    http_context&, tcp_stream&, util::async_queue<jsonrpc::message>&,
    const std::function<awaitable<bool>(const jsonrpc::message&)>&);
template awaitable<bool> write_queue(
    http_context&, tcp_stream&, backend::event_backlog&,
    const std::function<awaitable<bool>(const jsonrpc::message&)>&);

}  // namespace mcp_proxy::frontend
