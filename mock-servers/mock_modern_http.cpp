#include "mock_modern_http.hpp"

#include "mock_modern.hpp"
#include "mock_relay.hpp"
#include "modern_tools.hpp"

#include "config/config.hpp"
#include "protocol/http_rules.hpp"
#include "protocol/modern_request.hpp"
#include "protocol/versions.hpp"
#include "util/ascii.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include <unistd.h>
#include <climits>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
namespace protocol = mcp_proxy::protocol;
using asio::ip::tcp;
using mcp_proxy::jsonrpc::message;
using namespace asio::experimental::awaitable_operators;

namespace mock {

namespace {

constexpr std::string_view endpoint_path = "/mock/mcp";
constexpr std::size_t body_limit = 64 << 20;
constexpr std::size_t stream_backlog = 4096;  // messages queued for one response stream

using request_t = http::request<http::string_body>;

// One message for a response stream: its text, and whether it is the final answer.
struct outgoing {
  std::string text;
  bool final = false;
  unsigned status = 200;
};
using channel = asio::experimental::concurrent_channel<void(boost::system::error_code, outgoing)>;

struct server_state {
  modern::era served = modern::era::modern;
  bool loopback = true;
  // Dual, and legacy with --bearer-token-file: where the legacy era is served.
  std::optional<legacy_server> legacy;
  std::string bearer_token_file;  // --bearer-token-file; empty: no token needed
};
server_state state;

std::optional<std::string_view> header(const request_t& req, std::string_view name) {
  auto it = req.find(name);
  if (it == req.end()) return std::nullopt;
  return std::string_view(it->value().data(), it->value().size());
}

// streamable-http, protocol version header: 404 for a method not found; the modern errors a
// client must see as such (-32021, -32022) are 400; other errors stay in-band (200).
unsigned status_of(const message& answer) {
  const auto* e = answer.error();
  const auto* code = e && e->is_object() ? e->get_object().if_contains("code") : nullptr;
  if (code && code->is_int64() &&
      code->get_int64() == protocol::modern_codes::unsupported_protocol_version)
    return 400;
  return protocol::modern_http_status(answer);
}

asio::awaitable<bool> write_json(beast::tcp_stream& s, const request_t& req, unsigned status,
                                 std::string body) {
  http::response<http::string_body> res{static_cast<http::status>(status), req.version()};
  res.keep_alive(req.keep_alive());
  if (body.empty()) {
    res.prepare_payload();
  } else {
    res.set(http::field::content_type, "application/json");
    res.body() = std::move(body);
    res.prepare_payload();
  }
  auto [ec, n] = co_await http::async_write(s, res, asio::as_tuple(asio::use_awaitable));
  co_return !ec && req.keep_alive();
}

asio::awaitable<bool> write_message(beast::tcp_stream& s, const request_t& req, unsigned status,
                                    const message& m) {
  co_return co_await write_json(s, req, status, mcp_proxy::jsonrpc::serialize(m));
}

// A modern request in flight: the handle cancel() reaches once serve() has returned it.
struct in_flight {
  std::mutex mutex;
  std::shared_ptr<modern::request_handle> handle;
  bool cancelled = false;
  void set(std::shared_ptr<modern::request_handle> h) {
    std::lock_guard lock(mutex);
    handle = std::move(h);
    if (cancelled && handle) handle->cancel();
  }
  void cancel() {
    std::lock_guard lock(mutex);
    cancelled = true;
    if (handle) handle->cancel();
  }
};

// Workers hand their messages to the I/O thread's channels until the server stops; then (the
// io_context is about to be destroyed) they are dropped: a worker still running at exit (a slow
// tool) must not complete a receive whose handler would go to a destroyed io_context (ASan
// caught that at teardown).
std::mutex sinks_mutex;
bool sinks_open = true;

// Serves a checked modern request: JSON when the answer is the first message, else an event
// stream (streamable-http, sending messages); a closed stream cancels the request.
asio::awaitable<bool> serve_request(beast::tcp_stream& s, const request_t& req, message msg) {
  auto ch = std::make_shared<channel>(co_await asio::this_coro::executor, stream_backlog);
  auto flight = std::make_shared<in_flight>();
  modern::sink out = [ch](const message& m) {
    outgoing o{mcp_proxy::jsonrpc::serialize(m), m.is_response(), status_of(m)};
    std::lock_guard lock(sinks_mutex);
    if (sinks_open) ch->try_send(boost::system::error_code{}, std::move(o));
  };
  const json::value id = msg.id() ? *msg.id() : json::value();
  // On a worker: the legacy handlers may take their time before they hand work on.
  run_worker([msg = std::move(msg), out = std::move(out), flight] {
    flight->set(modern::serve(msg, out));
  });
  bool closed = false;
  bool streaming = false;
  http::response<http::empty_body> head{http::status::ok, req.version()};
  http::response_serializer<http::empty_body> sr{head};
  for (;;) {
    auto next = co_await (ch->async_receive(asio::as_tuple(asio::use_awaitable)) ||
                          wait_for_close(s.socket(), closed));
    if (next.index() == 1) {  // streamable-http, cancellation: the client closed the stream
      report_cancelled(id, "its stream was closed");
      flight->cancel();
      co_return false;
    }
    auto [ec, o] = std::get<0>(std::move(next));
    if (ec) co_return false;
    if (!streaming && o.final) co_return co_await write_json(s, req, o.status, std::move(o.text));
    if (!streaming) {
      streaming = true;
      head.set(http::field::content_type, "text/event-stream");
      head.set(http::field::cache_control, "no-cache");
      head.set("X-Accel-Buffering", "no");
      head.keep_alive(req.keep_alive());
      head.chunked(true);
      auto [hec, n] = co_await http::async_write_header(s, sr, asio::as_tuple(asio::use_awaitable));
      if (hec) {
        flight->cancel();
        co_return false;
      }
    }
    const std::string event = "event: message\ndata: " + o.text + "\n\n";
    auto [wec, n] = co_await asio::async_write(s, http::make_chunk(asio::buffer(event)),
                                               asio::as_tuple(asio::use_awaitable));
    if (wec) {
      flight->cancel();
      co_return false;
    }
    if (o.final) {
      auto [lec, m] = co_await asio::async_write(s, http::make_chunk_last(),
                                                 asio::as_tuple(asio::use_awaitable));
      co_return !lec && req.keep_alive();
    }
  }
}

// --bearer-token-file: the request carries `Authorization: Bearer <the file's content>`, read
// now (a test rotates it between requests); leading and trailing white space is not the token.
bool bearer_accepted(const request_t& req) {
  std::ifstream in(state.bearer_token_file, std::ios::binary);
  std::ostringstream text;
  if (in) text << in.rdbuf();
  std::string token = text.str();
  const auto first = token.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return false;  // no token: nothing is accepted
  token = token.substr(first, token.find_last_not_of(" \t\r\n") - first + 1);
  const auto sent = header(req, "Authorization");
  if (!sent || sent->size() < 7 || !mcp_proxy::util::ascii_iequals(sent->substr(0, 7), "bearer "))
    return false;
  return sent->substr(7) == token;
}

asio::awaitable<bool> refuse_token(beast::tcp_stream& s, const request_t& req) {
  std::fprintf(stderr, "mock-mcp-server: %s %s refused: no or wrong bearer token (HTTP 401)\n",
               std::string(req.method_string()).c_str(), std::string(req.target()).c_str());
  std::fflush(stderr);
  http::response<http::string_body> res{http::status::unauthorized, req.version()};
  res.set(http::field::www_authenticate, R"(Bearer error="invalid_token")");
  res.keep_alive(req.keep_alive());
  res.prepare_payload();
  auto [ec, n] = co_await http::async_write(s, res, asio::as_tuple(asio::use_awaitable));
  co_return !ec && req.keep_alive();
}

// A POST to the endpoint: the era decides who serves it.
asio::awaitable<bool> handle_post(beast::tcp_stream& s, request_t& req) {
  const auto version = header(req, "MCP-Protocol-Version");
  const bool has_session = header(req, "Mcp-Session-Id").has_value();
  auto parsed = mcp_proxy::jsonrpc::parse(req.body());
  const bool dual = state.served == modern::era::dual;
  if (!parsed) {
    if (dual) co_return co_await relay(s, req, state.legacy->endpoint());  // a batch, say
    co_return co_await write_message(s, req, 400,
                                     mcp_proxy::jsonrpc::to_error_response(parsed.error()));
  }
  message& m = *parsed;
  const bool modern = protocol::is_modern(m, version, has_session);
  if (dual && !modern) co_return co_await relay(s, req, state.legacy->endpoint());
  if (!m.is_request()) co_return co_await write_json(s, req, 202, {});  // nothing to answer
  if (!modern) {
    // A modern-only server names the versions it supports (basic/versioning, backward
    // compatibility); an initialize says which version it wanted, else the header does.
    std::string requested(version.value_or(protocol::default_http_version));
    if (m.method() == "initialize" && m.params_object())
      if (const auto* v = m.params_object()->if_contains("protocolVersion"); v && v->is_string())
        requested = v->get_string();
    co_return co_await write_message(s, req, 400,
                                     modern::unsupported_version_error(*m.id(), requested));
  }
  protocol::modern_headers h{version, header(req, "Mcp-Method"), header(req, "Mcp-Name")};
  if (auto refusal = protocol::check_modern_request(m, h))
    co_return co_await write_message(s, req, refusal->status,
                                     protocol::refusal_response(m, *refusal));
  if (modern::current().fixture) {
    auto lookup = [&](const std::string& name) { return header(req, name); };
    if (auto why = modern_tools::param_header_mismatch(m, lookup))
      co_return co_await write_message(
          s, req, 400,
          message::error_response(*m.id(), protocol::modern_codes::header_mismatch, *why));
  }
  co_return co_await serve_request(s, req, std::move(m));
}

asio::awaitable<bool> handle(beast::tcp_stream& s, request_t& req) {
  // DNS-rebinding protection (streamable-http, security): 403 for a foreign Host or Origin.
  const auto host = header(req, "Host").value_or("");
  const auto origin = header(req, "Origin");
  static const std::vector<std::string> none;
  if (!protocol::host_allowed(host, state.loopback, none) ||
      (origin && !protocol::origin_allowed(*origin, none)))
    co_return co_await write_json(s, req, 403, {});
  if (!state.bearer_token_file.empty() && !bearer_accepted(req))
    co_return co_await refuse_token(s, req);
  // The legacy era behind the token check: everything goes to the legacy server.
  if (state.served == modern::era::legacy)
    co_return co_await relay(s, req, state.legacy->endpoint());
  const bool dual = state.served == modern::era::dual;
  const std::string_view target(req.target().data(), req.target().size());
  const std::string_view path = target.substr(0, target.find('?'));
  const auto version = header(req, "MCP-Protocol-Version");
  const bool modern_version = version && protocol::era_of(*version) == protocol::era::modern;
  if (path != endpoint_path) {
    if (dual) co_return co_await relay(s, req, state.legacy->endpoint());
    co_return co_await write_json(s, req, 404, {});
  }
  if (req.method() == http::verb::post) co_return co_await handle_post(s, req);
  // No GET stream and no session to delete in 2026-07-28 (streamable-http, earlier revisions).
  if (dual && !modern_version) co_return co_await relay(s, req, state.legacy->endpoint());
  http::response<http::empty_body> res{http::status::method_not_allowed, req.version()};
  res.set(http::field::allow, "POST");
  res.keep_alive(req.keep_alive());
  res.prepare_payload();
  auto [ec, n] = co_await http::async_write(s, res, asio::as_tuple(asio::use_awaitable));
  co_return !ec && req.keep_alive();
}

asio::awaitable<void> connection(tcp::socket socket) {
  beast::tcp_stream s(std::move(socket));
  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(body_limit);
    auto [ec, n] =
        co_await http::async_read(s, buffer, parser, asio::as_tuple(asio::use_awaitable));
    if (ec) break;
    request_t req = parser.release();
    if (!co_await handle(s, req)) break;
  }
  boost::system::error_code ignored;
  s.socket().shutdown(tcp::socket::shutdown_both, ignored);
}

asio::awaitable<void> accept_loop(tcp::acceptor& acceptor) {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    asio::co_spawn(acceptor.get_executor(), connection(std::move(socket)), asio::detached);
  }
}

}  // namespace

bool is_http_option(int& i, int argc, char** argv) {
  const std::string_view a = argv[i];
  if (a != "--http" && a != "--drip-ms" && a != "--drop-after-events" &&
      a != "--close-stream-after-ms" && a != "--bearer-token-file" && a != "--hold-after-bytes" &&
      a != "--hold-until" && a != "--event-stream-answers")
    return false;
  if (a != "--event-stream-answers" && i + 1 < argc) ++i;
  return true;
}

int serve_modern_http(int argc, char** argv) {
  std::string addr;
  std::vector<std::string> legacy_args;  // everything but --http and --era
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--http" && i + 1 < argc)
      addr = argv[++i];
    else if (a == "--bearer-token-file" && i + 1 < argc)
      state.bearer_token_file = argv[++i];
    else if (a == "--era" && i + 1 < argc)
      ++i;
    else
      legacy_args.emplace_back(a);
  }
  auto listen = mcp_proxy::config::parse_listen_address(addr);
  if (!listen) {
    std::fprintf(stderr, "mock-mcp-server: --http needs HOST:PORT, got '%s'\n", addr.c_str());
    return 2;
  }
  state.served = modern::current().served;  // legacy: only with --bearer-token-file
  if (state.served != modern::era::modern) {
    char self[PATH_MAX];
    const ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) return 1;
    self[n] = '\0';
    state.legacy = legacy_server::start(self, legacy_args);
    if (!state.legacy) {
      std::fprintf(stderr, "mock-mcp-server: the legacy-era server did not start\n");
      return 1;
    }
  }
  asio::io_context io;
  boost::system::error_code ec;
  const auto ip = asio::ip::make_address(listen->host, ec);
  if (ec) {
    std::fprintf(stderr, "mock-mcp-server: cannot listen on %s: %s\n", addr.c_str(),
                 ec.message().c_str());
    if (state.legacy) state.legacy->stop();
    return 1;
  }
  tcp::acceptor acceptor(io);
  const tcp::endpoint at(ip, listen->port);
  acceptor.open(at.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(at, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    std::fprintf(stderr, "mock-mcp-server: cannot listen on %s: %s\n", addr.c_str(),
                 ec.message().c_str());
    if (state.legacy) state.legacy->stop();
    return 1;
  }
  state.loopback = ip.is_loopback();
  const auto port = acceptor.local_endpoint().port();
  const char* served = state.served == modern::era::dual     ? "dual"
                       : state.served == modern::era::legacy ? "legacy"
                                                             : "modern";
  std::fprintf(stderr, "mock-mcp-server (era %s) listening on http://%s:%u%s\n", served,
               listen->host.c_str(), port, std::string(endpoint_path).c_str());
  std::fflush(stderr);
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](auto, int) {
    acceptor.close();
    io.stop();
  });
  asio::co_spawn(io, accept_loop(acceptor), asio::detached);
  io.run();
  {
    std::lock_guard lock(sinks_mutex);
    sinks_open = false;
  }
  if (state.legacy) state.legacy->stop();
  return 0;
}

}  // namespace mock
