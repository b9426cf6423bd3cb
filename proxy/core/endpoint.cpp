#include "core/endpoint.hpp"

#include "protocol/log_text.hpp"
#include "util/random_id.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <atomic>

namespace mcp_proxy::core {

namespace json = boost::json;
using jsonrpc::message;

namespace {

// Messages buffered for a client that has no GET stream open; beyond this the newest are dropped.
constexpr std::size_t max_outbox = 1000;

std::string_view item_field_of(std::string_view list_key) {
  if (list_key == "resources") return "uri";
  if (list_key == "resourceTemplates") return "uriTemplate";
  return "name";
}

std::atomic<rpc::client_key> next_client_key{1};

}  // namespace

namespace {
constexpr std::array<std::string_view, 8> log_levels = {"debug", "info",     "notice", "warning",
                                                        "error", "critical", "alert",  "emergency"};
}  // namespace

int log_rank_of(const json::value* level) {
  if (!level || !level->is_string()) return -1;
  for (std::size_t i = 0; i < log_levels.size(); ++i)
    if (level->get_string() == log_levels[i]) return static_cast<int>(i);
  return -1;
}

std::string_view log_level_name(int rank) {
  return rank >= 0 && rank < 8 ? log_levels[static_cast<std::size_t>(rank)] : "debug";
}

rpc::client_key new_client_key() {
  return next_client_key.fetch_add(1);
}

void client_session::add_call(const std::shared_ptr<backend::pending_call>& call) {
  std::erase_if(calls, [](const std::weak_ptr<backend::pending_call>& weak) {
    auto c = weak.lock();
    return !c || c->events.closed();
  });
  calls.push_back(call);
}

std::shared_ptr<backend::pending_call> client_session::latest_call() {
  while (!calls.empty()) {
    if (auto c = calls.back().lock(); c && !c->events.closed()) return c;
    calls.pop_back();
  }
  return nullptr;
}

std::size_t calls_in_flight(const session_map& sessions) {
  std::size_t n = 0;
  for (const auto& [id, s] : sessions)
    for (const auto& weak : s->calls)
      if (auto call = weak.lock(); call && !call->events.closed()) ++n;
  return n;
}

std::size_t queued_messages(const session_map& sessions) {
  std::size_t n = 0;
  for (const auto& [id, s] : sessions) n += s->outbox.size();
  return n;
}

std::size_t fail_calls_in_flight(const session_map& sessions, std::string_view why) {
  std::size_t failed = 0;
  for (const auto& [id, s] : sessions) {
    for (const auto& weak : s->calls) {
      auto call = weak.lock();
      if (!call || call->events.closed()) continue;
      call->events.push(
          message::error_response(call->client_id, jsonrpc::error_codes::backend_unavailable, why));
      call->events.close();
      ++failed;
    }
  }
  return failed;
}

std::optional<initialize_outcome> refuse_initialize(const message& request, bool stopped,
                                                    std::size_t open, std::uint64_t max_sessions,
                                                    std::string_view label) {
  const json::value& id = *request.id();
  auto refuse = [&id](std::int64_t code, std::string_view text, bool overloaded = false) {
    return initialize_outcome{nullptr, message::error_response(id, code, text), overloaded};
  };
  const auto* params = request.params_object();
  const auto* requested = params ? params->if_contains("protocolVersion") : nullptr;
  if (!requested || !requested->is_string())
    return refuse(jsonrpc::error_codes::invalid_params,
                  "initialize: params.protocolVersion must be a string");
  if (stopped) return refuse(jsonrpc::error_codes::backend_unavailable, "mcp-proxy is stopping");
  if (open >= max_sessions) {
    spdlog::warn("{}: {} sessions open or starting; refusing a new one", label, max_sessions);
    return refuse(jsonrpc::error_codes::backend_unavailable,
                  "too many sessions on " + std::string(label) + " (maxSessions is " +
                      std::to_string(max_sessions) + "); try again later",
                  true);
  }
  return std::nullopt;
}

std::shared_ptr<client_session> new_client_session(boost::asio::any_io_executor ex,
                                                   const session_map& sessions,
                                                   const message& initialize) {
  std::string id;
  do id = util::random_hex_id();
  while (sessions.contains(id));
  auto s = std::make_shared<client_session>(ex, std::move(id), new_client_key());
  const auto* params = initialize.params_object();
  const auto* caps = params ? params->if_contains("capabilities") : nullptr;
  if (caps && caps->is_object()) s->client_capabilities = caps->get_object();
  const auto* info = params ? params->if_contains("clientInfo") : nullptr;
  if (info && info->is_object()) s->client_info = info->get_object();
  return s;
}

void close_session(session_map& sessions, client_session& s, std::string_view label,
                   std::string_view why) {
  if (s.ended) return;
  s.ended = true;
  s.outbox.close();
  s.quota_slot.reset();
  s.counted.release();
  sessions.erase(s.id());
  spdlog::info("session {} on {}: {}", protocol::short_id(s.id()), label, why);
}

void count_session(client_session& s, const message& initialize,
                   protocol::metrics::session_mode mode) {
  auto& m = protocol::metrics::metrics();
  if (!m.on()) return;
  // The session the proxy opens for one 2026-07-28 request (protocol::legacy_initialize_for).
  const auto* id = initialize.id();
  const bool modern = id && id->is_string() && id->get_string() == "modern-initialize";
  s.counted = m.session_opened(
      modern ? protocol::metrics::session_era::modern : protocol::metrics::session_era::legacy,
      mode);
}

std::shared_ptr<client_session> find_and_touch(const session_map& sessions, std::string_view id) {
  auto it = sessions.find(id);
  if (it == sessions.end()) return nullptr;
  it->second->last_activity = std::chrono::steady_clock::now();
  return it->second;
}

boost::asio::awaitable<void> reap_idle_sessions(
    const session_map& sessions, util::async_queue<bool>& stop_signal, const bool& stopped,
    std::chrono::milliseconds idle,
    std::function<boost::asio::awaitable<void>(std::shared_ptr<client_session>)> end,
    std::string label) {
  const auto period = std::clamp<std::chrono::milliseconds>(
      idle / 4, std::chrono::milliseconds(100), std::chrono::seconds(60));
  while (!stopped) {
    co_await stop_signal.pop(std::chrono::steady_clock::now() + period);
    if (stopped) break;
    auto now = std::chrono::steady_clock::now();
    std::vector<std::shared_ptr<client_session>> expired;
    for (auto& [id, s] : sessions)
      if (!s->forward_to_parent && !s->listening && !s->latest_call() &&
          now - s->last_activity >= idle)
        expired.push_back(s);
    for (auto& s : expired) {
      spdlog::info("session {} on {}: idle for {} ms; ending it", protocol::short_id(s->id()),
                   label, idle.count());
      co_await end(s);
    }
  }
}

void push_unrelated(client_session& s, message m, std::string_view where) {
  if (s.forward_to_parent) {
    s.forward_to_parent(std::move(m));
    return;
  }
  if (s.outbox.size() >= max_outbox) {
    spdlog::warn("session {} on {}: outbox full ({} messages); dropping {}",
                 protocol::short_id(s.id()), where, max_outbox, m.method());
    return;
  }
  s.outbox.push(std::move(m));
}

std::string_view list_key_of(std::string_view method) {
  if (method == "tools/list") return "tools";
  if (method == "prompts/list") return "prompts";
  if (method == "resources/list") return "resources";
  if (method == "resources/templates/list") return "resourceTemplates";
  return {};
}

const config::name_filter& filter_for(const config::item_filters& f, std::string_view list_key) {
  if (list_key == "tools") return f.tools;
  if (list_key == "prompts") return f.prompts;
  return f.resources;  // resources and their templates
}

bool filters_allow(const config::item_filters& f, std::string_view list_key,
                   const json::value& item) {
  return filter_for(f, list_key).empty() || filters_allow(f, list_key, item_key(list_key, item));
}

bool filters_allow(const config::item_filters& f, std::string_view list_key,
                   std::optional<std::string_view> key) {
  const auto& filter = filter_for(f, list_key);
  if (filter.empty()) return true;
  // An item without a usable key cannot be matched: an allow list hides it, a block list not.
  if (!key) return filter.mode != config::name_filter::filter_mode::allow;
  return filter.allows(*key);
}

protocol::item_kind item_kind_of(std::string_view list_key) {
  if (list_key == "tools") return protocol::item_kind::tool;
  if (list_key == "prompts") return protocol::item_kind::prompt;
  return protocol::item_kind::resource;
}

std::optional<std::string_view> item_key(std::string_view list_key, const json::value& item) {
  const auto* o = item.if_object();
  const auto* key = o ? o->if_contains(item_field_of(list_key)) : nullptr;
  if (!key || !key->is_string()) return std::nullopt;
  return std::string_view(key->get_string());
}

void filter_list_result(message& response, std::string_view list_key,
                        const std::function<bool(const json::value& item)>& keep) {
  auto* result = response.object().if_contains("result");
  auto* o = result ? result->if_object() : nullptr;
  auto* items = o ? o->if_contains(list_key) : nullptr;
  if (!items || !items->is_array()) return;
  auto& a = items->get_array();
  json::array kept;
  for (auto& item : a)
    if (keep(item)) kept.push_back(std::move(item));
  a = std::move(kept);
}

message unknown_item_error(json::value id, std::string_view kind, std::string_view name) {
  if (kind == "resource")
    return message::error_response(std::move(id), -32002,
                                   "Resource not found: " + std::string(name));
  std::string text = kind == "tool" ? "Unknown tool: " : "Unknown prompt: ";
  return message::error_response(std::move(id), jsonrpc::error_codes::invalid_params,
                                 text + std::string(name));
}

}  // namespace mcp_proxy::core
