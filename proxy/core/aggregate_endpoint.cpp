#include "core/aggregate_endpoint.hpp"

#include "protocol/patterns.hpp"
#include "protocol/versions.hpp"
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

namespace {

// Pages of one list walked to learn names before routing an unknown one; a bound against a
// member whose cursors never end.
constexpr int max_learning_pages = 100;

const json::object* object_member(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_object() ? &v->get_object() : nullptr;
}

std::optional<std::string_view> string_member(const json::object* o, std::string_view key) {
  const auto* v = o ? o->if_contains(key) : nullptr;
  if (!v || !v->is_string()) return std::nullopt;
  return std::string_view(v->get_string());
}

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

std::uint64_t fnv1a(std::uint64_t h, std::string_view s) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  h ^= 0xff;  // a separator, so ("ab", "c") and ("a", "bc") differ
  return h * 1099511628211ull;
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

// On a merged endpoint a log message names the server it came from: its `logger` becomes
// "{server}/{logger}", or "{server}" when it had none.
void name_logger(message& m, std::string_view server) {
  if (!m.is_notification() || m.method() != "notifications/message") return;
  auto* params = m.params_object();
  if (!params) return;
  const auto* logger = params->if_contains("logger");
  std::string named(server);
  if (logger && logger->is_string()) named += "/" + std::string(logger->get_string());
  (*params)["logger"] = named;
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
      stop_signal_(ex) {
  for (auto& ep : members) {
    member m;
    m.ep = std::move(ep);
    members_.push_back(std::move(m));
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
  util::spawn_logged(ex_,
                     reap_idle_sessions(sessions_, stop_signal_, stopped_,
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
}

bool aggregate_endpoint::active(const client_session& s, std::size_t i) const {
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
  struct count_on_exit {
    std::size_t& n;
    ~count_on_exit() { --n; }
  } counted{initializing_};

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
  sessions_.emplace(session->id(), session);
  std::size_t joined = 0;
  for (const auto& c : session->children) joined += c ? 1 : 0;
  spdlog::info("session {} on {}: initialized (protocol {}, {} of {} servers joined)",
               session->id(), label_, session->protocol_version, joined, members_.size());
  co_return initialize_outcome{session, message::response(std::move(id), std::move(result))};
}

awaitable<bool> aggregate_endpoint::join_member(std::shared_ptr<client_session> s, std::size_t i) {
  if (s->children[i] && !s->children[i]->ended) co_return true;
  auto& m = members_[i];
  if (!m.ep->backend_ready() || s->ended) co_return false;
  json::object params = s->initialize_params;
  params["protocolVersion"] = s->protocol_version;
  auto outcome = co_await m.ep->initialize(
      message::request(next_internal_id_++, "initialize", std::move(params)), {});
  if (!outcome.session) {
    spdlog::warn("session {} on {}: server {} left out: {}", s->id(), label_, m.ep->name(),
                 jsonrpc::serialize(outcome.reply));
    co_return false;
  }
  auto child = outcome.session;
  if (s->ended || (s->children[i] && !s->children[i]->ended)) {
    // The session ended meanwhile, or a concurrent join won.
    co_await m.ep->end_session(child);
    co_return !s->ended;
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
  if (!s || s->ended) return;
  name_logger(m, members_[i].ep->name());
  if (m.is_notification() && m.method() == "notifications/resources/list_changed") {
    // Templates may have changed too: forget the routes learnt from this member.
    catalog_.forget_templates(i);
  }
  push_unrelated(*s, std::move(m), label_);
}

void aggregate_endpoint::invalidate(member& m, std::string_view method) {
  ++m.cache_epoch;
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
      util::spawn_logged(ex_, join_then_tell(*this, s, i), label_ + " join");
    }
    return;
  }
  invalidate(m, list_method_of_change(e));
}

// --- requests ------------------------------------------------------------------------------------

awaitable<request_outcome> aggregate_endpoint::on_request(std::shared_ptr<client_session> s,
                                                          message request) {
  json::value id = *request.id();
  if (request.params() && !request.params()->is_object()) {
    co_return message::error_response(std::move(id), codes::invalid_params,
                                      "Invalid params: MCP params must be an object");
  }
  const std::string method(request.method());
  if (method == "ping") co_return message::response(std::move(id), json::object{});
  if (method == "initialize") {
    co_return message::error_response(std::move(id), codes::invalid_request,
                                      "this session is already initialized");
  }
  if (!list_key_of(method).empty()) co_return co_await merged_list(s, std::move(request));
  if (method == "tools/call") co_return co_await route_named(s, std::move(request), "tool");
  if (method == "prompts/get") co_return co_await route_named(s, std::move(request), "prompt");
  if (method == "resources/read" || method == "resources/subscribe" ||
      method == "resources/unsubscribe")
    co_return co_await route_by_uri(s, std::move(request));
  if (method == "completion/complete") co_return co_await route_completion(s, std::move(request));
  if (method == "logging/setLevel") co_return co_await set_level(s, std::move(request));
  // Tasks exist here only when the session was told so (no member declared them: -32601 below).
  const bool tasks_declared = object_member(s->declared_capabilities, "tasks") != nullptr;
  if (tasks_declared && protocol::is_task_request(method))
    co_return co_await route_task(s, std::move(request));
  if (tasks_declared && method == "tasks/list")
    co_return co_await merged_tasks(s, std::move(request));
  co_return message::error_response(std::move(id), codes::method_not_found,
                                    "Method not found: " + method);
}

awaitable<message> aggregate_endpoint::member_request(std::shared_ptr<client_session> s,
                                                      std::size_t i, message request,
                                                      clock::time_point deadline) {
  json::value id = *request.id();
  auto outcome = co_await forward(s, i, std::move(request));
  if (auto* now = std::get_if<message>(&outcome)) co_return std::move(*now);
  auto cs = std::get<call_started>(std::move(outcome));
  cs.deadline = std::min(cs.deadline, deadline);
  auto& m = members_[i];
  while (auto ev = co_await m.ep->next_event(*cs.via_session, cs)) {
    if (ev->is_response()) co_return std::move(*ev);
    // Progress or a server request during the proxy's own call: the client may answer it.
    name_logger(*ev, m.ep->name());
    push_unrelated(*s, std::move(*ev), label_);
  }
  co_return message::error_response(std::move(id), codes::internal_error,
                                    "the request to " + m.ep->name() + " was cancelled");
}

awaitable<aggregate_endpoint::page_result> aggregate_endpoint::fetch_page(
    std::shared_ptr<client_session> s, std::size_t i, std::string method,
    std::optional<std::string> cursor, clock::time_point deadline) {
  auto& m = members_[i];
  const bool cacheable = m.ep->server().mode == config::session_mode::shared &&
                         proxy_.list_cache_ttl > std::chrono::milliseconds::zero();
  const std::string key = cursor.value_or("");
  if (cacheable) {
    auto list = m.cache.find(method);
    if (list != m.cache.end()) {
      auto page = list->second.find(key);
      if (page != list->second.end() && clock::now() - page->second.fetched < proxy_.list_cache_ttl)
        co_return page->second.result;
    }
  }
  const auto epoch = m.cache_epoch;
  json::object params;
  if (cursor) params["cursor"] = *cursor;
  auto answer = co_await member_request(s, i, message::request(next_internal_id_++, method, params),
                                        deadline);
  if (const auto* error = answer.error()) {
    co_return "server " + m.ep->name() + " failed " + method + ": " + json::serialize(*error);
  }
  auto* result = answer.object().if_contains("result");
  if (!result || !result->is_object())
    co_return "server " + m.ep->name() + " answered " + method + " without a result object";
  auto fetched = std::make_shared<const json::object>(std::move(result->get_object()));
  if (cacheable && epoch == m.cache_epoch) {
    auto& list = m.cache[method];
    if (list.size() > 1000) list.clear();  // a member with endless cursors cannot grow it forever
    list[key] = cached_page{fetched, clock::now()};
  }
  co_return fetched;
}

std::uint64_t aggregate_endpoint::list_generation(const client_session& s,
                                                  std::string_view method) const {
  std::uint64_t h = fnv1a(1469598103934665603ull, name_);
  h = fnv1a(h, method);
  for (std::size_t i = 0; i < members_.size(); ++i)
    if (active(s, i)) h = fnv1a(h, members_[i].ep->name());
  return h & 0x7fffffffffffffffull;  // stays an int64 in JSON
}

awaitable<message> aggregate_endpoint::merged_list(std::shared_ptr<client_session> s,
                                                   message request) {
  json::value id = *request.id();
  const std::string method(request.method());
  const std::string_view key = list_key_of(method);
  const auto generation = list_generation(*s, method);
  // The members this session walks, in config order.
  std::vector<std::size_t> index_of;  // walk position -> member index
  std::vector<std::string> servers;
  for (std::size_t i = 0; i < members_.size(); ++i)
    if (active(*s, i)) {
      index_of.push_back(i);
      servers.push_back(members_[i].ep->name());
    }
  protocol::composite_cursor walk;
  const auto* cursor =
      request.params_object() ? request.params_object()->if_contains("cursor") : nullptr;
  if (cursor && !cursor->is_null()) {
    auto decoded = cursor->is_string()
                       ? cursors_.decode(cursor->get_string(), generation)
                       : boost::system::result<protocol::composite_cursor, std::string>(
                             std::string("not a string"));
    if (!decoded || !protocol::walk_fits(*decoded, servers)) {
      spdlog::info("session {} on {}: {} with an invalid cursor: {}", s->id(), label_, method,
                   decoded ? std::string("servers differ") : decoded.error());
      co_return message::error_response(std::move(id), codes::invalid_params,
                                        "Invalid params: invalid cursor");
    }
    walk = std::move(*decoded);
  } else {
    // A member that declared no such list is not asked for it (known capabilities only).
    const std::string_view capability = key == "resourceTemplates" ? "resources" : key;
    std::vector<bool> lacks;
    for (std::size_t i : index_of) {
      const auto& caps = members_[i].capabilities;
      lacks.push_back(!caps.empty() && !object_member(caps, capability));
    }
    walk = protocol::first_walk(generation, servers, lacks);
  }

  // Every member still walking gives its current page, in parallel.
  auto pages = std::make_shared<std::vector<std::optional<page_result>>>(walk.backends.size());
  std::vector<awaitable<void>> legs;
  const auto deadline = clock::now() + proxy_.fan_out_timeout;
  for (std::size_t n = 0; n < walk.backends.size(); ++n) {
    if (walk.backends[n].done) continue;
    auto leg = [](aggregate_endpoint& self, std::shared_ptr<client_session> s, std::size_t i,
                  std::string method, std::optional<std::string> cursor, clock::time_point deadline,
                  std::shared_ptr<std::vector<std::optional<page_result>>> pages,
                  std::size_t n) -> awaitable<void> {
      auto page = co_await self.fetch_page(s, i, method, std::move(cursor), deadline);
      (*pages)[n] = std::move(page);
    };
    legs.push_back(leg(*this, s, index_of[n], method, walk.backends[n].cursor, deadline, pages, n));
  }
  co_await util::run_all_until(ex_, std::move(legs), deadline + std::chrono::milliseconds(100),
                               label_ + " " + method);

  std::vector<const json::object*> results(walk.backends.size(), nullptr);
  for (std::size_t n = 0; n < results.size(); ++n)
    if (const auto& page = (*pages)[n]; page && *page) results[n] = (*page)->get();
  auto merged = protocol::assemble_page(walk, results, key, proxy_.page_size,
                                        [&](std::size_t n, const json::value& item) {
                                          return expose_item(*s, index_of[n], key, item);
                                        });
  for (std::size_t n : merged.left_out) {
    const auto& page = (*pages)[n];
    const auto& server = members_[index_of[n]].ep->name();
    spdlog::warn("session {} on {}: server {} left out of {}: {}", s->id(), label_, server, method,
                 page ? page->error() : std::string("no answer within the fan-out deadline"));
    tell_left_out(*s, server, method);
  }
  json::object result{{std::string(key), std::move(merged.items)}};
  if (merged.more) result["nextCursor"] = cursors_.encode(walk);
  co_return message::response(std::move(id), std::move(result));
}

bool aggregate_endpoint::visible_exposed(const client_session& s, std::string_view list_key,
                                         const json::value& item) const {
  if (!filters_allow(filters_, list_key, item)) return false;
  if (list_key != "tools" || s.narrowing.tools.empty()) return true;
  auto name = string_member(item.if_object(), "name");
  return name && protocol::any_glob_matches(s.narrowing.tools, *name);
}

std::optional<json::value> aggregate_endpoint::expose_item(const client_session& s, std::size_t i,
                                                           std::string_view list_key,
                                                           const json::value& item) {
  std::vector<protocol::catalog_note> notes;
  auto exposed = catalog_.expose(i, list_key, item, notes);
  for (const auto& note : notes) {
    spdlog::warn("{}: {}", label_, note.text);
    if (note.changed_list.empty()) continue;
    // Clients may hold the old name: they are told the list changed.
    const std::string changed = "notifications/" + note.changed_list + "/list_changed";
    for (auto& [id, session] : sessions_)
      if (object_member(session->declared_capabilities, note.changed_list))
        push_unrelated(*session, message::notification(changed), label_);
  }
  if (!exposed || !visible_exposed(s, list_key, *exposed)) return std::nullopt;
  return exposed;
}

awaitable<void> aggregate_endpoint::learn_all(std::shared_ptr<client_session> s,
                                              std::string_view method) {
  json::object params;
  for (int page = 0; page < max_learning_pages; ++page) {
    auto answer = co_await merged_list(s, message::request(0, method, params));
    const auto* result = answer.result();
    auto next = result && result->is_object() ? string_member(&result->get_object(), "nextCursor")
                                              : std::nullopt;
    if (!next) co_return;
    params["cursor"] = std::string(*next);
  }
}

awaitable<request_outcome> aggregate_endpoint::forward(std::shared_ptr<client_session> s,
                                                       std::size_t i, message request) {
  json::value id = *request.id();
  auto& m = members_[i];
  if (!co_await join_member(s, i)) {
    co_return message::error_response(std::move(id), codes::backend_unavailable,
                                      "server " + m.ep->name() + " is unavailable");
  }
  auto child = s->children[i];
  auto outcome = co_await m.ep->on_request(child, std::move(request));
  if (auto* cs = std::get_if<call_started>(&outcome)) {
    cs->via = m.ep.get();
    cs->via_session = child;
    s->calls.push_back(cs->call);
  }
  co_return outcome;
}

awaitable<std::optional<aggregate_endpoint::named_target>> aggregate_endpoint::resolve_named(
    std::shared_ptr<client_session> s, std::string_view kind, std::string exposed) {
  const std::string_view list_method = kind == "tool" ? "tools/list" : "prompts/list";
  auto origin = catalog_.resolve(kind, exposed);
  if (!origin) {
    co_await learn_all(s, list_method);  // a name from an earlier listing, or a guess
    origin = catalog_.resolve(kind, exposed);
  }
  json::value probe = json::object{{"name", exposed}};
  if (!origin || !active(*s, origin->member) ||
      !visible_exposed(*s, list_key_of(list_method), probe))
    co_return std::nullopt;
  co_return named_target{origin->member, std::move(origin->name)};
}

awaitable<request_outcome> aggregate_endpoint::route_named(std::shared_ptr<client_session> s,
                                                           message request, std::string_view kind) {
  json::value id = *request.id();
  auto name = string_member(request.params_object(), "name");
  if (!name)
    co_return message::error_response(std::move(id), codes::invalid_params,
                                      "Invalid params: name must be a string");
  std::string exposed(*name);
  auto target = co_await resolve_named(s, kind, exposed);
  if (!target) co_return unknown_item_error(std::move(id), kind, exposed);
  request.params_object()->at("name") = target->name;
  co_return co_await forward(s, target->member, std::move(request));
}

std::optional<std::size_t> aggregate_endpoint::owner_of_uri(const client_session& s,
                                                            std::string_view uri) const {
  return catalog_.owner_of_uri(uri, [&](std::size_t i) { return active(s, i); });
}

awaitable<request_outcome> aggregate_endpoint::route_by_uri(std::shared_ptr<client_session> s,
                                                            message request) {
  json::value id = *request.id();
  auto uri_view = string_member(request.params_object(), "uri");
  if (!uri_view)
    co_return message::error_response(std::move(id), codes::invalid_params,
                                      "Invalid params: uri must be a string");
  const std::string uri(*uri_view);
  auto i = owner_of_uri(*s, uri);
  if (!i) {
    co_await learn_all(s, "resources/list");
    co_await learn_all(s, "resources/templates/list");
    i = owner_of_uri(*s, uri);
  }
  if (!i) {
    // A URI no list names (resources may exist unlisted): the only member with resources.
    std::optional<std::size_t> only;
    std::size_t with_resources = 0;
    for (std::size_t k = 0; k < members_.size(); ++k) {
      if (active(*s, k) && object_member(members_[k].capabilities, "resources")) {
        only = k;
        ++with_resources;
      }
    }
    if (with_resources == 1) i = only;
  }
  json::value probe = json::object{{"uri", uri}};
  if (!i || !filters_allow(filters_, "resources", probe))
    co_return unknown_item_error(std::move(id), "resource", uri);
  co_return co_await forward(s, *i, std::move(request));
}

awaitable<request_outcome> aggregate_endpoint::route_task(std::shared_ptr<client_session> s,
                                                          message request) {
  // Each member knows the tasks its session created (its task registry).
  const auto* task = protocol::task_id_of(request);
  for (std::size_t i = 0; task && i < s->children.size(); ++i)
    if (s->children[i] && members_[i].ep->owns_task(*s->children[i], std::string_view(*task)))
      co_return co_await forward(s, i, std::move(request));
  co_return message::error_response(*request.id(), codes::invalid_params,
                                    "Invalid params: unknown taskId");
}

awaitable<message> aggregate_endpoint::merged_tasks(std::shared_ptr<client_session> s,
                                                    message request) {
  json::value id = *request.id();
  const auto* params = request.params_object();
  if (params && params->contains("cursor")) {
    // The merged list is one page: no cursor of ours exists.
    co_return message::error_response(std::move(id), codes::invalid_params,
                                      "Invalid params: unknown cursor");
  }
  // The session's tasks live on the members it created them on; each lists its own (a shared
  // member shows a session only its tasks), every page, in config order.
  const auto deadline = clock::now() + proxy_.fan_out_timeout;
  json::array tasks;
  for (std::size_t i = 0; i < s->children.size(); ++i) {
    if (!s->children[i] || !members_[i].ep->has_tasks(*s->children[i])) continue;
    const auto* caps = object_member(members_[i].capabilities, "tasks");
    if (!caps || !object_member(*caps, "list")) continue;
    std::optional<std::string> cursor;
    for (int page = 0; page < max_learning_pages; ++page) {
      json::object page_params;
      if (cursor) page_params["cursor"] = *cursor;
      auto answer = co_await member_request(
          s, i, message::request(next_internal_id_++, "tasks/list", std::move(page_params)),
          deadline);
      const auto* result = answer.result() ? answer.result()->if_object() : nullptr;
      if (!result) {
        spdlog::warn("session {} on {}: server {} failed tasks/list: {}", s->id(), label_,
                     members_[i].ep->name(), jsonrpc::serialize(answer));
        break;
      }
      if (const auto* items = result->if_contains("tasks"); items && items->is_array())
        for (const auto& t : items->get_array()) tasks.push_back(t);
      auto next = string_member(result, "nextCursor");
      if (!next) break;
      cursor = std::string(*next);
    }
  }
  co_return message::response(std::move(id), json::object{{"tasks", std::move(tasks)}});
}

awaitable<request_outcome> aggregate_endpoint::route_completion(std::shared_ptr<client_session> s,
                                                                message request) {
  json::value id = *request.id();
  auto* params = request.params_object();
  auto* ref_value = params ? params->if_contains("ref") : nullptr;
  auto* ref = ref_value ? ref_value->if_object() : nullptr;
  auto type = string_member(ref, "type");
  if (type == "ref/prompt") {
    auto name = string_member(ref, "name");
    if (!name)
      co_return message::error_response(std::move(id), codes::invalid_params,
                                        "Invalid params: ref.name must be a string");
    std::string exposed(*name);
    auto target = co_await resolve_named(s, "prompt", exposed);
    if (!target) co_return unknown_item_error(std::move(id), "prompt", exposed);
    ref->at("name") = target->name;
    co_return co_await forward(s, target->member, std::move(request));
  }
  if (type == "ref/resource") {
    auto uri = string_member(ref, "uri");
    if (!uri)
      co_return message::error_response(std::move(id), codes::invalid_params,
                                        "Invalid params: ref.uri must be a string");
    const std::string target(*uri);
    auto find_template = [&]() {
      return catalog_.owner_of_template(target, [&](std::size_t i) { return active(*s, i); });
    };
    auto i = find_template();
    if (!i) {
      co_await learn_all(s, "resources/templates/list");
      i = find_template();
    }
    if (!i) co_return unknown_item_error(std::move(id), "resource", target);
    co_return co_await forward(s, *i, std::move(request));
  }
  co_return message::error_response(std::move(id), codes::invalid_params,
                                    "Invalid params: ref.type must be ref/prompt or ref/resource");
}

awaitable<message> aggregate_endpoint::set_level(std::shared_ptr<client_session> s,
                                                 message request) {
  json::value id = *request.id();
  const auto* params = request.params_object();
  const int rank = log_rank_of(params ? params->if_contains("level") : nullptr);
  if (rank < 0)
    co_return message::error_response(std::move(id), codes::invalid_params, invalid_level_text);
  s->log_rank = rank;
  std::vector<awaitable<void>> legs;
  const auto deadline = clock::now() + proxy_.fan_out_timeout;
  for (std::size_t i = 0; i < members_.size(); ++i) {
    if (!s->children[i] || !object_member(members_[i].capabilities, "logging")) continue;
    auto leg = [](aggregate_endpoint& self, std::shared_ptr<client_session> s, std::size_t i,
                  message request, clock::time_point deadline) -> awaitable<void> {
      auto answer = co_await self.member_request(s, i, std::move(request), deadline);
      if (answer.error())
        spdlog::warn("session {} on {}: server {} refused logging/setLevel: {}", s->id(),
                     self.label_, self.members_[i].ep->name(), jsonrpc::serialize(answer));
    };
    legs.push_back(leg(*this, s, i, request, deadline));
  }
  co_await util::run_all_until(ex_, std::move(legs), deadline + std::chrono::milliseconds(100),
                               label_ + " logging/setLevel");
  co_return message::response(std::move(id), json::object{});
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
  spdlog::warn("session {} on {}: response to no request of a server; dropped", s.id(), label_);
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
