#include "transport/http_link_base.hpp"

#include <gtest/gtest.h>

#include <string>

namespace {

using mcp_proxy::transport::detail::fits_send_buffer;
using mcp_proxy::transport::detail::request;
namespace bhttp = boost::beast::http;

request small_post() {
  request req{bhttp::verb::post, "/mcp", 11};
  req.set(bhttp::field::host, "127.0.0.1:8080");
  req.set(bhttp::field::content_type, "application/json");
  req.body() = R"({"jsonrpc":"2.0","id":1,"method":"tools/list"})";
  req.prepare_payload();
  return req;
}

TEST(fits_send_buffer, a_usual_small_request_fits) {
  EXPECT_TRUE(fits_send_buffer(small_post()));
}

TEST(fits_send_buffer, a_large_body_does_not_fit) {
  auto req = small_post();
  req.body() = std::string(5000, 'x');
  req.prepare_payload();
  EXPECT_FALSE(fits_send_buffer(req));
}

TEST(fits_send_buffer, large_header_fields_count_even_with_a_small_body) {
  auto req = small_post();
  req.set(bhttp::field::authorization, "Bearer " + std::string(5000, 't'));
  EXPECT_FALSE(fits_send_buffer(req));
}

TEST(fits_send_buffer, a_long_target_counts) {
  auto req = small_post();
  req.target("/mcp?" + std::string(5000, 'q'));
  EXPECT_FALSE(fits_send_buffer(req));
}

}  // namespace
