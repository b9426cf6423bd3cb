#pragma once
// Where the requests a backend sends on its own (sampling, elicitation, roots, ping; spec
// 2025-11-25 client/*) and its call-related notifications go when one backend session serves
// many clients (shared mode), and what the proxy answers itself when no client can. Sans-io:
// it decides; the caller delivers or answers.
// Thread-safety: none (one owner, one executor).

#include "jsonrpc/message.hpp"
#include "rpc/id_router.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mcp_proxy::protocol {

// A client session as the router sees it: busy while it has calls in flight.
struct client_view {
  rpc::client_key key = 0;
  bool busy = false;
};

// The client a shared backend's request or call-related notification is for. `related`: the
// client of the call it came with (the transport tells: a Streamable HTTP POST stream), exact
// however many clients are busy. Else the only client with calls in flight; else, when
// `idle_ok`, the only client. nullopt when it cannot be known: never a guess.
std::optional<rpc::client_key> route_target(std::optional<rpc::client_key> related,
                                            const std::vector<client_view>& clients, bool idle_ok);

// Whether a client that declared `capabilities` in initialize can answer `request`: sampling,
// roots, and elicitation in the request's mode (an empty `elicitation` object means form only,
// spec 2025-11-25 client/elicitation). Requests that need no capability are answerable.
bool client_can_answer(const boost::json::object& capabilities, const jsonrpc::message& request);

// What becomes of a backend request.
struct request_decision {
  enum class kind { deliver, answer, refuse };
  kind what = kind::deliver;
  boost::json::value result;  // answer: the result the proxy sends the backend
  std::int64_t code = 0;      // refuse: the error the backend gets
  std::string text;
};

class server_request_router {
 public:
  // `target_capabilities`: what the target client declared, or null when there is no target
  // (route_target found none, or it has ended). `nobody`: no client session at all and the
  // request came with no call.
  request_decision decide(const jsonrpc::message& request,
                          const boost::json::object* target_capabilities, bool nobody) const;

  // Shared mode: a URL-mode elicitation/create went to `client`; its
  // notifications/elicitation/complete (by elicitationId) goes to that client only.
  void elicitation_sent(const jsonrpc::message& request, rpc::client_key client);
  // The client a notifications/elicitation/complete is for (forgotten after), or nullopt.
  std::optional<rpc::client_key> elicitation_complete(const jsonrpc::message& notification);
  void drop_client(rpc::client_key client);

  static constexpr std::size_t max_open_elicitations = 1000;

 private:
  std::map<std::string, rpc::client_key, std::less<>> elicitations_;
};

}  // namespace mcp_proxy::protocol
