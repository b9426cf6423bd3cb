#pragma once
// A rate limit on the lines one backend puts in the log (its stderr, and stdout lines that are
// not JSON-RPC): a token bucket of `per_second` lines a second with a burst of as many, the
// lines over it counted, not logged. The count is reported with the next line logged, or when
// the stream ends, as "suppressed N lines". 0 lines a second means no limit.
// Thread-safety: none (one backend's reader).

#include <algorithm>
#include <chrono>
#include <cstdint>

namespace mcp_proxy::util {

class line_budget {
 public:
  using clock = std::chrono::steady_clock;

  explicit line_budget(std::uint32_t per_second)
      : per_second_(per_second), tokens_(static_cast<double>(per_second)) {}

  // True when a line seen at `now` may be logged; false counts it as suppressed.
  bool allow(clock::time_point now) {
    if (per_second_ == 0) return true;
    if (last_ != clock::time_point{}) {
      const double elapsed = std::chrono::duration<double>(now - last_).count();
      tokens_ = std::min<double>(per_second_, tokens_ + elapsed * per_second_);
    }
    last_ = now;
    if (tokens_ >= 1.0) {
      tokens_ -= 1.0;
      return true;
    }
    ++suppressed_;
    return false;
  }
  // Counts `n` more lines as suppressed without asking (a reader that skips a whole chunk).
  void suppress(std::uint64_t n) { suppressed_ += n; }
  // True when no line could be logged now (a reader may then skip lines without splitting them).
  bool exhausted(clock::time_point now) const {
    if (per_second_ == 0 || last_ == clock::time_point{}) return false;
    const double elapsed = std::chrono::duration<double>(now - last_).count();
    return tokens_ + elapsed * per_second_ < 1.0;
  }
  // The lines suppressed since the last call (to be reported), and resets the count.
  std::uint64_t take_suppressed() { return std::exchange(suppressed_, 0); }

 private:
  std::uint32_t per_second_;
  double tokens_;
  clock::time_point last_{};
  std::uint64_t suppressed_ = 0;
};

}  // namespace mcp_proxy::util
