#pragma once
// Tasks (spec 2025-11-25 basic/utilities/tasks) of many client sessions over one backend: a task
// belongs to the session whose task-augmented request created it. Only that session may ask
// about it (tasks/get, tasks/result, tasks/cancel), see it in tasks/list, or hear its
// notifications/tasks/status. A server may announce a task's status before the answer that
// creates it (server-everything does): such notifications are kept, bounded, until the task's
// owner is known. Sans-io: it says who a message is for; the caller delivers it.
// Thread-safety: none (one owner, one executor).

#include "jsonrpc/message.hpp"
#include "rpc/id_router.hpp"

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mcp_proxy::protocol {

class task_registry {
 public:
  // The answer to a task-augmented request of `client`. When it is a CreateTaskResult
  // ({task: {taskId, ...}}), the task is the client's, and the status notifications that came
  // before it are returned, in order, for that client.
  std::vector<jsonrpc::message> on_answer(rpc::client_key client, const jsonrpc::message& answer);
  // A notifications/tasks/status: the client it is for; nullopt when no owner is known yet (it
  // is then kept for on_answer) or it names no task.
  std::optional<rpc::client_key> on_status(jsonrpc::message& status);
  bool owns(rpc::client_key client, std::string_view task_id) const;
  bool has_tasks(rpc::client_key client) const;
  // Removes from a tasks/list response the tasks that are not `client`'s.
  void keep_own(rpc::client_key client, jsonrpc::message& list_response) const;
  // A client left: its tasks are forgotten.
  void drop_client(rpc::client_key client);

  static constexpr std::size_t max_unclaimed_tasks = 64;
  static constexpr std::size_t max_unclaimed_per_task = 16;

 private:
  std::map<std::string, rpc::client_key, std::less<>> owner_;
  std::map<std::string, std::vector<jsonrpc::message>, std::less<>> unclaimed_;
};

// tasks/get, tasks/result and tasks/cancel: requests about one task, named by params.taskId.
bool is_task_request(std::string_view method);
// The taskId of a tasks/* request's params, or of a notifications/tasks/status; nullptr if none.
const boost::json::string* task_id_of(const jsonrpc::message& m);

}  // namespace mcp_proxy::protocol
