#include "protocol/supervision.hpp"

#include <algorithm>

namespace mcp_proxy::protocol {

ping_watch::verdict ping_watch::on_answer() {
  const bool was_missing = misses_ > 0;
  misses_ = 0;
  return was_missing ? verdict::recovered : verdict::none;
}

ping_watch::verdict ping_watch::on_miss() {
  ++misses_;
  if (misses_ >= misses_allowed_) {
    misses_ = 0;
    return verdict::restart;
  }
  return misses_ == 1 ? verdict::degraded : verdict::none;
}

std::chrono::milliseconds restart_delay(std::uint64_t attempt, double unit_random) {
  // 1 s << 5 is past the cap already; a larger shift would overflow.
  const auto doubled =
      first_restart_delay * (std::int64_t{1} << std::min<std::uint64_t>(attempt, 5));
  const auto full = std::min(doubled, max_restart_delay);
  const double r = std::clamp(unit_random, 0.0, 1.0);
  const auto half = full / 2;
  return half + std::chrono::milliseconds(
                    static_cast<std::int64_t>(static_cast<double>(half.count()) * r));
}

}  // namespace mcp_proxy::protocol
