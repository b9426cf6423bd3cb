#include "http/request_auth.hpp"

#include "auth/introspection.hpp"
#include "auth/jwks.hpp"
#include "auth/jwt.hpp"
#include "auth/resource_metadata.hpp"
#include "protocol/http_rules.hpp"
#include "protocol/naming.hpp"
#include "protocol/patterns.hpp"
#include "transport/http_fetch.hpp"
#include "util/async_event.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

namespace mcp_proxy::http {

namespace asio = boost::asio;
using asio::awaitable;
using steady = std::chrono::steady_clock;

namespace {

// How long a check waits for a JWK set fetch another check started.
constexpr auto fetch_wait = std::chrono::seconds(15);

void add_unique(std::vector<std::string>& to, const std::vector<std::string>& from) {
  for (const auto& s : from)
    if (std::find(to.begin(), to.end(), s) == to.end()) to.push_back(s);
}

std::string join_scopes(const std::vector<std::string>& scopes) {
  std::string out;
  for (const auto& s : scopes) out += (out.empty() ? "" : " ") + s;
  return out;
}

// A collided exposed name gets '_' and 8 hex digits (protocol::name_table): the rule of the name
// before it still applies.
std::optional<std::string_view> without_hash_suffix(std::string_view name) {
  constexpr std::size_t suffix = 9;
  if (name.size() <= suffix || name[name.size() - suffix] != '_') return std::nullopt;
  const auto hex = name.substr(name.size() - 8);
  if (!std::all_of(hex.begin(), hex.end(),
                   [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }))
    return std::nullopt;
  return name.substr(0, name.size() - suffix);
}

std::string exposed_prefix(const config::server_config& s, const config::proxy_config& proxy) {
  const std::string prefix = s.prefix.value_or(s.name);
  return prefix.empty() ? std::string() : prefix + proxy.tool_name_separator;
}

}  // namespace

route_security_map security_of_routes(const config::config& cfg) {
  route_security_map out;
  const auto& oauth = cfg.proxy.oauth;
  // The global rules are on merged-endpoint names.
  auto global_rules = [&](route_security& r, std::string prefix) {
    for (const auto& rule : oauth.tool_scopes)
      r.tool_scopes.push_back({rule.pattern, prefix, rule.scopes});
  };
  // A server's own rules, on its own names (a route shows them as `prefix` + name: "" on the
  // server's route, its exposed prefix on merged routes).
  auto server_rules = [](route_security& r, const config::server_config& s,
                         const std::string& prefix) {
    for (const auto& rule : s.tool_scopes)
      r.tool_scopes.push_back({prefix + rule.pattern, {}, rule.scopes});
  };
  auto merged = [&](const std::vector<std::string>& members, const std::vector<std::string>& own) {
    route_security r;
    r.tokens = cfg.proxy.auth_tokens;
    if (!oauth.enabled) return r;
    r.required_scopes = oauth.required_scopes;
    add_unique(r.required_scopes, own);
    global_rules(r, {});
    for (const auto& s : cfg.servers) {
      if (s.disabled ||
          (!members.empty() && std::find(members.begin(), members.end(), s.name) == members.end()))
        continue;
      // A member's own scopes hold here too: a merged route is no way around them.
      add_unique(r.required_scopes, s.required_scopes);
      server_rules(r, s, exposed_prefix(s, cfg.proxy));
    }
    return r;
  };
  for (const auto& s : cfg.servers) {
    if (s.disabled) continue;
    route_security r;
    r.tokens = s.auth_tokens;
    if (oauth.enabled) {
      r.required_scopes = oauth.required_scopes;
      add_unique(r.required_scopes, s.required_scopes);
      global_rules(r, exposed_prefix(s, cfg.proxy));
      server_rules(r, s, {});
    }
    out.emplace(s.name, std::move(r));
  }
  if (cfg.proxy.aggregate) out.emplace("", merged({}, {}));
  for (const auto& g : cfg.groups) out.emplace(g.name, merged(g.servers, g.required_scopes));
  return out;
}

struct request_auth::impl {
  impl(asio::any_io_executor e, const config::proxy_config& proxy, route_security_map r)
      : ex(e),
        oauth(proxy.oauth),
        prefix(protocol::route_prefix(proxy.base_url)),
        base(proxy.base_url),
        routes(std::move(r)),
        policy({std::chrono::duration_cast<std::chrono::seconds>(oauth.jwks_min_refresh),
                std::chrono::duration_cast<std::chrono::seconds>(oauth.jwks_max_age)}),
        fetcher(e),
        fetched(e),
        access(proxy.access) {
    while (!base.empty() && base.back() == '/') base.pop_back();
    index_tokens();
    for (const auto& name : oauth.algorithms)
      if (auto alg = auth::alg_from_name(name)) algs.push_back(*alg);
    if (oauth.ca_file)
      if (auto problem = fetcher.trust_ca_file(*oauth.ca_file))
        spdlog::error("mcpProxy.oauth.caFile: {}", *problem);
    if (oauth.introspection)
      client_credentials = auth::basic_client_credentials(oauth.introspection->client_id,
                                                          oauth.introspection->client_secret);
  }

  asio::any_io_executor ex;
  config::oauth_config oauth;
  std::string prefix;  // baseURL's path: routes are served under it
  std::string base;    // scheme://authority[/prefix], no trailing slash
  route_security_map routes;
  std::map<std::string, protocol::token_table, std::less<>> tables;
  protocol::token_table any_token;
  std::vector<auth::jws_alg> algs;
  // The JWK set (null until a fetch or the file succeeds) and when to fetch it again.
  std::shared_ptr<const auth::jwk_set> keys;
  auth::jwks_refresh_policy policy;
  bool fetching = false;
  transport::http_fetcher fetcher;
  util::async_event fetched;
  auth::introspection_cache introspected;
  std::string client_credentials;  // the Authorization value for the introspection endpoint
  auth::access_policy access;

  void index_tokens() {
    tables.clear();
    any_token = {};
    std::set<std::string> seen;
    for (const auto& [name, sec] : routes) {
      auto& table = tables[name];
      for (const auto& t : sec.tokens) {
        table.add(t.token, t.name);
        // Every distinct token once: a path that is no route is checked against all of them.
        if (seen.insert(t.token).second) any_token.add(t.token, t.name);
      }
    }
  }

  // Fills in the principal and the grant of an admitted identity.
  void admit(outcome& out, auth::identity who, std::string_view token) const {
    switch (who.from) {
      case auth::identity::source::static_token:
        out.principal = "token:" + who.name;
        break;
      case auth::identity::source::jwt:
      case auth::identity::source::introspection: {
        // The subject (else the client); a token naming neither is its own principal.
        const bool named = who.claims.contains("sub") || who.claims.contains("client_id");
        out.principal =
            std::string(who.from == auth::identity::source::jwt ? "jwt:" : "introspection:") +
            (named ? who.name : protocol::token_fingerprint(token));
        break;
      }
      case auth::identity::source::anonymous:
        break;
    }
    if (access.enabled()) out.access = auth::as_item_access(access.grant_for(who));
    out.who = std::make_shared<const auth::identity>(std::move(who));
  }

  bool has_jwks() const { return !oauth.jwks_file.empty() || !oauth.jwks_uri.empty(); }

  std::string resource_url(std::string_view name, std::string_view kind) const {
    std::string url = base;
    if (!name.empty()) url += "/" + std::string(name);
    url += kind == "sse" || kind == "message" ? "/sse" : "/mcp";
    return url;
  }
  std::vector<std::string> audiences(std::string_view name) const {
    std::vector<std::string> out{resource_url(name, "mcp"), resource_url(name, "sse")};
    add_unique(out, oauth.audiences);
    return out;
  }
  const std::vector<std::string>& required_scopes(const route_security* sec) const {
    return sec ? sec->required_scopes : oauth.required_scopes;
  }
  // resource_metadata="..." and, when the route needs scopes, scope="..." (MCP 2025-11-25
  // authorization: the scopes a client should ask for).
  std::string challenge_params(std::string_view name, std::string_view kind,
                               const std::vector<std::string>& scopes) const {
    std::string out = protocol::challenge_param("resource_metadata",
                                                auth::metadata_url(resource_url(name, kind)));
    if (!scopes.empty()) out += ", " + protocol::challenge_param("scope", join_scopes(scopes));
    return out;
  }

  awaitable<void> refresh_keys();
  awaitable<boost::system::result<auth::identity, auth::token_error>> verify_jwt(
      std::string_view token, const std::vector<std::string>& audiences);
  awaitable<boost::system::result<auth::identity, auth::token_error>> introspect(
      std::string_view token, const std::vector<std::string>& audiences);
  awaitable<boost::system::result<auth::identity, auth::token_error>> verify(
      std::string_view token, const std::vector<std::string>& audiences);
};

namespace {

auth::token_error token_problem(auth::token_failure f, std::string message) {
  return auth::token_error{f, std::move(message)};
}

auth::identity static_identity(const std::string& name) {
  auth::identity who;
  who.from = auth::identity::source::static_token;
  who.name = name;
  return who;
}

// The identity of a verified token: its sub (else client_id) names it in logs; its scopes from
// scope or scp.
boost::system::result<auth::identity, auth::token_error> identity_of(auth::identity::source from,
                                                                     boost::json::object claims) {
  auto scopes = auth::scope_set::from_claims(claims);
  if (!scopes) return token_problem(auth::token_failure::invalid_claim, scopes.error());
  auth::identity who;
  who.from = from;
  for (const char* key : {"sub", "client_id"})
    if (const auto* v = claims.if_contains(key); v && v->is_string() && who.name.empty())
      who.name = std::string(v->get_string());
  if (who.name.empty()) who.name = from == auth::identity::source::jwt ? "jwt" : "introspected";
  who.claims = std::move(claims);
  who.scopes = std::move(*scopes);
  return who;
}

}  // namespace

awaitable<void> request_auth::impl::refresh_keys() {
  if (fetching) {
    co_await fetched.wait(steady::now() + fetch_wait);
    co_return;
  }
  fetching = true;
  policy.fetch_started(steady::now());
  std::string document, problem;
  const std::string& source = oauth.jwks_file.empty() ? oauth.jwks_uri : oauth.jwks_file;
  if (!oauth.jwks_file.empty()) {
    std::ifstream in(oauth.jwks_file, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    if (in)
      document = s.str();
    else
      problem = "cannot read the file";
  } else {
    transport::fetch_request req;
    req.url = oauth.jwks_uri;
    req.max_body = auth::jwks_limits{}.max_document_bytes;
    auto got = co_await fetcher.fetch(std::move(req));
    if (!got)
      problem = got.error();
    else if (got->status != 200)
      problem = "HTTP " + std::to_string(got->status);
    else
      document = std::move(got->body);
  }
  if (problem.empty()) {
    auto set = auth::jwk_set::parse(document);
    if (set) {
      for (const auto& skipped : set->skipped()) spdlog::warn("JWK set {}: {}", source, skipped);
      spdlog::info("JWK set {}: {} key(s)", source, set->keys().size());
      keys = std::make_shared<const auth::jwk_set>(std::move(*set));
    } else {
      problem = set.error();
    }
  }
  if (!problem.empty())
    spdlog::warn("JWK set {}: {}; {}", source, problem,
                 keys ? "keeping the keys fetched before"
                      : "access tokens are refused until it "
                        "can be fetched");
  fetching = false;
  fetched.notify_all();
}

awaitable<boost::system::result<auth::identity, auth::token_error>> request_auth::impl::verify_jwt(
    std::string_view token, const std::vector<std::string>& audiences) {
  auth::validation_options options;
  options.issuer = oauth.issuer;
  options.audiences = audiences;
  options.clock_skew = std::chrono::duration_cast<std::chrono::seconds>(oauth.clock_skew);
  options.allowed_algs = algs;
  for (bool retried = false;; retried = true) {
    const auto now = steady::now();
    if (!keys || policy.stale(now)) {
      if (!keys ? policy.may_fetch_for_unknown_kid(now) : !fetching) co_await refresh_keys();
    }
    if (!keys)
      co_return token_problem(auth::token_failure::unknown_key,
                              "no JWK set yet: the authorization server's keys could not be "
                              "fetched");
    const auto set = keys;  // a refresh may replace it while this check runs
    auto verified = auth::verify_jwt(token, *set, options, std::chrono::system_clock::now());
    if (verified) co_return identity_of(auth::identity::source::jwt, std::move(verified->claims));
    // A kid the set lacks: the keys may have rotated. Fetched again at most once per
    // jwksMinRefresh, whatever kids tokens name.
    if (verified.error().failure == auth::token_failure::unknown_key && !retried &&
        (fetching || policy.may_fetch_for_unknown_kid(steady::now()))) {
      co_await refresh_keys();
      continue;
    }
    co_return verified.error();
  }
}

awaitable<boost::system::result<auth::identity, auth::token_error>> request_auth::impl::introspect(
    std::string_view token, const std::vector<std::string>& audiences) {
  const auto& settings = *oauth.introspection;
  auth::introspection_checks checks;
  checks.issuer = oauth.issuer;
  checks.audiences = audiences;
  checks.clock_skew = std::chrono::duration_cast<std::chrono::seconds>(oauth.clock_skew);
  auto hit = introspected.find(token, steady::now());
  std::shared_ptr<const boost::json::object> claims = hit.claims;
  if (!hit) {
    transport::fetch_request req;
    req.post = true;
    req.url = settings.endpoint;
    req.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                   {"Authorization", client_credentials}};
    req.body = auth::introspection_request_body(token);
    auto got = co_await fetcher.fetch(std::move(req));
    if (!got || got->status != 200) {
      const std::string why = !got ? got.error() : "HTTP " + std::to_string(got->status);
      spdlog::warn("token introspection at {} failed: {}", settings.endpoint, why);
      co_return token_problem(auth::token_failure::unknown_key,
                              "the token could not be introspected");
    }
    auto answer = auth::parse_introspection_response(got->body);
    if (!answer && answer.error().failure != auth::token_failure::inactive)
      co_return answer.error();
    const auto now = steady::now();
    const boost::json::object* active = answer ? &*answer : nullptr;
    const auto until = auth::introspection_cache::expiry(now, std::chrono::system_clock::now(),
                                                         settings.cache_ttl, active);
    if (answer) claims = std::make_shared<const boost::json::object>(*answer);
    introspected.put(token,
                     answer ? std::optional<boost::json::object>(std::move(*answer)) : std::nullopt,
                     until, now);
  }
  if (!claims) co_return token_problem(auth::token_failure::inactive, "the token is not active");
  auto checked =
      auth::check_introspection_claims(*claims, checks, std::chrono::system_clock::now());
  if (!checked) co_return checked.error();
  co_return identity_of(auth::identity::source::introspection, *claims);
}

awaitable<boost::system::result<auth::identity, auth::token_error>> request_auth::impl::verify(
    std::string_view token, const std::vector<std::string>& audiences) {
  const bool jws_shaped = std::count(token.begin(), token.end(), '.') == 2;
  if (has_jwks() && (jws_shaped || !oauth.introspection)) {
    auto v = co_await verify_jwt(token, audiences);
    // Not a JWS at all: with introspection configured, it may be an opaque token.
    if (v || v.error().failure != auth::token_failure::malformed || !oauth.introspection)
      co_return v;
  }
  if (oauth.introspection) co_return co_await introspect(token, audiences);
  co_return token_problem(auth::token_failure::malformed, "the access token is not a JWT");
}

request_auth::request_auth(asio::any_io_executor ex, const config::proxy_config& proxy,
                           route_security_map routes)
    : impl_(std::make_unique<impl>(ex, proxy, std::move(routes))) {}

request_auth::~request_auth() = default;

void request_auth::set_routes(route_security_map routes) {
  impl_->routes = std::move(routes);
  impl_->index_tokens();
}

void request_auth::set_base_url(std::string base) {
  if (!impl_->base.empty()) return;  // baseURL says how clients reach the proxy
  impl_->base = std::move(base);
}

awaitable<void> request_auth::start() {
  if (impl_->oauth.enabled && impl_->has_jwks()) co_await impl_->refresh_keys();
}

bool request_auth::oauth() const {
  return impl_->oauth.enabled;
}

bool request_auth::needs_credentials(std::string_view route) const {
  if (impl_->oauth.enabled) return true;
  auto it = impl_->tables.find(route);
  return it != impl_->tables.end() && !it->second.empty();
}

std::optional<std::string> request_auth::metadata_for(std::string_view request_path) const {
  if (!impl_->oauth.enabled) return std::nullopt;
  auto path = auth::metadata_resource_path(request_path);
  if (!path) return std::nullopt;
  auto r = protocol::parse_route(*path, impl_->prefix);
  if (!r) return std::nullopt;
  auth::resource_metadata m;
  m.resource = impl_->resource_url(r->name, r->kind);
  m.authorization_servers = impl_->oauth.authorization_servers;
  m.scopes_supported = impl_->oauth.scopes_supported;
  if (auto it = impl_->routes.find(r->name); it != impl_->routes.end())
    add_unique(m.scopes_supported, it->second.required_scopes);
  m.resource_name = impl_->oauth.resource_name;
  return auth::metadata_document(m);
}

awaitable<request_auth::outcome> request_auth::check(std::vector<std::string_view> authorization,
                                                     const std::string* route,
                                                     std::string_view route_name,
                                                     std::string_view kind) {
  auto& i = *impl_;
  outcome out;
  const route_security* sec = nullptr;
  const protocol::token_table* table = &i.any_token;
  if (route) {
    sec = &i.routes.at(*route);
    table = &i.tables.at(*route);
  }
  const auto credential = protocol::read_bearer(authorization);
  if (!i.oauth.enabled) {
    if (table->empty()) {
      i.admit(out, auth::identity(), {});
      co_return out;
    }
    auto checked = protocol::check_bearer(credential, *table);
    out.refusal = std::move(checked.refusal);
    if (checked.identity) i.admit(out, static_identity(*checked.identity), credential.token);
    co_return out;
  }
  // A copy: a reload (set_routes) may replace the routes while the token is verified.
  const auto required = i.required_scopes(sec);
  const auto params = i.challenge_params(route_name, kind, required);
  if (credential.what != protocol::bearer_credential::kind::token) {
    // No credential or a malformed one: the static check's answers, with the OAuth parameters.
    out.refusal = protocol::check_bearer(credential, *table, params).refusal;
    co_return out;
  }
  // A configured static token is the operator's: it passes the scope checks (mcpProxy.access
  // narrows what it may use).
  if (const auto* name = table->find(credential.token)) {
    i.admit(out, static_identity(*name), credential.token);
    co_return out;
  }
  const auto audiences = i.audiences(route_name);  // a local: GCC 12 and co_await temporaries
  auto verified = co_await i.verify(credential.token, audiences);
  if (!verified) {
    spdlog::debug("refused an access token for route /{}: {}", route_name,
                  verified.error().message);
    out.refusal = protocol::auth_refusal{
        401, protocol::bearer_challenge("invalid_token", verified.error().message, params),
        "Unauthorized: the access token is not valid (" + verified.error().message + ")"};
    co_return out;
  }
  if (auto missing = verified->scopes.missing(required); !missing.empty()) {
    out.refusal = protocol::auth_refusal{
        403,
        protocol::bearer_challenge("insufficient_scope",
                                   "this endpoint needs the scopes " + join_scopes(required),
                                   params),
        "Forbidden: the access token lacks the scopes " + join_scopes(missing)};
    co_return out;
  }
  i.admit(out, std::move(*verified), credential.token);
  co_return out;
}

bool request_auth::has_tool_scopes(std::string_view route) const {
  auto it = impl_->routes.find(route);
  return it != impl_->routes.end() && !it->second.tool_scopes.empty();
}

std::optional<protocol::auth_refusal> request_auth::check_tool(std::string_view route,
                                                               std::string_view kind,
                                                               std::string_view tool,
                                                               const auth::identity& who) const {
  auto it = impl_->routes.find(route);
  if (it == impl_->routes.end() || who.from == auth::identity::source::static_token)
    return std::nullopt;
  const auto& sec = it->second;
  std::vector<std::string> needed = sec.required_scopes;
  bool applies = false;
  for (const auto& rule : sec.tool_scopes) {
    auto matches = [&](std::string_view name) {
      return protocol::glob_match(rule.pattern, rule.exposed_prefix + std::string(name));
    };
    const auto plain = without_hash_suffix(tool);
    if (matches(tool) || (plain && matches(*plain))) {
      applies = true;
      add_unique(needed, rule.scopes);
    }
  }
  if (!applies) return std::nullopt;
  const auto missing = who.scopes.missing(needed);
  if (missing.empty()) return std::nullopt;
  const auto params = impl_->challenge_params(route, kind, needed);
  return protocol::auth_refusal{
      403,
      protocol::bearer_challenge(
          "insufficient_scope",
          "the tool " + std::string(tool) + " needs the scopes " + join_scopes(needed), params),
      "Forbidden: the tool " + std::string(tool) + " needs the scopes " + join_scopes(missing) +
          " that the access token lacks"};
}

}  // namespace mcp_proxy::http
