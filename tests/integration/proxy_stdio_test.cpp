// The real mcp-proxy binary in front of the mock stdio server, driven over Streamable HTTP.
// Spec references are to docs/specification/2025-11-25/basic/transports.mdx ("Streamable HTTP").

#include "test_support.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <future>
#include <thread>

#include <sys/wait.h>

namespace json = boost::json;
using namespace mcp_proxy::test;
using namespace std::chrono_literals;

namespace {

json::value request(json::value id, std::string_view method, json::object params = {}) {
  return json::object{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", params}};
}

std::string text_of(const json::value& response) {
  return json::value_to<std::string>(response.at("result").at("content").at(0).at("text"));
}

// Polls (bounded) until a condition holds.
template <typename F>
bool eventually(F f, std::chrono::milliseconds timeout = 10s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (f()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return f();
}

int pid_of_backend(proxy_fixture& p, const std::string& server, const std::string& session) {
  return std::stoi(text_of(p.call_tool(server, session, "pid", {})));
}

class shared_mode : public ::testing::Test {
 protected:
  proxy_fixture proxy{mock_config({{"mock", ""}})};
};

class per_client_mode : public ::testing::Test {
 protected:
  proxy_fixture proxy{mock_config({{"mock", R"("sessionMode": "per-client")"}})};
};

}  // namespace

TEST_F(shared_mode, initialize_returns_session_id_and_backend_server_info) {
  auto r = proxy.post("mock", request(1, "initialize",
                                      {{"protocolVersion", "2025-11-25"},
                                       {"capabilities", json::object{}},
                                       {"clientInfo", {{"name", "t"}, {"version", "1"}}}}));
  ASSERT_EQ(r.status, 200);
  EXPECT_TRUE(r.header("content-type").starts_with("application/json"));
  auto sid = r.header("mcp-session-id");
  ASSERT_FALSE(sid.empty());
  for (char c : sid) EXPECT_TRUE(c >= 0x21 && c <= 0x7e);  // visible ASCII only
  auto msg = json::parse(r.body);
  EXPECT_EQ(msg.at("id"), 1);
  EXPECT_EQ(msg.at("result").at("protocolVersion"), "2025-11-25");
  EXPECT_EQ(msg.at("result").at("serverInfo").at("name"), "mock-mcp-server");
  EXPECT_TRUE(msg.at("result").at("capabilities").as_object().contains("tools"));
}

TEST_F(shared_mode, unsupported_requested_version_is_answered_with_latest) {
  auto r = proxy.post("mock", request(1, "initialize",
                                      {{"protocolVersion", "1999-01-01"},
                                       {"capabilities", json::object{}},
                                       {"clientInfo", {{"name", "t"}, {"version", "1"}}}}));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(json::parse(r.body).at("result").at("protocolVersion"), "2025-11-25");
}

TEST_F(shared_mode, tools_list_and_call_reach_the_backend) {
  auto sid = proxy.open_session("mock");
  auto list = proxy.post("mock", request("a", "tools/list"), sid);
  ASSERT_EQ(list.status, 200);
  auto msgs = messages_of(list);
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].at("id"), "a");  // the client's id comes back, not the backend's
  auto& tools = msgs[0].at("result").at("tools").as_array();
  std::vector<std::string> names;
  for (auto& t : tools) names.push_back(json::value_to<std::string>(t.at("name")));
  EXPECT_NE(std::find(names.begin(), names.end(), "echo"), names.end());
  EXPECT_NE(std::find(names.begin(), names.end(), "add"), names.end());

  auto echo = proxy.call_tool("mock", sid, "echo", {{"text", "hello through the proxy"}}, "x-1");
  EXPECT_EQ(echo.at("id"), "x-1");
  EXPECT_EQ(text_of(echo), "hello through the proxy");
  auto add = proxy.call_tool("mock", sid, "add", {{"a", 2}, {"b", 40}}, 99);
  EXPECT_EQ(text_of(add), R"({"sum":42})");
  EXPECT_EQ(add.at("result").at("structuredContent").at("sum"), 42);
}

TEST_F(shared_mode, ping_is_answered) {
  auto sid = proxy.open_session("mock");
  auto r = proxy.post("mock", request(5, "ping"), sid);
  ASSERT_EQ(r.status, 200);
  auto m = json::parse(r.body);
  EXPECT_EQ(m.at("id"), 5);
  EXPECT_TRUE(m.at("result").is_object());
}

TEST_F(shared_mode, unknown_session_gets_404) {
  auto r = proxy.post("mock", request(1, "tools/list"), "no-such-session");
  EXPECT_EQ(r.status, 404);
}

TEST_F(shared_mode, missing_session_gets_400) {
  auto r = proxy.post("mock", request(1, "tools/list"));
  EXPECT_EQ(r.status, 400);
}

TEST_F(shared_mode, notification_gets_202_with_no_body) {
  auto sid = proxy.open_session("mock");
  auto r = proxy.post(
      "mock", json::object{{"jsonrpc", "2.0"}, {"method", "notifications/roots/list_changed"}},
      sid);
  EXPECT_EQ(r.status, 202);
  EXPECT_TRUE(r.body.empty());
}

TEST_F(shared_mode, bad_origin_gets_403_and_localhost_origin_is_allowed) {
  auto sid = proxy.open_session("mock");
  auto bad =
      proxy.post("mock", request(1, "tools/list"), sid, {{"Origin", "https://evil.example"}});
  EXPECT_EQ(bad.status, 403);
  auto good =
      proxy.post("mock", request(1, "tools/list"), sid, {{"Origin", "http://localhost:6274"}});
  EXPECT_EQ(good.status, 200);
}

TEST_F(shared_mode, unsupported_protocol_version_header_gets_400) {
  auto sid = proxy.open_session("mock");
  auto r =
      proxy.post("mock", request(1, "tools/list"), sid, {{"MCP-Protocol-Version", "2099-01-01"}});
  EXPECT_EQ(r.status, 400);
}

TEST_F(shared_mode, invalid_json_gets_400_with_parse_error) {
  auto r = http_request(
      proxy.port(), "POST", "/mock/mcp", "{not json",
      {{"Content-Type", "application/json"}, {"Accept", "application/json, text/event-stream"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(json::parse(r.body).at("error").at("code"), -32700);
}

TEST_F(shared_mode, post_without_both_accept_types_gets_406) {
  auto r = http_request(proxy.port(), "POST", "/mock/mcp", json::serialize(request(1, "ping")),
                        {{"Content-Type", "application/json"}, {"Accept", "application/json"}});
  EXPECT_EQ(r.status, 406);
}

TEST_F(shared_mode, array_params_get_invalid_params) {
  // MCP (schema: Request.params is an object) narrows JSON-RPC's "object or array".
  auto sid = proxy.open_session("mock");
  auto r = proxy.post(
      "mock",
      json::object{
          {"jsonrpc", "2.0"}, {"id", 4}, {"method", "tools/list"}, {"params", json::array{1}}},
      sid);
  ASSERT_EQ(r.status, 200);
  auto m = json::parse(r.body);
  EXPECT_EQ(m.at("id"), 4);
  EXPECT_EQ(m.at("error").at("code"), -32602);
}

TEST_F(shared_mode, unknown_route_gets_404) {
  auto r = proxy.post("nope", request(1, "ping"));
  EXPECT_EQ(r.status, 404);
}

TEST_F(shared_mode, delete_ends_the_session) {
  auto sid = proxy.open_session("mock");
  auto d = http_request(proxy.port(), "DELETE", "/mock/mcp", "", {{"Mcp-Session-Id", sid}});
  EXPECT_EQ(d.status, 200);
  EXPECT_EQ(proxy.post("mock", request(1, "tools/list"), sid).status, 404);
}

TEST_F(shared_mode, get_without_session_gets_400_and_with_session_opens_event_stream) {
  auto no = http_request(proxy.port(), "GET", "/mock/mcp", "", {{"Accept", "text/event-stream"}});
  EXPECT_EQ(no.status, 400);
  auto sid = proxy.open_session("mock");
  // The stream stays open until the session ends: end it from another thread, then read it.
  auto stream = std::async(std::launch::async, [&] {
    return http_request(proxy.port(), "GET", "/mock/mcp", "",
                        {{"Accept", "text/event-stream"}, {"Mcp-Session-Id", sid}});
  });
  std::this_thread::sleep_for(300ms);
  http_request(proxy.port(), "DELETE", "/mock/mcp", "", {{"Mcp-Session-Id", sid}});
  ASSERT_EQ(stream.wait_for(10s), std::future_status::ready);
  auto r = stream.get();
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.header("content-type").starts_with("text/event-stream"));
}

TEST_F(shared_mode, a_list_change_reaches_the_clients_get_stream) {
  auto sid = proxy.open_session("mock");
  auto stream = std::async(std::launch::async, [&] {
    return http_request(proxy.port(), "GET", "/mock/mcp", "",
                        {{"Accept", "text/event-stream"}, {"Mcp-Session-Id", sid}});
  });
  // The notification is queued for the session even before the GET stream is read.
  EXPECT_EQ(text_of(proxy.call_tool("mock", sid, "change_tools", {})), "changed");
  std::this_thread::sleep_for(200ms);
  http_request(proxy.port(), "DELETE", "/mock/mcp", "", {{"Mcp-Session-Id", sid}});
  ASSERT_EQ(stream.wait_for(10s), std::future_status::ready);
  auto msgs = messages_of(stream.get());
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_EQ(msgs[0].at("method"), "notifications/tools/list_changed");
}

TEST_F(shared_mode, a_second_get_stream_on_one_session_gets_409) {
  auto sid = proxy.open_session("mock");
  auto first = std::async(std::launch::async, [&] {
    return http_request(proxy.port(), "GET", "/mock/mcp", "",
                        {{"Accept", "text/event-stream"}, {"Mcp-Session-Id", sid}});
  });
  std::this_thread::sleep_for(200ms);
  auto second = http_request(proxy.port(), "GET", "/mock/mcp", "",
                             {{"Accept", "text/event-stream"}, {"Mcp-Session-Id", sid}});
  EXPECT_EQ(second.status, 409);
  http_request(proxy.port(), "DELETE", "/mock/mcp", "", {{"Mcp-Session-Id", sid}});
  ASSERT_EQ(first.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(first.get().status, 200);
}

TEST_F(shared_mode, progress_arrives_on_an_event_stream_with_the_clients_token) {
  auto sid = proxy.open_session("mock");
  json::object params{{"name", "progress"},
                      {"arguments", {{"steps", 3}}},
                      {"_meta", {{"progressToken", "my-token"}}}};
  auto r = proxy.post("mock", request(7, "tools/call", params), sid);
  ASSERT_EQ(r.status, 200);
  EXPECT_TRUE(r.header("content-type").starts_with("text/event-stream"));
  auto msgs = messages_of(r);
  ASSERT_EQ(msgs.size(), 4u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(msgs[i].at("method"), "notifications/progress");
    EXPECT_EQ(msgs[i].at("params").at("progressToken"), "my-token");
    EXPECT_EQ(msgs[i].at("params").at("progress"), i + 1);
  }
  EXPECT_EQ(msgs[3].at("id"), 7);
  EXPECT_EQ(text_of(msgs[3]), "done 3 steps");
}

TEST_F(shared_mode, two_clients_with_the_same_id_get_their_own_answers) {
  auto a = proxy.open_session("mock");
  auto b = proxy.open_session("mock");
  auto slow = std::async(std::launch::async, [&] {
    return proxy.call_tool("mock", a, "sleep", {{"ms", 400}}, 1);
  });
  std::this_thread::sleep_for(50ms);
  auto fast = proxy.call_tool("mock", b, "echo", {{"text", "b"}}, 1);
  EXPECT_EQ(text_of(fast), "b");
  auto s = slow.get();
  EXPECT_EQ(s.at("id"), 1);
  EXPECT_EQ(text_of(s), "slept 400 ms");
}

TEST_F(shared_mode, out_of_order_answers_reach_the_right_requests) {
  auto sid = proxy.open_session("mock");
  auto slow = std::async(std::launch::async, [&] {
    return proxy.call_tool("mock", sid, "sleep", {{"ms", 500}}, "slow");
  });
  std::this_thread::sleep_for(50ms);
  auto fast = proxy.call_tool("mock", sid, "echo", {{"text", "fast"}}, "fast");
  EXPECT_EQ(fast.at("id"), "fast");
  EXPECT_EQ(text_of(fast), "fast");
  auto s = slow.get();
  EXPECT_EQ(s.at("id"), "slow");
  EXPECT_EQ(text_of(s), "slept 500 ms");
}

TEST_F(shared_mode, a_line_of_eight_megabytes_passes_through) {
  auto sid = proxy.open_session("mock");
  auto r = proxy.call_tool("mock", sid, "big", {{"bytes", 8 << 20}});
  EXPECT_EQ(text_of(r).size(), std::size_t{8 << 20});
}

TEST_F(shared_mode, a_stderr_flood_does_not_stall_the_backend) {
  auto sid = proxy.open_session("mock");
  // 50k lines of 200 bytes: ten times what a pipe buffer holds.
  auto r = proxy.call_tool("mock", sid, "stderr_flood", {{"lines", 50000}});
  EXPECT_EQ(text_of(r), "wrote 50000 lines");
  EXPECT_EQ(text_of(proxy.call_tool("mock", sid, "echo", {{"text", "still alive"}})),
            "still alive");
  EXPECT_TRUE(proxy.proc().output().find("backend mock stderr: eeee") != std::string::npos);
}

TEST_F(shared_mode, backend_crash_mid_call_gives_an_error_and_the_next_session_works) {
  auto sid = proxy.open_session("mock");
  int old_pid = pid_of_backend(proxy, "mock", sid);
  auto crashed = proxy.call_tool("mock", sid, "crash", {}, 3);
  EXPECT_EQ(crashed.at("id"), 3);
  ASSERT_TRUE(crashed.as_object().contains("error"));
  EXPECT_EQ(crashed.at("error").at("code"), -32000);
  // The proxy reaped the dead child (no zombie) and stays up.
  EXPECT_TRUE(eventually([&] { return !process_exists(old_pid); }));
  auto again = proxy.open_session("mock");
  EXPECT_EQ(text_of(proxy.call_tool("mock", again, "echo", {{"text", "back"}})), "back");
  EXPECT_NE(pid_of_backend(proxy, "mock", again), old_pid);
}

TEST_F(shared_mode, sessions_share_one_backend_process) {
  auto a = proxy.open_session("mock");
  auto b = proxy.open_session("mock");
  EXPECT_EQ(pid_of_backend(proxy, "mock", a), pid_of_backend(proxy, "mock", b));
}

TEST_F(per_client_mode, each_session_gets_its_own_backend_and_delete_reaps_it) {
  auto a = proxy.open_session("mock");
  auto b = proxy.open_session("mock");
  int pa = pid_of_backend(proxy, "mock", a);
  int pb = pid_of_backend(proxy, "mock", b);
  EXPECT_NE(pa, pb);
  http_request(proxy.port(), "DELETE", "/mock/mcp", "", {{"Mcp-Session-Id", a}});
  EXPECT_TRUE(eventually([&] { return !process_exists(pa); }));
  EXPECT_TRUE(process_exists(pb));
}

TEST(proxy_process, an_idle_session_is_ended_and_its_backend_stopped) {
  proxy_fixture proxy{R"({"mcpProxy": {"addr": "127.0.0.1:0", "sessionIdleTimeout": "300ms"},
      "mcpServers": {"m": {"command": ")" MOCK_SERVER_BINARY
                      R"(", "sessionMode": "per-client"}}})"};
  auto sid = proxy.open_session("m");
  int pid = pid_of_backend(proxy, "m", sid);
  EXPECT_TRUE(eventually([&] { return !process_exists(pid); }));
  EXPECT_EQ(proxy.post("m", request(1, "tools/list"), sid).status, 404);
}

TEST_F(per_client_mode, backend_version_follows_the_clients_request) {
  auto r = proxy.post("mock", request(1, "initialize",
                                      {{"protocolVersion", "2025-03-26"},
                                       {"capabilities", json::object{}},
                                       {"clientInfo", {{"name", "t"}, {"version", "1"}}}}));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(json::parse(r.body).at("result").at("protocolVersion"), "2025-03-26");
}

TEST_F(per_client_mode, backend_crash_ends_the_session_with_404_and_a_new_one_works) {
  auto sid = proxy.open_session("mock");
  int pid = pid_of_backend(proxy, "mock", sid);
  auto crashed = proxy.call_tool("mock", sid, "crash", {});
  EXPECT_TRUE(crashed.as_object().contains("error"));
  EXPECT_TRUE(eventually([&] { return !process_exists(pid); }));
  EXPECT_EQ(proxy.post("mock", request(1, "tools/list"), sid).status, 404);
  auto again = proxy.open_session("mock");
  EXPECT_EQ(text_of(proxy.call_tool("mock", again, "echo", {{"text", "ok"}})), "ok");
}

TEST(proxy_process, backend_env_is_added_to_the_inherited_environment_and_cwd_is_used) {
  ::setenv("MCP_PROXY_TEST_INHERITED", "from-parent", 1);
  auto dir = std::filesystem::temp_directory_path();
  proxy_fixture proxy{
      mock_config({{"m", R"("env": {"MOCK_EXTRA": "added"}, "cwd": ")" + dir.string() + "\""}})};
  auto sid = proxy.open_session("m");
  EXPECT_EQ(text_of(proxy.call_tool("m", sid, "env", {{"name", "MOCK_EXTRA"}})), "added");
  EXPECT_EQ(text_of(proxy.call_tool("m", sid, "env", {{"name", "MCP_PROXY_TEST_INHERITED"}})),
            "from-parent");
  EXPECT_EQ(std::filesystem::path(text_of(proxy.call_tool("m", sid, "cwd", {}))),
            std::filesystem::canonical(dir));
}

TEST(proxy_process, a_config_error_names_file_and_path_and_exits_nonzero) {
  auto path = write_temp_file("bad.json", R"({"mcpServers": {"x": {"command": 42}}})");
  process p(MCP_PROXY_BINARY, {"--config", path});
  int status = p.signal_and_wait(0, 10s);  // signal 0: just wait for the exit
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 2);
  auto out = p.output();
  EXPECT_NE(out.find("bad.json"), std::string::npos) << out;
  EXPECT_NE(out.find("$.mcpServers.x.command"), std::string::npos) << out;
}

// Issue #17: spdlog reads an unknown level name as "off", which hid even the fatal errors.
TEST(proxy_process, an_unknown_log_level_is_refused_with_the_valid_names) {
  auto path = write_temp_file("level.json", mock_config({{"m", ""}}));
  process p(MCP_PROXY_BINARY, {"--config", path, "--log-level", "verbose"});
  int status = p.signal_and_wait(0, 10s);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_NE(WEXITSTATUS(status), 0);
  auto out = p.output();
  EXPECT_NE(out.find("verbose"), std::string::npos) << out;
  for (const char* level : {"trace", "debug", "info", "warn", "error"})
    EXPECT_NE(out.find(level), std::string::npos) << level << " not named in:\n" << out;
  EXPECT_EQ(out.find("listening on"), std::string::npos) << out;
}

TEST(proxy_process, tbxark_style_single_dash_config_flag_is_accepted) {
  auto path = write_temp_file("single-dash.json", mock_config({{"m", ""}}));
  process p(MCP_PROXY_BINARY, {"-config", path, "--addr", "127.0.0.1:0"});
  EXPECT_TRUE(p.wait_for_output("listening on http://127.0.0.1:", 20s)) << p.output();
}

TEST(proxy_process, version_flag_prints_the_version) {
  process p(MCP_PROXY_BINARY, {"--version"});
  int status = p.signal_and_wait(0, 10s);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_NE(p.output().find("mcp-proxy 0."), std::string::npos) << p.output();
}

TEST(proxy_process, sigterm_stops_backends_and_leaves_no_child_behind) {
  proxy_fixture proxy{mock_config({{"a", ""}, {"b", R"("sessionMode": "per-client")"}})};
  auto sa = proxy.open_session("a");
  auto sb = proxy.open_session("b");
  int pa = pid_of_backend(proxy, "a", sa);
  int pb = pid_of_backend(proxy, "b", sb);
  int status = proxy.proc().signal_and_wait(SIGTERM, 15s);
  ASSERT_TRUE(WIFEXITED(status)) << proxy.proc().output();
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_TRUE(eventually([&] { return !process_exists(pa) && !process_exists(pb); }));
}

TEST(proxy_process, sigterm_with_streams_and_calls_open_exits_cleanly) {
  // Under ASan this also checks that no coroutine outlives what it refers to at exit.
  proxy_fixture proxy{mock_config({{"a", ""}, {"b", R"("sessionMode": "per-client")"}})};
  auto sa = proxy.open_session("a");
  auto sb = proxy.open_session("b");
  auto get = std::async(std::launch::async, [&] {
    return http_request(proxy.port(), "GET", "/a/mcp", "",
                        {{"Accept", "text/event-stream"}, {"Mcp-Session-Id", sa}});
  });
  auto call = std::async(std::launch::async, [&] {
    try {
      return proxy.call_tool("b", sb, "sleep", {{"ms", 20000}});
    } catch (const std::exception&) {
      return json::value();  // the connection may close before an answer is written
    }
  });
  std::this_thread::sleep_for(300ms);
  int status = proxy.proc().signal_and_wait(SIGTERM, 20s);
  ASSERT_TRUE(WIFEXITED(status)) << proxy.proc().output();
  EXPECT_EQ(WEXITSTATUS(status), 0) << proxy.proc().output();
  EXPECT_EQ(get.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(call.wait_for(10s), std::future_status::ready);
  try {
    get.get();
  } catch (const std::exception&) {
  }
  call.get();
}

TEST(proxy_process, a_subscription_shared_by_two_clients_lasts_until_the_last_one_leaves) {
  proxy_fixture proxy{mock_config({{"f", R"("args": ["--fixture", "conformance"])"}})};
  const std::string uri = "test://watched-resource";
  auto a = proxy.open_session("f");
  auto b = proxy.open_session("f");
  auto b_stream = std::async(std::launch::async, [&] {
    return http_request(proxy.port(), "GET", "/f/mcp", "",
                        {{"Accept", "text/event-stream"}, {"Mcp-Session-Id", b}});
  });
  auto subscribe = [&](const std::string& sid, const char* method) {
    auto r = proxy.post("f", request(1, method, {{"uri", uri}}), sid);
    ASSERT_EQ(r.status, 200);
    EXPECT_TRUE(json::parse(r.body).as_object().contains("result")) << r.body;
  };
  subscribe(a, "resources/subscribe");
  subscribe(b, "resources/subscribe");
  subscribe(a, "resources/unsubscribe");
  // b still holds the backend subscription: the backend notifies, and only b hears it.
  EXPECT_EQ(text_of(proxy.call_tool("f", a, "touch_resource", {})),
            "changed; subscribers notified");
  auto a_stream = std::async(std::launch::async, [&] {
    return http_request(proxy.port(), "GET", "/f/mcp", "",
                        {{"Accept", "text/event-stream"}, {"Mcp-Session-Id", a}});
  });
  std::this_thread::sleep_for(300ms);
  // b leaves: the proxy unsubscribes at the backend for the last subscriber.
  http_request(proxy.port(), "DELETE", "/f/mcp", "", {{"Mcp-Session-Id", b}});
  EXPECT_TRUE(eventually([&] {
    return text_of(proxy.call_tool("f", a, "touch_resource", {})) == "changed; no subscriber";
  }));
  http_request(proxy.port(), "DELETE", "/f/mcp", "", {{"Mcp-Session-Id", a}});
  ASSERT_EQ(b_stream.wait_for(10s), std::future_status::ready);
  ASSERT_EQ(a_stream.wait_for(10s), std::future_status::ready);
  auto b_msgs = messages_of(b_stream.get());
  ASSERT_EQ(b_msgs.size(), 1u);
  EXPECT_EQ(b_msgs[0].at("method"), "notifications/resources/updated");
  EXPECT_EQ(b_msgs[0].at("params").at("uri"), json::value(uri));
  for (auto& m : messages_of(a_stream.get()))
    EXPECT_NE(m.at("method"), "notifications/resources/updated");
}

TEST(proxy_process, backends_die_with_a_proxy_killed_outright) {
  proxy_fixture proxy{mock_config({{"a", ""}})};
  auto sid = proxy.open_session("a");
  int pid = pid_of_backend(proxy, "a", sid);
  proxy.proc().signal_and_wait(SIGKILL, 10s);
  // The proxy cannot reap after SIGKILL; PR_SET_PDEATHSIG ends the child (init reaps it).
  EXPECT_TRUE(eventually([&] { return !process_running(pid); }));
}

TEST(proxy_process, a_backend_that_ignores_sigterm_is_killed_on_shutdown) {
  proxy_fixture proxy{
      mock_config({{"stubborn", R"("args": ["--ignore-sigterm", "--linger-ms", "60000"])"}})};
  auto sid = proxy.open_session("stubborn");
  int pid = pid_of_backend(proxy, "stubborn", sid);
  int status = proxy.proc().signal_and_wait(SIGTERM, 20s);
  ASSERT_TRUE(WIFEXITED(status)) << proxy.proc().output();
  EXPECT_TRUE(eventually([&] { return !process_exists(pid); }));
  EXPECT_NE(proxy.proc().output().find("SIGKILL"), std::string::npos);
}

TEST(proxy_process, a_backend_that_cannot_start_gives_an_error_not_a_hang) {
  proxy_fixture proxy{R"({"mcpProxy": {"addr": "127.0.0.1:0"}, "mcpServers": {
      "broken": {"command": "/nonexistent/mcp-server"},
      "mock": {"command": ")" MOCK_SERVER_BINARY R"("}}})"};
  auto r = proxy.post("broken", request(1, "initialize",
                                        {{"protocolVersion", "2025-11-25"},
                                         {"capabilities", json::object{}},
                                         {"clientInfo", {{"name", "t"}, {"version", "1"}}}}));
  ASSERT_EQ(r.status, 200);
  auto m = json::parse(r.body);
  EXPECT_EQ(m.at("error").at("code"), -32000);
  // The client learns that the command could not start, not where it lives (design: no paths
  // to clients); the log has the details.
  const auto text = json::value_to<std::string>(m.at("error").at("message"));
  EXPECT_NE(text.find("could not be started"), std::string::npos) << text;
  EXPECT_EQ(text.find("/nonexistent"), std::string::npos) << text;
  EXPECT_NE(proxy.proc().output().find("/nonexistent/mcp-server"), std::string::npos);
  // The other backend is unaffected.
  auto sid = proxy.open_session("mock");
  EXPECT_EQ(text_of(proxy.call_tool("mock", sid, "echo", {{"text", "fine"}})), "fine");
}

TEST(proxy_process, a_command_that_fails_at_exec_leaves_no_zombie) {
  // Executable, but its interpreter does not exist: fork succeeds, exec fails.
  auto script = write_temp_file("no-interpreter.sh", "#!/nonexistent/interpreter\n");
  std::filesystem::permissions(script, std::filesystem::perms::owner_all);
  proxy_fixture proxy{R"({"mcpProxy": {"addr": "127.0.0.1:0"}, "mcpServers": {
      "bad": {"command": ")" +
                      script + R"(", "sessionMode": "per-client"}}})"};
  for (int i = 0; i < 3; ++i) {
    auto r = proxy.post("bad", request(1, "initialize",
                                       {{"protocolVersion", "2025-11-25"},
                                        {"capabilities", json::object{}},
                                        {"clientInfo", {{"name", "t"}, {"version", "1"}}}}));
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(json::parse(r.body).at("error").at("code"), -32000);
  }
  // The failed children were reaped: none is left, running or zombie.
  EXPECT_TRUE(eventually([&] { return children_of(proxy.proc().pid()) == 0; }));
}

TEST(proxy_process, initialize_beyond_max_sessions_gets_503) {
  proxy_fixture proxy{R"({"mcpProxy": {"addr": "127.0.0.1:0", "maxSessions": 2},
      "mcpServers": {"m": {"command": ")" MOCK_SERVER_BINARY R"("}}})"};
  auto a = proxy.open_session("m");
  auto b = proxy.open_session("m");
  auto r = proxy.post("m", request(1, "initialize",
                                   {{"protocolVersion", "2025-11-25"},
                                    {"capabilities", json::object{}},
                                    {"clientInfo", {{"name", "t"}, {"version", "1"}}}}));
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(json::parse(r.body).at("error").at("code"), -32000);
  // Ending one session makes room again.
  http_request(proxy.port(), "DELETE", "/m/mcp", "", {{"Mcp-Session-Id", a}});
  EXPECT_FALSE(proxy.open_session("m").empty());
}

TEST(proxy_process, a_call_past_the_backend_timeout_gets_an_error) {
  // 2 s: the timeout bounds the backend's initialize too, which an ASan mock on a loaded
  // machine does not always finish within half a second.
  proxy_fixture proxy{mock_config({{"slow", R"("timeout": "2s")"}})};
  auto sid = proxy.open_session("slow");
  // The backend would answer after 30 s; the client's HTTP wait is 20 s: only the proxy's
  // deadline can produce this answer.
  auto r = proxy.call_tool("slow", sid, "sleep", {{"ms", 30000}}, 11);
  EXPECT_EQ(r.at("id"), 11);
  EXPECT_EQ(r.at("error").at("code"), -32001);
  // The session still works afterwards.
  EXPECT_EQ(text_of(proxy.call_tool("slow", sid, "echo", {{"text", "ok"}})), "ok");
}
