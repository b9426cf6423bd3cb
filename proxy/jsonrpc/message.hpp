#pragma once
// JSON-RPC 2.0 message model (sans-io). A message keeps its whole JSON object, so members this
// code does not know (`_meta`, fields of newer spec versions) pass through a proxy untouched.
// A response with a result read by parse() is kept as its text (checked, not built) until
// something asks for its members: relayed as it came, it is written from that text with its
// (possibly new) id spliced in, never built into a tree and serialized again.
// Thread-safety: plain values; no shared state. A const message may build its tree on first
// use, so one message is never read from two threads at once (none is: one I/O thread).

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <boost/system/result.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mcp_proxy::jsonrpc {

// Error codes of JSON-RPC 2.0 and the server-error range this project uses.
namespace error_codes {
inline constexpr std::int64_t parse_error = -32700;
inline constexpr std::int64_t invalid_request = -32600;
inline constexpr std::int64_t method_not_found = -32601;
inline constexpr std::int64_t invalid_params = -32602;
inline constexpr std::int64_t internal_error = -32603;
// Implementation-defined server errors (-32000..-32099).
inline constexpr std::int64_t backend_unavailable = -32000;
inline constexpr std::int64_t request_timeout = -32001;
// A request refused for a limit of its identity (mcpProxy.limits); HTTP answers 429.
inline constexpr std::int64_t rate_limited = -32029;
}  // namespace error_codes

enum class message_kind { request, notification, response, error_response };

std::string_view to_string(message_kind k);

// Why bytes could not become a message. `id` is the request id when it could be recovered (so the
// error response can carry it), null otherwise: a message nested too deep has its id read from
// its top level (scan_top_level); invalid JSON has none, as JSON-RPC 2.0 section 5 says.
struct parse_failure {
  std::int64_t code = error_codes::parse_error;
  std::string reason;
  boost::json::value id;
  bool too_deep = false;  // valid as far as read, but nested deeper than max_json_depth()
};

// The nesting bound of every message read from a client or a backend (arrays and objects; the
// message object itself is level 1). Boost.JSON's parser, the copy, comparison and destruction
// of a value, and this project's walkers over a message recurse once per level: at the ceiling
// that is about 3.5 MB of stack under ASan (less without), inside the 8 MB of the main thread
// that runs the I/O (tests/unit/jsonrpc_depth_test.cpp checks it on a smaller stack).
inline constexpr std::size_t default_max_json_depth = 1024;
inline constexpr std::size_t min_max_json_depth = 32;  // Boost.JSON's own default
inline constexpr std::size_t max_json_depth_ceiling = 4096;
// Process-wide, set once at start from mcpProxy.maxJsonDepth (clamped to the range above).
// Thread-safe (atomic).
void set_max_json_depth(std::size_t depth);
std::size_t max_json_depth();

// Any JSON text read from a peer (an initialize answer, an SSE event checked for its id), with
// the same nesting bound as messages.
// `sp`: where the value's nodes go (a monotonic arena for a tree read and dropped whole).
boost::json::value parse_json_value(std::string_view text, boost::system::error_code& ec,
                                    boost::json::storage_ptr sp = {});

// The rest of a response passed on as it arrives (message::streamed). The transport that reads
// it implements it (transport::chunk_stream); the code that writes or gathers such a message reads
// it from there.
class streamed_rest {
 public:
  virtual ~streamed_rest() = default;
};

// Checks a streamed response as its text arrives (streamed_check.cpp), head first: one JSON object
// (the same grammar, depth bound and finite numbers as parse()), with no "jsonrpc", "id", "result",
// "error" or "method" member after its result. Thread-safety: none (one stream).
class streamed_check {
 public:
  streamed_check();
  ~streamed_check();
  streamed_check(streamed_check&&) noexcept;
  streamed_check& operator=(streamed_check&&) noexcept;
  // False once the text so far cannot start such a response (and from then on).
  bool feed(std::string_view part);
  // Whether everything fed is one whole such response.
  bool finish();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

class message {
 public:
  message_kind kind() const { return kind_; }
  bool is_request() const { return kind_ == message_kind::request; }
  bool is_notification() const { return kind_ == message_kind::notification; }
  bool is_response() const {
    return kind_ == message_kind::response || kind_ == message_kind::error_response;
  }

  // The id member; nullptr for notifications.
  const boost::json::value* id() const { return text_ ? &text_id_ : obj_.if_contains("id"); }
  void set_id(boost::json::value id);
  // Empty for responses.
  std::string_view method() const;
  // nullptr when absent.
  const boost::json::value* params() const { return tree().if_contains("params"); }
  boost::json::object* params_object();
  const boost::json::object* params_object() const;
  // For responses: the `result` or `error` member.
  const boost::json::value* result() const;
  const boost::json::value* error() const;

  const boost::json::object& object() const { return tree(); }
  // Mutating the object must keep the message valid for its kind (ids, params, _meta only).
  boost::json::object& object() { return tree(); }

  // The text a response was read from, as long as it is kept instead of a tree: serialize()
  // writes it with the id spliced in. Null once anything asked for the members.
  struct text_form {
    std::string text;
    std::size_t id_at = 0, id_size = 0;   // where the id's value is written in `text`
    std::shared_ptr<streamed_rest> rest;  // set when `text` is only the head (streamed)
  };
  // Null for a streamed message too: its text is not all of it.
  const text_form* kept_text() const { return text_ && !text_->rest ? text_.get() : nullptr; }
  // A streamed message's head; null for any other.
  const text_form* streamed_head() const { return text_ && text_->rest ? text_.get() : nullptr; }

  // The length of the text it was parsed from (0 when built): what serialize() reserves, so a
  // large message is written into one buffer instead of a doubling one.
  std::size_t size_hint() const { return size_hint_; }
  void set_size_hint(std::size_t n) { size_hint_ = n; }

  // Validates `v` as one JSON-RPC 2.0 message.
  static boost::system::result<message, parse_failure> from_value(boost::json::value v);

  static message request(boost::json::value id, std::string_view method,
                         boost::json::object params = {});
  static message notification(std::string_view method, boost::json::object params = {});
  static message response(boost::json::value id, boost::json::value result);
  static message error_response(boost::json::value id, std::int64_t code, std::string_view text,
                                const boost::json::value* data = nullptr);
  // A response whose result is already JSON text (a cached page): kept as text, as parse()
  // keeps one. `result_json` must be one valid JSON value.
  static message response_text(boost::json::value id, std::string_view result_json);
  // parse()'s way for a response with a result: kept as text once checked (valid JSON within
  // the depth bound, numbers finite, "jsonrpc" "2.0", a valid id, a result, and no method, error
  // or repeated member). nullopt when any of that does not hold: parse() then builds it, which
  // says what is wrong.
  static std::optional<message> kept_response(std::string_view text);
  // The same for text the caller gives up: taken over (left empty) when kept, else untouched.
  static std::optional<message> kept_response(std::string& text);
  // A response of which only `head` has come (jsonrpc::scan_response_head read it: its id is
  // written at `id_at`, `id_size` long); the rest arrives through `rest`. It has no tree: only
  // a writer that passes it on as it comes (streamed_pieces) or one that gathers it whole first
  // may take it. set_id works as for a kept one.
  static message streamed(std::string head, std::size_t id_at, std::size_t id_size,
                          boost::json::value id, std::shared_ptr<streamed_rest> rest);
  // The rest of a streamed message; null for any other.
  const std::shared_ptr<streamed_rest>& rest() const;

 private:
  message(message_kind k, boost::json::object o) : kind_(k), obj_(std::move(o)) {}
  static std::optional<message> keep(std::string_view text, std::string* owned);
  // Builds the tree from the kept text (once), and drops the text.
  boost::json::object& tree() const;
  message_kind kind_;
  mutable boost::json::object obj_;
  mutable std::shared_ptr<const text_form> text_;
  boost::json::value text_id_;  // the id while the text is kept (set_id changes it)
  std::size_t size_hint_ = 0;
};

// One JSON-RPC message from text (a stdio line, an HTTP body, an SSE data field).
// A JSON array is rejected with -32600: batches are handled by parse_payload.
boost::system::result<message, parse_failure> parse(std::string_view text);
// parse() of text the caller gives up (a line or body just read): a response kept as text takes
// `text` over instead of copying it (left empty then); otherwise `text` is left as it was.
boost::system::result<message, parse_failure> parse_taking(std::string& text);

// A body that may be a batch (JSON-RPC 2.0 section 6; MCP allows batches only in 2025-03-26).
struct payload {
  bool is_batch = false;
  std::vector<boost::system::result<message, parse_failure>> items;
};
boost::system::result<payload, parse_failure> parse_payload(std::string_view text);

// A top-level id that is a non-integer number is written as the peer spelled it (`1.5`, not
// Boost.JSON's `1.5E0`; `12345678901234567890123` with all its digits): JSON-RPC wants the id
// echoed as sent. Ids are copied as values through many paths (id remapping, answers the proxy
// gives itself), so parse() keeps such spellings in a small process-wide table keyed by the
// number's value (at most 4096 spellings of up to 64 characters, the oldest forgotten first);
// two peers spelling the same number differently within that window may get each other's
// spelling, which is still the same number.
std::string serialize(const message& m);

// A message kept as text (message::kept_text), as serialize() writes it: the text before the id,
// the id, and the text after it. A writer that sends the three as one gather write sends a large
// result without a copy; `before` and `after` point into the message, which must outlive them.
struct kept_pieces {
  std::string_view before;
  std::string id;
  std::string_view after;
  std::size_t size() const { return before.size() + id.size() + after.size(); }
};
// Null when the message is not kept as text.
std::optional<kept_pieces> pieces_of(const message& m);
// The head of a streamed message (message::streamed) in the same three pieces, to be followed by
// what its rest yields; null for any other message.
std::optional<kept_pieces> streamed_pieces(const message& m);

// The error response a peer should get for input that failed to parse.
message to_error_response(const parse_failure& f);

// Whether `v` is usable as a request id (string or number; MCP forbids null).
bool is_valid_request_id(const boost::json::value& v);

// Lets result<T, parse_failure>::value() throw on error (a bug: callers check first). Found by
// argument-dependent lookup, so it lives beside parse_failure.
[[noreturn]] void throw_exception_from_error(const parse_failure& f,
                                             const boost::source_location& loc);

}  // namespace mcp_proxy::jsonrpc
