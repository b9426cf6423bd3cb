#pragma once
// The one session dispatch of the client-facing frontends (Streamable HTTP, legacy HTTP+SSE,
// stdio): what a client's payload becomes in a core::endpoint. Each frontend keeps only its own
// framing and I/O: it parses the payload, dispatches it here, and carries out the outcome in its
// own form (an HTTP status and a JSON body or an event stream, events on the legacy stream,
// lines on stdout). A new era, auth or metrics plug in here once for all three.
// Thread-safety: the endpoint's executor. Cancellation: none (the endpoint bounds each call).

#include "core/endpoint.hpp"
#include "jsonrpc/message.hpp"

#include <boost/asio/awaitable.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mcp_proxy::frontend {

// A message of an initialized session, in the endpoint: a request answered at once (`answer`),
// a request in flight whose events the frontend relays (`call`), or nothing owed (a
// notification or a response: HTTP answers 202).
struct dispatched {
  std::optional<jsonrpc::message> answer;
  std::optional<core::call_started> call;
};
boost::asio::awaitable<dispatched> dispatch(core::endpoint& ep,
                                            std::shared_ptr<core::client_session> s,
                                            jsonrpc::message msg);

// Why a batch cannot be taken in a session that negotiated `version`: JSON-RPC batches exist
// only up to 2025-03-26 (removed in 2025-06-18), and initialize never rides in one (2025-03-26
// basic/lifecycle). nullopt when it can.
std::optional<std::string> batch_refusal(const jsonrpc::payload& batch, std::string_view version);

// A batch of an initialized session: the answers owed at once (errors for items that are not
// valid messages, requests answered at once), and the calls in flight, each in order.
struct dispatched_batch {
  std::vector<jsonrpc::message> answers;
  std::vector<core::call_started> calls;
};
boost::asio::awaitable<dispatched_batch> dispatch_batch(core::endpoint& ep,
                                                        std::shared_ptr<core::client_session> s,
                                                        jsonrpc::payload batch);

// A message that comes before its session exists (legacy HTTP+SSE, stdio): initialize opens one
// (`opened`: the endpoint's outcome); any other request gets `error`; the rest is dropped.
struct opening {
  std::optional<core::initialize_outcome> opened;
  std::optional<jsonrpc::message> error;
};
boost::asio::awaitable<opening> open_session(core::endpoint& ep, jsonrpc::message msg,
                                             core::session_narrowing narrowing);

}  // namespace mcp_proxy::frontend
