#include "protocol/merged_page.hpp"

#include <algorithm>

namespace mcp_proxy::protocol {

namespace json = boost::json;

composite_cursor first_walk(std::uint64_t generation, const std::vector<std::string>& servers,
                            const std::vector<bool>& lacks) {
  composite_cursor walk{generation, {}};
  for (std::size_t n = 0; n < servers.size(); ++n)
    walk.backends.push_back({servers[n], std::nullopt, n < lacks.size() && lacks[n], 0});
  return walk;
}

bool walk_fits(const composite_cursor& walk, const std::vector<std::string>& servers) {
  if (walk.backends.size() != servers.size()) return false;
  for (std::size_t n = 0; n < servers.size(); ++n)
    if (walk.backends[n].server != servers[n]) return false;
  return true;
}

merged_page assemble_page(
    composite_cursor& walk, const std::vector<const json::object*>& pages,
    std::string_view list_key, std::uint64_t limit,
    const std::function<std::optional<json::value>(std::size_t, const json::value&)>& expose,
    json::storage_ptr sp) {
  merged_page out{json::array(std::move(sp)), {}, false};
  static const json::array no_items;
  for (std::size_t n = 0; n < walk.backends.size(); ++n) {
    auto& pos = walk.backends[n];
    if (pos.done) continue;
    if (limit && out.items.size() >= limit) break;
    const json::object* result = n < pages.size() ? pages[n] : nullptr;
    if (!result) {
      pos.done = true;
      out.left_out.push_back(n);
      continue;
    }
    const auto* items_value = result->if_contains(list_key);
    const auto& items =
        items_value && items_value->is_array() ? items_value->get_array() : no_items;
    std::size_t k = std::min<std::size_t>(pos.skip, items.size());
    for (; k < items.size(); ++k) {
      if (limit && out.items.size() >= limit) break;
      if (auto item = expose(n, items[k])) out.items.push_back(std::move(*item));
    }
    if (k < items.size()) {
      pos.skip = k;  // the merged page ends inside this member's page
      break;
    }
    const auto* next = result->if_contains("nextCursor");
    pos.skip = 0;
    if (next && next->is_string() && !next->get_string().empty())
      pos.cursor = std::string(next->get_string());
    else
      pos.done = true;
  }
  out.more = std::any_of(walk.backends.begin(), walk.backends.end(),
                         [](const auto& p) { return !p.done; });
  return out;
}

std::optional<json::object> merged_cache_fields(const std::vector<const json::object*>& pages) {
  std::optional<std::int64_t> ttl;
  bool all_public = true;
  for (const auto* page : pages) {
    if (!page) continue;
    const auto* t = page->if_contains("ttlMs");
    if (!t || !t->is_int64() || t->get_int64() < 0) return std::nullopt;
    ttl = ttl ? std::min(*ttl, t->get_int64()) : t->get_int64();
    const auto* scope = page->if_contains("cacheScope");
    all_public = all_public && scope && scope->is_string() && scope->get_string() == "public";
  }
  if (!ttl) return std::nullopt;
  return json::object{{"ttlMs", *ttl}, {"cacheScope", all_public ? "public" : "private"}};
}

}  // namespace mcp_proxy::protocol
