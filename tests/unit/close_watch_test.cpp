// frontend/close_watch over a loopback connection: a client's close is noticed while nothing is
// written, the bytes of a pipelined request are left for the connection's next read, and a
// stopped watch runs nothing.
#include "frontend/close_watch.hpp"

#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <chrono>
#include <string>

namespace mcp_proxy::frontend {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace std::chrono_literals;

struct connection {
  asio::io_context io;
  tcp::socket client{io}, server{io};

  connection() {
    tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    client.connect(acceptor.local_endpoint());
    acceptor.accept(server);
  }

  // Runs the loop until `done` or `limit`; whether `done`.
  bool run_until(const bool& done, std::chrono::milliseconds limit) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (!done && std::chrono::steady_clock::now() < end) {
      io.restart();
      io.run_for(10ms);
    }
    return done;
  }
};

TEST(close_watch, a_close_is_noticed_while_nothing_is_written) {
  connection c;
  close_watch watch(c.server);
  bool closed = false;
  watch.start([&] { closed = true; });
  EXPECT_FALSE(c.run_until(closed, 100ms));
  c.client.close();
  EXPECT_TRUE(c.run_until(closed, 2s));
  EXPECT_TRUE(watch.closed());
}

TEST(close_watch, a_pipelined_request_stays_in_the_socket_and_a_close_after_it_is_noticed) {
  connection c;
  close_watch watch(c.server);
  bool closed = false;
  watch.start([&] { closed = true; });
  const std::string next = "POST /mcp HTTP/1.1\r\nContent-Length: 0\r\n\r\n";
  asio::write(c.client, asio::buffer(next));
  EXPECT_FALSE(c.run_until(closed, 400ms));  // bytes are not a close
  c.client.shutdown(tcp::socket::shutdown_send);
  EXPECT_TRUE(c.run_until(closed, 2s));
  watch.stop();
  std::string got(next.size(), '\0');
  asio::read(c.server, asio::buffer(got));  // nothing of it was taken
  EXPECT_EQ(got, next);
}

TEST(close_watch, a_stopped_watch_runs_nothing) {
  connection c;
  bool closed = false;
  {
    close_watch watch(c.server);
    watch.start([&] { closed = true; });
    c.io.run_for(20ms);
    watch.stop();
    c.client.close();
    EXPECT_FALSE(c.run_until(closed, 300ms));
  }
  // The connection's own read may follow at once: it sees the close.
  char byte = 0;
  boost::system::error_code ec;
  c.server.read_some(asio::buffer(&byte, 1), ec);
  EXPECT_EQ(ec, asio::error::eof);
  EXPECT_FALSE(closed);
}

}  // namespace
}  // namespace mcp_proxy::frontend
