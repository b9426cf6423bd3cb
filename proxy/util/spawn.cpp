#include "util/spawn.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/co_spawn.hpp>

#include <exception>

namespace mcp_proxy::util {

void spawn_logged(boost::asio::any_io_executor ex, boost::asio::awaitable<void> task,
                  std::string what) {
  boost::asio::co_spawn(ex, std::move(task), [what = std::move(what)](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      spdlog::error("task '{}' ended with an exception: {}", what, ex.what());
    } catch (...) {
      spdlog::error("task '{}' ended with an unknown exception", what);
    }
  });
}

}  // namespace mcp_proxy::util
