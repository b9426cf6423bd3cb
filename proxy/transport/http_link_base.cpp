#include "transport/http_link_base.hpp"

#include "jsonrpc/top_level_scan.hpp"
#include "protocol/proxy_metrics.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/ip/tcp.hpp>

#include <array>
#include <utility>

namespace mcp_proxy::transport::detail {

using asio::ip::tcp;

namespace {
// An answer event longer than this, still arriving, is passed on as it comes (when allowed).
constexpr std::size_t long_answer_bytes = 64 * 1024;
}  // namespace

bool fits_send_buffer(const request& req) {
  // Far below any socket's send buffer (16 KB at the least on Linux).
  constexpr std::size_t small_request_bytes = 4096;
  std::size_t n = req.target().size() + req.body().size() + 16;  // 16: method, version, CRLFs
  for (const auto& f : req) n += f.name_string().size() + f.value().size() + 4;  // ": ", CRLF
  return n <= small_request_bytes;
}

bool content_type_is(const response_parser& p, std::string_view type) {
  return protocol::media_type_is(p.get()[bhttp::field::content_type], type);
}

std::string status_text(const response_parser& p) {
  return "HTTP " + std::to_string(p.get().result_int()) + " " + std::string(p.get().reason());
}

std::string http_link_base::load_tls_settings() {
  if (options_.tls_insecure_skip_verify && url_.tls)
    spdlog::warn("backend {}: tlsInsecureSkipVerify: the server's certificate is not checked",
                 options_.name);
  if (options_.client_credentials.enabled() && !credentials_) {
    auto source = token_source::shared_for(ex_, options_.name, options_.client_credentials);
    if (!source) return source.error();
    credentials_ = std::move(*source);
  }
  if (!options_.tls_ca_file) return {};
  if (auto why = tls_.trust_ca_file(*options_.tls_ca_file)) return "tlsCaFile " + *why;
  return {};
}

void http_link_base::end(link_error cause, std::string why) {
  if (ended_) return;
  ended_ = true;
  end_cause_ = cause;
  end_reason_ = std::move(why);
  incoming_.close();
  outgoing_.close();
  idle_.clear();
  for (auto& weak : connections_)
    if (auto c = weak.lock()) c->close();
  connections_.clear();
  for (auto* t : timers_) t->cancel();
  on_end();
}

awaitable<bool> http_link_base::pause(clock_type::duration d) {
  asio::steady_timer timer(ex_, d);
  timers_.insert(&timer);
  co_await timer.async_wait(tuple_awaitable);
  timers_.erase(&timer);
  co_return !ended_;
}

void http_link_base::fail_request(const json::value& id, std::string_view why) {
  deliver(jsonrpc::serialize(
      message::error_response(id, jsonrpc::error_codes::backend_unavailable,
                              "backend " + options_.name + ": " + std::string(why))));
}

void http_link_base::log_unsent(const std::string& problem) const {
  const bool token = problem.starts_with(token_failure_prefix);
  spdlog::log(token ? spdlog::level::debug : spdlog::level::warn, "backend {}: {}", options_.name,
              problem);
}

void http_link_base::fail_unsent(const json::value& id, const std::string& problem,
                                 std::string_view otherwise) {
  if (!problem.starts_with(token_failure_prefix)) {
    fail_request(id, otherwise);
    return;
  }
  deliver(jsonrpc::serialize(
      message::error_response(id, jsonrpc::error_codes::backend_unavailable, problem)));
}

bool http_link_base::token_refused(std::string_view sent, int status) {
  if (!credentials_ || status != 401) return false;
  credentials_->refused(sent);
  return true;
}

request http_link_base::make_request(bhttp::verb verb, const target_url& t, std::string body,
                                     std::string_view accept) const {
  request req{verb, t.target, 11};
  req.set(bhttp::field::host, t.host_header);
  req.set(bhttp::field::user_agent, "mcp-proxy/" MCP_PROXY_VERSION);
  req.set(bhttp::field::accept, accept);
  // Bodies are read as they come (event streams): no compression.
  req.set(bhttp::field::accept_encoding, "identity");
  if (!t.basic_auth.empty()) req.set(bhttp::field::authorization, t.basic_auth);
  for (const auto& [k, v] : options_.headers) req.set(k, v);
  if (!body.empty()) req.set(bhttp::field::content_type, "application/json");
  if (auto& m = protocol::metrics::metrics(); m.on() && !body.empty())
    m.backend_sent(m.name(options_.name), body.size());
  req.body() = std::move(body);
  req.keep_alive(true);
  req.prepare_payload();
  return req;
}

awaitable<boost::system::result<std::shared_ptr<http_conn>, std::string>> open_connection(
    asio::any_io_executor ex, lazy_tls_context& tls_context, const target_url& t,
    clock_type::duration limit) {
  const bool verify = tls_context.verifies();
  tcp::resolver resolver(ex);
  auto [rec, endpoints] = co_await resolver.async_resolve(t.host, t.port, tuple_awaitable);
  if (rec) co_return "cannot resolve " + t.host + ": " + rec.message();
  auto c =
      t.tls ? std::make_shared<http_conn>(ex, tls_context.get()) : std::make_shared<http_conn>(ex);
  c->lowest().expires_after(limit);
  auto [cec, ep] = co_await c->lowest().async_connect(endpoints, tuple_awaitable);
  if (cec) co_return "cannot connect to " + t.origin + ": " + cec.message();
  boost::system::error_code ignored;
  c->lowest().socket().set_option(tcp::no_delay(true), ignored);
  if (auto* tls = c->stream.tls()) {
    // SNI, and the certificate must name the host.
    SSL_set_tlsext_host_name(tls->native_handle(), t.host.c_str());
    if (verify) tls->set_verify_callback(ssl::host_name_verification(t.host));
    auto [hec] = co_await tls->async_handshake(ssl::stream_base::client, tuple_awaitable);
    if (hec) co_return "TLS handshake with " + t.origin + " failed: " + hec.message();
  }
  c->lowest().expires_never();
  co_return c;
}

awaitable<boost::system::result<std::shared_ptr<http_conn>, std::string>> http_link_base::connect(
    const target_url& t, clock_type::duration limit) {
  auto made = co_await open_connection(ex_, tls_, t, limit);
  if (!made) co_return made;
  if (ended_) co_return std::string("the link has ended");
  if (connections_.size() > 64)
    std::erase_if(connections_, [](const auto& w) { return w.expired(); });
  connections_.push_back(*made);
  co_return made;
}

awaitable<boost::system::result<std::shared_ptr<http_conn>, std::string>>
http_link_base::write_request(const target_url& t, request& req, bool fresh,
                              clock_type::duration connect_limit) {
  if (credentials_) {
    auto source = credentials_;  // the link may end while the token is fetched
    // A fetch under way may take its whole timeout (10 s); a DELETE at shutdown waits less.
    const clock_type::duration max_wait = connect_limit + std::chrono::seconds(5);
    auto bearer = co_await source->authorization(max_wait);
    if (!bearer) co_return bearer.error();
    if (ended_) co_return std::string("the link has ended");
    req.set(bhttp::field::authorization, *bearer);
  }
  const bool small = fits_send_buffer(req);
  for (;;) {
    std::shared_ptr<http_conn> conn;
    while (!fresh && !conn && !idle_.empty()) {
      conn = std::move(idle_.back());
      idle_.pop_back();
      if (!conn->still_usable(idle_reuse_)) {
        conn->close();
        conn.reset();
      }
    }
    if (!conn) {
      auto made = co_await connect(t, connect_limit);
      if (!made) co_return made.error();
      conn = std::move(*made);
    }
    // A small request on a plain connection (idle or new: nothing of ours is in its send buffer)
    // goes into the kernel's send buffer at once, so it needs no deadline; arming one cost a
    // timer, a timerfd_settime and the cancelled wait's handler per call.
    const bool may_block = conn->stream.tls() || !small;
    if (may_block) conn->lowest().expires_after(control_timeout);
    auto [ec, n] = co_await bhttp::async_write(conn->stream, req, tuple_awaitable);
    if (may_block) conn->lowest().expires_never();
    if (!ec) co_return conn;
    if (!conn->reused || ended_) co_return "sending to " + t.shown + " failed: " + ec.message();
    fresh = true;
  }
}

awaitable<boost::system::result<std::unique_ptr<response_parser>, std::string>>
http_link_base::read_header(http_conn& c, clock_type::time_point deadline) {
  auto p = std::make_unique<response_parser>();
  p->body_limit(boost::none);  // bounded by the readers below
  c.lowest().expires_at(deadline);
  auto [ec, n] = co_await bhttp::async_read_header(c.stream, c.buffer, *p, tuple_awaitable);
  c.lowest().expires_never();
  if (ec) co_return "no answer: " + ec.message();
  co_return p;
}

awaitable<std::string> http_link_base::read_body(http_conn& c, response_parser& p,
                                                 const std::function<bool(std::string_view)>& sink,
                                                 clock_type::time_point deadline) {
  std::array<char, 16 * 1024> buf;
  // Beast reads as much as the buffer has room for, at least 512 bytes; the body is taken out
  // of it as it comes, so it never grows by itself: a large answer took a system call per 512
  // bytes (20,000 for 10 MB). Room for a chunk's worth, kept with the connection.
  c.buffer.reserve(buf.size());
  while (!p.is_done()) {
    p.get().body().data = buf.data();
    p.get().body().size = buf.size();
    c.lowest().expires_at(deadline);
    auto [ec, n] = co_await bhttp::async_read_some(c.stream, c.buffer, p, tuple_awaitable);
    c.lowest().expires_never();
    if (ec == bhttp::error::need_buffer) ec = {};
    const std::size_t got = buf.size() - p.get().body().size;
    if (got && !sink(std::string_view(buf.data(), got))) co_return "stopped reading";
    if (ec) co_return ec.message();
  }
  co_return "";
}

awaitable<http_link_base::whole_body> http_link_base::read_whole_body(
    http_conn& c, response_parser& p, std::size_t limit, clock_type::time_point deadline) {
  std::string body;
  bool too_big = false;
  std::function<bool(std::string_view)> sink = [&](std::string_view piece) {
    if (body.size() + piece.size() > limit) {
      too_big = true;
      return false;
    }
    body.append(piece);
    return true;
  };
  auto err = co_await read_body(c, p, sink, deadline);
  if (too_big) err = "the answer exceeds " + std::to_string(limit) + " bytes";
  co_return whole_body{std::move(body), std::move(err)};
}

void http_link_base::pass_long_answers_on(sse_decoder& decoder, passing& now,
                                          const json::value& in_reply_to) {
  if (!stream_policy_ || in_reply_to.is_null()) return;
  // Explicit captures: GCC 12 mishandles `[&]` in a lambda made in a coroutine.
  auto* self = this;
  auto* pass = &now;
  auto* reply_to = &in_reply_to;
  decoder.stream_long_events(
      {long_answer_bytes,
       [self, pass, reply_to](std::string_view data) {
         auto head = jsonrpc::scan_response_head(data);
         if (!head || head->id != *reply_to || !self->stream_policy_(head->id)) return false;
         pass->check = jsonrpc::streamed_check();
         if (!pass->check.feed(data)) return false;
         pass->rest = std::make_shared<chunk_stream>(self->ex_, self->options_.name);
         self->incoming_.push(inbound{std::string(data), *reply_to, false, pass->rest});
         pass->passed_on = true;
         return true;
       },
       [pass](std::string_view piece) {
         if (!pass->rest || pass->rest->ended()) return;
         if (pass->check.feed(piece))
           pass->rest->push(std::string(piece));
         else
           pass->rest->fail("its answer is not one valid JSON-RPC response");
       },
       [pass] {
         if (!pass->rest) return;
         if (pass->check.finish())
           pass->rest->finish();
         else
           pass->rest->fail("its answer is not one valid JSON-RPC response");
         pass->rest.reset();
       }});
}

awaitable<std::string> http_link_base::pump_events(
    http_conn& c, response_parser& p, sse_decoder& decoder, clock_type::time_point deadline,
    const std::function<void(const sse_event&)>& on_event, const json::value& in_reply_to,
    bool* passed_on) {
  passing now;
  pass_long_answers_on(decoder, now, in_reply_to);
  bool bad_stream = false;
  std::function<bool(std::string_view)> sink = [&](std::string_view piece) {
    auto events = decoder.feed(piece);
    if (!events) {
      bad_stream = true;
      return false;
    }
    for (auto& ev : *events) {
      if (on_event) on_event(ev);
      if (ev.type == "message" && !ev.data.empty()) deliver(std::move(ev.data), in_reply_to);
    }
    return !ended_;
  };
  auto err = co_await read_body(c, p, sink, deadline);
  decoder.stream_long_events({});  // its hooks point into this frame
  if (bad_stream) err = "an event stream line exceeds the size limit";
  if (now.rest)
    now.rest->fail("the stream ended before all of the answer came" +
                   (err.empty() ? std::string() : ": " + err));
  if (passed_on && now.passed_on) *passed_on = true;
  co_return err;
}

void http_link_base::release(std::shared_ptr<http_conn> c, const response_parser& p) {
  if (ended_ || !p.is_done() || !p.keep_alive() || idle_.size() >= max_idle_connections) {
    c->close();
    return;
  }
  if (auto hint = protocol::keep_alive_timeout(p.get()[bhttp::field::keep_alive]))
    idle_reuse_ = std::min<clock_type::duration>(max_idle_reuse, *hint - std::chrono::seconds(1));
  c->reused = true;
  c->idle_since = clock_type::now();
  idle_.push_back(std::move(c));
}

}  // namespace mcp_proxy::transport::detail
