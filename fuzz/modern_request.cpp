// libFuzzer target for the rules of a 2026-07-28 request (protocol/modern_request) and the
// retries of suspended calls (protocol/input_bridge), on untrusted bytes. The input is split at
// its first two newlines: the body of a request, then the Mcp-Name header value, then the
// MCP-Protocol-Version header value. Properties:
// - nothing crashes; a refusal is 400 or 404 with one of -32602, -32020, -32022, -32601, and its
//   error response carries the request's id;
// - a header value decodes to nothing, or to text no longer than the value;
// - a retry never resumes a call with a state it was not given, and a state resumes once.
#include "protocol/modern_request.hpp"
#include "jsonrpc/message.hpp"
#include "protocol/input_bridge.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace {

namespace jsonrpc = mcp_proxy::jsonrpc;
namespace protocol = mcp_proxy::protocol;
namespace json = boost::json;

void check(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "property violated: %s\n", what);
  __builtin_trap();
}

std::string_view take_line(std::string_view& rest) {
  const auto nl = rest.find('\n');
  const auto line = rest.substr(0, nl);
  rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
  return line;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  const auto body = take_line(rest);
  const auto name = take_line(rest);
  const auto version = rest;

  if (auto decoded = protocol::decode_header_value(name))
    check(decoded->size() <= name.size(), "a decoded header value is longer than the value");

  auto parsed = jsonrpc::parse(body);
  if (!parsed) return 0;
  const auto& m = *parsed;
  protocol::is_modern(m, version, false);
  if (!m.is_request()) return 0;
  protocol::modern_headers h{version, m.method(), name};
  if (auto refused = protocol::check_modern_request(m, h)) {
    check(refused->status == 400 || refused->status == 404, "a refusal has another status");
    const auto code = refused->code;
    check(code == -32602 || code == -32020 || code == -32022 || code == -32601,
          "a refusal has another code");
    auto answer = protocol::refusal_response(m, *refused);
    check(answer.id() && *answer.id() == *m.id(), "a refusal lost the request id");
  }
  auto legacy = protocol::to_legacy_request(m);
  protocol::modern_log_rank(m);
  auto init = protocol::legacy_initialize_for(m);
  check(init.method() == "initialize", "legacy_initialize_for made something else");

  // The fuzzed request retries a call suspended for a fixed one: it resumes only with the
  // state that call was given, and only once.
  int tokens = 0;
  protocol::input_bridge bridge([&tokens] { return "state-" + std::to_string(++tokens); });
  auto original = jsonrpc::message::request(1, "tools/call", json::object{{"name", "t"}});
  auto ask = jsonrpc::message::request(9, "roots/list");
  const auto later = protocol::input_bridge::clock::now() + std::chrono::hours(1);
  auto s = bridge.suspend("r", original, ask, later);
  check(s.has_value(), "a tools/call could not be suspended");
  using kind = protocol::input_bridge::retry_outcome::kind;
  auto r = bridge.on_retry("r", m, protocol::input_bridge::clock::now());
  if (r.what == kind::resume) {
    const auto* state =
        m.params_object() ? m.params_object()->if_contains("requestState") : nullptr;
    check(state && *state == "state-1", "resumed without the state it was given");
    check(r.backend_id == 9, "resumed another backend request");
    check(bridge.on_retry("r", m, protocol::input_bridge::clock::now()).what != kind::resume,
          "a state resumed twice");
  }
  return 0;
}
