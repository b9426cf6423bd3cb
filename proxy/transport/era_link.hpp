#pragma once
// A backend link of either protocol era (spec 2026-07-28 basic/versioning): the messages go
// through a protocol::era_adapter, which detects the backend's era and, for a 2026-07-28
// backend, turns the core's 2025-11-25 session into per-request messages and back; this link
// only carries out what it decides (sends, messages for the core, the probe's and the listen's
// timers). Once the backend is known to be legacy, messages pass straight through.
// Thread-safety and lifetime: see message_link.

#include "protocol/era_adapter.hpp"
#include "transport/message_link.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace mcp_proxy::transport {

struct era_link_options {
  std::string name;  // for logs
  protocol::era_adapter::mode mode = protocol::era_adapter::mode::detect;
  // How long server/discover may take before the backend is taken for a legacy one.
  std::chrono::milliseconds probe_time{5000};
  // Starts the backend again (a stdio process) when it ended while the probe was out: some
  // legacy servers exit on any request before initialize. Null: no second start.
  std::function<std::shared_ptr<message_link>()> relaunch;
};

std::shared_ptr<message_link> make_era_link(boost::asio::any_io_executor ex,
                                            std::shared_ptr<message_link> inner,
                                            era_link_options options);

}  // namespace mcp_proxy::transport
