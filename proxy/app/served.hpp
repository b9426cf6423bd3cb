#pragma once
// What the process serves (the configuration in effect, its server and merged endpoints and the
// routes to them), and the reload that moves it to a new configuration: servers added, removed
// or changed start and stop, merged endpoints take their new members in place (their sessions go
// on and hear list_changed), the listener takes the new routes, tokens, limits, audit log and
// TLS files. config::plan_reload decides; this carries it out.
// Thread-safety: on the I/O thread only. Cancellation: none (a reload runs to its end).

#include "config/config.hpp"
#include "config/config_diff.hpp"
#include "core/aggregate_endpoint.hpp"
#include "core/server_endpoint.hpp"
#include "http/http_server.hpp"
#include "util/keyed_quota.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <memory>
#include <string>
#include <vector>

namespace mcp_proxy::app {

// The server endpoints, the merged ones over them (the one at "" when mcpProxy.aggregate, and
// the groups), and the routes to all of them. Disabled servers are in none.
struct endpoints {
  std::vector<std::shared_ptr<core::server_endpoint>> servers;
  std::vector<std::shared_ptr<core::aggregate_endpoint>> merged;
  http::routes_map routes;
};

class served {
 public:
  served(boost::asio::any_io_executor ex, config::config cfg);

  const config::config& cfg() const { return cfg_; }
  endpoints& now() { return now_; }

  // Moves to `next` (already parsed and checked): what plan_reload finds changed is stopped,
  // started or handed over; mcpProxy settings read only at start keep their old values (named
  // in a warning). Returns an error, with nothing changed, when the new audit log or TLS files
  // cannot be used.
  boost::asio::awaitable<std::optional<std::string>> reload(config::config next,
                                                            http::http_server& server);

 private:
  std::shared_ptr<core::server_endpoint> make_server(const config::server_config& s);
  // The endpoints among `servers` that a merged endpoint's view names (a disabled one is
  // logged as left out).
  static std::vector<std::shared_ptr<core::server_endpoint>> members_of(
      const config::merged_view& view,
      const std::vector<std::shared_ptr<core::server_endpoint>>& servers);
  void index_routes();

  boost::asio::any_io_executor ex_;
  config::config cfg_;
  std::shared_ptr<util::keyed_quota> per_client_backends_;
  endpoints now_;
  bool reloading_ = false;
  // Endpoints a reload replaced: kept until the process ends, as calls in flight and watchers
  // may still name them (they are stopped).
  std::vector<std::shared_ptr<core::endpoint>> retired_;
};

}  // namespace mcp_proxy::app
