#pragma once
// What `mcp-proxy --check` adds to loading a config: the checks that look at this machine (the
// commands of stdio servers on PATH, working directories, the files the config names), and the
// resolved view of a loaded config as JSON with its secrets redacted (docs/operations.md,
// "Checking a configuration"). Plain functions; the checks read the file system (stat/access
// only: nothing is opened for writing, started or connected).

#include "config/config.hpp"

#include <boost/json/value.hpp>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mcp_proxy::config {

// The checks against this machine of a loaded config, each a problem with the JSON path of the
// value: a stdio server's command not found (on PATH when it has no '/', else not an executable
// file), its cwd not a directory, a TLS or CA file not readable, the audit log's directory not
// writable. Disabled servers are left out (they start nothing). `path_env` is the PATH to search
// (nullopt: the process's).
std::vector<config_problem> check_environment(const config& c,
                                              std::optional<std::string> path_env = std::nullopt);

// Where `command` would be found as execvp finds it, or nullopt.
std::optional<std::string> find_command(std::string_view command, std::string_view path_env);

// Whether a name (an environment variable, a header, a query parameter, a command-line flag)
// looks like it holds a secret: it contains, in any case, one of token, secret, pass, key, auth,
// credential, cookie, session, private.
bool name_looks_secret(std::string_view name);

// The loaded config as JSON, in the file's key names, with every default filled in, inherited
// options applied and transports resolved. Redacted (shown as "REDACTED"): auth tokens (their
// names stay), client secrets, the values of headers and env variables whose names look secret,
// every query value and userinfo password of URLs, and in args the value of a flag whose name
// looks secret ("--api-key=V", or the argument after "--api-key").
boost::json::value resolved_view(const config& c);

inline constexpr std::string_view redacted = "REDACTED";

}  // namespace mcp_proxy::config
