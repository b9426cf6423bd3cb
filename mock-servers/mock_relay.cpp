#include "mock_relay.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http.hpp>

#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;

namespace mock {

namespace {
constexpr auto start_limit = std::chrono::seconds(30);  // an ASan build starts slowly
constexpr auto stop_limit = std::chrono::seconds(5);
}  // namespace

std::optional<legacy_server> legacy_server::start(const char* self, std::vector<std::string> args) {
  args.insert(args.begin(), self);
  args.push_back("--http");
  args.push_back("127.0.0.1:0");
  int err[2];
  if (::pipe(err) != 0) return std::nullopt;
  const pid_t pid = ::fork();
  if (pid < 0) return std::nullopt;
  if (pid == 0) {
    ::dup2(err[1], 2);
    ::close(err[0]);
    ::close(err[1]);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(self, argv.data());
    std::_Exit(127);
  }
  ::close(err[1]);
  legacy_server server;
  server.pid_ = pid;
  // Its log line "... listening on http://127.0.0.1:PORT" names the port (port 0 was asked).
  FILE* in = ::fdopen(err[0], "r");
  constexpr std::string_view listening = "listening on http://127.0.0.1:";
  const auto deadline = std::chrono::steady_clock::now() + start_limit;
  char line[4096];
  std::optional<std::uint16_t> port;
  while (!port && std::chrono::steady_clock::now() < deadline &&
         std::fgets(line, sizeof line, in)) {
    // Not copied: its "listening on" line would be taken for this process's own.
    const std::string_view text = line;
    if (const auto at = text.find(listening); at != std::string_view::npos)
      port = static_cast<std::uint16_t>(std::atoi(line + at + listening.size()));
  }
  if (!port) {
    std::fclose(in);
    server.stop();
    return std::nullopt;
  }
  // The rest of its log goes on to ours, until it exits.
  std::thread([in] {
    char buf[4096];
    while (std::fgets(buf, sizeof buf, in)) std::fputs(buf, stderr);
    std::fclose(in);
  }).detach();
  server.endpoint_ = tcp::endpoint(asio::ip::make_address_v4("127.0.0.1"), *port);
  return server;
}

void legacy_server::stop() {
  if (pid_ <= 0) return;
  for (int sig : {SIGTERM, SIGKILL}) {
    ::kill(pid_, sig);
    const auto deadline = std::chrono::steady_clock::now() + stop_limit;
    while (std::chrono::steady_clock::now() < deadline) {
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

asio::awaitable<void> wait_for_close(tcp::socket& s, bool& closed) {
  auto [ec] = co_await s.async_wait(tcp::socket::wait_read, asio::as_tuple(asio::use_awaitable));
  char c;
  const auto n = ec ? 0 : ::recv(s.native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n <= 0) {
    closed = true;
    co_return;
  }
  // The client sent more (a pipelined request): not a close; wait until cancelled.
  asio::steady_timer forever(co_await asio::this_coro::executor,
                             asio::steady_timer::time_point::max());
  co_await forever.async_wait(asio::as_tuple(asio::use_awaitable));
}

namespace {

// Copies the response from `up` to `client` byte for byte as it arrives, until the legacy server
// closes the connection (it was asked to, so the end of the response needs no parsing).
asio::awaitable<void> copy_response(tcp::socket& up, beast::tcp_stream& client) {
  char chunk[16384];
  for (;;) {
    auto [ec, n] =
        co_await up.async_read_some(asio::buffer(chunk), asio::as_tuple(asio::use_awaitable));
    if (n > 0) {
      auto [wec, w] = co_await asio::async_write(client.socket(), asio::buffer(chunk, n),
                                                 asio::as_tuple(asio::use_awaitable));
      if (wec) co_return;
    }
    if (ec) co_return;
  }
}

}  // namespace

asio::awaitable<bool> relay(beast::tcp_stream& client, const http::request<http::string_body>& req,
                            tcp::endpoint to) {
  tcp::socket up(co_await asio::this_coro::executor);
  auto [ec] = co_await up.async_connect(to, asio::as_tuple(asio::use_awaitable));
  if (!ec) {
    auto once = req;  // one request per relayed connection: its end is the response's end
    once.keep_alive(false);
    auto [wec, n] = co_await http::async_write(up, once, asio::as_tuple(asio::use_awaitable));
    ec = wec;
  }
  if (ec) {
    http::response<http::string_body> res{http::status::bad_gateway, req.version()};
    res.set(http::field::content_type, "text/plain");
    res.body() = "mock-mcp-server: the legacy side is not reachable\n";
    res.prepare_payload();
    co_await http::async_write(client, res, asio::as_tuple(asio::use_awaitable));
    co_return false;
  }
  // Until the response ends, or the client goes away (the relayed connection is then closed).
  bool closed = false;
  co_await (copy_response(up, client) || wait_for_close(client.socket(), closed));
  co_return false;  // the response ended with the relayed connection: so does the client's
}

}  // namespace mock
