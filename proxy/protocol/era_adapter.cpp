#include "protocol/era_adapter.hpp"

#include "protocol/modern_request.hpp"
#include "protocol/versions.hpp"

#include <boost/json.hpp>

#include <algorithm>

namespace mcp_proxy::protocol {

namespace json = boost::json;
using jsonrpc::message;
namespace codes = jsonrpc::error_codes;

namespace {

constexpr std::string_view own_id_prefix = "mcp-proxy:";
constexpr std::string_view subscription_id = "io.modelcontextprotocol/subscriptionId";

std::string key_of(const json::value& id) {
  return json::serialize(id);
}

// A request carrying a 2026-07-28 client's own _meta (the claim protocol::is_modern reads).
bool has_modern_meta(const message& m) {
  return is_modern(m, std::nullopt, false);
}

const json::object* meta_of(const message& m) {
  const auto* params = m.params_object();
  const auto* meta = params ? params->if_contains("_meta") : nullptr;
  return meta ? meta->if_object() : nullptr;
}

std::string_view string_at(const json::object* o, std::string_view key) {
  const auto* v = o ? o->if_contains(key) : nullptr;
  return v && v->is_string() ? std::string_view(v->get_string()) : std::string_view();
}

const json::object* object_at(const json::object* o, std::string_view key) {
  const auto* v = o ? o->if_contains(key) : nullptr;
  return v ? v->if_object() : nullptr;
}

bool flag_at(const json::object* o, std::string_view key) {
  const auto* v = o ? o->if_contains(key) : nullptr;
  return v && v->is_bool() && v->get_bool();
}

// The initialize result a 2025-11-25 client gets for a modern server (server/discover's
// capabilities, serverInfo from result _meta, instructions).
json::object initialize_result_of(const json::object& discover, std::string_view version) {
  json::object result{{"protocolVersion", version}};
  const auto* caps = object_at(&discover, "capabilities");
  result["capabilities"] = caps ? *caps : json::object{};
  const json::object* info = object_at(object_at(&discover, "_meta"), meta::server_info);
  if (!info) info = object_at(&discover, "serverInfo");  // drafts before serverInfo moved
  result["serverInfo"] = info ? *info : json::object{{"name", "unknown"}, {"version", "0"}};
  if (const auto* text = discover.if_contains("instructions"); text && text->is_string())
    result["instructions"] = *text;
  return result;
}

}  // namespace

era_adapter::era_adapter(mode m) : mode_(m) {
  if (m == mode::legacy) verdict_ = verdict::legacy;
}

bool era_adapter::is_own_id(const json::value& id) {
  return id.is_string() && id.get_string().starts_with(own_id_prefix);
}

std::optional<message> era_adapter::for_legacy_backend(const message& m) {
  if (!m.is_request() || !has_modern_meta(m)) return std::nullopt;
  return to_legacy_request(m);
}

std::string era_adapter::next_id(std::string_view kind) {
  return std::string(own_id_prefix) + std::string(kind) + ":" + std::to_string(++counter_);
}

json::object era_adapter::request_meta(const declared_client* client) const {
  static const json::object none;
  // The client of the request, as it declared itself; else the core's initialize.
  const json::object& caps =
      client ? (client->capabilities ? *client->capabilities : none) : client_capabilities_;
  const json::object& info =
      client ? (client->client_info ? *client->client_info : none) : client_info_;
  json::object meta{{meta::protocol_version, modern_version}, {meta::client_capabilities, caps}};
  if (!info.empty()) meta[meta::client_info] = info;
  if (log_level_) meta[meta::log_level] = *log_level_;
  return meta;
}

message era_adapter::with_meta(const message& m, const declared_client* client) const {
  message out = m;
  if (has_modern_meta(m)) return out;  // a 2026-07-28 client's own request: its own _meta
  auto& o = out.object();
  if (!o.contains("params") || !o["params"].is_object()) o["params"] = json::object{};
  auto& params = o["params"].get_object();
  if (!params.contains("_meta") || !params["_meta"].is_object()) params["_meta"] = json::object{};
  auto& meta = params["_meta"].get_object();
  for (auto& kv : request_meta(client)) meta[kv.key()] = kv.value();
  return out;
}

void era_adapter::answer_core(actions& out, const json::value& id, json::value result) {
  out.to_core.push_back({message::response(id, std::move(result)), {}});
}

void era_adapter::fail_core(actions& out, const json::value& id, std::int64_t code,
                            std::string_view text) {
  out.to_core.push_back({message::error_response(id, code, text), {}});
}

era_adapter::actions era_adapter::on_send(const message& m, const declared_client* client) {
  actions out;
  if (verdict_ == verdict::legacy) {
    auto stripped = for_legacy_backend(m);
    out.to_backend.push_back(stripped ? std::move(*stripped) : m);
    return out;
  }
  const auto method = m.method();
  if (m.is_request() && method == "initialize" && verdict_ == verdict::unknown) {
    const auto* params = m.params_object();
    if (const auto* caps = object_at(params, "capabilities")) client_capabilities_ = *caps;
    if (const auto* info = object_at(params, "clientInfo")) client_info_ = *info;
    requested_version_ = std::string(string_at(params, "protocolVersion"));
    probe_ = m;
    probe_id_ = next_id("discover");
    out.to_backend.push_back(message::request(json::string(probe_id_), "server/discover",
                                              json::object{{"_meta", request_meta()}}));
    out.start_probe_timer = mode_ == mode::detect;
    return out;
  }
  if (m.is_response()) {
    if (m.id() && m.id()->is_string()) on_input_answer(out, std::string(m.id()->get_string()), m);
    return out;
  }
  if (m.is_notification()) {
    // 2026-07-28 has one client notification (basic/index): the rest (initialized,
    // roots/list_changed) were removed with the lifecycle.
    if (method == "notifications/cancelled") {
      const auto* params = m.params_object();
      if (const auto* id = params ? params->if_contains("requestId") : nullptr) cancel(out, *id);
    }
    return out;
  }
  const json::value& id = *m.id();
  const auto* params = m.params_object();
  if (method == "ping") {
    // No ping in 2026-07-28: discover answers whether the server is there.
    auto own = next_id("ping");
    pings_.emplace(key_of(json::string(own)), id);
    out.to_backend.push_back(message::request(json::string(own), "server/discover",
                                              json::object{{"_meta", request_meta()}}));
  } else if (method == "logging/setLevel") {
    // The level rides on every request from now on (basic/index, _meta logLevel).
    if (auto level = string_at(params, "level"); !level.empty()) log_level_ = std::string(level);
    answer_core(out, id, json::object{});
  } else if (method == "resources/subscribe" || method == "resources/unsubscribe") {
    auto uri = std::string(string_at(params, "uri"));
    if (method == "resources/subscribe")
      subscribed_.insert(uri);
    else
      subscribed_.erase(uri);
    answer_core(out, id, json::object{});
    update_listen(out);
  } else if (method == "initialize") {
    fail_core(out, id, codes::invalid_request, "initialize was already answered");
  } else {
    send_call(out, id, with_meta(m, client), !has_modern_meta(m), 0);
  }
  return out;
}

void era_adapter::send_call(actions& out, const json::value& core_id, message request, bool bridged,
                            int rounds) {
  json::value backend_id = core_id;
  if (rounds > 0) {
    backend_id = next_id("retry");
    request.set_id(backend_id);
  }
  if (request.method() == "tools/call") {
    const auto name = string_at(request.params_object(), "name");
    if (auto it = marks_.find(name); it != marks_.end())
      out.call_headers = param_header_values(request, it->second);
  }
  calls_.insert_or_assign(key_of(backend_id), call{core_id, backend_id, request, bridged, rounds});
  out.to_backend.push_back(std::move(request));
}

era_adapter::actions era_adapter::on_receive(message m, const json::value& in_reply_to) {
  actions out;
  if (verdict_ == verdict::legacy) {
    out.to_core.push_back({std::move(m), in_reply_to});
    return out;
  }
  if (m.is_response()) {
    const json::value id = m.id() ? *m.id() : json::value();
    if (probe_ && id.is_string() && id.get_string() == probe_id_) {
      const auto* result = m.result() ? m.result()->if_object() : nullptr;
      if (result) return start_modern(*result, std::move(out));
      if (mode_ == mode::detect) return fall_back_to_legacy(std::move(out));
      const json::value init_id = *probe_->id();
      probe_.reset();
      verdict_ = verdict::modern;
      fail_core(out, init_id, codes::backend_unavailable,
                "the backend answered server/discover with an error (it was configured as "
                "protocol 2026-07-28): " +
                    (m.error() ? json::serialize(*m.error()) : std::string("no result")));
      return out;
    }
    const auto key = key_of(id);
    if (auto it = pings_.find(key); it != pings_.end()) {
      json::value core_id = std::move(it->second);
      pings_.erase(it);
      if (m.error())
        out.to_core.push_back(
            {message::error_response(core_id, codes::internal_error, "server/discover failed"),
             {}});
      else
        answer_core(out, core_id, json::object{});
      return out;
    }
    if (!listen_id_.empty() && id.is_string() && id.get_string() == listen_id_) {
      // The listen ended (subscriptions, graceful closure) or was refused.
      listen_id_.clear();
      listen_filter_.clear();
      listen_failed_ = m.error() != nullptr;
      out.reopen_listen_later = !listen_failed_;
      return out;
    }
    auto it = calls_.find(key);
    if (it == calls_.end()) return out;  // cancelled, or a listen replaced meanwhile
    call c = std::move(it->second);
    calls_.erase(it);
    on_answer(out, std::move(c), std::move(m));
    return out;
  }
  if (m.is_notification() && meta_of(m) && meta_of(m)->contains(subscription_id)) {
    on_listen_event(out, std::move(m));
    return out;
  }
  if (m.is_notification() && m.method() == "notifications/cancelled") {
    // A stdio server ends a listen it tears down this way (basic/utilities/cancellation).
    const auto* params = m.params_object();
    const auto* rid = params ? params->if_contains("requestId") : nullptr;
    if (rid && rid->is_string() && rid->get_string() == listen_id_) {
      listen_id_.clear();
      listen_filter_.clear();
      out.reopen_listen_later = true;
    }
    return out;
  }
  // Progress and log messages of a request (its stream tells which one, on HTTP).
  json::value related;
  if (auto it = calls_.find(key_of(in_reply_to)); it != calls_.end()) related = it->second.core_id;
  out.to_core.push_back({std::move(m), std::move(related)});
  return out;
}

era_adapter::actions era_adapter::start_modern(const json::object& discover, actions out) {
  verdict_ = verdict::modern;
  const json::value init_id = *probe_->id();
  probe_.reset();
  if (const auto* caps = object_at(&discover, "capabilities")) server_capabilities_ = *caps;
  std::string_view version = negotiate_version(requested_version_);
  answer_core(out, init_id, initialize_result_of(discover, version));
  update_listen(out);
  return out;
}

era_adapter::actions era_adapter::fall_back_to_legacy(actions out) {
  verdict_ = verdict::legacy;
  out.to_backend.push_back(std::move(*probe_));
  probe_.reset();
  return out;
}

era_adapter::actions era_adapter::on_probe_timeout() {
  if (!probe_ || mode_ != mode::detect) return {};
  return fall_back_to_legacy({});
}

era_adapter::actions era_adapter::on_backend_restarted() {
  if (!probe_) return {};
  return fall_back_to_legacy({});
}

void era_adapter::on_answer(actions& out, call c, message m) {
  const auto* result = m.result() ? m.result()->if_object() : nullptr;
  if (result && c.request.method() == "tools/list") {
    if (const auto* tools = result->if_contains("tools"); tools && tools->is_array())
      for (const auto& t : tools->get_array()) {
        const auto* tool = t.if_object();
        if (const auto name = string_at(tool, "name"); tool && !name.empty())
          marks_[std::string(name)] = param_headers_of(*tool);
      }
  }
  const std::string_view kind = string_at(result, "resultType");
  if (c.bridged && result && kind == "input_required") {
    ask_core(out, std::move(c), *result);
    return;
  }
  if (c.bridged && result && kind == "complete")
    m.object()["result"].get_object().erase("resultType");
  m.set_id(c.core_id);
  out.to_core.push_back({std::move(m), {}});
}

void era_adapter::ask_core(actions& out, call c, const json::object& result) {
  if (++c.rounds > max_rounds) {
    fail_core(out, c.core_id, codes::internal_error,
              "the backend asked for input more than " + std::to_string(max_rounds) + " times");
    return;
  }
  input_round r{c.core_id, std::move(c.request), std::nullopt, {}, {}, c.rounds};
  if (auto state = string_at(&result, "requestState"); result.contains("requestState"))
    r.request_state = std::string(state);
  std::vector<message> asks;
  if (const auto* inputs = object_at(&result, "inputRequests")) {
    for (const auto& kv : *inputs) {
      const auto* ask = kv.value().if_object();
      const auto method = string_at(ask, "method");
      if (method.empty()) {
        fail_core(out, c.core_id, codes::internal_error,
                  "the backend sent an input request without a method");
        return;
      }
      const auto* params = object_at(ask, "params");
      auto own = next_id("input");
      r.key_of_id.emplace(own, std::string(kv.key()));
      asks.push_back(
          message::request(json::string(own), method, params ? *params : json::object{}));
    }
  }
  if (asks.empty()) {
    // Only state: the retry goes at once (mrtr: requestState alone is a valid round).
    message retry = r.request;
    if (r.request_state) (*retry.params_object())["requestState"] = *r.request_state;
    send_call(out, r.core_id, std::move(retry), true, r.rounds);
    return;
  }
  const auto core_key = key_of(r.core_id);
  for (auto& ask : asks) {
    round_of_input_.emplace(std::string(ask.id()->get_string()), core_key);
    out.to_core.push_back({std::move(ask), r.core_id});
  }
  rounds_.insert_or_assign(core_key, std::move(r));
}

void era_adapter::on_input_answer(actions& out, const std::string& own_id, message m) {
  auto link = round_of_input_.find(own_id);
  if (link == round_of_input_.end()) return;
  const std::string core_key = link->second;
  round_of_input_.erase(link);
  auto it = rounds_.find(core_key);
  if (it == rounds_.end()) return;
  input_round& r = it->second;
  if (const auto* err = m.error()) {
    // The client could not answer: the call ends with why (there is no error slot in
    // inputResponses), and the round's other requests are withdrawn.
    const auto* e = err->if_object();
    const auto text = string_at(e, "message");
    fail_core(out, r.core_id, codes::internal_error,
              "the client could not give the input the backend asked for: " + std::string(text));
    for (const auto& [other, key] : r.key_of_id) {
      if (round_of_input_.erase(other) == 0) continue;
      out.to_core.push_back(
          {message::notification("notifications/cancelled",
                                 json::object{{"requestId", other}, {"reason", "call ended"}}),
           {}});
    }
    rounds_.erase(it);
    return;
  }
  r.responses[r.key_of_id.at(own_id)] = m.result() ? *m.result() : json::value(json::object{});
  if (r.responses.size() < r.key_of_id.size()) return;
  message retry = r.request;
  auto& params = *retry.params_object();
  params["inputResponses"] = std::move(r.responses);
  if (r.request_state) params["requestState"] = *r.request_state;
  const json::value core_id = r.core_id;
  const int rounds = r.rounds;
  rounds_.erase(it);
  send_call(out, core_id, std::move(retry), true, rounds);
}

void era_adapter::cancel(actions& out, const json::value& core_id) {
  for (auto it = calls_.begin(); it != calls_.end(); ++it) {
    if (it->second.core_id != core_id) continue;
    out.to_backend.push_back(message::notification(
        "notifications/cancelled",
        json::object{{"requestId", it->second.backend_id}, {"reason", "cancelled by the client"}}));
    calls_.erase(it);
    break;
  }
  auto r = rounds_.find(key_of(core_id));
  if (r == rounds_.end()) return;
  for (const auto& [own, key] : r->second.key_of_id) {
    if (round_of_input_.erase(own) == 0) continue;
    out.to_core.push_back(
        {message::notification("notifications/cancelled",
                               json::object{{"requestId", own}, {"reason", "call cancelled"}}),
         {}});
  }
  rounds_.erase(r);
}

void era_adapter::update_listen(actions& out) {
  json::object filter;
  const auto* tools = object_at(&server_capabilities_, "tools");
  const auto* prompts = object_at(&server_capabilities_, "prompts");
  const auto* resources = object_at(&server_capabilities_, "resources");
  if (flag_at(tools, "listChanged")) filter["toolsListChanged"] = true;
  if (flag_at(prompts, "listChanged")) filter["promptsListChanged"] = true;
  if (flag_at(resources, "listChanged")) filter["resourcesListChanged"] = true;
  if (!subscribed_.empty()) {
    json::array uris;
    for (const auto& uri : subscribed_) uris.emplace_back(uri);
    filter["resourceSubscriptions"] = std::move(uris);
  }
  if (!listen_id_.empty() && filter == listen_filter_) return;
  const std::string old = std::exchange(listen_id_, {});
  listen_filter_ = filter;
  if (!filter.empty()) {
    // The new listen first, so no notification falls between the two.
    listen_id_ = next_id("listen");
    out.to_backend.push_back(message::request(
        json::string(listen_id_), "subscriptions/listen",
        json::object{{"notifications", std::move(filter)}, {"_meta", request_meta()}}));
  }
  if (!old.empty())
    out.to_backend.push_back(message::notification(
        "notifications/cancelled",
        json::object{{"requestId", old}, {"reason", "subscriptions changed"}}));
}

era_adapter::actions era_adapter::reopen_listen() {
  actions out;
  if (verdict_ == verdict::modern && listen_id_.empty() && !listen_failed_) update_listen(out);
  return out;
}

void era_adapter::on_listen_event(actions& out, message m) {
  auto& meta = m.params_object()->at("_meta").get_object();
  const json::value tag = meta.at(subscription_id);
  if (!tag.is_string() || tag.get_string() != listen_id_) return;  // one replaced meanwhile
  if (m.method() == "notifications/subscriptions/acknowledged") return;
  meta.erase(subscription_id);
  if (meta.empty()) m.params_object()->erase("_meta");
  out.to_core.push_back({std::move(m), {}});
}

}  // namespace mcp_proxy::protocol
