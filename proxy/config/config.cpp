#include "config/config.hpp"

#include "protocol/patterns.hpp"

#include <boost/json/parser.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <boost/json/value.hpp>
#include <boost/throw_exception.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <system_error>
#include <utility>

namespace mcp_proxy::config {

bool name_filter::allows(std::string_view name) const {
  switch (mode) {
    case filter_mode::none:
      return true;
    case filter_mode::allow:
      return protocol::any_glob_matches(patterns, name);
    case filter_mode::block:
      return !protocol::any_glob_matches(patterns, name);
  }
  return true;
}

namespace json = boost::json;

namespace {

// A config file is small; this bound keeps `--config /dev/zero` from eating memory.
constexpr std::size_t max_config_file_bytes = 16u * 1024 * 1024;
// Longest per-request deadline: longer ones are surely a mistake, and timer arithmetic with huge
// values would overflow the clock.
constexpr std::chrono::milliseconds max_timeout = std::chrono::hours(24);
// Echoed values (enum names, addresses) are cut to this length in messages.
constexpr std::size_t max_echo_chars = 80;

bool is_ascii_alpha(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}
bool is_ascii_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_ascii_alnum(char c) {
  return is_ascii_alpha(c) || is_ascii_digit(c);
}

bool is_identifier(std::string_view s) {
  if (s.empty() || !(is_ascii_alpha(s[0]) || s[0] == '_')) return false;
  for (char c : s)
    if (!(is_ascii_alnum(c) || c == '_')) return false;
  return true;
}

// ^[A-Za-z0-9_.-]{1,64}$: server names become URL path segments and tool-name prefixes.
// Characters a tool name may have (spec 2025-11-25 server/tools: tool names).
bool protocol_name_chars(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  });
}

bool is_valid_server_name(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s)
    if (!(is_ascii_alnum(c) || c == '_' || c == '.' || c == '-')) return false;
  return true;
}

// RFC 9110 token, the syntax of a header name.
bool is_header_token(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!(is_ascii_alnum(c) ||
          std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos))
      return false;
  return true;
}

// A JSON string literal for `s`: escapes quotes and control characters, so that messages stay on
// one line whatever the file holds. Long values are shortened.
std::string quoted(std::string_view s) {
  if (s.size() <= max_echo_chars) return json::serialize(json::string(s));
  return json::serialize(json::string(s.substr(0, max_echo_chars))) + "...";
}

std::string child_path(std::string_view parent, std::string_view key) {
  std::string p(parent);
  if (is_identifier(key)) {
    p += '.';
    p += key;
  } else {
    p += '[';
    p += quoted(key);
    p += ']';
  }
  return p;
}

std::string index_path(std::string_view parent, std::size_t i) {
  return std::string(parent) + "[" + std::to_string(i) + "]";
}

std::string_view kind_name(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      return "null";
    case json::kind::bool_:
      return "a boolean";
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_:
      return "a number";
    case json::kind::string:
      return "a string";
    case json::kind::array:
      return "an array";
    case json::kind::object:
      return "an object";
  }
  return "an unknown value";
}

bool ascii_iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// Percent-encodes the bytes a URI may not hold (space, <>"{}|\\^`, controls, non-ASCII), as
// browsers and Go's net/url tolerate them: configs copied from vendor pages often carry a
// "?key=<key>" placeholder or a raw space.
std::string encode_disallowed_uri_bytes(std::string_view s) {
  constexpr std::string_view allowed = "-._~:/?#[]@!$&'()*+,;=%";
  constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (is_ascii_alnum(c) || allowed.find(c) != std::string_view::npos) {
      out += c;
    } else {
      auto b = static_cast<unsigned char>(c);
      out += '%';
      out += hex[b >> 4];
      out += hex[b & 0xF];
    }
  }
  return out;
}

// An absolute http or https URL with a host (userinfo is the user's business), returned with
// disallowed bytes percent-encoded so that later consumers can parse it with Boost.URL.
std::optional<std::string> normalize_http_url(std::string_view s) {
  std::string encoded = encode_disallowed_uri_bytes(s);
  auto u = boost::urls::parse_uri(encoded);
  if (!u) return std::nullopt;
  auto scheme = u->scheme_id();
  if (scheme != boost::urls::scheme::http && scheme != boost::urls::scheme::https)
    return std::nullopt;
  if (!u->has_authority() || u->encoded_host().empty()) return std::nullopt;
  return encoded;
}

// "*" or scheme://host[:port], the shape of an Origin header.
bool is_origin(std::string_view s) {
  if (s == "*") return true;
  auto u = boost::urls::parse_uri(s);
  return u && u->has_authority() && !u->encoded_host().empty() && !u->has_userinfo() &&
         u->encoded_path().empty() && !u->has_query() && !u->has_fragment();
}

// 1-based line and column (in characters, counting UTF-8 sequences once) of a byte offset.
std::pair<std::size_t, std::size_t> line_and_column(std::string_view text, std::size_t offset) {
  offset = std::min(offset, text.size());
  std::size_t line = 1, column = 1;
  for (std::size_t i = 0; i < offset; ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c == '\n') {
      ++line;
      column = 1;
    } else if ((c & 0xC0) != 0x80) {
      ++column;
    }
  }
  return {line, column};
}

// Walks the parsed document. Every read_* returns false after recording the first error, so
// callers just `return false` on failure.
class reader {
 public:
  reader(std::string_view origin, std::vector<std::string>& warnings)
      : origin_(origin), warnings_(warnings) {}

  config_error take_error() { return std::move(*error_); }

  bool read_root(const json::value& root, config& out);

 private:
  bool fail(std::string_view path, std::string_view what) {
    if (!error_)
      error_ =
          config_error{std::string(origin_) + ": " + std::string(path) + ": " + std::string(what)};
    return false;
  }
  bool type_error(std::string_view path, std::string_view expected, const json::value& got) {
    return fail(path, "expected " + std::string(expected) + ", got " + std::string(kind_name(got)));
  }
  void warn(std::string_view path, std::string_view what) {
    warnings_.push_back(std::string(origin_) + ": " + std::string(path) + ": " + std::string(what));
  }
  void warn_unknown(std::string_view path) { warn(path, "unknown key, ignored"); }

  bool expand(std::string_view path, std::string_view raw, std::string& out);
  bool read_string(const json::value& v, std::string_view path, std::string& out);
  bool read_non_empty_string(const json::value& v, std::string_view path, std::string& out);
  bool read_bool(const json::value& v, std::string_view path, bool& out);
  bool read_string_array(const json::value& v, std::string_view path,
                         std::vector<std::string>& out);
  bool read_string_map(const json::value& v, std::string_view path,
                       std::map<std::string, std::string>& out);
  bool read_timeout(const json::value& v, std::string_view path, std::chrono::milliseconds& out);
  bool read_positive_integer(const json::value& v, std::string_view path, std::uint64_t& out);
  bool read_filter(const json::value& v, std::string_view path, name_filter& out);
  bool read_options(const json::value& v, std::string_view path, bool is_server, bool& disabled,
                    item_filters& filters);
  bool read_groups(const json::value& v, std::string_view path, std::vector<group_config>& out);
  bool read_duration_or_zero(const json::value& v, std::string_view path,
                             std::chrono::milliseconds& out);
  bool check_groups(const config& cfg);
  bool read_proxy(const json::value& v, std::string_view path, proxy_config& out);
  bool read_servers(const json::value& v, std::string_view path, std::vector<server_config>& out);
  bool read_server(std::string_view name, const json::value& v, std::string_view path,
                   server_config& out);

  std::string_view origin_;
  std::vector<std::string>& warnings_;
  std::optional<config_error> error_;
  std::vector<group_config> groups_;  // mcpProxy.groups, checked once the servers are known
};

// Replaces each ${NAME} with the environment variable NAME. Only that form is special: "$NAME"
// and a lone "$" stay as written.
bool reader::expand(std::string_view path, std::string_view raw, std::string& out) {
  out.clear();
  std::size_t i = 0;
  while (i < raw.size()) {
    auto start = raw.find("${", i);
    if (start == std::string_view::npos) {
      out.append(raw.substr(i));
      break;
    }
    out.append(raw.substr(i, start - i));
    auto end = raw.find('}', start + 2);
    if (end == std::string_view::npos)
      return fail(path, "unterminated \"${\" (write ${NAME} to use an environment variable)");
    auto name = raw.substr(start + 2, end - start - 2);
    if (!is_identifier(name))
      return fail(path, "invalid variable reference " + quoted(raw.substr(start, end - start + 1)) +
                            " (write ${NAME}, NAME made of letters, digits and _)");
    const char* value = std::getenv(std::string(name).c_str());
    if (!value) return fail(path, "environment variable " + std::string(name) + " is not set");
    out.append(value);
    i = end + 1;
  }
  return true;
}

bool reader::read_string(const json::value& v, std::string_view path, std::string& out) {
  const auto* s = v.if_string();
  if (!s) return type_error(path, "a string", v);
  return expand(path, std::string_view(s->data(), s->size()), out);
}

bool reader::read_non_empty_string(const json::value& v, std::string_view path, std::string& out) {
  if (!read_string(v, path, out)) return false;
  if (out.empty()) return fail(path, "must not be empty");
  return true;
}

bool reader::read_bool(const json::value& v, std::string_view path, bool& out) {
  const auto* b = v.if_bool();
  if (!b) return type_error(path, "a boolean", v);
  out = *b;
  return true;
}

bool reader::read_string_array(const json::value& v, std::string_view path,
                               std::vector<std::string>& out) {
  const auto* a = v.if_array();
  if (!a) return type_error(path, "an array of strings", v);
  out.clear();
  out.reserve(a->size());
  for (std::size_t i = 0; i < a->size(); ++i) {
    std::string s;
    if (!read_string((*a)[i], index_path(path, i), s)) return false;
    out.push_back(std::move(s));
  }
  return true;
}

bool reader::read_string_map(const json::value& v, std::string_view path,
                             std::map<std::string, std::string>& out) {
  const auto* o = v.if_object();
  if (!o) return type_error(path, "an object of strings", v);
  out.clear();
  for (const auto& kv : *o) {
    std::string_view key(kv.key().data(), kv.key().size());
    std::string s;
    if (!read_string(kv.value(), child_path(path, key), s)) return false;
    out.insert_or_assign(std::string(key), std::move(s));
  }
  return true;
}

bool reader::read_positive_integer(const json::value& v, std::string_view path,
                                   std::uint64_t& out) {
  if (v.is_int64() && v.get_int64() > 0) {
    out = static_cast<std::uint64_t>(v.get_int64());
  } else if (v.is_uint64()) {
    out = v.get_uint64();
  } else if (v.is_double() && v.get_double() > 0 && v.get_double() < 1e18 &&
             std::floor(v.get_double()) == v.get_double()) {
    out = static_cast<std::uint64_t>(v.get_double());
  } else if (v.is_number()) {
    return fail(path, "expected a positive integer");
  } else {
    return type_error(path, "a positive integer", v);
  }
  return true;
}

bool reader::read_timeout(const json::value& v, std::string_view path,
                          std::chrono::milliseconds& out) {
  std::optional<std::chrono::milliseconds> d;
  if (v.is_number()) {
    double seconds = v.to_number<double>();
    // Boost.JSON reads 1e400 as infinity.
    if (!std::isfinite(seconds) || seconds > static_cast<double>(max_timeout.count()) / 1000)
      return fail(path, "must be at most 24h");
    if (seconds <= 0) return fail(path, "must be greater than 0");
    d = std::chrono::milliseconds(std::llround(seconds * 1000));
  } else if (v.is_string()) {
    std::string s;
    if (!read_string(v, path, s)) return false;
    d = parse_duration(s);
    if (!d)
      return fail(
          path,
          "expected a duration such as \"30s\", \"1500ms\", \"2m\" or \"1m30s\", got " + quoted(s));
  } else {
    return type_error(path, "a number of seconds or a duration string", v);
  }
  if (*d <= std::chrono::milliseconds::zero()) return fail(path, "must be at least 1ms");
  if (*d > max_timeout) return fail(path, "must be at most 24h");
  out = *d;
  return true;
}

// {"mode": "allow" | "block", "list": [patterns]}: TBXark's tool filter, also used for prompts
// and resources.
bool reader::read_filter(const json::value& v, std::string_view path, name_filter& out) {
  const auto* o = v.if_object();
  if (!o) return type_error(path, "an object", v);
  out = {};
  auto mode = name_filter::filter_mode::none;
  for (const auto& kv : *o) {
    std::string_view key(kv.key().data(), kv.key().size());
    auto p = child_path(path, key);
    if (key == "mode") {
      std::string text;
      if (!read_string(kv.value(), p, text)) return false;
      // TBXark lower-cases the mode, so "Allow" works there too.
      if (ascii_iequals(text, "allow"))
        mode = name_filter::filter_mode::allow;
      else if (ascii_iequals(text, "block"))
        mode = name_filter::filter_mode::block;
      else
        return fail(p, "expected \"allow\" or \"block\", got " + quoted(text));
    } else if (key == "list") {
      if (!read_string_array(kv.value(), p, out.patterns)) return false;
    } else {
      warn_unknown(p);
    }
  }
  if (mode == name_filter::filter_mode::none && !out.patterns.empty())
    return fail(path, "missing \"mode\": expected \"allow\" or \"block\" with a \"list\"");
  // An allow filter with an empty list lets nothing through, as its words say.
  out.mode = mode;
  return true;
}

bool reader::read_duration_or_zero(const json::value& v, std::string_view path,
                                   std::chrono::milliseconds& out) {
  if ((v.is_number() && v.to_number<double>() == 0) || (v.is_string() && v.get_string() == "0")) {
    out = std::chrono::milliseconds::zero();
    return true;
  }
  return read_timeout(v, path, out);
}

bool reader::read_groups(const json::value& v, std::string_view path,
                         std::vector<group_config>& out) {
  const auto* o = v.if_object();
  if (!o) return type_error(path, "an object of groups", v);
  out.clear();
  for (const auto& kv : *o) {
    std::string_view name(kv.key().data(), kv.key().size());
    auto gp = child_path(path, name);
    if (!is_valid_server_name(name))
      return fail(gp, "invalid group name " + quoted(name) +
                          ": use 1 to 64 of A-Z a-z 0-9 _ . - (names become URL path segments)");
    const auto* g = kv.value().if_object();
    if (!g) return type_error(gp, "an object", kv.value());
    group_config group;
    group.name = std::string(name);
    for (const auto& gkv : *g) {
      std::string_view key(gkv.key().data(), gkv.key().size());
      auto p = child_path(gp, key);
      if (key == "servers") {
        if (!read_string_array(gkv.value(), p, group.servers)) return false;
      } else if (key == "toolFilter") {
        if (!read_filter(gkv.value(), p, group.filters.tools)) return false;
      } else if (key == "promptFilter") {
        if (!read_filter(gkv.value(), p, group.filters.prompts)) return false;
      } else if (key == "resourceFilter") {
        if (!read_filter(gkv.value(), p, group.filters.resources)) return false;
      } else {
        warn_unknown(p);
      }
    }
    out.push_back(std::move(group));
  }
  return true;
}

// Groups name configured servers and never share a route with one.
bool reader::check_groups(const config& cfg) {
  for (std::size_t i = 0; i < cfg.groups.size(); ++i) {
    const auto& g = cfg.groups[i];
    const auto path = child_path("$.mcpProxy.groups", g.name);
    for (const auto& s : cfg.servers)
      if (s.name == g.name)
        return fail(path, "group " + quoted(g.name) +
                              " has the name of a server: both would be served at /" + g.name +
                              "/mcp");
    for (std::size_t j = 0; j < g.servers.size(); ++j) {
      const auto& wanted = g.servers[j];
      bool known = false;
      for (const auto& s : cfg.servers) known = known || s.name == wanted;
      if (!known)
        return fail(index_path(child_path(path, "servers"), j),
                    "no server named " + quoted(wanted) + " in mcpServers");
    }
  }
  return true;
}

bool reader::read_options(const json::value& v, std::string_view path, bool is_server,
                          bool& disabled, item_filters& filters) {
  const auto* o = v.if_object();
  if (!o) return type_error(path, "an object", v);
  for (const auto& kv : *o) {
    std::string_view key(kv.key().data(), kv.key().size());
    auto p = child_path(path, key);
    bool ignored = false;
    if (key == "panicIfInvalid" || key == "logEnabled") {
      if (!read_bool(kv.value(), p, ignored)) return false;
    } else if (key == "authTokens") {
      std::vector<std::string> tokens;
      if (!read_string_array(kv.value(), p, tokens)) return false;
      for (std::size_t i = 0; i < tokens.size(); ++i)
        if (tokens[i].empty()) return fail(index_path(p, i), "must not be empty");
      if (!tokens.empty())
        warn(p, "authTokens are not enforced yet: requests are NOT authenticated");
    } else if (key == "toolFilter") {
      if (!read_filter(kv.value(), p, filters.tools)) return false;
    } else if (key == "promptFilter") {
      if (!read_filter(kv.value(), p, filters.prompts)) return false;
    } else if (key == "resourceFilter") {
      if (!read_filter(kv.value(), p, filters.resources)) return false;
    } else if (key == "disabled" && is_server) {
      if (!read_bool(kv.value(), p, disabled)) return false;
    } else {
      warn_unknown(p);
    }
  }
  return true;
}

bool reader::read_proxy(const json::value& v, std::string_view path, proxy_config& out) {
  const auto* o = v.if_object();
  if (!o) return type_error(path, "an object", v);
  for (const auto& kv : *o) {
    std::string_view key(kv.key().data(), kv.key().size());
    const auto& val = kv.value();
    auto p = child_path(path, key);
    if (key == "addr") {
      if (!read_string(val, p, out.addr)) return false;
      if (!parse_listen_address(out.addr))
        return fail(p,
                    "expected \"host:port\", \":port\" or \"[ipv6]:port\" with a port from 0 "
                    "to 65535, got " +
                        quoted(out.addr));
    } else if (key == "baseURL") {
      if (!read_string(val, p, out.base_url)) return false;
      if (!out.base_url.empty()) {
        auto normalized = normalize_http_url(out.base_url);
        if (!normalized) return fail(p, "expected an absolute http or https URL");
        out.base_url = std::move(*normalized);
      }
    } else if (key == "name") {
      if (!read_string(val, p, out.name)) return false;
    } else if (key == "version") {
      if (!read_string(val, p, out.version)) return false;
    } else if (key == "type") {
      std::string type;
      if (!read_string(val, p, type)) return false;
      // Both client transports are always served (/{name}/mcp and /{name}/sse); the key stays
      // valid for TBXark configs.
      if (type != "sse" && type != "streamable-http")
        return fail(p, "expected \"sse\" or \"streamable-http\", got " + quoted(type));
    } else if (key == "options") {
      bool unused = false;
      if (!read_options(val, p, false, unused, out.default_filters)) return false;
    } else if (key == "aggregate") {
      if (!read_bool(val, p, out.aggregate)) return false;
    } else if (key == "toolNameSeparator") {
      if (!read_non_empty_string(val, p, out.tool_name_separator)) return false;
      if (!protocol_name_chars(out.tool_name_separator))
        return fail(p, "expected characters of A-Z a-z 0-9 _ - (tool names allow no others), got " +
                           quoted(out.tool_name_separator));
    } else if (key == "pageSize") {
      if (!(val.is_number() && val.to_number<double>() == 0) &&
          !read_positive_integer(val, p, out.page_size))
        return false;
    } else if (key == "listCacheTTL") {
      if (!read_duration_or_zero(val, p, out.list_cache_ttl)) return false;
    } else if (key == "fanOutTimeout") {
      if (!read_timeout(val, p, out.fan_out_timeout)) return false;
    } else if (key == "closeStreamAfter") {
      if (!read_duration_or_zero(val, p, out.close_stream_after)) return false;
    } else if (key == "groups") {
      if (!read_groups(val, p, groups_)) return false;
    } else if (key == "allowedOrigins") {
      if (!read_string_array(val, p, out.allowed_origins)) return false;
      for (std::size_t i = 0; i < out.allowed_origins.size(); ++i)
        if (!is_origin(out.allowed_origins[i]))
          return fail(index_path(p, i),
                      "expected an origin such as \"https://app.example.com\" (scheme, host, "
                      "optional port, no path) or \"*\", got " +
                          quoted(out.allowed_origins[i]));
    } else if (key == "allowedHosts") {
      if (!read_string_array(val, p, out.allowed_hosts)) return false;
      for (std::size_t i = 0; i < out.allowed_hosts.size(); ++i)
        if (out.allowed_hosts[i].empty() ||
            out.allowed_hosts[i].find_first_of(" /\t\r\n") != std::string::npos)
          return fail(index_path(p, i),
                      "expected a host such as \"proxy.example.com\" or "
                      "\"proxy.example.com:8443\", or \"*\", got " +
                          quoted(out.allowed_hosts[i]));
    } else if (key == "maxBodyBytes") {
      if (!read_positive_integer(val, p, out.max_body_bytes)) return false;
    } else if (key == "replayEvents") {
      if (!read_positive_integer(val, p, out.replay_events)) return false;
    } else if (key == "replayStreams") {
      if (!read_positive_integer(val, p, out.replay_streams)) return false;
    } else if (key == "replayBytes") {
      if (!read_positive_integer(val, p, out.replay_bytes)) return false;
    } else if (key == "maxSessions") {
      if (!read_positive_integer(val, p, out.max_sessions)) return false;
    } else if (key == "getStream") {
      if (!read_bool(val, p, out.get_stream)) return false;
    } else if (key == "sessionIdleTimeout") {
      if (!read_timeout(val, p, out.session_idle_timeout)) return false;
    } else {
      warn_unknown(p);
    }
  }
  return true;
}

std::optional<transport_type> transport_from_name(std::string_view s, bool claude_type_key) {
  if (s == "stdio") return transport_type::stdio;
  if (s == "sse") return transport_type::sse;
  if (s == "streamable-http") return transport_type::streamable_http;
  if (claude_type_key && s == "http") return transport_type::streamable_http;
  return std::nullopt;
}

std::string_view transport_name(transport_type t) {
  switch (t) {
    case transport_type::stdio:
      return "stdio";
    case transport_type::sse:
      return "sse";
    case transport_type::streamable_http:
      return "streamable-http";
  }
  return "unknown";
}

bool contains_nul(std::string_view s) {
  return s.find('\0') != std::string_view::npos;
}

bool reader::read_server(std::string_view name, const json::value& v, std::string_view path,
                         server_config& out) {
  if (!is_valid_server_name(name))
    return fail(path, "invalid server name " + quoted(name) +
                          ": use 1 to 64 of A-Z a-z 0-9 _ . - (names become URL path segments)");
  const auto* o = v.if_object();
  if (!o) return type_error(path, "an object", v);
  out.name = std::string(name);

  std::optional<std::string> command, url;
  // The explicit transport and the key that gave it, for messages.
  std::optional<transport_type> explicit_transport;
  std::string explicit_path;
  std::vector<std::string> stdio_only_keys, http_only_keys;
  bool options_disabled = false;

  for (const auto& kv : *o) {
    std::string_view key(kv.key().data(), kv.key().size());
    const auto& val = kv.value();
    auto p = child_path(path, key);
    if (key == "command") {
      std::string s;
      if (!read_non_empty_string(val, p, s)) return false;
      if (contains_nul(s)) return fail(p, "must not contain a NUL character");
      command = std::move(s);
    } else if (key == "args") {
      if (!read_string_array(val, p, out.args)) return false;
      for (std::size_t i = 0; i < out.args.size(); ++i)
        if (contains_nul(out.args[i]))
          return fail(index_path(p, i), "must not contain a NUL character");
      stdio_only_keys.push_back(p);
    } else if (key == "env") {
      if (!read_string_map(val, p, out.env)) return false;
      for (const auto& [k, value] : out.env) {
        if (k.empty() || k.find('=') != std::string::npos || contains_nul(k))
          return fail(child_path(p, k), "invalid environment variable name (empty, or has '=')");
        if (contains_nul(value)) return fail(child_path(p, k), "must not contain a NUL character");
      }
      stdio_only_keys.push_back(p);
    } else if (key == "cwd") {
      std::string s;
      if (!read_non_empty_string(val, p, s)) return false;
      if (contains_nul(s)) return fail(p, "must not contain a NUL character");
      out.cwd = std::move(s);
      stdio_only_keys.push_back(p);
    } else if (key == "url") {
      std::string s;
      if (!read_non_empty_string(val, p, s)) return false;
      url = std::move(s);
    } else if (key == "headers") {
      if (!read_string_map(val, p, out.headers)) return false;
      for (const auto& [k, value] : out.headers) {
        if (!is_header_token(k)) return fail(child_path(p, k), "invalid HTTP header name");
        if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos)
          return fail(child_path(p, k), "header value must not contain CR, LF or NUL");
      }
      http_only_keys.push_back(p);
    } else if (key == "timeout") {
      if (!read_timeout(val, p, out.timeout)) return false;
    } else if (key == "tlsCaFile") {
      std::string s;
      if (!read_non_empty_string(val, p, s)) return false;
      if (contains_nul(s)) return fail(p, "must not contain a NUL character");
      out.tls_ca_file = std::move(s);
      http_only_keys.push_back(p);
    } else if (key == "tlsInsecureSkipVerify") {
      if (!read_bool(val, p, out.tls_insecure_skip_verify)) return false;
      http_only_keys.push_back(p);
    } else if (key == "transportType" || key == "type") {
      // "transportType" is TBXark's key; "type" is Claude's (which also says "http").
      std::string s;
      if (!read_string(val, p, s)) return false;
      bool is_type = key == "type";
      auto t = transport_from_name(s, is_type);
      if (!t)
        return fail(p, std::string("expected \"stdio\", \"sse\"") + (is_type ? ", \"http\"" : "") +
                           " or \"streamable-http\", got " + quoted(s));
      if (explicit_transport && *explicit_transport != *t)
        return fail(p, "conflicts with " + explicit_path + " (" +
                           std::string(transport_name(*explicit_transport)) + ")");
      explicit_transport = t;
      explicit_path = p;
    } else if (key == "sessionMode") {
      std::string s;
      if (!read_string(val, p, s)) return false;
      if (s == "shared")
        out.mode = session_mode::shared;
      else if (s == "per-client")
        out.mode = session_mode::per_client;
      else
        return fail(p, "expected \"shared\" or \"per-client\", got " + quoted(s));
    } else if (key == "disabled") {
      if (!read_bool(val, p, out.disabled)) return false;
    } else if (key == "options") {
      if (!read_options(val, p, true, options_disabled, out.filters)) return false;
    } else if (key == "prefix") {
      std::string prefix;
      if (!read_string(val, p, prefix)) return false;
      if (!protocol_name_chars(prefix))
        return fail(p, "expected characters of A-Z a-z 0-9 _ - (tool names allow no others), got " +
                           quoted(prefix));
      out.prefix = std::move(prefix);
    } else {
      warn_unknown(p);
    }
  }
  out.disabled = out.disabled || options_disabled;

  if (command && url)
    return fail(path,
                "has both \"command\" and \"url\": a server is either a command (stdio) or a url");
  if (!command && !url)
    return fail(path, "needs \"command\" (a stdio server) or \"url\" (an HTTP server)");

  if (command) {
    if (explicit_transport && *explicit_transport != transport_type::stdio)
      return fail(explicit_path, std::string(transport_name(*explicit_transport)) +
                                     " needs a \"url\", but the server has a \"command\"");
    out.transport = transport_type::stdio;
    out.command = std::move(*command);
    for (const auto& p : http_only_keys) warn(p, "ignored for a stdio server");
    return true;
  }

  auto normalized = normalize_http_url(*url);
  // The url may carry a key (as in ?key=...), so it is not echoed.
  if (!normalized) return fail(child_path(path, "url"), "expected an absolute http or https URL");
  if (explicit_transport == transport_type::stdio)
    return fail(explicit_path, "stdio needs a \"command\", but the server has a \"url\"");
  if (explicit_transport) {
    out.transport = *explicit_transport;
  } else {
    // Parsed before, so this succeeds.
    auto parsed = boost::urls::parse_uri(*normalized);
    std::string_view url_path(parsed->encoded_path().data(), parsed->encoded_path().size());
    bool sse_path = url_path.size() >= 4 && url_path.substr(url_path.size() - 4) == "/sse";
    out.transport = sse_path ? transport_type::sse : transport_type::streamable_http;
    // Not said: Streamable HTTP first, legacy SSE if the server refuses it (spec 2025-11-25
    // basic/transports, backwards compatibility).
    out.detect_transport = !sse_path;
  }
  out.url = std::move(*normalized);
  for (const auto& p : stdio_only_keys) warn(p, "ignored for a server with a url");
  return true;
}

bool reader::read_servers(const json::value& v, std::string_view path,
                          std::vector<server_config>& out) {
  const auto* o = v.if_object();
  if (!o) return type_error(path, "an object", v);
  out.clear();
  out.reserve(o->size());
  for (const auto& kv : *o) {
    std::string_view name(kv.key().data(), kv.key().size());
    server_config s;
    if (!read_server(name, kv.value(), child_path(path, name), s)) return false;
    out.push_back(std::move(s));
  }
  if (out.empty()) {
    warn(path, "no servers configured");
  } else {
    bool any_enabled = false;
    for (const auto& s : out) any_enabled = any_enabled || !s.disabled;
    if (!any_enabled) warn(path, "every server is disabled");
  }
  return true;
}

bool reader::read_root(const json::value& root, config& out) {
  const auto* o = root.if_object();
  if (!o) return type_error("$", "an object", root);
  bool has_servers = false;
  for (const auto& kv : *o) {
    std::string_view key(kv.key().data(), kv.key().size());
    auto p = child_path("$", key);
    if (key == "mcpProxy") {
      if (!read_proxy(kv.value(), p, out.proxy)) return false;
    } else if (key == "mcpServers") {
      if (!read_servers(kv.value(), p, out.servers)) return false;
      has_servers = true;
    } else {
      warn_unknown(p);
    }
  }
  if (!has_servers) return fail("$", "missing required key \"mcpServers\"");
  out.groups = std::move(groups_);
  // mcpProxy.options filters are the default of servers without their own (as in TBXark).
  for (auto& s : out.servers) {
    if (s.filters.tools.empty()) s.filters.tools = out.proxy.default_filters.tools;
    if (s.filters.prompts.empty()) s.filters.prompts = out.proxy.default_filters.prompts;
    if (s.filters.resources.empty()) s.filters.resources = out.proxy.default_filters.resources;
  }
  return check_groups(out);
}

}  // namespace

boost::system::result<config, config_error> parse_config(std::string_view text,
                                                         std::string_view origin) {
  // Editors on Windows like to start UTF-8 files with a byte order mark.
  constexpr std::string_view bom = "\xEF\xBB\xBF";
  std::size_t skipped = 0;
  if (text.substr(0, bom.size()) == bom) skipped = bom.size();
  std::string_view body = text.substr(skipped);

  json::parser parser;
  json::error_code ec;
  std::size_t consumed = parser.write(body.data(), body.size(), ec);
  if (ec) {
    std::size_t offset = skipped + consumed;
    auto [line, column] = line_and_column(text, offset);
    return config_error{std::string(origin) + ": line " + std::to_string(line) + ", column " +
                        std::to_string(column) + " (byte " + std::to_string(offset) +
                        "): invalid JSON: " + ec.message()};
  }
  json::value root = parser.release();

  config out;
  reader r(origin, out.warnings);
  if (!r.read_root(root, out)) return r.take_error();
  return out;
}

boost::system::result<config, config_error> load_config_file(const std::string& path) {
  auto cannot_read = [&](int err) {
    return config_error{path + ": cannot read: " + std::generic_category().message(err)};
  };
  errno = 0;
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                       &std::fclose);
  if (!file) return cannot_read(errno);
  std::string text;
  char buffer[16 * 1024];
  for (;;) {
    std::size_t n = std::fread(buffer, 1, sizeof buffer, file.get());
    text.append(buffer, n);
    if (text.size() > max_config_file_bytes)
      return config_error{path + ": cannot read: larger than 16 MiB, not a config file"};
    if (n < sizeof buffer) break;
  }
  if (std::ferror(file.get())) return cannot_read(errno ? errno : EIO);
  return parse_config(text, path);
}

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  // Go's time.ParseDuration grammar without the sign: (number unit)+, number = digits with an
  // optional fraction. A bare number means seconds. The total must fit int64 nanoseconds, as in Go
  // (2562047h is the longest).
  constexpr double max_ns = 9223372036854775807.0;
  auto parse_number = [&](std::size_t& i, double& value) {
    bool digits = false;
    value = 0;
    while (i < text.size() && is_ascii_digit(text[i])) {
      value = value * 10 + (text[i] - '0');
      digits = true;
      ++i;
    }
    if (i < text.size() && text[i] == '.') {
      ++i;
      double scale = 0.1;
      while (i < text.size() && is_ascii_digit(text[i])) {
        value += (text[i] - '0') * scale;
        scale /= 10;
        digits = true;
        ++i;
      }
    }
    return digits;
  };
  auto to_ms = [&](double ns) -> std::optional<std::chrono::milliseconds> {
    if (!std::isfinite(ns) || ns > max_ns) return std::nullopt;
    return std::chrono::milliseconds(std::llround(ns / 1e6));
  };

  std::size_t i = 0;
  double value = 0;
  if (!parse_number(i, value)) return std::nullopt;
  if (i == text.size()) return to_ms(value * 1e9);

  struct unit {
    std::string_view suffix;
    double ns;
  };
  // Longest first, so "ms" is not read as "m" followed by garbage.
  static constexpr unit units[] = {
      {"ns", 1},   {"us", 1e3}, {"\xC2\xB5s", 1e3}, {"\xCE\xBCs", 1e3},
      {"ms", 1e6}, {"s", 1e9},  {"m", 60e9},        {"h", 3600e9},
  };
  double total_ns = 0;
  i = 0;
  while (i < text.size()) {
    if (!parse_number(i, value)) return std::nullopt;
    const unit* matched = nullptr;
    for (const auto& u : units) {
      if (text.substr(i, u.suffix.size()) == u.suffix) {
        matched = &u;
        break;
      }
    }
    if (!matched) return std::nullopt;
    i += matched->suffix.size();
    total_ns += value * matched->ns;
    if (!std::isfinite(total_ns) || total_ns > max_ns) return std::nullopt;
  }
  return to_ms(total_ns);
}

std::optional<listen_address> parse_listen_address(std::string_view addr) {
  auto parse_port = [](std::string_view s) -> std::optional<std::uint16_t> {
    if (s.empty() || s.size() > 5) return std::nullopt;
    unsigned value = 0;
    for (char c : s) {
      if (!is_ascii_digit(c)) return std::nullopt;
      value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (value > 65535) return std::nullopt;
    return static_cast<std::uint16_t>(value);
  };

  listen_address out;
  std::string_view port_text;
  if (!addr.empty() && addr.front() == '[') {
    auto close = addr.find(']');
    if (close == std::string_view::npos || close + 1 >= addr.size() || addr[close + 1] != ':')
      return std::nullopt;
    auto host = addr.substr(1, close - 1);
    if (host.find(':') == std::string_view::npos) return std::nullopt;
    for (char c : host)
      if (!(is_ascii_alnum(c) || c == ':' || c == '.' || c == '%' || c == '_' || c == '-'))
        return std::nullopt;
    out.host = std::string(host);
    port_text = addr.substr(close + 2);
  } else {
    auto colon = addr.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    auto host = addr.substr(0, colon);
    if (host.size() > 253) return std::nullopt;
    for (char c : host)
      if (!(is_ascii_alnum(c) || c == '.' || c == '-' || c == '_')) return std::nullopt;
    // ":9090" listens on loopback only: exposing the proxy takes an explicit "0.0.0.0:9090".
    out.host = host.empty() ? "127.0.0.1" : std::string(host);
    port_text = addr.substr(colon + 1);
  }
  auto port = parse_port(port_text);
  if (!port) return std::nullopt;
  out.port = *port;
  return out;
}

void throw_exception_from_error(const config_error& e, const boost::source_location& loc) {
  boost::throw_exception(std::runtime_error(e.message), loc);
}

}  // namespace mcp_proxy::config

namespace boost::system {
void throw_exception_from_error(const mcp_proxy::config::config_error& e,
                                const boost::source_location& loc) {
  mcp_proxy::config::throw_exception_from_error(e, loc);
}
}  // namespace boost::system
