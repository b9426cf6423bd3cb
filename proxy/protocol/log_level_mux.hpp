#pragma once
// Logging levels of many client sessions over one shared backend session (spec 2025-11-25
// server/utilities/logging). Each client sets its own level; the backend is set to the most
// verbose level any client asked for, and each client is sent only what its own level admits.
// Ranks: debug = 0 .. emergency = 7 (log_rank_of). Sans-io: a change says which level the
// backend must be sent, if any; the caller sends it.
// Thread-safety: none (one owner, one executor).

#include "rpc/id_router.hpp"

#include <map>
#include <optional>

namespace mcp_proxy::protocol {

class log_level_mux {
 public:
  // `client` asked for `rank`: the rank to send the backend, or nullopt when the backend's level
  // serves already (then the client is answered locally).
  std::optional<int> set(rpc::client_key client, int rank);
  // A client left: the rank to send the backend when the others need less (nullopt: unchanged,
  // or no client asked for any level).
  std::optional<int> drop_client(rpc::client_key client);
  // A new backend session starts at its default level: the rank to send it, if any was set.
  std::optional<int> backend_restarted();
  // Whether a log message of `message_rank` goes to `client` (one that set no level gets all
  // the backend sends; an unknown level is never held back).
  bool admits(rpc::client_key client, int message_rank) const;
  // The level the backend was last sent (-1: none).
  int backend_rank() const { return backend_rank_; }

 private:
  // The most verbose rank asked for; -1 when no client asked.
  int wanted() const;
  std::optional<int> send_if_changed(int rank);

  std::map<rpc::client_key, int> ranks_;
  int backend_rank_ = -1;
};

}  // namespace mcp_proxy::protocol
