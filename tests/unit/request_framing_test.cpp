#include "http/request_framing.hpp"

#include <gtest/gtest.h>
#include <boost/asio/error.hpp>
#include <boost/beast/http/error.hpp>

#include <string>

namespace mcp_proxy::http {
namespace {

namespace bhttp = boost::beast::http;
using namespace std::chrono_literals;

const framing_limits limits{10s, 1024, 4096};

std::optional<framing_answer> answer(bhttp::error e, bool request_line_read = true) {
  read_progress p;
  p.got_bytes = true;
  p.request_line_read = request_line_read;
  return answer_unreadable_request(bhttp::make_error_code(e), p, limits);
}

read_progress timed_out(bool got_bytes, bool in_body) {
  read_progress p;
  p.timed_out = true;
  p.got_bytes = got_bytes;
  p.request_line_read = in_body;
  p.in_body = in_body;
  return p;
}

TEST(request_framing, malformed_framing_gets_400) {
  for (auto e : {bhttp::error::bad_content_length, bhttp::error::bad_transfer_encoding,
                 bhttp::error::multiple_content_length, bhttp::error::bad_chunk,
                 bhttp::error::bad_method, bhttp::error::bad_target, bhttp::error::bad_version,
                 bhttp::error::bad_field, bhttp::error::bad_value, bhttp::error::bad_line_ending}) {
    auto a = answer(e);
    ASSERT_TRUE(a) << static_cast<int>(e);
    EXPECT_EQ(a->status, 400u);
    EXPECT_TRUE(a->text.starts_with("Bad Request: malformed HTTP request")) << a->text;
  }
}

TEST(request_framing, headers_past_the_bound_get_431_and_a_long_request_line_414) {
  auto a = answer(bhttp::error::header_limit, false);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->status, 414u);
  EXPECT_EQ(a->text, "URI Too Long: the request line exceeds 1024 bytes");
  a = answer(bhttp::error::header_limit, true);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->status, 431u);
  EXPECT_EQ(a->text, "Request Header Fields Too Large: the request headers exceed 1024 bytes");
}

TEST(request_framing, a_body_past_the_bound_gets_413) {
  auto a = answer(bhttp::error::body_limit);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->status, 413u);
  EXPECT_EQ(a->text, "request body exceeds 4096 bytes");
}

TEST(request_framing, late_headers_get_408_but_a_silent_connection_nothing) {
  const auto aborted = make_error_code(boost::asio::error::operation_aborted);
  auto late = answer_unreadable_request(aborted, timed_out(true, false), limits);
  ASSERT_TRUE(late);
  EXPECT_EQ(late->status, 408u);
  EXPECT_EQ(late->text, "Request Timeout: the request headers did not arrive within 10 s");
  EXPECT_FALSE(answer_unreadable_request(aborted, timed_out(false, false), limits));
  auto body = answer_unreadable_request(aborted, timed_out(true, true), limits);
  ASSERT_TRUE(body);
  EXPECT_EQ(body->status, 408u);
}

TEST(request_framing, a_client_that_left_gets_nothing) {
  EXPECT_FALSE(answer(bhttp::error::end_of_stream));
  EXPECT_FALSE(answer(bhttp::error::partial_message));
  EXPECT_FALSE(answer_unreadable_request(make_error_code(boost::asio::error::connection_reset),
                                         read_progress{false, true, true, false}, limits));
}

TEST(request_framing, header_fields_are_counted_and_host_must_be_single) {
  EXPECT_FALSE(check_header_fields(10, 1, 11, 100));
  auto many = check_header_fields(101, 1, 11, 100);
  ASSERT_TRUE(many);
  EXPECT_EQ(many->status, 431u);
  auto twice = check_header_fields(3, 2, 11, 100);
  ASSERT_TRUE(twice);
  EXPECT_EQ(twice->status, 400u);
  EXPECT_EQ(twice->text, "Bad Request: more than one Host header");
  auto none = check_header_fields(3, 0, 11, 100);
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 400u);
  EXPECT_FALSE(check_header_fields(3, 0, 10, 100));  // HTTP/1.0 may leave Host out
}

}  // namespace
}  // namespace mcp_proxy::http
