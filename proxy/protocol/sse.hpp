#pragma once
// Server-Sent Events (sans-io), per the WHATWG event-stream format: encoding for the streams the
// proxy serves, decoding for the streams its HTTP backends send.

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mcp_proxy::protocol {

// One event: optional `event:` and `id:` fields, the data split into `data:` lines, a blank line.
std::string encode_sse_event(std::string_view data, std::string_view event = {},
                             std::string_view id = {});
// A comment line, used as a keep-alive.
std::string encode_sse_comment(std::string_view text);

struct sse_event {
  std::string type = "message";  // the `event:` field; "message" when absent
  std::string data;              // `data:` lines joined by LF
  std::string id;                // the last event id seen so far on the stream
};

// Decodes a byte stream into events. Feed it bytes as they arrive, in any split; dispatched
// events come back in order. Follows the WHATWG parsing rules: CR, LF and CRLF end lines, a
// leading BOM is skipped, comments and unknown fields are ignored, an event without data lines
// is not dispatched, `retry:` with digits only sets retry_ms, an `id` containing NUL is ignored.
// A line longer than `max_line` bytes is an error (a stream that never ends a line must not
// grow memory without bound): feed returns nullopt and the decoder stays failed.
class sse_decoder {
 public:
  explicit sse_decoder(std::size_t max_line = 64 * 1024 * 1024) : max_line_(max_line) {}

  std::optional<std::vector<sse_event>> feed(std::string_view bytes);

  // Passing one long event on as it arrives instead of whole. Once the first `data:` line of a
  // `message` event holds `threshold` bytes without its end, `start` sees its value so far; if
  // it takes the event (true), the rest of that line goes to `piece` as it comes, then each
  // later data line as a LF and its value (as the WHATWG rules join them), and the blank line
  // that ends the event calls `end`. Such an event is never dispatched whole. Its bytes count
  // against `max_line` in all.
  struct event_streaming {
    std::size_t threshold = 0;
    std::function<bool(std::string_view data)> start;
    std::function<void(std::string_view)> piece;
    std::function<void()> end;
  };
  void stream_long_events(event_streaming s) { streaming_ = std::move(s); }

  const std::string& last_event_id() const { return last_id_; }
  std::optional<long long> retry_ms() const { return retry_ms_; }
  bool failed() const { return failed_; }

 private:
  void line(std::string_view l, std::vector<sse_event>& out);
  // The unfinished line in partial_ may start passing an event on (event_streaming).
  void maybe_start_streaming();
  bool too_long(std::size_t streamed_more);

  std::size_t max_line_;
  std::string partial_;  // bytes of an unfinished line
  bool after_cr_ = false;
  bool started_ = false;  // BOM check done
  bool failed_ = false;
  std::string type_, data_, last_id_;
  bool has_data_ = false;
  std::optional<long long> retry_ms_;
  event_streaming streaming_;
  bool streaming_event_ = false;  // an event is being passed on
  bool streaming_line_ = false;   // ... and the unfinished line is its data, passed on as it comes
  bool declined_ = false;         // start refused the event being read: not asked again
  std::size_t streamed_ = 0;      // bytes of it passed on
};

}  // namespace mcp_proxy::protocol
