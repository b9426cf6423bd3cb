#pragma once
// A client's connection as the HTTP listener and frontends use it: plain TCP, or TLS over TCP
// (mcpProxy.tls) once its handshake is done. Beast's and Asio's algorithms (http::async_read,
// http::async_write, asio::async_write) take it as an AsyncReadStream and AsyncWriteStream;
// timeouts, the socket and the peer's address are the TCP layer's under both.
// Thread-safety: as beast::tcp_stream (one strand: the listener's executor).

#include <boost/asio/async_result.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <cstddef>
#include <string>
#include <utility>
#include <variant>

namespace mcp_proxy::frontend {

class client_stream {
 public:
  using tcp_layer = boost::beast::tcp_stream;
  using tls_layer = boost::beast::ssl_stream<tcp_layer>;
  using executor_type = tcp_layer::executor_type;

  explicit client_stream(boost::asio::ip::tcp::socket socket)
      : stream_(std::in_place_type<tcp_layer>, std::move(socket)) {}
  client_stream(boost::asio::ip::tcp::socket socket, boost::asio::ssl::context& tls)
      : stream_(std::in_place_type<tls_layer>, std::move(socket), tls) {}

  executor_type get_executor() noexcept { return tcp().get_executor(); }
  tcp_layer& tcp() {
    return std::visit([](auto& s) -> tcp_layer& { return boost::beast::get_lowest_layer(s); },
                      stream_);
  }
  boost::asio::ip::tcp::socket& socket() { return tcp().socket(); }
  template <class Duration>
  void expires_after(Duration d) {
    tcp().expires_after(d);
  }
  void expires_never() { tcp().expires_never(); }
  // The TLS layer, for the handshake and the peer's certificate; null on plain TCP.
  tls_layer* tls() { return std::get_if<tls_layer>(&stream_); }
  // The peer's address as text ("" when the socket has none): asked of the kernel once per
  // connection, not once per request.
  const std::string& peer_address() {
    if (!peer_known_) {
      boost::system::error_code ec;
      auto remote = socket().remote_endpoint(ec);
      if (!ec) peer_ = remote.address().to_string();
      peer_known_ = true;
    }
    return peer_;
  }

  template <class MutableBuffers, class Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
        [this](auto handler, const MutableBuffers& b) {
          std::visit([&](auto& s) { s.async_read_some(b, std::move(handler)); }, stream_);
        },
        token, buffers);
  }
  template <class ConstBuffers, class Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
        [this](auto handler, const ConstBuffers& b) {
          std::visit([&](auto& s) { s.async_write_some(b, std::move(handler)); }, stream_);
        },
        token, buffers);
  }

 private:
  std::variant<tcp_layer, tls_layer> stream_;
  std::string peer_;
  bool peer_known_ = false;
};

}  // namespace mcp_proxy::frontend
