#pragma once
// JSON-RPC id remapping between many client sessions and one backend connection (sans-io).
//
// Client -> backend: every client request gets a fresh backend id, so a client's id never reaches
// the backend as-is and two clients using the same id never see each other's replies. A request's
// `_meta.progressToken` is replaced the same way, so progress notifications map back to exactly one
// client request. Backend -> client: a backend's own request (sampling, elicitation, roots, ping)
// gets a fresh id (unique in the process, so also across backend restarts) and its answer maps
// back to the backend id.
// Thread-safety: none; owned by one backend connection and used on its strand.

#include "jsonrpc/message.hpp"

#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

namespace mcp_proxy::rpc {

using client_key = std::uint64_t;

struct client_request_origin {
  client_key client = 0;
  boost::json::value client_id;
  std::optional<boost::json::value> progress_token;  // the client's own token
};

class id_router {
 public:
  // Rewrites `request` for the backend; returns the backend id it now carries.
  std::int64_t on_client_request(client_key client, jsonrpc::message& request);

  // Rewrites a backend response to the client's id. nullopt: no request of ours has that id (a
  // late reply after a timeout, or a confused backend); the caller drops and logs it.
  std::optional<client_request_origin> on_backend_response(jsonrpc::message& response);

  // Rewrites a backend progress notification to the client's token; returns the client and the
  // backend id of the request it belongs to. nullopt: unknown token.
  struct progress_target {
    client_key client = 0;
    std::int64_t backend_id = 0;
  };
  std::optional<progress_target> on_backend_progress(jsonrpc::message& notification);

  // The backend id of a client's request still in flight (for notifications/cancelled).
  std::optional<std::int64_t> backend_id_of(client_key client, const boost::json::value& id) const;
  // Forgets a request (timeout, cancellation); returns its origin if it was in flight.
  std::optional<client_request_origin> forget(std::int64_t backend_id);
  // Forgets every request of a client; returns their backend ids. Backend requests still waiting
  // for that client's answer are forgotten too: take them first with take_server_requests_of.
  std::vector<std::int64_t> forget_client(client_key client);
  // Removes and returns the backend ids of backend requests a client has not answered, so the
  // backend can be told that no answer will come.
  std::vector<boost::json::value> take_server_requests_of(client_key client);
  // Every request in flight, e.g. to fail them all when the backend dies.
  std::vector<std::int64_t> in_flight() const;
  std::size_t in_flight_count() const { return requests_.size(); }

  // Backend -> client requests.
  struct server_request_origin {
    client_key client = 0;
    boost::json::value backend_id;
  };
  // Rewrites a backend request for delivery to `client`; returns the id the client sees.
  boost::json::value on_backend_request(client_key client, jsonrpc::message& request);
  // Rewrites a client's answer back to the backend id. nullopt: not an id we issued to this client.
  std::optional<server_request_origin> on_client_response(client_key client,
                                                          jsonrpc::message& response);
  // A backend's notifications/cancelled for a request of its own that went to a client:
  // rewrites params.requestId to the id that client saw and forgets the request; returns the
  // client. nullopt: no such request is waiting for a client (answered already, or unknown).
  std::optional<client_key> on_backend_cancelled(jsonrpc::message& notification);

 private:
  std::int64_t next_backend_id_ = 1;
  std::unordered_map<std::int64_t, client_request_origin> requests_;
  std::unordered_map<std::int64_t, server_request_origin> server_requests_;
};

}  // namespace mcp_proxy::rpc
