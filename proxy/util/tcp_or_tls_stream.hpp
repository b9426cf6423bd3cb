#pragma once
// An HTTP connection, plain TCP or TLS over TCP, as one stream type: a client's connection to
// the listener (mcpProxy.tls) and the proxy's own to an HTTPS backend. Beast's and Asio's
// algorithms (http::async_read, http::async_write, asio::async_write) take it as an
// AsyncReadStream and AsyncWriteStream; timeouts, the socket and the peer's address are the TCP
// layer's under both.
// Over TLS, its reads and writes reach the TLS layer through one function each
// (tcp_or_tls_stream.cpp), with the handler type-erased and the buffers as a short list: every
// composed operation over it (a response of each body type, a chunk, a header) would otherwise
// instantiate the TLS layer's operations for its own handler type, which made a file that writes
// responses take minutes to build under ASan. A TLS write or read of "some" may take only the
// first `max_buffers` buffers. Plain TCP keeps the handler's own type (no allocation per
// operation for the erasure: the per-call path of most deployments).
// Thread-safety: as beast::tcp_stream (one strand: the listener's executor).

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <boost/container/static_vector.hpp>

#include <cstddef>
#include <string>
#include <utility>
#include <variant>

namespace mcp_proxy::util {

class tcp_or_tls_stream {
 public:
  using tcp_layer = boost::beast::tcp_stream;
  using tls_layer = boost::beast::ssl_stream<tcp_layer>;
  using executor_type = tcp_layer::executor_type;

  // An accepted connection.
  explicit tcp_or_tls_stream(boost::asio::ip::tcp::socket socket)
      : stream_(std::in_place_type<tcp_layer>, std::move(socket)) {}
  tcp_or_tls_stream(boost::asio::ip::tcp::socket socket, boost::asio::ssl::context& tls)
      : stream_(std::in_place_type<tls_layer>, std::move(socket), tls) {}
  // One to connect (through tcp()).
  explicit tcp_or_tls_stream(const boost::asio::any_io_executor& ex)
      : stream_(std::in_place_type<tcp_layer>, ex) {}
  tcp_or_tls_stream(const boost::asio::any_io_executor& ex, boost::asio::ssl::context& tls)
      : stream_(std::in_place_type<tls_layer>, ex, tls) {}

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

  static constexpr std::size_t max_buffers = 16;
  using handler = boost::asio::any_completion_handler<void(boost::system::error_code, std::size_t)>;
  using mutable_list = boost::container::static_vector<boost::asio::mutable_buffer, max_buffers>;
  using const_list = boost::container::static_vector<boost::asio::const_buffer, max_buffers>;

  template <class MutableBuffers, class Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
        [this](auto h, const MutableBuffers& b) {
          if (auto* plain = std::get_if<tcp_layer>(&stream_))
            plain->async_read_some(b, std::move(h));
          else
            tls_read_some(first_of<mutable_list>(b), std::move(h));
        },
        token, buffers);
  }
  template <class ConstBuffers, class Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
        [this](auto h, const ConstBuffers& b) {
          if (auto* plain = std::get_if<tcp_layer>(&stream_))
            plain->async_write_some(b, std::move(h));
          else
            tls_write_some(first_of<const_list>(b), std::move(h));
        },
        token, buffers);
  }

 private:
  template <class List, class Buffers>
  static List first_of(const Buffers& buffers) {
    List out;
    for (auto it = boost::asio::buffer_sequence_begin(buffers);
         it != boost::asio::buffer_sequence_end(buffers) && out.size() < max_buffers; ++it) {
      typename List::value_type b = *it;  // (Beast's buffer iterators have no operator->)
      if (b.size() > 0) out.push_back(b);
    }
    return out;
  }
  void tls_read_some(const mutable_list& buffers, handler h);
  void tls_write_some(const const_list& buffers, handler h);

  std::variant<tcp_layer, tls_layer> stream_;
  std::string peer_;
  bool peer_known_ = false;
};

}  // namespace mcp_proxy::util
