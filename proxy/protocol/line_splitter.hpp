#pragma once
// Splits a byte stream into newline-delimited messages (sans-io). A line grows until its newline
// arrives (MCP stdio messages can be many megabytes), up to an optional limit: a line longer than
// that, complete or still arriving, puts the splitter in the overflowed state, where it frees
// what it holds, returns no more lines and ignores further input.
// Thread-safety: none.

#include <optional>
#include <string>
#include <string_view>

namespace mcp_proxy::protocol {

class line_splitter {
 public:
  static constexpr std::size_t no_limit = std::string::npos;
  explicit line_splitter(std::size_t max_line_bytes = no_limit) : max_line_(max_line_bytes) {}

  void feed(std::string_view bytes) {
    if (!overflowed_) buffer_.append(bytes);
  }
  // The next complete line without its "\n" (and a trailing "\r"); empty lines are skipped.
  std::optional<std::string> next_line();
  // Bytes of an incomplete line held so far.
  std::size_t pending_bytes() const { return buffer_.size() - consumed_; }
  // Removes and returns the incomplete line (for callers that bound what they hold).
  std::string take_pending();
  // A line went over the limit (see above).
  bool overflowed() const { return overflowed_; }

 private:
  void overflow();

  std::size_t max_line_;
  bool overflowed_ = false;
  std::string buffer_;
  std::size_t consumed_ = 0;  // bytes of buffer_ already returned
  std::size_t scanned_ = 0;   // bytes of buffer_ known to hold no newline
};

}  // namespace mcp_proxy::protocol
