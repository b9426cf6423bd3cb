#include "protocol/server_request_router.hpp"

#include "jsonrpc/message.hpp"

namespace mcp_proxy::protocol {

namespace json = boost::json;
using jsonrpc::message;
namespace codes = jsonrpc::error_codes;

std::optional<rpc::client_key> route_target(std::optional<rpc::client_key> related,
                                            const std::vector<client_view>& clients, bool idle_ok) {
  if (related) return related;
  std::optional<rpc::client_key> only;
  int busy = 0;
  for (const auto& c : clients)
    if (c.busy) {
      ++busy;
      only = c.key;
    }
  if (busy == 1) return only;
  if (busy == 0 && idle_ok && clients.size() == 1) return clients.front().key;
  return std::nullopt;
}

bool client_can_answer(const json::object& capabilities, const message& request) {
  const auto method = request.method();
  if (method == "sampling/createMessage") return capabilities.contains("sampling");
  if (method == "roots/list") return capabilities.contains("roots");
  if (method != "elicitation/create") return true;  // ping, newer requests: the client decides
  const auto* declared = capabilities.if_contains("elicitation");
  if (!declared || !declared->is_object()) return false;
  const auto* params = request.params_object();
  const auto* mode = params ? params->if_contains("mode") : nullptr;
  const bool url = mode && mode->is_string() && mode->get_string() == "url";
  const auto& modes = declared->get_object();
  if (url) return modes.contains("url");
  return modes.empty() || modes.contains("form");
}

request_decision server_request_router::decide(const message& request,
                                               const json::object* target_capabilities,
                                               bool nobody) const {
  using kind = request_decision::kind;
  const auto method = request.method();
  if (!target_capabilities && nobody && method == "roots/list") {
    // No client, so no roots (clients that come later are announced by roots/list_changed).
    return {kind::answer, json::object{{"roots", json::array{}}}, 0, {}};
  }
  if (target_capabilities && !client_can_answer(*target_capabilities, request)) {
    return {kind::refuse,
            {},
            codes::method_not_found,
            "mcp-proxy: the client did not declare the capability for " + std::string(method)};
  }
  if (!target_capabilities) {
    if (method == "ping") return {kind::answer, json::object{}, 0, {}};
    return {kind::refuse,
            {},
            codes::internal_error,
            "mcp-proxy: no single client session this request can be routed to"};
  }
  return {kind::deliver, {}, 0, {}};
}

namespace {

const json::string* elicitation_id_of(const message& m) {
  const auto* params = m.params_object();
  const auto* id = params ? params->if_contains("elicitationId") : nullptr;
  return id && id->is_string() ? &id->get_string() : nullptr;
}

}  // namespace

void server_request_router::elicitation_sent(const message& request, rpc::client_key client) {
  if (request.method() != "elicitation/create") return;
  const auto* id = elicitation_id_of(request);
  if (!id) return;
  if (elicitations_.size() >= max_open_elicitations) elicitations_.clear();  // never completed
  elicitations_.insert_or_assign(std::string(*id), client);
}

std::optional<rpc::client_key> server_request_router::elicitation_complete(
    const message& notification) {
  const auto* id = elicitation_id_of(notification);
  if (!id) return std::nullopt;
  auto it = elicitations_.find(std::string_view(*id));
  if (it == elicitations_.end()) return std::nullopt;
  const auto client = it->second;
  elicitations_.erase(it);
  return client;
}

void server_request_router::drop_client(rpc::client_key client) {
  std::erase_if(elicitations_, [client](const auto& kv) { return kv.second == client; });
}

}  // namespace mcp_proxy::protocol
