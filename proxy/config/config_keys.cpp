// The key tables of the root, mcpProxy and groups, and the readers they name. A server entry's
// table is in config_server.cpp, the options' (mcpProxy's and a server's) in config_options.cpp.

#include "config/config_reader.hpp"

#include "protocol/log_text.hpp"

#include <algorithm>
#include <utility>

namespace mcp_proxy::config::detail {

namespace json = boost::json;

namespace {

// Reads one proxy_config field with one of the reader's value readers.
template <auto read_value, auto field>
void proxy_field(reader& r, const json::value& v, std::string_view path, config& c) {
  (r.*read_value)(v, path, c.proxy.*field);
}

// --- a group -------------------------------------------------------------------------------------

void read_group_required_scopes(reader& r, const json::value& v, std::string_view path,
                                group_config& g) {
  read_scope_list(r, v, path, g.required_scopes);
}

void read_group_servers(reader& r, const json::value& v, std::string_view path, group_config& g) {
  // With an element left out the indices shift: check_groups would name the wrong ones.
  if (!r.read_string_array(v, path, g.servers)) g.servers.clear();
}

template <name_filter item_filters::*which>
void group_filter(reader& r, const json::value& v, std::string_view path, group_config& g) {
  r.read_filter(v, path, g.filters.*which);
}

constexpr auto group_keys = std::to_array<key_rule<group_config>>({
    {"servers", read_group_servers},
    {"requiredScopes", read_group_required_scopes},
    {"toolFilter", group_filter<&item_filters::tools>},
    {"promptFilter", group_filter<&item_filters::prompts>},
    {"resourceFilter", group_filter<&item_filters::resources>},
});

// --- mcpProxy ------------------------------------------------------------------------------------

void read_addr(reader& r, const json::value& v, std::string_view path, config& c) {
  if (!r.read_string(v, path, c.proxy.addr)) return;
  if (auto problem = listen_address_problem(c.proxy.addr)) r.fail(path, *problem);
}

void read_max_json_depth(reader& r, const json::value& v, std::string_view path, config& c) {
  auto& depth = c.proxy.max_json_depth;
  if (r.read_positive_integer(v, path, depth) && (depth < 32 || depth > 4096))
    r.fail(path, "must be from 32 to 4096 (levels of nesting), got " + std::to_string(depth));
}

// A positive integer from `low` up.
template <auto field, std::uint64_t low>
void at_least(reader& r, const json::value& v, std::string_view path, config& c) {
  auto& out = c.proxy.*field;
  if (r.read_positive_integer(v, path, out) && out < low)
    r.fail(path, "must be at least " + std::to_string(low) + ", got " + std::to_string(out));
}

void read_base_url(reader& r, const json::value& v, std::string_view path, config& c) {
  auto& url = c.proxy.base_url;
  if (!r.read_string(v, path, url) || url.empty()) return;
  auto normalized = normalize_http_url(url);
  if (!normalized) {
    r.fail(path, "expected an absolute http or https URL");
    return;
  }
  url = std::move(*normalized);
}

void read_client_transport(reader& r, const json::value& v, std::string_view path, config&) {
  std::string type;
  if (r.read_string(v, path, type) && type != "sse" && type != "streamable-http")
    r.fail(path, "expected \"sse\" or \"streamable-http\", got " + quoted(type));
}

// mcpProxy.cors: {"allowCredentials": bool, "maxAge": duration}.
struct cors_state {
  proxy_config& proxy;
};
void read_cors_credentials(reader& r, const json::value& v, std::string_view path, cors_state& c) {
  r.read_bool(v, path, c.proxy.cors_allow_credentials);
}
void read_cors_max_age(reader& r, const json::value& v, std::string_view path, cors_state& c) {
  std::chrono::milliseconds age{};
  if (r.read_timeout(v, path, age))
    c.proxy.cors_max_age = std::chrono::duration_cast<std::chrono::seconds>(age);
}
constexpr auto cors_keys = std::to_array<key_rule<cors_state>>({
    {"allowCredentials", read_cors_credentials},
    {"maxAge", read_cors_max_age},
});
void read_cors(reader& r, const json::value& v, std::string_view path, config& c) {
  cors_state state{c.proxy};
  r.read_object<cors_state>(v, path, cors_keys, state);
}

void read_tool_name_separator(reader& r, const json::value& v, std::string_view path, config& c) {
  auto& separator = c.proxy.tool_name_separator;
  if (r.read_non_empty_string(v, path, separator) && !protocol_name_chars(separator))
    r.fail(path, "expected characters of A-Z a-z 0-9 _ - (tool names allow no others), got " +
                     quoted(separator));
}

void read_page_size(reader& r, const json::value& v, std::string_view path, config& c) {
  if (v.is_number() && v.to_number<double>() == 0)
    c.proxy.page_size = 0;
  else
    r.read_positive_integer(v, path, c.proxy.page_size);
}

void read_groups(reader& r, const json::value& v, std::string_view path, config& c) {
  const auto* o = v.if_object();
  if (!o) {
    r.type_error(path, "an object of groups", v);
    return;
  }
  c.groups.clear();
  for (const auto& kv : *o) {
    std::string_view name(kv.key().data(), kv.key().size());
    auto p = child_path(path, name);
    bool valid_name = is_valid_server_name(name);
    if (!valid_name)
      r.fail(p, "invalid group name " + quoted(name) +
                    ": use 1 to 64 of A-Z a-z 0-9 _ . - (names become URL path segments)");
    group_config group;
    group.name = std::string(name);
    // The members of a group with a bad name are still read, for their own errors.
    if (r.read_object<group_config>(kv.value(), p, group_keys, group) && valid_name)
      c.groups.push_back(std::move(group));
  }
}

void read_allowed_origins(reader& r, const json::value& v, std::string_view path, config& c) {
  r.read_string_array(v, path, c.proxy.allowed_origins,
                      [](const std::string& origin) -> std::optional<std::string> {
                        if (is_origin(origin)) return std::nullopt;
                        return "expected an origin such as \"https://app.example.com\" (scheme, "
                               "host, optional port, no path) or \"*\", got " +
                               quoted(origin);
                      });
}

void read_allowed_hosts(reader& r, const json::value& v, std::string_view path, config& c) {
  r.read_string_array(v, path, c.proxy.allowed_hosts,
                      [](const std::string& host) -> std::optional<std::string> {
                        if (!host.empty() && host.find_first_of(" /\t\r\n") == std::string::npos)
                          return std::nullopt;
                        return "expected a host such as \"proxy.example.com\" or "
                               "\"proxy.example.com:8443\", or \"*\", got " +
                               quoted(host);
                      });
}

// mcpProxy.logLevel: a name --log-level accepts (an unknown one would hide every line).
void read_log_level(reader& r, const json::value& v, std::string_view path, config& c) {
  std::string name;
  if (!r.read_string(v, path, name)) return;
  if (!protocol::is_log_level_name(name))
    r.fail(path,
           "unknown log level " + quoted(name) + "; use one of " + protocol::log_level_list());
  else
    c.proxy.log_level = std::move(name);
}

void read_log_format(reader& r, const json::value& v, std::string_view path, config& c) {
  std::string name;
  if (!r.read_string(v, path, name)) return;
  if (!protocol::log_format_of(name))
    r.fail(path, "unknown log format " + quoted(name) + "; use \"text\" or \"json\"");
  else
    c.proxy.log_format = std::move(name);
}

constexpr auto proxy_keys = std::to_array<key_rule<config>>({
    {"addr", read_addr},
    {"baseURL", read_base_url},
    {"name", proxy_field<&reader::read_string, &proxy_config::name>},
    {"version", proxy_field<&reader::read_string, &proxy_config::version>},
    // Both client transports are always served (/{name}/mcp and /{name}/sse); the key stays
    // valid for TBXark configs.
    {"type", read_client_transport, key_use::no_effect},
    {"options", read_proxy_options},
    {"aggregate", proxy_field<&reader::read_bool, &proxy_config::aggregate>},
    {"toolNameSeparator", read_tool_name_separator},
    {"pageSize", read_page_size},
    {"listCacheTTL", proxy_field<&reader::read_duration_or_zero, &proxy_config::list_cache_ttl>},
    {"fanOutTimeout", proxy_field<&reader::read_timeout, &proxy_config::fan_out_timeout>},
    {"closeStreamAfter",
     proxy_field<&reader::read_duration_or_zero, &proxy_config::close_stream_after>},
    {"groups", read_groups},
    {"allowedOrigins", read_allowed_origins},
    {"allowedHosts", read_allowed_hosts},
    {"cors", read_cors},
    {"oauth", read_oauth},
    {"access", read_access},
    {"limits", read_limits},
    {"tls", read_tls},
    {"readiness", read_readiness},
    {"metrics", read_metrics},
    {"auditLog", proxy_field<&reader::read_non_empty_string, &proxy_config::audit_log>},
    {"logLevel", read_log_level},
    {"logFormat", read_log_format},
    {"allowUnauthenticated", proxy_field<&reader::read_bool, &proxy_config::allow_unauthenticated>},
    {"maxBodyBytes", proxy_field<&reader::read_positive_integer, &proxy_config::max_body_bytes>},
    {"maxJsonDepth", read_max_json_depth},
    {"maxConnections", proxy_field<&reader::read_positive_integer, &proxy_config::max_connections>},
    {"maxConnectionsPerPeer",
     proxy_field<&reader::read_positive_integer, &proxy_config::max_connections_per_peer>},
    {"headerTimeout", proxy_field<&reader::read_timeout, &proxy_config::header_timeout>},
    {"maxHeaderBytes", at_least<&proxy_config::max_header_bytes, 1024>},
    {"maxHeaders", at_least<&proxy_config::max_headers, 8>},
    {"replayEvents", proxy_field<&reader::read_positive_integer, &proxy_config::replay_events>},
    {"replayStreams", proxy_field<&reader::read_positive_integer, &proxy_config::replay_streams>},
    {"replayBytes", proxy_field<&reader::read_positive_integer, &proxy_config::replay_bytes>},
    {"maxSessions", proxy_field<&reader::read_positive_integer, &proxy_config::max_sessions>},
    {"maxSessionsPerPeer",
     proxy_field<&reader::read_positive_integer, &proxy_config::max_sessions_per_peer>},
    {"maxPerClientBackends",
     proxy_field<&reader::read_positive_integer, &proxy_config::max_per_client_backends>},
    {"getStream", proxy_field<&reader::read_bool, &proxy_config::get_stream>},
    {"sessionIdleTimeout", proxy_field<&reader::read_timeout, &proxy_config::session_idle_timeout>},
    {"shutdownGrace", proxy_field<&reader::read_duration_or_zero, &proxy_config::shutdown_grace>},
});

// --- TBXark's older (V1) format: "server" ------------------------------------------------------

void read_v1_addr(reader& r, const json::value& v, std::string_view path, config& c) {
  read_addr(r, v, path, c);
  // Listen errors name where the address came from.
  if (auto at = c.proxy.addr_origin.rfind("$.mcpProxy.addr"); at != std::string::npos)
    c.proxy.addr_origin.replace(at, std::string::npos, path);
}

void read_v1_global_tokens(reader& r, const json::value& v, std::string_view path, config& c) {
  read_auth_token_list(r, v, path, c.proxy.auth_tokens);
}

constexpr auto v1_server_keys = std::to_array<key_rule<config>>({
    {"baseURL", read_base_url},
    {"addr", read_v1_addr},
    {"name", proxy_field<&reader::read_string, &proxy_config::name>},
    {"version", proxy_field<&reader::read_string, &proxy_config::version>},
    {"globalAuthTokens", read_v1_global_tokens},
});

// --- the root ------------------------------------------------------------------------------------

struct root_state {
  config& out;
  bool has_servers = false;   // "mcpServers" is there
  bool servers_read = false;  // and is an object: groups can be checked against it
  // What the document holds, known before its keys are read (they may come in any order).
  bool has_mcp_proxy = false;
  bool mcp_servers_empty = true;  // absent or {}: TBXark's V1 "clients" are read instead
  // mcpProxy.options' logEnabled and panicIfInvalid: the default of every server.
  bool log_enabled = false, panic_if_invalid = false;
  bool has_v1_clients = false;
  bool v1_clients_read = false;
  std::vector<auth_token> v1_global_tokens;  // "server".globalAuthTokens
};

void read_mcp_proxy(reader& r, const json::value& v, std::string_view path, root_state& root) {
  r.read_object<config>(v, path, proxy_keys, root.out);
}

// TBXark's V1 "server": mcpProxy's baseURL, addr, name and version, and globalAuthTokens as
// mcpProxy.options.authTokens; ignored when mcpProxy is there (as TBXark), but for its tokens.
void read_v1_server(reader& r, const json::value& v, std::string_view path, root_state& root) {
  config scratch;
  scratch.proxy.addr_origin = root.out.proxy.addr_origin;
  if (!r.read_object<config>(v, path, v1_server_keys, scratch)) return;
  root.v1_global_tokens = scratch.proxy.auth_tokens;
  if (root.has_mcp_proxy) {
    r.warn(path, "ignored: TBXark's older format, read only when \"mcpProxy\" is absent");
    return;
  }
  auto& p = root.out.proxy;
  p.base_url = std::move(scratch.proxy.base_url);
  p.addr = std::move(scratch.proxy.addr);
  p.addr_origin = std::move(scratch.proxy.addr_origin);
  p.name = std::move(scratch.proxy.name);
  p.version = std::move(scratch.proxy.version);
  p.auth_tokens = std::move(scratch.proxy.auth_tokens);
}

using server_reader = void (*)(reader&, std::string_view, const json::value&, std::string_view,
                               server_config&);

// The entries of mcpServers (read_server) or of V1's clients (read_v1_client), each starting
// from mcpProxy.options' logEnabled and panicIfInvalid.
void read_server_entries(reader& r, const json::object& o, std::string_view path, root_state& root,
                         server_reader read_one) {
  root.servers_read = true;
  auto& servers = root.out.servers;
  servers.clear();
  servers.reserve(o.size());
  for (const auto& kv : o) {
    std::string_view name(kv.key().data(), kv.key().size());
    auto& s = servers.emplace_back();
    s.log_enabled = root.log_enabled;
    s.panic_if_invalid = root.panic_if_invalid;
    read_one(r, name, kv.value(), child_path(path, name), s);
  }
  if (servers.empty()) {
    r.warn(path, "no servers configured");
  } else if (std::none_of(servers.begin(), servers.end(),
                          [](const server_config& s) { return !s.disabled; })) {
    r.warn(path, "every server is disabled");
  }
}

// TBXark's V1 "clients", read (as TBXark does) when mcpServers is absent or empty.
void read_v1_clients(reader& r, const json::value& v, std::string_view path, root_state& root) {
  if (!root.mcp_servers_empty) {
    r.warn(path,
           "ignored: TBXark's older format, read only when \"mcpServers\" is absent or "
           "empty");
    return;
  }
  const auto* o = v.if_object();
  if (!o) {
    r.type_error(path, "an object", v);
    return;
  }
  root.v1_clients_read = true;
  read_server_entries(r, *o, path, root, read_v1_client);
}

void read_mcp_servers(reader& r, const json::value& v, std::string_view path, root_state& root) {
  root.has_servers = true;
  const auto* o = v.if_object();
  if (!o) {
    r.type_error(path, "an object", v);
    return;
  }
  // mcpServers is {}: TBXark's V1 "clients" (before or after it) are the servers.
  if (root.v1_clients_read || (o->empty() && root.has_v1_clients)) return;
  read_server_entries(r, *o, path, root, read_server);
}

constexpr auto root_keys = std::to_array<key_rule<root_state>>({
    {"mcpProxy", read_mcp_proxy},
    {"mcpServers", read_mcp_servers},
    {"server", read_v1_server},
    {"clients", read_v1_clients},
});

// What read_root needs to know of the document before it reads its keys in file order.
void scan_root(const json::object& root, root_state& state) {
  const auto* proxy = root.if_contains("mcpProxy");
  state.has_mcp_proxy = proxy != nullptr;
  const auto* servers = root.if_contains("mcpServers");
  state.mcp_servers_empty = !servers || (servers->is_object() && servers->get_object().empty());
  state.has_v1_clients = root.contains("clients");
  const auto* options =
      proxy && proxy->is_object() ? proxy->get_object().if_contains("options") : nullptr;
  if (!options || !options->is_object()) return;
  // Wrong types are reported where mcpProxy.options is read.
  if (const auto* b = options->get_object().if_contains("logEnabled"); b && b->is_bool())
    state.log_enabled = b->get_bool();
  if (const auto* b = options->get_object().if_contains("panicIfInvalid"); b && b->is_bool())
    state.panic_if_invalid = b->get_bool();
}

// Groups name configured servers and never share a route with one.
void check_groups(reader& r, const config& cfg) {
  for (const auto& g : cfg.groups) {
    const auto path = child_path("$.mcpProxy.groups", g.name);
    auto is_server = [&](std::string_view name) {
      return std::any_of(cfg.servers.begin(), cfg.servers.end(),
                         [&](const server_config& s) { return s.name == name; });
    };
    if (is_server(g.name))
      r.fail(path, "group " + quoted(g.name) +
                       " has the name of a server: both would be served at /" + g.name + "/mcp");
    for (std::size_t j = 0; j < g.servers.size(); ++j)
      if (!is_server(g.servers[j]))
        r.fail(index_path(child_path(path, "servers"), j),
               "no server named " + quoted(g.servers[j]) + " in mcpServers");
  }
}

}  // namespace

void read_root(reader& r, const json::value& root, config& out) {
  root_state state{out};
  if (const auto* o = root.if_object()) scan_root(*o, state);
  if (!r.read_object<root_state>(root, "$", root_keys, state)) return;
  if (!state.has_servers && !state.v1_clients_read)
    r.fail("$", "missing required key \"mcpServers\"");
  // TBXark's V1: a client's tokens, then the global ones (a client without either keeps the
  // default, mcpProxy.options' tokens).
  if (state.v1_clients_read && !state.v1_global_tokens.empty()) {
    for (auto& s : out.servers) {
      s.auth_tokens.insert(s.auth_tokens.end(), state.v1_global_tokens.begin(),
                           state.v1_global_tokens.end());
      s.own_auth_tokens = true;
    }
  }
  if (state.servers_read) check_groups(r, out);
  if (state.servers_read) check_readiness(r, out);
  check_oauth(r, out);
  check_access(r, out);
  // CORS with credentials echoes the origin: with "*" any site could read answers sent with
  // the user's credentials.
  const auto& origins = out.proxy.allowed_origins;
  if (out.proxy.cors_allow_credentials &&
      std::find(origins.begin(), origins.end(), "*") != origins.end())
    r.fail("$.mcpProxy.cors.allowCredentials",
           "cannot be true while allowedOrigins holds \"*\": name the origins");
  // mcpProxy.options filters and tokens are the default of servers without their own (as in
  // TBXark: a server's authTokens replace the global ones, [] included).
  for (auto& s : out.servers) {
    if (!s.own_auth_tokens) s.auth_tokens = out.proxy.auth_tokens;
    if (s.filters.tools.empty()) s.filters.tools = out.proxy.default_filters.tools;
    if (s.filters.prompts.empty()) s.filters.prompts = out.proxy.default_filters.prompts;
    if (s.filters.resources.empty()) s.filters.resources = out.proxy.default_filters.resources;
  }
}

}  // namespace mcp_proxy::config::detail
