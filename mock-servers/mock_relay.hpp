#pragma once
// The dual era's legacy side over HTTP: a legacy-era mock HTTP server (the same program with the
// same options, minus --era, on 127.0.0.1 port 0) run as a child process, and the relay that
// passes a request to it and streams its response back byte for byte (as it comes, so event
// streams stay live; one connection per relayed request, closed at the end of its response). The
// client closing its connection closes the relayed one, which the legacy server takes as the client
// going away. Thread-safety: start/stop from main's thread; relay() on the listener's executor.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <sys/types.h>
#include <optional>

namespace mock {

class legacy_server {
 public:
  // Starts `self` with `args` plus `--http 127.0.0.1:0`, and waits (bounded) for the port it
  // says it listens on; its other output is copied to stderr. nullopt: it did not come up.
  static std::optional<legacy_server> start(const char* self, std::vector<std::string> args);
  // SIGTERM by its PID, then SIGKILL when it lingers; reaped.
  void stop();

  const boost::asio::ip::tcp::endpoint& endpoint() const { return endpoint_; }

 private:
  pid_t pid_ = -1;
  boost::asio::ip::tcp::endpoint endpoint_;
};

// Sends `req` to `to` (with Connection: close) and streams the response back to `client` byte
// for byte; always false: the client's connection ends with the response (or ended before).
boost::asio::awaitable<bool> relay(
    boost::beast::tcp_stream& client,
    const boost::beast::http::request<boost::beast::http::string_body>& req,
    boost::asio::ip::tcp::endpoint to);

// Completes when the peer of `s` closed its end (data it sends meanwhile is left unread; the
// wait then ends without a close, and `closed` stays false).
boost::asio::awaitable<void> wait_for_close(boost::asio::ip::tcp::socket& s, bool& closed);

}  // namespace mock
