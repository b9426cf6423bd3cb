#include "protocol/task_registry.hpp"

namespace mcp_proxy::protocol {

namespace json = boost::json;
using jsonrpc::message;

bool is_task_request(std::string_view method) {
  return method == "tasks/get" || method == "tasks/result" || method == "tasks/cancel";
}

const json::string* task_id_of(const message& m) {
  const auto* params = m.params_object();
  const auto* id = params ? params->if_contains("taskId") : nullptr;
  return id && id->is_string() ? &id->get_string() : nullptr;
}

std::vector<message> task_registry::on_answer(rpc::client_key client, const message& answer) {
  // CreateTaskResult: {task: {taskId, status, ...}}.
  const auto* result = answer.result();
  const auto* task =
      result && result->is_object() ? result->get_object().if_contains("task") : nullptr;
  const auto* task_id =
      task && task->is_object() ? task->get_object().if_contains("taskId") : nullptr;
  if (!task_id || !task_id->is_string()) return {};
  const std::string_view tid(task_id->get_string());
  owner_.insert_or_assign(std::string(tid), client);
  auto early = unclaimed_.find(tid);
  if (early == unclaimed_.end()) return {};
  auto kept = std::move(early->second);
  unclaimed_.erase(early);
  return kept;
}

std::optional<rpc::client_key> task_registry::on_status(message& status) {
  const auto* task = task_id_of(status);
  if (!task) return std::nullopt;
  if (auto it = owner_.find(std::string_view(*task)); it != owner_.end()) return it->second;
  if (unclaimed_.size() >= max_unclaimed_tasks) unclaimed_.clear();  // never claimed: a bound
  auto& kept = unclaimed_[std::string(*task)];
  if (kept.size() < max_unclaimed_per_task) kept.push_back(std::move(status));
  return std::nullopt;
}

bool task_registry::owns(rpc::client_key client, std::string_view task_id) const {
  auto it = owner_.find(task_id);
  return it != owner_.end() && it->second == client;
}

bool task_registry::has_tasks(rpc::client_key client) const {
  for (const auto& [id, owner] : owner_)
    if (owner == client) return true;
  return false;
}

void task_registry::keep_own(rpc::client_key client, message& list_response) const {
  auto* result = list_response.object().if_contains("result");
  auto* tasks = result && result->is_object() ? result->get_object().if_contains("tasks") : nullptr;
  if (!tasks || !tasks->is_array()) return;
  auto& list = tasks->get_array();
  for (auto it = list.begin(); it != list.end();) {
    const auto* item = it->if_object();
    const auto* task_id = item ? item->if_contains("taskId") : nullptr;
    if (task_id && task_id->is_string() && owns(client, std::string_view(task_id->get_string())))
      ++it;
    else
      it = list.erase(it);
  }
}

void task_registry::drop_client(rpc::client_key client) {
  std::erase_if(owner_, [client](const auto& kv) { return kv.second == client; });
}

}  // namespace mcp_proxy::protocol
