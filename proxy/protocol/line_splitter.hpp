#pragma once
// Splits a byte stream into newline-delimited messages (sans-io). No line-length limit: a line
// grows until its newline arrives (MCP stdio messages can be many megabytes).
// Thread-safety: none.

#include <optional>
#include <string>
#include <string_view>

namespace mcp_proxy::protocol {

class line_splitter {
 public:
  void feed(std::string_view bytes) { buffer_.append(bytes); }
  // The next complete line without its "\n" (and a trailing "\r"); empty lines are skipped.
  std::optional<std::string> next_line();
  // Bytes of an incomplete line held so far.
  std::size_t pending_bytes() const { return buffer_.size() - consumed_; }
  // Removes and returns the incomplete line (for callers that bound what they hold).
  std::string take_pending();

 private:
  std::string buffer_;
  std::size_t consumed_ = 0;  // bytes of buffer_ already returned
  std::size_t scanned_ = 0;   // bytes of buffer_ known to hold no newline
};

}  // namespace mcp_proxy::protocol
