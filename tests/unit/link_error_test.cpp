#include "transport/link_error.hpp"
#include "backend/backend_session.hpp"

#include <gtest/gtest.h>

namespace mcp_proxy {
namespace {

using transport::link_error;

TEST(link_error, codes_carry_their_category_and_say_what_happened) {
  boost::system::error_code ec = link_error::refused_transport;
  EXPECT_EQ(&ec.category(), &transport::link_category());
  EXPECT_EQ(ec, link_error::refused_transport);
  EXPECT_NE(ec, link_error::timed_out);
  EXPECT_EQ(ec.message(), "the backend does not speak Streamable HTTP");
  EXPECT_TRUE(ec.failed());
  EXPECT_EQ(boost::system::error_code(link_error::timed_out).message(),
            "the backend did not answer in time");
}

TEST(backend_failure, a_timeout_is_the_timeout_code_and_the_rest_unavailable) {
  EXPECT_EQ((backend::backend_failure{link_error::timed_out, "x"}.rpc_code()),
            jsonrpc::error_codes::request_timeout);
  for (auto e : {link_error::exited, link_error::unreachable, link_error::refused,
                 link_error::start_failed, link_error::session_expired})
    EXPECT_EQ((backend::backend_failure{e, "x"}.rpc_code()),
              jsonrpc::error_codes::backend_unavailable);
}

}  // namespace
}  // namespace mcp_proxy
