#pragma once
// subscriptions/listen of the modern era (spec 2026-07-28 basic/patterns/subscriptions): the open
// listens, each with the notifications it asked for and where they go. The acknowledgment comes
// first, with the subset of the filter this server honours; then only the opted-in list changes
// and resource updates, each tagged with _meta["io.modelcontextprotocol/subscriptionId"] = the
// listen request's id. Never progress or log messages. A listen ends when it is cancelled (stdio:
// notifications/cancelled; HTTP: the stream closed), with nothing more sent.
// Thread-safety: every function may be called from any thread.

#include "mock_modern.hpp"

#include "jsonrpc/message.hpp"

#include <boost/json/object.hpp>

#include <memory>

namespace mock::listens {

// The server's capabilities: what a filter may ask for (listChanged of tools, prompts and
// resources; resources.subscribe for resourceSubscriptions).
void configure(const boost::json::object& capabilities);

// Opens a listen for `request` whose messages go to `out`: sends the acknowledgment (or a -32602
// error when params.notifications is not an object). The handle's cancel() closes it.
std::shared_ptr<modern::request_handle> open(const mcp_proxy::jsonrpc::message& request,
                                             modern::sink out);

// Sends a list change or resource update to each open listen that asked for it.
void publish(const mcp_proxy::jsonrpc::message& notification);

}  // namespace mock::listens
