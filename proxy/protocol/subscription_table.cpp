#include "protocol/subscription_table.hpp"

namespace mcp_proxy::protocol {

subscription_table::forward subscription_table::subscribe(rpc::client_key client,
                                                          std::string_view uri) {
  auto it = subscribers_.find(uri);
  if (it != subscribers_.end()) {
    it->second.insert(client);
    return forward::none;  // the backend is subscribed already
  }
  subscribers_.emplace(std::string(uri), std::set<rpc::client_key>{client});
  return forward::subscribe;
}

subscription_table::forward subscription_table::unsubscribe(rpc::client_key client,
                                                            std::string_view uri) {
  auto it = subscribers_.find(uri);
  if (it == subscribers_.end()) return forward::none;  // nobody is: neither is the backend
  it->second.erase(client);
  if (!it->second.empty()) return forward::none;
  subscribers_.erase(it);
  return forward::unsubscribe;
}

void subscription_table::undo_subscribe(rpc::client_key client, std::string_view uri) {
  auto it = subscribers_.find(uri);
  if (it == subscribers_.end()) return;
  it->second.erase(client);
  if (it->second.empty()) subscribers_.erase(it);
}

std::vector<std::string> subscription_table::drop_client(rpc::client_key client) {
  std::vector<std::string> last;
  for (auto it = subscribers_.begin(); it != subscribers_.end();) {
    if (!it->second.erase(client) || !it->second.empty()) {
      ++it;
      continue;
    }
    last.push_back(it->first);
    it = subscribers_.erase(it);
  }
  return last;
}

bool subscription_table::subscribed(rpc::client_key client, std::string_view uri) const {
  auto it = subscribers_.find(uri);
  return it != subscribers_.end() && it->second.contains(client);
}

std::vector<std::string> subscription_table::uris() const {
  std::vector<std::string> out;
  out.reserve(subscribers_.size());
  for (const auto& [uri, clients] : subscribers_) out.push_back(uri);
  return out;
}

}  // namespace mcp_proxy::protocol
