// The key tables of the root, mcpProxy, options and groups, and the readers they name. A server
// entry's table is in config_server.cpp.

#include "config/config_reader.hpp"

#include "protocol/bearer_auth.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>

#include <utility>

namespace mcp_proxy::config::detail {

namespace json = boost::json;

namespace {

// Reads one proxy_config field with one of the reader's value readers.
template <auto read_value, auto field>
void proxy_field(reader& r, const json::value& v, std::string_view path, config& c) {
  (r.*read_value)(v, path, c.proxy.*field);
}

// --- options: mcpProxy.options and a server's options --------------------------------------------

struct options_state {
  item_filters& filters;
  // options.authTokens and authTokensFile together; nullopt when neither key is there.
  std::optional<std::vector<auth_token>>& auth_tokens;
  bool disabled = false;            // a server's options.disabled
  server_config* server = nullptr;  // reading a server's options
};

void check_bool(reader& r, const json::value& v, std::string_view path, options_state&) {
  bool unused = false;
  r.read_bool(v, path, unused);
}

// A token must fit an Authorization header (RFC 6750 section 2.1: b64token).
bool check_token(reader& r, std::string_view path, const auth_token& t) {
  if (protocol::is_b64token(t.token)) return true;
  return r.fail(path, t.token.empty() ? "a token must not be empty"
                                      : "a token may hold only A-Z a-z 0-9 - . _ ~ + / and "
                                        "trailing = (RFC 6750 b64token)");
}

// Each entry: "TOKEN", or {"name": "ci", "token": "TOKEN"} (the name identifies the caller in
// logs and the audit; the token never appears there).
void read_auth_tokens(reader& r, const json::value& v, std::string_view path, options_state& o) {
  const auto* a = v.if_array();
  if (!a) {
    r.type_error(path, "an array of tokens", v);
    return;
  }
  if (!o.auth_tokens) o.auth_tokens.emplace();
  auto& out = *o.auth_tokens;
  for (std::size_t i = 0; i < a->size(); ++i) {
    const auto p = index_path(path, i);
    const auto& e = (*a)[i];
    auth_token t;
    if (const auto* obj = e.if_object()) {
      for (const auto& kv : *obj) {
        const std::string_view key(kv.key().data(), kv.key().size());
        if (key == "name")
          r.read_non_empty_string(kv.value(), child_path(p, key), t.name);
        else if (key == "token")
          r.read_string(kv.value(), child_path(p, key), t.token);
        else
          r.warn(child_path(p, key), "unknown key (a token entry has \"name\" and \"token\")");
      }
      if (!obj->contains("token")) {
        r.fail(p, "missing required key \"token\"");
        continue;
      }
      if (check_token(r, child_path(p, "token"), t)) out.push_back(std::move(t));
    } else if (r.read_string(e, p, t.token) && check_token(r, p, t)) {
      out.push_back(std::move(t));
    }
  }
}

// One token a line: "TOKEN" or "NAME:TOKEN" (a token holds no ':'); blank lines and lines
// starting with '#' are skipped.
void read_auth_tokens_file(reader& r, const json::value& v, std::string_view path,
                           options_state& o) {
  std::string file;
  if (!r.read_non_empty_string(v, path, file)) return;
  if (!o.auth_tokens) o.auth_tokens.emplace();
  auto& out = *o.auth_tokens;
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    r.fail(path, "cannot read " + quoted(file) + ": " + std::strerror(errno));
    return;
  }
  warn_if_others_can_read(r, path, file);
  std::string line;
  for (std::size_t no = 1; std::getline(in, line); ++no) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const auto first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[first] == '#') continue;
    const auto last = line.find_last_not_of(" \t");
    std::string_view entry = std::string_view(line).substr(first, last - first + 1);
    auth_token t;
    if (const auto colon = entry.rfind(':'); colon != std::string_view::npos) {
      t.name = std::string(entry.substr(0, colon));
      entry.remove_prefix(colon + 1);
    }
    t.token = std::string(entry);
    if (check_token(r, std::string(path) + " (" + file + " line " + std::to_string(no) + ")", t))
      out.push_back(std::move(t));
  }
}

template <name_filter item_filters::*which>
void options_filter(reader& r, const json::value& v, std::string_view path, options_state& o) {
  r.read_filter(v, path, o.filters.*which);
}

void read_options_disabled(reader& r, const json::value& v, std::string_view path,
                           options_state& o) {
  r.read_bool(v, path, o.disabled);
}

constexpr auto proxy_option_keys = std::to_array<key_rule<options_state>>({
    {"panicIfInvalid", check_bool, key_use::no_effect},
    {"logEnabled", check_bool, key_use::no_effect},
    {"authTokens", read_auth_tokens},
    {"authTokensFile", read_auth_tokens_file},
    {"toolFilter", options_filter<&item_filters::tools>},
    {"promptFilter", options_filter<&item_filters::prompts>},
    {"resourceFilter", options_filter<&item_filters::resources>},
});

void read_options_required_scopes(reader& r, const json::value& v, std::string_view path,
                                  options_state& o) {
  read_scope_list(r, v, path, o.server->required_scopes);
}

void read_options_tool_scopes(reader& r, const json::value& v, std::string_view path,
                              options_state& o) {
  read_tool_scopes(r, v, path, o.server->tool_scopes);
}

constexpr auto server_option_keys =
    joined(proxy_option_keys, std::to_array<key_rule<options_state>>({
                                  {"disabled", read_options_disabled},
                                  {"requiredScopes", read_options_required_scopes},
                                  {"toolScopes", read_options_tool_scopes},
                              }));

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

void read_proxy_options(reader& r, const json::value& v, std::string_view path, config& c) {
  std::optional<std::vector<auth_token>> tokens;
  options_state o{c.proxy.default_filters, tokens};
  r.read_object<options_state>(v, path, proxy_option_keys, o);
  if (tokens) c.proxy.auth_tokens = std::move(*tokens);
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
    {"auditLog", proxy_field<&reader::read_non_empty_string, &proxy_config::audit_log>},
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
});

// --- the root ------------------------------------------------------------------------------------

struct root_state {
  config& out;
  bool has_servers = false;   // "mcpServers" is there
  bool servers_read = false;  // and is an object: groups can be checked against it
};

void read_mcp_proxy(reader& r, const json::value& v, std::string_view path, root_state& root) {
  r.read_object<config>(v, path, proxy_keys, root.out);
}

void read_mcp_servers(reader& r, const json::value& v, std::string_view path, root_state& root) {
  root.has_servers = true;
  const auto* o = v.if_object();
  if (!o) {
    r.type_error(path, "an object", v);
    return;
  }
  root.servers_read = true;
  auto& servers = root.out.servers;
  servers.clear();
  servers.reserve(o->size());
  for (const auto& kv : *o) {
    std::string_view name(kv.key().data(), kv.key().size());
    read_server(r, name, kv.value(), child_path(path, name), servers.emplace_back());
  }
  if (servers.empty()) {
    r.warn(path, "no servers configured");
  } else if (std::none_of(servers.begin(), servers.end(),
                          [](const server_config& s) { return !s.disabled; })) {
    r.warn(path, "every server is disabled");
  }
}

constexpr auto root_keys = std::to_array<key_rule<root_state>>({
    {"mcpProxy", read_mcp_proxy},
    {"mcpServers", read_mcp_servers},
});

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

void warn_if_others_can_read(reader& r, std::string_view path, const std::string& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) == 0 && (st.st_mode & 077) != 0)
    r.warn(path, quoted(file) + " can be read by other users than its owner (chmod 600 it)");
}

void read_server_options(reader& r, const json::value& v, std::string_view path,
                         server_config& server, bool& disabled) {
  std::optional<std::vector<auth_token>> tokens;
  options_state o{server.filters, tokens};
  o.server = &server;
  r.read_object<options_state>(v, path, server_option_keys, o);
  disabled = o.disabled;
  if (tokens) {
    server.auth_tokens = std::move(*tokens);
    server.own_auth_tokens = true;
  }
}

void read_root(reader& r, const json::value& root, config& out) {
  root_state state{out};
  if (!r.read_object<root_state>(root, "$", root_keys, state)) return;
  if (!state.has_servers) r.fail("$", "missing required key \"mcpServers\"");
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
