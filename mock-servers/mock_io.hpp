#pragma once
// The stdio side of the mock MCP server: one writer for stdout shared by every thread, and the
// broker for requests the server sends to its client (sampling, elicitation): a worker thread
// sends a request with an id of ours and blocks until the stdin reader hands it the matching
// response. Thread-safety: every function may be called from any thread.

#include "jsonrpc/message.hpp"

#include <chrono>
#include <functional>
#include <optional>
#include <string_view>

namespace mock {

// Writes one message as one line on stdout (whole lines, never interleaved).
void emit(const mcp_proxy::jsonrpc::message& m);

// Sends `method` to the client and waits for its answer (a response or an error response).
// nullopt when the client did not answer within `timeout` (the client is then sent
// notifications/cancelled) or stdin closed meanwhile.
std::optional<mcp_proxy::jsonrpc::message> request_client(std::string_view method,
                                                          boost::json::object params,
                                                          std::chrono::milliseconds timeout);

// For the stdin reader: a response from the client. True when a request_client waiter took it.
bool route_response(const mcp_proxy::jsonrpc::message& response);

// stdin closed: wakes every waiter (each gets nullopt) and refuses new requests.
void close_client_requests();

// The client cancelled request `id` (notifications/cancelled): the tool answering it stays silent.
void note_cancelled(const boost::json::value& id);
// Whether request `id` was cancelled; forgets it.
bool take_cancelled(const boost::json::value& id);

// Runs `work` on a detached thread that wait_for_workers can wait for.
void run_worker(std::function<void()> work);
// Waits until every worker ended, at most `limit`.
void wait_for_workers(std::chrono::milliseconds limit);

}  // namespace mock
