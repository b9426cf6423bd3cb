#include "http/request_framing.hpp"

#include <boost/beast/http/error.hpp>

namespace mcp_proxy::http {

namespace bhttp = boost::beast::http;

namespace {

std::string seconds_text(std::chrono::milliseconds d) {
  if (d.count() % 1000 == 0) return std::to_string(d.count() / 1000) + " s";
  return std::to_string(d.count()) + " ms";
}

}  // namespace

std::optional<framing_answer> answer_unreadable_request(boost::system::error_code ec,
                                                        const read_progress& progress,
                                                        const framing_limits& limits) {
  if (progress.timed_out) {
    if (!progress.got_bytes) return std::nullopt;  // an idle connection is closed without a word
    if (progress.in_body)
      return framing_answer{408, "Request Timeout: the request body did not arrive in time"};
    return framing_answer{408, "Request Timeout: the request headers did not arrive within " +
                                   seconds_text(limits.header_timeout)};
  }
  if (ec.category() != bhttp::make_error_code(bhttp::error::end_of_stream).category())
    return std::nullopt;  // the connection failed (reset, closed by us): nobody to tell
  switch (static_cast<bhttp::error>(ec.value())) {
    case bhttp::error::end_of_stream:
    case bhttp::error::partial_message:
    case bhttp::error::short_read:
      return std::nullopt;  // the client closed
    case bhttp::error::body_limit:
      return framing_answer{
          413, "request body exceeds " + std::to_string(limits.max_body_bytes) + " bytes"};
    case bhttp::error::header_limit:
      // The request line alone past the bound: the target is what is too long.
      if (!progress.request_line_read)
        return framing_answer{414, "URI Too Long: the request line exceeds " +
                                       std::to_string(limits.max_header_bytes) + " bytes"};
      return framing_answer{431, "Request Header Fields Too Large: the request headers exceed " +
                                     std::to_string(limits.max_header_bytes) + " bytes"};
    default:
      return framing_answer{400, "Bad Request: malformed HTTP request (" + ec.message() + ")"};
  }
}

std::optional<framing_answer> check_header_fields(std::size_t fields, std::size_t host_fields,
                                                  unsigned version, std::uint64_t max_headers) {
  if (fields > max_headers)
    return framing_answer{431, "Request Header Fields Too Large: more than " +
                                   std::to_string(max_headers) + " header fields"};
  if (host_fields > 1) return framing_answer{400, "Bad Request: more than one Host header"};
  if (host_fields == 0 && version >= 11)
    return framing_answer{400, "Bad Request: an HTTP/1.1 request needs a Host header"};
  return std::nullopt;
}

}  // namespace mcp_proxy::http
