#pragma once
// Where the config comes from: a file, or (as TBXark/mcp-proxy's --config takes it) an http(s)
// URL fetched once with its own headers, TLS choice and timeout; and `mcp-proxy --check`, which
// loads and checks a config without starting anything (docs/operations.md, "Checking a
// configuration"). Called before the proxy's event loop runs (a fetch runs an io_context of its
// own), and again on a reload.

#include "config/config.hpp"

#include <boost/system/result.hpp>

#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mcp_proxy {

struct config_source {
  std::string location = "config.json";  // a file path or an http(s) URL
  config::load_options load;
  // A URL only: TBXark's -http-headers, -insecure and -http-timeout.
  std::vector<std::pair<std::string, std::string>> http_headers;
  bool insecure = false;
  std::chrono::seconds http_timeout{10};
};

// What the command line changes in a loaded config (--addr, --allow-unauthenticated).
struct config_overrides {
  std::string addr;
  bool allow_unauthenticated = false;
  void apply(config::config& c) const;
};

// TBXark's IsRemoteURL: an http or https scheme (any case) and a host.
bool is_config_url(std::string_view location);

// TBXark's -http-headers: "Key1:Value1;Key2:Value2", each side trimmed of spaces, an entry
// without ':' or with an empty side skipped (as TBXark does); a name that is no HTTP token or a
// value with CR, LF or NUL is an error.
boost::system::result<std::vector<std::pair<std::string, std::string>>, std::string>
parse_http_headers(std::string_view text);

// Reads the file or fetches the URL (following up to 10 redirects, headers sent again only to
// the same host; a status other than 2xx is an error), then parses it. The origin in messages of
// a URL has no userinfo and no query.
boost::system::result<config::config, config::config_error> load_config_source(
    const config_source& source);

// mcp-proxy --check: loads `source`, applies `overrides`, runs config::check_environment; writes
// every warning and problem to `err` ("warning: ..." and "error: ..." lines, then a summary
// line) and, when the config loaded, its resolved view (config::resolved_view, redacted) to
// `out`. Starts no listener and no backend. Returns 0 when valid, 2 when not.
int run_check(const config_source& source, const config_overrides& overrides, std::FILE* out,
              std::FILE* err);

}  // namespace mcp_proxy
