#include "protocol/merged_page.hpp"

#include <boost/json/serializer.hpp>

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
    const std::function<std::optional<exposed_item>(std::size_t, const json::value&)>& expose) {
  merged_page out;
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

namespace {
// Appends JSON text with one serializer, through a buffer on the stack.
class text_writer {
 public:
  explicit text_writer(std::string& out) : out_(out) {}
  template <class T>
  void write(const T& v) {
    sr_.reset(&v);
    drain();
  }
  void write_string(std::string_view s) {
    sr_.reset(s);
    drain();
  }
  void write_item(const exposed_item& e) {
    if (e.name.empty()) return write(*e.item);
    out_.push_back('{');
    bool first = true;
    for (const auto& kv : *e.item) {
      if (!first) out_.push_back(',');
      first = false;
      write_string(kv.key());
      out_.push_back(':');
      if (kv.key() == "name")
        write_string(e.name);
      else
        write(kv.value());
    }
    out_.push_back('}');
  }

 private:
  void drain() {
    while (!sr_.done()) out_.append(sr_.read(buffer_, sizeof buffer_));
  }
  std::string& out_;
  json::serializer sr_;
  char buffer_[4096];
};
}  // namespace

std::string page_text(std::string_view list_key, const std::vector<exposed_item>& items,
                      const json::object& fields) {
  std::string out;
  text_writer w(out);
  out.push_back('{');
  w.write_string(list_key);
  out.append(":[");
  for (std::size_t k = 0; k < items.size(); ++k) {
    if (k) out.push_back(',');
    w.write_item(items[k]);
  }
  out.push_back(']');
  for (const auto& kv : fields) {
    out.push_back(',');
    w.write_string(kv.key());
    out.push_back(':');
    w.write(kv.value());
  }
  out.push_back('}');
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
