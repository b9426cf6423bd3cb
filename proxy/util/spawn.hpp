#pragma once
// Spawns a coroutine detached, with a completion handler that logs how it ended: an exception
// ends that task only, never the process.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <string>

namespace mcp_proxy::util {

void spawn_logged(boost::asio::any_io_executor ex, boost::asio::awaitable<void> task,
                  std::string what);

}  // namespace mcp_proxy::util
