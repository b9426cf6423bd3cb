#include "protocol/event_log.hpp"

#include <charconv>

namespace mcp_proxy::protocol {

namespace {

std::optional<std::uint64_t> number(std::string_view s) {
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

}  // namespace

std::uint64_t event_log::open_stream() {
  const auto id = next_stream_++;
  streams_.emplace(id, stream_events{});
  while (streams_.size() > max_streams_) {
    for (const auto& [seq, data] : streams_.begin()->second.kept) bytes_ -= data.size();
    streams_.erase(streams_.begin());
  }
  return id;
}

std::string event_log::next_id(std::uint64_t stream) const {
  auto it = streams_.find(stream);
  const std::uint64_t seq = it == streams_.end() ? 0 : it->second.next_seq;
  return std::to_string(stream) + "-" + std::to_string(seq);
}

void event_log::record(std::uint64_t stream, std::string data) {
  auto it = streams_.find(stream);
  if (it == streams_.end()) return;
  auto& s = it->second;
  bytes_ += data.size();
  s.kept.emplace_back(s.next_seq++, std::move(data));
  if (s.kept.size() > per_stream_) {
    bytes_ -= s.kept.front().second.size();
    s.kept.pop_front();
  }
  // Over the byte bound: the oldest events of the oldest streams go first (this one last).
  for (auto& [no, older] : streams_) {
    while (bytes_ > max_bytes_ && !older.kept.empty()) {
      bytes_ -= older.kept.front().second.size();
      older.kept.pop_front();
    }
    if (bytes_ <= max_bytes_) break;
  }
}

std::optional<event_log::replay> event_log::after(std::string_view last_event_id) const {
  const auto dash = last_event_id.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  auto stream = number(last_event_id.substr(0, dash));
  auto seq = number(last_event_id.substr(dash + 1));
  if (!stream || !seq) return std::nullopt;
  auto it = streams_.find(*stream);
  if (it == streams_.end() || *seq >= it->second.next_seq) return std::nullopt;
  const auto& s = it->second;
  // Every event after seq must still be kept, or the replay would have a hole.
  const std::uint64_t first_kept = s.kept.empty() ? s.next_seq : s.kept.front().first;
  if (*seq + 1 < first_kept) return std::nullopt;
  replay r{*stream, {}};
  for (const auto& [n, data] : s.kept)
    if (n > *seq) r.events.emplace_back(std::to_string(*stream) + "-" + std::to_string(n), data);
  return r;
}

}  // namespace mcp_proxy::protocol
