#pragma once
// Notices, while the proxy has nothing to write, that the client of an HTTP connection closed
// it (spec 2026-07-28 basic/transports/streamable-http, cancellation: closing the response
// stream cancels the request; otherwise a close is seen only at the next write).
// It reads nothing: it waits for the socket to be readable, then poll(2) tells a close
// (POLLRDHUP: the client's FIN, POLLHUP, POLLERR) from the bytes of a pipelined request, which
// stay in the socket for the connection's next read; while such bytes wait there, the
// connection is looked at again every 250 ms instead. A client that half-closes its side
// (shutdown(SHUT_WR)) counts as closed.
// Thread-safety: the connection's executor. Cancellation: stop() (also the destructor) ends the
// watch at once: on_close never runs after it, and the socket has no operation of the watch
// pending, so the connection's next read may start.

#include <boost/asio/ip/tcp.hpp>

#include <functional>
#include <memory>

namespace mcp_proxy::frontend {

class close_watch {
 public:
  explicit close_watch(boost::asio::ip::tcp::socket& socket);
  ~close_watch();
  close_watch(const close_watch&) = delete;
  close_watch& operator=(const close_watch&) = delete;

  // Starts watching (once); `on_close` runs on the executor, at most once, when the client
  // closed the connection.
  void start(std::function<void()> on_close);
  void stop();
  // The client closed the connection (on_close ran).
  bool closed() const;

  struct state;

 private:
  std::shared_ptr<state> state_;
};

}  // namespace mcp_proxy::frontend
