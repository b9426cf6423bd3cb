#include "backend/event_backlog.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>

#include <algorithm>

namespace mcp_proxy::backend {

namespace {

const boost::json::value* progress_token(const jsonrpc::message& m) {
  if (!m.is_notification() || m.method() != "notifications/progress") return nullptr;
  const auto* params = m.params_object();
  return params ? params->if_contains("progressToken") : nullptr;
}

}  // namespace

event_backlog::event_backlog(boost::asio::any_io_executor ex, backlog_limits limits)
    : ex_(ex), queue_(ex), limits_(limits) {}

std::size_t event_backlog::weight(const jsonrpc::message& m) {
  return std::max<std::size_t>(m.size_hint(), 64);
}

bool event_backlog::push(jsonrpc::message m) {
  if (queue_.closed()) return false;
  const std::size_t w = weight(m);
  if (queue_.size() >= limits_.events || bytes_ + w > limits_.bytes) {
    auto* token = progress_token(m);
    auto* last = queue_.back();
    const auto* last_token = last ? progress_token(*last) : nullptr;
    if (token && last_token && *token == *last_token) {
      bytes_ = bytes_ - weight(*last) + w;
      *last = std::move(m);
      if (++coalesced_ == 1)
        spdlog::warn(
            "backend {}: call {}: its client reads slower than the backend writes; progress "
            "notifications are coalesced",
            backend_name.empty() ? "?" : backend_name, call_id);
      return true;
    }
  }
  if (queue_.size() + 1 > 4 * limits_.events || bytes_ + w > 4 * limits_.bytes) {
    overflowed_ = true;
    queue_.clear();
    bytes_ = 0;
    if (answer_id)
      queue_.push(jsonrpc::message::error_response(
          std::move(*answer_id), jsonrpc::error_codes::internal_error,
          "mcp-proxy: the call was cancelled: its events went past the backlog bound (" +
              std::to_string(4 * limits_.events) + " events or " +
              std::to_string(4 * limits_.bytes) + " bytes) while the client did not read them"));
    queue_.close();
    if (on_overflow) boost::asio::post(ex_, std::move(on_overflow));
    return false;
  }
  bytes_ += w;
  queue_.push(std::move(m));
  return true;
}

void event_backlog::push_front(jsonrpc::message m) {
  if (queue_.closed()) return;
  bytes_ += weight(m);
  queue_.push_front(std::move(m));
}

boost::asio::awaitable<std::optional<jsonrpc::message>> event_backlog::pop(
    clock::time_point deadline) {
  auto m = co_await queue_.pop(deadline);
  if (m) bytes_ -= std::min(bytes_, weight(*m));
  co_return m;
}

}  // namespace mcp_proxy::backend
