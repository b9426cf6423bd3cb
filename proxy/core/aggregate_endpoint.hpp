#pragma once
// A merged MCP server over several member endpoints: `/mcp` and `/sse` over every enabled
// server, and each group (a virtual server) at `/{group}/mcp`. A client session here holds one
// session on each member endpoint, so everything a member does for its own clients (shared or
// per-client backends, subscriptions, log levels, restarts, relay of progress and server
// requests) works unchanged underneath; this class adds what merging needs:
// - initialize and every list fanned out in parallel, each member's leg with its own deadline; a
//   member that fails, times out or is down is left out (logged), never fails the request, and
//   joins when it comes up (clients get list_changed);
// - tool and prompt names `{prefix}{separator}{name}` mapped back through name tables, resource
//   URIs routed by the members' lists and templates;
// - a composite cursor carrying each member's own cursor, so a client walking nextCursor sees
//   every item once; pages cached per member until its list_changed or the TTL;
// - the group's filters (on exposed names and URIs) and the session's narrowing.
// Thread-safety: all calls on one executor.

#include "core/endpoint.hpp"
#include "core/server_endpoint.hpp"
#include "protocol/composite_cursor.hpp"
#include "protocol/merged_catalog.hpp"
#include "protocol/merged_page.hpp"
#include "util/task_group.hpp"

#include <boost/system/result.hpp>

#include <deque>
#include <map>
#include <set>

namespace mcp_proxy::core {

class aggregate_endpoint : public endpoint {
 public:
  // `name`: "" for /mcp, else the group's; `members` in config order; `filters`: the group's.
  aggregate_endpoint(boost::asio::any_io_executor ex, std::string name,
                     std::vector<std::shared_ptr<server_endpoint>> members,
                     config::item_filters filters, const config::proxy_config& proxy);

  const std::string& name() const override { return name_; }
  // Watches the members (they are started by their own routes) and starts the idle reaper.
  boost::asio::awaitable<void> start() override;
  boost::asio::awaitable<void> stop() override;

  boost::asio::awaitable<initialize_outcome> initialize(jsonrpc::message request,
                                                        session_narrowing narrowing) override;
  std::shared_ptr<client_session> find_session(std::string_view id) const override;
  boost::asio::awaitable<void> end_session(std::shared_ptr<client_session> session) override;
  boost::asio::awaitable<request_outcome> on_request(std::shared_ptr<client_session> session,
                                                     jsonrpc::message request) override;
  void on_notification(client_session& session, const jsonrpc::message& notification) override;
  bool on_response(client_session& session, jsonrpc::message response) override;
  void abandon(client_session& session, const backend::pending_call& call,
               std::string_view why) override;
  boost::asio::awaitable<std::optional<jsonrpc::message>> next_event(
      client_session& s, const call_started& cs) override;
  void drain(std::shared_ptr<client_session> s, call_started cs) override;
  std::size_t queued_messages() const override { return core::queued_messages(sessions_); }

  // A configuration reload: the members are now `members` (in config order) and the filters
  // `filters`. Members kept keep their sessions, caches and calls in flight; a member that left
  // has the sessions held here on it ended (before this returns); a new one joins the open
  // sessions as a member coming up does (in the background). Sessions are told their lists
  // changed. A member added by a reload comes after the others when exposed names collide,
  // until a restart.
  boost::asio::awaitable<void> set_members(std::vector<std::shared_ptr<server_endpoint>> members,
                                           config::item_filters filters);

 private:
  // A member's list result, shared by the cache and the requests reading it (never copied).
  using page = std::shared_ptr<const boost::json::object>;
  struct cached_page {
    page result;
    std::chrono::steady_clock::time_point fetched;
  };
  struct member {
    std::shared_ptr<server_endpoint> ep;
    bool ready = false;                // the backend was up when last heard of
    boost::json::object capabilities;  // from its last initialize seen here
    std::string instructions;
    // Shared mode: list method -> the member's cursor ("" for the first page) -> page.
    std::map<std::string, std::map<std::string, cached_page>, std::less<>> cache;
    std::uint64_t cache_epoch = 0;  // bumped at each invalidation: fetches started before drop
    bool retired = false;           // removed by a reload: never active again
  };
  using page_result = boost::system::result<page, std::string>;
  // A merged page as sent (renamed, filtered, serialized) to the sessions that see every exposed
  // item (no tool or access narrowing), by list method, generation and cursor; built only from
  // members' cached pages, and good until the oldest of them is stale. Cleared whenever a
  // member's cache is.
  struct merged_cached {
    std::shared_ptr<const std::string> result;      // the result object's JSON text
    std::chrono::steady_clock::time_point fetched;  // its oldest member page's
  };
  std::map<std::string, merged_cached, std::less<>> merged_cache_;
  // When every page in `pages` came from its member's cache for `method`: the oldest's time.
  std::optional<std::chrono::steady_clock::time_point> cached_since(
      std::string_view method, const std::vector<std::size_t>& index_of,
      const std::vector<const boost::json::object*>& pages) const;

  boost::asio::awaitable<bool> join_member(std::shared_ptr<client_session> s, std::size_t i);
  // Sends a request of the proxy's own to a member (through the session's member session) and
  // returns its response, or an error response when the member is unavailable or `deadline`
  // passes.
  boost::asio::awaitable<jsonrpc::message> member_request(
      std::shared_ptr<client_session> s, std::size_t i, jsonrpc::message request,
      std::chrono::steady_clock::time_point deadline);
  boost::asio::awaitable<page_result> fetch_page(std::shared_ptr<client_session> s, std::size_t i,
                                                 std::string method,
                                                 std::optional<std::string> cursor,
                                                 std::chrono::steady_clock::time_point deadline);
  // One merged page of a list method.
  boost::asio::awaitable<jsonrpc::message> merged_list(std::shared_ptr<client_session> s,
                                                       jsonrpc::message request);
  // Walks every page of a list (to learn names and URIs before routing an unknown one).
  boost::asio::awaitable<void> learn_all(std::shared_ptr<client_session> s,
                                         std::string_view method);
  // A request for one member's item, its name or URI already rewritten.
  boost::asio::awaitable<request_outcome> forward(std::shared_ptr<client_session> s, std::size_t i,
                                                  jsonrpc::message request);
  // The member and the backend's own name behind an exposed tool or prompt name ("tool" or
  // "prompt") this session may use; nullopt when there is none (unknown, outside the session's
  // narrowing, or filtered out). An unknown name makes the proxy walk that list once first.
  struct named_target {
    std::size_t member;
    std::string name;
  };
  boost::asio::awaitable<std::optional<named_target>> resolve_named(
      std::shared_ptr<client_session> s, std::string_view kind, std::string exposed);
  boost::asio::awaitable<request_outcome> route_named(std::shared_ptr<client_session> s,
                                                      jsonrpc::message request,
                                                      std::string_view kind);
  boost::asio::awaitable<request_outcome> route_by_uri(std::shared_ptr<client_session> s,
                                                       jsonrpc::message request);
  boost::asio::awaitable<request_outcome> route_completion(std::shared_ptr<client_session> s,
                                                           jsonrpc::message request);
  boost::asio::awaitable<jsonrpc::message> set_level(std::shared_ptr<client_session> s,
                                                     jsonrpc::message request);
  // tasks/get, tasks/result, tasks/cancel: to the member whose session created the task.
  boost::asio::awaitable<request_outcome> route_task(std::shared_ptr<client_session> s,
                                                     jsonrpc::message request);
  // tasks/list: the session's tasks on every member, in one page.
  boost::asio::awaitable<jsonrpc::message> merged_tasks(std::shared_ptr<client_session> s,
                                                        jsonrpc::message request);

  // The member serving `uri`: from list results, then templates; nullopt when none.
  std::optional<std::size_t> owner_of_uri(const client_session& s, std::string_view uri) const;
  std::optional<std::size_t> member_index(std::string_view server) const;
  bool active(const client_session& s, std::size_t i) const;
  // Turns a member's item into the exposed one (names mapped, URIs recorded); nullopt when the
  // session may not see it or another member already offers it.
  std::optional<protocol::exposed_item> expose_item(const client_session& s, std::size_t i,
                                                    std::string_view list_key,
                                                    const boost::json::value& item);
  // Whether the session sees an item of `list_key` known on the merged endpoint by `shown` (its
  // exposed name, URI or template; nullopt: it has none).
  bool visible_exposed(const client_session& s, std::string_view list_key,
                       std::optional<std::string_view> shown) const;
  boost::json::object merged_capabilities(const client_session& s) const;
  std::string merged_instructions(const client_session& s) const;
  std::uint64_t list_generation(const client_session& s, std::string_view method) const;
  void on_member_event(std::size_t i, backend_event e);
  void add_member(std::shared_ptr<server_endpoint> ep);
  void on_member_message(std::weak_ptr<client_session> parent, std::size_t i, jsonrpc::message m);
  void invalidate(member& m, std::string_view method);
  void tell_lists_changed(client_session& s);
  // A member left out of a merged list: a warning for a session whose log level admits it.
  void tell_left_out(client_session& s, std::string_view server, std::string_view method);

  boost::asio::any_io_executor ex_;
  std::string name_;
  std::string label_;  // for logs: "merged endpoint /mcp" or "group dev"
  // Indexes are stable (sessions' children, the catalog and calls in flight refer to them): a
  // reload appends members and retires others. A deque, so that a reference to a member held
  // across a suspension stays good while members are appended.
  std::deque<member> members_;
  config::item_filters filters_;
  config::proxy_config proxy_;
  protocol::cursor_codec cursors_;
  protocol::merged_catalog catalog_;  // exposed names, resource owners, templates
  session_map sessions_;
  std::size_t initializing_ = 0;
  bool stopped_ = false;
  util::async_queue<bool> stop_signal_;
  std::int64_t next_internal_id_ = 1;
  util::task_group background_;  // the reaper and members joining sessions: ended by stop()
};

}  // namespace mcp_proxy::core
