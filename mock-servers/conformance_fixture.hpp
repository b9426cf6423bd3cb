#pragma once
// `--fixture conformance`: the tools, resources, resource templates, prompts, completions and
// behaviours that the server scenarios of the official suite (@modelcontextprotocol/conformance)
// expect, written from the scenarios' stated requirements. Served over stdio beside the mock's
// own tools. See docs/conformance.md.
// Thread-safety: every function may be called from any thread; tool calls run on worker threads
// (they wait, send notifications, and ask the client for sampling or elicitation).

#include "jsonrpc/message.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

namespace mock::fixture {

// The capabilities the fixture serves (merged into the initialize result).
boost::json::object capabilities();
// Remembers what the client can do (sampling, elicitation) from its initialize params.
void on_initialize(const boost::json::object& params);
// The fixture's tools, for tools/list.
boost::json::array tools();
// tools/call of a fixture tool: answers (later, from a worker thread) and returns true; false
// when `name` is not a fixture tool.
bool call_tool(const boost::json::value& id, std::string_view name,
               const boost::json::object& params);
// The fixture's other methods (resources/*, prompts/*, completion/complete, logging/setLevel):
// answers and returns true; false for a method it does not serve.
bool handle_request(std::string_view method, const boost::json::value& id,
                    const boost::json::object& params);

}  // namespace mock::fixture
