#include "jsonrpc/message.hpp"

#include "jsonrpc/json_checker.hpp"

#include "jsonrpc/top_level_scan.hpp"

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/serializer.hpp>
#include <boost/throw_exception.hpp>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cmath>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <unordered_map>

namespace mcp_proxy::jsonrpc {

namespace json = boost::json;

std::string_view to_string(message_kind k) {
  switch (k) {
    case message_kind::request:
      return "request";
    case message_kind::notification:
      return "notification";
    case message_kind::response:
      return "response";
    case message_kind::error_response:
      return "error response";
  }
  return "unknown";
}

bool is_valid_request_id(const json::value& v) {
  if (v.is_double()) return std::isfinite(v.get_double());
  return v.is_string() || v.is_number();
}

void message::set_id(json::value id) {
  if (text_)
    text_id_ = std::move(id);
  else
    obj_["id"] = std::move(id);
}

std::string_view message::method() const {
  if (text_) return {};  // a response
  if (auto* m = obj_.if_contains("method"); m && m->is_string()) return m->get_string();
  return {};
}

json::object* message::params_object() {
  auto* p = tree().if_contains("params");
  return p ? p->if_object() : nullptr;
}

const json::object* message::params_object() const {
  auto* p = tree().if_contains("params");
  return p ? p->if_object() : nullptr;
}

const json::value* message::result() const {
  return tree().if_contains("result");
}

const json::value* message::error() const {
  if (text_) return nullptr;  // kept only with a result, which excludes an error
  return obj_.if_contains("error");
}

namespace {

parse_failure invalid(std::string reason, json::value id = nullptr) {
  return {error_codes::invalid_request, std::move(reason), std::move(id)};
}

// Boost.JSON 1.81 reads a number beyond double range (1e400) as infinity and writes it back as
// `Infinity`, which is not JSON: a message holding one could not be forwarded or echoed.
bool all_numbers_finite(const json::value& v) {
  switch (v.kind()) {
    case json::kind::double_:
      return std::isfinite(v.get_double());
    case json::kind::array:
      for (const auto& e : v.get_array())
        if (!all_numbers_finite(e)) return false;
      return true;
    case json::kind::object:
      for (const auto& kv : v.get_object())
        if (!all_numbers_finite(kv.value())) return false;
      return true;
    default:
      return true;
  }
}

// The id to echo in an error response: only a well-formed one.
json::value recoverable_id(const json::object& o) {
  if (auto* id = o.if_contains("id"); id && is_valid_request_id(*id)) return *id;
  return nullptr;
}

}  // namespace

boost::system::result<message, parse_failure> message::from_value(json::value v) {
  auto* o = v.if_object();
  if (!o) return invalid("message must be a JSON object");
  json::value id = recoverable_id(*o);
  if (!all_numbers_finite(v)) return invalid("a number is out of range", id);

  auto* version = o->if_contains("jsonrpc");
  if (!version || !version->is_string() || version->get_string() != "2.0")
    return invalid(R"(member "jsonrpc" must be exactly "2.0")", id);

  auto* method = o->if_contains("method");
  auto* result = o->if_contains("result");
  auto* error = o->if_contains("error");
  auto* raw_id = o->if_contains("id");

  if (method) {
    if (!method->is_string()) return invalid(R"(member "method" must be a string)", id);
    if (result || error) return invalid("a request must not carry result or error", id);
    if (auto* params = o->if_contains("params"); params && !params->is_structured())
      return invalid(R"(member "params" must be an object or an array)", id);
    if (!raw_id) return message(message_kind::notification, std::move(*o));
    if (raw_id->is_null()) return invalid("request id must not be null");
    if (!is_valid_request_id(*raw_id)) return invalid("request id must be a string or a number");
    return message(message_kind::request, std::move(*o));
  }

  if (!result && !error) return invalid(R"(message has neither "method" nor "result"/"error")", id);
  if (result && error) return invalid(R"(a response must not carry both "result" and "error")", id);
  if (!raw_id) return invalid(R"(a response must carry "id")");
  if (error) {
    if (!raw_id->is_null() && !is_valid_request_id(*raw_id))
      return invalid("response id must be a string, a number or null");
    auto* eo = error->if_object();
    if (!eo) return invalid(R"(member "error" must be an object)", id);
    auto* code = eo->if_contains("code");
    if (!code || !(code->is_int64() || code->is_uint64()))
      return invalid("error code must be an integer", id);
    auto* text = eo->if_contains("message");
    if (!text || !text->is_string()) return invalid("error message must be a string", id);
    return message(message_kind::error_response, std::move(*o));
  }
  if (!is_valid_request_id(*raw_id)) return invalid("response id must be a string or a number");
  return message(message_kind::response, std::move(*o));
}

message message::request(json::value id, std::string_view method, json::object params) {
  json::object o;
  o["jsonrpc"] = "2.0";
  o["id"] = std::move(id);
  o["method"] = method;
  o["params"] = std::move(params);
  return message(message_kind::request, std::move(o));
}

message message::notification(std::string_view method, json::object params) {
  json::object o;
  o["jsonrpc"] = "2.0";
  o["method"] = method;
  if (!params.empty()) o["params"] = std::move(params);
  return message(message_kind::notification, std::move(o));
}

message message::response(json::value id, json::value result) {
  json::object o;
  o["jsonrpc"] = "2.0";
  o["id"] = std::move(id);
  o["result"] = std::move(result);
  return message(message_kind::response, std::move(o));
}

message message::response_text(json::value id, std::string_view result_json) {
  static constexpr std::string_view head = R"({"jsonrpc":"2.0","id":)";
  auto form = std::make_shared<text_form>();
  const auto id_text = json::serialize(id);
  form->text.reserve(head.size() + id_text.size() + result_json.size() + 12);
  form->text.append(head).append(id_text).append(R"(,"result":)").append(result_json) += '}';
  form->id_at = head.size();
  form->id_size = id_text.size();
  message m(message_kind::response, {});
  m.size_hint_ = form->text.size();
  m.text_ = std::move(form);
  m.text_id_ = std::move(id);
  return m;
}

message message::error_response(json::value id, std::int64_t code, std::string_view text,
                                const json::value* data) {
  json::object err;
  err["code"] = code;
  err["message"] = text;
  if (data) err["data"] = *data;
  json::object o;
  o["jsonrpc"] = "2.0";
  o["id"] = std::move(id);
  o["error"] = std::move(err);
  return message(message_kind::error_response, std::move(o));
}

namespace {

std::atomic<std::size_t> depth_bound{default_max_json_depth};

// How peers spelled their non-integer number ids (serialize()'s comment says why).
class id_spellings {
 public:
  static constexpr std::size_t capacity = 4096;
  static constexpr std::size_t longest = 64;

  void remember(double value, std::string_view text) {
    if (text.size() > longest) return;
    const auto key = std::bit_cast<std::uint64_t>(value);
    std::lock_guard lock(mutex_);
    auto [it, fresh] = spellings_.try_emplace(key, text);
    if (!fresh) {
      it->second = std::string(text);
      return;
    }
    order_.push_back(key);
    if (order_.size() > capacity) {
      spellings_.erase(order_.front());
      order_.pop_front();
    }
  }

  std::optional<std::string> find(double value) const {
    std::lock_guard lock(mutex_);
    auto it = spellings_.find(std::bit_cast<std::uint64_t>(value));
    if (it == spellings_.end()) return std::nullopt;
    return it->second;
  }

 private:
  mutable std::mutex mutex_;
  std::unordered_map<std::uint64_t, std::string> spellings_;
  std::deque<std::uint64_t> order_;
};

id_spellings& spellings() {
  static id_spellings table;
  return table;
}

json::parse_options bounded() {
  json::parse_options o;
  o.max_depth = depth_bound.load(std::memory_order_relaxed);
  return o;
}

boost::system::result<json::value, parse_failure> parse_json(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec, {}, bounded());
  if (ec == json::error::too_deep) {
    // Valid as far as it was read: its id, if the top level shows one, goes in the answer.
    return parse_failure{error_codes::parse_error,
                         "JSON nested deeper than " + std::to_string(max_json_depth()) +
                             " levels (the bound is mcpProxy.maxJsonDepth)",
                         readable_id(text), true};
  }
  if (ec) return parse_failure{error_codes::parse_error, "invalid JSON: " + ec.message(), nullptr};
  return v;
}

bool checks_out(std::string_view text) {
  json::basic_parser<detail::json_checker> p(bounded());
  boost::system::error_code ec;
  const auto used = p.write_some(false, text.data(), text.size(), ec);
  return !ec && p.done() && used == text.size();
}

// How serialize() writes an id: as the peer spelled a non-integer number (see its comment).
std::string id_text(const json::value& id) {
  if (id.is_double())
    if (auto text = spellings().find(id.get_double())) return *text;
  return json::serialize(id);
}

// A double id: how the text spelled it, for serialize().
void remember_id_spelling(const message& m, std::string_view text) {
  const auto* id = m.id();
  if (!id || !id->is_double()) return;
  if (auto top = scan_top_level(text); top && top->id)
    spellings().remember(id->get_double(), *top->id);
}

}  // namespace

void set_max_json_depth(std::size_t depth) {
  depth_bound = std::clamp(depth, min_max_json_depth, max_json_depth_ceiling);
}

std::size_t max_json_depth() {
  return depth_bound.load(std::memory_order_relaxed);
}

json::value parse_json_value(std::string_view text, boost::system::error_code& ec,
                             json::storage_ptr sp) {
  return json::parse(text, ec, std::move(sp), bounded());
}

std::optional<message> message::kept_response(std::string_view text) {
  return keep(text, nullptr);
}

std::optional<message> message::kept_response(std::string& text) {
  return keep(text, &text);
}

std::optional<message> message::keep(std::string_view text, std::string* owned) {
  // Only what the full way would accept as it is; anything else takes the full way.
  auto top = scan_top_level(text);
  if (!top || top->repeated || !top->has_result || top->has_error || top->has_method || !top->id ||
      top->jsonrpc != R"("2.0")")
    return std::nullopt;
  // Written as it came: one line for stdio and SSE (raw CR or LF in JSON is only whitespace
  // between tokens, never inside a string), without the whitespace around the object.
  // (Two memchr scans: find_first_of tests the set byte by byte, 40% of a 10 MB relay.)
  if (text.find('\n') != std::string_view::npos || text.find('\r') != std::string_view::npos)
    return std::nullopt;
  const auto first = text.find('{'), last = text.rfind('}');
  boost::system::error_code ec;
  auto id = json::parse(*top->id, ec);
  if (ec || !is_valid_request_id(id) || !checks_out(text)) return std::nullopt;
  auto form = std::make_shared<text_form>();
  form->id_at = static_cast<std::size_t>(top->id->data() - text.data()) - first;
  form->id_size = top->id->size();
  if (id.is_double()) spellings().remember(id.get_double(), *top->id);
  message m(message_kind::response, {});
  m.size_hint_ = text.size();
  if (owned && first == 0 && last + 1 == text.size())
    form->text = std::move(*owned);
  else
    form->text.assign(text.substr(first, last + 1 - first));
  m.text_ = std::move(form);
  m.text_id_ = std::move(id);
  return m;
}

message message::streamed(std::string head, std::size_t id_at, std::size_t id_size, json::value id,
                          std::shared_ptr<streamed_rest> rest) {
  auto form = std::make_shared<text_form>();
  form->text = std::move(head);
  form->id_at = id_at;
  form->id_size = id_size;
  form->rest = std::move(rest);
  message m(message_kind::response, {});
  m.size_hint_ = form->text.size();
  m.text_ = std::move(form);
  m.text_id_ = std::move(id);
  return m;
}

const std::shared_ptr<streamed_rest>& message::rest() const {
  static const std::shared_ptr<streamed_rest> none;
  return text_ ? text_->rest : none;
}

json::object& message::tree() const {
  // A streamed message has no tree (its rest is not here): only its id. The writers gather one
  // whole before anything asks for its members.
  if (text_ && text_->rest) {
    obj_["id"] = text_id_;
    return obj_;
  }
  if (text_) {
    boost::system::error_code ec;
    auto v = json::parse(text_->text, ec, {}, bounded());
    // kept_response checked it with the same parser and bound: it parses.
    if (!ec && v.is_object()) obj_ = std::move(v.get_object());
    obj_["id"] = text_id_;
    text_.reset();
  }
  return obj_;
}

boost::system::result<message, parse_failure> parse(std::string_view text) {
  if (auto kept = message::kept_response(text)) return std::move(*kept);
  auto v = parse_json(text);
  if (!v) return v.error();
  if (v->is_array()) return invalid("batches are not accepted here; send one message");
  auto m = message::from_value(std::move(*v));
  if (m) {
    m->set_size_hint(text.size());
    remember_id_spelling(*m, text);
  }
  return m;
}

boost::system::result<message, parse_failure> parse_taking(std::string& text) {
  if (auto kept = message::kept_response(text)) return std::move(*kept);
  return parse(text);
}

boost::system::result<payload, parse_failure> parse_payload(std::string_view text) {
  auto v = parse_json(text);
  if (!v) return v.error();
  payload p;
  if (auto* arr = v->if_array()) {
    if (arr->empty()) return invalid("a batch must not be empty");
    p.is_batch = true;
    p.items.reserve(arr->size());
    for (auto& item : *arr) p.items.push_back(message::from_value(std::move(item)));
    return p;
  }
  p.items.push_back(message::from_value(std::move(*v)));
  if (auto& m = p.items.front()) remember_id_spelling(*m, text);
  return p;
}

namespace {

// The object member by member, its id as spelled: a message of a rare kind (a non-integer id),
// so the plain way.
std::string serialize_with_id_text(const json::object& o, std::string_view id_text) {
  std::string out = "{";
  for (const auto& kv : o) {
    if (out.size() > 1) out += ',';
    out += json::serialize(json::string_view(kv.key()));
    out += ':';
    if (kv.key() == "id")
      out += id_text;
    else
      out += json::serialize(kv.value());
  }
  out += '}';
  return out;
}

}  // namespace

namespace {
kept_pieces pieces_of_form(const message::text_form& form, const json::value& id) {
  const std::string_view text = form.text;
  return kept_pieces{text.substr(0, form.id_at), id_text(id),
                     text.substr(form.id_at + form.id_size)};
}
}  // namespace

std::optional<kept_pieces> pieces_of(const message& m) {
  const auto* kept = m.kept_text();
  if (kept == nullptr) return std::nullopt;
  return pieces_of_form(*kept, *m.id());
}

std::optional<kept_pieces> streamed_pieces(const message& m) {
  if (!m.rest()) return std::nullopt;
  return pieces_of_form(*m.streamed_head(), *m.id());
}

std::string serialize(const message& m) {
  if (auto pieces = pieces_of(m)) {
    // Relayed as it came, with its id spliced in.
    std::string out;
    out.reserve(pieces->size());
    out.append(pieces->before).append(pieces->id).append(pieces->after);
    return out;
  }
  if (const auto* id = m.id(); id && id->is_double()) {
    if (auto text = spellings().find(id->get_double()))
      return serialize_with_id_text(m.object(), *text);
  }
  // Into a buffer of about the size the message had when parsed (ids may have changed length):
  // json::serialize doubles its buffer, twice the memory of a large result at its peak.
  constexpr std::size_t slack = 64;
  if (m.size_hint() < 4096) return json::serialize(m.object());
  json::serializer sr;
  sr.reset(&m.object());
  std::string out(m.size_hint() + slack, '\0');
  std::size_t len = 0;
  while (!sr.done()) {
    if (len == out.size()) out.resize(out.size() + out.size() / 2);
    len += sr.read(out.data() + len, out.size() - len).size();
  }
  out.resize(len);
  return out;
}

message to_error_response(const parse_failure& f) {
  std::string text = f.code == error_codes::parse_error ? "Parse error: " : "Invalid Request: ";
  text += f.reason;
  return message::error_response(f.id, f.code, text);
}

void throw_exception_from_error(const parse_failure& f, const boost::source_location& loc) {
  boost::throw_exception(std::runtime_error("JSON-RPC parse failure: " + f.reason), loc);
}

}  // namespace mcp_proxy::jsonrpc
