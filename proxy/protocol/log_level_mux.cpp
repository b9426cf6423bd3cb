#include "protocol/log_level_mux.hpp"

#include <algorithm>

namespace mcp_proxy::protocol {

int log_level_mux::wanted() const {
  int most = -1;
  for (const auto& [client, rank] : ranks_)
    if (most < 0 || rank < most) most = rank;
  return most;
}

std::optional<int> log_level_mux::send_if_changed(int rank) {
  if (rank < 0 || rank == backend_rank_) return std::nullopt;
  backend_rank_ = rank;
  return rank;
}

std::optional<int> log_level_mux::set(rpc::client_key client, int rank) {
  ranks_[client] = rank;
  return send_if_changed(wanted());
}

std::optional<int> log_level_mux::drop_client(rpc::client_key client) {
  if (!ranks_.erase(client)) return std::nullopt;
  return send_if_changed(wanted());
}

std::optional<int> log_level_mux::backend_restarted() {
  backend_rank_ = -1;
  return send_if_changed(wanted());
}

bool log_level_mux::admits(rpc::client_key client, int message_rank) const {
  auto it = ranks_.find(client);
  return it == ranks_.end() || message_rank < 0 || message_rank >= it->second;
}

}  // namespace mcp_proxy::protocol
