#include "core/aggregate_endpoint.hpp"

#include "core/aggregate_detail.hpp"
#include "protocol/log_text.hpp"

#include "protocol/patterns.hpp"
#include "protocol/versions.hpp"
#include "util/spawn.hpp"

#include <spdlog/spdlog.h>
#include <boost/json/monotonic_resource.hpp>

#include <algorithm>

namespace mcp_proxy::core {

namespace asio = boost::asio;
namespace json = boost::json;
using asio::awaitable;
using jsonrpc::message;
namespace codes = jsonrpc::error_codes;
using clock = std::chrono::steady_clock;
using detail::max_learning_pages;
using detail::name_logger;
using detail::object_member;
using detail::string_member;

namespace {

std::uint64_t fnv1a(std::uint64_t h, std::string_view s) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  h ^= 0xff;  // a separator, so ("ab", "c") and ("a", "bc") differ
  return h * 1099511628211ull;
}

}  // namespace

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

namespace {
// A member's answer read into an arena of its own: the pages of a merged list are built, read
// and dropped whole, where node by node allocation and freeing of 64 pages was a fifth of an
// uncached merge's CPU. The tree refers to the arena without sharing it, so that dropping it
// skips the walk over its nodes (Boost.JSON does for a resource that is not shared and frees
// nothing); the arena goes after it.
struct answer_in_arena {
  answer_in_arena(std::string_view text, boost::system::error_code& ec)
      : whole(jsonrpc::parse_json_value(text, ec, json::storage_ptr(&arena))) {}
  json::monotonic_resource arena;
  json::value whole;
};

// The result object of a member's list answer; one kept as text (the usual case) in an arena.
std::shared_ptr<const json::object> result_page(message& answer) {
  if (const auto* kept = answer.kept_text()) {
    boost::system::error_code ec;
    auto held = std::make_shared<answer_in_arena>(kept->text, ec);
    auto* o = ec ? nullptr : held->whole.if_object();
    auto* result = o ? o->if_contains("result") : nullptr;
    if (!result || !result->is_object()) return nullptr;
    return {held, &result->get_object()};  // shares `held`'s life
  }
  auto* result = answer.object().if_contains("result");
  if (!result || !result->is_object()) return nullptr;
  return std::make_shared<const json::object>(std::move(result->get_object()));
}
}  // namespace

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
  auto fetched = result_page(answer);
  if (!fetched)
    co_return "server " + m.ep->name() + " answered " + method + " without a result object";
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
  // A session that sees every exposed item shares the merged pages of its view.
  std::string cache_key;
  if (s->narrowing.tools.empty() && !s->narrowing.access &&
      proxy_.list_cache_ttl > std::chrono::milliseconds::zero() &&
      (!cursor || cursor->is_null() || cursor->is_string())) {
    cache_key = method + ' ' + std::to_string(generation) + ' ';
    if (cursor && cursor->is_string()) cache_key += cursor->get_string();
    if (auto hit = merged_cache_.find(cache_key); hit != merged_cache_.end()) {
      if (clock::now() - hit->second.fetched < proxy_.list_cache_ttl)
        co_return message::response_text(std::move(id), *hit->second.result);
      merged_cache_.erase(hit);
    }
  }
  if (cursor && !cursor->is_null()) {
    auto decoded = cursor->is_string()
                       ? cursors_.decode(cursor->get_string(), generation)
                       : boost::system::result<protocol::composite_cursor, std::string>(
                             std::string("not a string"));
    if (!decoded || !protocol::walk_fits(*decoded, servers)) {
      spdlog::info("session {} on {}: {} with an invalid cursor: {}", protocol::short_id(s->id()),
                   label_, method, decoded ? std::string("servers differ") : decoded.error());
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
  // The merged page points into the members' pages, and is written out as text from them.
  auto merged = protocol::assemble_page(walk, results, key, proxy_.page_size,
                                        [&](std::size_t n, const json::value& item) {
                                          return expose_item(*s, index_of[n], key, item);
                                        });
  for (std::size_t n : merged.left_out) {
    const auto& page = (*pages)[n];
    const auto& server = members_[index_of[n]].ep->name();
    spdlog::warn("session {} on {}: server {} left out of {}: {}", protocol::short_id(s->id()),
                 label_, server, method,
                 page ? page->error() : std::string("no answer within the fan-out deadline"));
    tell_left_out(*s, server, method);
    if (auto& m = protocol::metrics::metrics(); m.on()) m.left_out(name_, server);
  }
  json::object fields;
  if (merged.more) fields["nextCursor"] = cursors_.encode(walk);
  // 2026-07-28 caching: only what every member said (a member left out says nothing).
  if (auto cache = merged.left_out.empty() ? protocol::merged_cache_fields(results) : std::nullopt)
    for (auto& kv : *cache) fields[kv.key()] = kv.value();
  auto text = std::make_shared<const std::string>(protocol::page_text(key, merged.items, fields));
  if (!cache_key.empty() && merged.left_out.empty()) {
    if (auto since = cached_since(method, index_of, results)) {
      if (merged_cache_.size() >= 1000) merged_cache_.clear();  // endless cursors: bounded
      merged_cache_[cache_key] = merged_cached{text, *since};
    }
  }
  co_return message::response_text(std::move(id), *text);
}

std::optional<clock::time_point> aggregate_endpoint::cached_since(
    std::string_view method, const std::vector<std::size_t>& index_of,
    const std::vector<const json::object*>& pages) const {
  auto oldest = clock::time_point::max();
  for (std::size_t n = 0; n < pages.size(); ++n) {
    if (!pages[n]) continue;  // done before this page: not asked
    const auto& cache = members_[index_of[n]].cache;
    auto list = cache.find(method);
    if (list == cache.end()) return std::nullopt;
    auto page = std::find_if(list->second.begin(), list->second.end(),
                             [&](const auto& kv) { return kv.second.result.get() == pages[n]; });
    if (page == list->second.end()) return std::nullopt;
    oldest = std::min(oldest, page->second.fetched);
  }
  return oldest;
}

bool aggregate_endpoint::visible_exposed(const client_session& s, std::string_view list_key,
                                         std::optional<std::string_view> shown) const {
  if (!filters_allow(filters_, list_key, shown)) return false;
  if (list_key != "tools" || s.narrowing.tools.empty()) return true;
  return shown && protocol::any_glob_matches(s.narrowing.tools, *shown);
}

std::optional<protocol::exposed_item> aggregate_endpoint::expose_item(const client_session& s,
                                                                      std::size_t i,
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
  if (!exposed) return std::nullopt;
  const auto own = item_key(list_key, item);
  const auto shown = exposed->name.empty() ? own : std::string_view(exposed->name);
  if (!visible_exposed(s, list_key, shown)) return std::nullopt;
  if (s.narrowing.access) {
    // mcpProxy.access: by the member's own name and the exposed one.
    if (!own || !shown ||
        !s.narrowing.allows(item_kind_of(list_key), members_[i].ep->name(), *own, *shown))
      return std::nullopt;
  }
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
    s->add_call(cs->call);
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
  if (!origin || !active(*s, origin->member) ||
      !visible_exposed(*s, list_key_of(list_method), std::string_view(exposed)) ||
      !s->narrowing.allows(kind == "tool" ? protocol::item_kind::tool : protocol::item_kind::prompt,
                           members_[origin->member].ep->name(), origin->name, exposed))
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
  if (!i || !filters_allow(filters_, "resources", std::optional<std::string_view>(uri)) ||
      !s->narrowing.allows(protocol::item_kind::resource, members_[*i].ep->name(), uri, uri))
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
        spdlog::warn("session {} on {}: server {} failed tasks/list: {}",
                     protocol::short_id(s->id()), label_, members_[i].ep->name(),
                     jsonrpc::serialize(answer));
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
        spdlog::warn("session {} on {}: server {} refused logging/setLevel: {}",
                     protocol::short_id(s->id()), self.label_, self.members_[i].ep->name(),
                     jsonrpc::serialize(answer));
    };
    legs.push_back(leg(*this, s, i, request, deadline));
  }
  co_await util::run_all_until(ex_, std::move(legs), deadline + std::chrono::milliseconds(100),
                               label_ + " logging/setLevel");
  co_return message::response(std::move(id), json::object{});
}

}  // namespace mcp_proxy::core
