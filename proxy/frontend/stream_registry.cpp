#include "frontend/stream_registry.hpp"

namespace mcp_proxy::frontend {

std::shared_ptr<session_streams> stream_registry::of(
    const std::shared_ptr<core::client_session>& s) {
  if (auto it = entries_.find(s->id()); it != entries_.end()) {
    if (auto held = it->second.session.lock(); held == s) return it->second.streams;
    entries_.erase(it);  // an id reused by a new session: nothing of the old one carries over
  }
  // Ended sessions are forgotten as new ones come (their streams hold what they need), in
  // sweeps whose cost is spread over the entries added since the last one.
  if (entries_.size() >= prune_at_) {
    std::erase_if(entries_, [](const auto& kv) {
      auto held = kv.second.session.lock();
      return !held || held->ended;
    });
    prune_at_ = 2 * entries_.size() + 16;
  }
  auto streams = std::make_shared<session_streams>(
      ex_, event_log(proxy_.replay_events, proxy_.replay_streams, proxy_.replay_bytes));
  entries_.emplace(s->id(), entry{s, streams});
  return streams;
}

}  // namespace mcp_proxy::frontend
