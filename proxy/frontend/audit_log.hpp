#pragma once
// The audit log (issue #16, mcpProxy.auditLog): one JSON line per client request, written when
// it is answered: when, who, which route, method, tool/prompt/resource, backend, outcome, how
// long it took and the request id. Never a body, a token or an argument. The line's form is a
// pure function (audit_line, tested); the sink is a file opened for appending, or standard error.
// The same record is the request line of the log (issue #17): at debug, or at info for a server
// with options.logEnabled (request_log_text and request_log_fields, for the JSON log format).
// Thread-safety: the I/O thread.

#include "jsonrpc/message.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mcp_proxy::frontend {

struct audit_entry {
  std::chrono::system_clock::time_point at;  // when the request came in
  std::string identity;  // the principal, or "peer:ADDRESS" / "stdio" for a client without one
  std::string route;     // the server or group; "" for the merged endpoint
  std::string method;
  std::string target;   // the tool or prompt name, or the resource URI; "" when none
  std::string backend;  // the server that answered; "" when the proxy answered itself
  // "ok", "error" (a JSON-RPC error: `code`), "refused" (a limit: code -32029), "timeout"
  // (-32001), or "no answer" (cancelled, or the session ended first).
  std::string outcome;
  std::optional<std::int64_t> code;
  double ms = 0;
  boost::json::value id;  // the client's request id
};

// The entry's JSON line (no newline). Timestamps are UTC with milliseconds and a "Z".
std::string audit_line(const audit_entry& e);

// The outcome of an answer, into `e` (outcome and code).
void set_outcome(audit_entry& e, const jsonrpc::message& answer);

// The tool or prompt name, or resource URI, a request is about ("" for other methods).
std::string audit_target(const jsonrpc::message& request);

// The request line of the log: "request route=github method=tools/call target=search ..."
// (protocol::logfmt_value quotes what is not a plain word), and its fields for the JSON format.
std::string request_log_text(const audit_entry& e);
boost::json::object request_log_fields(const audit_entry& e);

// The servers with options.logEnabled (TBXark's): requests on their routes, and requests a
// merged endpoint sends them, are logged at info instead of debug. Set at start.
void set_request_log_servers(std::vector<std::string> names);

// Opens the sink from mcpProxy.auditLog ("stderr", or a file appended to); "" turns it off. An
// error says why the file cannot be opened.
std::optional<std::string> set_audit_log(const std::string& where);
bool audit_on();
// Whether requests need an audit_entry: the audit log is on, or the request line is logged.
bool request_record_on();
// Writes the audit line (when the audit log is on) and logs the request line.
void write_audit(const audit_entry& e);

}  // namespace mcp_proxy::frontend
