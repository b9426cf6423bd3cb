// The client-facing HTTP listener's side of a connection (http_server_impl.hpp): reading one
// request within headerTimeout and the body's deadline (and the answer when it cannot be read,
// http/request_framing.hpp), and the connection limits (http/connection_limits.hpp) carried out:
// admitting or refusing a new connection, closing one given up, and the summary log.

#include "http/http_server_impl.hpp"

#include "jsonrpc/message.hpp"

#include <spdlog/spdlog.h>

#include <netinet/tcp.h>

#include <algorithm>
#include <tuple>

namespace mcp_proxy::http {

using detail::tuple_awaitable;
namespace codes = jsonrpc::error_codes;

namespace {

// A request body must arrive within this once its headers are in.
constexpr auto body_timeout = std::chrono::seconds(120);
// How often the connection limits' summary may be logged (a flood would log a line each).
constexpr auto limits_log_interval = std::chrono::seconds(10);

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

awaitable<bool> http_server::impl::read_request(client_stream& stream,
                                                detail::read_deadline& deadline,
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

}  // namespace mcp_proxy::http
