#include "protocol/line_splitter.hpp"

#include <algorithm>

namespace mcp_proxy::protocol {

namespace {
constexpr std::size_t large_line_bytes = std::size_t{1} << 20;
constexpr std::size_t large_line_room = std::size_t{16} << 20;
}  // namespace

std::optional<std::string> line_splitter::next_line() {
  if (overflowed_) return std::nullopt;
  for (;;) {
    std::size_t from = std::max(consumed_, scanned_);
    std::size_t nl = buffer_.find('\n', from);
    if (nl == std::string::npos) {
      scanned_ = buffer_.size();
      if (buffer_.size() - consumed_ > max_line_) {
        overflow();
        return std::nullopt;
      }
      // A large message: room for it at once instead of doubling to it. Every doubling step
      // leaves its old buffer in the heap (kept for reuse, see app.cpp): 15 MB of them for a
      // 10 MB line, where this leaves 1 MB. Untouched room costs no memory, only addresses; no
      // more than the limit allows is asked for.
      const std::size_t room =
          std::min(large_line_room, max_line_ == no_limit ? max_line_ : max_line_ + 2);
      if (buffer_.size() > large_line_bytes && buffer_.capacity() < room) buffer_.reserve(room);
      // Compact once the consumed prefix dominates, so memory tracks the pending line only.
      if (consumed_ > 0 && consumed_ * 2 >= buffer_.size()) {
        buffer_.erase(0, consumed_);
        scanned_ -= consumed_;
        consumed_ = 0;
      }
      return std::nullopt;
    }
    std::size_t end = nl;
    if (end > consumed_ && buffer_[end - 1] == '\r') --end;
    if (end - consumed_ > max_line_) {
      overflow();
      return std::nullopt;
    }
    if (consumed_ == 0 && nl + 1 == buffer_.size()) {
      // The buffer is this one line (a large message comes so): handed over, not copied.
      std::string line = std::move(buffer_);
      buffer_ = std::string();
      line.resize(end);
      scanned_ = 0;
      if (!line.empty()) return line;
      continue;
    }
    std::string line = buffer_.substr(consumed_, end - consumed_);
    consumed_ = nl + 1;
    if (!line.empty()) return line;
  }
}

void line_splitter::overflow() {
  overflowed_ = true;
  std::string().swap(buffer_);  // the memory too
  consumed_ = 0;
  scanned_ = 0;
}

std::string line_splitter::take_pending() {
  std::string rest = buffer_.substr(consumed_);
  buffer_.clear();
  consumed_ = 0;
  scanned_ = 0;
  return rest;
}

}  // namespace mcp_proxy::protocol
