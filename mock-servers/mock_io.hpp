#pragma once
// The stdio side of the mock MCP server: one writer for stdout shared by every thread, and the
// broker for requests the server sends to its client (sampling, elicitation): a worker thread
// sends a request with an id of ours and blocks until the stdin reader hands it the matching
// response. Thread-safety: every function may be called from any thread.

#include "jsonrpc/message.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>

namespace mock {

// The 2026-07-28 request a thread works for (mock_modern.hpp): what the tools emit while they
// serve it goes to deliver() instead of stdout, which makes it a modern answer, drops what the
// request did not ask for and sends it where that request's answer goes (stdout, or an HTTP
// stream). Threads of the legacy era have none, and write stdout as they always did.
struct request_scope {
  virtual ~request_scope() = default;
  virtual void deliver(mcp_proxy::jsonrpc::message m) = 0;
};
// The scope of the calling thread (null: legacy), and a guard that sets it for a while.
std::shared_ptr<request_scope> thread_scope();
class scope_guard {
 public:
  explicit scope_guard(std::shared_ptr<request_scope> s);
  ~scope_guard();
  scope_guard(const scope_guard&) = delete;
  scope_guard& operator=(const scope_guard&) = delete;

 private:
  std::shared_ptr<request_scope> previous_;
};
// In the dual era, what the legacy side announces (list changes, resource updates) also reaches
// the modern listens: called with every notification written outside a scope (null: nobody).
void set_unscoped_observer(std::function<void(const mcp_proxy::jsonrpc::message&)> observer);

// Writes one message as one line on stdout (whole lines, never interleaved); inside a request
// scope, hands it to the scope instead.
void emit(const mcp_proxy::jsonrpc::message& m);
// Writes one message on stdout whatever the thread's scope (what a scope finally writes).
void write_stdout(const mcp_proxy::jsonrpc::message& m);
// Writes a message built as text (one without a newline), as one line on stdout.
void emit_line(std::string line);

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
// Reported on stderr (report_cancelled).
void note_cancelled(const boost::json::value& id);
// Writes "mock-mcp-server: request ID cancelled (HOW)" to stderr, so a test sees when the
// cancellation of a request reached the server (the proxy logs a stdio backend's stderr).
void report_cancelled(const boost::json::value& id, std::string_view how);
// Whether request `id` was cancelled; forgets it.
bool take_cancelled(const boost::json::value& id);

// Runs `work` on a detached thread that wait_for_workers can wait for (in the caller's scope).
void run_worker(std::function<void()> work);
// Runs `work` after `delay` on the one timer thread, in the caller's scope; wait_for_workers
// waits for it too. Works run one after another in the order they are due, so `work` must be
// quick (what blocks or sleeps gets a run_worker of its own). A thread per delayed answer cost
// the mock a thread's start-up each, which the 64 mocks of the fan-out benchmark paid together.
void run_after(std::chrono::milliseconds delay, std::function<void()> work);
// Waits until every worker ended, at most `limit`.
void wait_for_workers(std::chrono::milliseconds limit);

}  // namespace mock
