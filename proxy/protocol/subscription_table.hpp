#pragma once
// Resource subscriptions of many client sessions over one shared backend session (spec
// 2025-11-25 server/resources: subscriptions). The backend is subscribed to a URI while at least
// one client is: only the first subscribe and the last unsubscribe of a URI reach it. Sans-io:
// every change says what the backend must be sent; the caller sends it.
// Thread-safety: none (one owner, one executor).

#include "rpc/id_router.hpp"

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace mcp_proxy::protocol {

class subscription_table {
 public:
  // What the backend must be sent for a client's request: nothing (answer the client `{}`
  // locally), or the request itself.
  enum class forward { none, subscribe, unsubscribe };

  forward subscribe(rpc::client_key client, std::string_view uri);
  forward unsubscribe(rpc::client_key client, std::string_view uri);
  // The backend refused a subscribe forwarded for `client`: it is not a subscriber after all.
  void undo_subscribe(rpc::client_key client, std::string_view uri);
  // A client left: the URIs it was the last subscriber of (to unsubscribe at the backend).
  std::vector<std::string> drop_client(rpc::client_key client);
  // Whether a resources/updated for `uri` goes to `client`.
  bool subscribed(rpc::client_key client, std::string_view uri) const;
  // A new backend session knows none of them: every URI to subscribe again.
  std::vector<std::string> uris() const;
  bool empty() const { return subscribers_.empty(); }

 private:
  std::map<std::string, std::set<rpc::client_key>, std::less<>> subscribers_;
};

}  // namespace mcp_proxy::protocol
