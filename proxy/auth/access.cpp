#include "auth/access.hpp"

#include "protocol/patterns.hpp"

#include <boost/json/array.hpp>
#include <boost/json/string.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <optional>
#include <utility>

namespace mcp_proxy::auth {

namespace json = boost::json;
using config::access_rule;
using config::item_patterns;

namespace detail {

// What can be known of a rule before any item is asked about, so that a grant can say it is
// unrestricted and the session skip filtering.
struct rule_facts {
  bool allows_all = false;   // about every server, and allows every item of every kind
  bool denies_none = false;  // no deny pattern at all
};

struct policy_state {
  config::access_config config;
  std::vector<rule_facts> facts;  // one per rule
};

struct grant_state {
  std::shared_ptr<const policy_state> policy;  // keeps `rules` valid
  std::vector<const access_rule*> rules;       // those matching the identity, in file order
};

}  // namespace detail

namespace {

bool all_of_it(const std::vector<std::string>& globs) {
  return std::find(globs.begin(), globs.end(), "*") != globs.end();
}

detail::rule_facts facts_of(const access_rule& rule) {
  auto allows_kind = [](const std::optional<std::vector<std::string>>& p) {
    return !p || all_of_it(*p);
  };
  auto denies_nothing = [](const std::optional<std::vector<std::string>>& p) {
    return !p || p->empty();
  };
  detail::rule_facts f;
  f.allows_all = (rule.servers.empty() || all_of_it(rule.servers)) &&
                 allows_kind(rule.allow.tools) && allows_kind(rule.allow.prompts) &&
                 allows_kind(rule.allow.resources);
  f.denies_none = denies_nothing(rule.deny.tools) && denies_nothing(rule.deny.prompts) &&
                  denies_nothing(rule.deny.resources);
  return f;
}

const std::optional<std::vector<std::string>>& patterns_of(const item_patterns& p, item_kind kind) {
  switch (kind) {
    case item_kind::tool:
      return p.tools;
    case item_kind::prompt:
      return p.prompts;
    case item_kind::resource:
      break;
  }
  return p.resources;
}

// A string equal to `want`, or an array holding such a string.
bool holds(const json::value& v, std::string_view want) {
  if (const auto* s = v.if_string()) return *s == want;
  if (const auto* a = v.if_array())
    return std::any_of(a->begin(), a->end(), [&](const json::value& e) {
      const auto* s = e.if_string();
      return s && *s == want;
    });
  return false;
}

// The claim at a dotted path ("realm_access.roles") holds `want`. A key that itself has dots
// (Auth0's namespaced "https://example.com/roles") is found whole too: at each level the whole
// rest of the path is tried first, then each split at a dot, the longest key first.
bool claim_holds(const json::object& claims, std::string_view path, std::string_view want) {
  if (const auto* v = claims.if_contains(path); v && holds(*v, want)) return true;
  for (auto dot = path.rfind('.'); dot != std::string_view::npos && dot > 0;
       dot = path.rfind('.', dot - 1)) {
    const auto* v = claims.if_contains(path.substr(0, dot));
    const auto* inner = v ? v->if_object() : nullptr;
    if (inner && claim_holds(*inner, path.substr(dot + 1), want)) return true;
  }
  return false;
}

bool matches(const access_rule& rule, const identity& who) {
  using kind = access_rule::subject_kind;
  switch (rule.subject) {
    case kind::everyone:
      return true;
    case kind::token:
      return who.from == identity::source::static_token && who.name == rule.value;
    case kind::sub: {
      const auto* sub = who.claims.if_contains("sub");
      return sub && sub->is_string() && sub->get_string() == rule.value;
    }
    case kind::group: {
      const auto* groups = who.claims.if_contains("groups");
      return groups && holds(*groups, rule.value);
    }
    case kind::scope:
      return who.scopes.contains(rule.value);
    case kind::claim:
      return claim_holds(who.claims, rule.claim_path, rule.value);
  }
  return false;
}

}  // namespace

access_grant access_grant::everything() {
  return access_grant(true, nullptr);
}

bool access_grant::allows(item_kind kind, std::string_view server, std::string_view own_name,
                          std::string_view exposed_name) const {
  if (unrestricted_) return true;
  if (!state_) return false;
  bool allowed = false;
  for (const auto* rule : state_->rules) {
    const bool by_server = !rule->servers.empty();
    if (by_server && !protocol::any_glob_matches(rule->servers, server)) continue;
    const auto name = by_server ? own_name : exposed_name;
    if (const auto& deny = patterns_of(rule->deny, kind);
        deny && protocol::any_glob_matches(*deny, name))
      return false;  // a deny wins over every allow
    if (!allowed) {
      const auto& allow = patterns_of(rule->allow, kind);
      allowed = !allow || protocol::any_glob_matches(*allow, name);
    }
  }
  return allowed;
}

std::vector<std::string_view> access_grant::rule_paths() const {
  std::vector<std::string_view> out;
  if (!state_) return out;
  out.reserve(state_->rules.size());
  for (const auto* rule : state_->rules) out.emplace_back(rule->path);
  return out;
}

access_policy::access_policy(config::access_config config) {
  if (!config.enabled) return;
  auto state = std::make_shared<detail::policy_state>();
  state->facts.reserve(config.rules.size());
  for (const auto& rule : config.rules) state->facts.push_back(facts_of(rule));
  state->config = std::move(config);
  state_ = std::move(state);
}

access_grant access_policy::grant_for(const identity& who) const {
  if (!state_) return access_grant::everything();
  const auto& rules = state_->config.rules;
  std::vector<const access_rule*> matched;
  bool allows_all = false, denies_none = true;
  for (std::size_t i = 0; i < rules.size(); ++i) {
    if (!matches(rules[i], who)) continue;
    matched.push_back(&rules[i]);
    allows_all = allows_all || state_->facts[i].allows_all;
    denies_none = denies_none && state_->facts[i].denies_none;
  }
  if (matched.empty())
    return state_->config.default_allow ? access_grant::everything() : access_grant();
  return access_grant(
      allows_all && denies_none,
      std::make_shared<const detail::grant_state>(detail::grant_state{state_, std::move(matched)}));
}

namespace {

class grant_access final : public protocol::item_access {
 public:
  explicit grant_access(access_grant g) : grant_(std::move(g)) {}
  bool allows(item_kind kind, std::string_view server, std::string_view own_name,
              std::string_view exposed_name) const override {
    return grant_.allows(kind, server, own_name, exposed_name);
  }

 private:
  access_grant grant_;
};

}  // namespace

std::shared_ptr<const protocol::item_access> as_item_access(access_grant grant) {
  if (grant.unrestricted()) return nullptr;
  return std::make_shared<const grant_access>(std::move(grant));
}

}  // namespace mcp_proxy::auth
