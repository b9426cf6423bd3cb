#include "core/aggregate_endpoint.hpp"

#include "core/aggregate_detail.hpp"
#include "protocol/log_text.hpp"

#include "protocol/patterns.hpp"
#include "protocol/versions.hpp"
#include "util/scope_exit.hpp"
#include "util/spawn.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace mcp_proxy::core {

namespace asio = boost::asio;
namespace json = boost::json;
using asio::awaitable;
using jsonrpc::message;
namespace codes = jsonrpc::error_codes;
using clock = std::chrono::steady_clock;
using detail::name_logger;
using detail::object_member;
using detail::string_member;

namespace {

// Adds what `from` declares to `into`, object members merged recursively (capability unions).
void merge_declared(json::object& into, const json::object& from) {
  for (const auto& [key, value] : from) {
    auto* mine = into.if_contains(key);
    if (mine && mine->is_object() && value.is_object())
      merge_declared(mine->get_object(), value.get_object());
    else if (!mine)
      into[key] = value;
  }
}

std::string_view list_method_of_change(backend_event e) {
  switch (e) {
    case backend_event::tools_changed:
      return "tools/list";
    case backend_event::prompts_changed:
      return "prompts/list";
    case backend_event::resources_changed:
      return "resources/list";
    default:
      return {};
  }
}

std::vector<protocol::catalog_member> catalog_members(
    const std::vector<std::shared_ptr<server_endpoint>>& members) {
  std::vector<protocol::catalog_member> out;
  for (const auto& ep : members) {
    // The server name, with what a tool name cannot hold made '_' ("my.srv" -> "my_srv").
    std::string prefix = ep->server().prefix.value_or(ep->server().name);
    if (!ep->server().prefix) std::replace(prefix.begin(), prefix.end(), '.', '_');
    out.push_back({ep->server().name, std::move(prefix)});
  }
  return out;
}

}  // namespace

namespace detail {

void name_logger(message& m, std::string_view server) {
  if (!m.is_notification() || m.method() != "notifications/message") return;
  auto* params = m.params_object();
  if (!params) return;
  const auto* logger = params->if_contains("logger");
  std::string named(server);
  if (logger && logger->is_string()) named += "/" + std::string(logger->get_string());
  (*params)["logger"] = named;
}

}  // namespace detail

aggregate_endpoint::aggregate_endpoint(asio::any_io_executor ex, std::string name,
                                       std::vector<std::shared_ptr<server_endpoint>> members,
                                       config::item_filters filters,
                                       const config::proxy_config& proxy)
    : ex_(ex),
      name_(std::move(name)),
      label_(name_.empty() ? "merged endpoint" : "group " + name_),
      filters_(std::move(filters)),
      proxy_(proxy),
      catalog_(catalog_members(members), proxy.tool_name_separator),
      stop_signal_(ex),
      background_(ex) {
  for (auto& ep : members) {
    member m;
    m.ep = std::move(ep);
    members_.push_back(std::move(m));
  }
}

void aggregate_endpoint::add_member(std::shared_ptr<server_endpoint> ep) {
  const auto i = members_.size();
  members_.push_back(member{});
  auto& m = members_.back();
  m.ep = std::move(ep);
  std::vector<std::shared_ptr<server_endpoint>> one{m.ep};
  catalog_.add_member(std::move(catalog_members(one).front()));
  m.ready = m.ep->backend_ready();
  if (m.ready) {
    m.capabilities = m.ep->backend_capabilities();
    m.instructions = m.ep->backend_instructions();
  }
  m.ep->watch([this, i](backend_event e) { on_member_event(i, e); });
}

awaitable<void> aggregate_endpoint::set_members(
    std::vector<std::shared_ptr<server_endpoint>> members, config::item_filters filters) {
  const bool filters_changed = !(filters_ == filters);
  filters_ = std::move(filters);
  merged_cache_.clear();
  std::vector<std::size_t> left, joined;
  for (std::size_t i = 0; i < members_.size(); ++i) {
    auto& m = members_[i];
    if (m.retired || std::find(members.begin(), members.end(), m.ep) != members.end()) continue;
    m.retired = true;
    m.ready = false;
    m.cache.clear();
    catalog_.retire(i);
    left.push_back(i);
  }
  for (auto& ep : members) {
    const bool known = std::any_of(members_.begin(), members_.end(),
                                   [&](const member& m) { return !m.retired && m.ep == ep; });
    if (known) continue;
    joined.push_back(members_.size());
    add_member(ep);
  }
  if (left.empty() && joined.empty() && !filters_changed) co_return;
  spdlog::info("{}: reconfigured: {} server(s) left, {} joined{}", label_, left.size(),
               joined.size(), filters_changed ? ", filters changed" : "");
  std::vector<std::shared_ptr<client_session>> sessions;
  for (auto& [id, s] : sessions_) sessions.push_back(s);
  std::vector<awaitable<void>> leaving;
  for (auto& s : sessions) {
    s->children.resize(members_.size());
    for (auto i : left)
      if (auto child = std::exchange(s->children[i], nullptr))
        leaving.push_back(members_[i].ep->end_session(std::move(child)));
  }
  co_await util::run_all(ex_, std::move(leaving), label_ + " leave");
  for (auto& s : sessions) {
    if (s->ended) continue;
    // The lists are told changed once the new members joined (or at once when none did).
    auto join_then_tell = [](aggregate_endpoint& self, std::shared_ptr<client_session> s,
                             std::vector<std::size_t> joined) -> awaitable<void> {
      for (auto i : joined)
        if (self.active(*s, i)) co_await self.join_member(s, i);
      if (!s->ended) self.tell_lists_changed(*s);
    };
    background_.spawn(join_then_tell(*this, s, joined), label_ + " join");
  }
}

awaitable<void> aggregate_endpoint::start() {
  for (std::size_t i = 0; i < members_.size(); ++i) {
    auto& m = members_[i];
    m.ready = m.ep->backend_ready();
    if (m.ready) {
      m.capabilities = m.ep->backend_capabilities();
      m.instructions = m.ep->backend_instructions();
    }
    m.ep->watch([this, i](backend_event e) { on_member_event(i, e); });
  }
  auto end = [this](std::shared_ptr<client_session> s) { return end_session(std::move(s)); };
  background_.spawn(reap_idle_sessions(sessions_, stop_signal_, stopped_,
                                       proxy_.session_idle_timeout, end, label_),
                    label_ + " idle session reaper");
  co_return;
}

awaitable<void> aggregate_endpoint::stop() {
  stopped_ = true;
  stop_signal_.close();
  std::vector<awaitable<void>> ends;
  for (auto& [id, s] : sessions_) ends.push_back(end_session(s));
  co_await util::run_all(ex_, std::move(ends), label_ + " end session");
  // What still runs in the background refers to this endpoint: it ends before the endpoint.
  background_.cancel();
  const auto deadline = clock::now() + std::chrono::seconds(5);
  const bool ended = co_await background_.wait(deadline);  // a local: see server_endpoint::start
  if (!ended)
    spdlog::warn("{}: {} task(s) still running 5 s after stop", label_, background_.size());
}

bool aggregate_endpoint::active(const client_session& s, std::size_t i) const {
  if (members_[i].retired) return false;
  const auto& wanted = s.narrowing.servers;
  return wanted.empty() ||
         std::find(wanted.begin(), wanted.end(), members_[i].ep->name()) != wanted.end();
}

std::optional<std::size_t> aggregate_endpoint::member_index(std::string_view server) const {
  return catalog_.member_index(server);
}

// --- sessions ------------------------------------------------------------------------------------

awaitable<initialize_outcome> aggregate_endpoint::initialize(message request,
                                                             session_narrowing narrowing) {
  if (auto refused = refuse_initialize(request, stopped_, sessions_.size() + initializing_,
                                       proxy_.max_sessions, label_))
    co_return std::move(*refused);
  json::value id = *request.id();
  auto refuse = [&id](std::int64_t code, std::string_view text) {
    return initialize_outcome{nullptr, message::error_response(id, code, text), false};
  };
  for (const auto& wanted : narrowing.servers)
    if (!member_index(wanted))
      co_return refuse(codes::invalid_params,
                       "servers: no server named \"" + wanted + "\" on this endpoint");
  ++initializing_;
  util::scope_exit counted([this] { --initializing_; });

  auto session = new_client_session(ex_, sessions_, request);
  auto* params = request.params_object();
  const auto* requested = params->if_contains("protocolVersion");
  session->initialize_params = *params;
  session->narrowing = std::move(narrowing);
  session->protocol_version = protocol::negotiate_version(requested->get_string());
  session->children.resize(members_.size());

  // Members join in parallel; one that is down or slow is left out and joins later.
  std::vector<awaitable<void>> joins;
  for (std::size_t i = 0; i < members_.size(); ++i) {
    if (!active(*session, i) || !members_[i].ep->backend_ready()) continue;
    auto join = [](aggregate_endpoint& self, std::shared_ptr<client_session> s,
                   std::size_t i) -> awaitable<void> { co_await self.join_member(s, i); };
    joins.push_back(join(*this, session, i));
  }
  co_await util::run_all_until(ex_, std::move(joins), clock::now() + proxy_.fan_out_timeout,
                               label_ + " join");
  if (stopped_) co_return refuse(codes::backend_unavailable, "mcp-proxy is stopping");

  json::object result{
      {"protocolVersion", session->protocol_version},
      {"capabilities", merged_capabilities(*session)},
      {"serverInfo", json::object{{"name", proxy_.name}, {"version", proxy_.version}}},
  };
  if (auto text = merged_instructions(*session); !text.empty()) result["instructions"] = text;
  session->declared_capabilities = result.at("capabilities").get_object();
  session->children.resize(members_.size());  // a reload may have added members meanwhile
  sessions_.emplace(session->id(), session);
  count_session(*session, request, protocol::metrics::session_mode::merged);
  std::size_t joined = 0;
  for (const auto& c : session->children) joined += c ? 1 : 0;
  spdlog::info("session {} on {}: initialized (protocol {}, {} of {} servers joined)",
               protocol::short_id(session->id()), label_, session->protocol_version, joined,
               members_.size());
  co_return initialize_outcome{session, message::response(std::move(id), std::move(result))};
}

awaitable<bool> aggregate_endpoint::join_member(std::shared_ptr<client_session> s, std::size_t i) {
  if (s->children[i] && !s->children[i]->ended) co_return true;
  auto& m = members_[i];
  if (!m.ep->backend_ready() || s->ended) co_return false;
  json::object params = s->initialize_params;
  params["protocolVersion"] = s->protocol_version;
  // A member's session is the merged session's: who may use what is checked here. A local, not
  // a temporary in co_await (GCC 12 copies such a temporary bitwise: its strings then free
  // another object's buffer).
  session_narrowing unnarrowed;
  auto outcome = co_await m.ep->initialize(
      message::request(next_internal_id_++, "initialize", std::move(params)),
      std::move(unnarrowed));
  if (!outcome.session) {
    spdlog::warn("session {} on {}: server {} left out: {}", protocol::short_id(s->id()), label_,
                 m.ep->name(), jsonrpc::serialize(outcome.reply));
    if (auto& metrics = protocol::metrics::metrics(); metrics.on())
      metrics.left_out(name_, m.ep->name());
    co_return false;
  }
  auto child = outcome.session;
  if (s->ended || m.retired || (s->children[i] && !s->children[i]->ended)) {
    // The session ended meanwhile, or a concurrent join won.
    co_await m.ep->end_session(child);
    co_return !s->ended && !m.retired;
  }
  child->forward_to_parent = [this, parent = std::weak_ptr<client_session>(s), i](message msg) {
    on_member_message(parent, i, std::move(msg));
  };
  // What the member sent the new session before it was attached.
  while (child->outbox.size() > 0)
    if (auto early = co_await child->outbox.pop()) on_member_message(s, i, std::move(*early));
  s->children[i] = child;
  // A member joining a session the client already initialized hears of it too (a shared
  // backend learns that a client with roots came).
  if (s->initialized)
    m.ep->on_notification(*child, message::notification("notifications/initialized"));
  if (const auto* result = outcome.reply.result(); result && result->is_object()) {
    if (const auto* caps = object_member(result->get_object(), "capabilities"))
      m.capabilities = *caps;
    auto text = string_member(&result->get_object(), "instructions");
    m.instructions = text ? std::string(*text) : std::string();
  }
  if (s->log_rank >= 0) {
    // The session asked for a log level before this member joined.
    json::object level{{"level", log_level_name(s->log_rank)}};
    auto set = message::request(0, "logging/setLevel", std::move(level));
    const auto deadline = clock::now() + proxy_.fan_out_timeout;
    co_await member_request(s, i, std::move(set), deadline);
  }
  co_return true;
}

std::shared_ptr<client_session> aggregate_endpoint::find_session(std::string_view id) const {
  return find_and_touch(sessions_, id);
}

awaitable<void> aggregate_endpoint::end_session(std::shared_ptr<client_session> s) {
  close_session(sessions_, *s, label_, "ended");
  std::vector<awaitable<void>> ends;
  for (std::size_t i = 0; i < s->children.size(); ++i) {
    if (auto child = std::exchange(s->children[i], nullptr))
      ends.push_back(members_[i].ep->end_session(std::move(child)));
  }
  co_await util::run_all(ex_, std::move(ends), label_ + " end member session");
}

// --- what members send ---------------------------------------------------------------------------

void aggregate_endpoint::on_member_message(std::weak_ptr<client_session> parent, std::size_t i,
                                           message m) {
  auto s = parent.lock();
  if (!s || s->ended || members_[i].retired) return;
  name_logger(m, members_[i].ep->name());
  if (m.is_notification() && m.method() == "notifications/resources/list_changed") {
    // Templates may have changed too: forget the routes learnt from this member.
    catalog_.forget_templates(i);
    merged_cache_.clear();
  }
  push_unrelated(*s, std::move(m), label_);
}

void aggregate_endpoint::invalidate(member& m, std::string_view method) {
  ++m.cache_epoch;
  merged_cache_.clear();
  if (method.empty()) {
    m.cache.clear();
    return;
  }
  m.cache.erase(std::string(method));
  if (method == "resources/list") m.cache.erase(std::string("resources/templates/list"));
}

void aggregate_endpoint::tell_left_out(client_session& s, std::string_view server,
                                       std::string_view method) {
  // A client that asked for warnings (logging/setLevel) hears of it too (spec 2025-11-25
  // server/utilities/logging); the details, which may name paths or hosts, stay in the log.
  constexpr int warning_rank = 3;
  if (s.log_rank < 0 || s.log_rank > warning_rank) return;
  json::object params{
      {"level", "warning"},
      {"logger", "mcp-proxy"},
      {"data", "server " + std::string(server) + " is left out of " + std::string(method) +
                   ": it is unavailable, failed or did not answer in time"}};
  push_unrelated(s, message::notification("notifications/message", std::move(params)), label_);
}

void aggregate_endpoint::tell_lists_changed(client_session& s) {
  for (std::string_view list : {"tools", "prompts", "resources"}) {
    const auto* cap = object_member(s.declared_capabilities, list);
    if (!cap) continue;
    push_unrelated(s, message::notification("notifications/" + std::string(list) + "/list_changed"),
                   label_);
  }
}

void aggregate_endpoint::on_member_event(std::size_t i, backend_event e) {
  auto& m = members_[i];
  if (m.retired || stopped_) return;
  if (e == backend_event::up || e == backend_event::down) {
    invalidate(m, {});
    const bool was_ready = m.ready;
    m.ready = e == backend_event::up;
    if (m.ready) {
      m.capabilities = m.ep->backend_capabilities();
      m.instructions = m.ep->backend_instructions();
    }
    if (was_ready == m.ready) return;
    spdlog::info("{}: server {} {}", label_, m.ep->name(),
                 m.ready ? "is up: it joins open sessions" : "went away: left out of lists");
    std::vector<std::shared_ptr<client_session>> sessions;
    for (auto& [id, s] : sessions_)
      if (active(*s, i)) sessions.push_back(s);
    for (auto& s : sessions) {
      if (!m.ready) {
        tell_lists_changed(*s);
        continue;
      }
      // The member's items appear: the session joins it, then learns its lists changed.
      auto join_then_tell = [](aggregate_endpoint& self, std::shared_ptr<client_session> s,
                               std::size_t i) -> awaitable<void> {
        co_await self.join_member(s, i);
        if (!s->ended) self.tell_lists_changed(*s);
      };
      background_.spawn(join_then_tell(*this, s, i), label_ + " join");
    }
    return;
  }
  invalidate(m, list_method_of_change(e));
}

// --- capabilities --------------------------------------------------------------------------------

json::object aggregate_endpoint::merged_capabilities(const client_session& s) const {
  bool known = false, prompts = false, resources = false, subscribe = false, logging = false,
       completions = false;
  for (std::size_t i = 0; i < members_.size(); ++i) {
    if (!active(s, i)) continue;
    const auto& caps = members_[i].capabilities;
    if (caps.empty()) continue;
    known = true;
    prompts = prompts || object_member(caps, "prompts");
    if (const auto* r = object_member(caps, "resources")) {
      resources = true;
      const auto* sub = r->if_contains("subscribe");
      subscribe = subscribe || (sub && sub->is_bool() && sub->get_bool());
    }
    logging = logging || object_member(caps, "logging");
    completions = completions || object_member(caps, "completions");
  }
  // Lists change whenever a member joins or leaves, so listChanged is always declared. With no
  // member known yet (all down), declare the lists so that members joining later can be seen.
  json::object out;
  const json::object changes{{"listChanged", true}};
  out["tools"] = changes;
  if (prompts || !known) out["prompts"] = changes;
  if (resources || !known) {
    json::object r = changes;
    if (subscribe) r["subscribe"] = true;
    out["resources"] = std::move(r);
  }
  if (logging) out["logging"] = json::object{};
  if (completions) out["completions"] = json::object{};
  // Tasks (2025-11-25): what any member supports; tasks/* are routed by the task's member.
  json::object tasks;
  for (std::size_t i = 0; i < members_.size(); ++i)
    if (const auto* t = object_member(members_[i].capabilities, "tasks"); t && active(s, i))
      merge_declared(tasks, *t);
  if (!tasks.empty()) out["tasks"] = std::move(tasks);
  return out;
}

std::string aggregate_endpoint::merged_instructions(const client_session& s) const {
  std::string text;
  for (std::size_t i = 0; i < members_.size(); ++i) {
    if (!active(s, i) || members_[i].instructions.empty()) continue;
    if (!text.empty()) text += "\n\n";
    const auto& prefix = catalog_.member(i).prefix;
    text += "## " + members_[i].ep->name();
    if (!prefix.empty())
      text += " (tools and prompts named " + prefix + proxy_.tool_name_separator + "*)";
    text += "\n" + members_[i].instructions;
  }
  return text;
}

// --- the rest of the relay -----------------------------------------------------------------------

void aggregate_endpoint::on_notification(client_session& s, const message& n) {
  if (n.method() == "notifications/initialized") s.initialized = true;
  // Cancellations name a request id only the member that has it knows; the others ignore it.
  for (std::size_t i = 0; i < s.children.size(); ++i)
    if (s.children[i]) members_[i].ep->on_notification(*s.children[i], n);
}

bool aggregate_endpoint::on_response(client_session& s, message response) {
  // Requests to clients have process-wide unique ids: one member at most knows this one.
  for (std::size_t i = 0; i < s.children.size(); ++i)
    if (s.children[i] && members_[i].ep->on_response(*s.children[i], response)) return true;
  spdlog::warn("session {} on {}: response to no request of a server; dropped",
               protocol::short_id(s.id()), label_);
  return false;
}

void aggregate_endpoint::abandon(client_session& s, const backend::pending_call& call,
                                 std::string_view why) {
  for (std::size_t i = 0; i < s.children.size(); ++i)
    if (s.children[i] && s.children[i]->key() == call.client)
      members_[i].ep->abandon(*s.children[i], call, why);
}

awaitable<std::optional<message>> aggregate_endpoint::next_event(client_session&,
                                                                 const call_started& cs) {
  if (!cs.via) co_return std::nullopt;
  auto ev = co_await cs.via->next_event(*cs.via_session, cs);
  if (ev) name_logger(*ev, cs.via->name());
  co_return ev;
}

void aggregate_endpoint::drain(std::shared_ptr<client_session>, call_started cs) {
  if (!cs.via) return;
  auto* via = cs.via;
  auto session = cs.via_session;
  via->drain(std::move(session), std::move(cs));
}

}  // namespace mcp_proxy::core
