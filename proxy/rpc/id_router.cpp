#include "rpc/id_router.hpp"

#include <atomic>

namespace mcp_proxy::rpc {

namespace json = boost::json;

namespace {

json::value* progress_token_of(jsonrpc::message& m) {
  auto* params = m.params_object();
  if (!params) return nullptr;
  auto* meta = params->if_contains("_meta");
  if (!meta || !meta->is_object()) return nullptr;
  return meta->get_object().if_contains("progressToken");
}

std::optional<std::int64_t> as_int64(const json::value& v) {
  if (v.is_int64()) return v.get_int64();
  if (v.is_uint64() && v.get_uint64() <= static_cast<std::uint64_t>(INT64_MAX))
    return static_cast<std::int64_t>(v.get_uint64());
  return std::nullopt;
}

}  // namespace

std::int64_t id_router::on_client_request(client_key client, jsonrpc::message& request) {
  const std::int64_t backend_id = next_backend_id_++;
  client_request_origin origin{client, request.id() ? *request.id() : json::value(), std::nullopt};
  if (auto* token = progress_token_of(request)) {
    origin.progress_token = *token;
    *token = backend_id;  // unique per backend, and the same number as the request id
  }
  request.set_id(backend_id);
  requests_.emplace(backend_id, std::move(origin));
  return backend_id;
}

std::optional<client_request_origin> id_router::on_backend_response(jsonrpc::message& response) {
  auto* id = response.id();
  if (!id) return std::nullopt;
  auto key = as_int64(*id);
  if (!key) return std::nullopt;
  auto it = requests_.find(*key);
  if (it == requests_.end()) return std::nullopt;
  client_request_origin origin = std::move(it->second);
  requests_.erase(it);
  response.set_id(origin.client_id);
  return origin;
}

std::optional<id_router::progress_target> id_router::on_backend_progress(
    jsonrpc::message& notification) {
  auto* params = notification.params_object();
  if (!params) return std::nullopt;
  auto* token = params->if_contains("progressToken");
  if (!token) return std::nullopt;
  auto key = as_int64(*token);
  if (!key) return std::nullopt;
  auto it = requests_.find(*key);
  if (it == requests_.end() || !it->second.progress_token) return std::nullopt;
  *token = *it->second.progress_token;
  return progress_target{it->second.client, *key};
}

std::optional<std::int64_t> id_router::backend_id_of(client_key client,
                                                     const json::value& id) const {
  for (const auto& [backend_id, origin] : requests_)
    if (origin.client == client && origin.client_id == id) return backend_id;
  return std::nullopt;
}

std::optional<client_request_origin> id_router::forget(std::int64_t backend_id) {
  auto it = requests_.find(backend_id);
  if (it == requests_.end()) return std::nullopt;
  client_request_origin origin = std::move(it->second);
  requests_.erase(it);
  return origin;
}

std::vector<std::int64_t> id_router::forget_client(client_key client) {
  std::vector<std::int64_t> ids;
  for (auto it = requests_.begin(); it != requests_.end();) {
    if (it->second.client == client) {
      ids.push_back(it->first);
      it = requests_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto it = server_requests_.begin(); it != server_requests_.end();)
    it = it->second.client == client ? server_requests_.erase(it) : std::next(it);
  return ids;
}

std::vector<json::value> id_router::take_server_requests_of(client_key client) {
  std::vector<json::value> ids;
  for (auto it = server_requests_.begin(); it != server_requests_.end();) {
    if (it->second.client == client) {
      ids.push_back(std::move(it->second.backend_id));
      it = server_requests_.erase(it);
    } else {
      ++it;
    }
  }
  return ids;
}

std::vector<std::int64_t> id_router::in_flight() const {
  std::vector<std::int64_t> ids;
  ids.reserve(requests_.size());
  for (const auto& entry : requests_) ids.push_back(entry.first);
  return ids;
}

json::value id_router::on_backend_request(client_key client, jsonrpc::message& request) {
  // One sequence for the whole process: a backend started again (a new router) never reuses an
  // id a client may still hold an answer for.
  static std::atomic<std::int64_t> next_client_facing_id{1};
  const std::int64_t id = next_client_facing_id.fetch_add(1);
  server_requests_.emplace(id,
                           server_request_origin{client, request.id() ? *request.id() : nullptr});
  request.set_id(id);
  return id;
}

std::optional<id_router::server_request_origin> id_router::on_client_response(
    client_key client, jsonrpc::message& response) {
  auto* id = response.id();
  if (!id) return std::nullopt;
  auto key = as_int64(*id);
  if (!key) return std::nullopt;
  auto it = server_requests_.find(*key);
  if (it == server_requests_.end() || it->second.client != client) return std::nullopt;
  server_request_origin origin = std::move(it->second);
  server_requests_.erase(it);
  response.set_id(origin.backend_id);
  return origin;
}

std::optional<client_key> id_router::on_backend_cancelled(jsonrpc::message& notification) {
  auto* params = notification.params_object();
  auto* rid = params ? params->if_contains("requestId") : nullptr;
  if (!rid) return std::nullopt;
  for (auto it = server_requests_.begin(); it != server_requests_.end(); ++it) {
    if (it->second.backend_id != *rid) continue;
    const client_key client = it->second.client;
    *rid = it->first;
    server_requests_.erase(it);
    return client;
  }
  return std::nullopt;
}

}  // namespace mcp_proxy::rpc
