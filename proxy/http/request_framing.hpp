#pragma once
// What a client whose HTTP request could not be read is told before its connection closes
// (RFC 9110 section 15.5, RFC 9112 sections 3 and 6.3, RFC 6585 section 5): 400 for malformed
// framing (a bad Content-Length, Content-Length with Transfer-Encoding, bad chunks, a bad
// request line or field), 408 for a request that did not arrive in time, 413 for a body past
// maxBodyBytes, 414 for a request line longer than maxHeaderBytes, 431 for headers past it.
// Plain functions over the parser's error; the listener writes the answer.
// Thread-safety: plain functions.

#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mcp_proxy::http {

struct framing_limits {
  std::chrono::milliseconds header_timeout{10'000};
  std::uint64_t max_header_bytes = 16 * 1024;
  std::uint64_t max_body_bytes = 32ull << 20;
};

struct framing_answer {
  unsigned status = 400;
  std::string text;  // the JSON-RPC error's message
  bool operator==(const framing_answer&) const = default;
};

// How far reading a request got.
struct read_progress {
  bool timed_out = false;          // its deadline passed (the read was cancelled)
  bool got_bytes = false;          // any byte of this request arrived
  bool request_line_read = false;  // the parser has its method and target
  bool in_body = false;            // the headers were in
};
// `ec`: how reading the request ended. nullopt: nothing to answer (the client closed, or went
// quiet before sending anything).
std::optional<framing_answer> answer_unreadable_request(boost::system::error_code ec,
                                                        const read_progress& progress,
                                                        const framing_limits& limits);

// The checks of a request's header fields once they are in: the count (431 past
// `max_headers`) and Host (400 when repeated, or missing from an HTTP/1.1 request, RFC 9112
// section 3.2).
std::optional<framing_answer> check_header_fields(std::size_t fields, std::size_t host_fields,
                                                  unsigned version, std::uint64_t max_headers);

}  // namespace mcp_proxy::http
