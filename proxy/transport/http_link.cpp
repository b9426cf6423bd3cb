#include "transport/http_link.hpp"

#include "transport/sse.hpp"
#include "util/async_queue.hpp"
#include "util/spawn.hpp"

#include <openssl/evp.h>
#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>

#include <sys/socket.h>
#include <array>
#include <cerrno>
#include <charconv>
#include <deque>
#include <functional>
#include <set>
#include <variant>
#include <vector>

namespace mcp_proxy::transport {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace json = boost::json;
namespace ssl = boost::asio::ssl;
using asio::awaitable;
using asio::ip::tcp;
using jsonrpc::message;
using clock_type = std::chrono::steady_clock;

namespace {

constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);
constexpr auto connect_timeout = std::chrono::seconds(15);
// Answers that come at once: 202 to a notification, the headers of a stream, DELETE.
constexpr auto control_timeout = std::chrono::seconds(15);
constexpr std::size_t max_idle_connections = 8;
// A kept connection idle longer than this is not reused: servers close idle connections (Node
// after 5 s by default), and a request written as the server closes is lost. A server's
// `Keep-Alive: timeout=N` shortens it to N - 1 s.
constexpr auto max_idle_reuse = std::chrono::seconds(4);
// Renewals of an expired session in a row with no request answered in between; then the link
// ends (a server that refuses every new session is down, not idle).
constexpr int max_renewals_in_a_row = 3;
constexpr std::size_t max_json_body = 256u << 20;
constexpr std::size_t max_error_body = 64 * 1024;
constexpr int max_resume_attempts = 5;
constexpr auto default_retry = std::chrono::milliseconds(1000);
constexpr auto max_retry = std::chrono::seconds(30);
constexpr std::string_view session_header = "Mcp-Session-Id";
constexpr std::string_view version_header = "MCP-Protocol-Version";
constexpr std::string_view last_event_id_header = "Last-Event-ID";

struct target_url {
  bool tls = false;
  std::string host;  // for DNS and SNI (an IPv6 address without brackets)
  std::string port;
  std::string host_header;  // host[:port] as written in the URL
  std::string target;       // path and query
  std::string origin;       // scheme://host:port, to compare with an endpoint event's URL
  std::string shown;        // scheme://host:port/path: no userinfo, no query (keys live there)
  std::string basic_auth;   // "Basic ..." from the URL's userinfo, or empty
};

std::string base64(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()),
                                static_cast<int>(in.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

boost::system::result<target_url, std::string> parse_target(boost::urls::url_view u) {
  const auto scheme = u.scheme_id();
  if (scheme != boost::urls::scheme::http && scheme != boost::urls::scheme::https)
    return std::string("the URL scheme must be http or https");
  if (!u.has_authority() || u.encoded_host().empty()) return std::string("the URL has no host");
  target_url t;
  t.tls = scheme == boost::urls::scheme::https;
  t.host = u.host_address();
  t.port = u.has_port() ? std::string(u.port()) : (t.tls ? "443" : "80");
  t.host_header = u.encoded_host_and_port();
  t.target = u.encoded_path().empty() ? "/" : std::string(u.encoded_path());
  if (u.has_query()) t.target += "?" + std::string(u.encoded_query());
  t.origin = std::string(u.scheme()) + "://" + std::string(u.encoded_host()) + ":" + t.port;
  t.shown = t.origin + std::string(u.encoded_path());
  if (u.has_userinfo()) t.basic_auth = "Basic " + base64(u.user() + ":" + u.password());
  return t;
}

boost::system::result<target_url, std::string> parse_target(std::string_view text) {
  auto u = boost::urls::parse_uri(text);
  if (!u) return std::string("not an absolute URL");
  return parse_target(*u);
}

using plain_stream = beast::tcp_stream;
using tls_stream = beast::ssl_stream<beast::tcp_stream>;
using response_parser = bhttp::response_parser<bhttp::buffer_body>;
using request = bhttp::request<bhttp::string_body>;

struct http_conn {
  explicit http_conn(asio::any_io_executor ex) : stream(std::in_place_type<plain_stream>, ex) {}
  http_conn(asio::any_io_executor ex, ssl::context& ctx)
      : stream(std::in_place_type<tls_stream>, ex, ctx) {}

  std::variant<plain_stream, tls_stream> stream;
  beast::flat_buffer buffer;
  bool reused = false;  // served a request before: the server may have closed it meanwhile
  clock_type::time_point idle_since;

  beast::tcp_stream& lowest() {
    return std::visit([](auto& s) -> beast::tcp_stream& { return beast::get_lowest_layer(s); },
                      stream);
  }
  void close() {
    boost::system::error_code ignored;
    lowest().socket().close(ignored);
  }
  // An idle keep-alive connection is reusable while the server has sent nothing on it (no FIN,
  // no stray bytes) and it has not been idle so long that the server may be closing it. (A
  // close racing with the next request remains possible, and then that request fails: it is
  // not sent twice.)
  bool still_usable(clock_type::duration max_idle) {
    if (buffer.size() != 0 || clock_type::now() - idle_since > max_idle) return false;
    char byte;
    const auto n = ::recv(lowest().socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
  }
  // Runs an operation on whichever stream this is; `op` returns the same awaitable for both.
  template <typename Op>
  auto on_stream(Op&& op) {
    return std::visit(std::forward<Op>(op), stream);
  }
};

// Whether `text` is the response (result or error) to request `id`.
bool is_response_to(std::string_view text, const json::value& id) {
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  auto* o = v.if_object();
  if (ec || !o) return false;
  auto* got = o->if_contains("id");
  return got && *got == id && (o->contains("result") || o->contains("error"));
}

bool content_type_is(const response_parser& p, std::string_view type) {
  std::string_view ct = p.get()[bhttp::field::content_type];
  ct = ct.substr(0, ct.find(';'));
  while (!ct.empty() && ct.back() == ' ') ct.remove_suffix(1);
  return beast::iequals(ct, type);
}

std::string status_text(const response_parser& p) {
  return "HTTP " + std::to_string(p.get().result_int()) + " " + std::string(p.get().reason());
}

// The `timeout=N` (seconds) of a Keep-Alive header (RFC 9112 appendix C.2.2 names the header;
// its parameters are those of the historic draft): how long the server keeps an idle
// connection.
std::optional<std::chrono::seconds> keep_alive_timeout(std::string_view header) {
  while (!header.empty()) {
    const auto comma = header.find(',');
    std::string_view part = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view{} : header.substr(comma + 1);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    if (part.size() <= 8 || !beast::iequals(part.substr(0, 8), "timeout=")) continue;
    part.remove_prefix(8);
    unsigned seconds = 0;
    auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), seconds);
    if (ec == std::errc() && (end == part.data() + part.size() || *end == ' '))
      return std::chrono::seconds(std::min(seconds, 3600u));
  }
  return std::nullopt;
}

// Where an event stream stopped, to resume it: the last event id and the server's retry delay.
struct stream_position {
  std::string last_id;
  clock_type::duration retry = default_retry;
  void update(const sse_decoder& d) {
    if (!d.last_event_id().empty()) last_id = d.last_event_id();
    if (auto ms = d.retry_ms())
      retry = std::min<clock_type::duration>(std::chrono::milliseconds(*ms), max_retry);
  }
};

// The part of the link shared by both HTTP transports: connections, requests, response bodies,
// the queues, and ending.
class http_link_base : public message_link {
 public:
  http_link_base(asio::any_io_executor ex, http_link_options options, target_url url)
      : ex_(ex),
        options_(std::move(options)),
        url_(std::move(url)),
        tls_(ssl::context::tls_client),
        incoming_(ex),
        outgoing_(ex) {
    boost::system::error_code ignored;
    // The system store; OpenSSL also honours SSL_CERT_FILE and SSL_CERT_DIR.
    tls_.set_default_verify_paths(ignored);
    tls_.set_verify_mode(options_.tls_insecure_skip_verify ? ssl::verify_none : ssl::verify_peer);
  }

  // Loads the configured CA file; the error names the problem (not the URL).
  std::string load_tls_settings() {
    if (options_.tls_insecure_skip_verify && url_.tls)
      spdlog::warn("backend {}: tlsInsecureSkipVerify: the server's certificate is not checked",
                   options_.name);
    if (!options_.tls_ca_file) return {};
    boost::system::error_code ec;
    tls_.load_verify_file(*options_.tls_ca_file, ec);
    if (ec) return "tlsCaFile " + *options_.tls_ca_file + ": " + ec.message();
    return {};
  }

  void send(const message& m) override {
    if (!ended_) outgoing_.push(m);
  }
  awaitable<std::optional<inbound>> receive() override { co_return co_await incoming_.pop(); }
  void kill_now() override { end("stopped"); }
  std::string end_reason() const override { return end_reason_; }
  std::string describe() const override { return url_.shown; }

 protected:
  void end(std::string why) {
    if (ended_) return;
    ended_ = true;
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
  // For what a transport waits on besides the shared queues.
  virtual void on_end() {}

  // Waits, unless the link ends first; false when it has ended.
  awaitable<bool> pause(clock_type::duration d) {
    asio::steady_timer timer(ex_, d);
    timers_.insert(&timer);
    co_await timer.async_wait(tuple_awaitable);
    timers_.erase(&timer);
    co_return !ended_;
  }

  // `in_reply_to`: the id of the request whose POST stream carried it, else null.
  void deliver(std::string text, json::value in_reply_to = {}) {
    delivered_any_ = true;
    incoming_.push(inbound{std::move(text), std::move(in_reply_to)});
  }
  // Answers a request the link could not deliver. The client sees `why` (no URL: backends stay
  // hidden); the log has the details.
  void fail_request(const json::value& id, std::string_view why) {
    deliver(jsonrpc::serialize(
        message::error_response(id, jsonrpc::error_codes::backend_unavailable,
                                "backend " + options_.name + ": " + std::string(why))));
  }

  request make_request(bhttp::verb verb, const target_url& t, std::string body,
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
    req.body() = std::move(body);
    req.keep_alive(true);
    req.prepare_payload();
    return req;
  }

  // `limit` bounds the TCP connect and the TLS handshake.
  awaitable<boost::system::result<std::shared_ptr<http_conn>, std::string>> connect(
      const target_url& t, clock_type::duration limit) {
    tcp::resolver resolver(ex_);
    auto [rec, endpoints] = co_await resolver.async_resolve(t.host, t.port, tuple_awaitable);
    if (rec) co_return "cannot resolve " + t.host + ": " + rec.message();
    std::shared_ptr<http_conn> c;
    if (t.tls)
      c = std::make_shared<http_conn>(ex_, tls_);
    else
      c = std::make_shared<http_conn>(ex_);
    c->lowest().expires_after(limit);
    auto [cec, ep] = co_await c->lowest().async_connect(endpoints, tuple_awaitable);
    if (cec) co_return "cannot connect to " + t.origin + ": " + cec.message();
    boost::system::error_code ignored;
    c->lowest().socket().set_option(tcp::no_delay(true), ignored);
    if (auto* tls = std::get_if<tls_stream>(&c->stream)) {
      // SNI, and the certificate must name the host.
      SSL_set_tlsext_host_name(tls->native_handle(), t.host.c_str());
      if (!options_.tls_insecure_skip_verify)
        tls->set_verify_callback(ssl::host_name_verification(t.host));
      auto [hec] = co_await tls->async_handshake(ssl::stream_base::client, tuple_awaitable);
      if (hec) co_return "TLS handshake with " + t.origin + " failed: " + hec.message();
    }
    c->lowest().expires_never();
    if (ended_) co_return std::string("the link has ended");
    if (connections_.size() > 64)
      std::erase_if(connections_, [](const auto& w) { return w.expired(); });
    connections_.push_back(c);
    co_return c;
  }

  // Writes `req` on an idle connection to `t` or a new one; a reused connection that fails is
  // replaced once by a new one (the server may close idle connections at any time). Once a
  // request is written it is never sent again: the server may have acted on it.
  awaitable<boost::system::result<std::shared_ptr<http_conn>, std::string>> write_request(
      const target_url& t, request& req, bool fresh = false,
      clock_type::duration connect_limit = connect_timeout) {
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
      conn->lowest().expires_after(control_timeout);
      auto [ec, n] = co_await conn->on_stream(
          [&](auto& s) { return bhttp::async_write(s, req, tuple_awaitable); });
      conn->lowest().expires_never();
      if (!ec) co_return conn;
      if (!conn->reused || ended_) co_return "sending to " + t.shown + " failed: " + ec.message();
      fresh = true;
    }
  }

  awaitable<boost::system::result<std::unique_ptr<response_parser>, std::string>> read_header(
      http_conn& c, clock_type::time_point deadline) {
    auto p = std::make_unique<response_parser>();
    p->body_limit(boost::none);  // bounded by the readers below
    c.lowest().expires_at(deadline);
    auto [ec, n] = co_await c.on_stream(
        [&](auto& s) { return bhttp::async_read_header(s, c.buffer, *p, tuple_awaitable); });
    c.lowest().expires_never();
    if (ec) co_return "no answer: " + ec.message();
    co_return p;
  }

  // Reads the body as it arrives, handing each piece to `sink` (false from it stops reading).
  // Returns "" when the body ended normally, else why it did not.
  awaitable<std::string> read_body(http_conn& c, response_parser& p,
                                   const std::function<bool(std::string_view)>& sink,
                                   clock_type::time_point deadline) {
    std::array<char, 16 * 1024> buf;
    while (!p.is_done()) {
      p.get().body().data = buf.data();
      p.get().body().size = buf.size();
      c.lowest().expires_at(deadline);
      auto [ec, n] = co_await c.on_stream(
          [&](auto& s) { return bhttp::async_read_some(s, c.buffer, p, tuple_awaitable); });
      c.lowest().expires_never();
      if (ec == bhttp::error::need_buffer) ec = {};
      const std::size_t got = buf.size() - p.get().body().size;
      if (got && !sink(std::string_view(buf.data(), got))) co_return "stopped reading";
      if (ec) co_return ec.message();
    }
    co_return "";
  }

  // The whole body, up to `limit` bytes.
  struct whole_body {
    std::string text, problem;  // problem: why the body could not be read, or empty
    explicit operator bool() const { return problem.empty(); }
    std::string& operator*() { return text; }
    std::string* operator->() { return &text; }
    const std::string& error() const { return problem; }
  };
  awaitable<whole_body> read_whole_body(http_conn& c, response_parser& p, std::size_t limit,
                                        clock_type::time_point deadline) {
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

  // Reads an event stream, delivering every `message` event (as a reply to `in_reply_to`, the
  // request whose POST opened it, or null); `on_event` (optional) sees each one first. Returns ""
  // when the stream ended normally, else why it did not.
  awaitable<std::string> pump_events(http_conn& c, response_parser& p, sse_decoder& decoder,
                                     clock_type::time_point deadline,
                                     const std::function<void(const sse_event&)>& on_event,
                                     const json::value& in_reply_to = {}) {
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
    if (bad_stream) co_return "an event stream line exceeds the size limit";
    co_return err;
  }

  // Keeps a connection whose answer was read completely for the next request.
  void release(std::shared_ptr<http_conn> c, const response_parser& p) {
    if (ended_ || !p.is_done() || !p.keep_alive() || idle_.size() >= max_idle_connections) {
      c->close();
      return;
    }
    if (auto hint = keep_alive_timeout(p.get()[bhttp::field::keep_alive]))
      idle_reuse_ = std::min<clock_type::duration>(max_idle_reuse, *hint - std::chrono::seconds(1));
    c->reused = true;
    c->idle_since = clock_type::now();
    idle_.push_back(std::move(c));
  }

  asio::any_io_executor ex_;
  http_link_options options_;
  target_url url_;
  ssl::context tls_;
  util::async_queue<inbound> incoming_;
  util::async_queue<message> outgoing_;
  std::vector<std::shared_ptr<http_conn>> idle_;
  clock_type::duration idle_reuse_ = max_idle_reuse;
  std::vector<std::weak_ptr<http_conn>> connections_;  // every open one, closed by end()
  std::set<asio::steady_timer*> timers_;               // pauses, cut short by end()
  bool ended_ = false;
  bool delivered_any_ = false;
  std::string end_reason_;
};

// ------------------------------------------------------------------------------------------
// Streamable HTTP (spec 2025-11-25 basic/transports)

class streamable_http_link final : public http_link_base,
                                   public std::enable_shared_from_this<streamable_http_link> {
 public:
  using http_link_base::http_link_base;

  void start() { util::spawn_logged(ex_, sender(shared_from_this()), options_.name + " sender"); }

  void set_protocol_version(std::string_view v) override {
    protocol_version_ = v;
    // After initialize: the server may now send on its own, on a GET stream.
    if (!get_started_ && !ended_) {
      get_started_ = true;
      util::spawn_logged(ex_, get_stream(shared_from_this()), options_.name + " GET stream");
    }
  }

  awaitable<void> stop() override {
    if (ended_) co_return;
    stopping_ = true;  // a 404 from now on is the DELETE's doing: no new session
    if (!session_id_.empty()) {
      // Ends the session at the server (spec: Session Management); 405 is a fine answer too.
      request req =
          session_request(bhttp::verb::delete_, "", "application/json, text/event-stream");
      // Shutdown must not wait on an unreachable server: 2 s to connect, 2 s for the answer.
      auto conn = co_await write_request(url_, req, false, std::chrono::seconds(2));
      if (conn) {
        auto p = co_await read_header(**conn, clock_type::now() + std::chrono::seconds(2));
        if (p) spdlog::debug("backend {}: DELETE answered {}", options_.name, status_text(**p));
      }
    }
    end("stopped");
  }

 private:
  request session_request(bhttp::verb verb, std::string body, std::string_view accept) const {
    request req = make_request(verb, url_, std::move(body), accept);
    if (!session_id_.empty()) req.set(session_header, session_id_);
    if (!protocol_version_.empty()) req.set(version_header, protocol_version_);
    return req;
  }

  // One message to POST: its text (kept while a request is in flight only when an expired
  // session is renewed, to send it again), and its id when it is a request (else null).
  struct outgoing_post {
    std::string body;
    json::value id;
  };

  // One writer keeps messages in order: a request is written and its answer read in the
  // background; a notification or response waits for its 202, so the server has seen it before
  // whatever follows (notifications/initialized before the first request). Requests the server
  // refused for an expired session go first once a new session is started.
  awaitable<void> sender(std::shared_ptr<streamable_http_link> self) {
    for (;;) {
      if (renew_due_) {
        co_await renew_session(self);
        if (ended_) co_return;
        continue;
      }
      outgoing_post post;
      if (!refused_posts_.empty()) {
        post = std::move(refused_posts_.front());
        refused_posts_.pop_front();
      } else {
        auto m = co_await outgoing_.pop();
        if (!m) {
          if (outgoing_.closed()) co_return;
          continue;  // interrupted: a renewal is due
        }
        if (m->is_request() && m->id()) post.id = *m->id();
        post.body = jsonrpc::serialize(*m);
        if (options_.renew_expired_session && !initialize_ && m->method() == "initialize")
          initialize_ = post;
      }
      co_await post_one(self, std::move(post));
    }
  }

  awaitable<void> post_one(std::shared_ptr<streamable_http_link> self, outgoing_post post) {
    const bool is_request = !post.id.is_null();
    std::string sid = session_id_;  // the session this POST belongs to
    request req = session_request(bhttp::verb::post, std::move(post.body),
                                  "application/json, text/event-stream");
    auto conn = co_await write_request(url_, req);
    if (options_.renew_expired_session && is_request) post.body = std::move(req.body());
    if (!conn) {
      spdlog::warn("backend {}: {}", options_.name, conn.error());
      if (is_request) fail_request(post.id, "unreachable");
      co_return;
    }
    if (is_request)
      util::spawn_logged(ex_, answer(self, std::move(*conn), std::move(post), std::move(sid)),
                         options_.name + " answer");
    else
      co_await answer(self, std::move(*conn), std::move(post), std::move(sid));
  }

  // The server ended session `sid` (HTTP 404, spec: Session Management). Without renewal the
  // link ends, so the owner starts over. With it, a new session is started once (`post`, a
  // request the server refused and so never processed, goes again on the new one).
  void session_refused(const std::string& sid, std::optional<outgoing_post> post) {
    if (stopping_) return;
    if (!options_.renew_expired_session || !initialize_) {
      spdlog::warn("backend {}: session expired (HTTP 404)", options_.name);
      end("ended the session (HTTP 404)");
      return;
    }
    if (post) refused_posts_.push_back(std::move(*post));
    if (sid == session_id_ && !renew_due_) {
      renew_due_ = true;
      outgoing_.interrupt();  // the sender may be waiting for a message
    }
  }

  // Starts a new session with the first one's initialize, then notifications/initialized; the
  // owner is told (inbound::session_renewed) so it can restore what the old session held.
  awaitable<void> renew_session(std::shared_ptr<streamable_http_link> self) {
    renew_due_ = false;
    if (++renewals_in_a_row_ > max_renewals_in_a_row) {
      end("ended the session (HTTP 404) again after " + std::to_string(max_renewals_in_a_row) +
          " new ones");
      co_return;
    }
    spdlog::warn("backend {}: the server ended the session (HTTP 404); starting a new one",
                 options_.name);
    renewing_ = true;
    session_id_.clear();
    const std::string version = std::exchange(protocol_version_, {});
    auto problem = co_await initialize_again(version);
    renewing_ = false;
    protocol_version_ = version;
    if (!problem.empty()) {
      spdlog::warn("backend {}: a new session failed: {}", options_.name, problem);
      end("ended the session (HTTP 404); a new one failed");
      co_return;
    }
    outgoing_post initialized{
        jsonrpc::serialize(message::notification("notifications/initialized")), {}};
    co_await post_one(self, std::move(initialized));
    spdlog::info("backend {}: new session started; {} refused request(s) sent again", options_.name,
                 refused_posts_.size());
    incoming_.push(inbound{{}, {}, true});
    if (!get_started_ && !ended_) {
      get_started_ = true;
      util::spawn_logged(ex_, get_stream(self), options_.name + " GET stream");
    }
  }

  // POSTs the kept initialize without a session; "" once the answer (JSON or an event stream)
  // has given a session id and the same protocol version, else what went wrong.
  awaitable<std::string> initialize_again(const std::string& version) {
    request req = session_request(bhttp::verb::post, initialize_->body,
                                  "application/json, text/event-stream");
    auto conn = co_await write_request(url_, req);
    if (!conn) co_return conn.error();
    const auto deadline = clock_type::now() + options_.timeout;
    auto header = co_await read_header(**conn, deadline);
    if (!header) co_return header.error();
    response_parser& p = **header;
    if (p.get().result_int() / 100 != 2) co_return "initialize answered " + status_text(p);
    std::string answer;
    std::string err;
    if (content_type_is(p, "text/event-stream")) {
      sse_decoder decoder;
      std::function<bool(std::string_view)> sink = [&](std::string_view piece) {
        auto events = decoder.feed(piece);
        if (!events) return false;
        for (auto& ev : *events)
          if (ev.type == "message" && is_response_to(ev.data, initialize_->id))
            answer = std::move(ev.data);
        return answer.empty();
      };
      err = co_await read_body(**conn, p, sink, deadline);
    } else {
      auto body = co_await read_whole_body(**conn, p, max_json_body, deadline);
      err = body.error();
      if (body && is_response_to(*body, initialize_->id)) answer = std::move(*body);
      if (body) release(std::move(*conn), p);
    }
    if (answer.empty()) {
      // Built apart (GCC 12 and conditional temporaries in coroutines do not mix well).
      std::string why = "no answer to initialize";
      if (!err.empty()) why += ": " + err;
      co_return why;
    }
    boost::system::error_code ec;
    auto v = json::parse(answer, ec);
    const auto* result = ec ? nullptr : v.as_object().if_contains("result");
    const auto* got = result && result->is_object()
                          ? result->get_object().if_contains("protocolVersion")
                          : nullptr;
    if (!got || !got->is_string()) co_return "initialize failed: " + answer.substr(0, 200);
    if (got->get_string() != version)
      co_return "the new session has protocol version " + std::string(got->get_string());
    if (auto sid = p.get().find(session_header); sid != p.get().end()) session_id_ = sid->value();
    co_return "";
  }

  // Reads the answer to one POST of session `sid`. `post.id` is the request's id, or null for a
  // notification or a response (then nothing is owed to anyone).
  awaitable<void> answer([[maybe_unused]] std::shared_ptr<streamable_http_link> self,
                         std::shared_ptr<http_conn> conn, outgoing_post post, std::string sid) {
    const json::value& id = post.id;
    const bool is_request = !id.is_null();
    const auto deadline = clock_type::now() + options_.timeout + std::chrono::seconds(5);
    auto header_deadline = clock_type::now() + control_timeout;
    if (is_request) header_deadline = deadline;
    auto header = co_await read_header(*conn, header_deadline);
    if (!header) {
      if (ended_) co_return;
      spdlog::warn("backend {}: {}", options_.name, header.error());
      if (is_request) fail_request(id, "no answer");
      co_return;
    }
    response_parser& p = **header;
    const int status = p.get().result_int();
    if (status == 404 && !sid.empty()) {
      // The server ended the session (spec: Session Management): it did not process this one.
      // Only requests are sent again: a notification or response concerned the old session.
      std::optional<outgoing_post> again;
      if (is_request) again = std::move(post);
      session_refused(sid, std::move(again));
      co_return;
    }
    if (is_request && status / 100 == 2) renewals_in_a_row_ = 0;
    if (options_.detect_transport && is_request && session_id_.empty() && !delivered_any_ &&
        status / 100 == 4 && status != 401 && status != 403) {
      // No Streamable HTTP here: the owner (auto_link) tries legacy SSE.
      spdlog::info("backend {}: POST answered {}; trying the legacy SSE transport", options_.name,
                   status_text(p));
      conn->close();
      refused_ = true;
      end("refused Streamable HTTP (" + status_text(p) + ")");
      co_return;
    }
    if (auto sid = p.get().find(session_header); sid != p.get().end() && session_id_.empty())
      session_id_ = sid->value();
    if (status == 202 || status == 204) {
      auto body =
          co_await read_whole_body(*conn, p, max_error_body, clock_type::now() + control_timeout);
      if (body) release(std::move(conn), p);
      if (is_request) fail_request(id, "the server accepted the request but sent no answer");
      co_return;
    }
    if (status / 100 != 2) {
      auto body =
          co_await read_whole_body(*conn, p, max_error_body, clock_type::now() + control_timeout);
      if (body) release(std::move(conn), p);
      spdlog::warn("backend {}: POST answered {}{}", options_.name, status_text(p),
                   body && !body->empty() ? ": " + body->substr(0, 200) : std::string());
      if (!is_request) co_return;
      // A JSON-RPC error in the body says more than the status.
      if (body && is_response_to(*body, id))
        deliver(std::move(*body));
      else
        fail_request(id, "answered " + status_text(p));
      co_return;
    }
    if (content_type_is(p, "application/json")) {
      auto body = co_await read_whole_body(*conn, p, max_json_body, deadline);
      if (!body) {
        spdlog::warn("backend {}: reading an answer failed: {}", options_.name, body.error());
        if (is_request) fail_request(id, "the answer could not be read");
        co_return;
      }
      release(std::move(conn), p);
      // Anything but this request's response leaves the call unanswered: fail it now rather
      // than at its deadline (what came is still passed on; the owner logs it if it is bad).
      const bool answered = is_request && is_response_to(*body, id);
      if (!body->empty()) deliver(std::move(*body), id);
      if (is_request && !answered) {
        spdlog::warn("backend {}: a JSON answer that is not the response to request {}",
                     options_.name, json::serialize(id));
        fail_request(id, "answered with something other than the response");
      }
      co_return;
    }
    if (!content_type_is(p, "text/event-stream")) {
      spdlog::warn("backend {}: POST answered with Content-Type {}", options_.name,
                   std::string(p.get()[bhttp::field::content_type]));
      conn->close();
      if (is_request) fail_request(id, "the answer has an unexpected Content-Type");
      co_return;
    }
    sse_decoder decoder;
    bool answered = false;
    std::function<void(const sse_event&)> watch = [&](const sse_event& ev) {
      if (is_request && !answered && ev.type == "message") answered = is_response_to(ev.data, id);
    };
    auto err = co_await pump_events(*conn, p, decoder, deadline, watch, id);
    if (err.empty())
      release(std::move(conn), p);
    else
      conn->close();
    if (!is_request || answered || ended_) co_return;
    // The stream ended before the response: resume it if the server gave event ids
    // (spec: Resumability and Redelivery), else the call fails now rather than at its deadline.
    stream_position pos;
    pos.update(decoder);
    if (!pos.last_id.empty()) {
      co_await resume(pos, deadline, watch, answered, id);
      if (answered || ended_) co_return;
    }
    spdlog::warn("backend {}: the stream of a request ended before its response{}", options_.name,
                 err.empty() ? std::string() : ": " + err);
    fail_request(id, "the connection ended before the response");
  }

  // A GET of the session's event stream, resuming after `last_id` when it is set: the
  // connection and the answer's header, or why there is no answer.
  struct event_stream {
    std::shared_ptr<http_conn> conn;
    std::unique_ptr<response_parser> parser;  // null: no answer
    std::string problem;
    bool accepted() const {
      return parser && parser->get().result_int() == 200 &&
             content_type_is(*parser, "text/event-stream");
    }
  };
  awaitable<event_stream> open_event_stream(const std::string& last_id) {
    request req = session_request(bhttp::verb::get, "", "text/event-stream");
    if (!last_id.empty()) req.set(last_event_id_header, last_id);
    auto conn = co_await write_request(url_, req);
    if (!conn) co_return event_stream{nullptr, nullptr, conn.error()};
    auto header = co_await read_header(**conn, clock_type::now() + control_timeout);
    if (!header) co_return event_stream{nullptr, nullptr, header.error()};
    co_return event_stream{std::move(*conn), std::move(*header), {}};
  }

  // GETs with Last-Event-ID until `answered` (set by `watch`), the server refuses, the deadline
  // passes or the attempts run out. What comes is still the stream of request `in_reply_to`.
  awaitable<void> resume(stream_position& pos, clock_type::time_point deadline,
                         const std::function<void(const sse_event&)>& watch, const bool& answered,
                         const json::value& in_reply_to) {
    for (int attempt = 0; attempt < max_resume_attempts && clock_type::now() < deadline;
         ++attempt) {
      if (!co_await pause(pos.retry)) co_return;
      auto stream = co_await open_event_stream(pos.last_id);
      if (!stream.parser) continue;
      if (!stream.accepted()) {
        spdlog::warn("backend {}: resuming a stream: GET answered {}", options_.name,
                     status_text(*stream.parser));
        stream.conn->close();
        co_return;
      }
      sse_decoder decoder;
      co_await pump_events(*stream.conn, *stream.parser, decoder, deadline, watch, in_reply_to);
      stream.conn->close();
      pos.update(decoder);
      if (answered) co_return;
    }
  }

  // The server-to-client stream (spec: Listening for Messages from the Server), kept open and
  // resumed with Last-Event-ID while the link lives. 405 means the server offers none.
  awaitable<void> get_stream([[maybe_unused]] std::shared_ptr<streamable_http_link> self) {
    stream_position pos;
    clock_type::duration backoff = default_retry;
    while (!ended_) {
      if (renewing_ || renew_due_) {
        get_started_ = false;  // the new session starts its own
        co_return;
      }
      const std::string sid = session_id_;
      auto stream = co_await open_event_stream(pos.last_id);
      if (stream.parser) {
        const int status = stream.parser->get().result_int();
        if (status == 404 && !sid.empty()) {
          if (sid != session_id_ && !session_id_.empty()) {
            pos = {};  // a new session meanwhile: its stream, from its start
            continue;
          }
          get_started_ = false;
          session_refused(sid, std::nullopt);
          co_return;
        }
        if (!stream.accepted()) {
          // 405: the server offers no GET stream, which the spec allows.
          if (status == 405)
            spdlog::debug("backend {}: no GET stream (405)", options_.name);
          else
            spdlog::warn("backend {}: GET stream refused: {}", options_.name,
                         status_text(*stream.parser));
          stream.conn->close();
          co_return;
        }
        backoff = default_retry;
        sse_decoder decoder;
        co_await pump_events(*stream.conn, *stream.parser, decoder, clock_type::time_point::max(),
                             {});
        stream.conn->close();
        pos.update(decoder);
        if (!co_await pause(pos.retry)) co_return;
        continue;
      }
      if (ended_) co_return;
      spdlog::warn("backend {}: GET stream: {}; retrying in {} ms", options_.name, stream.problem,
                   std::chrono::duration_cast<std::chrono::milliseconds>(backoff).count());
      if (!co_await pause(backoff)) co_return;
      backoff = std::min<clock_type::duration>(backoff * 2, max_retry);
    }
  }

  std::string session_id_;
  std::string protocol_version_;
  bool get_started_ = false;
  // Renewal of an expired session (options_.renew_expired_session).
  std::optional<outgoing_post> initialize_;  // the first initialize, sent again
  std::deque<outgoing_post> refused_posts_;  // requests the old session refused: sent again
  bool renew_due_ = false;
  bool renewing_ = false;
  bool stopping_ = false;
  int renewals_in_a_row_ = 0;

 public:
  bool refused_ = false;  // with detect_transport: the server does not speak Streamable HTTP
};

// ------------------------------------------------------------------------------------------
// Legacy HTTP+SSE (spec 2024-11-05 basic/transports)

class sse_link final : public http_link_base, public std::enable_shared_from_this<sse_link> {
 public:
  sse_link(asio::any_io_executor ex, http_link_options options, target_url url)
      : http_link_base(ex, std::move(options), std::move(url)), endpoint_ready_(ex) {}

  void start() {
    util::spawn_logged(ex_, event_stream(shared_from_this()), options_.name + " event stream");
    util::spawn_logged(ex_, sender(shared_from_this()), options_.name + " sender");
  }

  awaitable<void> stop() override {
    // Closing the event stream ends a legacy session.
    end("stopped");
    co_return;
  }

 protected:
  void on_end() override { endpoint_ready_.close(); }

 private:
  awaitable<void> event_stream([[maybe_unused]] std::shared_ptr<sse_link> self) {
    request req = make_request(bhttp::verb::get, url_, "", "text/event-stream");
    // End reasons reach clients (in the errors of calls in flight): no URL in them, the log has
    // the details.
    auto conn = co_await write_request(url_, req);
    if (!conn) {
      spdlog::warn("backend {}: {}", options_.name, conn.error());
      end("is unreachable");
      co_return;
    }
    auto header = co_await read_header(**conn, clock_type::now() + connect_timeout);
    if (!header) {
      spdlog::warn("backend {}: GET {}: {}", options_.name, url_.shown, header.error());
      end("did not answer the event stream request");
      co_return;
    }
    response_parser& p = **header;
    if (p.get().result_int() != 200 || !content_type_is(p, "text/event-stream")) {
      spdlog::warn("backend {}: GET {} answered {} ({}), not an event stream", options_.name,
                   url_.shown, status_text(p), std::string(p.get()[bhttp::field::content_type]));
      end("answered " + status_text(p) + " instead of an event stream");
      co_return;
    }
    sse_decoder decoder;
    std::function<void(const sse_event&)> on_event = [&](const sse_event& ev) {
      if (ev.type == "endpoint") take_endpoint(ev.data);
    };
    auto err = co_await pump_events(**conn, p, decoder, clock_type::time_point::max(), on_event);
    (*conn)->close();
    end(err.empty() ? "closed its event stream" : "event stream failed: " + err);
  }

  void take_endpoint(std::string_view ref) {
    auto parsed_ref = boost::urls::parse_uri_reference(ref);
    boost::urls::url resolved;
    auto base = boost::urls::parse_uri(options_.url);
    if (!parsed_ref || !base || !boost::urls::resolve(*base, *parsed_ref, resolved)) {
      end("sent an endpoint event that is not a URL");
      return;
    }
    auto t = parse_target(resolved);
    // The proxy sends its configured headers (credentials) to this URL: same origin only.
    if (!t || t->origin != url_.origin) {
      end("sent an endpoint on another origin; refused");
      return;
    }
    post_url_ = std::move(*t);
    post_url_.basic_auth = url_.basic_auth;
    if (!have_endpoint_) {
      have_endpoint_ = true;
      endpoint_ready_.push(true);
    }
  }

  awaitable<void> sender([[maybe_unused]] std::shared_ptr<sse_link> self) {
    auto ready = co_await endpoint_ready_.pop(clock_type::now() + options_.timeout);
    if (!ready) {
      if (!ended_)
        end("sent no endpoint event within " + std::to_string(options_.timeout.count()) + " ms");
      co_return;
    }
    // Written in order by this one sender; a request's acknowledgement is read in the
    // background (its answer comes on the event stream anyway), a notification's or response's
    // before the next message, as for Streamable HTTP.
    while (auto m = co_await outgoing_.pop()) {
      json::value id;
      if (m->is_request() && m->id()) id = *m->id();
      const bool is_request = m->is_request();
      request req = make_request(bhttp::verb::post, post_url_, jsonrpc::serialize(*m),
                                 "application/json, text/event-stream");
      auto conn = co_await write_request(post_url_, req);
      if (!conn) {
        if (ended_) co_return;
        spdlog::warn("backend {}: {}", options_.name, conn.error());
        if (is_request) fail_request(id, "could not deliver the request");
        continue;
      }
      if (is_request)
        util::spawn_logged(ex_, acknowledgement(self, std::move(*conn), std::move(id)),
                           options_.name + " POST");
      else
        co_await acknowledgement(self, std::move(*conn), std::move(id));
    }
  }

  // Reads a POST's answer: 2xx is all there is to it; otherwise the request (when `id` is not
  // null) fails, and 404 means the session is gone.
  awaitable<void> acknowledgement([[maybe_unused]] std::shared_ptr<sse_link> self,
                                  std::shared_ptr<http_conn> conn, json::value id) {
    auto header = co_await read_header(*conn, clock_type::now() + options_.timeout);
    if (!header) {
      if (ended_) co_return;
      spdlog::warn("backend {}: {}", options_.name, header.error());
      if (!id.is_null()) fail_request(id, "could not deliver the request");
      co_return;
    }
    response_parser& p = **header;
    auto body =
        co_await read_whole_body(*conn, p, max_error_body, clock_type::now() + control_timeout);
    if (body) release(std::move(conn), p);
    const int status = p.get().result_int();
    if (status / 100 == 2 || ended_) co_return;  // the answer comes on the event stream
    if (status == 404) {
      end("ended the session (HTTP 404)");
      co_return;
    }
    spdlog::warn("backend {}: POST answered {}", options_.name, status_text(p));
    if (id.is_null()) co_return;
    if (body && is_response_to(*body, id))
      deliver(std::move(*body));
    else
      fail_request(id, "could not deliver the request");
  }

  target_url post_url_;
  bool have_endpoint_ = false;
  util::async_queue<bool> endpoint_ready_;
};

// Streamable HTTP first; legacy SSE when the server refuses it. Messages sent before the
// transport is known are kept and sent again over the fallback.
class auto_link final : public message_link {
 public:
  auto_link(asio::any_io_executor ex, http_link_options options,
            std::shared_ptr<streamable_http_link> first)
      : ex_(ex), options_(std::move(options)), first_(first), inner_(std::move(first)) {}

  void send(const message& m) override {
    if (first_) early_.push_back(m);
    inner_->send(m);
  }
  awaitable<std::optional<inbound>> receive() override {
    for (;;) {
      auto r = co_await inner_->receive();
      if (!first_) co_return r;
      if (r || !first_->refused_) {
        early_.clear();
        first_.reset();  // decided
        co_return r;
      }
      first_.reset();
      auto options = options_;
      options.detect_transport = false;
      auto url = parse_target(options.url);
      auto sse = std::make_shared<sse_link>(ex_, std::move(options), std::move(*url));
      sse->load_tls_settings();  // checked when the first link was made
      sse->start();
      inner_ = sse;
      for (auto& m : early_) inner_->send(m);
      early_.clear();
    }
  }
  awaitable<void> stop() override { co_await inner_->stop(); }
  void kill_now() override { inner_->kill_now(); }
  std::string end_reason() const override { return inner_->end_reason(); }
  std::string describe() const override { return inner_->describe(); }
  void set_protocol_version(std::string_view v) override { inner_->set_protocol_version(v); }

 private:
  asio::any_io_executor ex_;
  http_link_options options_;
  std::shared_ptr<streamable_http_link> first_;  // until the transport is known
  std::shared_ptr<message_link> inner_;
  std::vector<message> early_;
};

}  // namespace

boost::system::result<std::shared_ptr<message_link>, std::string> make_streamable_http_link(
    asio::any_io_executor ex, http_link_options options) {
  auto url = parse_target(options.url);
  if (!url) return url.error();
  const bool detect = options.detect_transport;
  auto kept = options;
  auto link = std::make_shared<streamable_http_link>(ex, std::move(options), std::move(*url));
  if (auto problem = link->load_tls_settings(); !problem.empty()) return problem;
  link->start();
  if (detect) return std::make_shared<auto_link>(ex, std::move(kept), std::move(link));
  return link;
}

boost::system::result<std::shared_ptr<message_link>, std::string> make_sse_link(
    asio::any_io_executor ex, http_link_options options) {
  auto url = parse_target(options.url);
  if (!url) return url.error();
  auto link = std::make_shared<sse_link>(ex, std::move(options), std::move(*url));
  if (auto problem = link->load_tls_settings(); !problem.empty()) return problem;
  link->start();
  return link;
}

}  // namespace mcp_proxy::transport
