// Load client for an MCP server over Streamable HTTP, as a client sees it. Two modes:
//
// Calls (default): opens a session (initialize, notifications/initialized), then runs
// `--concurrency` keep-alive connections (one thread each, the one shared session), closed-loop:
// each sends `--warmup` untimed requests, all wait for each other, then each sends `--calls` timed
// sequential requests (tools/call of `--tool`, or any `--method` without params), or keeps sending
// for `--duration-s` seconds. Prints one JSON line:
//   calls        timed calls done (answered or failed)
//   errors       of those, the ones answered with a JSON-RPC error, an HTTP status other than 200,
//                no response, or that failed on the connection (timeout, reset); a failed
//                connection is opened again, one that fails 10 times in a row is given up
//   median_us (= p50_us), p90_us, p99_us, max_us   latency of the successful timed calls
//   header_p50_us  their median time to the answer's HTTP header (a server that writes the
//                  answer as it arrives sends its header first; one that gathers it, last)
//   hist         their count per log2 bucket of microseconds, {"<=16":n,"<=32":n,...}, from the
//                first non-empty bucket to the last
//   calls_per_s  successful timed calls per second of the timed phase (all connections at once)
// Exits 1 when no timed call succeeded. `--transport sse` speaks the legacy HTTP+SSE transport
// (spec 2024-11-05) instead: each connection opens a session of its own (a GET event stream, its
// POSTs on a second keep-alive connection), and a call is timed until its response arrives on
// the stream (parsing it included, to find it among the events).
//
// Sessions (`--sessions N`): establishes N sessions in turn on one keep-alive connection
// (initialize + notifications/initialized each, timed together) and keeps them open; prints one
// JSON line (sessions established, errors, establish_p50_us/p90_us/p99_us/max_us,
// sessions_per_s) as soon as the last one is done, waits `--hold-ms` (a script reads the
// server's memory meanwhile), then DELETEs them all (at most 60 s) and exits.
//
// Answers are read whole whatever their size (no body limit: `--tool big --arguments
// '{"bytes":10485760}'` works), as JSON or as an SSE stream whose events hold the response.
// bench/run_e2e.sh runs it against the mock directly and through the proxy; bench/run_fanout.sh
// times tools/list.
//
//   e2e_bench --url http://127.0.0.1:PORT/NAME/mcp [--calls 2000 | --duration-s S]
//             [--warmup 200] [--concurrency 1] [--method tools/call] [--tool echo]
//             [--arguments '{"text":"x"}'] [--timeout-s 60] [--transport sse]
//   e2e_bench --url URL --sessions N [--hold-ms M] [--timeout-s 60]

#include "jsonrpc/top_level_scan.hpp"
#include "protocol/sse.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <barrier>
#include <bit>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace json = boost::json;
using clock_type = std::chrono::steady_clock;
using boost::system::error_code;

namespace {

constexpr std::string_view protocol_version = "2025-11-25";
// A connection that fails this many times in a row is given up (the server is gone).
constexpr int max_consecutive_failures = 10;

struct options {
  std::string url;
  int calls = 2000;
  int warmup = 200;
  int concurrency = 1;
  std::string method = "tools/call";
  std::string tool = "echo";
  std::string arguments = R"({"text":"benchmark"})";
  int sessions = 0;
  int hold_ms = 0;
  double duration_s = 0;
  double timeout_s = 60;
  bool legacy_sse = false;  // --transport sse
};

struct endpoint {
  std::string host, port, target;
};

struct answer {
  unsigned status = 0;
  std::string content_type, session_id, body;
  clock_type::time_point header_at;  // when its header had come
};

// One TCP connection to the server, driven in turn: each operation runs the connection's own
// io_context until it completes, bounded by `timeout`.
class connection {
 protected:
  connection(const endpoint& ep, std::chrono::milliseconds timeout)
      : ep_(ep), timeout_(timeout), stream_(io_) {}

  // Connects (resolving the host the first time), with TCP_NODELAY.
  void open_connection(error_code& ec) {
    if (endpoints_.empty()) {
      asio::ip::tcp::resolver resolver(io_);
      endpoints_ = resolver.resolve(ep_.host, ep_.port, ec);
      if (ec) return;
    }
    stream_.expires_after(timeout_);
    stream_.async_connect(endpoints_, [&](error_code cec, const auto&) { ec = cec; });
    run();
    if (!ec) stream_.socket().set_option(asio::ip::tcp::no_delay(true), ec);
  }

  void close_connection() {
    error_code ignored;
    stream_.socket().close(ignored);
    buffer_.clear();
  }

  void run() {
    io_.restart();
    io_.run();
  }

  endpoint ep_;
  std::chrono::milliseconds timeout_;
  asio::io_context io_;
  beast::tcp_stream stream_;
  // Beast reads as much as the buffer has room for (at least 512 bytes), and the body parser
  // empties it as it goes: without room reserved, a 142 KB answer took 280 reads, which timed
  // this client rather than the server.
  beast::flat_buffer buffer_ = reserved_buffer();
  static beast::flat_buffer reserved_buffer() {
    beast::flat_buffer b;
    b.reserve(64 * 1024);
    return b;
  }
  asio::ip::tcp::resolver::results_type endpoints_;
};

// One keep-alive connection speaking Streamable HTTP. Each exchange is bounded by `timeout`;
// after a failed exchange, or an answer that closes the connection, the next one reconnects.
class client : connection {
 public:
  client(const endpoint& ep, std::chrono::milliseconds timeout) : connection(ep, timeout) {}

  // POSTs `body` (in `session` when not empty); the error is a transport failure.
  std::optional<answer> post(const std::string& body, std::string_view session, error_code& ec) {
    http::request<http::string_body> req{http::verb::post, ep_.target, 11};
    req.set(http::field::content_type, "application/json");
    req.set(http::field::accept, "application/json, text/event-stream");
    req.body() = body;
    return exchange(req, session, ec);
  }

  // Ends a session (spec: Session Management), so a per-client backend stops.
  std::optional<answer> end_session(std::string_view session, error_code& ec) {
    http::request<http::empty_body> req{http::verb::delete_, ep_.target, 11};
    return exchange(req, session, ec);
  }

 private:
  template <class Body>
  std::optional<answer> exchange(http::request<Body>& req, std::string_view session,
                                 error_code& ec) {
    ec = {};
    if (!connected_) connect(ec);
    if (ec) return std::nullopt;
    req.set(http::field::host, ep_.host + ":" + ep_.port);
    if (!session.empty()) {
      req.set("Mcp-Session-Id", session);
      req.set("MCP-Protocol-Version", protocol_version);
    }
    req.keep_alive(true);
    req.prepare_payload();
    http::response_parser<http::string_body> parser;
    parser.body_limit(boost::none);  // a 10 MB tool result is an answer like any other
    clock_type::time_point header_at;
    stream_.expires_after(timeout_);
    http::async_write(stream_, req, [&](error_code wec, std::size_t) {
      if (wec) {
        ec = wec;
        return;
      }
      http::async_read_header(stream_, buffer_, parser, [&](error_code hec, std::size_t) {
        header_at = clock_type::now();
        if (hec) {
          ec = hec;
          return;
        }
        http::async_read(stream_, buffer_, parser, [&](error_code rec, std::size_t) { ec = rec; });
      });
    });
    run();
    if (ec) {
      disconnect();
      return std::nullopt;
    }
    auto res = parser.release();
    if (!res.keep_alive()) disconnect();
    return answer{res.result_int(), std::string(res[http::field::content_type]),
                  std::string(res["Mcp-Session-Id"]), std::move(res.body()), header_at};
  }

  void connect(error_code& ec) {
    open_connection(ec);
    if (ec) return disconnect();
    connected_ = true;
  }

  void disconnect() {
    close_connection();
    connected_ = false;
  }

  bool connected_ = false;
};

endpoint parse_url(const std::string& url) {
  auto u = boost::urls::parse_uri(url);
  if (!u || u->scheme() != "http") throw std::runtime_error("--url must be an http URL");
  return {std::string(u->host_address()), u->has_port() ? std::string(u->port()) : "80",
          u->encoded_path().empty() ? "/" : std::string(u->encoded_path())};
}

std::string excerpt(std::string_view s) {
  return std::string(s.substr(0, 200)) + (s.size() > 200 ? "..." : "");
}

// Whether message `m` is the response to request `id`: nullopt when it is not (a notification,
// a request, a priming event), empty when it is a result, else what went wrong.
// Only its top level is read (jsonrpc::scan_top_level, no tree built): the benchmark times the
// proxy, not the client's JSON parser, which took 0.5-1 ms for a merged list of 768 tools (142
// KB), more than the proxy's part of that round trip. The conformance tests check the JSON.
std::optional<std::string> check_message(std::string_view m, std::int64_t id) {
  if (m.find_first_not_of(" \t\r\n") == std::string_view::npos) return std::nullopt;
  const auto top = mcp_proxy::jsonrpc::scan_top_level(m);
  if (!top) return "not JSON: " + excerpt(m);
  if (!top->id || *top->id != std::to_string(id)) return std::nullopt;
  if (top->has_error) return "error: " + excerpt(m);
  if (top->has_result) return std::string();
  return "a response with neither result nor error: " + excerpt(m);
}

// What went wrong with the answer to request `id`; empty when it is a result. The answer is JSON,
// or an SSE stream of messages (notifications, requests) ending with the response.
std::string check_answer(const answer& a, std::int64_t id) {
  if (a.status != 200) return "HTTP " + std::to_string(a.status) + ": " + excerpt(a.body);
  std::vector<std::string> messages;
  if (a.content_type.starts_with("text/event-stream")) {
    mcp_proxy::protocol::sse_decoder decoder;
    auto events = decoder.feed(a.body);
    if (auto tail = decoder.feed("\n\n"); events && tail)  // an unterminated last event
      events->insert(events->end(), tail->begin(), tail->end());
    if (!events) return "malformed SSE stream";
    for (auto& e : *events) messages.push_back(std::move(e.data));
  } else {
    messages.push_back(a.body);
  }
  for (const auto& m : messages)
    if (auto verdict = check_message(m, id)) return *verdict;
  return "no response in the answer: " + excerpt(a.body);
}

std::int64_t percentile(std::vector<std::int64_t>& v, double p) {
  const auto k = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

// Counts per log2 bucket ("<=16" holds 0..16 µs, "<=32" 17..32, ...), first to last non-empty.
json::object histogram(const std::vector<std::int64_t>& v) {
  std::vector<std::int64_t> counts(64);
  for (auto us : v) {
    const auto b = us <= 16 ? 4 : std::bit_width(static_cast<std::uint64_t>(us - 1));
    ++counts[static_cast<std::size_t>(b)];
  }
  json::object out;
  const auto first = std::find_if(counts.begin(), counts.end(), [](auto c) { return c > 0; });
  const auto last = std::find_if(counts.rbegin(), counts.rend(), [](auto c) { return c > 0; });
  if (first == counts.end()) return out;
  for (auto it = first; it != last.base(); ++it)
    out["<=" + std::to_string(std::uint64_t{1} << (it - counts.begin()))] = *it;
  return out;
}

std::int64_t micros_since(clock_type::time_point start) {
  return std::chrono::duration_cast<std::chrono::microseconds>(clock_type::now() - start).count();
}

std::string initialize_body(std::int64_t id) {
  return R"({"jsonrpc":"2.0","id":)" + std::to_string(id) +
         R"(,"method":"initialize","params":{"protocolVersion":")" + std::string(protocol_version) +
         R"(","capabilities":{},"clientInfo":{"name":"e2e_bench","version":"1"}}})";
}

// initialize + notifications/initialized; the session id, or what went wrong (`session` may be
// set then too: a session to end).
std::string open_session(client& c, std::int64_t id, std::string& session) {
  error_code ec;
  auto init = c.post(initialize_body(id), {}, ec);
  if (!init) return "initialize: " + ec.message();
  session = init->session_id;
  if (auto problem = check_answer(*init, id); !problem.empty()) return "initialize: " + problem;
  if (session.empty()) return "initialize: no Mcp-Session-Id";
  auto ack = c.post(R"({"jsonrpc":"2.0","method":"notifications/initialized"})", session, ec);
  if (!ack) return "notifications/initialized: " + ec.message();
  if (ack->status / 100 != 2)
    return "notifications/initialized: HTTP " + std::to_string(ack->status) + ": " +
           excerpt(ack->body);
  return {};
}

// A legacy HTTP+SSE session (spec 2024-11-05, `--sse`): a GET on the URL opens an event stream
// on a connection of its own, whose first event (`endpoint`) names where to POST; the answers
// come back as `message` events on the stream. The POSTs share one keep-alive connection. After
// a transport failure the session is closed; the next call opens a new one.
class legacy_session : connection {
 public:
  legacy_session(const endpoint& ep, std::chrono::milliseconds timeout) : connection(ep, timeout) {}
  legacy_session(const legacy_session&) = delete;
  legacy_session& operator=(const legacy_session&) = delete;

  // Sends `body` (a notification when `id` is nullopt) and, for a request, waits on the stream
  // for its response: false on a transport failure (`problem` says which); else `problem` is
  // empty when the response is a result, or says what it was.
  bool call(const std::string& body, std::optional<std::int64_t> id, std::string& problem) {
    auto fail = [&](std::string what) {
      problem = std::move(what);
      close();
      return false;
    };
    problem.clear();
    if (!poster_) {
      if (auto opened = open(); !opened.empty()) return fail(std::move(opened));
    }
    error_code ec;
    auto res = poster_->post(body, {}, ec);
    if (!res) return fail("POST: " + ec.message());
    if (res->status / 100 != 2) {
      problem = "POST: HTTP " + std::to_string(res->status) + ": " + excerpt(res->body);
      return true;
    }
    if (!id) return true;
    for (;;) {
      auto data = next_message(ec);
      if (!data) return fail("event stream: " + ec.message());
      if (auto verdict = check_message(*data, *id)) {
        problem = std::move(*verdict);
        return true;
      }
    }
  }

  ~legacy_session() { close(); }

 private:
  // Opens the stream, reads its endpoint, and initializes the session; what went wrong.
  std::string open() {
    error_code ec;
    open_connection(ec);
    if (ec) return "connect: " + ec.message();
    http::request<http::empty_body> req{http::verb::get, ep_.target, 11};
    req.set(http::field::host, ep_.host + ":" + ep_.port);
    req.set(http::field::accept, "text/event-stream");
    parser_.emplace();
    parser_->body_limit(boost::none);
    stream_.expires_after(timeout_);
    http::async_write(stream_, req, [&](error_code wec, std::size_t) {
      if (wec) {
        ec = wec;
        return;
      }
      http::async_read_header(stream_, buffer_, *parser_,
                              [&](error_code rec, std::size_t) { ec = rec; });
    });
    run();
    if (ec) return "GET: " + ec.message();
    if (parser_->get().result_int() != 200)
      return "GET: HTTP " + std::to_string(parser_->get().result_int());
    std::string where;
    for (;;) {  // the endpoint event comes first; messages before it would have no request
      auto e = next_event(ec);
      if (!e) return "no endpoint event: " + ec.message();
      if (e->type == "endpoint") {
        where = std::move(e->data);
        break;
      }
    }
    endpoint post_ep = ep_;
    if (where.starts_with("http://")) {
      post_ep = parse_url(where);
    } else if (where.starts_with("/")) {
      post_ep.target = where;
    } else {
      return "an endpoint that is neither absolute nor a path: " + excerpt(where);
    }
    poster_.emplace(post_ep, timeout_);
    std::string problem;
    if (!call(initialize_body(0), 0, problem) || !problem.empty()) return "initialize: " + problem;
    if (!call(R"({"jsonrpc":"2.0","method":"notifications/initialized"})", std::nullopt, problem) ||
        !problem.empty())
      return "notifications/initialized: " + problem;
    return {};
  }

  // The data of the next `message` event on the stream.
  std::optional<std::string> next_message(error_code& ec) {
    for (;;) {
      auto e = next_event(ec);
      if (!e) return std::nullopt;
      if (e->type == "message") return std::move(e->data);
    }
  }

  std::optional<mcp_proxy::protocol::sse_event> next_event(error_code& ec) {
    while (events_.empty()) {
      if (parser_->is_done()) {
        ec = http::error::end_of_stream;
        return std::nullopt;
      }
      char chunk[16384];
      parser_->get().body().data = chunk;
      parser_->get().body().size = sizeof chunk;
      stream_.expires_after(timeout_);
      http::async_read_some(stream_, buffer_, *parser_,
                            [&](error_code rec, std::size_t) { ec = rec; });
      run();
      if (ec == http::error::need_buffer) ec = {};
      if (ec) return std::nullopt;
      const auto n = sizeof chunk - parser_->get().body().size;
      auto events = decoder_.feed(std::string_view(chunk, n));
      if (!events) {
        ec = http::error::bad_chunk;
        return std::nullopt;
      }
      for (auto& e : *events) events_.push_back(std::move(e));
    }
    auto e = std::move(events_.front());
    events_.erase(events_.begin());
    return e;
  }

  void close() {
    close_connection();  // ends the session (the server sees the stream close)
    events_.clear();
    decoder_ = mcp_proxy::protocol::sse_decoder();
    parser_.reset();
    poster_.reset();
  }

  std::optional<http::response_parser<http::buffer_body>> parser_;
  mcp_proxy::protocol::sse_decoder decoder_;
  std::vector<mcp_proxy::protocol::sse_event> events_;
  std::optional<client> poster_;
};

int run_sessions(const options& opt, const endpoint& ep, std::chrono::milliseconds timeout) {
  client c(ep, timeout);
  std::vector<std::string> open;  // every session id handed out, to end
  std::vector<std::int64_t> latencies;
  std::int64_t errors = 0;
  std::string first_error;
  int failures_in_a_row = 0;
  const auto started = clock_type::now();
  for (int i = 0; i < opt.sessions && failures_in_a_row < max_consecutive_failures; ++i) {
    std::string session;
    const auto start = clock_type::now();
    auto problem = open_session(c, i, session);
    const auto us = micros_since(start);
    if (!session.empty()) open.push_back(session);
    if (problem.empty()) {
      latencies.push_back(us);
      failures_in_a_row = 0;
    } else {
      ++errors;
      ++failures_in_a_row;
      if (first_error.empty()) first_error = problem;
    }
  }
  const double seconds = std::chrono::duration<double>(clock_type::now() - started).count();
  if (!first_error.empty())
    std::cerr << "e2e_bench: " << errors << " sessions failed, the first: " << first_error << "\n";
  if (!latencies.empty()) {
    const auto n = latencies.size();
    json::object out{
        {"url", opt.url},
        {"sessions", n},
        {"errors", errors},
        {"establish_p50_us", percentile(latencies, 0.5)},
        {"establish_p90_us", percentile(latencies, 0.9)},
        {"establish_p99_us", percentile(latencies, 0.99)},
        {"establish_max_us", *std::max_element(latencies.begin(), latencies.end())},
        {"sessions_per_s", static_cast<std::int64_t>(static_cast<double>(n) / seconds)}};
    std::cout << json::serialize(out) << std::endl;
  }
  if (opt.hold_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(opt.hold_ms));

  // End them all, within a bound: a server slow to stop per-client backends must not hang us.
  const auto deadline = clock_type::now() + std::chrono::seconds(60);
  std::size_t ended = 0;
  failures_in_a_row = 0;
  for (const auto& s : open) {
    if (clock_type::now() >= deadline || failures_in_a_row >= max_consecutive_failures) break;
    error_code ec;
    auto res = c.end_session(s, ec);
    if (res && res->status / 100 == 2) {
      ++ended;
      failures_in_a_row = 0;
    } else {
      ++failures_in_a_row;
    }
  }
  if (ended < open.size())
    std::cerr << "e2e_bench: ended " << ended << " of " << open.size() << " sessions\n";
  return latencies.empty() ? 1 : 0;
}

// What one connection saw.
struct tally {
  std::vector<std::int64_t> latencies;         // successful timed calls
  std::vector<std::int64_t> header_latencies;  // to their header (not over legacy SSE)
  std::int64_t calls = 0, errors = 0, warmup_errors = 0;
  std::string first_error;
  bool given_up = false;
};

int run_calls(const options& opt, const endpoint& ep, std::chrono::milliseconds timeout) {
  // Streamable HTTP: one session shared by every connection; legacy SSE: a session each.
  client opener(ep, timeout);
  std::string session;
  if (opt.legacy_sse) {
    legacy_session probe(ep, timeout);  // fails early, as the shared session does
    std::string problem;
    probe.call(R"({"jsonrpc":"2.0","id":1,"method":"ping"})", 1, problem);
    if (!problem.empty()) {
      std::cerr << "e2e_bench: " << problem << "\n";
      return 1;
    }
  } else if (auto problem = open_session(opener, 0, session); !problem.empty()) {
    std::cerr << "e2e_bench: " << problem << "\n";
    return 1;
  }
  const json::value args = json::parse(opt.arguments);

  std::mutex m;
  tally total;
  // Timing starts when every connection is warm: the completion runs before any is released.
  clock_type::time_point timed_start;
  std::barrier warm(opt.concurrency, [&]() noexcept { timed_start = clock_type::now(); });
  const auto duration = std::chrono::duration_cast<clock_type::duration>(
      std::chrono::duration<double>(opt.duration_s));
  auto worker = [&](std::int64_t index) {
    client c(ep, timeout);
    std::optional<legacy_session> legacy;
    if (opt.legacy_sse) legacy.emplace(ep, timeout);
    tally mine;
    if (opt.duration_s <= 0) mine.latencies.reserve(static_cast<std::size_t>(opt.calls));
    int failures_in_a_row = 0;
    // One call; false when the connection is given up.
    auto call = [&](std::int64_t i, bool timed) {
      const std::int64_t id = index * 1'000'000'000 + i;
      json::object request{{"jsonrpc", "2.0"}, {"id", id}, {"method", opt.method}};
      if (opt.method == "tools/call")
        request["params"] = json::object{{"name", opt.tool}, {"arguments", args}};
      const std::string body = json::serialize(request);
      error_code ec;
      const auto start = clock_type::now();
      std::string problem;
      std::optional<answer> res;
      // A legacy session reads the stream up to the response: that includes parsing it.
      bool delivered =
          legacy ? legacy->call(body, id, problem) : (res = c.post(body, session, ec)).has_value();
      const auto us = micros_since(start);
      if (!legacy) problem = res ? check_answer(*res, id) : "connection: " + ec.message();
      failures_in_a_row = delivered ? 0 : failures_in_a_row + 1;
      if (timed) ++mine.calls;
      if (problem.empty()) {
        if (timed) mine.latencies.push_back(us);
        if (timed && res)
          mine.header_latencies.push_back(
              std::chrono::duration_cast<std::chrono::microseconds>(res->header_at - start)
                  .count());
      } else {
        ++(timed ? mine.errors : mine.warmup_errors);
        if (mine.first_error.empty()) mine.first_error = std::move(problem);
      }
      mine.given_up = failures_in_a_row >= max_consecutive_failures;
      return !mine.given_up;
    };
    bool going = true;
    for (int i = 0; going && i < opt.warmup; ++i) going = call(i, false);
    if (!going) {
      warm.arrive_and_drop();
    } else {
      warm.arrive_and_wait();
      const auto deadline = timed_start + duration;
      for (std::int64_t i = opt.warmup; going; ++i) {
        if (opt.duration_s > 0 ? clock_type::now() >= deadline : i >= opt.warmup + opt.calls) break;
        going = call(i, true);
      }
    }
    std::lock_guard lock(m);
    total.latencies.insert(total.latencies.end(), mine.latencies.begin(), mine.latencies.end());
    total.header_latencies.insert(total.header_latencies.end(), mine.header_latencies.begin(),
                                  mine.header_latencies.end());
    total.calls += mine.calls;
    total.errors += mine.errors;
    total.warmup_errors += mine.warmup_errors;
    if (total.first_error.empty()) total.first_error = std::move(mine.first_error);
    if (mine.given_up) total.given_up = true;
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < opt.concurrency; ++t) threads.emplace_back(worker, t);
  for (auto& t : threads) t.join();
  const double seconds = std::chrono::duration<double>(clock_type::now() - timed_start).count();
  error_code ignored;
  if (!opt.legacy_sse) opener.end_session(session, ignored);

  if (total.errors + total.warmup_errors > 0)
    std::cerr << "e2e_bench: " << total.errors << " timed and " << total.warmup_errors
              << " warm-up calls failed" << (total.given_up ? " (a connection was given up)" : "")
              << ", the first: " << total.first_error << "\n";
  auto& all = total.latencies;
  if (all.empty()) {
    std::cerr << "e2e_bench: no timed call succeeded\n";
    return 1;
  }
  const auto n = all.size();
  json::object out{{"url", opt.url},
                   {"calls", total.calls},
                   {"errors", total.errors},
                   {"concurrency", opt.concurrency},
                   {"median_us", percentile(all, 0.5)},
                   {"p50_us", percentile(all, 0.5)},
                   {"p90_us", percentile(all, 0.9)},
                   {"p99_us", percentile(all, 0.99)},
                   {"max_us", *std::max_element(all.begin(), all.end())},
                   {"calls_per_s", static_cast<std::int64_t>(static_cast<double>(n) / seconds)},
                   {"hist", histogram(all)}};
  if (!total.header_latencies.empty())
    out["header_p50_us"] = percentile(total.header_latencies, 0.5);
  std::cout << json::serialize(out) << std::endl;
  return 0;
}

constexpr std::string_view usage = R"(Usage:
  e2e_bench --url URL [--calls N | --duration-s S] [--warmup N] [--concurrency N]
            [--method METHOD] [--tool NAME] [--arguments JSON] [--timeout-s S]
            [--transport streamable-http|sse]
  e2e_bench --url URL --sessions N [--hold-ms M] [--timeout-s S]

A load client for an MCP server over Streamable HTTP. Prints one JSON line of results (calls,
errors, median_us, p90_us, p99_us, max_us, hist, calls_per_s; or, with --sessions, the time to
establish each session).

  --url URL          the server's Streamable HTTP endpoint (http only)
  --calls N          timed sequential calls per connection (default 2000)
  --duration-s S     instead of --calls: keep calling for S seconds
  --warmup N         untimed calls per connection first (default 200)
  --concurrency N    keep-alive connections, one thread each, sharing one session (default 1)
  --method METHOD    the request's method (default tools/call; another is sent without params)
  --tool NAME        with tools/call: the tool (default echo)
  --arguments JSON   with tools/call: its arguments (default {"text":"benchmark"})
  --timeout-s S      the deadline of each HTTP exchange, in seconds (default 60)
  --transport T      streamable-http (default), or sse: the legacy HTTP+SSE transport (GET the
                     URL for an event stream, POST to its endpoint); each connection opens a
                     session of its own (not with --sessions)
  --sessions N       establish N sessions in turn on one connection instead of calling
  --hold-ms M        with --sessions: keep them open M ms before deleting them
  -h, --help         print this help and exit

Exit status: 0, 1 when no timed call succeeded, 2 for a bad option.
)";

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i)
    if (std::string_view(argv[i]) == "--help" || std::string_view(argv[i]) == "-h") {
      std::cout << usage;
      return 0;
    }
  options opt;
  try {
    for (int i = 1; i + 1 < argc; i += 2) {
      std::string k = argv[i], v = argv[i + 1];
      if (k == "--url")
        opt.url = v;
      else if (k == "--calls")
        opt.calls = std::stoi(v);
      else if (k == "--warmup")
        opt.warmup = std::stoi(v);
      else if (k == "--concurrency")
        opt.concurrency = std::stoi(v);
      else if (k == "--method")
        opt.method = v;
      else if (k == "--tool")
        opt.tool = v;
      else if (k == "--arguments")
        opt.arguments = v;
      else if (k == "--sessions")
        opt.sessions = std::stoi(v);
      else if (k == "--hold-ms")
        opt.hold_ms = std::stoi(v);
      else if (k == "--duration-s")
        opt.duration_s = std::stod(v);
      else if (k == "--timeout-s")
        opt.timeout_s = std::stod(v);
      else if (k == "--transport" && (v == "sse" || v == "streamable-http"))
        opt.legacy_sse = v == "sse";
      else {
        std::cerr << "e2e_bench: unknown option " << k << " (see --help)\n";
        return 2;
      }
    }
    if (argc % 2 == 0) throw std::invalid_argument(std::string(argv[argc - 1]) + " needs a value");
  } catch (const std::exception& e) {
    std::cerr << "e2e_bench: bad option: " << e.what() << "\n";
    return 2;
  }
  if (opt.url.empty() || opt.calls < 1 || opt.warmup < 0 || opt.concurrency < 1 ||
      opt.sessions < 0 || opt.hold_ms < 0 || opt.duration_s < 0 || opt.timeout_s <= 0 ||
      (opt.legacy_sse && opt.sessions > 0)) {
    std::cerr << usage;
    return 2;
  }
  try {
    const endpoint ep = parse_url(opt.url);
    const auto timeout = std::chrono::milliseconds(static_cast<std::int64_t>(opt.timeout_s * 1000));
    return opt.sessions > 0 ? run_sessions(opt, ep, timeout) : run_calls(opt, ep, timeout);
  } catch (const std::exception& e) {
    std::cerr << "e2e_bench: " << e.what() << "\n";
    return 1;
  }
}
