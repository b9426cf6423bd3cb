#include "protocol/merged_catalog.hpp"

#include "protocol/patterns.hpp"

#include <boost/json.hpp>

#include <algorithm>

namespace mcp_proxy::protocol {

namespace json = boost::json;

namespace {

std::optional<std::string_view> string_member(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (!v || !v->is_string()) return std::nullopt;
  return std::string_view(v->get_string());
}

}  // namespace

merged_catalog::merged_catalog(std::vector<catalog_member> members, std::string separator)
    : members_(std::move(members)), retired_(members_.size()), separator_(std::move(separator)) {}

std::size_t merged_catalog::add_member(catalog_member m) {
  members_.push_back(std::move(m));
  retired_.push_back(false);
  return members_.size() - 1;
}

void merged_catalog::retire(std::size_t i) {
  retired_[i] = true;
  tools_.forget_server(members_[i].server);
  prompts_.forget_server(members_[i].server);
  std::erase_if(resource_owner_, [i](const auto& entry) { return entry.second == i; });
  forget_templates(i);
}

std::optional<exposed_item> merged_catalog::expose(std::size_t i, std::string_view list_key,
                                                   const json::value& item,
                                                   std::vector<catalog_note>& notes) {
  const auto* o = item.if_object();
  if (!o || retired_[i]) return std::nullopt;
  const auto& server = members_[i].server;
  if (list_key == "tools" || list_key == "prompts") {
    auto name = string_member(*o, "name");
    if (!name) return std::nullopt;
    auto& table = list_key == "tools" ? tools_ : prompts_;
    auto added = table.add(server, members_[i].prefix, separator_, *name, i);
    if (added.collided_with) {
      const auto& other = *added.collided_with;
      const std::string what = list_key == "tools" ? "tool" : "prompt";
      if (added.renamed_other) {
        // Clients may hold the old name: they are told the list changed.
        notes.push_back({what + " \"" + std::string(*name) + "\" of server " + server + " and \"" +
                             other.name + "\" of server " + other.server +
                             " have the same exposed name; " + server +
                             " (configured first) keeps \"" + added.exposed +
                             "\", the other is now \"" + *added.renamed_other + "\"",
                         std::string(list_key)});
      } else {
        notes.push_back({what + " \"" + other.name + "\" of server " + other.server + " and \"" +
                             std::string(*name) + "\" of server " + server +
                             " have the same exposed name; the second is exposed as \"" +
                             added.exposed + "\"",
                         {}});
      }
    }
    if (added.exposed == *name) return exposed_item{o, {}};
    return exposed_item{o, std::move(added.exposed)};
  }
  if (list_key == "resources") {
    auto uri = string_member(*o, "uri");
    if (!uri) return std::nullopt;
    auto [it, fresh] = resource_owner_.try_emplace(std::string(*uri), i);
    if (!fresh && it->second != i) {
      const auto first = std::min(it->second, i);  // the member configured first wins
      if (duplicate_uris_noted_.insert(std::string(*uri)).second) {
        notes.push_back({"resource " + std::string(*uri) + " is offered by servers " +
                             members_[it->second].server + " and " + server + "; " +
                             members_[first].server + " serves it",
                         {}});
      }
      it->second = first;
      if (first != i) return std::nullopt;
    }
  } else if (list_key == "resourceTemplates") {
    auto tmpl = string_member(*o, "uriTemplate");
    if (!tmpl) return std::nullopt;
    std::pair<std::string, std::size_t> entry{std::string(*tmpl), i};
    if (std::find(templates_.begin(), templates_.end(), entry) == templates_.end()) {
      templates_.push_back(std::move(entry));
      std::stable_sort(templates_.begin(), templates_.end(),
                       [](const auto& a, const auto& b) { return a.second < b.second; });
    }
  }
  return exposed_item{o, {}};
}

std::optional<merged_catalog::named> merged_catalog::resolve(std::string_view kind,
                                                             std::string_view exposed) const {
  const auto& table = kind == "tool" ? tools_ : prompts_;
  auto origin = table.resolve(exposed);
  if (!origin) return std::nullopt;
  auto i = member_index(origin->server);
  if (!i) return std::nullopt;
  return named{*i, std::move(origin->name)};
}

std::optional<std::size_t> merged_catalog::owner_of_uri(
    std::string_view uri, const std::function<bool(std::size_t)>& usable) const {
  if (auto it = resource_owner_.find(uri); it != resource_owner_.end() && usable(it->second))
    return it->second;
  for (const auto& [tmpl, i] : templates_)
    if (usable(i) && uri_template_matches(tmpl, uri)) return i;
  return std::nullopt;
}

std::optional<std::size_t> merged_catalog::owner_of_template(
    std::string_view uri_template, const std::function<bool(std::size_t)>& usable) const {
  for (const auto& [tmpl, i] : templates_)
    if (tmpl == uri_template && usable(i)) return i;
  return owner_of_uri(uri_template, usable);
}

void merged_catalog::forget_templates(std::size_t i) {
  std::erase_if(templates_, [i](const auto& t) { return t.second == i; });
}

std::optional<std::size_t> merged_catalog::member_index(std::string_view server) const {
  for (std::size_t i = 0; i < members_.size(); ++i)
    if (members_[i].server == server && !retired_[i]) return i;
  return std::nullopt;
}

}  // namespace mcp_proxy::protocol
