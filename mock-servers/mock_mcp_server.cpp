// A deterministic MCP server over stdio for tests and the bundled default config. Built on the
// proxy's JSON-RPC core. Tools:
//   echo {text}            -> the text
//   add {a, b}             -> the sum, as text and structuredContent
//   sleep {ms}             -> answers after ms (answers may come out of order)
//   progress {steps, interval_ms}
//                          -> sends `steps` progress notifications when a progressToken is given,
//                             interval_ms apart (then answers after one more interval)
//   log {text}             -> sends a notifications/message, then answers
//   big {bytes}            -> a text of that many bytes, on one stdout line
//   stderr_flood {lines}   -> writes that many lines to stderr, then answers
//   crash {}               -> exits with code 3 without answering
//   pid {}                 -> this process's id (tests tell backend processes apart)
//   env {name}             -> the value of an environment variable ("" when unset)
//   cwd {}                 -> the working directory
//   change_tools {}        -> answers, then sends notifications/tools/list_changed
//   nested {depth}         -> structuredContent nested `depth` objects deep
//   meta {}                -> the request's params._meta as structuredContent (and its JSON
//                             text); in the modern era as the client sent it (the 2026-07-28
//                             keys included), so tests see what a request carried
// Options: --name NAME, --ignore-sigterm, --linger-ms N (stay alive N ms after stdin closes),
// --spawn-grandchild PATH (fork a process that sleeps until killed, holding stdout and stderr,
// and write its pid to PATH; with --ignore-sigterm it ignores SIGTERM too; with --escape-group it
// leaves the process group with setsid, as a daemon would),
// --ignore-pings-while PATH (answers no ping while the file PATH exists: a backend that stops
// answering pings, and answers again once the file is removed, for the proxy's ping supervision),
// --fixture conformance (adds the tools, resources, prompts, completions and behaviours the
// official conformance suite's server scenarios expect: conformance_fixture.hpp),
// --http HOST:PORT (serve over HTTP instead of stdio, with --drip-ms, --drop-after-events,
// --close-stream-after-ms, --event-stream-answers, --hold-after-bytes and --hold-until:
// mock_http.hpp; and --bearer-token-file FILE: every HTTP request must
// carry `Authorization: Bearer <FILE's content, trimmed>`, re-read per request, else 401 with
// `WWW-Authenticate: Bearer error="invalid_token"`: mock_modern_http.hpp), and the synthetic
// load and
// fault flags of synthetic.hpp (--tools N, --page-size K, --latency-ms A-B, --crash-after K, ...).
// --era legacy|modern|dual: the protocol era served (mock_modern.hpp; over HTTP,
// mock_modern_http.hpp): legacy (the default) is 2024-11-05 .. 2025-11-25 only, modern is
// 2026-07-28 only, dual serves each request in its own era.

#include "conformance_fixture.hpp"
#include "jsonrpc/message.hpp"
#include "mock_http.hpp"
#include "mock_io.hpp"
#include "mock_modern.hpp"
#include "mock_modern_http.hpp"
#include "synthetic.hpp"

#include <boost/json.hpp>

#include <unistd.h>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstring>
#include <iostream>
#include <string>
#include <thread>

namespace json = boost::json;
using mcp_proxy::jsonrpc::message;

namespace {

using mock::emit;

std::string server_name = "mock-mcp-server";
bool conformance_fixture = false;
const char* ignore_pings_while = nullptr;  // --ignore-pings-while PATH

json::object text_result(std::string text) {
  return {{"content", json::array{json::object{{"type", "text"}, {"text", std::move(text)}}}}};
}

json::object tool(std::string_view name, std::string_view description, json::object properties,
                  json::array required = {}) {
  return {{"name", name},
          {"description", description},
          {"inputSchema", json::object{{"type", "object"},
                                       {"properties", std::move(properties)},
                                       {"required", std::move(required)}}}};
}

// Declares the shape of the tool's structuredContent (spec: server/tools, Output Schema).
json::object with_output_schema(json::object tool, json::object schema) {
  tool["outputSchema"] = std::move(schema);
  return tool;
}

json::array tool_list() {
  json::object integer{{"type", "integer"}};
  json::object number{{"type", "number"}};
  json::object string{{"type", "string"}};
  return {
      tool("echo", "Returns its text", {{"text", string}}, {"text"}),
      with_output_schema(
          tool("add", "Adds two numbers", {{"a", number}, {"b", number}}, {"a", "b"}),
          {{"type", "object"},
           {"properties", json::object{{"sum", number}}},
           {"required", json::array{"sum"}}}),
      tool("sleep", "Answers after ms milliseconds", {{"ms", integer}}, {"ms"}),
      tool("progress", "Reports progress steps times",
           {{"steps", integer}, {"interval_ms", integer}}),
      tool("log", "Sends a log message, then answers", {{"text", string}}),
      tool("big",
           "Returns a text of the given size (after one progress step when given a progress token)",
           {{"bytes", integer}}, {"bytes"}),
      tool("stderr_flood", "Writes lines to stderr", {{"lines", integer}}, {"lines"}),
      tool("nested", "Returns structuredContent nested depth levels deep", {{"depth", integer}},
           {"depth"}),
      tool("crash", "Exits without answering", {}),
      tool("pid", "Returns the server's process id", {}),
      tool("env", "Returns an environment variable", {{"name", string}}, {"name"}),
      tool("cwd", "Returns the working directory", {}),
      tool("change_tools", "Announces a tools/list_changed", {}),
      tool("meta", "Returns the request's _meta", {}),
  };
}

std::int64_t int_arg(const json::object& args, std::string_view key, std::int64_t fallback) {
  auto* v = args.if_contains(key);
  if (!v) return fallback;
  boost::system::error_code ec;
  auto n = v->to_number<std::int64_t>(ec);
  return ec ? fallback : n;
}

void call_tool(const json::value& id, const json::object& params) {
  std::string name;
  if (auto* n = params.if_contains("name"); n && n->is_string()) name = n->get_string();
  json::object args;
  if (auto* a = params.if_contains("arguments"); a && a->is_object()) args = a->get_object();

  if (conformance_fixture && mock::fixture::call_tool(id, name, params)) return;
  if (auto generated = mock::synthetic::call_generated_tool(name, args)) {
    emit(message::response(id, std::move(generated->result)));
    return;
  }
  if (name == "echo") {
    auto* t = args.if_contains("text");
    emit(message::response(id,
                           text_result(t && t->is_string() ? std::string(t->get_string()) : "")));
  } else if (name == "add") {
    boost::system::error_code e1, e2;
    double a = args.contains("a") ? args.at("a").to_number<double>(e1) : 0;
    double b = args.contains("b") ? args.at("b").to_number<double>(e2) : 0;
    if (e1 || e2) {
      emit(message::error_response(id, -32602, "add: a and b must be numbers"));
      return;
    }
    // The structured result is also given as its JSON text (spec: server/tools, Structured
    // Content); an integral sum is an integer, so the text reads {"sum":42}.
    const double sum = a + b;
    json::object structured;
    if (std::abs(sum) < 9e15 && sum == static_cast<double>(static_cast<std::int64_t>(sum)))
      structured["sum"] = static_cast<std::int64_t>(sum);
    else
      structured["sum"] = sum;
    auto result = text_result(json::serialize(structured));
    result["structuredContent"] = std::move(structured);
    emit(message::response(id, std::move(result)));
  } else if (name == "sleep") {
    auto ms = int_arg(args, "ms", 0);
    std::thread([id, ms, scope = mock::thread_scope()] {
      mock::scope_guard in(scope);  // a modern request's answer goes where its scope says
      std::this_thread::sleep_for(std::chrono::milliseconds(ms));
      // A cancelled request gets no response (spec: basic/utilities/cancellation).
      if (mock::take_cancelled(id)) return;
      emit(message::response(id, text_result("slept " + std::to_string(ms) + " ms")));
    }).detach();
  } else if (name == "progress") {
    auto steps = int_arg(args, "steps", 3);
    auto interval = int_arg(args, "interval_ms", 0);
    json::value token;
    if (auto* meta = params.if_contains("_meta"); meta && meta->is_object())
      if (auto* t = meta->get_object().if_contains("progressToken")) token = *t;
    auto report = [id = json::value(id), token, steps, interval] {
      for (std::int64_t i = 1; !token.is_null() && i <= steps; ++i) {
        if (i > 1 && interval > 0) std::this_thread::sleep_for(std::chrono::milliseconds(interval));
        emit(message::notification("notifications/progress",
                                   {{"progressToken", token}, {"progress", i}, {"total", steps}}));
      }
      if (interval > 0) std::this_thread::sleep_for(std::chrono::milliseconds(interval));
      emit(message::response(id, text_result("done " + std::to_string(steps) + " steps")));
    };
    if (interval > 0)
      mock::run_worker(report);  // paced: other requests are answered meanwhile
    else
      report();
  } else if (name == "log") {
    auto* t = args.if_contains("text");
    emit(message::notification(
        "notifications/message",
        {{"level", "info"}, {"logger", server_name}, {"data", t ? *t : json::value("log")}}));
    emit(message::response(id, text_result("logged")));
  } else if (name == "big") {
    auto bytes = int_arg(args, "bytes", 0);
    if (bytes < 0 || bytes > (256 << 20)) {
      emit(message::error_response(id, -32602, "big: bytes must be 0..268435456"));
      return;
    }
    // With a progress token, one progress step first (over HTTP the answer is then an event
    // stream, which the proxy may pass on as it arrives).
    if (auto* meta = params.if_contains("_meta"); meta && meta->is_object())
      if (auto* token = meta->get_object().if_contains("progressToken"))
        emit(message::notification("notifications/progress",
                                   {{"progressToken", *token}, {"progress", 0}, {"total", 1}}));
    emit(message::response(id, text_result(std::string(static_cast<std::size_t>(bytes), 'x'))));
  } else if (name == "stderr_flood") {
    auto lines = int_arg(args, "lines", 0);
    std::string line(200, 'e');
    line.push_back('\n');
    for (std::int64_t i = 0; i < lines; ++i) std::fwrite(line.data(), 1, line.size(), stderr);
    std::fflush(stderr);
    emit(message::response(id, text_result("wrote " + std::to_string(lines) + " lines")));
  } else if (name == "nested") {
    auto depth = int_arg(args, "depth", 1);
    if (depth < 1 || depth > 100000) {
      emit(message::error_response(id, -32602, "nested: depth must be 1..100000"));
      return;
    }
    // Written as text: building it as a json::value would recurse as deep on destruction.
    std::string inner;
    for (std::int64_t i = 0; i < depth; ++i) inner += "{\"n\":";
    inner += "0";
    inner.append(static_cast<std::size_t>(depth), '}');
    std::string line =
        R"({"jsonrpc":"2.0","id":)" + json::serialize(id) +
        R"(,"result":{"content":[{"type":"text","text":"nested"}],"structuredContent":)" + inner +
        "}}";
    mock::emit_line(line);
  } else if (name == "pid") {
    emit(message::response(id, text_result(std::to_string(::getpid()))));
  } else if (name == "env") {
    auto* n = args.if_contains("name");
    const char* value = n && n->is_string() ? std::getenv(n->get_string().c_str()) : nullptr;
    emit(message::response(id, text_result(value ? value : "")));
  } else if (name == "cwd") {
    char buf[4096];
    emit(message::response(id, text_result(::getcwd(buf, sizeof buf) ? buf : "")));
  } else if (name == "change_tools") {
    mock::synthetic::grow_tools();
    emit(message::response(id, text_result("changed")));
    emit(message::notification("notifications/tools/list_changed"));
  } else if (name == "meta") {
    json::object meta;
    if (auto* m = params.if_contains("_meta"); m && m->is_object()) meta = m->get_object();
    auto result = text_result(json::serialize(meta));
    result["structuredContent"] = std::move(meta);
    emit(message::response(id, std::move(result)));
  } else if (name == "crash") {
    std::_Exit(3);
  } else {
    emit(message::error_response(id, -32602, "unknown tool: " + name));
  }
}

json::object server_capabilities() {
  json::object capabilities{{"tools", json::object{{"listChanged", true}}},
                            {"logging", json::object{}}};
  if (conformance_fixture) capabilities = mock::fixture::capabilities();
  mock::synthetic::add_capabilities(capabilities);
  return capabilities;
}

constexpr std::string_view instructions = "A deterministic mock MCP server for tests.";

void handle(const message& m) {
  // A response answers a request the fixture sent to the client; other notifications and
  // responses need no answer here.
  if (m.is_response()) mock::route_response(m);
  if (m.is_notification() && m.method() == "notifications/cancelled" && m.params_object()) {
    if (auto* rid = m.params_object()->if_contains("requestId")) mock::note_cancelled(*rid);
  }
  if (!m.is_request() || mock::synthetic::hanging()) return;
  const json::value& id = *m.id();
  json::object params = m.params_object() ? *m.params_object() : json::object{};
  std::string_view method = m.method();
  if (method == "initialize") {
    std::string version = "2025-11-25";
    if (auto* v = params.if_contains("protocolVersion"); v && v->is_string()) {
      std::string_view requested = v->get_string();
      if (requested == "2024-11-05" || requested == "2025-03-26" || requested == "2025-06-18")
        version = requested;
    }
    if (conformance_fixture) mock::fixture::on_initialize(params);
    emit(message::response(
        id, json::object{{"protocolVersion", version},
                         {"capabilities", server_capabilities()},
                         {"serverInfo", json::object{{"name", server_name}, {"version", "1.0.0"}}},
                         {"instructions", instructions}}));
  } else if (method == "ping") {
    if (ignore_pings_while && ::access(ignore_pings_while, F_OK) == 0) {
      std::fprintf(stderr, "mock-mcp-server: ignoring a ping (%s exists)\n", ignore_pings_while);
      return;
    }
    emit(message::response(id, json::object{}));
  } else if (method == "tools/list") {
    json::array tools = tool_list();
    if (conformance_fixture) {
      json::array all = mock::fixture::tools();
      for (auto& t : tools) all.push_back(std::move(t));
      tools = std::move(all);
    }
    mock::synthetic::append_tools(tools);
    auto page = mock::synthetic::page("tools", std::move(tools), params);
    auto answer = page.error.empty() ? message::response(id, std::move(page.result))
                                     : message::error_response(id, -32602, page.error);
    if (const long delay = mock::synthetic::list_delay_ms(); delay > 0) {
      mock::run_after(std::chrono::milliseconds(delay),
                      [answer = std::move(answer)] { emit(answer); });
    } else {
      emit(answer);
    }
  } else if (method == "tools/call") {
    auto plan = mock::synthetic::next_call();
    if (plan.what == mock::synthetic::fate::crash) std::_Exit(3);
    if (plan.what == mock::synthetic::fate::hang) return;
    if (plan.delay_ms == 0) {
      call_tool(id, params);
    } else {
      // call_tool is quick: the tools that block or sleep start threads of their own.
      mock::run_after(std::chrono::milliseconds(plan.delay_ms),
                      [id = json::value(id), params] { call_tool(id, params); });
    }
  } else if (auto generated = mock::synthetic::handle_request(method, params)) {
    if (generated->error_code != 0)
      emit(message::error_response(id, generated->error_code, generated->error_message));
    else
      emit(message::response(id, std::move(generated->result)));
  } else if (conformance_fixture && mock::fixture::handle_request(method, id, params)) {
    // answered by the fixture
  } else if (method == "logging/setLevel") {
    emit(message::response(id, json::object{}));
  } else {
    emit(message::error_response(id, -32601, "Method not found: " + std::string(method)));
  }
}

// A process that sleeps until killed, holding this one's stdout and stderr (as a wrapper's
// leftover would); its pid goes to `pid_file`. It inherits the SIGTERM disposition.
bool spawn_grandchild(const char* pid_file, bool escape_group) {
  const pid_t pid = ::fork();
  if (pid < 0) {
    std::perror("mock-mcp-server: fork");
    return false;
  }
  if (pid == 0) {
    if (escape_group) ::setsid();
    ::close(0);
    for (;;) ::pause();
  }
  FILE* f = std::fopen(pid_file, "w");
  if (!f) {
    std::perror("mock-mcp-server: --spawn-grandchild");
    return false;
  }
  std::fprintf(f, "%d\n", static_cast<int>(pid));
  std::fclose(f);
  return true;
}

// --help: every option main, mock_http.cpp, mock_modern_http.cpp and synthetic.cpp accept.
constexpr std::string_view usage = R"(Usage: mock-mcp-server [OPTIONS]

A deterministic MCP server for tests and the bundled default config. It speaks MCP over
stdin/stdout (one JSON-RPC message a line), or over HTTP with --http. Tools: echo, add, sleep,
progress, log, big, stderr_flood, crash, pid, env, cwd, change_tools, nested, meta.

Server:
  --name NAME                 serverInfo.name (default: mock-mcp-server)
  --era legacy|modern|dual    the protocol era served: legacy (default) is 2024-11-05 ..
                              2025-11-25, modern is 2026-07-28, dual serves each request in its
                              own era
  --fixture conformance       add the tools, resources, prompts and behaviours the official
                              conformance suite's server scenarios expect
  -h, --help                  print this help and exit

HTTP (instead of stdio):
  --http HOST:PORT            serve Streamable HTTP at /mock/mcp and legacy HTTP+SSE at /mock/sse
                              (port 0: any free port, printed on stderr)
  --bearer-token-file FILE    every request must carry Authorization: Bearer <FILE's content>,
                              re-read per request; else 401
  --drip-ms N                 write event streams 8 bytes at a time, one piece every N ms
  --drop-after-events K       cut a POST's event stream after K events, before its response
  --close-stream-after-ms N   end the stream of a call still running N ms after its POST (the
                              client resumes with GET)
  --event-stream-answers      answer every POSTed request with an event stream
  --hold-after-bytes N        an event longer than N bytes: write N bytes of it, then wait for
                              the --hold-until file before the rest (without one: cut there)
  --hold-until PATH           the file that releases a held event (30 s at most)

Process behaviour:
  --ignore-sigterm            ignore SIGTERM
  --linger-ms N               stay alive N ms after stdin closes
  --spawn-grandchild PATH     fork a process that sleeps until killed, holding stdout and
                              stderr, and write its pid to PATH
  --escape-group              with --spawn-grandchild: the grandchild leaves the process group
  --ignore-pings-while PATH   answer no ping while the file PATH exists
  --ignore-pings-while PATH   answer no ping while the file PATH exists

Generated items and faults:
  --tools N                   N generated tools (gen_tool_0001 echoes its arguments)
  --resources N               N generated resources (mock://gen/0001); not with --fixture
  --prompts N                 N generated prompts (gen_prompt_0001); not with --fixture
  --page-size K               list methods answer K items a page with a nextCursor (0: one page)
  --latency-ms A|A-B          answer every tools/call after A ms, or a random time in [A, B]
  --list-latency-ms N         answer every tools/list after N ms
  --crash-after K             answer K tool calls, then exit with code 3 on the next
  --hang-after K              answer K tool calls, then answer nothing at all
  --mute                      answer nothing at all, not even initialize
  --garbage-every K           write a line that is not JSON before every K-th message
  --garbage-bytes N           with --garbage-every: that line's length (default 32)

Exit status: 0 when stdin closes (or on SIGINT/SIGTERM over HTTP), 2 for a bad option, 3 after
the crash tool or --crash-after.
)";

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i)
    if (!std::strcmp(argv[i], "--help") || !std::strcmp(argv[i], "-h")) {
      std::fwrite(usage.data(), 1, usage.size(), stdout);
      return 0;
    }
  auto era = mock::modern::era::legacy;
  bool over_http = false;
  bool bearer_token = false;
  for (int i = 1; i < argc; ++i) {
    over_http = over_http || !std::strcmp(argv[i], "--http");
    bearer_token = bearer_token || !std::strcmp(argv[i], "--bearer-token-file");
    if (!std::strcmp(argv[i], "--era") && i + 1 < argc) {
      std::string_view e = argv[i + 1];
      if (e == "modern")
        era = mock::modern::era::modern;
      else if (e == "dual")
        era = mock::modern::era::dual;
      else if (e != "legacy") {
        std::fprintf(stderr, "mock-mcp-server: --era needs legacy, modern or dual\n");
        return 2;
      }
    }
  }
  // Over HTTP in the legacy era, this process only serves; each session's process parses the
  // other options. The modern and dual eras serve modern requests in this process.
  // With --bearer-token-file the token is checked in front of that (mock_modern_http.hpp).
  if (over_http && era == mock::modern::era::legacy && !bearer_token)
    return mock::serve_over_http(argc, argv);
  long linger_ms = 0;
  const char* grandchild_pid_file = nullptr;
  bool escape_group = false;
  for (int i = 1; i < argc; ++i) {
    if (over_http && mock::is_http_option(i, argc, argv)) continue;
    if (!std::strcmp(argv[i], "--era") && i + 1 < argc)
      ++i;  // read above
    else if (!std::strcmp(argv[i], "--name") && i + 1 < argc)
      server_name = argv[++i];
    else if (!std::strcmp(argv[i], "--ignore-sigterm"))
      std::signal(SIGTERM, SIG_IGN);
    else if (!std::strcmp(argv[i], "--linger-ms") && i + 1 < argc)
      linger_ms = std::atol(argv[++i]);
    else if (!std::strcmp(argv[i], "--spawn-grandchild") && i + 1 < argc)
      grandchild_pid_file = argv[++i];
    else if (!std::strcmp(argv[i], "--escape-group"))
      escape_group = true;
    else if (!std::strcmp(argv[i], "--ignore-pings-while") && i + 1 < argc)
      ignore_pings_while = argv[++i];
    else if (!std::strcmp(argv[i], "--fixture") && i + 1 < argc) {
      std::string_view fixture = argv[++i];
      if (fixture != "conformance") {
        std::fprintf(stderr, "mock-mcp-server: unknown fixture '%s' (known: conformance)\n",
                     argv[i]);
        return 2;
      }
      conformance_fixture = true;
    } else if (std::string error; mock::synthetic::parse_flag(i, argc, argv, error)) {
      if (!error.empty()) {
        std::fprintf(stderr, "mock-mcp-server: %s\n", error.c_str());
        return 2;
      }
    } else {
      std::fprintf(stderr, "mock-mcp-server: unknown option '%s' (see --help)\n", argv[i]);
      return 2;
    }
  }
  if (conformance_fixture && mock::synthetic::has_resources_or_prompts()) {
    std::fprintf(stderr,
                 "mock-mcp-server: --resources and --prompts cannot be combined with --fixture "
                 "conformance (it has its own)\n");
    return 2;
  }
  if (era != mock::modern::era::legacy) {
    mock::modern::configure({era, conformance_fixture,
                             json::object{{"name", server_name}, {"version", "1.0.0"}},
                             server_capabilities(), std::string(instructions), handle});
  }
  if (grandchild_pid_file && !spawn_grandchild(grandchild_pid_file, escape_group)) return 2;
  if (over_http) return mock::serve_modern_http(argc, argv);
  if (bearer_token) {
    std::fprintf(stderr, "mock-mcp-server: --bearer-token-file needs --http\n");
    return 2;
  }
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line.empty()) continue;
    auto parsed = mcp_proxy::jsonrpc::parse(line);
    if (!parsed) {
      emit(mcp_proxy::jsonrpc::to_error_response(parsed.error()));
      continue;
    }
    if (era == mock::modern::era::legacy)
      handle(*parsed);
    else
      mock::modern::on_stdio_message(*parsed);
  }
  // Tools waiting for the client give up; let them finish their last line.
  mock::close_client_requests();
  mock::wait_for_workers(std::chrono::seconds(2));
  if (linger_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(linger_ms));
  return 0;
}
