#include "protocol/task_registry.hpp"

#include <gtest/gtest.h>

namespace mcp_proxy::protocol {
namespace {

namespace json = boost::json;
using jsonrpc::message;

message created(std::string_view task) {
  return message::response(7, json::object{{"task", {{"taskId", task}, {"status", "working"}}}});
}
message status(std::string_view task, std::string_view state) {
  return message::notification("notifications/tasks/status", {{"taskId", task}, {"status", state}});
}

TEST(task_registry, a_task_belongs_to_the_client_whose_request_created_it) {
  task_registry r;
  EXPECT_TRUE(r.on_answer(1, created("t1")).empty());
  EXPECT_TRUE(r.owns(1, "t1"));
  EXPECT_FALSE(r.owns(2, "t1"));
  EXPECT_TRUE(r.has_tasks(1));
  EXPECT_FALSE(r.has_tasks(2));
  auto s = status("t1", "completed");
  EXPECT_EQ(r.on_status(s), rpc::client_key{1});
}

TEST(task_registry, an_answer_that_creates_no_task_changes_nothing) {
  task_registry r;
  EXPECT_TRUE(
      r.on_answer(1, message::response(7, json::object{{"content", json::array{}}})).empty());
  EXPECT_FALSE(r.has_tasks(1));
}

TEST(task_registry, status_before_the_creating_answer_waits_for_its_owner_in_order) {
  task_registry r;
  auto first = status("t1", "working");
  auto second = status("t1", "input_required");
  EXPECT_EQ(r.on_status(first), std::nullopt);
  EXPECT_EQ(r.on_status(second), std::nullopt);
  auto early = r.on_answer(3, created("t1"));
  ASSERT_EQ(early.size(), 2u);
  EXPECT_EQ(early[0].params_object()->at("status"), "working");
  EXPECT_EQ(early[1].params_object()->at("status"), "input_required");
  EXPECT_TRUE(r.on_answer(3, created("t1")).empty());  // handed over once
}

TEST(task_registry, unclaimed_status_is_bounded) {
  task_registry r;
  for (std::size_t i = 0; i < task_registry::max_unclaimed_per_task + 5; ++i) {
    auto s = status("t1", "working");
    r.on_status(s);
  }
  EXPECT_EQ(r.on_answer(1, created("t1")).size(), task_registry::max_unclaimed_per_task);
  for (std::size_t i = 0; i <= task_registry::max_unclaimed_tasks; ++i) {
    auto s = status("u" + std::to_string(i), "working");
    r.on_status(s);
  }
  // The table was cleared when it was full: only the newest task's status was kept.
  EXPECT_TRUE(r.on_answer(1, created("u0")).empty());
  EXPECT_EQ(
      r.on_answer(1, created("u" + std::to_string(task_registry::max_unclaimed_tasks))).size(), 1u);
}

TEST(task_registry, a_task_list_keeps_only_the_clients_own_tasks) {
  task_registry r;
  r.on_answer(1, created("mine"));
  r.on_answer(2, created("theirs"));
  auto list =
      message::response(9, json::object{{"tasks", json::array{json::object{{"taskId", "mine"}},
                                                              json::object{{"taskId", "theirs"}},
                                                              json::object{{"taskId", "unknown"}},
                                                              json::object{{"no", "id"}}}}});
  r.keep_own(1, list);
  const auto& tasks = list.result()->as_object().at("tasks").as_array();
  ASSERT_EQ(tasks.size(), 1u);
  EXPECT_EQ(tasks[0].at("taskId"), "mine");
}

TEST(task_registry, a_client_that_leaves_owns_nothing) {
  task_registry r;
  r.on_answer(1, created("t1"));
  r.drop_client(1);
  EXPECT_FALSE(r.owns(1, "t1"));
  auto s = status("t1", "completed");
  EXPECT_EQ(r.on_status(s), std::nullopt);
}

TEST(task_registry, task_requests_name_their_task) {
  EXPECT_TRUE(is_task_request("tasks/get"));
  EXPECT_TRUE(is_task_request("tasks/cancel"));
  EXPECT_FALSE(is_task_request("tasks/list"));
  auto get = message::request(1, "tasks/get", {{"taskId", "t9"}});
  ASSERT_NE(task_id_of(get), nullptr);
  EXPECT_EQ(*task_id_of(get), "t9");
  EXPECT_EQ(task_id_of(message::request(1, "tasks/get", {{"taskId", 3}})), nullptr);
}

}  // namespace
}  // namespace mcp_proxy::protocol
