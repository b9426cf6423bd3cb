#include "conformance_fixture.hpp"

#include "fixture_schemas.hpp"
#include "mock_io.hpp"
#include "mock_listen.hpp"
#include "modern_tools.hpp"
#include "synthetic.hpp"

#include <boost/json.hpp>

#include <array>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace json = boost::json;
using mcp_proxy::jsonrpc::message;
namespace codes = mcp_proxy::jsonrpc::error_codes;
using namespace std::chrono_literals;

namespace mock::fixture {

namespace {

// A 1x1 red PNG and a 2 ms silent WAV (8 kHz, 8-bit mono), made for this fixture.
constexpr std::string_view png_base64 =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR42mP4z8AAAAMBAQD3A0FDAAAAAElFTkSuQmCC";
constexpr std::string_view wav_base64 =
    "UklGRjQAAABXQVZFZm10IBAAAAABAAEAQB8AAEAfAAABAAgAZGF0YRAAAACAgICAgICAgICAgICAgICA";

// MCP's "resource not found" error (spec: server/resources, error handling).
constexpr std::int64_t resource_not_found = -32002;
// How long a tool waits for the client to answer a sampling or elicitation request.
constexpr auto client_answer_timeout = 60s;
// Pauses inside the logging and progress tools, so that their messages arrive during the call.
constexpr auto step_pause = 50ms;

// The tool catalogue: names and input schemas are what the scenarios ask for.
constexpr std::string_view tools_json = R"json([
  {"name": "test_simple_text", "description": "Returns a simple text content item",
   "inputSchema": {"type": "object", "properties": {}}},
  {"name": "test_image_content", "description": "Returns an image content item (a 1x1 PNG)",
   "inputSchema": {"type": "object", "properties": {}}},
  {"name": "test_audio_content", "description": "Returns an audio content item (a short WAV)",
   "inputSchema": {"type": "object", "properties": {}}},
  {"name": "test_embedded_resource", "description": "Returns an embedded text resource",
   "inputSchema": {"type": "object", "properties": {}}},
  {"name": "test_multiple_content_types",
   "description": "Returns text, image and embedded resource content together",
   "inputSchema": {"type": "object", "properties": {}}},
  {"name": "test_tool_with_logging",
   "description": "Sends three info log messages while it runs, 50 ms apart",
   "inputSchema": {"type": "object", "properties": {}}},
  {"name": "test_error_handling", "description": "Always fails with a tool error (isError)",
   "inputSchema": {"type": "object", "properties": {}}},
  {"name": "test_tool_with_progress",
   "description": "Reports progress 0, 50 and 100 of 100 when given a progressToken",
   "inputSchema": {"type": "object", "properties": {}}},
  {"name": "test_sampling", "description": "Asks the client for an LLM completion of the prompt",
   "inputSchema": {"type": "object",
                   "properties": {"prompt": {"type": "string", "description": "The prompt to send"}},
                   "required": ["prompt"]}},
  {"name": "test_elicitation", "description": "Asks the user, through the client, for a username and an email",
   "inputSchema": {"type": "object",
                   "properties": {"message": {"type": "string", "description": "The message to show the user"}},
                   "required": ["message"]}},
  {"name": "test_elicitation_sep1034_defaults",
   "description": "Elicitation whose schema has a default for every primitive type (SEP-1034)",
   "inputSchema": {"type": "object", "properties": {}}},
  {"name": "test_elicitation_sep1330_enums",
   "description": "Elicitation whose schema has the five enum forms of SEP-1330",
   "inputSchema": {"type": "object", "properties": {}}},
  {"name": "json_schema_2020_12_tool", "description": "Tool with JSON Schema 2020-12 features",
   "inputSchema": {
     "$schema": "https://json-schema.org/draft/2020-12/schema",
     "type": "object",
     "$defs": {"address": {"$anchor": "address", "type": "object",
                           "properties": {"street": {"type": "string"}, "city": {"type": "string"}}}},
     "properties": {"name": {"type": "string"}, "address": {"$ref": "#/$defs/address"},
                    "contact": {"anyOf": [{"type": "string", "format": "email"},
                                          {"type": "string", "pattern": "^[0-9+ -]+$"}]},
                    "kind": {"type": "string", "enum": ["person", "company"]},
                    "vat": {"type": "string"}},
     "allOf": [{"required": ["name"]},
               {"anyOf": [{"required": ["contact"]}, {"required": ["address"]}]}],
     "if": {"properties": {"kind": {"const": "company"}}},
     "then": {"required": ["vat"]},
     "else": {"properties": {"vat": {"type": "null"}}},
     "additionalProperties": false}},
  {"name": "test_logging_tool",
   "description": "Sends an info log message, then answers (2026-07-28: only to a request that sets a log level)",
   "inputSchema": {"type": "object", "properties": {}}},
  {"name": "test_streaming_elicitation",
   "description": "Asks the client for input mid-call when it declared elicitation, then answers either way",
   "inputSchema": {"type": "object", "properties": {}}},
  {"name": "test_missing_capability",
   "description": "Asks the client for sampling; a tool error when the client did not declare it",
   "inputSchema": {"type": "object", "properties": {}}},
  {"name": "test_trigger_tool_change",
   "description": "Announces notifications/tools/list_changed (listed, so merged endpoints can route it)",
   "inputSchema": {"type": "object", "properties": {}}},
  {"name": "test_trigger_prompt_change", "description": "Announces notifications/prompts/list_changed",
   "inputSchema": {"type": "object", "properties": {}}},
  {"name": "test_reconnection",
   "description": "Answers after 200 ms (over HTTP, the SSE polling scenario closes the stream meanwhile)",
   "inputSchema": {"type": "object", "properties": {}}},
  {"name": "touch_resource",
   "description": "Changes a resource and notifies its subscribers (notifications/resources/updated)",
   "inputSchema": {"type": "object",
                   "properties": {"uri": {"type": "string", "description": "default test://watched-resource"}}}}
])json";

constexpr std::string_view resources_json = R"json([
  {"uri": "test://static-text", "name": "static-text", "description": "A static text resource",
   "mimeType": "text/plain"},
  {"uri": "test://static-binary", "name": "static-binary",
   "description": "A static binary resource (a 1x1 PNG)", "mimeType": "image/png"},
  {"uri": "test://watched-resource", "name": "watched-resource",
   "description": "A text resource that changes when the touch_resource tool is called (subscribable)",
   "mimeType": "text/plain"}
])json";

constexpr std::string_view templates_json = R"json([
  {"uriTemplate": "test://template/{id}/data", "name": "template-data",
   "description": "JSON data for any id", "mimeType": "application/json"}
])json";

constexpr std::string_view prompts_json = R"json([
  {"name": "test_simple_prompt", "description": "A prompt without arguments"},
  {"name": "test_prompt_with_arguments", "description": "A prompt with two required arguments",
   "arguments": [{"name": "arg1", "description": "First test argument", "required": true},
                 {"name": "arg2", "description": "Second test argument", "required": true}]},
  {"name": "test_prompt_with_embedded_resource", "description": "A prompt that embeds a resource",
   "arguments": [{"name": "resourceUri", "description": "URI of the resource to embed", "required": true}]},
  {"name": "test_prompt_with_image", "description": "A prompt with an image"}
])json";

// Log levels in increasing severity (spec: server/utilities/logging, RFC 5424).
constexpr std::array<std::string_view, 8> levels = {"debug", "info",     "notice", "warning",
                                                    "error", "critical", "alert",  "emergency"};

int level_rank(std::string_view level) {
  for (std::size_t i = 0; i < levels.size(); ++i)
    if (levels[i] == level) return static_cast<int>(i);
  return -1;
}

// State shared by the reader thread and the tool workers.
std::mutex state_mutex;
bool client_can_sample = false;
bool client_can_elicit = false;
int min_log_rank = 0;  // everything is sent until the client sets a level
std::set<std::string, std::less<>> subscriptions;
int watched_version = 1;

json::object text(std::string t) {
  return {{"type", "text"}, {"text", std::move(t)}};
}
json::object image() {
  return {{"type", "image"}, {"data", png_base64}, {"mimeType", "image/png"}};
}
json::object embedded(std::string uri, std::string mime, std::string content) {
  return {
      {"type", "resource"},
      {"resource",
       json::object{{"uri", std::move(uri)}, {"mimeType", std::move(mime)}, {"text", content}}}};
}
json::object tool_result(json::array content, bool is_error = false) {
  json::object r{{"content", std::move(content)}};
  if (is_error) r["isError"] = true;
  return r;
}
void answer(const json::value& id, json::object result) {
  emit(message::response(id, std::move(result)));
}
void tool_error(const json::value& id, std::string why) {
  answer(id, tool_result(json::array{text(std::move(why))}, true));
}

std::string string_arg(const json::object& args, std::string_view key) {
  auto* v = args.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

void send_log(std::string_view level, std::string_view data) {
  {
    std::lock_guard lock(state_mutex);
    if (level_rank(level) < min_log_rank) return;
  }
  emit(
      message::notification("notifications/message",
                            {{"level", level}, {"logger", "conformance-fixture"}, {"data", data}}));
}

// Asks the client and turns its answer into either a result object or a readable failure.
struct client_outcome {
  json::object result;
  std::string failure;  // empty on success
};
client_outcome ask_client(std::string_view method, json::object params) {
  auto reply = request_client(method, std::move(params), client_answer_timeout);
  if (!reply) return {{}, std::string(method) + ": the client did not answer"};
  if (auto* e = reply->error())
    return {{}, std::string(method) + " failed: " + json::serialize(*e)};
  auto* r = reply->result();
  if (!r || !r->is_object()) return {{}, std::string(method) + ": the result is not an object"};
  return {r->get_object(), {}};
}

void elicit(const json::value& id, std::string message_text, std::string_view schema,
            std::string_view answer_prefix) {
  {
    std::lock_guard lock(state_mutex);
    if (!client_can_elicit) {
      // A server sends only the requests its client declared it can serve.
      tool_error(id, "the client did not declare the elicitation capability");
      return;
    }
  }
  auto out = ask_client("elicitation/create", {{"message", std::move(message_text)},
                                               {"requestedSchema", json::parse(schema)}});
  if (!out.failure.empty()) return tool_error(id, out.failure);
  std::string action = string_arg(out.result, "action");
  auto* content = out.result.if_contains("content");
  answer(id, tool_result(
                 json::array{text(std::string(answer_prefix) + "action=" + action +
                                  ", content=" + (content ? json::serialize(*content) : "{}"))}));
}

// Runs on a worker thread: may sleep and wait for the client.
void run_tool(const json::value& id, const std::string& name, const json::object& args,
              const json::value* progress_token) {
  if (name == "test_simple_text") {
    answer(id, tool_result(json::array{text("This is a simple text response for testing.")}));
  } else if (name == "test_image_content") {
    answer(id, tool_result(json::array{image()}));
  } else if (name == "test_audio_content") {
    answer(id, tool_result(json::array{json::object{
                   {"type", "audio"}, {"data", wav_base64}, {"mimeType", "audio/wav"}}}));
  } else if (name == "test_embedded_resource") {
    answer(id, tool_result(json::array{embedded("test://embedded-resource", "text/plain",
                                                "This is an embedded resource content.")}));
  } else if (name == "test_multiple_content_types") {
    answer(id, tool_result(json::array{
                   text("Multiple content types test:"), image(),
                   embedded("test://mixed-content-resource", "application/json",
                            json::serialize(json::object{{"test", "data"}, {"value", 123}}))}));
  } else if (name == "test_tool_with_logging") {
    send_log("info", "Tool execution started");
    std::this_thread::sleep_for(step_pause);
    send_log("info", "Tool processing data");
    std::this_thread::sleep_for(step_pause);
    send_log("info", "Tool execution completed");
    answer(id, tool_result(json::array{text("Tool with logging executed successfully")}));
  } else if (name == "test_error_handling") {
    tool_error(id, "This tool intentionally returns an error for testing");
  } else if (name == "test_tool_with_progress") {
    for (int p : {0, 50, 100}) {
      if (p > 0) std::this_thread::sleep_for(step_pause);
      if (progress_token) {
        emit(message::notification(
            "notifications/progress",
            {{"progressToken", *progress_token}, {"progress", p}, {"total", 100}}));
      }
    }
    answer(id, tool_result(json::array{text("Tool with progress executed successfully")}));
  } else if (name == "test_sampling") {
    std::string prompt = string_arg(args, "prompt");
    if (prompt.empty())
      return tool_error(id, "test_sampling: argument prompt (string) is required");
    {
      std::lock_guard lock(state_mutex);
      if (!client_can_sample)
        return tool_error(id, "the client did not declare the sampling capability");
    }
    auto out = ask_client(
        "sampling/createMessage",
        {{"messages", json::array{json::object{{"role", "user"}, {"content", text(prompt)}}}},
         {"maxTokens", 100}});
    if (!out.failure.empty()) return tool_error(id, out.failure);
    std::string reply;
    if (auto* c = out.result.if_contains("content"); c && c->is_object())
      reply = string_arg(c->get_object(), "text");
    answer(id, tool_result(json::array{text("LLM response: " + reply)}));
  } else if (name == "test_elicitation") {
    std::string msg = string_arg(args, "message");
    if (msg.empty())
      return tool_error(id, "test_elicitation: argument message (string) is required");
    elicit(id, std::move(msg), elicitation_schema_json, "User response: ");
  } else if (name == "test_elicitation_sep1034_defaults") {
    elicit(id, "Test client default value handling - please accept with defaults",
           sep1034_schema_json, "Elicitation completed: ");
  } else if (name == "test_elicitation_sep1330_enums") {
    elicit(id, "Test enum schema variants - please pick from each list", sep1330_schema_json,
           "Elicitation completed: ");
  } else if (name == "json_schema_2020_12_tool") {
    answer(id, tool_result(json::array{text("Arguments: " + json::serialize(args))}));
  } else if (name == "test_logging_tool") {
    send_log("info", "test_logging_tool ran");
    std::this_thread::sleep_for(step_pause);
    answer(id, tool_result(json::array{text("Logging tool executed")}));
  } else if (name == "test_streaming_elicitation") {
    bool can_elicit;
    {
      std::lock_guard lock(state_mutex);
      can_elicit = client_can_elicit;
    }
    std::string got = "no elicitation capability";
    if (can_elicit) {
      auto out = ask_client(
          "elicitation/create",
          {{"message", "Your name?"}, {"requestedSchema", json::parse(elicitation_schema_json)}});
      got = out.failure.empty() ? "action=" + string_arg(out.result, "action") : out.failure;
    }
    answer(id, tool_result(json::array{text("Streaming elicitation: " + got)}));
  } else if (name == "test_missing_capability") {
    bool can_sample;
    {
      std::lock_guard lock(state_mutex);
      can_sample = client_can_sample;
    }
    if (!can_sample) return tool_error(id, "the client did not declare the sampling capability");
    // It needs sampling: a client that declared it is asked (through mcp-proxy, a 2026-07-28
    // client that did not gets -32021 for this).
    auto out = ask_client(
        "sampling/createMessage",
        {{"messages", json::array{json::object{{"role", "user"}, {"content", text("ping")}}}},
         {"maxTokens", 10}});
    if (!out.failure.empty()) return tool_error(id, out.failure);
    answer(id, tool_result(json::array{text("sampling answered")}));
  } else if (name == "test_trigger_tool_change" || name == "test_trigger_prompt_change") {
    emit(message::notification(name == "test_trigger_tool_change"
                                   ? "notifications/tools/list_changed"
                                   : "notifications/prompts/list_changed"));
    answer(id, tool_result(json::array{text("list change announced")}));
  } else if (name == "test_reconnection") {
    std::this_thread::sleep_for(200ms);
    answer(id, tool_result(json::array{text("Reconnection test completed successfully")}));
  } else if (name == "touch_resource") {
    std::string uri = string_arg(args, "uri");
    if (uri.empty()) uri = "test://watched-resource";
    bool subscribed;
    {
      std::lock_guard lock(state_mutex);
      if (uri == "test://watched-resource") ++watched_version;
      subscribed = subscriptions.contains(uri);
    }
    answer(id, tool_result(json::array{
                   text(subscribed ? "changed; subscribers notified" : "changed; no subscriber")}));
    auto updated = message::notification("notifications/resources/updated", {{"uri", uri}});
    // Legacy subscribers hear it on stdout; modern listens (--era) that asked for the uri too.
    if (subscribed && !modern::in_modern_request())
      emit(updated);
    else
      listens::publish(updated);
  }
}

const json::array& catalogue(std::string_view text_json) {
  // Parsed once per catalogue; the strings are constants.
  static std::mutex m;
  static std::map<const char*, json::array> parsed;
  std::lock_guard lock(m);
  auto [it, fresh] = parsed.try_emplace(text_json.data());
  if (fresh) it->second = json::parse(text_json).as_array();
  return it->second;
}

bool is_fixture_tool(std::string_view name) {
  for (auto& t : catalogue(tools_json))
    if (t.at("name").as_string() == name) return true;
  return false;
}

// The id of test://template/{id}/data, or "" when `uri` does not match the template.
std::string template_id(std::string_view uri) {
  constexpr std::string_view prefix = "test://template/", suffix = "/data";
  if (uri.size() <= prefix.size() + suffix.size() || !uri.starts_with(prefix) ||
      !uri.ends_with(suffix))
    return {};
  auto id = uri.substr(prefix.size(), uri.size() - prefix.size() - suffix.size());
  return id.find('/') == std::string_view::npos ? std::string(id) : std::string();
}

void read_resource(const json::value& id, const json::object& params) {
  std::string uri = string_arg(params, "uri");
  json::object content{{"uri", uri}};
  if (uri == "test://static-text") {
    content["mimeType"] = "text/plain";
    content["text"] = "This is the content of the static text resource.";
  } else if (uri == "test://static-binary") {
    content["mimeType"] = "image/png";
    content["blob"] = png_base64;
  } else if (uri == "test://watched-resource") {
    std::lock_guard lock(state_mutex);
    content["mimeType"] = "text/plain";
    content["text"] = "Watched resource, version " + std::to_string(watched_version);
  } else if (auto tid = template_id(uri); !tid.empty()) {
    content["mimeType"] = "application/json";
    content["text"] = json::serialize(
        json::object{{"id", tid}, {"templateTest", true}, {"data", "Data for ID: " + tid}});
  } else {
    json::value data = json::object{{"uri", uri}};
    emit(message::error_response(id, resource_not_found, "Resource not found: " + uri, &data));
    return;
  }
  answer(id, {{"contents", json::array{std::move(content)}}});
}

void get_prompt(const json::value& id, const json::object& params) {
  std::string name = string_arg(params, "name");
  json::object args;
  if (auto* a = params.if_contains("arguments"); a && a->is_object()) args = a->get_object();
  auto required = [&](std::string_view key, std::string& out) {
    out = string_arg(args, key);
    if (!out.empty()) return true;
    emit(message::error_response(
        id, codes::invalid_params,
        "prompt " + name + ": argument " + std::string(key) + " is required"));
    return false;
  };
  auto user = [](json::object content) {
    return json::object{{"role", "user"}, {"content", std::move(content)}};
  };
  json::array messages;
  if (name == "test_simple_prompt") {
    messages.push_back(user(text("This is a simple prompt for testing.")));
  } else if (name == "test_prompt_with_arguments") {
    std::string a1, a2;
    if (!required("arg1", a1) || !required("arg2", a2)) return;
    messages.push_back(user(text("Prompt with arguments: arg1='" + a1 + "', arg2='" + a2 + "'")));
  } else if (name == "test_prompt_with_embedded_resource") {
    std::string uri;
    if (!required("resourceUri", uri)) return;
    messages.push_back(user(embedded(uri, "text/plain", "Embedded resource content for testing.")));
    messages.push_back(user(text("Please process the embedded resource above.")));
  } else if (name == "test_prompt_with_image") {
    messages.push_back(user(image()));
    messages.push_back(user(text("Please analyze the image above.")));
  } else {
    emit(message::error_response(id, codes::invalid_params, "unknown prompt: " + name));
    return;
  }
  answer(id, {{"messages", std::move(messages)}});
}

void complete(const json::value& id, const json::object& params) {
  const json::object* ref = nullptr;
  const json::object* argument = nullptr;
  if (auto* r = params.if_contains("ref"); r && r->is_object()) ref = &r->get_object();
  if (auto* a = params.if_contains("argument"); a && a->is_object()) argument = &a->get_object();
  if (!ref || !argument) {
    emit(message::error_response(id, codes::invalid_params,
                                 "completion/complete: ref and argument are required"));
    return;
  }
  std::string type = string_arg(*ref, "type");
  std::string arg = string_arg(*argument, "name");
  std::string prefix = string_arg(*argument, "value");
  std::vector<std::string_view> candidates;
  if (type == "ref/prompt" && string_arg(*ref, "name") == "test_prompt_with_arguments") {
    if (arg == "arg1") candidates = {"paris", "park", "party"};
    if (arg == "arg2") candidates = {"blue", "green", "red"};
  } else if (type == "ref/resource" && string_arg(*ref, "uri") == "test://template/{id}/data") {
    if (arg == "id") candidates = {"1", "2", "3", "123"};
  } else {
    emit(message::error_response(id, codes::invalid_params,
                                 "completion/complete: unknown reference"));
    return;
  }
  json::array values;
  for (auto c : candidates)
    if (c.starts_with(prefix)) values.emplace_back(c);
  const auto total = values.size();
  answer(id, {{"completion",
               json::object{{"values", std::move(values)}, {"total", total}, {"hasMore", false}}}});
}

}  // namespace

json::object capabilities() {
  return {{"tools", json::object{{"listChanged", true}}},
          {"resources", json::object{{"subscribe", true}, {"listChanged", true}}},
          {"prompts", json::object{{"listChanged", true}}},
          {"logging", json::object{}},
          {"completions", json::object{}}};
}

void on_initialize(const json::object& params) {
  const json::object* caps = nullptr;
  if (auto* c = params.if_contains("capabilities"); c && c->is_object()) caps = &c->get_object();
  std::lock_guard lock(state_mutex);
  client_can_sample = caps && caps->contains("sampling");
  client_can_elicit = caps && caps->contains("elicitation");
}

json::array tools() {
  json::array all = catalogue(tools_json);
  if (modern::in_modern_request())
    for (auto& t : modern_tools::tools()) all.push_back(std::move(t));
  return all;
}

bool call_tool(const json::value& id, std::string_view name, const json::object& params) {
  if (!is_fixture_tool(name)) return false;
  json::object args;
  if (auto* a = params.if_contains("arguments"); a && a->is_object()) args = a->get_object();
  std::optional<json::value> token;
  if (auto* meta = params.if_contains("_meta"); meta && meta->is_object())
    if (auto* t = meta->get_object().if_contains("progressToken")) token = *t;
  run_worker([id = json::value(id), name = std::string(name), args = std::move(args),
              token = std::move(token)] { run_tool(id, name, args, token ? &*token : nullptr); });
  return true;
}

namespace {
// A list answer, paged like the mock's tools/list (--page-size; an unknown cursor is -32602).
void answer_page(const json::value& id, std::string_view key, json::array items,
                 const json::object& params) {
  auto page = synthetic::page(key, std::move(items), params);
  if (!page.error.empty())
    emit(message::error_response(id, codes::invalid_params, page.error));
  else
    answer(id, std::move(page.result));
}
}  // namespace

bool handle_request(std::string_view method, const json::value& id, const json::object& params) {
  if (method == "resources/list") {
    answer_page(id, "resources", catalogue(resources_json), params);
  } else if (method == "resources/templates/list") {
    answer_page(id, "resourceTemplates", catalogue(templates_json), params);
  } else if (method == "resources/read") {
    read_resource(id, params);
  } else if (method == "resources/subscribe" || method == "resources/unsubscribe") {
    std::string uri = string_arg(params, "uri");
    if (uri.empty()) {
      emit(message::error_response(id, codes::invalid_params,
                                   std::string(method) + ": params.uri is required"));
      return true;
    }
    {
      std::lock_guard lock(state_mutex);
      if (method == "resources/subscribe")
        subscriptions.insert(uri);
      else
        subscriptions.erase(uri);
    }
    answer(id, {});
  } else if (method == "prompts/list") {
    json::array prompts = catalogue(prompts_json);
    if (modern::in_modern_request())
      for (auto& p : modern_tools::prompts()) prompts.push_back(std::move(p));
    answer_page(id, "prompts", std::move(prompts), params);
  } else if (method == "prompts/get") {
    get_prompt(id, params);
  } else if (method == "completion/complete") {
    complete(id, params);
  } else if (method == "logging/setLevel") {
    int rank = level_rank(string_arg(params, "level"));
    if (rank < 0) {
      emit(message::error_response(
          id, codes::invalid_params,
          "logging/setLevel: unknown level " +
              json::serialize(params.contains("level") ? params.at("level") : json::value())));
      return true;
    }
    {
      std::lock_guard lock(state_mutex);
      min_log_rank = rank;
    }
    answer(id, {});
  } else {
    return false;
  }
  return true;
}

}  // namespace mock::fixture
