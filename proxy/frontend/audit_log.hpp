#pragma once
// The audit log (issue #16, mcpProxy.auditLog): one JSON line per client request, written when
// it is answered: when, who, which route, method, tool/prompt/resource, backend, outcome and how
// long it took. Never a body, a token or an argument. The line's form is a pure function
// (audit_line, tested); the sink is a file opened for appending, or standard error.
// Thread-safety: the I/O thread.

#include "jsonrpc/message.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

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
};

// The entry's JSON line (no newline). Timestamps are UTC with milliseconds and a "Z".
std::string audit_line(const audit_entry& e);

// The outcome of an answer, into `e` (outcome and code).
void set_outcome(audit_entry& e, const jsonrpc::message& answer);

// The tool or prompt name, or resource URI, a request is about ("" for other methods).
std::string audit_target(const jsonrpc::message& request);

// Opens the sink from mcpProxy.auditLog ("stderr", or a file appended to); "" turns it off. An
// error says why the file cannot be opened.
std::optional<std::string> set_audit_log(const std::string& where);
bool audit_on();
void write_audit(const audit_entry& e);

}  // namespace mcp_proxy::frontend
