#pragma once
// The proxy served over its own stdin/stdout (`mcp-proxy --stdio`), for clients that only launch
// stdio servers (Claude Desktop): one JSON-RPC message per line each way, one client session on
// one server endpoint (a 2025-era client), or requests of 2026-07-28 served each on its own
// (modern_stdio). stdout carries nothing but messages; logs go to stderr.
// Thread-safety: stdin is read by a helper thread that posts each line to the executor; all
// other work runs on the executor.

#include "core/endpoint.hpp"
#include "util/async_queue.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <memory>
#include <string>

namespace mcp_proxy::frontend {

// Lines of this process's stdin, read by a helper thread; the queue closes at end of input, or
// when its owner closes it (shutdown).
std::shared_ptr<util::async_queue<std::string>> read_stdin_lines(boost::asio::any_io_executor ex);

// Serves `ep` until `lines` ends (then ends the session) and returns.
boost::asio::awaitable<void> serve_stdio(boost::asio::any_io_executor ex,
                                         std::shared_ptr<core::endpoint> ep,
                                         std::shared_ptr<util::async_queue<std::string>> lines);

}  // namespace mcp_proxy::frontend
