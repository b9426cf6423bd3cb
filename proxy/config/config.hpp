#pragma once
// Configuration model and loader. The file format is TBXark/mcp-proxy's, so its users can switch
// binaries: {"mcpProxy": {...}, "mcpServers": {NAME: {...}}}. Keys this project adds are
// documented in docs/configuration.md. Thread-safety: plain values.

#include "auth/rate_limits.hpp"
#include "protocol/readiness.hpp"

#include <boost/system/result.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mcp_proxy::config {

enum class transport_type { stdio, sse, streamable_http };
enum class session_mode { shared, per_client };
// The protocol era a backend speaks (spec 2026-07-28 basic/versioning): found out at start
// (server/discover first, initialize when the answer is not a modern one), or said in the config.
enum class backend_era { detect, modern, legacy };

// TBXark's toolFilter shape, {"mode": "allow" | "block", "list": [...]}, with glob patterns
// (`*`, `?`). An empty filter lets everything through.
struct name_filter {
  enum class filter_mode { none, allow, block };
  filter_mode mode = filter_mode::none;
  std::vector<std::string> patterns;
  bool allows(std::string_view name) const;
  bool empty() const { return mode == filter_mode::none; }
  bool operator==(const name_filter&) const = default;
};

// The filters of one server or group: tools and prompts by name, resources by URI.
struct item_filters {
  name_filter tools, prompts, resources;
  bool operator==(const item_filters&) const = default;
};

// A static bearer token (options.authTokens, options.authTokensFile). Its name identifies the
// caller in logs and the audit; empty: a fingerprint of the token (protocol::token_fingerprint).
struct auth_token {
  std::string name;
  std::string token;
  bool operator==(const auth_token&) const = default;
};

// A scope requirement on tools: the tools whose names match `pattern` (a glob, `*` and `?`) need
// every scope of `scopes` (mcpProxy.oauth.toolScopes on exposed names, a server's
// options.toolScopes on its own names).
struct tool_scope_rule {
  std::string pattern;
  std::vector<std::string> scopes;
  bool operator==(const tool_scope_rule&) const = default;
};

// mcpProxy.oauth.introspection: opaque tokens asked of an RFC 7662 endpoint.
struct oauth_introspection {
  std::string endpoint;  // https (http only to a loopback host)
  std::string client_id;
  std::string client_secret;  // from clientSecret or clientSecretFile; never logged
  // An active answer is reused this long (never past the token's exp); an inactive one for a
  // tenth of it.
  std::chrono::milliseconds cache_ttl{60'000};
  bool operator==(const oauth_introspection&) const = default;
};

// mcpProxy.oauth: the proxy as an OAuth 2.1 resource server (docs/security.md, "OAuth").
struct oauth_config {
  bool enabled = false;  // the key is there
  std::string issuer;    // the exact iss of JWT access tokens
  // Named in the protected resource metadata (RFC 9728); default: {issuer}.
  std::vector<std::string> authorization_servers;
  // Accepted in aud besides the route's own resource URL (RFC 8707).
  std::vector<std::string> audiences;
  std::string jwks_file;  // one of jwks_file and jwks_uri, or introspection only
  std::string jwks_uri;
  std::optional<std::string> ca_file;   // trusted besides the system store for jwks_uri and
                                        // the introspection endpoint
  std::vector<std::string> algorithms;  // JWS algs accepted; empty: all that auth/jwt knows
  std::chrono::milliseconds clock_skew{60'000};
  // Unknown kids fetch the JWK set again at most this often; a set older than max age is
  // fetched again.
  std::chrono::milliseconds jwks_min_refresh{30'000};
  std::chrono::milliseconds jwks_max_age{3'600'000};
  std::optional<oauth_introspection> introspection;
  std::vector<std::string> scopes_supported;  // in the metadata; default: required_scopes
  std::vector<std::string> required_scopes;   // every route
  std::vector<tool_scope_rule> tool_scopes;   // on exposed names, every route
  std::string resource_name;                  // the metadata's resource_name, if set
  bool operator==(const oauth_config&) const = default;
};

// Globs per kind of item: tool names, prompt names, resource URIs (and URI templates). nullopt:
// the rule says nothing of that kind.
struct item_patterns {
  std::optional<std::vector<std::string>> tools, prompts, resources;
  bool operator==(const item_patterns&) const = default;
};

// One rule of mcpProxy.access: who it is for, and what it allows and denies them.
struct access_rule {
  // Who: a static token's name (token), a JWT's sub, a group (the groups claim holds it), a
  // scope, or any claim by dotted path holding a value; `everyone` matches every identity.
  enum class subject_kind { everyone, token, sub, group, scope, claim };
  subject_kind subject = subject_kind::everyone;
  std::string claim_path;  // with claim: "realm_access.roles"
  std::string value;       // the name, sub, group, scope or claim value
  // Servers whose items the rule is about (globs); empty: patterns are on exposed names (the
  // names the merged endpoint shows), on every server.
  std::vector<std::string> servers;
  // What the rule allows (a kind left out: all of it) and denies (a kind left out: none).
  item_patterns allow, deny;
  std::string path;  // "$.mcpProxy.access.rules[2]", for logs
  bool operator==(const access_rule&) const = default;
};

// mcpProxy.access: absent (enabled false) allows every authenticated client everything.
struct access_config {
  bool enabled = false;
  bool default_allow = false;  // "default": "allow" | "deny" (deny): no rule matches the identity
  std::vector<access_rule> rules;
  bool operator==(const access_config&) const = default;
};

// A server's clientCredentials: the proxy's own OAuth 2.1 client credentials for an HTTP backend
// (RFC 6749 section 4.4), so the backend gets `Authorization: Bearer` with a token from its
// authorization server (docs/security.md, "Backend credentials").
struct client_credentials_config {
  std::string token_endpoint;  // https (http on loopback only)
  std::string client_id;
  std::string client_secret;  // from clientSecret (${VAR}) or clientSecretFile
  std::string scope;          // space-separated; "" sends none
  std::string resource;       // RFC 8707 resource indicator; "" sends none
  std::string audience;       // the "audience" parameter some servers want; "" sends none
  std::string ca_file;        // trusted besides the system store, for the token endpoint
  bool enabled() const { return !token_endpoint.empty(); }
  bool operator==(const client_credentials_config&) const = default;
};

struct server_config {
  std::string name;
  transport_type transport = transport_type::stdio;
  // stdio
  std::string command;
  std::vector<std::string> args;
  std::map<std::string, std::string> env;  // added to the inherited environment
  std::optional<std::string> cwd;
  // HTTP backends (issue: transports)
  std::string url;
  std::map<std::string, std::string> headers;
  client_credentials_config client_credentials;
  // The transport was not given: try Streamable HTTP, fall back to legacy SSE.
  bool detect_transport = false;
  // Extra CA certificates (PEM) trusted besides the system store.
  std::optional<std::string> tls_ca_file;
  // Accept any certificate (logged as a warning at start): for test servers only.
  bool tls_insecure_skip_verify = false;
  // Deadline of one request to this backend.
  std::chrono::milliseconds timeout{60'000};
  // Largest message accepted from this backend (a stdout line, an HTTP body or SSE event): past
  // it the calls in flight fail at once and the backend is restarted.
  std::uint64_t max_message_bytes = 64ull << 20;
  // Lines of its stderr (and stdout lines that are not JSON-RPC) logged a second, at most; the
  // rest are counted and reported as "suppressed N lines".
  std::uint64_t log_lines_per_second = 100;
  // Events (and bytes) of one call waiting for a client that reads slower than the backend
  // writes: past these, progress notifications are coalesced; past 4x, the call ends with an
  // error and is cancelled at the backend (backend/event_backlog.hpp).
  std::uint64_t call_backlog_events = 1000;
  std::uint64_t call_backlog_bytes = 8u << 20;
  // Streamable HTTP: the longest wait honoured of a server's SSE `retry` field before a stream
  // that ended before its response is resumed (the spec has the client respect it).
  std::chrono::milliseconds max_retry_wait{30'000};
  // Supervision (docs/operations.md): a ping every ping_interval (0: none), each due before the
  // next; ping_misses unanswered in a row restart the backend (per-client: end its session).
  std::chrono::milliseconds ping_interval{30'000};
  std::uint64_t ping_misses = 3;
  session_mode mode = session_mode::shared;
  // "protocol": "auto" | "2026-07-28" | "2025-11-25".
  backend_era era = backend_era::detect;
  bool disabled = false;
  // Aggregation (issue: aggregation). Tools and prompts of this server are exposed on merged
  // endpoints as prefix + separator + name; nullopt: the server name; "": unprefixed.
  std::optional<std::string> prefix;
  // options.toolFilter / promptFilter / resourceFilter, on the backend's own names and URIs;
  // applied on this server's route and on merged endpoints.
  item_filters filters;
  // The tokens its routes (/{name}/mcp, /{name}/sse, /{name}/message) accept: its own
  // options.authTokens(File), else mcpProxy.options' (as TBXark). Empty: no token is needed.
  std::vector<auth_token> auth_tokens;
  bool own_auth_tokens = false;  // the server set authTokens or authTokensFile itself
  // options.requiredScopes and options.toolScopes (with mcpProxy.oauth).
  std::vector<std::string> required_scopes;
  std::vector<tool_scope_rule> tool_scopes;
  // options.logEnabled and options.panicIfInvalid (TBXark's), else mcpProxy.options'. Log
  // enabled: the server's requests are logged at info level (docs/operations.md, "Logs").
  // Panic if invalid: a first start of the backend that fails ends the proxy (exit code 1).
  bool log_enabled = false;
  bool panic_if_invalid = false;
  bool operator==(const server_config&) const = default;
};

// A virtual server: a merged endpoint at /{name}/mcp over some servers, showing what its filters
// (on exposed names and on URIs) let through.
struct group_config {
  std::string name;
  std::vector<std::string> servers;  // empty: every enabled server
  item_filters filters;
  std::vector<std::string> required_scopes;  // with mcpProxy.oauth
  bool operator==(const group_config&) const = default;
};

// mcpProxy.tls: HTTPS on the listener (docs/security.md, "TLS on the listener").
struct tls_listener_config {
  std::string cert_file;  // PEM: the certificate chain, leaf first
  std::string key_file;   // PEM private key
  // Client certificates (mTLS): "none", "optional" (verified when sent), "required" (the
  // handshake fails without one); verified against client_ca_file.
  enum class client_certs { none, optional, required } client_certificates = client_certs::none;
  std::string client_ca_file;
  bool tls13_only = false;  // minVersion "1.3"; else TLS 1.2 is the minimum
  bool enabled() const { return !cert_file.empty(); }
  bool operator==(const tls_listener_config&) const = default;
};

// mcpProxy.readiness: what GET /readyz calls ready, and the disabled servers it lists (filled by
// the loader: the listener sees no server_config).
struct readiness_config {
  protocol::readiness_rule rule;
  std::vector<protocol::backend_status> disabled;
};

// mcpProxy.metrics, or TBXark's mcpProxy.options.metrics: GET /metrics (docs/operations.md,
// "Metrics"; protocol/proxy_metrics.hpp).
struct metrics_config {
  bool enabled = true;            // counted and served (enabled and not disableEndpoint)
  std::string path = "/metrics";  // endpointPath
  std::string addr;               // a listener of its own ("host:port"); empty: the main one
  std::string read_at;            // the key it was read from ("": not configured), for errors
  bool operator==(const metrics_config&) const = default;
};

struct proxy_config {
  std::string addr = "127.0.0.1:9090";  // host:port; ":port" means 127.0.0.1:port
  // Where `addr` came from, for errors about it: "proxy.json: $.mcpProxy.addr", or "--addr".
  std::string addr_origin = "$.mcpProxy.addr";
  std::string base_url;  // public URL, for logs and endpoint events
  std::string name = "mcp-proxy";
  std::string version = "0.1.0";
  // Origins allowed besides localhost ones ("*" allows every origin).
  std::vector<std::string> allowed_origins;
  // mcpProxy.cors: CORS answers to those origins (protocol/cors.hpp).
  bool cors_allow_credentials = false;
  std::chrono::seconds cors_max_age{600};
  // mcpProxy.options.authTokens(File): the tokens of the merged endpoint, the groups, and every
  // server without its own. Empty: no token is needed there.
  std::vector<auth_token> auth_tokens;
  oauth_config oauth;
  access_config access;
  // mcpProxy.limits: rates and calls in flight per identity (frontend/call_gate.hpp); nullopt:
  // no limits.
  std::optional<auth::limits_config> limits;
  // mcpProxy.auditLog: a file that gets one JSON line per client request, or "stderr"; empty:
  // none (frontend/audit_log.hpp).
  std::string audit_log;
  // mcpProxy.logLevel and mcpProxy.logFormat (names protocol/log_text.hpp accepts); empty: not
  // set (info, text). --log-level and --log-format win over them.
  std::string log_level;
  std::string log_format;
  tls_listener_config tls;
  // Serving beyond loopback with a route that needs no token (--allow-unauthenticated).
  bool allow_unauthenticated = false;
  // Host header values allowed besides loopback names when listening on loopback (a host or
  // host:port; "*" allows every host); when listening elsewhere, a non-empty list restricts.
  std::vector<std::string> allowed_hosts;
  // Largest HTTP request body accepted.
  std::uint64_t max_body_bytes = 32ull * 1024 * 1024;
  // Nesting bound of JSON messages from clients and backends (jsonrpc::set_max_json_depth),
  // from 32 to 4096.
  std::uint64_t max_json_depth = 1024;
  // Client connections (http::connection_limits): open at once, and per peer address. At either
  // bound the oldest connection still waiting for a request's headers (idle keep-alive or
  // half-sent) of the busiest peer is closed to make room; with none, the new one gets 503.
  std::uint64_t max_connections = 4096;
  std::uint64_t max_connections_per_peer = 1024;
  // A request's headers must arrive within this (from the accept, or from the first byte of a
  // later request on a kept-alive connection); else 408 Request Timeout.
  std::chrono::milliseconds header_timeout{10'000};
  // A request's line and headers (bytes), and its header fields (count); past them 431 (414 when
  // the request line alone is too long).
  std::uint64_t max_header_bytes = 16 * 1024;
  std::uint64_t max_headers = 100;
  // Whether GET opens the server-to-client SSE stream (405 when false).
  bool get_stream = true;
  // Streamable HTTP polling (spec 2025-11-25, basic/transports: the server may close a stream
  // it primed): a call still running this long after its POST has its stream ended, and the
  // client resumes it with GET + Last-Event-ID. 0: streams stay open until the response.
  std::chrono::milliseconds close_stream_after{0};
  // Resumption (Last-Event-ID) on the Streamable HTTP endpoints: the events kept per stream,
  // and the streams kept per session (protocol::event_log).
  std::uint64_t replay_events = 256;
  std::uint64_t replay_streams = 16;
  std::uint64_t replay_bytes = 8u << 20;  // event data kept per session, all streams
  // A client session with no request, no call in flight and no GET stream for this long is
  // ended (its next request gets 404; a per-client backend is stopped).
  std::chrono::milliseconds session_idle_timeout{30 * 60 * 1000};
  // SIGTERM/SIGINT: how long calls in flight may run on while new sessions get 503; those still
  // running then are answered with an error. 0: at once.
  std::chrono::milliseconds shutdown_grace{10'000};
  // Client sessions per server endpoint, open or being initialized; more get HTTP 503.
  std::uint64_t max_sessions = 1000;
  // Client sessions (Streamable HTTP and legacy SSE, all routes together) one client address may
  // hold; more get HTTP 503. Behind a reverse proxy every client has the reverse proxy's
  // address: raise it there.
  std::uint64_t max_sessions_per_peer = 256;
  // Backend processes of per-client sessions, all servers together; more sessions get -32000.
  std::uint64_t max_per_client_backends = 256;
  // Merged endpoints (issue: aggregation).
  bool aggregate = true;  // serve every enabled server as one at /mcp and /sse
  std::string tool_name_separator = "__";
  // Items per merged list page; 0: one page of each backend per merged page.
  std::uint64_t page_size = 0;
  // How long a backend's list page is reused while the backend announces no change; 0: never.
  std::chrono::milliseconds list_cache_ttl{60'000};
  // The deadline of each backend's part of a merged request (lists, initialize, setLevel).
  std::chrono::milliseconds fan_out_timeout{10'000};
  // mcpProxy.options filters: the default of every server that sets none of its own.
  item_filters default_filters;
  readiness_config readiness;
  metrics_config metrics;
};

struct config {
  proxy_config proxy;
  std::vector<server_config> servers;  // in file order
  std::vector<group_config> groups;    // mcpProxy.groups, in file order
  std::vector<std::string> warnings;   // unknown keys and the like, each naming file and path
};

// One problem of a config file.
struct config_problem {
  // The JSON path of the offending value, "$.mcpServers.fs.args[2]"; for invalid JSON its
  // position, "line 3, column 17 (byte 52)"; empty when the file cannot be read.
  std::string path;
  std::string message;  // what is wrong: "expected a string, got a number"
};

// Every problem of a file, so that one run shows all there is to fix. Each names the file, the
// JSON path and what is wrong, e.g.
// "proxy.json: $.mcpServers.fs.args[2]: expected a string, got a number".
struct config_error {
  // Every problem, one a line, in the order of `errors` (and a last line counting those left out
  // past the first 100); the first line has the form a config_error had when it held only one.
  std::string message;
  // In file order, then the checks across objects (groups against servers). At most 100.
  std::vector<config_problem> errors;
  // What config::warnings would have held: an unknown key ("did you mean ...?") often explains
  // an error ("needs \"command\"").
  std::vector<std::string> warnings;
};

// How environment variables reach the config (docs/configuration.md, "Environment variables").
enum class env_expansion {
  // ${NAME} in string values; an unset variable is an error naming the path (the default).
  braced_values,
  // TBXark's -expand-env: $NAME and ${NAME} anywhere in the text, before it is parsed (Go's
  // os.ExpandEnv); an unset variable expands to nothing.
  whole_text,
  none,  // -expand-env=false: the text is taken as written
};
struct load_options {
  env_expansion expansion = env_expansion::braced_values;
};

// Parses a config document (JSON, with comments and trailing commas allowed); `origin` (a file
// name) prefixes every message. Never throws on bad input: the problems come back as a
// config_error, lesser ones (unknown keys and the like) as config::warnings.
boost::system::result<config, config_error> parse_config(std::string_view text,
                                                         std::string_view origin,
                                                         const load_options& options = {});
// Reads and parses a file. With env_expansion::whole_text the path is expanded too, as TBXark
// does.
boost::system::result<config, config_error> load_config_file(const std::string& path,
                                                             const load_options& options = {});
// Go's os.ExpandEnv: $NAME, ${NAME} and Go's special one-character names ($1, $$...) are
// replaced by the variable (nothing when unset); a '$' followed by nothing of that is kept;
// "${}" and an unterminated "${" are dropped.
std::string expand_env_like_go(std::string_view text);

// "30s", "1500ms", "2m", "1h", or a bare number of seconds ("30", 30, 1.5).
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

struct listen_address {
  std::string host;
  std::uint16_t port = 0;
};
// "host:port", ":port" (loopback), "[::1]:port". The host is an IPv4 address, "localhost", or
// an IPv6 address in brackets (with an optional zone, "[fe80::1%eth0]").
std::optional<listen_address> parse_listen_address(std::string_view addr);
// What is wrong with an address parse_listen_address refuses (nullopt when it takes it).
std::optional<std::string> listen_address_problem(std::string_view addr);

// Throws std::runtime_error(e.message); result<T, config_error>::value() finds it by
// argument-dependent lookup (the boost::system overload below is not visible from there).
[[noreturn]] void throw_exception_from_error(const config_error& e,
                                             const boost::source_location& loc);

}  // namespace mcp_proxy::config

namespace boost::system {
[[noreturn]] void throw_exception_from_error(const mcp_proxy::config::config_error& e,
                                             const boost::source_location& loc);
}  // namespace boost::system
