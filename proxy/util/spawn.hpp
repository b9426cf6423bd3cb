#pragma once
// Spawns a coroutine detached, with a completion handler that logs how it ended: an exception
// ends that task only, never the process.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <string>
#include <vector>

namespace mcp_proxy::util {

void spawn_logged(boost::asio::any_io_executor ex, boost::asio::awaitable<void> task,
                  std::string what);

// Runs the tasks concurrently (each spawned with spawn_logged) and returns when all have ended.
boost::asio::awaitable<void> run_all(boost::asio::any_io_executor ex,
                                     std::vector<boost::asio::awaitable<void>> tasks,
                                     std::string what);

// Like run_all, but returns at `deadline` at the latest; tasks still running then go on in the
// background, so they must own (or share) everything they touch.
boost::asio::awaitable<void> run_all_until(boost::asio::any_io_executor ex,
                                           std::vector<boost::asio::awaitable<void>> tasks,
                                           std::chrono::steady_clock::time_point deadline,
                                           std::string what);

}  // namespace mcp_proxy::util
