#include "util/tcp_or_tls_stream.hpp"

#include <boost/asio/bind_executor.hpp>

namespace mcp_proxy::util {

// Boost 1.81's any_completion_handler reports an executor that Beast's operations cannot post
// to; the handler runs on the stream's executor instead, which is the one its coroutine runs on
// (one I/O thread, design.md).
void tcp_or_tls_stream::tls_read_some(const mutable_list& buffers, handler h) {
  std::get<tls_layer>(stream_).async_read_some(
      buffers, boost::asio::bind_executor(get_executor(), std::move(h)));
}

void tcp_or_tls_stream::tls_write_some(const const_list& buffers, handler h) {
  std::get<tls_layer>(stream_).async_write_some(
      buffers, boost::asio::bind_executor(get_executor(), std::move(h)));
}

}  // namespace mcp_proxy::util
