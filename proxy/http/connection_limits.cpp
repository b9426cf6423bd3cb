#include "http/connection_limits.hpp"

#include <algorithm>

namespace mcp_proxy::http {

connection_limits::connection_limits(std::size_t max_total, std::size_t max_per_peer)
    : max_total_(std::max<std::size_t>(max_total, 1)),
      max_per_peer_(std::max<std::size_t>(max_per_peer, 1)) {}

std::size_t connection_limits::of_peer(std::string_view peer) const {
  auto it = peers_.find(std::string(peer));
  return it == peers_.end() ? 0 : it->second.count;
}

bool connection_limits::is_waiting(id c) const {
  auto it = connections_.find(c);
  return it != connections_.end() && it->second.waiting;
}

void connection_limits::forget(id c) {
  auto it = connections_.find(c);
  if (it == connections_.end()) return;
  auto p = it->second.peer;
  if (it->second.waiting) p->second.waiting.erase(it->second.in_queue);
  connections_.erase(it);
  if (--p->second.count == 0) peers_.erase(p);
}

std::optional<connection_limits::id> connection_limits::evict_from(peer_map::iterator p) {
  if (p == peers_.end() || p->second.waiting.empty()) return std::nullopt;
  const id victim = p->second.waiting.front();
  forget(victim);
  return victim;
}

connection_limits::peer_map::iterator connection_limits::busiest_with_waiting() {
  auto best = peers_.end();
  for (auto it = peers_.begin(); it != peers_.end(); ++it) {
    if (it->second.waiting.empty()) continue;
    if (best == peers_.end() || it->second.count > best->second.count) best = it;
  }
  return best;
}

connection_limits::admission connection_limits::on_accept(id c, std::string_view peer) {
  admission out;
  auto p = peers_.find(std::string(peer));
  if (p != peers_.end() && p->second.count >= max_per_peer_) {
    out.reached = bound::per_peer;
    out.evicted_peer = p->first;
    out.evicted = evict_from(p);
    if (!out.evicted) return out;
  } else if (connections_.size() >= max_total_) {
    out.reached = bound::total;
    auto busiest = busiest_with_waiting();
    if (busiest == peers_.end()) return out;
    out.evicted_peer = busiest->first;
    out.evicted = evict_from(busiest);
  }
  // An eviction may have emptied (and erased) the peer's entry.
  p = peers_.try_emplace(std::string(peer)).first;
  ++p->second.count;
  auto& conn = connections_[c];
  conn.peer = p;
  conn.waiting = true;
  conn.in_queue = p->second.waiting.insert(p->second.waiting.end(), c);
  out.admitted = true;
  return out;
}

std::optional<connection_limits::id> connection_limits::evict_for_descriptors() {
  return evict_from(busiest_with_waiting());
}

void connection_limits::on_busy(id c) {
  auto it = connections_.find(c);
  if (it == connections_.end() || !it->second.waiting) return;
  it->second.peer->second.waiting.erase(it->second.in_queue);
  it->second.waiting = false;
}

void connection_limits::on_waiting(id c) {
  auto it = connections_.find(c);
  if (it == connections_.end() || it->second.waiting) return;
  auto& queue = it->second.peer->second.waiting;
  it->second.in_queue = queue.insert(queue.end(), c);
  it->second.waiting = true;
}

void connection_limits::on_closed(id c) {
  forget(c);
}

}  // namespace mcp_proxy::http
