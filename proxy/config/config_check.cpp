#include "config/config_check.hpp"

#include "config/config_values.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>

namespace mcp_proxy::config {

namespace json = boost::json;
using detail::child_path;

namespace {

bool is_executable_file(const std::string& file) {
  struct stat st {};
  return ::stat(file.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(file.c_str(), X_OK) == 0;
}

// --- PEM files ----------------------------------------------------------------------------------

using bio_ptr = std::unique_ptr<BIO, decltype(&BIO_free)>;

bio_ptr open_pem(const std::string& file) {
  return bio_ptr(BIO_new_file(file.c_str(), "r"), &BIO_free);
}

// How many certificates a PEM file holds; nullopt when it cannot be opened.
std::optional<std::size_t> count_certificates(const std::string& file) {
  auto bio = open_pem(file);
  if (!bio) return std::nullopt;
  std::size_t n = 0;
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    X509_free(cert);
    ++n;
  }
  ERR_clear_error();
  return n;
}

std::string cannot_open(const std::string& file) {
  return "cannot read " + detail::quoted(file) + ": " + std::strerror(errno ? errno : EIO);
}

void check_certificates(std::vector<config_problem>& out, const std::string& path,
                        const std::string& file, std::string_view what) {
  errno = 0;
  auto n = count_certificates(file);
  if (!n)
    out.push_back({path, cannot_open(file)});
  else if (*n == 0)
    out.push_back({path, detail::quoted(file) + " holds no PEM certificate (expected " +
                             std::string(what) + ")"});
}

// The listener's certificate chain and key: readable PEM, and the key is the certificate's.
void check_listener_tls(std::vector<config_problem>& out, const tls_listener_config& tls) {
  const std::string base = "$.mcpProxy.tls";
  check_certificates(out, base + ".certFile", tls.cert_file, "the certificate chain, leaf first");
  errno = 0;
  auto key_bio = open_pem(tls.key_file);
  if (!key_bio) {
    out.push_back({base + ".keyFile", cannot_open(tls.key_file)});
  } else {
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
        PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr), &EVP_PKEY_free);
    ERR_clear_error();
    auto cert_bio = open_pem(tls.cert_file);
    std::unique_ptr<X509, decltype(&X509_free)> leaf(
        cert_bio ? PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr) : nullptr,
        &X509_free);
    ERR_clear_error();
    if (!key)
      out.push_back({base + ".keyFile", detail::quoted(tls.key_file) +
                                            " holds no PEM private key (an unencrypted key is "
                                            "needed: the proxy asks for no passphrase)"});
    else if (leaf && X509_check_private_key(leaf.get(), key.get()) != 1)
      out.push_back({base + ".keyFile", "is not the key of the first certificate of " +
                                            detail::quoted(tls.cert_file)});
    ERR_clear_error();
  }
  if (!tls.client_ca_file.empty())
    check_certificates(out, base + ".clientCaFile", tls.client_ca_file,
                       "the CA certificates that sign client certificates");
}

// A directory a file would be created in (the audit log).
void check_writable_file(std::vector<config_problem>& out, const std::string& path,
                         const std::string& file) {
  if (::access(file.c_str(), F_OK) == 0) {
    if (::access(file.c_str(), W_OK) != 0)
      out.push_back({path, "cannot write " + detail::quoted(file) + ": " + std::strerror(errno)});
    return;
  }
  auto dir = std::filesystem::path(file).parent_path();
  if (dir.empty()) dir = ".";
  if (::access(dir.c_str(), W_OK | X_OK) != 0)
    out.push_back({path, "cannot create " + detail::quoted(file) + " in " +
                             detail::quoted(dir.string()) + ": " + std::strerror(errno)});
}

void check_server(std::vector<config_problem>& out, const server_config& s,
                  std::string_view path_env) {
  const auto path = child_path("$.mcpServers", s.name);
  if (s.transport == transport_type::stdio) {
    // A relative command with a '/' is found from the server's cwd, as execve would.
    std::string command = s.command;
    if (command.find('/') != std::string::npos && command.front() != '/' && s.cwd)
      command = *s.cwd + "/" + command;
    if (!find_command(command, path_env)) {
      const bool searched = s.command.find('/') == std::string::npos;
      out.push_back({child_path(path, "command"),
                     searched ? "command " + detail::quoted(s.command) + " not found on PATH"
                              : detail::quoted(s.command) + " is not an executable file"});
    }
    if (s.cwd) {
      std::error_code ec;
      if (!std::filesystem::is_directory(*s.cwd, ec))
        out.push_back({child_path(path, "cwd"), "no such directory: " + detail::quoted(*s.cwd)});
    }
    return;
  }
  if (s.tls_ca_file)
    check_certificates(out, child_path(path, "tlsCaFile"), *s.tls_ca_file,
                       "CA certificates to trust for this server");
}

// --- the view -----------------------------------------------------------------------------------

const std::array<std::string_view, 9> secret_words = {
    "token", "secret", "pass", "key", "auth", "credential", "cookie", "session", "private"};

std::string duration_text(std::chrono::milliseconds d) {
  if (d.count() == 0) return "0";
  if (d.count() % 1000 != 0) return std::to_string(d.count()) + "ms";
  return std::to_string(d.count() / 1000) + "s";
}

json::array strings(const std::vector<std::string>& v) {
  json::array a;
  for (const auto& s : v) a.emplace_back(s);
  return a;
}

// Userinfo passwords and query values of a URL.
std::string redact_url(const std::string& text) {
  auto parsed = boost::urls::parse_uri_reference(text);
  if (!parsed) return std::string(redacted);
  boost::urls::url u(*parsed);
  if (u.has_password()) u.set_password(redacted);
  if (u.has_query()) {
    std::string query;
    for (auto p : u.encoded_params()) {
      if (!query.empty()) query += '&';
      query += std::string_view(p.key.data(), p.key.size());
      if (p.has_value) query += "=" + std::string(redacted);
    }
    u.set_encoded_query(query);
  }
  return std::string(u.buffer());
}

json::object secret_map(const std::map<std::string, std::string>& m) {
  json::object o;
  for (const auto& [k, v] : m) o[k] = name_looks_secret(k) ? std::string(redacted) : v;
  return o;
}

json::array redacted_args(const std::vector<std::string>& args) {
  json::array a;
  bool next_is_secret = false;
  for (const auto& arg : args) {
    if (next_is_secret) {
      a.emplace_back(redacted);
      next_is_secret = false;
      continue;
    }
    const bool flag = arg.starts_with("-");
    const auto eq = arg.find('=');
    if (flag && eq != std::string::npos && name_looks_secret(std::string_view(arg).substr(0, eq))) {
      a.emplace_back(arg.substr(0, eq + 1) + std::string(redacted));
      continue;
    }
    if (flag && eq == std::string::npos && name_looks_secret(arg)) next_is_secret = true;
    a.emplace_back(arg);
  }
  return a;
}

json::array tokens_view(const std::vector<auth_token>& tokens) {
  json::array a;
  for (const auto& t : tokens) {
    if (t.name.empty())
      a.emplace_back(redacted);
    else
      a.emplace_back(json::object{{"name", t.name}, {"token", redacted}});
  }
  return a;
}

json::value filter_view(const name_filter& f) {
  if (f.empty()) return nullptr;
  return json::object{{"mode", f.mode == name_filter::filter_mode::allow ? "allow" : "block"},
                      {"list", strings(f.patterns)}};
}

void add_filters(json::object& o, const item_filters& f) {
  if (!f.tools.empty()) o["toolFilter"] = filter_view(f.tools);
  if (!f.prompts.empty()) o["promptFilter"] = filter_view(f.prompts);
  if (!f.resources.empty()) o["resourceFilter"] = filter_view(f.resources);
}

json::object server_view(const server_config& s) {
  json::object o;
  o["transportType"] = detail::transport_name(s.transport);
  if (s.transport == transport_type::stdio) {
    o["command"] = s.command;
    o["args"] = redacted_args(s.args);
    o["env"] = secret_map(s.env);
    if (s.cwd) o["cwd"] = *s.cwd;
  } else {
    o["url"] = redact_url(s.url);
    if (s.detect_transport) o["transportDetected"] = true;
    o["headers"] = secret_map(s.headers);
    if (s.client_credentials.enabled()) {
      const auto& cc = s.client_credentials;
      json::object c{{"tokenEndpoint", redact_url(cc.token_endpoint)},
                     {"clientId", cc.client_id},
                     {"clientSecret", redacted}};
      if (!cc.scope.empty()) c["scope"] = cc.scope;
      if (!cc.resource.empty()) c["resource"] = cc.resource;
      if (!cc.audience.empty()) c["audience"] = cc.audience;
      if (!cc.ca_file.empty()) c["caFile"] = cc.ca_file;
      o["clientCredentials"] = std::move(c);
    }
    if (s.tls_ca_file) o["tlsCaFile"] = *s.tls_ca_file;
    o["tlsInsecureSkipVerify"] = s.tls_insecure_skip_verify;
    o["maxRetryWait"] = duration_text(s.max_retry_wait);
  }
  o["timeout"] = duration_text(s.timeout);
  o["pingInterval"] = duration_text(s.ping_interval);
  o["pingMisses"] = s.ping_misses;
  o["maxMessageBytes"] = s.max_message_bytes;
  o["logLinesPerSecond"] = s.log_lines_per_second;
  o["callBacklogEvents"] = s.call_backlog_events;
  o["callBacklogBytes"] = s.call_backlog_bytes;
  o["sessionMode"] = s.mode == session_mode::per_client ? "per-client" : "shared";
  o["protocol"] = s.era == backend_era::modern   ? "2026-07-28"
                  : s.era == backend_era::legacy ? "2025-11-25"
                                                 : "auto";
  o["disabled"] = s.disabled;
  if (s.prefix) o["prefix"] = *s.prefix;
  json::object options{{"panicIfInvalid", s.panic_if_invalid},
                       {"logEnabled", s.log_enabled},
                       {"authTokens", tokens_view(s.auth_tokens)}};
  add_filters(options, s.filters);
  if (!s.required_scopes.empty()) options["requiredScopes"] = strings(s.required_scopes);
  if (!s.tool_scopes.empty()) {
    json::object scopes;
    for (const auto& rule : s.tool_scopes) scopes[rule.pattern] = strings(rule.scopes);
    options["toolScopes"] = std::move(scopes);
  }
  o["options"] = std::move(options);
  return o;
}

json::object oauth_view(const oauth_config& a) {
  json::object o{{"issuer", a.issuer},
                 {"authorizationServers", strings(a.authorization_servers)},
                 {"audiences", strings(a.audiences)},
                 {"algorithms", strings(a.algorithms)},
                 {"clockSkew", duration_text(a.clock_skew)},
                 {"requiredScopes", strings(a.required_scopes)}};
  if (!a.jwks_file.empty()) o["jwksFile"] = a.jwks_file;
  if (!a.jwks_uri.empty()) o["jwksUri"] = redact_url(a.jwks_uri);
  if (a.ca_file) o["caFile"] = *a.ca_file;
  if (a.introspection)
    o["introspection"] = json::object{{"endpoint", redact_url(a.introspection->endpoint)},
                                      {"clientId", a.introspection->client_id},
                                      {"clientSecret", redacted},
                                      {"cacheTTL", duration_text(a.introspection->cache_ttl)}};
  if (!a.resource_name.empty()) o["resourceName"] = a.resource_name;
  return o;
}

json::object proxy_view(const config& c) {
  const auto& p = c.proxy;
  // The address as the listener reads it (":9090" is loopback).
  std::string addr = p.addr;
  if (auto la = parse_listen_address(p.addr)) {
    const bool v6 = la->host.find(':') != std::string::npos;
    addr = (v6 ? "[" + la->host + "]" : la->host) + ":" + std::to_string(la->port);
  }
  json::object o{
      {"addr", addr},
      {"name", p.name},
      {"version", p.version},
      {"aggregate", p.aggregate},
      {"toolNameSeparator", p.tool_name_separator},
      {"pageSize", p.page_size},
      {"listCacheTTL", duration_text(p.list_cache_ttl)},
      {"fanOutTimeout", duration_text(p.fan_out_timeout)},
      {"closeStreamAfter", duration_text(p.close_stream_after)},
      {"allowedOrigins", strings(p.allowed_origins)},
      {"allowedHosts", strings(p.allowed_hosts)},
      {"allowUnauthenticated", p.allow_unauthenticated},
      {"maxBodyBytes", p.max_body_bytes},
      {"maxJsonDepth", p.max_json_depth},
      {"maxConnections", p.max_connections},
      {"maxConnectionsPerPeer", p.max_connections_per_peer},
      {"headerTimeout", duration_text(p.header_timeout)},
      {"maxHeaderBytes", p.max_header_bytes},
      {"maxHeaders", p.max_headers},
      {"getStream", p.get_stream},
      {"replayEvents", p.replay_events},
      {"replayStreams", p.replay_streams},
      {"replayBytes", p.replay_bytes},
      {"sessionIdleTimeout", duration_text(p.session_idle_timeout)},
      {"shutdownGrace", duration_text(p.shutdown_grace)},
      {"maxSessions", p.max_sessions},
      {"maxSessionsPerPeer", p.max_sessions_per_peer},
      {"maxPerClientBackends", p.max_per_client_backends},
      {"cors", json::object{{"allowCredentials", p.cors_allow_credentials},
                            {"maxAge", duration_text(p.cors_max_age)}}},
  };
  if (!p.base_url.empty()) o["baseURL"] = redact_url(p.base_url);
  if (!p.audit_log.empty()) o["auditLog"] = p.audit_log;
  if (!p.log_level.empty()) o["logLevel"] = p.log_level;
  if (!p.log_format.empty()) o["logFormat"] = p.log_format;
  o["metrics"] = json::object{
      {"enabled", p.metrics.enabled}, {"endpointPath", p.metrics.path}, {"addr", p.metrics.addr}};
  json::object options{{"authTokens", tokens_view(p.auth_tokens)}};
  add_filters(options, p.default_filters);
  o["options"] = std::move(options);
  if (p.tls.enabled()) {
    using certs = tls_listener_config::client_certs;
    json::object t{
        {"certFile", p.tls.cert_file},
        {"keyFile", p.tls.key_file},
        {"minVersion", p.tls.tls13_only ? "1.3" : "1.2"},
        {"clientCertificates", p.tls.client_certificates == certs::required   ? "required"
                               : p.tls.client_certificates == certs::optional ? "optional"
                                                                              : "none"}};
    if (!p.tls.client_ca_file.empty()) t["clientCaFile"] = p.tls.client_ca_file;
    o["tls"] = std::move(t);
  }
  if (p.oauth.enabled) o["oauth"] = oauth_view(p.oauth);
  // Access rules and limits are shown by their count: their full form is the file's.
  if (p.access.enabled)
    o["access"] = json::object{{"default", p.access.default_allow ? "allow" : "deny"},
                               {"rules", p.access.rules.size()}};
  if (p.limits) o["limits"] = json::object{{"principals", p.limits->per_principal.size()}};
  const auto& rule = p.readiness.rule;
  if (rule.rule == protocol::readiness_rule::kind::servers)
    o["readiness"] = json::object{{"servers", strings(rule.servers)}};
  else
    o["readiness"] = rule.rule == protocol::readiness_rule::kind::any ? "any" : "all";
  if (!c.groups.empty()) {
    json::object groups;
    for (const auto& g : c.groups) {
      json::object go{{"servers", strings(g.servers)}};
      add_filters(go, g.filters);
      if (!g.required_scopes.empty()) go["requiredScopes"] = strings(g.required_scopes);
      groups[g.name] = std::move(go);
    }
    o["groups"] = std::move(groups);
  }
  return o;
}

}  // namespace

std::optional<std::string> find_command(std::string_view command, std::string_view path_env) {
  if (command.empty()) return std::nullopt;
  if (command.find('/') != std::string_view::npos) {
    std::string file(command);
    if (is_executable_file(file)) return file;
    return std::nullopt;
  }
  // An empty PATH entry is the current directory, as for execvp.
  std::size_t start = 0;
  for (;;) {
    const auto end = path_env.find(':', start);
    auto dir = path_env.substr(start, end == std::string_view::npos ? end : end - start);
    std::string file =
        (dir.empty() ? std::string(".") : std::string(dir)) + "/" + std::string(command);
    if (is_executable_file(file)) return file;
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return std::nullopt;
}

bool name_looks_secret(std::string_view name) {
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return std::any_of(secret_words.begin(), secret_words.end(),
                     [&](std::string_view w) { return lower.find(w) != std::string::npos; });
}

std::vector<config_problem> check_environment(const config& c,
                                              std::optional<std::string> path_env) {
  if (!path_env) {
    const char* p = std::getenv("PATH");
    // execvp's default when PATH is unset.
    path_env = p ? p : "/bin:/usr/bin";
  }
  std::vector<config_problem> out;
  if (c.proxy.tls.enabled()) check_listener_tls(out, c.proxy.tls);
  if (!c.proxy.audit_log.empty() && c.proxy.audit_log != "stderr")
    check_writable_file(out, "$.mcpProxy.auditLog", c.proxy.audit_log);
  for (const auto& s : c.servers)
    if (!s.disabled) check_server(out, s, *path_env);
  return out;
}

json::value resolved_view(const config& c) {
  json::object servers;
  for (const auto& s : c.servers) servers[s.name] = server_view(s);
  return json::object{{"mcpProxy", proxy_view(c)}, {"mcpServers", std::move(servers)}};
}

}  // namespace mcp_proxy::config
