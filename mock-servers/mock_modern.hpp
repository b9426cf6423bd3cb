#pragma once
// `--era modern|dual`: the mock as a 2026-07-28 ("modern") server (spec 2026-07-28: basic/index,
// basic/versioning, server/discover, basic/patterns/mrtr, basic/patterns/subscriptions).
// Each modern request is served on its own, from its own _meta: the mock's tools run as in the
// legacy era inside a request scope (mock_io.hpp) that turns what they emit into modern answers
// (resultType, serverInfo, ttlMs/cacheScope, -32602 for a resource not found), keeps log
// messages to requests that set a level, and sends list changes to the open listens only.
// Tools that ask the client something answer input_required instead (modern_tools.hpp).
// Thread-safety: configure() once in main; everything else from any thread.

#include "mock_io.hpp"

#include "jsonrpc/message.hpp"

#include <boost/json/object.hpp>

#include <functional>
#include <memory>
#include <string>

namespace mock::modern {

enum class era { legacy, modern, dual };

// Where the messages of one request (or one listen) go once they are modern: stdout, or an HTTP
// response stream. Called from any thread; must not block for long.
using sink = std::function<void(const mcp_proxy::jsonrpc::message&)>;

struct settings {
  era served = era::legacy;
  bool fixture = false;              // --fixture conformance
  boost::json::object server_info;   // {name, version}
  boost::json::object capabilities;  // what initialize would declare
  std::string instructions;
  // The legacy era's request handler (main.cpp): runs a request inside a scope.
  std::function<void(const mcp_proxy::jsonrpc::message&)> legacy_handler;
};
void configure(settings s);
const settings& current();
// Whether the calling thread serves a modern request (the fixture adds its modern-only tools).
bool in_modern_request();

// A modern request being served: cancel() makes it silent (a closed HTTP stream, or
// notifications/cancelled on stdio) and tells its tools to stop where they look.
class request_handle {
 public:
  virtual ~request_handle() = default;
  virtual void cancel() = 0;
};

// Serves one modern request whose _meta (and on HTTP, headers) passed check_modern_request: its
// answer and related notifications go to `out`. A subscriptions/listen stays open until
// cancelled. Returns at once; tools run on worker threads.
std::shared_ptr<request_handle> serve(const mcp_proxy::jsonrpc::message& request, sink out);

// stdio in the modern and dual eras: one message read from stdin. In the dual era, what is not
// modern (no _meta claim) goes to the legacy handler; in the modern era, a claim-less initialize
// gets -32022 naming the supported versions (basic/versioning, backward compatibility).
void on_stdio_message(const mcp_proxy::jsonrpc::message& m);

// The error a modern-only server gives a claim-less initialize (or, over HTTP, any claim-less
// request): -32022 with data.supported and data.requested.
mcp_proxy::jsonrpc::message unsupported_version_error(const boost::json::value& id,
                                                      std::string requested);

}  // namespace mock::modern
