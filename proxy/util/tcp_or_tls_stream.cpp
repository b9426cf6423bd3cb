#include "util/tcp_or_tls_stream.hpp"

#include <boost/asio/bind_executor.hpp>

namespace mcp_proxy::util {

// Boost 1.81's any_completion_handler reports an executor that Beast's operations cannot post
// to; the handler runs on the stream's executor instead, which is the one its coroutine runs on
// (one I/O thread, design.md).
void tcp_or_tls_stream::read_some(const mutable_list& buffers, handler h) {
  auto bound = boost::asio::bind_executor(get_executor(), std::move(h));
  std::visit([&](auto& s) { s.async_read_some(buffers, std::move(bound)); }, stream_);
}

void tcp_or_tls_stream::write_some(const const_list& buffers, handler h) {
  auto bound = boost::asio::bind_executor(get_executor(), std::move(h));
  std::visit([&](auto& s) { s.async_write_some(buffers, std::move(bound)); }, stream_);
}

}  // namespace mcp_proxy::util
