// The options of mcpProxy and of a server ("options": filters, auth tokens, TBXark's flags),
// their key tables and readers, and the reading of token lists and secret files they share with
// the other config readers.

#include "config/config_reader.hpp"

#include "protocol/bearer_auth.hpp"
#include "protocol/log_text.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <utility>

namespace mcp_proxy::config::detail {

namespace json = boost::json;

namespace {

// --- options: mcpProxy.options and a server's options --------------------------------------------

struct options_state {
  item_filters& filters;
  // options.authTokens and authTokensFile together; nullopt when neither key is there.
  std::optional<std::vector<auth_token>>& auth_tokens;
  bool disabled = false;            // a server's options.disabled
  server_config* server = nullptr;  // reading a server's options
  config* whole = nullptr;          // reading mcpProxy.options
};

// logEnabled and panicIfInvalid: read into a server (a server's options); in mcpProxy.options
// only checked here, since read_root reads them first as the default of every server.
template <bool server_config::*field>
void read_tbxark_flag(reader& r, const json::value& v, std::string_view path, options_state& o) {
  bool value = false;
  if (r.read_bool(v, path, value) && o.server) o.server->*field = value;
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
    {"panicIfInvalid", read_tbxark_flag<&server_config::panic_if_invalid>},
    {"logEnabled", read_tbxark_flag<&server_config::log_enabled>},
    {"authTokens", read_auth_tokens},
    {"authTokensFile", read_auth_tokens_file},
    {"toolFilter", options_filter<&item_filters::tools>},
    {"promptFilter", options_filter<&item_filters::prompts>},
    {"resourceFilter", options_filter<&item_filters::resources>},
});

void read_options_metrics(reader& r, const json::value& v, std::string_view path,
                          options_state& o) {
  read_tbxark_metrics(r, v, path, *o.whole);
}

// Only mcpProxy's options have "metrics" (TBXark reads it there alone).
constexpr auto proxy_only_option_keys = joined(
    proxy_option_keys, std::to_array<key_rule<options_state>>({{"metrics", read_options_metrics}}));

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

}  // namespace

void read_proxy_options(reader& r, const json::value& v, std::string_view path, config& c) {
  std::optional<std::vector<auth_token>> tokens;
  options_state o{c.proxy.default_filters, tokens};
  o.whole = &c;
  r.read_object<options_state>(v, path, proxy_only_option_keys, o);
  if (tokens) c.proxy.auth_tokens = std::move(*tokens);
}

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

void read_auth_token_list(reader& r, const json::value& v, std::string_view path,
                          std::vector<auth_token>& out) {
  item_filters unused;
  std::optional<std::vector<auth_token>> tokens;
  options_state o{unused, tokens};
  read_auth_tokens(r, v, path, o);
  if (tokens) out.insert(out.end(), tokens->begin(), tokens->end());
}

}  // namespace mcp_proxy::config::detail
