// End-to-end latency of an MCP server over Streamable HTTP, as a client sees it: opens a session
// (initialize, notifications/initialized), then times `--calls` sequential requests (tools/call of
// `--tool`, or any `--method` without params) on each of `--concurrency` keep-alive connections
// (one thread each, one shared session) after `--warmup` untimed ones. Prints one JSON line: the
// latency median/p90/p99 in microseconds and the calls per second. bench/run_e2e.sh runs it
// against the mock directly and through the proxy; bench/run_fanout.sh times tools/list.
//
//   e2e_bench --url http://127.0.0.1:PORT/NAME/mcp [--calls 2000] [--warmup 200]
//             [--concurrency 1] [--method tools/call] [--tool echo] [--arguments '{"text":"x"}']

#include "jsonrpc/message.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace json = boost::json;
using clock_type = std::chrono::steady_clock;

namespace {

struct options {
  std::string url;
  int calls = 2000;
  int warmup = 200;
  int concurrency = 1;
  std::string method = "tools/call";
  std::string tool = "echo";
  std::string arguments = R"({"text":"benchmark"})";
};

struct endpoint {
  std::string host, port, target;
};

// One keep-alive connection speaking Streamable HTTP.
class client {
 public:
  explicit client(const endpoint& ep) : ep_(ep), stream_(io_) {
    asio::ip::tcp::resolver resolver(io_);
    stream_.connect(resolver.resolve(ep.host, ep.port));
    stream_.socket().set_option(asio::ip::tcp::no_delay(true));
  }

  // POSTs `body`; returns the answer body (JSON, or the data of the SSE events) and the headers.
  http::response<http::string_body> post(const std::string& body) {
    http::request<http::string_body> req{http::verb::post, ep_.target, 11};
    req.set(http::field::host, ep_.host + ":" + ep_.port);
    req.set(http::field::content_type, "application/json");
    req.set(http::field::accept, "application/json, text/event-stream");
    if (!session_.empty()) req.set("Mcp-Session-Id", session_);
    if (!version_.empty()) req.set("MCP-Protocol-Version", version_);
    req.keep_alive(true);
    req.body() = body;
    req.prepare_payload();
    http::write(stream_, req);
    http::response<http::string_body> res;
    http::read(stream_, buffer_, res);
    if (res.result_int() >= 300)
      throw std::runtime_error("HTTP " + std::to_string(res.result_int()) + ": " + res.body());
    return res;
  }

  // Ends the session (spec: Session Management), so a per-client backend stops.
  void end_session() {
    http::request<http::empty_body> req{http::verb::delete_, ep_.target, 11};
    req.set(http::field::host, ep_.host + ":" + ep_.port);
    req.set("Mcp-Session-Id", session_);
    http::write(stream_, req);
    http::response<http::string_body> res;
    http::read(stream_, buffer_, res);
  }

  void set_session(std::string id, std::string version) {
    session_ = std::move(id);
    version_ = std::move(version);
  }

 private:
  endpoint ep_;
  asio::io_context io_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::string session_, version_;
};

endpoint parse_url(const std::string& url) {
  auto u = boost::urls::parse_uri(url);
  if (!u || u->scheme() != "http") throw std::runtime_error("--url must be an http URL");
  return {std::string(u->host_address()), u->has_port() ? std::string(u->port()) : "80",
          u->encoded_path().empty() ? "/" : std::string(u->encoded_path())};
}

std::int64_t percentile(std::vector<std::int64_t>& v, double p) {
  const auto k = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

}  // namespace

int main(int argc, char** argv) {
  options opt;
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
    else {
      std::cerr << "e2e_bench: unknown option " << k << "\n";
      return 2;
    }
  }
  if (opt.url.empty() || opt.calls < 1 || opt.concurrency < 1) {
    std::cerr << "usage: e2e_bench --url URL [--calls N] [--warmup N] [--concurrency N] "
                 "[--method METHOD] [--tool NAME] [--arguments JSON]\n";
    return 2;
  }
  try {
    const endpoint ep = parse_url(opt.url);
    client opener(ep);
    auto init = opener.post(
        R"({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"e2e_bench","version":"1"}}})");
    const std::string session(init["Mcp-Session-Id"]);
    const std::string version = "2025-11-25";
    opener.set_session(session, version);
    opener.post(R"({"jsonrpc":"2.0","method":"notifications/initialized"})");

    const json::value args = json::parse(opt.arguments);
    std::mutex m;
    std::vector<std::int64_t> all;
    std::vector<std::string> errors;
    auto worker = [&](int index) {
      try {
        client c(ep);
        c.set_session(session, version);
        std::vector<std::int64_t> mine;
        mine.reserve(static_cast<std::size_t>(opt.calls));
        for (int i = 0; i < opt.warmup + opt.calls; ++i) {
          json::object request{
              {"jsonrpc", "2.0"}, {"id", index * 1000000 + i}, {"method", opt.method}};
          if (opt.method == "tools/call")
            request["params"] = json::object{{"name", opt.tool}, {"arguments", args}};
          const std::string body = json::serialize(request);
          const auto start = clock_type::now();
          auto res = c.post(body);
          const auto us =
              std::chrono::duration_cast<std::chrono::microseconds>(clock_type::now() - start)
                  .count();
          if (res.body().find("\"result\"") == std::string::npos)
            throw std::runtime_error("not a result: " + res.body().substr(0, 200));
          if (i >= opt.warmup) mine.push_back(us);
        }
        std::lock_guard lock(m);
        all.insert(all.end(), mine.begin(), mine.end());
      } catch (const std::exception& e) {
        std::lock_guard lock(m);
        errors.push_back(e.what());
      }
    };
    const auto started = clock_type::now();
    std::vector<std::thread> threads;
    for (int t = 0; t < opt.concurrency; ++t) threads.emplace_back(worker, t);
    for (auto& t : threads) t.join();
    const double seconds = std::chrono::duration<double>(clock_type::now() - started).count();
    opener.end_session();
    if (!errors.empty()) {
      std::cerr << "e2e_bench: " << errors.front() << "\n";
      return 1;
    }
    const auto n = all.size();
    json::object out{
        {"url", opt.url},
        {"calls", n},
        {"concurrency", opt.concurrency},
        {"median_us", percentile(all, 0.5)},
        {"p90_us", percentile(all, 0.9)},
        {"p99_us", percentile(all, 0.99)},
        {"calls_per_s",
         static_cast<std::int64_t>(
             static_cast<double>(n + static_cast<std::size_t>(opt.warmup * opt.concurrency)) /
             seconds)}};
    std::cout << json::serialize(out) << std::endl;
  } catch (const std::exception& e) {
    std::cerr << "e2e_bench: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
