#pragma once
// What a configuration reload changes (sans-io): which servers and groups start, stop or are
// rebuilt, what the listener takes at once (tokens, limits, the audit log, the readiness rule),
// and the mcpProxy settings that take effect only at the next restart. The caller carries it out
// (app/reload).
// Thread-safety: plain values.

#include "config/config.hpp"

#include <string>
#include <vector>

namespace mcp_proxy::config {

struct reload_plan {
  // Enabled servers, by name: new (or enabled), gone (or disabled), and changed in a way that
  // needs a new backend (anything but the tokens and scopes of its routes).
  std::vector<std::string> servers_added, servers_removed, servers_changed;
  // Merged endpoints: groups by name; the one at /mcp (mcpProxy.aggregate) as "".
  std::vector<std::string> merged_added, merged_removed, merged_changed;
  // The listener's checks: tokens, scopes (a server's or mcpProxy's).
  bool security_changed = false;
  bool limits_changed = false;
  bool audit_log_changed = false;
  bool readiness_changed = false;
  bool tls_files_changed = false;
  // mcpProxy keys that changed but are read only at start ("addr", "oauth", ...).
  std::vector<std::string> needs_restart;

  // Nothing to do.
  bool empty() const;
  // One line for the log: "servers added: a; removed: b; changed: c; groups ...; tokens".
  std::string summary() const;
};

reload_plan plan_reload(const config& current, const config& next);

// A merged endpoint of a config: "" (/mcp, with mcpProxy.aggregate) or a group; its enabled
// member servers in config order, its filters and scopes, and the servers the group names that
// are disabled (left out of it).
struct merged_view {
  std::string name;
  std::vector<std::string> members;
  item_filters filters;
  std::vector<std::string> required_scopes;
  std::vector<std::string> left_out;
};
// Every merged endpoint of `c`, in the order they are served: "" first, then the groups.
std::vector<merged_view> merged_views(const config& c);

}  // namespace mcp_proxy::config
