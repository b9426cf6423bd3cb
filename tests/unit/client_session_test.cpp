// core::client_session's list of calls in flight: finished calls are dropped as new ones come,
// so a long-lived session holds only what is in flight (issue #15: the soak's RSS rise).

#include "core/endpoint.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include <memory>

namespace mcp_proxy::core {
namespace {

std::shared_ptr<backend::pending_call> new_call(boost::asio::io_context& io, std::int64_t id) {
  return std::make_shared<backend::pending_call>(io.get_executor(), 1, id, id,
                                                 backend::backlog_limits{});
}

TEST(client_session, add_call_drops_finished_and_forgotten_calls) {
  boost::asio::io_context io;
  client_session s(io.get_executor(), "s", 1);
  auto running = new_call(io, 1);
  s.add_call(running);
  for (std::int64_t i = 2; i < 1000; ++i) {
    auto done = new_call(io, i);
    s.add_call(done);
    done->events.close();  // answered: finished, though something still holds it
  }
  {
    auto forgotten = new_call(io, 1000);
    s.add_call(forgotten);
  }  // nothing holds it any more
  auto latest = new_call(io, 1001);
  s.add_call(latest);
  // Only what is in flight: the running call and the latest.
  EXPECT_EQ(s.calls.size(), 2u);
  EXPECT_EQ(s.latest_call(), latest);
  latest->events.close();
  EXPECT_EQ(s.latest_call(), running);
}

}  // namespace
}  // namespace mcp_proxy::core
