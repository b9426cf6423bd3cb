#pragma once
// The SSE events a client session was sent, kept for resumption (spec 2025-11-25
// basic/transports: resumability and redelivery). Sans-io: the HTTP layer numbers and records
// what it writes, and asks what to replay for a `Last-Event-ID`.
// Event ids are "{stream}-{seq}": unique within the session, and they name the stream they
// belong to, so a resumption replays only that stream's events (seq 0 is the priming event).
// Bounded: the last `per_stream` events of each stream, the last `max_streams` streams, and at
// most `max_bytes` of event data in all (the oldest events go first: a large result cannot pin
// memory for the session's lifetime).
// Thread-safety: used from the session's executor only.

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mcp_proxy::protocol {

class event_log {
 public:
  event_log(std::size_t per_stream = 256, std::size_t max_streams = 16,
            std::size_t max_bytes = 8u << 20)
      : per_stream_(per_stream), max_streams_(max_streams), max_bytes_(max_bytes) {}

  // A new stream; the oldest is forgotten beyond max_streams.
  std::uint64_t open_stream();
  // The id of the next event on `stream`, e.g. "3-7". The stream must be open.
  std::string next_id(std::uint64_t stream) const;
  // Records an event written on `stream` under next_id(stream).
  void record(std::uint64_t stream, std::string data);

  struct replay {
    std::uint64_t stream;
    std::vector<std::pair<std::string, std::string>> events;  // (id, data) after the given id
  };
  // What followed `last_event_id` on its stream; nullopt when the id is not one of ours, or its
  // stream or the events right after it are no longer kept (nothing can be replayed exactly).
  std::optional<replay> after(std::string_view last_event_id) const;
  bool knows(std::uint64_t stream) const { return streams_.contains(stream); }
  std::size_t kept_bytes() const { return bytes_; }

 private:
  struct stream_events {
    std::uint64_t next_seq = 1;  // 0 is the priming event
    std::deque<std::pair<std::uint64_t, std::string>> kept;
  };
  std::size_t per_stream_;
  std::size_t max_streams_;
  std::size_t max_bytes_;
  std::size_t bytes_ = 0;  // event data kept, all streams
  std::uint64_t next_stream_ = 1;
  std::map<std::uint64_t, stream_events> streams_;
};

}  // namespace mcp_proxy::protocol
