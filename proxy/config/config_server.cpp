// An entry of mcpServers: its key table, and the transport it ends up with.

#include "config/config_reader.hpp"

#include <boost/url/parse.hpp>

#include <sstream>
#include <utility>

namespace mcp_proxy::config::detail {

namespace json = boost::json;

namespace {

// A server as it is read. The transport needs every key first: "url" may come after "type".
struct server_state {
  server_config& out;
  std::optional<std::string> command = {}, url = {};  // when read without error
  bool has_command = false, has_url = false;          // the keys are there, good or bad
  // The explicit transport and the key that gave it, for messages.
  std::optional<transport_type> explicit_transport = {};
  std::string explicit_path = {};
  bool options_disabled = false;
};

std::optional<std::string> nul_check(const std::string& value) {
  if (contains_nul(value)) return "must not contain a NUL character";
  return std::nullopt;
}

// A process string: non-empty, and no NUL (execve would cut it there).
bool read_process_string(reader& r, const json::value& v, std::string_view path, std::string& out) {
  if (!r.read_non_empty_string(v, path, out)) return false;
  if (auto problem = nul_check(out)) return r.fail(path, *problem);
  return true;
}

void read_command(reader& r, const json::value& v, std::string_view path, server_state& s) {
  s.has_command = true;
  std::string command;
  if (read_process_string(r, v, path, command)) s.command = std::move(command);
}

void read_args(reader& r, const json::value& v, std::string_view path, server_state& s) {
  r.read_string_array(v, path, s.out.args, nul_check);
}

void read_env(reader& r, const json::value& v, std::string_view path, server_state& s) {
  r.read_string_map(v, path, s.out.env, [](const std::string& name, const std::string& value) {
    if (name.empty() || name.find('=') != std::string::npos || contains_nul(name))
      return std::optional<std::string>("invalid environment variable name (empty, or has '=')");
    return nul_check(value);
  });
}

void read_cwd(reader& r, const json::value& v, std::string_view path, server_state& s) {
  std::string cwd;
  if (read_process_string(r, v, path, cwd)) s.out.cwd = std::move(cwd);
}

void read_url(reader& r, const json::value& v, std::string_view path, server_state& s) {
  s.has_url = true;
  std::string url;
  if (r.read_non_empty_string(v, path, url)) s.url = std::move(url);
}

void read_headers(reader& r, const json::value& v, std::string_view path, server_state& s) {
  r.read_string_map(v, path, s.out.headers, [](const std::string& name, const std::string& value) {
    std::optional<std::string> problem;
    if (!is_header_token(name))
      problem = "invalid HTTP header name";
    else if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos)
      problem = "header value must not contain CR, LF or NUL";
    return problem;
  });
}

// --- clientCredentials (RFC 6749 section 4.4) ---------------------------------------------------

// The token endpoint: an https URL (http to a loopback host only) without a fragment (RFC 6749
// section 3.2).
void read_token_endpoint(reader& r, const json::value& v, std::string_view path,
                         client_credentials_config& c) {
  if (!read_endpoint_url(r, v, path, c.token_endpoint)) return;
  if (auto u = boost::urls::parse_uri(c.token_endpoint); u && u->has_fragment())
    r.fail(path, "must not have a fragment (RFC 6749 section 3.2)");
}

void read_cc_client_id(reader& r, const json::value& v, std::string_view path,
                       client_credentials_config& c) {
  r.read_non_empty_string(v, path, c.client_id);
}

void read_cc_client_secret(reader& r, const json::value& v, std::string_view path,
                           client_credentials_config& c) {
  r.read_non_empty_string(v, path, c.client_secret);
}

void read_cc_client_secret_file(reader& r, const json::value& v, std::string_view path,
                                client_credentials_config& c) {
  read_secret_file(r, v, path, c.client_secret);
}

// A space-separated string of scopes, or an array of them (RFC 6749 section 3.3), each checked
// as read_scope_list checks an array's.
void read_cc_scope(reader& r, const json::value& v, std::string_view path,
                   client_credentials_config& c) {
  std::vector<std::string> scopes;
  json::value list = v;
  if (const auto* text = v.if_string()) {
    json::array words;
    std::istringstream in{std::string(*text)};
    for (std::string word; in >> word;) words.emplace_back(word);
    if (words.empty()) {
      r.fail(path, "must name at least one scope");
      return;
    }
    list = std::move(words);
  }
  if (!read_scope_list(r, list, path, scopes)) return;
  c.scope.clear();
  for (const auto& s : scopes) {
    if (!c.scope.empty()) c.scope += ' ';
    c.scope += s;
  }
}

// RFC 8707 section 2: an absolute URI without a fragment.
void read_cc_resource(reader& r, const json::value& v, std::string_view path,
                      client_credentials_config& c) {
  if (!r.read_non_empty_string(v, path, c.resource)) return;
  auto u = boost::urls::parse_absolute_uri(c.resource);
  if (!u) r.fail(path, "expected an absolute URI without a fragment (RFC 8707 section 2)");
}

void read_cc_audience(reader& r, const json::value& v, std::string_view path,
                      client_credentials_config& c) {
  r.read_non_empty_string(v, path, c.audience);
}

void read_cc_ca_file(reader& r, const json::value& v, std::string_view path,
                     client_credentials_config& c) {
  std::string file, text;
  if (read_readable_file(r, v, path, file, text)) c.ca_file = std::move(file);
}

constexpr auto client_credentials_keys = std::to_array<key_rule<client_credentials_config>>({
    {"tokenEndpoint", read_token_endpoint},
    {"clientId", read_cc_client_id},
    {"clientSecret", read_cc_client_secret},
    {"clientSecretFile", read_cc_client_secret_file},
    {"scope", read_cc_scope},
    {"resource", read_cc_resource},
    {"audience", read_cc_audience},
    {"caFile", read_cc_ca_file},
});

void read_client_credentials(reader& r, const json::value& v, std::string_view path,
                             server_state& s) {
  auto& c = s.out.client_credentials;
  if (!r.read_object<client_credentials_config>(v, path, client_credentials_keys, c)) return;
  const auto& o = v.get_object();
  if (!o.contains("tokenEndpoint")) r.fail(path, "missing required key \"tokenEndpoint\"");
  if (!o.contains("clientId")) r.fail(path, "missing required key \"clientId\"");
  const bool secret = o.contains("clientSecret"), secret_file = o.contains("clientSecretFile");
  if (secret && secret_file)
    r.fail(path, "set one of \"clientSecret\" and \"clientSecretFile\", not both");
  else if (!secret && !secret_file)
    r.fail(path,
           "missing \"clientSecret\" or \"clientSecretFile\" (RFC 6749 section 2.3.1: the "
           "token endpoint needs the proxy's own credentials)");
}

// With clientCredentials, a configured Authorization header is replaced by the bearer token.
void warn_overridden_authorization(reader& r, std::string_view path, const server_config& s) {
  if (!s.client_credentials.enabled()) return;
  for (const auto& [name, value] : s.headers)
    if (ascii_iequals(name, "authorization"))
      r.warn(child_path(child_path(path, "headers"), name),
             "replaced by the access token of \"clientCredentials\" (it sets Authorization on "
             "every request)");
}

void read_server_timeout(reader& r, const json::value& v, std::string_view path, server_state& s) {
  r.read_timeout(v, path, s.out.timeout);
}

// A key read straight into a field of server_config.
template <auto read_value, auto field>
void server_field(reader& r, const json::value& v, std::string_view path, server_state& s) {
  (r.*read_value)(v, path, s.out.*field);
}

void read_tls_ca_file(reader& r, const json::value& v, std::string_view path, server_state& s) {
  std::string file;
  if (read_process_string(r, v, path, file)) s.out.tls_ca_file = std::move(file);
}

void read_tls_insecure_skip_verify(reader& r, const json::value& v, std::string_view path,
                                   server_state& s) {
  r.read_bool(v, path, s.out.tls_insecure_skip_verify);
}

// "transportType" is TBXark's key; "type" is Claude's (which also says "http").
template <bool claude_type_key>
void read_transport(reader& r, const json::value& v, std::string_view path, server_state& s) {
  std::string name;
  if (!r.read_string(v, path, name)) return;
  auto t = transport_from_name(name, claude_type_key);
  if (!t) {
    r.fail(path, std::string("expected \"stdio\", \"sse\"") +
                     (claude_type_key ? ", \"http\"" : "") + " or \"streamable-http\", got " +
                     quoted(name));
    return;
  }
  if (s.explicit_transport && *s.explicit_transport != *t) {
    r.fail(path, "conflicts with " + s.explicit_path + " (" +
                     std::string(transport_name(*s.explicit_transport)) + ")");
    return;
  }
  s.explicit_transport = t;
  s.explicit_path = std::string(path);
}

void read_session_mode(reader& r, const json::value& v, std::string_view path, server_state& s) {
  std::string mode;
  if (!r.read_string(v, path, mode)) return;
  if (mode == "shared")
    s.out.mode = session_mode::shared;
  else if (mode == "per-client")
    s.out.mode = session_mode::per_client;
  else
    r.fail(path, "expected \"shared\" or \"per-client\", got " + quoted(mode));
}

void read_protocol(reader& r, const json::value& v, std::string_view path, server_state& s) {
  std::string era;
  if (!r.read_string(v, path, era)) return;
  if (era == "auto")
    s.out.era = backend_era::detect;
  else if (era == "2026-07-28")
    s.out.era = backend_era::modern;
  else if (era == "2025-11-25")
    s.out.era = backend_era::legacy;
  else
    r.fail(path, "expected \"auto\", \"2026-07-28\" or \"2025-11-25\", got " + quoted(era));
}

void read_ping_interval(reader& r, const json::value& v, std::string_view path, server_state& s) {
  std::chrono::milliseconds interval{};
  if (!r.read_duration_or_zero(v, path, interval)) return;
  // Each ping's answer is due before the next: shorter than this restarts healthy backends.
  if (interval.count() != 0 && interval < std::chrono::milliseconds(100)) {
    r.fail(path, "must be 0 (no pings) or at least 100ms");
    return;
  }
  s.out.ping_interval = interval;
}

void read_disabled(reader& r, const json::value& v, std::string_view path, server_state& s) {
  r.read_bool(v, path, s.out.disabled);
}

void read_options(reader& r, const json::value& v, std::string_view path, server_state& s) {
  read_server_options(r, v, path, s.out, s.options_disabled);
}

void read_prefix(reader& r, const json::value& v, std::string_view path, server_state& s) {
  std::string prefix;
  if (!r.read_string(v, path, prefix)) return;
  if (!protocol_name_chars(prefix)) {
    r.fail(path, "expected characters of A-Z a-z 0-9 _ - (tool names allow no others), got " +
                     quoted(prefix));
    return;
  }
  s.out.prefix = std::move(prefix);
}

constexpr auto server_keys = std::to_array<key_rule<server_state>>({
    {"command", read_command},
    {"args", read_args, key_use::stdio_only},
    {"env", read_env, key_use::stdio_only},
    {"cwd", read_cwd, key_use::stdio_only},
    {"url", read_url},
    {"headers", read_headers, key_use::http_only},
    {"clientCredentials", read_client_credentials, key_use::http_only},
    {"timeout", read_server_timeout},
    {"maxMessageBytes",
     server_field<&reader::read_positive_integer, &server_config::max_message_bytes>},
    {"logLinesPerSecond",
     server_field<&reader::read_positive_integer, &server_config::log_lines_per_second>},
    {"callBacklogEvents",
     server_field<&reader::read_positive_integer, &server_config::call_backlog_events>},
    {"callBacklogBytes",
     server_field<&reader::read_positive_integer, &server_config::call_backlog_bytes>},
    {"maxRetryWait", server_field<&reader::read_timeout, &server_config::max_retry_wait>,
     key_use::http_only},
    {"pingInterval", read_ping_interval},
    {"pingMisses", server_field<&reader::read_positive_integer, &server_config::ping_misses>},
    {"tlsCaFile", read_tls_ca_file, key_use::http_only},
    {"tlsInsecureSkipVerify", read_tls_insecure_skip_verify, key_use::http_only},
    {"transportType", read_transport<false>},
    {"type", read_transport<true>},
    {"sessionMode", read_session_mode},
    {"protocol", read_protocol},
    {"disabled", read_disabled},
    {"options", read_options},
    {"prefix", read_prefix},
});

// Warns about each key of `server` that the server's transport ignores.
void warn_ignored_keys(reader& r, const json::object& server, std::string_view path,
                       key_use ignored, std::string_view why) {
  for (const auto& kv : server) {
    std::string_view key(kv.key().data(), kv.key().size());
    const auto* rule = find_rule<server_state>(server_keys, key);
    if (rule && rule->use == ignored) r.warn(child_path(path, key), why);
  }
}

void resolve_stdio(reader& r, const json::object& server, std::string_view path, server_state& s) {
  if (s.explicit_transport && *s.explicit_transport != transport_type::stdio)
    r.fail(s.explicit_path, std::string(transport_name(*s.explicit_transport)) +
                                " needs a \"url\", but the server has a \"command\"");
  if (!s.command) return;  // its error is recorded
  s.out.transport = transport_type::stdio;
  s.out.command = std::move(*s.command);
  warn_ignored_keys(r, server, path, key_use::http_only, "ignored for a stdio server");
}

void resolve_http(reader& r, const json::object& server, std::string_view path, server_state& s) {
  if (!s.url) return;  // its error is recorded
  auto normalized = normalize_http_url(*s.url);
  // The url may carry a key (as in ?key=...), so it is not echoed.
  if (!normalized) r.fail(child_path(path, "url"), "expected an absolute http or https URL");
  if (s.explicit_transport == transport_type::stdio)
    r.fail(s.explicit_path, "stdio needs a \"command\", but the server has a \"url\"");
  if (!normalized || s.explicit_transport == transport_type::stdio) return;
  if (s.explicit_transport) {
    s.out.transport = *s.explicit_transport;
  } else {
    bool sse_path = url_path_ends_in_sse(*normalized);
    s.out.transport = sse_path ? transport_type::sse : transport_type::streamable_http;
    // Not said: Streamable HTTP first, legacy SSE if the server refuses it (spec 2025-11-25
    // basic/transports, backwards compatibility).
    s.out.detect_transport = !sse_path;
  }
  s.out.url = std::move(*normalized);
  warn_ignored_keys(r, server, path, key_use::stdio_only, "ignored for a server with a url");
  warn_overridden_authorization(r, path, s.out);
  // The legacy HTTP+SSE transport (2024-11-05) has no 2026-07-28 era to detect.
  if (s.out.transport == transport_type::sse) {
    if (s.out.era == backend_era::modern)
      r.fail(child_path(path, "protocol"),
             "\"2026-07-28\" has no legacy HTTP+SSE transport: use a Streamable HTTP url");
    s.out.era = backend_era::legacy;
  }
}

// What is checked once every key of a server object is read: its transport.
void finish_server(reader& r, const json::object& server, std::string_view path, server_state& s) {
  s.out.disabled = s.out.disabled || s.options_disabled;
  if (s.has_command && s.has_url)
    r.fail(path, "has both \"command\" and \"url\": a server is either a command (stdio) or a url");
  else if (!s.has_command && !s.has_url)
    r.fail(path, "needs \"command\" (a stdio server) or \"url\" (an HTTP server)");
  else if (s.has_command)
    resolve_stdio(r, server, path, s);
  else
    resolve_http(r, server, path, s);
}

// The entry's name, recorded even when invalid (see read_server in config_reader.hpp).
void name_server(reader& r, std::string_view name, std::string_view path, server_config& out) {
  out.name = std::string(name);
  if (!is_valid_server_name(name))
    r.fail(path, "invalid server name " + quoted(name) +
                     ": use 1 to 64 of A-Z a-z 0-9 _ . - (names become URL path segments)");
}

// --- TBXark's older (V1) format: {"clients": {NAME: {"type", "config", ...}}} -------------------

struct v1_client_state {
  server_config& out;
  std::optional<transport_type> type = {};
  std::string type_path = {};
  bool has_type = false;
  const json::value* config = nullptr;
  std::string config_path = {};
  bool has_tokens = false;
};

void read_v1_type(reader& r, const json::value& v, std::string_view path, v1_client_state& c) {
  c.has_type = true;
  std::string name;
  if (!r.read_string(v, path, name)) return;
  c.type = transport_from_name(name, false);
  if (!c.type)
    r.fail(path, "expected \"stdio\", \"sse\" or \"streamable-http\", got " + quoted(name));
  c.type_path = std::string(path);
}

void read_v1_config(reader&, const json::value& v, std::string_view path, v1_client_state& c) {
  c.config = &v;
  c.config_path = std::string(path);
}

template <bool server_config::*field>
void read_v1_flag(reader& r, const json::value& v, std::string_view path, v1_client_state& c) {
  r.read_bool(v, path, c.out.*field);
}

void read_v1_tokens(reader& r, const json::value& v, std::string_view path, v1_client_state& c) {
  c.has_tokens = true;
  read_auth_token_list(r, v, path, c.out.auth_tokens);
}

constexpr auto v1_client_keys = std::to_array<key_rule<v1_client_state>>({
    {"type", read_v1_type},
    {"config", read_v1_config},
    {"panicIfInvalid", read_v1_flag<&server_config::panic_if_invalid>},
    {"logEnabled", read_v1_flag<&server_config::log_enabled>},
    {"authTokens", read_v1_tokens},
});

}  // namespace

void read_server(reader& r, std::string_view name, const json::value& v, std::string_view path,
                 server_config& out) {
  name_server(r, name, path, out);
  server_state s{out};
  if (!r.read_object<server_state>(v, path, server_keys, s)) return;
  finish_server(r, v.get_object(), path, s);
}

void read_v1_client(reader& r, std::string_view name, const json::value& v, std::string_view path,
                    server_config& out) {
  name_server(r, name, path, out);
  v1_client_state c{out};
  if (!r.read_object<v1_client_state>(v, path, v1_client_keys, c)) return;
  if (!c.has_type) r.fail(path, "missing required key \"type\" (stdio, sse or streamable-http)");
  if (!c.config) {
    r.fail(path, "missing required key \"config\"");
    return;
  }
  out.own_auth_tokens = c.has_tokens;
  // "config" holds what a V2 server entry holds, its transport given by "type".
  server_state s{out};
  s.explicit_transport = c.type;
  s.explicit_path = c.type_path;
  if (!r.read_object<server_state>(*c.config, c.config_path, server_keys, s)) return;
  // An invalid "type" is reported; the transport's own checks would only repeat it.
  if (c.has_type && !c.type) return;
  finish_server(r, c.config->get_object(), c.config_path, s);
}

}  // namespace mcp_proxy::config::detail
