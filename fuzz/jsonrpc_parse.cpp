// libFuzzer target for the JSON-RPC message model. Properties, for any input bytes:
// - parse never crashes; a failure is -32700 or -32600, and its error response is a valid error
//   response that echoes only a usable id;
// - a parsed message survives serialize -> parse with the same kind and an equal object (doubles
//   within a few ulps: Boost.JSON 1.81 parses doubles with up to 1 ulp error; precise parsing
//   came in 1.83);
// - parse_payload agrees with parse on non-batches and gives one result per batch item;
// - a response parse keeps as its text (the pass-through relay) is the message the full way
//   (Boost.JSON tree, from_value) builds: with a new id spliced in, its text parses to that
//   message with that id;
// - a response whose head scan_response_head reads, passed on as it arrives (streamed_check fed
//   in two pieces): it passes the check exactly when the full way takes it as a response, and
//   its head with a new id spliced in, then the rest, parses to the message the full way builds.
#include "jsonrpc/message.hpp"
#include "jsonrpc/top_level_scan.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>

namespace {

namespace jsonrpc = mcp_proxy::jsonrpc;
namespace json = boost::json;

[[noreturn]] void fail(const char* what, std::string_view detail) {
  std::fprintf(stderr, "property violated: %s\n%.*s\n", what, static_cast<int>(detail.size()),
               detail.data());
  __builtin_trap();
}

void check(bool ok, const char* what, std::string_view detail = {}) {
  if (!ok) fail(what, detail);
}

bool within_ulps(double x, double y, std::int64_t ulps) {
  if (x == y) return true;
  if (!std::isfinite(x) || !std::isfinite(y) || std::signbit(x) != std::signbit(y)) return false;
  std::int64_t a = std::bit_cast<std::int64_t>(x);
  std::int64_t b = std::bit_cast<std::int64_t>(y);
  return (a > b ? a - b : b - a) <= ulps;
}

// Exact equality except for doubles, which may differ by a few ulps.
bool same_json(const json::value& a, const json::value& b) {
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case json::kind::double_:
      return within_ulps(a.get_double(), b.get_double(), 4);
    case json::kind::array: {
      const auto& x = a.get_array();
      const auto& y = b.get_array();
      if (x.size() != y.size()) return false;
      for (std::size_t i = 0; i < x.size(); ++i)
        if (!same_json(x[i], y[i])) return false;
      return true;
    }
    case json::kind::object: {
      const auto& x = a.get_object();
      const auto& y = b.get_object();
      if (x.size() != y.size()) return false;
      for (const auto& kv : x) {
        const json::value* other = y.if_contains(kv.key());
        if (!other || !same_json(kv.value(), *other)) return false;
      }
      return true;
    }
    default:
      return a == b;
  }
}

void check_round_trip(const jsonrpc::message& m) {
  std::string text = jsonrpc::serialize(m);
  auto again = jsonrpc::parse(text);
  check(again.has_value(), "serialized message does not parse", text);
  check(again->kind() == m.kind(), "kind changed across serialize/parse", text);
  check(same_json(again->object(), m.object()), "object changed across serialize/parse", text);
}

void check_failure(const jsonrpc::parse_failure& f) {
  check(f.code == jsonrpc::error_codes::parse_error ||
            f.code == jsonrpc::error_codes::invalid_request,
        "unexpected failure code", f.reason);
  check(!f.reason.empty(), "failure without a reason");
  check(f.id.is_null() || jsonrpc::is_valid_request_id(f.id), "recovered id is unusable", f.reason);
  if (f.code == jsonrpc::error_codes::parse_error) check(f.id.is_null(), "parse error with an id");

  jsonrpc::message reply = jsonrpc::to_error_response(f);
  check(reply.kind() == jsonrpc::message_kind::error_response, "reply is not an error response");
  check_round_trip(reply);
}

void check_kept(std::string_view text, const jsonrpc::message& m) {
  if (!m.kept_text()) return;
  boost::system::error_code ec;
  auto value = jsonrpc::parse_json_value(text, ec);
  check(!ec, "kept text the full way does not parse", text);
  auto built = jsonrpc::message::from_value(std::move(value));
  check(built.has_value(), "kept a message the full way refuses", text);
  check(built->kind() == m.kind(), "kept message of another kind", text);
  jsonrpc::message spliced = m;
  spliced.set_id("fuzz-\"id\"");
  built->set_id("fuzz-\"id\"");
  const auto out = jsonrpc::serialize(spliced);
  check(spliced.kept_text() != nullptr, "serialize built the kept message", text);
  auto again = jsonrpc::parse(out);
  check(again.has_value(), "spliced text does not parse", out);
  check(same_json(again->object(), built->object()), "spliced message differs from the full way",
        out);
}

struct no_rest final : jsonrpc::streamed_rest {};

void check_streamed(std::string_view text,
                    const boost::system::result<jsonrpc::message, jsonrpc::parse_failure>& single) {
  const auto head = jsonrpc::scan_response_head(text);
  if (!head) return;
  const std::size_t cut = std::max(head->result_at, text.size() / 2);
  jsonrpc::streamed_check streamed;
  bool passes = streamed.feed(text.substr(0, cut));
  passes = passes && streamed.feed(text.substr(cut));
  passes = passes && streamed.finish();
  const bool full_way = single && single->kind() == jsonrpc::message_kind::response;
  check(passes == full_way, "streamed_check disagrees with parse", text);
  if (!passes) return;
  auto m = jsonrpc::message::streamed(std::string(text.substr(0, cut)), head->id_at, head->id_size,
                                      head->id, std::make_shared<no_rest>());
  m.set_id("fuzz-\"id\"");
  auto pieces = jsonrpc::streamed_pieces(m);
  check(pieces.has_value(), "a streamed message without its head");
  std::string whole(pieces->before);
  whole.append(pieces->id).append(pieces->after).append(text.substr(cut));
  auto again = jsonrpc::parse(whole);
  check(again.has_value(), "a streamed message gathered does not parse", whole);
  auto built = *single;
  built.set_id("fuzz-\"id\"");
  check(same_json(again->object(), built.object()), "a streamed message differs from the full way",
        whole);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);

  auto single = jsonrpc::parse(text);
  check_streamed(text, single);
  if (single) {
    check_kept(text, *single);
    check_round_trip(*single);
  } else
    check_failure(single.error());

  auto payload = jsonrpc::parse_payload(text);
  if (!payload) {
    check_failure(payload.error());
    // parse_payload fails only on invalid JSON or an empty batch; parse fails on both too.
    check(!single, "parse_payload failed where parse succeeded", text);
    return 0;
  }
  check(!payload->items.empty(), "payload without items");
  if (!payload->is_batch) {
    check(payload->items.size() == 1, "non-batch payload with several items");
    check(payload->items[0].has_value() == single.has_value(), "parse and parse_payload disagree",
          text);
    if (single) check(payload->items[0]->object() == single->object(), "payload item differs");
  } else {
    check(!single, "parse accepted a batch", text);
  }
  for (const auto& item : payload->items) {
    if (item)
      check_round_trip(*item);
    else
      check_failure(item.error());
  }
  return 0;
}
