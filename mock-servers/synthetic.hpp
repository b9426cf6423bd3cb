#pragma once
// Synthetic load and faults for the mock server, chosen by flags:
//   --tools N, --resources N, --prompts N   N generated items (gen_tool_0001 echoes its
//                                           arguments; mock://gen/0001 reads as text;
//                                           gen_prompt_0001 gives one user message)
//   --page-size K                           tools/list, resources/list, resources/templates/list
//                                           and prompts/list (generated or the fixture's) answer K
//                                           items per page with an opaque nextCursor (an unknown
//                                           cursor is -32602); 0 (default) means one page
//   --latency-ms A or A-B                   every tools/call is answered after A ms, or after a
//                                           uniformly random time in [A, B]
//   --list-latency-ms N                     every tools/list is answered after N ms
//   --crash-after K                         answers K tool calls, then exits (code 3) on the next
//   --hang-after K                          answers K tool calls, then answers nothing at all
//   --mute                                  answers nothing at all, not even initialize
//   --garbage-every K [--garbage-bytes N]   writes a line that is not JSON before every K-th
//                                           message (N bytes long, default 32: large N makes
//                                           oversized lines)
// change_tools (a mock tool) adds one generated tool before announcing list_changed.
// Thread-safety: configured once in main, then read from any thread; counters are atomic.

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace mock::synthetic {

// Consumes argv[i] (and its value) when it is one of the flags above; false otherwise. An invalid
// value sets `error`.
bool parse_flag(int& i, int argc, char** argv, std::string& error);
// Whether generated resources or prompts were asked for (they replace nothing: the conformance
// fixture has its own, so main refuses the combination).
bool has_resources_or_prompts();

// Adds the capabilities of the generated lists.
void add_capabilities(boost::json::object& capabilities);
void append_tools(boost::json::array& tools);
// Adds one generated tool (change_tools).
void grow_tools();

// One page of `items` for a list method's params: the result object, or an error message
// (invalid cursor) for -32602.
struct page_result {
  boost::json::object result;
  std::string error;
};
page_result page(std::string_view key, boost::json::array items, const boost::json::object& params);

// Handles generated tools and the resources/prompts methods when generated items exist: the
// answer (a result, or an error code and message), or nullopt when not theirs.
struct answer {
  boost::json::object result;
  int error_code = 0;  // non-zero: an error answer
  std::string error_message;
};
std::optional<answer> call_generated_tool(std::string_view name, const boost::json::object& args);
std::optional<answer> handle_request(std::string_view method, const boost::json::object& params);

// What to do with the next tool call: answer it (after `delay_ms`), crash, or ignore it (hang).
enum class fate { answer, crash, hang };
struct call_plan {
  fate what = fate::answer;
  long delay_ms = 0;
};
call_plan next_call();
// True once --hang-after has taken effect: nothing is answered any more.
bool hanging();
// --list-latency-ms (0: none).
long list_delay_ms();

// Called before each message is written: a garbage line to write first, or empty.
std::string garbage_before_message();

}  // namespace mock::synthetic
