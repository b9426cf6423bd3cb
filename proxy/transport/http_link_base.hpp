#pragma once
// Internal to the HTTP links (http_link_base.cpp, streamable_http_link.cpp, sse_link.cpp) and
// http_fetch.cpp: the connection, URL and request plumbing both HTTP transports share. The rules
// they follow without I/O (what an answer is, how a stream is resumed) are in
// protocol/streamable_client.hpp. Thread-safety and lifetime: see message_link.

#include "protocol/http_target.hpp"
#include "protocol/sse.hpp"
#include "protocol/streamable_client.hpp"
#include "transport/http_link.hpp"
#include "transport/lazy_tls_context.hpp"
#include "transport/token_source.hpp"
#include "util/async_queue.hpp"
#include "util/tcp_or_tls_stream.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <functional>
#include <optional>
#include <set>
#include <variant>
#include <vector>

namespace mcp_proxy::transport::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace json = boost::json;
namespace ssl = boost::asio::ssl;
using asio::awaitable;
using jsonrpc::message;
using clock_type = std::chrono::steady_clock;
using protocol::sse_decoder;
using protocol::sse_event;

inline constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);
inline constexpr auto connect_timeout = std::chrono::seconds(15);
// Answers that come at once: 202 to a notification, the headers of a stream, DELETE.
inline constexpr auto control_timeout = std::chrono::seconds(15);
// Connections kept for reuse: as many as calls usually run at once on one link, so a burst of
// 64 concurrent calls does not close and reopen some at every round (with 8, 9-12% of calls at
// concurrency 64 opened a fresh TCP connection). Each closes after its idle timeout below.
inline constexpr std::size_t max_idle_connections = 64;
// A kept connection idle longer than this is not reused: servers close idle connections (Node
// after 5 s by default), and a request written as the server closes is lost. A server's
// `Keep-Alive: timeout=N` shortens it to N - 1 s.
inline constexpr auto max_idle_reuse = std::chrono::seconds(4);
// Renewals of an expired session in a row with no request answered in between; then the link
// ends (a server that refuses every new session is down, not idle).
inline constexpr int max_renewals_in_a_row = 3;
inline constexpr std::size_t max_error_body = 64 * 1024;
inline constexpr std::string_view session_header = "Mcp-Session-Id";
inline constexpr std::string_view version_header = "MCP-Protocol-Version";
inline constexpr std::string_view last_event_id_header = "Last-Event-ID";
// How token_source's errors start.
inline constexpr std::string_view token_failure_prefix = "cannot get an access token";

using protocol::parse_target;
using protocol::target_url;

using response_parser = bhttp::response_parser<bhttp::buffer_body>;
using request = bhttp::request<bhttp::string_body>;

struct http_conn {
  explicit http_conn(asio::any_io_executor ex) : stream(ex) {}
  http_conn(asio::any_io_executor ex, ssl::context& ctx) : stream(ex, ctx) {}

  util::tcp_or_tls_stream stream;  // Beast's algorithms take it whichever it is
  beast::flat_buffer buffer;
  bool reused = false;  // served a request before: the server may have closed it meanwhile
  clock_type::time_point idle_since;

  beast::tcp_stream& lowest() { return stream.tcp(); }
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
};

// A new connection to `t` within `limit`: TCP (no Nagle), then, for https, the TLS handshake with
// SNI and, with `verify`, the certificate checked against `tls`'s store and the host name. The
// error names the origin, never a path or query.
awaitable<boost::system::result<std::shared_ptr<http_conn>, std::string>> open_connection(
    asio::any_io_executor ex, lazy_tls_context& tls, const target_url& t,
    clock_type::duration limit);

bool content_type_is(const response_parser& p, std::string_view type);
std::string status_text(const response_parser& p);
// Whether `req` (start line, header fields and body) is small enough to go into an idle plain
// connection's send buffer at once, so that writing it needs no deadline.
bool fits_send_buffer(const request& req);

class http_link_base : public message_link {
 public:
  http_link_base(asio::any_io_executor ex, http_link_options options, target_url url)
      : ex_(ex),
        options_(std::move(options)),
        url_(std::move(url)),
        tls_(!options_.tls_insecure_skip_verify),
        incoming_(ex),
        outgoing_(ex) {}

  // Loads the configured CA file, and gets the backend's token source when it has client
  // credentials; the error names the problem (not the URL).
  std::string load_tls_settings();

  void send(const message& m) override {
    if (!ended_) outgoing_.push(m);
  }
  awaitable<std::optional<inbound>> receive() override { co_return co_await incoming_.pop(); }
  void set_stream_policy(stream_policy p) override { stream_policy_ = std::move(p); }
  void kill_now() override { end(link_error::stopped, "stopped"); }
  std::string end_reason() const override { return end_reason_; }
  boost::system::error_code end_cause() const override { return end_cause_; }
  std::string describe() const override { return url_.shown; }

 protected:
  void end(link_error cause, std::string why);
  // For what a transport waits on besides the shared queues.
  virtual void on_end() {}

  // Waits, unless the link ends first; false when it has ended.
  awaitable<bool> pause(clock_type::duration d);

  // `in_reply_to`: the id of the request whose POST stream carried it, else null.
  void deliver(std::string text, json::value in_reply_to = {}) {
    incoming_.push(inbound{std::move(text), std::move(in_reply_to)});
  }
  // Answers a request the link could not deliver. The client sees `why` (no URL: backends stay
  // hidden); the log has the details.
  void fail_request(const json::value& id, std::string_view why);
  // Logs why write_request failed; a missing access token only at debug level (token_source
  // logged the failed fetch once already).
  void log_unsent(const std::string& problem) const;
  // Answers a request whose write_request failed: a missing access token as it is (the text
  // names the backend), anything else as `otherwise`.
  void fail_unsent(const json::value& id, const std::string& problem, std::string_view otherwise);

  // A request answered `status` that carried the link's bearer token: on 401 the token is dropped
  // (the next request fetches a new one) and true says a POST may be sent once more.
  // `sent`: the request's Authorization value.
  bool token_refused(std::string_view sent, int status);
  bool has_credentials() const { return credentials_ != nullptr; }

  request make_request(bhttp::verb verb, const target_url& t, std::string body,
                       std::string_view accept) const;

  // `limit` bounds the TCP connect and the TLS handshake.
  awaitable<boost::system::result<std::shared_ptr<http_conn>, std::string>> connect(
      const target_url& t, clock_type::duration limit);

  // Writes `req` on an idle connection to `t` or a new one; a reused connection that fails is
  // replaced once by a new one (the server may close idle connections at any time). Once a
  // request is written it is never sent again: the server may have acted on it (a 401 is the
  // exception: the server refused it unread). With client credentials the access token is set
  // first (fetched when due); without one the error starts with token_failure_prefix.
  awaitable<boost::system::result<std::shared_ptr<http_conn>, std::string>> write_request(
      const target_url& t, request& req, bool fresh = false,
      clock_type::duration connect_limit = connect_timeout);

  awaitable<boost::system::result<std::unique_ptr<response_parser>, std::string>> read_header(
      http_conn& c, clock_type::time_point deadline);

  // Reads the body as it arrives, handing each piece to `sink` (false from it stops reading).
  // Returns "" when the body ended normally, else why it did not.
  awaitable<std::string> read_body(http_conn& c, response_parser& p,
                                   const std::function<bool(std::string_view)>& sink,
                                   clock_type::time_point deadline);

  // The whole body, up to `limit` bytes.
  struct whole_body {
    std::string text, problem;  // problem: why the body could not be read, or empty
    explicit operator bool() const { return problem.empty(); }
    std::string& operator*() { return text; }
    std::string* operator->() { return &text; }
    const std::string& error() const { return problem; }
  };
  awaitable<whole_body> read_whole_body(http_conn& c, response_parser& p, std::size_t limit,
                                        clock_type::time_point deadline);

  // Reads an event stream, delivering every `message` event (as a reply to `in_reply_to`, the
  // request whose POST opened it, or null); `on_event` (optional) sees each one first. Returns ""
  // when the stream ended normally, else why it did not.
  // On a request's stream, a long event that answers it is passed on as it arrives when the
  // stream policy lets it (inbound::rest); `*passed_on` (when given) is then set, and
  // `on_event` never sees that event.
  awaitable<std::string> pump_events(http_conn& c, response_parser& p, sse_decoder& decoder,
                                     clock_type::time_point deadline,
                                     const std::function<void(const sse_event&)>& on_event,
                                     const json::value& in_reply_to = {},
                                     bool* passed_on = nullptr);

  // An answer being passed on as it arrives (pump_events).
  struct passing {
    std::shared_ptr<chunk_stream> rest;  // while its event lasts
    jsonrpc::streamed_check check;
    bool passed_on = false;  // one was
  };
  void pass_long_answers_on(sse_decoder& decoder, passing& now, const json::value& in_reply_to);

  // Keeps a connection whose answer was read completely for the next request.
  void release(std::shared_ptr<http_conn> c, const response_parser& p);

  asio::any_io_executor ex_;
  http_link_options options_;
  target_url url_;
  lazy_tls_context tls_;
  std::shared_ptr<token_source> credentials_;  // null without clientCredentials
  util::async_queue<inbound> incoming_;
  util::async_queue<message> outgoing_;
  stream_policy stream_policy_;  // empty: every answer whole
  std::vector<std::shared_ptr<http_conn>> idle_;
  clock_type::duration idle_reuse_ = max_idle_reuse;
  std::vector<std::weak_ptr<http_conn>> connections_;  // every open one, closed by end()
  std::set<asio::steady_timer*> timers_;               // pauses, cut short by end()
  bool ended_ = false;
  std::string end_reason_;
  boost::system::error_code end_cause_;
};

// The legacy HTTP+SSE link to `url`, started (what auto_link falls back to).
std::shared_ptr<message_link> start_sse_link(asio::any_io_executor ex, http_link_options options,
                                             target_url url);

// Streamable HTTP (`first`, not yet used) with legacy SSE at the same URL as its fallback when
// the server refuses the first request: messages sent before that are sent again over SSE.
std::shared_ptr<message_link> make_auto_link(asio::any_io_executor ex, http_link_options options,
                                             std::shared_ptr<message_link> first);

}  // namespace mcp_proxy::transport::detail
