#pragma once
// Who may hold the listener's client connections (sans-io): at most `max_total` at once and
// `max_per_peer` per peer address (mcpProxy.maxConnections, maxConnectionsPerPeer).
//
// A connection is *waiting* while it has no request in hand: just accepted, idle between
// keep-alive requests, or still sending a request's headers. It is *busy* from the moment its
// headers are in until its answer is written (an event stream stays busy while it is open).
// At a bound, room is made by giving up the connection that has waited longest among those of
// the busiest peer (for the per-peer bound: of that peer), so a client that opens connections
// and drips header bytes cannot lock anyone out: its own half-sent requests go first, while
// busy connections are never taken. Only when the peer (or every peer) has nothing waiting is
// the new connection refused.
// Thread-safety: none; used on the listener's executor.

#include <cstddef>
#include <cstdint>
#include <list>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace mcp_proxy::http {

class connection_limits {
 public:
  using id = std::uint64_t;

  connection_limits(std::size_t max_total, std::size_t max_per_peer);

  enum class bound { none, total, per_peer, descriptors };
  struct admission {
    bool admitted = false;
    // Close this connection first (already forgotten here); at most one per accept, since the
    // table never holds more than the bounds.
    std::optional<id> evicted;
    std::string evicted_peer;
    bound reached = bound::none;  // which bound made room, or refused
  };
  // A new connection from `peer` (an address); admitted as waiting.
  admission on_accept(id c, std::string_view peer);
  // Out of descriptors: gives up a waiting connection as at the total bound, if there is one.
  std::optional<id> evict_for_descriptors();

  void on_busy(id c);     // a request's headers are in
  void on_waiting(id c);  // its answer is written: waiting for the next request (newest)
  void on_closed(id c);   // ended; nothing for a connection already evicted

  std::size_t size() const { return connections_.size(); }
  std::size_t of_peer(std::string_view peer) const;
  bool is_waiting(id c) const;

 private:
  struct peer_state {
    std::size_t count = 0;
    std::list<id> waiting;  // oldest first
  };
  using peer_map = std::unordered_map<std::string, peer_state>;
  struct connection {
    peer_map::iterator peer;
    bool waiting = true;
    std::list<id>::iterator in_queue;
  };

  // Forgets the longest-waiting connection of `p`; nullopt when it has none waiting.
  std::optional<id> evict_from(peer_map::iterator p);
  // The peer with the most connections among those with one waiting.
  peer_map::iterator busiest_with_waiting();
  void forget(id c);

  std::size_t max_total_, max_per_peer_;
  peer_map peers_;
  std::unordered_map<id, connection> connections_;
};

}  // namespace mcp_proxy::http
