#pragma once
// What every JSON-RPC request of a client passes, in every frontend (issue #16): the limits of
// its identity (mcpProxy.limits: requests and tool calls per second, per tool pattern, calls in
// flight; auth/rate_limits.hpp keeps the buckets) and the audit log (mcpProxy.auditLog,
// frontend/audit_log.hpp). Whose limits a request counts against is its session's
// `limits_key`: the principal auth gave the client ("token:NAME", "jwt:SUB",
// "introspection:SUB"), or for a client without one "peer:ADDRESS" (HTTP) or "stdio".
//
// A refused request is answered with a JSON-RPC error (rate_limited, with data.retryAfter in
// seconds and data.limit naming the limit); the HTTP frontends send it with status 429 and
// Retry-After (retry_after_of).
//
// Thread-safety: the I/O thread (one set of limits for the process, like the CORS policy).

#include "auth/rate_limits.hpp"
#include "core/endpoint.hpp"
#include "jsonrpc/message.hpp"

#include <chrono>
#include <memory>
#include <optional>
#include <string_view>

namespace mcp_proxy::frontend {

// The limits key of the stdio client.
inline constexpr std::string_view stdio_limits_key = "stdio";

// Set once at start from mcpProxy.limits (checked by the config); nullopt: no limits.
void set_call_limits(std::optional<auth::limits_config> config);

// One request's way through the gate.
struct gate_pass {
  // The error to answer with, when a limit refused the request (already audited).
  std::optional<jsonrpc::message> refused;
  // Null when neither limits nor the request record (the audit log, the request log line) are
  // on. Else: the request's watch, to attach to its call (core::call_started::watcher), or to
  // tell its answer now (answered_now).
  std::shared_ptr<core::call_watcher> watcher;
};
// A message of a client of `route` (the endpoint's name) whose session narrowing is `who`. A
// request takes a token of the identity's request bucket, a tools/call also of its tool-call
// buckets, and a slot of its calls in flight, held by the watcher until the call's answer.
// Notifications and responses pass untouched.
gate_pass enter_gate(const protocol::session_narrowing& who, std::string_view route,
                     const jsonrpc::message& msg);
// The request was answered by the proxy itself (or by a merged endpoint) with `answer`.
void answered_now(gate_pass& pass, const jsonrpc::message& answer);

// The Retry-After of an answer that refused a request for a limit (an HTTP frontend sends it
// with 429); nullopt for any other message.
std::optional<std::chrono::seconds> retry_after_of(const jsonrpc::message& answer);

}  // namespace mcp_proxy::frontend
