#pragma once
// Misbehaviour on purpose, for the mock servers' fault modes (never set by the proxy): the
// streams of answers are written slowly, or cut; or the server plays one of the 2025-11-25 era.

#include <chrono>
#include <cstddef>
#include <string>

namespace mcp_proxy::frontend {

struct injected_faults {
  // Each event-stream write is sent in pieces of `drip_bytes`, one piece per `drip_interval`.
  std::chrono::milliseconds drip_interval{0};
  std::size_t drip_bytes = 8;
  // An event-stream write longer than `hold_after_bytes` (0 = none) sends that many bytes, then
  // waits until the file `hold_until` exists (10 ms polls, 30 s at most) before the rest; or,
  // with no file named, closes the connection there instead.
  std::size_t hold_after_bytes = 0;
  std::string hold_until;
  // Every POSTed request is answered with an event stream, even one whose response is the only
  // thing it sends (as the TypeScript SDK's servers answer by default).
  bool event_stream_answers = false;
  // A POST's event stream is cut (the connection closed) after this many events, before the
  // response; 0 = never.
  std::size_t drop_stream_after_events = 0;
  // Serve as a 2025-11-25-only server: a request with 2026-07-28 _meta is taken as a legacy one
  // (so it is refused for want of a session, as such a server refuses it).
  bool legacy_only = false;
};

}  // namespace mcp_proxy::frontend
