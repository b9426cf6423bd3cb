#include "modern_tools.hpp"

#include "fixture_schemas.hpp"

#include "protocol/modern_request.hpp"
#include "util/base64.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <boost/json.hpp>

#include <array>
#include <mutex>
#include <string>

namespace json = boost::json;
namespace protocol = mcp_proxy::protocol;
using mcp_proxy::jsonrpc::message;
namespace codes = mcp_proxy::jsonrpc::error_codes;

namespace mock::modern_tools {

namespace {

constexpr std::string_view modern_tools_json = R"json([
  {"name": "test_input_required_result_elicitation",
   "description": "Asks for the user's name (input_required, key user_name), then greets them",
   "inputSchema": {"type": "object", "properties": {}}},
  {"name": "test_input_required_result_sampling",
   "description": "Asks for a completion (input_required, key capital_question), then returns it",
   "inputSchema": {"type": "object", "properties": {}}},
  {"name": "test_input_required_result_list_roots",
   "description": "Asks for the client's roots (input_required, key client_roots), then lists them",
   "inputSchema": {"type": "object", "properties": {}}},
  {"name": "test_input_required_result_request_state",
   "description": "Asks for a name with a signed requestState; the retry answers state-ok",
   "inputSchema": {"type": "object", "properties": {}}},
  {"name": "test_input_required_result_multiple_inputs",
   "description": "Asks for an elicitation, a sampling and the roots at once, with a requestState",
   "inputSchema": {"type": "object", "properties": {}}},
  {"name": "test_input_required_result_multi_round",
   "description": "Asks in two rounds (step1, step2), each with a new requestState",
   "inputSchema": {"type": "object", "properties": {}}},
  {"name": "test_input_required_result_tampered_state",
   "description": "Asks with a signed requestState; a retry with an altered state is -32602",
   "inputSchema": {"type": "object", "properties": {}}},
  {"name": "test_input_required_result_capabilities",
   "description": "Asks only for what the client declared (elicitation and/or sampling)",
   "inputSchema": {"type": "object", "properties": {}}},
  {"name": "test_header_param",
   "description": "Echoes its region, which HTTP clients also send as the Mcp-Param-Region header",
   "inputSchema": {"type": "object",
                   "properties": {"region": {"type": "string", "x-mcp-header": "Region"}},
                   "required": ["region"]}}
])json";

constexpr std::string_view modern_prompts_json = R"json([
  {"name": "test_input_required_result_prompt",
   "description": "A prompt that first asks the user for its context (input_required)"}
])json";

constexpr std::string_view name_schema =
    R"({"type":"object","properties":{"name":{"type":"string"}},"required":["name"]})";
constexpr std::string_view color_schema =
    R"({"type":"object","properties":{"color":{"type":"string"}},"required":["color"]})";
constexpr std::string_view context_schema =
    R"({"type":"object","properties":{"context":{"type":"string"}},"required":["context"]})";
constexpr std::string_view confirm_schema =
    R"({"type":"object","properties":{"ok":{"type":"boolean"}},"required":["ok"]})";

// requestState is attacker-controlled (mrtr, server requirements): it is signed with a key of
// this process (HMAC-SHA256), and bound to the tool it was made for.
const std::array<unsigned char, 32>& state_key() {
  static const auto key = [] {
    std::array<unsigned char, 32> k{};
    if (RAND_bytes(k.data(), static_cast<int>(k.size())) != 1) std::abort();
    return k;
  }();
  return key;
}

std::string mac_of(std::string_view text) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  HMAC(EVP_sha256(), state_key().data(), static_cast<int>(state_key().size()),
       reinterpret_cast<const unsigned char*>(text.data()), text.size(), mac, &n);
  return std::string(reinterpret_cast<const char*>(mac), 16);
}

std::string sign(const json::object& payload) {
  const std::string text = json::serialize(payload);
  return mcp_proxy::util::base64url_encode(text) + "." +
         mcp_proxy::util::base64url_encode(mac_of(text));
}

std::optional<json::object> verify(std::string_view state, std::string_view tool) {
  const auto dot = state.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  auto text = mcp_proxy::util::base64url_decode(state.substr(0, dot));
  auto mac = mcp_proxy::util::base64url_decode(state.substr(dot + 1));
  if (!text || !mac || mac->size() != 16) return std::nullopt;
  const std::string expected = mac_of(*text);
  if (CRYPTO_memcmp(expected.data(), mac->data(), 16) != 0) return std::nullopt;
  boost::system::error_code ec;
  auto v = json::parse(*text, ec);
  if (ec || !v.is_object() || v.get_object()["tool"] != json::value(tool)) return std::nullopt;
  return v.get_object();
}

json::object elicit(std::string text, std::string_view schema) {
  return {{"method", "elicitation/create"},
          {"params",
           json::object{{"message", std::move(text)}, {"requestedSchema", json::parse(schema)}}}};
}
json::object sample(std::string prompt, int max_tokens) {
  json::object content{{"type", "text"}, {"text", std::move(prompt)}};
  return {
      {"method", "sampling/createMessage"},
      {"params",
       json::object{{"messages", json::array{json::object{{"role", "user"}, {"content", content}}}},
                    {"maxTokens", max_tokens}}}};
}
json::object roots() {
  return {{"method", "roots/list"}, {"params", json::object{}}};
}

// One tools/call or prompts/get, as the tools see it.
struct call {
  json::value id;
  std::string name;
  json::object args;
  json::object caps;                        // the request's declared client capabilities
  const json::object* responses = nullptr;  // inputResponses, when given
  std::optional<json::object> state;        // the verified requestState payload
  bool prompt = false;
};

std::string str(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

// The client's answer under `key` when it has the shape of `method`'s result (mrtr: servers
// SHOULD validate inputResponses), else null.
const json::object* answer_for(const call& c, std::string_view key, std::string_view method) {
  const auto* v = c.responses ? c.responses->if_contains(key) : nullptr;
  const auto* o = v ? v->if_object() : nullptr;
  if (!o) return nullptr;
  if (method == "elicitation/create") {
    const auto action = str(*o, "action");
    return action == "accept" || action == "decline" || action == "cancel" ? o : nullptr;
  }
  if (method == "sampling/createMessage") return o->contains("content") ? o : nullptr;
  const auto* r = o->if_contains("roots");
  return r && r->is_array() ? o : nullptr;
}

bool declared(const call& c, std::string_view method) {
  if (method == "sampling/createMessage") return c.caps.contains("sampling");
  if (method == "roots/list") return c.caps.contains("roots");
  const auto* e = c.caps.if_contains("elicitation");
  if (!e) return false;
  // elicitation: {} means form mode (client/elicitation, capabilities).
  const auto* o = e->if_object();
  return !o || o->empty() || o->contains("form");
}

// input_required asking `requests` (with a signed state when `state` is given); -32021 when the
// client did not declare what one of them needs.
message ask(const call& c, json::object requests, std::optional<json::object> state = {}) {
  for (const auto& [key, r] : requests) {
    const auto& o = r.get_object();
    const auto method = std::string_view(o.at("method").get_string());
    if (!declared(c, method))
      return protocol::missing_capability_error(
          c.id, message::request(0, method, o.at("params").get_object()));
  }
  json::object result{{"resultType", "input_required"}, {"inputRequests", std::move(requests)}};
  if (state) {
    (*state)["tool"] = c.name;
    result["requestState"] = sign(*state);
  }
  return message::response(c.id, std::move(result));
}

message done(const call& c, std::string text) {
  json::object content{{"type", "text"}, {"text", std::move(text)}};
  if (c.prompt)
    return message::response(
        c.id, json::object{
                  {"messages", json::array{json::object{{"role", "user"}, {"content", content}}}}});
  return message::response(c.id, json::object{{"content", json::array{content}}});
}

std::string elicited(const json::object& a) {
  const auto* content = a.if_contains("content");
  return "action=" + str(a, "action") +
         ", content=" + (content ? json::serialize(*content) : std::string("{}"));
}
std::string content_name(const json::object& a, std::string_view field) {
  const auto* content = a.if_contains("content");
  return content && content->is_object() ? str(content->get_object(), field) : std::string();
}
std::string sampled(const json::object& a) {
  const auto* content = a.if_contains("content");
  return content && content->is_object() ? str(content->get_object(), "text") : std::string();
}
std::string root_list(const json::object& a) {
  std::string out;
  for (const auto& r : a.at("roots").get_array())
    if (r.is_object()) out += (out.empty() ? "" : ", ") + str(r.get_object(), "uri");
  return out;
}
bool round_is(const call& c, std::int64_t n) {
  const auto* r = c.state ? c.state->if_contains("round") : nullptr;
  return r && r->is_int64() && r->get_int64() == n;
}
message tool_error(const call& c, std::string why) {
  json::object content{{"type", "text"}, {"text", std::move(why)}};
  return message::response(c.id,
                           json::object{{"content", json::array{content}}, {"isError", true}});
}

// The legacy fixture's tool that asks one thing under `key`, in the modern era.
message one_question(const call& c, std::string_view key, json::object request,
                     const std::string& prefix) {
  const auto method = std::string(request.at("method").get_string());
  if (const auto* a = answer_for(c, key, method))
    return done(c, prefix + (method == "elicitation/create" ? elicited(*a) : sampled(*a)));
  return ask(c, json::object{{key, std::move(request)}});
}

std::optional<message> run(const call& c) {
  const auto& n = c.name;
  if (n == "test_input_required_result_elicitation") {
    if (const auto* a = answer_for(c, "user_name", "elicitation/create"))
      return done(c, "Hello, " + content_name(*a, "name") + "!");
    return ask(c, {{"user_name", elicit("What is your name?", name_schema)}});
  }
  if (n == "test_input_required_result_sampling") {
    if (const auto* a = answer_for(c, "capital_question", "sampling/createMessage"))
      return done(c, "The model answered: " + sampled(*a));
    return ask(c, {{"capital_question", sample("What is the capital of France?", 100)}});
  }
  if (n == "test_input_required_result_list_roots") {
    if (const auto* a = answer_for(c, "client_roots", "roots/list"))
      return done(c, "Client roots: " + root_list(*a));
    return ask(c, {{"client_roots", roots()}});
  }
  if (n == "test_input_required_result_request_state" ||
      n == "test_input_required_result_tampered_state") {
    const bool tamper = n == "test_input_required_result_tampered_state";
    const char* key = tamper ? "confirmation" : "user_name";
    if (const auto* a = answer_for(c, key, "elicitation/create"); a && round_is(c, 1))
      return done(c, tamper ? "state verified" : "state-ok: " + elicited(*a));
    return ask(c,
               {{key, tamper ? elicit("Please confirm", confirm_schema)
                             : elicit("What is your name?", name_schema)}},
               json::object{{"round", 1}});
  }
  if (n == "test_input_required_result_multiple_inputs") {
    json::object missing;
    const auto* name = answer_for(c, "user_name", "elicitation/create");
    const auto* greeting = answer_for(c, "greeting", "sampling/createMessage");
    const auto* dirs = answer_for(c, "client_roots", "roots/list");
    if (name && greeting && dirs && round_is(c, 1))
      return done(c, "name " + content_name(*name, "name") + ", greeting " + sampled(*greeting) +
                         ", roots " + root_list(*dirs));
    // What is missing is asked again (mrtr, error handling), under a fresh state.
    if (!name || !c.state) missing["user_name"] = elicit("What is your name?", name_schema);
    if (!greeting || !c.state) missing["greeting"] = sample("Generate a greeting", 50);
    if (!dirs || !c.state) missing["client_roots"] = roots();
    return ask(c, std::move(missing), json::object{{"round", 1}});
  }
  if (n == "test_input_required_result_multi_round") {
    if (const auto* a = answer_for(c, "step2", "elicitation/create"); a && round_is(c, 2))
      return done(
          c, "Hello " + str(*c.state, "name") + ", favorite color " + content_name(*a, "color"));
    if (const auto* a = answer_for(c, "step1", "elicitation/create"); a && round_is(c, 1))
      return ask(c, {{"step2", elicit("Step 2: What is your favorite color?", color_schema)}},
                 json::object{{"round", 2}, {"name", content_name(*a, "name")}});
    return ask(c, {{"step1", elicit("Step 1: What is your name?", name_schema)}},
               json::object{{"round", 1}});
  }
  if (n == "test_input_required_result_capabilities") {
    const auto* e = answer_for(c, "user_name", "elicitation/create");
    const auto* s = answer_for(c, "greeting", "sampling/createMessage");
    if (e || s) return done(c, "answered with what the client can do");
    json::object requests;
    if (declared(c, "elicitation/create"))
      requests["user_name"] = elicit("What is your name?", name_schema);
    if (declared(c, "sampling/createMessage"))
      requests["greeting"] = sample("Generate a greeting", 50);
    if (requests.empty())  // nothing it may ask: say what it needs
      return ask(c, {{"greeting", sample("Generate a greeting", 50)}});
    return ask(c, std::move(requests));
  }
  if (n == "test_sampling") {
    const auto prompt = str(c.args, "prompt");
    if (prompt.empty()) return tool_error(c, "test_sampling: argument prompt (string) is required");
    return one_question(c, "sampling", sample(prompt, 100), "LLM response: ");
  }
  if (n == "test_elicitation") {
    auto text = str(c.args, "message");
    if (text.empty())
      return tool_error(c, "test_elicitation: argument message (string) is required");
    return one_question(c, "elicitation", elicit(std::move(text), fixture::elicitation_schema_json),
                        "User response: ");
  }
  if (n == "test_elicitation_sep1034_defaults")
    return one_question(c, "elicitation",
                        elicit("Test client default value handling - please accept with defaults",
                               fixture::sep1034_schema_json),
                        "Elicitation completed: ");
  if (n == "test_elicitation_sep1330_enums")
    return one_question(c, "elicitation",
                        elicit("Test enum schema variants - please pick from each list",
                               fixture::sep1330_schema_json),
                        "Elicitation completed: ");
  if (n == "test_streaming_elicitation") {
    if (!declared(c, "elicitation/create"))
      return done(c, "Streaming elicitation: no elicitation capability");
    return one_question(c, "elicitation", elicit("Your name?", fixture::elicitation_schema_json),
                        "Streaming elicitation: ");
  }
  if (n == "test_header_param") return done(c, "Region: " + str(c.args, "region"));
  if (n == "test_missing_capability") {
    if (answer_for(c, "sampling", "sampling/createMessage")) return done(c, "sampling answered");
    return ask(c, {{"sampling", sample("ping", 10)}});
  }
  return std::nullopt;
}

}  // namespace

json::array tools() {
  return json::parse(modern_tools_json).as_array();
}

json::array prompts() {
  return json::parse(modern_prompts_json).as_array();
}

std::optional<std::string> param_header_mismatch(
    const message& request,
    const std::function<std::optional<std::string_view>(const std::string&)>& header) {
  const auto* params = request.params_object();
  if (request.method() != "tools/call" || !params) return std::nullopt;
  const auto name = str(*params, "name");
  json::object args;
  if (const auto* a = params->if_contains("arguments"); a && a->is_object()) args = a->get_object();
  for (const auto& t : tools()) {
    if (t.at("name") != json::value(name)) continue;
    const auto& props = t.at("inputSchema").at("properties").get_object();
    for (const auto& [key, def] : props) {
      const auto* h = def.get_object().if_contains("x-mcp-header");
      const auto* v = args.if_contains(key);
      if (!h || !v || v->is_null()) continue;  // no value: no header expected
      const std::string header_name = "Mcp-Param-" + std::string(h->get_string());
      std::string body_text = v->is_string() ? std::string(v->get_string()) : json::serialize(*v);
      const auto sent = header(header_name);
      if (!sent) return "Header mismatch: " + header_name + " header is required";
      const auto decoded = protocol::decode_header_value(*sent);
      if (!decoded || *decoded != body_text)
        return "Header mismatch: " + header_name + " does not match the body";
    }
  }
  return std::nullopt;
}

std::optional<message> answer(const message& request) {
  const auto method = request.method();
  const bool prompt = method == "prompts/get";
  if (!prompt && method != "tools/call") return std::nullopt;
  const auto* params = request.params_object();
  if (!params) return std::nullopt;
  call c;
  c.id = *request.id();
  c.name = str(*params, "name");
  c.prompt = prompt;
  if (prompt
          ? c.name != "test_input_required_result_prompt"
          : (c.name != "test_sampling" && c.name != "test_elicitation" &&
             !c.name.starts_with("test_elicitation_sep") &&
             c.name != "test_streaming_elicitation" && c.name != "test_missing_capability" &&
             c.name != "test_header_param" && !c.name.starts_with("test_input_required_result_")))
    return std::nullopt;
  if (const auto* a = params->if_contains("arguments"); a && a->is_object())
    c.args = a->get_object();
  c.caps = protocol::declared_capabilities(request);
  if (const auto* r = params->if_contains("inputResponses")) {
    // A malformed retry is a protocol error, not a question to ask again (mrtr, error handling).
    if (!r->is_object())
      return message::error_response(c.id, codes::invalid_params,
                                     "Invalid params: inputResponses must be an object");
    c.responses = &r->get_object();
  }
  if (const auto* s = params->if_contains("requestState")) {
    c.state = s->is_string() ? verify(s->get_string(), c.name) : std::nullopt;
    if (!c.state)
      return message::error_response(c.id, codes::invalid_params,
                                     "Invalid params: requestState failed verification");
  }
  if (prompt) {
    if (const auto* a = answer_for(c, "user_context", "elicitation/create"))
      return done(c, "Use this context: " + content_name(*a, "context"));
    return ask(c,
               {{"user_context", elicit("What context should the prompt use?", context_schema)}});
  }
  return run(c);
}

}  // namespace mock::modern_tools
