// libFuzzer target: the config loader (config/config.cpp parse_config, what load_config_file runs
// on a file's text) on untrusted text: an operator's typo or a generated file. The environment
// is fixed at start (FUZZ_* variables below), so `${VAR}` expansion is reproducible. Properties:
// - nothing crashes or throws;
// - a refused config has 1 to 100 problems, each with a path ("$..." or, for invalid JSON alone,
//   "line L, column C (byte B)" with B within the text) and a message, and its message is one
//   line per problem, "fuzz.json: PATH: MESSAGE", plus at most a last line counting those left
//   out: no value of the file can break a line;
// - a loaded config keeps its promises: server and group names are 1 to 64 of [A-Za-z0-9_.-]
//   and unique, groups name servers and never a server's name, a stdio server has a command and
//   no NUL in what reaches execve, an HTTP server's url is an absolute http(s) URL with a host
//   that normalizes to itself, its headers are tokens with values free of CR/LF/NUL, a legacy
//   SSE server is of the 2025 era, durations are 1 ms to 24 h, the listen address parses, the
//   bounds (JSON depth 32-4096, header bytes >= 1024, header fields >= 8) hold, every auth token
//   is an RFC 6750 b64token, and a server without tokens of its own has the global ones;
// - the same with TBXark's -expand-env (env_expansion::whole_text), on the expanded text;
// - a loaded config, written back as JSON by this target, loads again to the same values (the
//   fields written below), unless a value holds "${" (it came from the environment: the file
//   format has no way to write it literally).
// Known and tolerated (known_port_junk): Boost.URL 1.81 reads "http://h:80abc/mcp" as port 80
// and the rootless path "abc/mcp" (boostorg/url#680), so such a url loads; requests to it would
// carry the target "abc/mcp". Set known_port_junk to false to check that urls have a path that
// is empty or starts with '/'.

#include "config/config.hpp"
#include "config/config_values.hpp"
#include "protocol/bearer_auth.hpp"

#include <boost/json.hpp>
#include <boost/url/parse.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>

namespace {

namespace config = mcp_proxy::config;
namespace json = boost::json;
using namespace std::chrono_literals;

constexpr std::string_view origin = "fuzz.json";
constexpr bool known_port_junk = true;

void check(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "property violated: %s\n", what);
  __builtin_trap();
}

bool server_name_ok(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s)
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
          c == '.' || c == '-'))
      return false;
  return true;
}

bool has_nul(std::string_view s) {
  return s.find('\0') != std::string_view::npos;
}

bool duration_ok(std::chrono::milliseconds d) {
  return d >= 1ms && d <= std::chrono::hours(24);
}

bool absolute_http_url(std::string_view s) {
  auto u = boost::urls::parse_uri(s);
  if (!u) return false;
  const auto path = u->encoded_path();
  return (u->scheme_id() == boost::urls::scheme::http ||
          u->scheme_id() == boost::urls::scheme::https) &&
         u->has_authority() && !u->encoded_host().empty() &&
         (known_port_junk || path.empty() || path.front() == '/');
}

void check_refusal(std::string_view text, const config::config_error& e) {
  check(!e.errors.empty(), "a refused config has no problem");
  check(e.errors.size() <= 100, "more than 100 problems kept");
  bool syntax = false;
  for (const auto& p : e.errors) {
    check(!p.path.empty(), "a problem without a path");
    check(!p.message.empty(), "a problem without a message");
    if (p.path.starts_with("line ")) {
      syntax = true;
      // "line L, column C (byte B)": B is an offset into the text.
      const auto at = p.path.rfind("(byte ");
      check(at != std::string::npos, "a syntax error without its byte offset");
      check(std::strtoull(p.path.c_str() + at + 6, nullptr, 10) <= text.size(),
            "a syntax error past the end of the text");
    } else {
      check(p.path.starts_with("$"), "a problem path is neither $... nor line ...");
    }
  }
  check(!syntax || e.errors.size() == 1, "invalid JSON reported with other problems");

  // One line a problem, in order, then maybe the count of those left out.
  std::size_t line_no = 0, start = 0;
  for (;;) {
    const auto nl = e.message.find('\n', start);
    const std::string_view line =
        std::string_view(e.message).substr(start, nl == std::string::npos ? nl : nl - start);
    if (line_no < e.errors.size()) {
      const auto& p = e.errors[line_no];
      check(line == std::string(origin) + ": " + p.path + ": " + p.message,
            "a message line is not \"origin: path: message\" of its problem");
    } else {
      check(line_no == e.errors.size() && e.errors.size() == 100 && line.starts_with(origin) &&
                line.ends_with(" more errors not shown"),
            "a message has more lines than problems");
    }
    ++line_no;
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  check(line_no >= e.errors.size(), "a message has fewer lines than problems");
}

void check_filters(const config::item_filters& filters) {
  for (const auto* f : {&filters.tools, &filters.prompts, &filters.resources})
    check(f->mode != config::name_filter::filter_mode::none || f->patterns.empty(),
          "patterns in a filter without a mode");
}

// A loaded token fits an Authorization header as it is (RFC 6750 b64token).
void check_tokens(const std::vector<config::auth_token>& tokens) {
  for (const auto& t : tokens)
    check(mcp_proxy::protocol::is_b64token(t.token), "a loaded token is not a b64token");
}

void check_loaded(const config::config& c) {
  const auto& p = c.proxy;
  check(config::parse_listen_address(p.addr).has_value(), "the listen address does not parse");
  check(p.base_url.empty() || absolute_http_url(p.base_url), "baseURL is not an http(s) URL");
  check(p.max_json_depth >= 32 && p.max_json_depth <= 4096, "maxJsonDepth out of bounds");
  check(p.max_header_bytes >= 1024 && p.max_headers >= 8, "header bounds too small");
  check(p.max_body_bytes > 0 && p.max_connections > 0 && p.max_connections_per_peer > 0 &&
            p.max_sessions > 0 && p.replay_events > 0 && p.replay_streams > 0 && p.replay_bytes > 0,
        "a count is 0");
  check(duration_ok(p.header_timeout) && duration_ok(p.fan_out_timeout) &&
            duration_ok(p.session_idle_timeout),
        "a timeout out of 1ms..24h");
  check((p.list_cache_ttl == 0ms || duration_ok(p.list_cache_ttl)) &&
            (p.close_stream_after == 0ms || duration_ok(p.close_stream_after)),
        "a duration out of 0 or 1ms..24h");
  check(!p.tool_name_separator.empty(), "an empty tool name separator");
  for (const auto& o : p.allowed_origins)
    check(config::detail::is_origin(o), "an allowed origin is not an origin");
  check_filters(p.default_filters);

  check_tokens(p.auth_tokens);
  std::set<std::string_view> names;
  for (const auto& s : c.servers) {
    check_tokens(s.auth_tokens);
    check(s.own_auth_tokens || s.auth_tokens == p.auth_tokens,
          "a server without tokens of its own does not have the global ones");
    check(server_name_ok(s.name), "a server name is not [A-Za-z0-9_.-]{1,64}");
    check(names.insert(s.name).second, "two servers have one name");
    check(duration_ok(s.timeout), "a server timeout out of 1ms..24h");
    check(s.max_message_bytes > 0 && s.log_lines_per_second > 0 && s.call_backlog_events > 0 &&
              s.call_backlog_bytes > 0,
          "a server count is 0");
    if (s.transport == config::transport_type::stdio) {
      check(!s.command.empty() && s.url.empty(), "a stdio server without a command, or a url");
      check(!has_nul(s.command), "NUL in a command");
      for (const auto& a : s.args) check(!has_nul(a), "NUL in an argument");
      for (const auto& [k, v] : s.env)
        check(!k.empty() && k.find('=') == std::string::npos && !has_nul(k) && !has_nul(v),
              "a bad environment entry");
      check(!s.cwd || (!s.cwd->empty() && !has_nul(*s.cwd)), "a bad cwd");
      check(!s.detect_transport, "transport detection on a stdio server");
    } else {
      check(s.command.empty(), "an HTTP server with a command");
      check(absolute_http_url(s.url), "a server url is not an absolute http(s) URL with a host");
      auto again = config::detail::normalize_http_url(s.url);
      check(again && *again == s.url, "a server url does not normalize to itself");
      for (const auto& [k, v] : s.headers)
        check(config::detail::is_header_token(k) &&
                  v.find_first_of(std::string_view("\r\n\0", 3)) == std::string::npos,
              "a bad header");
      if (s.transport == config::transport_type::sse)
        check(s.era == config::backend_era::legacy && !s.detect_transport,
              "a legacy SSE server not of the 2025 era");
    }
    check_filters(s.filters);
  }
  std::set<std::string_view> groups;
  for (const auto& g : c.groups) {
    check(server_name_ok(g.name), "a group name is not [A-Za-z0-9_.-]{1,64}");
    check(groups.insert(g.name).second, "two groups have one name");
    check(!names.contains(g.name), "a group has a server's name");
    for (const auto& m : g.servers) check(names.contains(m), "a group names no server");
  }
}

// --- writing a loaded config back ---------------------------------------------------------------

struct writer {
  bool representable = true;  // false once a value holds "${"

  json::value str(const std::string& s) {
    if (s.find("${") != std::string::npos) representable = false;
    return json::string(s);
  }
  json::value strings(const std::vector<std::string>& v) {
    json::array a;
    for (const auto& s : v) a.push_back(str(s));
    return a;
  }
  json::value map(const std::map<std::string, std::string>& m) {
    json::object o;
    for (const auto& [k, v] : m) o[k] = str(v);
    return o;
  }
  static json::value ms(std::chrono::milliseconds d) {
    if (d == 0ms) return 0;
    return json::string(std::to_string(d.count()) + "ms");
  }
  json::value filter(const config::name_filter& f) {
    using mode = config::name_filter::filter_mode;
    return json::object{{"mode", f.mode == mode::allow ? "allow" : "block"},
                        {"list", strings(f.patterns)}};
  }
  void filters(json::object& o, const config::item_filters& f) {
    if (!f.tools.empty()) o["toolFilter"] = filter(f.tools);
    if (!f.prompts.empty()) o["promptFilter"] = filter(f.prompts);
    if (!f.resources.empty()) o["resourceFilter"] = filter(f.resources);
  }

  json::value server(const config::server_config& s) {
    json::object o;
    if (s.transport == config::transport_type::stdio) {
      o["command"] = str(s.command);
    } else {
      o["url"] = str(s.url);
      if (!s.detect_transport)
        o["transportType"] = s.transport == config::transport_type::sse ? "sse" : "streamable-http";
    }
    o["args"] = strings(s.args);
    o["env"] = map(s.env);
    if (s.cwd) o["cwd"] = str(*s.cwd);
    o["headers"] = map(s.headers);
    if (s.tls_ca_file) o["tlsCaFile"] = str(*s.tls_ca_file);
    o["tlsInsecureSkipVerify"] = s.tls_insecure_skip_verify;
    o["timeout"] = ms(s.timeout);
    o["maxMessageBytes"] = s.max_message_bytes;
    o["logLinesPerSecond"] = s.log_lines_per_second;
    o["callBacklogEvents"] = s.call_backlog_events;
    o["callBacklogBytes"] = s.call_backlog_bytes;
    o["sessionMode"] = s.mode == config::session_mode::per_client ? "per-client" : "shared";
    o["protocol"] = s.era == config::backend_era::modern   ? "2026-07-28"
                    : s.era == config::backend_era::legacy ? "2025-11-25"
                                                           : "auto";
    o["disabled"] = s.disabled;
    if (s.prefix) o["prefix"] = str(*s.prefix);
    json::object options;
    filters(options, s.filters);
    if (!options.empty()) o["options"] = std::move(options);
    return o;
  }

  json::value document(const config::config& c) {
    const auto& p = c.proxy;
    json::object proxy{
        {"addr", str(p.addr)},
        {"name", str(p.name)},
        {"version", str(p.version)},
        {"allowedOrigins", strings(p.allowed_origins)},
        {"allowedHosts", strings(p.allowed_hosts)},
        {"maxBodyBytes", p.max_body_bytes},
        {"maxJsonDepth", p.max_json_depth},
        {"maxConnections", p.max_connections},
        {"maxConnectionsPerPeer", p.max_connections_per_peer},
        {"headerTimeout", ms(p.header_timeout)},
        {"maxHeaderBytes", p.max_header_bytes},
        {"maxHeaders", p.max_headers},
        {"getStream", p.get_stream},
        {"closeStreamAfter", ms(p.close_stream_after)},
        {"replayEvents", p.replay_events},
        {"replayStreams", p.replay_streams},
        {"replayBytes", p.replay_bytes},
        {"sessionIdleTimeout", ms(p.session_idle_timeout)},
        {"maxSessions", p.max_sessions},
        {"aggregate", p.aggregate},
        {"toolNameSeparator", str(p.tool_name_separator)},
        {"pageSize", p.page_size},
        {"listCacheTTL", ms(p.list_cache_ttl)},
        {"fanOutTimeout", ms(p.fan_out_timeout)},
    };
    if (!p.base_url.empty()) proxy["baseURL"] = str(p.base_url);
    json::object options;
    filters(options, p.default_filters);
    if (!options.empty()) proxy["options"] = std::move(options);
    json::object groups;
    for (const auto& g : c.groups) {
      json::object o{{"servers", strings(g.servers)}};
      filters(o, g.filters);
      groups[g.name] = std::move(o);
    }
    if (!groups.empty()) proxy["groups"] = std::move(groups);
    json::object servers;
    for (const auto& s : c.servers) servers[s.name] = server(s);
    return json::object{{"mcpProxy", std::move(proxy)}, {"mcpServers", std::move(servers)}};
  }
};

bool same(const config::name_filter& a, const config::name_filter& b) {
  return a.mode == b.mode && a.patterns == b.patterns;
}
bool same(const config::item_filters& a, const config::item_filters& b) {
  return same(a.tools, b.tools) && same(a.prompts, b.prompts) && same(a.resources, b.resources);
}

bool same(const config::server_config& a, const config::server_config& b) {
  return a.name == b.name && a.transport == b.transport && a.command == b.command &&
         a.args == b.args && a.env == b.env && a.cwd == b.cwd && a.url == b.url &&
         a.headers == b.headers && a.detect_transport == b.detect_transport &&
         a.tls_ca_file == b.tls_ca_file &&
         a.tls_insecure_skip_verify == b.tls_insecure_skip_verify && a.timeout == b.timeout &&
         a.max_message_bytes == b.max_message_bytes &&
         a.log_lines_per_second == b.log_lines_per_second &&
         a.call_backlog_events == b.call_backlog_events &&
         a.call_backlog_bytes == b.call_backlog_bytes && a.mode == b.mode && a.era == b.era &&
         a.disabled == b.disabled && a.prefix == b.prefix && same(a.filters, b.filters);
}

bool same(const config::config& a, const config::config& b) {
  const auto &p = a.proxy, &q = b.proxy;
  if (!(p.addr == q.addr && p.base_url == q.base_url && p.name == q.name &&
        p.version == q.version && p.allowed_origins == q.allowed_origins &&
        p.allowed_hosts == q.allowed_hosts && p.max_body_bytes == q.max_body_bytes &&
        p.max_json_depth == q.max_json_depth && p.max_connections == q.max_connections &&
        p.max_connections_per_peer == q.max_connections_per_peer &&
        p.header_timeout == q.header_timeout && p.max_header_bytes == q.max_header_bytes &&
        p.max_headers == q.max_headers && p.get_stream == q.get_stream &&
        p.close_stream_after == q.close_stream_after && p.replay_events == q.replay_events &&
        p.replay_streams == q.replay_streams && p.replay_bytes == q.replay_bytes &&
        p.session_idle_timeout == q.session_idle_timeout && p.max_sessions == q.max_sessions &&
        p.aggregate == q.aggregate && p.tool_name_separator == q.tool_name_separator &&
        p.page_size == q.page_size && p.list_cache_ttl == q.list_cache_ttl &&
        p.fan_out_timeout == q.fan_out_timeout && same(p.default_filters, q.default_filters)))
    return false;
  if (a.servers.size() != b.servers.size() || a.groups.size() != b.groups.size()) return false;
  for (std::size_t i = 0; i < a.servers.size(); ++i)
    if (!same(a.servers[i], b.servers[i])) return false;
  for (std::size_t i = 0; i < a.groups.size(); ++i)
    if (a.groups[i].name != b.groups[i].name || a.groups[i].servers != b.groups[i].servers ||
        !same(a.groups[i].filters, b.groups[i].filters))
      return false;
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // The variables a seed may reference; any other ${NAME} is most likely unset.
  setenv("FUZZ_HOST", "127.0.0.1", 1);
  setenv("FUZZ_PORT", "9090", 1);
  setenv("FUZZ_URL", "https://mcp.example.com/v1/mcp?key=k y", 1);
  setenv("FUZZ_TOKEN", "Bearer s3cret", 1);
  setenv("FUZZ_EMPTY", "", 1);
  setenv("FUZZ_DOLLAR", "${FUZZ_TOKEN}", 1);
  setenv("FUZZ_NEWLINE", "a\r\nb", 1);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  // TBXark's -expand-env ($NAME anywhere, before parsing): the same promises, of the expanded text.
  auto whole = config::parse_config(text, origin, {config::env_expansion::whole_text});
  if (!whole)
    check_refusal(config::expand_env_like_go(text), whole.error());
  else
    check_loaded(*whole);
  auto loaded = config::parse_config(text, origin);
  if (!loaded) {
    check_refusal(text, loaded.error());
    return 0;
  }
  check_loaded(*loaded);

  writer w;
  const auto written = json::serialize(w.document(*loaded));
  if (!w.representable) return 0;
  auto again = config::parse_config(written, origin);
  if (!again) {
    std::fprintf(stderr, "written back:\n%s\nrefused:\n%s\n", written.c_str(),
                 again.error().message.c_str());
    check(false, "a loaded config written back does not load");
  }
  check(same(*loaded, *again), "a loaded config written back loads to other values");
  return 0;
}
