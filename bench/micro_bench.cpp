// Micro benchmarks of the sans-io core: the per-message work of the proxy's hot paths (parsing and
// serializing JSON-RPC, renaming tools, paging cursors, SSE framing, URI routing). Figures are in
// docs/benchmarks.md ("Micro benchmarks").
#include "jsonrpc/message.hpp"
#include "protocol/composite_cursor.hpp"
#include "protocol/naming.hpp"
#include "protocol/patterns.hpp"
#include "protocol/sse.hpp"
#include "rpc/id_router.hpp"

#include <benchmark/benchmark.h>
#include <boost/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace {

namespace json = boost::json;
using namespace mcp_proxy;

const char* small_request =
    R"({"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"},"_meta":{"progressToken":"t1"}}})";

// Every message a client or backend sends starts here: one small request from text.
void parse_small_request(benchmark::State& state) {
  for (auto _ : state) {
    auto m = jsonrpc::parse(small_request);
    benchmark::DoNotOptimize(m);
  }
}
BENCHMARK(parse_small_request);

// Every forwarded request: its id swapped for a proxy id on the way out and back on the way in.
void round_trip_through_id_router(benchmark::State& state) {
  rpc::id_router router;
  auto base = jsonrpc::parse(small_request).value();
  for (auto _ : state) {
    auto request = base;
    auto id = router.on_client_request(1, request);
    auto response = jsonrpc::message::response(id, json::object{});
    benchmark::DoNotOptimize(router.on_backend_response(response));
  }
}
BENCHMARK(round_trip_through_id_router);

// --- tools/list with 500 tools ---------------------------------------------------------------

json::object make_tool(int i) {
  // A description of about 100 characters, as servers write them.
  std::string description = "Looks up record " + std::to_string(i) +
                            " in the inventory service and returns its fields, history and the "
                            "owner's contact details.";
  json::object props;
  props["id"] = json::object{{"type", "string"}, {"description", "The record's identifier."}};
  props["limit"] = json::object{
      {"type", "integer"}, {"description", "Most history entries to return."}, {"minimum", 1}};
  props["verbose"] =
      json::object{{"type", "boolean"}, {"description", "Include the raw payload as well."}};
  json::object schema{
      {"type", "object"}, {"properties", std::move(props)}, {"required", json::array{"id"}}};
  return json::object{{"name", "lookup_record_" + std::to_string(i)},
                      {"description", std::move(description)},
                      {"inputSchema", std::move(schema)}};
}

std::string tools_list_text(int n) {
  json::array tools;
  for (int i = 0; i < n; ++i) tools.push_back(make_tool(i));
  auto m = jsonrpc::message::response(1, json::object{{"tools", std::move(tools)}});
  return jsonrpc::serialize(m);
}

// A backend's tools/list answer (500 tools), read off the wire.
void parse_tools_list_500(benchmark::State& state) {
  const std::string text = tools_list_text(500);
  for (auto _ : state) {
    auto m = jsonrpc::parse(text);
    benchmark::DoNotOptimize(m);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
  state.SetItemsProcessed(state.iterations() * 500);
}
BENCHMARK(parse_tools_list_500);

// Serializes `m` once per iteration, counting the bytes written.
void serialize_each_iteration(benchmark::State& state, const jsonrpc::message& m) {
  std::size_t bytes = 0;
  for (auto _ : state) {
    auto text = jsonrpc::serialize(m);
    bytes = text.size();
    benchmark::DoNotOptimize(text);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
}

// The (merged) tools/list answer of 500 tools, written to the client.
void serialize_tools_list_500(benchmark::State& state) {
  serialize_each_iteration(state, jsonrpc::parse(tools_list_text(500)).value());
  state.SetItemsProcessed(state.iterations() * 500);
}
BENCHMARK(serialize_tools_list_500);

// --- tools/call result with 1 MB of text -----------------------------------------------------

std::string one_mb_call_result_text() {
  // Lines of 80 characters (a file's contents, a log): the line breaks are escaped in JSON.
  std::string text;
  text.reserve(1 << 20);
  while (text.size() + 81 <= (1u << 20)) {
    const std::size_t before = text.size();
    text.append("line ").append(std::to_string(before / 81)).append(": ");
    text.append(before + 80 - text.size(), 'x');
    text.push_back('\n');
  }
  auto m = jsonrpc::message::response(
      2, json::object{{"content", json::array{json::object{{"type", "text"}, {"text", text}}}},
                      {"isError", false}});
  return jsonrpc::serialize(m);
}

// A large tools/call result from a backend (1 MB of text), read off the wire.
void parse_call_result_1mb(benchmark::State& state) {
  const std::string text = one_mb_call_result_text();
  for (auto _ : state) {
    auto m = jsonrpc::parse(text);
    benchmark::DoNotOptimize(m);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}
BENCHMARK(parse_call_result_1mb);

// The same result written to the client.
void serialize_call_result_1mb(benchmark::State& state) {
  serialize_each_iteration(state, jsonrpc::parse(one_mb_call_result_text()).value());
}
BENCHMARK(serialize_call_result_1mb);

// --- name codec ------------------------------------------------------------------------------

// Each tool of a merged list gets its exposed name: `prefix__name`, valid as is.
void expose_name_plain(benchmark::State& state) {
  for (auto _ : state) {
    auto n = protocol::expose_name("github", "github", "__", "create_pull_request");
    benchmark::DoNotOptimize(n);
  }
}
BENCHMARK(expose_name_plain);

// A name too long for 64 characters: cut and ended in '_' + short_hash.
void expose_name_hashed(benchmark::State& state) {
  const std::string name(70, 'n');
  for (auto _ : state) {
    auto n = protocol::expose_name("inventory", "inventory", "__", name);
    benchmark::DoNotOptimize(n);
  }
}
BENCHMARK(expose_name_hashed);

std::string server_name(int s) {
  return "server" + std::to_string(s);
}
std::string tool_name(int t) {
  return "tool_number_" + std::to_string(t);
}

// The names of a merged list of 64 servers x 100 tools entered into a name_table (a list change).
void name_table_add_64x100(benchmark::State& state) {
  std::vector<std::string> servers, tools;
  for (int s = 0; s < 64; ++s) servers.push_back(server_name(s));
  for (int t = 0; t < 100; ++t) tools.push_back(tool_name(t));
  for (auto _ : state) {
    protocol::name_table table;
    for (std::size_t s = 0; s < servers.size(); ++s)
      for (const auto& t : tools)
        benchmark::DoNotOptimize(table.add(servers[s], servers[s], "__", t, s));
    benchmark::DoNotOptimize(table.size());
  }
  state.SetItemsProcessed(state.iterations() * 64 * 100);
}
BENCHMARK(name_table_add_64x100);

// Each tools/call on the aggregate: the exposed name mapped back to (server, tool) in a table of
// 6400 names (one of them shortened with a hash).
void name_table_resolve_in_6400(benchmark::State& state) {
  protocol::name_table table;
  for (int s = 0; s < 64; ++s)
    for (int t = 0; t < 100; ++t)
      table.add(server_name(s), server_name(s), "__", tool_name(t), static_cast<std::size_t>(s));
  const std::string long_name(70, 'n');
  const std::vector<std::string> exposed = {
      table.add("server63", "server63", "__", long_name, 63).exposed,
      protocol::expose_name("server0", "server0", "__", tool_name(0)),
      protocol::expose_name("server31", "server31", "__", tool_name(57)),
      protocol::expose_name("server63", "server63", "__", tool_name(99))};
  std::size_t i = 0;
  for (auto _ : state) {
    auto o = table.resolve(exposed[i++ % exposed.size()]);
    benchmark::DoNotOptimize(o);
  }
}
BENCHMARK(name_table_resolve_in_6400);

// --- cursor codec ----------------------------------------------------------------------------

protocol::composite_cursor cursor_of_64() {
  protocol::composite_cursor c;
  c.generation = 42;
  for (int s = 0; s < 64; ++s) {
    protocol::backend_position p{server_name(s), std::nullopt};
    if (s % 4 == 0) {
      p.done = true;
    } else {
      p.cursor = "eyJwYWdlIjo" + std::to_string(1000 + s);  // a backend's opaque cursor
      p.skip = static_cast<std::uint64_t>(s % 7);
    }
    c.backends.push_back(std::move(p));
  }
  return c;
}

// The nextCursor of a merged page over 64 backends: JSON, HMAC-SHA256, base64url.
void cursor_encode_64(benchmark::State& state) {
  const protocol::cursor_codec codec(std::string(32, 'k'));
  const auto c = cursor_of_64();
  std::size_t bytes = 0;
  for (auto _ : state) {
    auto text = codec.encode(c);
    bytes = text.size();
    benchmark::DoNotOptimize(text);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
}
BENCHMARK(cursor_encode_64);

// A client's cursor for the next merged page: base64url, HMAC check, JSON back to positions.
void cursor_decode_64(benchmark::State& state) {
  const protocol::cursor_codec codec(std::string(32, 'k'));
  const std::string text = codec.encode(cursor_of_64());
  for (auto _ : state) {
    auto c = codec.decode(text, 42);
    if (!c) state.SkipWithError("cursor refused");
    benchmark::DoNotOptimize(c);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}
BENCHMARK(cursor_decode_64);

// --- SSE -------------------------------------------------------------------------------------

// A JSON-RPC notification of about 1 KB, on one line as serialize writes it.
std::string one_kb_message() {
  std::string text(1024 - 120, 'p');
  auto m = jsonrpc::message::notification(
      "notifications/message",
      json::object{{"level", "info"}, {"logger", "bench"}, {"data", std::move(text)}});
  return jsonrpc::serialize(m);
}

// Each message on a Streamable HTTP or legacy SSE stream the proxy serves, framed as an event.
void sse_encode_1kb(benchmark::State& state) {
  const std::string data = one_kb_message();
  for (auto _ : state) {
    auto event = protocol::encode_sse_event(data, "message", "17-42");
    benchmark::DoNotOptimize(event);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * data.size()));
}
BENCHMARK(sse_encode_1kb);

// An HTTP backend's SSE stream, 64 KB of 1 KB events, fed as read: in one piece (arg 65536) or
// in 4 KB reads (arg 4096) that split events and lines.
void sse_decode_64kb(benchmark::State& state) {
  const std::string data = one_kb_message();
  std::string stream;
  int events = 0;
  for (;; ++events) {
    auto e = protocol::encode_sse_event(data, "message", std::to_string(events));
    if (stream.size() + e.size() > 64 * 1024) break;
    stream += e;
  }
  const auto chunk = static_cast<std::size_t>(state.range(0));
  for (auto _ : state) {
    protocol::sse_decoder decoder;
    std::size_t got = 0;
    for (std::size_t at = 0; at < stream.size(); at += chunk) {
      auto out = decoder.feed(std::string_view(stream).substr(at, chunk));
      got += out->size();
      benchmark::DoNotOptimize(out);
    }
    if (got != static_cast<std::size_t>(events)) state.SkipWithError("lost events");
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * stream.size()));
  state.SetItemsProcessed(state.iterations() * events);
}
BENCHMARK(sse_decode_64kb)->Arg(64 * 1024)->Arg(4096);

// --- URI templates ---------------------------------------------------------------------------

// resources/read on the aggregate with a URI no backend listed: tried against each backend's
// templates in turn (100 templates, the one that matches last).
void uri_template_match_100(benchmark::State& state) {
  std::vector<std::string> templates;
  for (int i = 0; i < 100; ++i) {
    const std::string n = std::to_string(i);
    switch (i % 4) {
      case 0:
        templates.push_back("file:///srv/project" + n + "/{+path}");
        break;
      case 1:
        templates.push_back("db://host" + n + "/tables/{table}/rows/{id}");
        break;
      case 2:
        templates.push_back("https://api" + n + ".example.com/items{/id}{?fields,limit}");
        break;
      default:
        templates.push_back("repo://org" + n + "/{repo}/issues/{number}");
        break;
    }
  }
  const std::string uri = "repo://org99/mcp-proxy/issues/1234";
  for (auto _ : state) {
    int matched = -1;
    for (int i = 0; i < 100 && matched < 0; ++i)
      if (protocol::uri_template_matches(templates[static_cast<std::size_t>(i)], uri)) matched = i;
    if (matched != 99) state.SkipWithError("wrong template");
    benchmark::DoNotOptimize(matched);
  }
  state.SetItemsProcessed(state.iterations() * 100);
}
BENCHMARK(uri_template_match_100);

}  // namespace
