// mcpProxy.readiness (docs/configuration.md, "Health and readiness"): what GET /readyz calls
// ready. "all" (the default: every enabled server's backend is ready), "any" (one is), or
// {"servers": ["a", "b"]} (each named server is). protocol/readiness.hpp decides and answers.

#include "config/config_reader.hpp"

#include <algorithm>

namespace mcp_proxy::config::detail {

namespace json = boost::json;

namespace {

void read_readiness_servers(reader& r, const json::value& v, std::string_view path,
                            protocol::readiness_rule& rule) {
  rule.rule = protocol::readiness_rule::kind::servers;
  // With an element left out the indices shift: check_readiness would name the wrong ones.
  if (!r.read_string_array(v, path, rule.servers)) {
    rule.servers.clear();
    return;
  }
  if (rule.servers.empty()) r.fail(path, "name at least one server (or use \"all\" or \"any\")");
}

constexpr auto readiness_keys = std::to_array<key_rule<protocol::readiness_rule>>({
    {"servers", read_readiness_servers},
});

}  // namespace

void read_readiness(reader& r, const json::value& v, std::string_view path, config& c) {
  auto& rule = c.proxy.readiness.rule;
  if (const auto* s = v.if_string()) {
    if (*s == "all") {
      rule.rule = protocol::readiness_rule::kind::all;
    } else if (*s == "any") {
      rule.rule = protocol::readiness_rule::kind::any;
    } else {
      r.fail(path, "expected \"all\", \"any\" or {\"servers\": [...]}, got " +
                       quoted(std::string_view(*s)));
    }
    return;
  }
  if (!v.is_object()) {
    r.type_error(path, "\"all\", \"any\" or an object {\"servers\": [...]}", v);
    return;
  }
  rule = {};
  if (!r.read_object<protocol::readiness_rule>(v, path, readiness_keys, rule)) return;
  if (rule.rule != protocol::readiness_rule::kind::servers)
    r.fail(path, "missing required key \"servers\"");
}

void check_readiness(reader& r, config& c) {
  auto& readiness = c.proxy.readiness;
  const auto& rule = readiness.rule;
  for (std::size_t i = 0; i < rule.servers.size(); ++i) {
    const auto& name = rule.servers[i];
    auto it = std::find_if(c.servers.begin(), c.servers.end(),
                           [&](const server_config& s) { return s.name == name; });
    const auto path = index_path("$.mcpProxy.readiness.servers", i);
    if (it == c.servers.end())
      r.fail(path, "no server is named " + quoted(name));
    else if (it->disabled)
      r.fail(path, "server " + quoted(name) + " is disabled: it can never be ready");
  }
  readiness.disabled.clear();
  for (const auto& s : c.servers) {
    if (!s.disabled) continue;
    protocol::backend_status b;
    b.name = s.name;
    b.state = protocol::backend_state::disabled;
    b.since = std::chrono::system_clock::now();  // since the configuration was read
    b.transport = std::string(transport_name(s.transport));
    readiness.disabled.push_back(std::move(b));
  }
}

}  // namespace mcp_proxy::config::detail
