#pragma once
// The Streamable HTTP state of client sessions (spec 2025-11-25 basic/transports): the SSE
// events each session was sent (for Last-Event-ID), its GET stream, the POST streams being
// written, and those whose client went away before the response. Kept here, on the HTTP side,
// keyed by session: core::client_session holds protocol state only. An entry lives as long as
// its session (entries of ended sessions are dropped as others are looked up).
// Thread-safety: one executor.

#include "config/config.hpp"
#include "core/endpoint.hpp"
#include "protocol/event_log.hpp"
#include "util/async_event.hpp"
#include "util/async_queue.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

namespace mcp_proxy::frontend {

using protocol::event_log;

struct session_streams {
  session_streams(boost::asio::any_io_executor ex, event_log l)
      : log(std::move(l)), get_stream_ended(ex) {}
  event_log log;
  // The stream number of the session's current GET stream (0: none yet), and whether one is
  // open (one per session, so every message goes on exactly one stream).
  std::uint64_t get_stream_no = 0;
  bool get_stream_open = false;
  util::async_event get_stream_ended;  // notified when the open GET stream ends
  // Events of POST streams whose client went away, waiting for a GET that resumes them
  // (closed at the call's end).
  std::map<std::uint64_t, std::shared_ptr<util::async_queue<jsonrpc::message>>> orphaned;
  // Streams still being written, and how to cut each one's connection (a GET that resumes one
  // takes it over: the old connection is abandoned).
  std::map<std::uint64_t, std::function<void()>> live;
};

class stream_registry {
 public:
  stream_registry(boost::asio::any_io_executor ex, const config::proxy_config& proxy)
      : ex_(std::move(ex)), proxy_(proxy) {}
  // The state of `s` (made on first use, with the configured replay bounds).
  std::shared_ptr<session_streams> of(const std::shared_ptr<core::client_session>& s);
  std::size_t size() const { return entries_.size(); }

 private:
  struct entry {
    std::weak_ptr<core::client_session> session;
    std::shared_ptr<session_streams> streams;
  };
  boost::asio::any_io_executor ex_;
  const config::proxy_config& proxy_;
  std::map<std::string, entry, std::less<>> entries_;
  std::size_t prune_at_ = 16;
};

}  // namespace mcp_proxy::frontend
