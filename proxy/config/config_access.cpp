// mcpProxy.access (authorization by identity, docs/security.md "Access by identity"): the rules
// that say which tools, prompts and resources each identity may use, and their checks against
// the servers and tokens once the whole document is read. auth/access.hpp evaluates them.

#include "config/config_reader.hpp"

#include "protocol/patterns.hpp"

#include <algorithm>
#include <set>
#include <utility>

namespace mcp_proxy::config::detail {

namespace json = boost::json;

namespace {

using subject_kind = access_rule::subject_kind;

std::string_view subject_key(subject_kind kind) {
  switch (kind) {
    case subject_kind::everyone:
      return "*";
    case subject_kind::token:
      return "token";
    case subject_kind::sub:
      return "sub";
    case subject_kind::group:
      return "group";
    case subject_kind::scope:
      return "scope";
    case subject_kind::claim:
      break;
  }
  return "claim";
}

// --- allow and deny: {"tools": [globs], "prompts": [globs], "resources": [globs]} ----------------

std::optional<std::string> check_pattern(const std::string& pattern) {
  if (!pattern.empty()) return std::nullopt;
  return "a pattern must not be empty (\"*\" matches every name)";
}

template <std::optional<std::vector<std::string>> item_patterns::*which>
void read_pattern_list(reader& r, const json::value& v, std::string_view path, item_patterns& p) {
  // Present, even when some element is wrong: the config is refused then anyway.
  r.read_string_array(v, path, (p.*which).emplace(), check_pattern);
}

constexpr auto pattern_keys = std::to_array<key_rule<item_patterns>>({
    {"tools", read_pattern_list<&item_patterns::tools>},
    {"prompts", read_pattern_list<&item_patterns::prompts>},
    {"resources", read_pattern_list<&item_patterns::resources>},
});

// --- identity: "*", or {"token" | "sub" | "group" | "scope": NAME}, or {"claim": PATH, "value"} --

struct identity_state {
  access_rule& rule;
  std::vector<subject_kind> named;  // the keys that name who, in file order
  bool has_value = false;           // "value" is there
  std::string value;
};

// A claim path is claim names joined by dots, none of them empty.
std::optional<std::string> claim_path_problem(std::string_view path) {
  if (path.front() != '.' && path.back() != '.' && path.find("..") == std::string_view::npos)
    return std::nullopt;
  return "expected claim names joined by dots, such as \"realm_access.roles\", got " + quoted(path);
}

// RFC 6749 section 3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ).
bool is_scope_token(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u >= 0x21 && u <= 0x7e && c != '"' && c != '\\';
  });
}

template <subject_kind kind>
void read_subject(reader& r, const json::value& v, std::string_view path, identity_state& s) {
  s.named.push_back(kind);
  std::string text;
  if (!r.read_non_empty_string(v, path, text)) return;
  if (kind == subject_kind::scope && !is_scope_token(text)) {
    r.fail(path,
           "a scope is printable ASCII without space, \" or \\ (RFC 6749 section 3.3), "
           "got " +
               quoted(text) + " (one rule for each scope)");
    return;
  }
  if (kind == subject_kind::claim) {
    if (auto problem = claim_path_problem(text)) {
      r.fail(path, *problem);
      return;
    }
  }
  if (s.named.size() > 1) return;  // reported once all keys are read
  s.rule.subject = kind;
  (kind == subject_kind::claim ? s.rule.claim_path : s.rule.value) = std::move(text);
}

void read_claim_value(reader& r, const json::value& v, std::string_view path, identity_state& s) {
  s.has_value = true;
  r.read_non_empty_string(v, path, s.value);
}

constexpr auto identity_keys = std::to_array<key_rule<identity_state>>({
    {"token", read_subject<subject_kind::token>},
    {"sub", read_subject<subject_kind::sub>},
    {"group", read_subject<subject_kind::group>},
    {"scope", read_subject<subject_kind::scope>},
    {"claim", read_subject<subject_kind::claim>},
    {"value", read_claim_value},
});

constexpr std::string_view identity_shapes =
    "\"*\" or an object with one of \"token\", \"sub\", \"group\", \"scope\", or \"claim\" "
    "with \"value\"";

// --- a rule --------------------------------------------------------------------------------------

struct rule_state {
  access_rule& rule;
  bool has_identity = false;
};

void read_identity(reader& r, const json::value& v, std::string_view path, rule_state& s) {
  s.has_identity = true;
  if (const auto* text = v.if_string()) {
    if (*text == "*") {
      s.rule.subject = subject_kind::everyone;
      return;
    }
    r.fail(path, "expected " + std::string(identity_shapes) + ", got " +
                     quoted(std::string_view(text->data(), text->size())));
    return;
  }
  if (!v.is_object()) {
    r.type_error(path, identity_shapes, v);
    return;
  }
  identity_state id{s.rule, {}, false, {}};
  r.read_object<identity_state>(v, path, identity_keys, id);
  if (id.named.empty()) {
    r.fail(path,
           "expected one of \"token\", \"sub\", \"group\", \"scope\", or \"claim\" with "
           "\"value\"");
    return;
  }
  if (id.named.size() > 1) {
    std::string keys;
    for (std::size_t i = 0; i < id.named.size(); ++i)
      keys += (i == 0                     ? ""
               : i + 1 == id.named.size() ? " and "
                                          : ", ") +
              quoted(subject_key(id.named[i]));
    r.fail(path, "names " + keys + ": a rule is for one identity (write one rule for each)");
    return;
  }
  if (id.named.front() == subject_kind::claim) {
    if (!id.has_value)
      r.fail(path, "missing required key \"value\" (what the claim must hold)");
    else
      s.rule.value = std::move(id.value);
  } else if (id.has_value) {
    r.fail(child_path(path, "value"), "\"value\" goes with \"claim\" only");
  }
}

void read_rule_servers(reader& r, const json::value& v, std::string_view path, rule_state& s) {
  auto& servers = s.rule.servers;
  // With an element left out the indices shift: check_access would name the wrong ones.
  if (!r.read_string_array(v, path, servers, check_pattern)) {
    servers.clear();
    return;
  }
  // An empty list would silently mean "exposed names on every server", the opposite of what it
  // says.
  if (servers.empty())
    r.fail(path,
           "must not be empty (leave \"servers\" out for patterns on the exposed names of "
           "every server)");
}

template <item_patterns access_rule::*which>
void read_rule_patterns(reader& r, const json::value& v, std::string_view path, rule_state& s) {
  r.read_object<item_patterns>(v, path, pattern_keys, s.rule.*which);
}

constexpr auto rule_keys = std::to_array<key_rule<rule_state>>({
    {"identity", read_identity},
    {"servers", read_rule_servers},
    {"allow", read_rule_patterns<&access_rule::allow>},
    {"deny", read_rule_patterns<&access_rule::deny>},
});

// --- mcpProxy.access -----------------------------------------------------------------------------

struct access_state {
  access_config& access;
};

void read_default(reader& r, const json::value& v, std::string_view path, access_state& s) {
  std::string text;
  if (!r.read_string(v, path, text)) return;
  if (text == "allow" || text == "deny")
    s.access.default_allow = text == "allow";
  else
    r.fail(path, "expected \"allow\" or \"deny\", got " + quoted(text));
}

void read_rules(reader& r, const json::value& v, std::string_view path, access_state& s) {
  const auto* a = v.if_array();
  if (!a) {
    r.type_error(path, "an array of rules", v);
    return;
  }
  auto& rules = s.access.rules;
  rules.clear();
  rules.reserve(a->size());
  for (std::size_t i = 0; i < a->size(); ++i) {
    const auto p = index_path(path, i);
    access_rule rule;
    rule.path = p;
    rule_state state{rule};
    if (!r.read_object<rule_state>((*a)[i], p, rule_keys, state)) continue;
    if (!state.has_identity)
      r.fail(p, "missing required key \"identity\" (\"*\", or who the rule is for)");
    rules.push_back(std::move(rule));
  }
}

constexpr auto access_keys = std::to_array<key_rule<access_state>>({
    {"default", read_default},
    {"rules", read_rules},
});

}  // namespace

void read_access(reader& r, const json::value& v, std::string_view path, config& c) {
  auto& access = c.proxy.access;
  access.enabled = true;
  access_state state{access};
  if (!r.read_object<access_state>(v, path, access_keys, state)) return;
  if (access.rules.empty())
    r.warn(path, access.default_allow
                     ? "no rules and \"default\": \"allow\": every client may use everything"
                     : "no rules: every client is refused every tool, prompt and resource");
}

void check_access(reader& r, const config& c) {
  const auto& access = c.proxy.access;
  if (!access.enabled) return;
  std::set<std::string, std::less<>> token_names;
  for (const auto& t : c.proxy.auth_tokens) token_names.insert(t.name);
  for (const auto& s : c.servers)
    for (const auto& t : s.auth_tokens) token_names.insert(t.name);
  token_names.erase("");

  for (const auto& rule : access.rules) {
    const auto identity_path = child_path(rule.path, "identity");
    switch (rule.subject) {
      case subject_kind::everyone:
        break;
      case subject_kind::token:
        if (!token_names.contains(rule.value))
          r.warn(child_path(identity_path, "token"),
                 "no static token is named " + quoted(rule.value) +
                     " (authTokens entries {\"name\": ..., \"token\": ...} and NAME:TOKEN lines "
                     "of authTokensFile have names): the rule matches nobody");
        break;
      case subject_kind::sub:
      case subject_kind::group:
      case subject_kind::scope:
      case subject_kind::claim:
        if (!c.proxy.oauth.enabled)
          r.warn(child_path(identity_path, subject_key(rule.subject)),
                 "only OAuth access tokens carry claims and scopes, and mcpProxy.oauth is not "
                 "set: the rule matches nobody");
        break;
    }
    // Without servers (mcpServers missing or not an object) every pattern would be reported.
    if (c.servers.empty()) continue;
    const auto servers_path = child_path(rule.path, "servers");
    for (std::size_t j = 0; j < rule.servers.size(); ++j) {
      const auto& pattern = rule.servers[j];
      const auto matches = [&](const server_config& s) {
        return protocol::glob_match(pattern, s.name);
      };
      if (std::any_of(c.servers.begin(), c.servers.end(), matches)) continue;
      std::string what = "matches no server in mcpServers";
      std::optional<std::size_t> closest_distance;
      std::string_view closest;
      for (const auto& s : c.servers) {
        auto d = typo_distance(pattern, s.name);
        if (d && (!closest_distance || *d < *closest_distance)) {
          closest_distance = d;
          closest = s.name;
        }
      }
      if (closest_distance) what += "; did you mean " + quoted(closest) + "?";
      r.warn(index_path(servers_path, j), what);
    }
  }
}

}  // namespace mcp_proxy::config::detail
