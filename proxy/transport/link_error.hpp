#pragma once
// Why a link to a backend ended, or why the backend could not be used, as an error code that
// callers branch on: auto-detection falls back to legacy SSE on `refused_transport`, a timeout
// is -32001 to the client where anything else is -32000. The text that goes with it (for logs
// and clients) stays a string beside it.
// Thread-safety: the category is immutable.

#include <boost/system/error_code.hpp>

#include <type_traits>

namespace mcp_proxy::transport {

enum class link_error {
  stopped = 1,        // the proxy stopped it
  exited,             // the stdio child exited or closed its stdout
  unreachable,        // no connection, or the request could not be written
  refused_transport,  // the server does not speak Streamable HTTP (auto-detection falls back)
  session_expired,    // the server ended the session (HTTP 404) and it was not renewed
  stream_closed,      // the server ended its event stream (legacy HTTP+SSE: the session)
  bad_answer,         // the server answered with something the protocol does not allow
  timed_out,          // no answer in time
  start_failed,       // the command could not be started
  refused,            // the server refused (an error answer to initialize)
};

const boost::system::error_category& link_category();
boost::system::error_code make_error_code(link_error e);

}  // namespace mcp_proxy::transport

template <>
struct boost::system::is_error_code_enum<mcp_proxy::transport::link_error> : std::true_type {};
