// transport::stdio_child on its own: what a started backend process inherits from the proxy.

#include "transport/stdio_child.hpp"

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <set>
#include <string>

namespace asio = boost::asio;
using mcp_proxy::transport::stdio_child;
using mcp_proxy::transport::stdio_child_options;

namespace {

// The descriptor numbers the shell started as the child holds, one per line.
std::set<int> descriptors_of_a_child() {
  asio::io_context io;
  stdio_child_options o;
  o.name = "fd-lister";
  o.command = "/bin/sh";
  // Reads its own /proc entry: $$ is the shell, not the `ls` it runs.
  o.args = {"-c", "ls /proc/$$/fd"};
  auto child = stdio_child::spawn(io.get_executor(), o);
  EXPECT_TRUE(child) << (child ? "" : child.error().message);
  std::set<int> fds;
  if (!child) return fds;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        while (auto line = co_await (*child)->receive()) fds.insert(std::stoi(line->text));
      },
      asio::detached);
  io.run_for(std::chrono::seconds(20));
  return fds;
}

}  // namespace

// A child that held a copy of a client or backend connection kept it open after the proxy
// closed it: no FIN reached the peer, which then wrote its next request into a connection
// nobody read (the official suite's idle streamable-http failure, issue #15 point 11).
TEST(stdio_child, a_child_holds_none_of_the_parents_descriptors) {
  int sockets[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, sockets), 0);  // no SOCK_CLOEXEC, like Asio's
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  const auto fds = descriptors_of_a_child();
  EXPECT_TRUE(fds.contains(0) && fds.contains(1) && fds.contains(2));
  for (int fd : {sockets[0], sockets[1], pipe_fds[0], pipe_fds[1]})
    EXPECT_FALSE(fds.contains(fd)) << "the child inherited descriptor " << fd;
  for (int fd : {sockets[0], sockets[1], pipe_fds[0], pipe_fds[1]}) ::close(fd);
}

// Boost.Process tells the io_context it launches on about the fork, and Asio's resolver then
// stops its thread: a lookup queued at that moment was never answered, so an HTTP backend
// connecting while a stdio one started waited for its whole timeout.
TEST(stdio_child, a_start_does_not_stall_name_lookups_in_flight) {
  asio::io_context io;
  asio::ip::tcp::resolver resolver(io);
  constexpr int lookups = 8;  // one thread serves them in turn: some are still queued
  int answered = 0;
  for (int i = 0; i < lookups; ++i)
    resolver.async_resolve("127.0.0.1", "80", [&](auto ec, auto) { answered += !ec; });
  stdio_child_options o;
  o.name = "true";
  o.command = "/bin/true";
  auto child = stdio_child::spawn(io.get_executor(), o);
  ASSERT_TRUE(child) << child.error().message;
  for (int i = 0; i < 100 && answered < lookups; ++i) io.run_for(std::chrono::milliseconds(50));
  EXPECT_EQ(answered, lookups);
}
