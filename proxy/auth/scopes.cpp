#include "auth/scopes.hpp"

#include <boost/json/array.hpp>
#include <boost/json/string.hpp>

#include <algorithm>

namespace mcp_proxy::auth {

namespace json = boost::json;

void scope_set::add_list(std::string_view list) {
  std::size_t at = 0;
  while (at < list.size()) {
    const auto end = std::min(list.find(' ', at), list.size());
    if (end > at) scopes_.emplace(list.substr(at, end - at));
    at = end + 1;
  }
}

scope_set scope_set::from_string(std::string_view list) {
  scope_set out;
  out.add_list(list);
  return out;
}

boost::system::result<scope_set, std::string> scope_set::from_claims(const json::object& claims) {
  scope_set out;
  if (const auto* scope = claims.if_contains("scope")) {
    if (!scope->is_string()) return std::string("scope is not a string");
    out.add_list(scope->get_string());
  }
  if (const auto* scp = claims.if_contains("scp")) {
    if (const auto* list = scp->if_string()) {
      out.add_list(*list);
    } else if (const auto* items = scp->if_array()) {
      for (const auto& item : *items) {
        const auto* s = item.if_string();
        if (!s) return std::string("scp holds a value that is not a string");
        if (!s->empty()) out.scopes_.emplace(*s);
      }
    } else {
      return std::string("scp is not a string or an array of strings");
    }
  }
  return out;
}

std::vector<std::string> scope_set::missing(const std::vector<std::string>& required) const {
  std::vector<std::string> out;
  for (const auto& r : required)
    if (!contains(r)) out.push_back(r);
  return out;
}

std::string scope_attribute(const std::vector<std::string>& scopes) {
  std::string out;
  for (const auto& s : scopes) {
    if (!out.empty()) out += ' ';
    out += s;
  }
  return out;
}

}  // namespace mcp_proxy::auth
