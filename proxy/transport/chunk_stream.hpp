#pragma once
// The rest of a streamed response (jsonrpc::message::streamed) on its way from the transport that
// reads it to the writer that passes it on: pieces of text in order, then its end, whole or cut.
// The transport pushes without waiting; the writer awaits each piece.
// Thread-safety: all calls on one executor, as async_queue's.

#include "jsonrpc/message.hpp"
#include "util/async_queue.hpp"

#include <boost/system/result.hpp>

#include <memory>
#include <optional>
#include <string>
#include <utility>

namespace mcp_proxy::transport {

class chunk_stream final : public jsonrpc::streamed_rest {
 public:
  using clock = util::async_queue<std::string>::clock;

  // `from`: the backend it comes from, for logs.
  chunk_stream(boost::asio::any_io_executor ex, std::string from)
      : pieces_(ex), from_(std::move(from)) {}
  const std::string& from() const { return from_; }

  void push(std::string piece) { pieces_.push(std::move(piece)); }
  // All of it came.
  void finish() { pieces_.close(); }
  // It will not come whole (`why`: the connection was cut, the text is not a valid response).
  // The first reason stays.
  void fail(std::string why) {
    if (pieces_.closed()) return;
    failure_ = std::move(why);
    pieces_.close();
  }

  // The next piece, or nullopt at the end: whole when failure() is empty. A deadline that passes
  // first is a failure too.
  boost::asio::awaitable<std::optional<std::string>> next(clock::time_point deadline) {
    auto piece = co_await pieces_.pop(deadline);
    if (!piece && !pieces_.closed()) fail("no more of it came in time");
    co_return piece;
  }
  const std::string& failure() const { return failure_; }
  bool ended() const { return pieces_.closed(); }

 private:
  util::async_queue<std::string> pieces_;
  std::string from_;
  std::string failure_;
};

// A streamed message (jsonrpc::message::streamed) made whole: its rest read to its end, then the
// text read as parse() reads a response. The error says why not (cut, invalid, too late).
inline boost::asio::awaitable<boost::system::result<jsonrpc::message, std::string>> gather_streamed(
    const jsonrpc::message& m, chunk_stream::clock::time_point deadline) {
  auto pieces = jsonrpc::streamed_pieces(m);
  auto rest = std::dynamic_pointer_cast<chunk_stream>(m.rest());
  if (!pieces || !rest) co_return std::string("its answer is not a streamed one");
  std::string text;
  text.append(pieces->before).append(pieces->id).append(pieces->after);
  while (auto piece = co_await rest->next(deadline)) text += *piece;
  if (!rest->failure().empty()) co_return "its answer did not come whole: " + rest->failure();
  auto whole = jsonrpc::parse_taking(text);
  if (!whole) co_return "its answer could not be read: " + whole.error().reason;
  co_return std::move(*whole);
}

}  // namespace mcp_proxy::transport
