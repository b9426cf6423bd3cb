#pragma once
// The walk over a parsed config document. Internal to config/. Each object kind (the root,
// mcpProxy, options, a server, a group, a filter) is a table of key rules; reader::read_object
// runs one over a JSON object, so that every kind treats unknown keys the same way and an unknown
// key can name the closest known one.
//
// Errors do not stop the walk: each is recorded with its path, and reading goes on with the next
// key, element or server, so that one run reports every problem of the file. A value with an
// error leaves its target unspecified; that is harmless, since the config is then refused.

#include "config/config.hpp"
#include "config/config_values.hpp"

#include <boost/json/value.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace mcp_proxy::config::detail {

class reader;

// How a known key is used.
enum class key_use {
  applied,     // read into the config
  no_effect,   // checked (a TBXark key), then ignored: TBXark configs keep working
  stdio_only,  // applied; a warning says it is ignored on a server with a url
  http_only,   // applied; a warning says it is ignored on a stdio server
};

// One known key of an object kind: its name, the function that reads (and checks) its value into
// the object's target, and how it is used.
template <class Target>
struct key_rule {
  std::string_view key;
  void (*read)(reader& r, const boost::json::value& value, std::string_view path,
               Target& target) = nullptr;
  key_use use = key_use::applied;
};

template <class Target>
const key_rule<Target>* find_rule(std::span<const key_rule<Target>> rules, std::string_view key) {
  auto it = std::find_if(rules.begin(), rules.end(), [&](const auto& r) { return r.key == key; });
  return it == rules.end() ? nullptr : &*it;
}

// The known key a misspelt one most likely means (the first of the closest), if any is close.
template <class Target>
std::optional<std::string_view> closest_key(std::span<const key_rule<Target>> rules,
                                            std::string_view unknown) {
  std::optional<std::string_view> closest;
  std::size_t closest_distance = 0;
  for (const auto& rule : rules) {
    auto d = typo_distance(unknown, rule.key);
    if (d && (!closest || *d < closest_distance)) {
      closest = rule.key;
      closest_distance = *d;
    }
  }
  return closest;
}

// A table that extends another (server options are mcpProxy's options and "disabled").
template <class T, std::size_t N, std::size_t M>
constexpr std::array<T, N + M> joined(const std::array<T, N>& a, const std::array<T, M>& b) {
  std::array<T, N + M> out{};
  std::copy(a.begin(), a.end(), out.begin());
  std::copy(b.begin(), b.end(), out.begin() + N);
  return out;
}

// Checks one string read from an array or a map; returns what is wrong, if anything.
using value_check = std::optional<std::string> (*)(const std::string& value);
using entry_check = std::optional<std::string> (*)(const std::string& key,
                                                   const std::string& value);

class reader {
 public:
  // `expand`: ${NAME} in string values is replaced from the environment.
  reader(std::string_view origin, std::vector<std::string>& warnings, bool expand = true)
      : origin_(origin), warnings_(warnings), expand_(expand) {}

  bool has_errors() const { return !errors_.empty(); }
  // Every error recorded, as parse_config returns it.
  config_error take_errors();

  // Records an error. Returns false, so that a check can `return r.fail(...)`.
  bool fail(std::string_view path, std::string_view what);
  bool type_error(std::string_view path, std::string_view expected, const boost::json::value& got);
  void warn(std::string_view path, std::string_view what);

  // Runs `rules` over the keys of `v`, in file order; an unknown key is a warning that names
  // the closest known key, if one is close. False (after an error) when `v` is no object.
  template <class Target>
  bool read_object(const boost::json::value& v, std::string_view path,
                   std::type_identity_t<std::span<const key_rule<Target>>> rules, Target& target) {
    const auto* o = v.if_object();
    if (!o) return type_error(path, "an object", v);
    for (const auto& kv : *o) {
      std::string_view key(kv.key().data(), kv.key().size());
      auto p = child_path(path, key);
      if (const auto* rule = find_rule(rules, key))
        rule->read(*this, kv.value(), p, target);
      else
        warn_unknown(p, closest_key(rules, key));
    }
    return true;
  }

  // Each returns whether the value was read; on false an error is recorded. Strings have their
  // ${VAR} references expanded (unless the reader was made without expansion).
  bool read_string(const boost::json::value& v, std::string_view path, std::string& out);
  bool read_non_empty_string(const boost::json::value& v, std::string_view path, std::string& out);
  bool read_bool(const boost::json::value& v, std::string_view path, bool& out);
  // Reads every element (each error is recorded), keeps those read, and runs `check` on each.
  bool read_string_array(const boost::json::value& v, std::string_view path,
                         std::vector<std::string>& out, value_check check = nullptr);
  bool read_string_map(const boost::json::value& v, std::string_view path,
                       std::map<std::string, std::string>& out, entry_check check = nullptr);
  bool read_positive_integer(const boost::json::value& v, std::string_view path,
                             std::uint64_t& out);
  // A number of seconds or a duration string, from 1ms to 24h.
  bool read_timeout(const boost::json::value& v, std::string_view path,
                    std::chrono::milliseconds& out);
  // A timeout, or 0 for "off".
  bool read_duration_or_zero(const boost::json::value& v, std::string_view path,
                             std::chrono::milliseconds& out);
  // {"mode": "allow" | "block", "list": [patterns]}.
  bool read_filter(const boost::json::value& v, std::string_view path, name_filter& out);

 private:
  bool expand(std::string_view path, std::string_view raw, std::string& out);
  void warn_unknown(std::string_view path, std::optional<std::string_view> closest);

  std::string_view origin_;
  std::vector<std::string>& warnings_;
  std::vector<config_problem> errors_;
  std::size_t errors_left_out_ = 0;  // past max_reported_errors
  bool expand_ = true;
};

// The whole document (config_keys.cpp).
void read_root(reader& r, const boost::json::value& root, config& out);
// A server's "options" (config_options.cpp): mcpProxy's options (filters and tokens, into
// `server`) and "disabled".
void read_server_options(reader& r, const boost::json::value& v, std::string_view path,
                         server_config& server, bool& disabled);
// A warning on `path` when `file` (a secret: tokens, a client secret) can be read by other users
// than its owner (config_options.cpp).
void warn_if_others_can_read(reader& r, std::string_view path, const std::string& file);
// What the proxy fetches from (config_oauth.cpp): an https URL (http to a loopback host only),
// normalized into `out`; a file read whole; a secret's file (its content without the final line
// end, not empty; a warning when others may read it).
bool read_endpoint_url(reader& r, const boost::json::value& v, std::string_view path,
                       std::string& out);
bool read_readable_file(reader& r, const boost::json::value& v, std::string_view path,
                        std::string& file, std::string& text);
bool read_secret_file(reader& r, const boost::json::value& v, std::string_view path,
                      std::string& secret);
// mcpProxy.oauth (config_oauth.cpp), and what it needs of the rest of the document once all is
// read (a route's scopes without oauth, say).
void read_oauth(reader& r, const boost::json::value& v, std::string_view path, config& c);
void check_oauth(reader& r, const config& c);
// A list of scopes (each a non-empty string without spaces) and a toolScopes object
// ({"glob": ["scope", ...]}) (config_oauth.cpp).
bool read_scope_list(reader& r, const boost::json::value& v, std::string_view path,
                     std::vector<std::string>& out);
bool read_tool_scopes(reader& r, const boost::json::value& v, std::string_view path,
                      std::vector<tool_scope_rule>& out);
// mcpProxy.access (config_access.cpp), and its checks against the servers once all is read.
void read_access(reader& r, const boost::json::value& v, std::string_view path, config& c);
void check_access(reader& r, const config& c);
void read_limits(reader& r, const boost::json::value& v, std::string_view path, config& c);
void read_tls(reader& r, const boost::json::value& v, std::string_view path, config& c);
// mcpProxy.readiness (config_readiness.cpp); its check against the servers once all is read.
void read_readiness(reader& r, const boost::json::value& v, std::string_view path, config& c);
void check_readiness(reader& r, config& c);
// mcpProxy.metrics, and TBXark's mcpProxy.options.metrics (config_metrics.cpp).
void read_metrics(reader& r, const boost::json::value& v, std::string_view path, config& c);
void read_tbxark_metrics(reader& r, const boost::json::value& v, std::string_view path, config& c);
// mcpProxy.options (config_options.cpp): filters and tokens, the defaults of every server.
void read_proxy_options(reader& r, const boost::json::value& v, std::string_view path, config& c);
// A list of static tokens, as options.authTokens holds it (config_options.cpp); appended to `out`.
void read_auth_token_list(reader& r, const boost::json::value& v, std::string_view path,
                          std::vector<auth_token>& out);
// One entry of TBXark's older "clients" (config_server.cpp): {"type", "config" (a server entry's
// keys), "panicIfInvalid", "logEnabled", "authTokens"}.
void read_v1_client(reader& r, std::string_view name, const boost::json::value& v,
                    std::string_view path, server_config& out);
// One entry of mcpServers (config_server.cpp). `out` gets the name even when it is invalid, so
// that the checks of groups do not report a server they cannot see.
void read_server(reader& r, std::string_view name, const boost::json::value& v,
                 std::string_view path, server_config& out);

}  // namespace mcp_proxy::config::detail
