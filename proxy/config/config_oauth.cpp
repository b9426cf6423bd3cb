// mcpProxy.oauth (the proxy as an OAuth 2.1 resource server), the scopes routes and tools need,
// and the checks across the document once it is read.

#include "auth/jwks.hpp"
#include "config/config_reader.hpp"

#include <boost/url/parse.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace mcp_proxy::config::detail {

namespace json = boost::json;

bool read_endpoint_url(reader& r, const json::value& v, std::string_view path, std::string& out) {
  if (!r.read_non_empty_string(v, path, out)) return false;
  auto normalized = normalize_http_url(out);
  if (!normalized) return r.fail(path, "expected an absolute https URL");
  out = std::move(*normalized);
  auto u = boost::urls::parse_uri(out);
  if (u && u->scheme() == "https") return true;
  const std::string host(u ? u->host_address() : std::string());
  if (host == "127.0.0.1" || host == "localhost" || host == "::1" || host.starts_with("127."))
    return true;
  return r.fail(path, "must be https (plain http is allowed to a loopback host only)");
}

bool read_readable_file(reader& r, const json::value& v, std::string_view path, std::string& file,
                        std::string& text) {
  if (!r.read_non_empty_string(v, path, file)) return false;
  std::ifstream in(file, std::ios::binary);
  if (!in) return r.fail(path, "cannot read " + quoted(file) + ": " + std::strerror(errno));
  std::ostringstream s;
  s << in.rdbuf();
  text = s.str();
  return true;
}

bool read_secret_file(reader& r, const json::value& v, std::string_view path, std::string& secret) {
  std::string file, text;
  if (!read_readable_file(r, v, path, file, text)) return false;
  warn_if_others_can_read(r, path, file);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  if (text.empty()) return r.fail(path, quoted(file) + " is empty");
  secret = std::move(text);
  return true;
}

namespace {

struct oauth_state {
  oauth_config& oauth;
};

// An https URL, or http to a loopback host (a local authorization server in tests and
// development: nothing leaves the machine).
void read_issuer(reader& r, const json::value& v, std::string_view path, oauth_state& s) {
  r.read_non_empty_string(v, path, s.oauth.issuer);
}

void read_authorization_servers(reader& r, const json::value& v, std::string_view path,
                                oauth_state& s) {
  r.read_string_array(v, path, s.oauth.authorization_servers,
                      [](const std::string& url) -> std::optional<std::string> {
                        if (normalize_http_url(url)) return std::nullopt;
                        return "expected the issuer URL of an authorization server, got " +
                               quoted(url);
                      });
}

void read_audiences(reader& r, const json::value& v, std::string_view path, oauth_state& s) {
  r.read_string_array(v, path, s.oauth.audiences,
                      [](const std::string& aud) -> std::optional<std::string> {
                        if (!aud.empty()) return std::nullopt;
                        return "an audience must not be empty";
                      });
}

void read_jwks_file(reader& r, const json::value& v, std::string_view path, oauth_state& s) {
  std::string text;
  if (!read_readable_file(r, v, path, s.oauth.jwks_file, text)) return;
  // Checked now, so that a broken file stops the start instead of every token.
  auto set = auth::jwk_set::parse(text);
  if (!set) r.fail(path, quoted(s.oauth.jwks_file) + ": " + set.error());
}

void read_jwks_uri(reader& r, const json::value& v, std::string_view path, oauth_state& s) {
  read_endpoint_url(r, v, path, s.oauth.jwks_uri);
}

void read_ca_file(reader& r, const json::value& v, std::string_view path, oauth_state& s) {
  std::string file, text;
  if (read_readable_file(r, v, path, file, text)) s.oauth.ca_file = file;
}

void read_algorithms(reader& r, const json::value& v, std::string_view path, oauth_state& s) {
  r.read_string_array(v, path, s.oauth.algorithms,
                      [](const std::string& alg) -> std::optional<std::string> {
                        if (auth::alg_from_name(alg)) return std::nullopt;
                        return "expected one of RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 "
                               "EdDSA (never none or HMAC), got " +
                               quoted(alg);
                      });
}

template <std::chrono::milliseconds oauth_config::*field>
void oauth_duration(reader& r, const json::value& v, std::string_view path, oauth_state& s) {
  r.read_timeout(v, path, s.oauth.*field);
}

void read_clock_skew(reader& r, const json::value& v, std::string_view path, oauth_state& s) {
  r.read_duration_or_zero(v, path, s.oauth.clock_skew);
}

// --- introspection -------------------------------------------------------------------------------

void read_introspection_endpoint(reader& r, const json::value& v, std::string_view path,
                                 oauth_introspection& i) {
  read_endpoint_url(r, v, path, i.endpoint);
}
void read_client_id(reader& r, const json::value& v, std::string_view path,
                    oauth_introspection& i) {
  r.read_non_empty_string(v, path, i.client_id);
}
void read_client_secret(reader& r, const json::value& v, std::string_view path,
                        oauth_introspection& i) {
  r.read_non_empty_string(v, path, i.client_secret);
}
void read_client_secret_file(reader& r, const json::value& v, std::string_view path,
                             oauth_introspection& i) {
  read_secret_file(r, v, path, i.client_secret);
}
void read_cache_ttl(reader& r, const json::value& v, std::string_view path,
                    oauth_introspection& i) {
  r.read_duration_or_zero(v, path, i.cache_ttl);
}

constexpr auto introspection_keys = std::to_array<key_rule<oauth_introspection>>({
    {"endpoint", read_introspection_endpoint},
    {"clientId", read_client_id},
    {"clientSecret", read_client_secret},
    {"clientSecretFile", read_client_secret_file},
    {"cacheTTL", read_cache_ttl},
});

void read_introspection(reader& r, const json::value& v, std::string_view path, oauth_state& s) {
  auto& i = s.oauth.introspection.emplace();
  if (!r.read_object<oauth_introspection>(v, path, introspection_keys, i)) return;
  if (i.endpoint.empty()) r.fail(path, "missing required key \"endpoint\"");
  if (i.client_id.empty()) r.fail(path, "missing required key \"clientId\"");
  if (i.client_secret.empty())
    r.fail(path,
           "missing \"clientSecret\" or \"clientSecretFile\" (RFC 7662 section 2.1: the "
           "endpoint needs the proxy's own credentials)");
}

// --- scopes --------------------------------------------------------------------------------------

void read_oauth_scopes_supported(reader& r, const json::value& v, std::string_view path,
                                 oauth_state& s) {
  read_scope_list(r, v, path, s.oauth.scopes_supported);
}
void read_oauth_required_scopes(reader& r, const json::value& v, std::string_view path,
                                oauth_state& s) {
  read_scope_list(r, v, path, s.oauth.required_scopes);
}
void read_oauth_tool_scopes(reader& r, const json::value& v, std::string_view path,
                            oauth_state& s) {
  read_tool_scopes(r, v, path, s.oauth.tool_scopes);
}
void read_resource_name(reader& r, const json::value& v, std::string_view path, oauth_state& s) {
  r.read_non_empty_string(v, path, s.oauth.resource_name);
}

constexpr auto oauth_keys = std::to_array<key_rule<oauth_state>>({
    {"issuer", read_issuer},
    {"authorizationServers", read_authorization_servers},
    {"audiences", read_audiences},
    {"jwksFile", read_jwks_file},
    {"jwksUri", read_jwks_uri},
    {"caFile", read_ca_file},
    {"algorithms", read_algorithms},
    {"clockSkew", read_clock_skew},
    {"jwksMinRefresh", oauth_duration<&oauth_config::jwks_min_refresh>},
    {"jwksMaxAge", oauth_duration<&oauth_config::jwks_max_age>},
    {"introspection", read_introspection},
    {"scopesSupported", read_oauth_scopes_supported},
    {"requiredScopes", read_oauth_required_scopes},
    {"toolScopes", read_oauth_tool_scopes},
    {"resourceName", read_resource_name},
});

}  // namespace

// RFC 6749 section 3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ).
bool read_scope_list(reader& r, const json::value& v, std::string_view path,
                     std::vector<std::string>& out) {
  return r.read_string_array(
      v, path, out, [](const std::string& scope) -> std::optional<std::string> {
        const bool valid = !scope.empty() && std::all_of(scope.begin(), scope.end(), [](char c) {
          const auto u = static_cast<unsigned char>(c);
          return u >= 0x21 && u <= 0x7e && c != '"' && c != '\\';
        });
        if (valid) return std::nullopt;
        return "a scope is printable ASCII without space, \" or \\ (RFC 6749 section 3.3), got " +
               quoted(scope);
      });
}

bool read_tool_scopes(reader& r, const json::value& v, std::string_view path,
                      std::vector<tool_scope_rule>& out) {
  const auto* o = v.if_object();
  if (!o) return r.type_error(path, "an object of tool name patterns to lists of scopes", v);
  bool ok = true;
  for (const auto& kv : *o) {
    tool_scope_rule rule;
    rule.pattern = std::string(kv.key());
    const auto p = child_path(path, rule.pattern);
    if (rule.pattern.empty()) {
      ok = r.fail(p, "a tool name pattern must not be empty");
      continue;
    }
    if (!read_scope_list(r, kv.value(), p, rule.scopes)) {
      ok = false;
      continue;
    }
    if (rule.scopes.empty()) {
      r.warn(p, "an empty list of scopes requires nothing");
      continue;
    }
    out.push_back(std::move(rule));
  }
  return ok;
}

void read_oauth(reader& r, const json::value& v, std::string_view path, config& c) {
  auto& oauth = c.proxy.oauth;
  oauth.enabled = true;
  oauth_state state{oauth};
  if (!r.read_object<oauth_state>(v, path, oauth_keys, state)) return;
  const bool jwks = !oauth.jwks_file.empty() || !oauth.jwks_uri.empty();
  if (!oauth.jwks_file.empty() && !oauth.jwks_uri.empty())
    r.fail(path, "set one of \"jwksFile\" and \"jwksUri\", not both");
  if (!jwks && !oauth.introspection)
    r.fail(path,
           "needs a way to check tokens: \"jwksFile\" or \"jwksUri\" (JWT access tokens), "
           "or \"introspection\" (RFC 7662)");
  if (jwks && oauth.issuer.empty())
    r.fail(path, "missing required key \"issuer\" (the exact iss of the JWT access tokens)");
  if (oauth.authorization_servers.empty() && !oauth.issuer.empty())
    oauth.authorization_servers.push_back(oauth.issuer);
  if (oauth.authorization_servers.empty())
    r.fail(path,
           "missing \"authorizationServers\" (or \"issuer\"): clients find the "
           "authorization server in the protected resource metadata (RFC 9728)");
  if (oauth.scopes_supported.empty()) oauth.scopes_supported = oauth.required_scopes;
}

void check_oauth(reader& r, const config& c) {
  if (c.proxy.oauth.enabled) return;
  auto needs_oauth = [&](std::string_view path) {
    r.fail(path, "scopes need mcpProxy.oauth (static tokens carry no scopes)");
  };
  for (const auto& s : c.servers) {
    const auto base = child_path(child_path("$.mcpServers", s.name), "options");
    if (!s.required_scopes.empty()) needs_oauth(child_path(base, "requiredScopes"));
    if (!s.tool_scopes.empty()) needs_oauth(child_path(base, "toolScopes"));
  }
  for (const auto& g : c.groups)
    if (!g.required_scopes.empty())
      needs_oauth(child_path(child_path("$.mcpProxy.groups", g.name), "requiredScopes"));
}

}  // namespace mcp_proxy::config::detail
