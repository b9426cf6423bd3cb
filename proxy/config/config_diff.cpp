#include "config/config_diff.hpp"

#include <algorithm>
#include <map>

namespace mcp_proxy::config {

namespace {

// A server as its backend sees it: the checks of its routes (tokens, scopes) are the listener's,
// and change without a restart of the backend.
server_config backend_view(server_config s) {
  s.auth_tokens.clear();
  s.own_auth_tokens = false;
  s.required_scopes.clear();
  s.tool_scopes.clear();
  s.log_enabled = false;  // the request log's, set again by the reload
  return s;
}

template <class T>
void compare(std::vector<std::string>& out, const char* key, const T& a, const T& b) {
  if (!(a == b)) out.emplace_back(key);
}

// The mcpProxy settings read once at start, by name.
std::vector<std::string> restart_only_changes(const proxy_config& a, const proxy_config& b) {
  std::vector<std::string> out;
  compare(out, "addr", a.addr, b.addr);
  compare(out, "baseURL", a.base_url, b.base_url);
  compare(out, "name", a.name, b.name);
  compare(out, "version", a.version, b.version);
  compare(out, "allowedOrigins", a.allowed_origins, b.allowed_origins);
  compare(out, "cors", std::tie(a.cors_allow_credentials, a.cors_max_age),
          std::tie(b.cors_allow_credentials, b.cors_max_age));
  compare(out, "oauth", a.oauth, b.oauth);
  compare(out, "access", a.access, b.access);
  // Only the files are read again (tls_files_changed); turning TLS on or off needs a restart.
  compare(out, "tls", a.tls.enabled(), b.tls.enabled());
  compare(out, "tls.clientCertificates", a.tls.client_certificates, b.tls.client_certificates);
  compare(out, "tls.minVersion", a.tls.tls13_only, b.tls.tls13_only);
  compare(out, "allowUnauthenticated", a.allow_unauthenticated, b.allow_unauthenticated);
  compare(out, "allowedHosts", a.allowed_hosts, b.allowed_hosts);
  compare(out, "maxBodyBytes", a.max_body_bytes, b.max_body_bytes);
  compare(out, "maxJsonDepth", a.max_json_depth, b.max_json_depth);
  compare(out, "maxConnections", a.max_connections, b.max_connections);
  compare(out, "maxConnectionsPerPeer", a.max_connections_per_peer, b.max_connections_per_peer);
  compare(out, "headerTimeout", a.header_timeout, b.header_timeout);
  compare(out, "maxHeaderBytes", a.max_header_bytes, b.max_header_bytes);
  compare(out, "maxHeaders", a.max_headers, b.max_headers);
  compare(out, "getStream", a.get_stream, b.get_stream);
  compare(out, "closeStreamAfter", a.close_stream_after, b.close_stream_after);
  compare(out, "replay", std::tie(a.replay_events, a.replay_streams, a.replay_bytes),
          std::tie(b.replay_events, b.replay_streams, b.replay_bytes));
  compare(out, "sessionIdleTimeout", a.session_idle_timeout, b.session_idle_timeout);
  compare(out, "maxSessions", a.max_sessions, b.max_sessions);
  compare(out, "maxSessionsPerPeer", a.max_sessions_per_peer, b.max_sessions_per_peer);
  compare(out, "maxPerClientBackends", a.max_per_client_backends, b.max_per_client_backends);
  compare(out, "toolNameSeparator", a.tool_name_separator, b.tool_name_separator);
  compare(out, "pageSize", a.page_size, b.page_size);
  compare(out, "listCacheTTL", a.list_cache_ttl, b.list_cache_ttl);
  compare(out, "fanOutTimeout", a.fan_out_timeout, b.fan_out_timeout);
  compare(out, "logLevel", a.log_level, b.log_level);
  compare(out, "logFormat", a.log_format, b.log_format);
  compare(out, "metrics", a.metrics, b.metrics);
  return out;
}

std::map<std::string, const server_config*, std::less<>> enabled_servers(const config& c) {
  std::map<std::string, const server_config*, std::less<>> out;
  for (const auto& s : c.servers)
    if (!s.disabled) out.emplace(s.name, &s);
  return out;
}

// The merged endpoints by name.
std::map<std::string, const merged_view*, std::less<>> by_name(
    const std::vector<merged_view>& views) {
  std::map<std::string, const merged_view*, std::less<>> out;
  for (const auto& v : views) out.emplace(v.name, &v);
  return out;
}

void join(std::string& out, std::string_view what, const std::vector<std::string>& names) {
  if (names.empty()) return;
  out += out.empty() ? "" : "; ";
  out += what;
  const char* sep = " ";
  for (const auto& n : names) {
    out += sep;
    out += n.empty() ? "/mcp" : n;
    sep = ", ";
  }
}

}  // namespace

reload_plan plan_reload(const config& current, const config& next) {
  reload_plan plan;
  const auto before = enabled_servers(current);
  const auto after = enabled_servers(next);
  for (const auto& [name, s] : after) {
    auto it = before.find(name);
    if (it == before.end())
      plan.servers_added.push_back(name);
    else if (!(backend_view(*it->second) == backend_view(*s)))
      plan.servers_changed.push_back(name);
    else if (!(it->second->auth_tokens == s->auth_tokens &&
               it->second->required_scopes == s->required_scopes &&
               it->second->tool_scopes == s->tool_scopes))
      plan.security_changed = true;
  }
  for (const auto& [name, s] : before)
    if (!after.contains(name)) plan.servers_removed.push_back(name);

  const auto views_before = merged_views(current);
  const auto views_after = merged_views(next);
  const auto merged_before = by_name(views_before);
  const auto merged_after = by_name(views_after);
  for (const auto& [name, view] : merged_after) {
    const auto& v = *view;
    auto it = merged_before.find(name);
    if (it == merged_before.end()) {
      plan.merged_added.push_back(name);
      continue;
    }
    // A changed member server is a new endpoint object: the merged endpoint takes it in place.
    bool changed = it->second->members != v.members || !(it->second->filters == v.filters);
    for (const auto& m : v.members)
      changed = changed || std::find(plan.servers_changed.begin(), plan.servers_changed.end(), m) !=
                               plan.servers_changed.end();
    if (changed) plan.merged_changed.push_back(name);
    if (it->second->required_scopes != v.required_scopes) plan.security_changed = true;
  }
  for (const auto& [name, view] : merged_before)
    if (!merged_after.contains(name)) plan.merged_removed.push_back(name);

  const auto& a = current.proxy;
  const auto& b = next.proxy;
  if (a.auth_tokens != b.auth_tokens) plan.security_changed = true;
  plan.limits_changed = !(a.limits == b.limits);
  plan.audit_log_changed = a.audit_log != b.audit_log;
  plan.readiness_changed = !(a.readiness.rule == b.readiness.rule) ||
                           plan.servers_added.size() + plan.servers_removed.size() > 0;
  plan.tls_files_changed = a.tls.enabled() && b.tls.enabled() &&
                           std::tie(a.tls.cert_file, a.tls.key_file, a.tls.client_ca_file) !=
                               std::tie(b.tls.cert_file, b.tls.key_file, b.tls.client_ca_file);
  plan.needs_restart = restart_only_changes(a, b);
  return plan;
}

std::vector<merged_view> merged_views(const config& c) {
  std::vector<merged_view> out;
  std::vector<std::string> all;
  for (const auto& s : c.servers)
    if (!s.disabled) all.push_back(s.name);
  if (c.proxy.aggregate) out.push_back({"", all, {}, {}, {}});
  for (const auto& g : c.groups) {
    merged_view v{g.name, {}, g.filters, g.required_scopes, {}};
    if (g.servers.empty()) v.members = all;
    for (const auto& name : g.servers)
      (std::find(all.begin(), all.end(), name) != all.end() ? v.members : v.left_out)
          .push_back(name);
    out.push_back(std::move(v));
  }
  return out;
}

bool reload_plan::empty() const {
  return servers_added.empty() && servers_removed.empty() && servers_changed.empty() &&
         merged_added.empty() && merged_removed.empty() && merged_changed.empty() &&
         !security_changed && !limits_changed && !audit_log_changed && !readiness_changed &&
         !tls_files_changed && needs_restart.empty();
}

std::string reload_plan::summary() const {
  std::string out;
  join(out, "servers added:", servers_added);
  join(out, "servers removed:", servers_removed);
  join(out, "servers changed:", servers_changed);
  join(out, "merged endpoints added:", merged_added);
  join(out, "merged endpoints removed:", merged_removed);
  join(out, "merged endpoints changed:", merged_changed);
  std::vector<std::string> listener;
  if (security_changed) listener.emplace_back("tokens and scopes");
  if (limits_changed) listener.emplace_back("limits");
  if (audit_log_changed) listener.emplace_back("audit log");
  if (readiness_changed) listener.emplace_back("readiness");
  if (tls_files_changed) listener.emplace_back("TLS files");
  join(out, "listener:", listener);
  join(out, "needs a restart:", needs_restart);
  return out.empty() ? std::string("no change") : out;
}

}  // namespace mcp_proxy::config
