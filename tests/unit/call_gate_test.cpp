// frontend/call_gate and frontend/audit_log: what a client's request gets from mcpProxy.limits,
// and the audit line and the request log line it leaves.

#include "frontend/call_gate.hpp"
#include "frontend/audit_log.hpp"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <boost/json/parse.hpp>

#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace mcp_proxy::frontend {
namespace {

using jsonrpc::message;
namespace codes = jsonrpc::error_codes;
namespace json = boost::json;

// Limits set for one test and cleared after it (they are process-wide).
struct scoped_limits {
  explicit scoped_limits(auth::limits_config c) { set_call_limits(std::move(c)); }
  ~scoped_limits() { set_call_limits(std::nullopt); }
};

protocol::session_narrowing who(std::string key) {
  protocol::session_narrowing n;
  n.limits_key = std::move(key);
  return n;
}

message tool_call(int id, std::string_view tool) {
  return message::request(id, "tools/call", json::object{{"name", tool}});
}

std::int64_t error_code(const message& m) {
  return m.error() ? m.error()->as_object().at("code").as_int64() : 0;
}

TEST(call_gate, without_limits_or_audit_nothing_is_watched) {
  set_call_limits(std::nullopt);
  ASSERT_FALSE(set_audit_log(""));
  for (int i = 0; i < 100; ++i) {
    auto p = enter_gate(who("peer:127.0.0.1"), "fetch", message::request(i, "ping"));
    EXPECT_FALSE(p.refused);
    EXPECT_FALSE(p.watcher);
  }
}

TEST(call_gate, requests_over_the_rate_get_the_error_with_retry_after) {
  auth::limits_config c;
  c.defaults.requests_per_second = 0.5;  // one token every 2 s
  c.defaults.request_burst = 2;
  scoped_limits on(c);
  EXPECT_FALSE(enter_gate(who("token:a"), "", message::request(1, "ping")).refused);
  EXPECT_FALSE(enter_gate(who("token:a"), "", message::request(2, "ping")).refused);
  auto third = enter_gate(who("token:a"), "", message::request(3, "ping"));
  ASSERT_TRUE(third.refused);
  EXPECT_EQ(error_code(*third.refused), codes::rate_limited);
  EXPECT_EQ(*third.refused->id(), json::value(3));
  EXPECT_EQ(retry_after_of(*third.refused), std::chrono::seconds(2));
  const auto& data = third.refused->error()->as_object().at("data").as_object();
  EXPECT_EQ(data.at("limit").as_string(), "requests per second");
  // Another identity has its own bucket; notifications are never counted.
  EXPECT_FALSE(enter_gate(who("token:b"), "", message::request(1, "ping")).refused);
  EXPECT_FALSE(
      enter_gate(who("token:a"), "", message::notification("notifications/initialized")).refused);
}

TEST(call_gate, the_principal_is_the_key_when_no_limits_key_is_set) {
  auth::limits_config c;
  c.defaults.requests_per_second = 0.001;
  c.defaults.request_burst = 1;
  scoped_limits on(c);
  protocol::session_narrowing n;
  n.principal = "token:a";
  EXPECT_FALSE(enter_gate(n, "", message::request(1, "ping")).refused);
  EXPECT_TRUE(enter_gate(who("token:a"), "", message::request(2, "ping")).refused);
}

TEST(call_gate, tool_limits_apply_to_matching_tools_only) {
  auth::limits_config c;
  c.defaults.per_tool.push_back({"slow_*", 0.001, 1});
  scoped_limits on(c);
  EXPECT_FALSE(enter_gate(who("stdio"), "", tool_call(1, "slow_search")).refused);
  auto again = enter_gate(who("stdio"), "", tool_call(2, "slow_fetch"));
  ASSERT_TRUE(again.refused);
  EXPECT_NE(
      std::string(again.refused->error()->as_object().at("message").as_string()).find("slow_*"),
      std::string::npos);
  EXPECT_FALSE(enter_gate(who("stdio"), "", tool_call(3, "fast_echo")).refused);
  EXPECT_FALSE(enter_gate(who("stdio"), "", message::request(4, "tools/list")).refused);
}

TEST(call_gate, a_call_holds_its_slot_until_its_answer) {
  auth::limits_config c;
  c.defaults.max_calls_in_flight = 1;
  scoped_limits on(c);
  auto first = enter_gate(who("jwt:alice"), "", tool_call(1, "echo"));
  ASSERT_FALSE(first.refused);
  ASSERT_TRUE(first.watcher);
  auto second = enter_gate(who("jwt:alice"), "", tool_call(2, "echo"));
  ASSERT_TRUE(second.refused);
  EXPECT_EQ(retry_after_of(*second.refused), std::chrono::seconds(1));
  // The answer frees the slot even while the call's watch lives on.
  first.watcher->on_final(message::response(1, json::object{}), "fetch");
  auto third = enter_gate(who("jwt:alice"), "", tool_call(3, "echo"));
  EXPECT_FALSE(third.refused);
  // A call that ends without an answer frees it too.
  third.watcher.reset();
  EXPECT_FALSE(enter_gate(who("jwt:alice"), "", tool_call(4, "echo")).refused);
}

TEST(call_gate, retry_after_is_read_from_limit_errors_only) {
  EXPECT_FALSE(retry_after_of(message::response(1, json::object{})));
  EXPECT_FALSE(retry_after_of(message::error_response(1, -32000, "backend down")));
  const json::value data{{"retryAfter", 7}};
  EXPECT_FALSE(retry_after_of(message::error_response(1, -32000, "x", &data)));
  EXPECT_EQ(retry_after_of(message::error_response(1, codes::rate_limited, "x", &data)),
            std::chrono::seconds(7));
}

TEST(audit_log, a_line_names_who_what_where_and_how_it_ended) {
  audit_entry e;
  e.at = std::chrono::system_clock::time_point(std::chrono::milliseconds(1'764'944'145'007));
  e.identity = "token:ci";
  e.route = "github";
  e.method = "tools/call";
  e.target = "search_issues";
  e.backend = "github";
  set_outcome(e, message::error_response(1, codes::invalid_params, "bad"));
  e.ms = 12.345;
  auto v = json::parse(audit_line(e)).as_object();
  EXPECT_EQ(v.at("time").as_string(), "2025-12-05T14:15:45.007Z");
  EXPECT_EQ(v.at("identity").as_string(), "token:ci");
  EXPECT_EQ(v.at("route").as_string(), "github");
  EXPECT_EQ(v.at("method").as_string(), "tools/call");
  EXPECT_EQ(v.at("target").as_string(), "search_issues");
  EXPECT_EQ(v.at("backend").as_string(), "github");
  EXPECT_EQ(v.at("outcome").as_string(), "error");
  EXPECT_EQ(v.at("code").as_int64(), codes::invalid_params);
  EXPECT_DOUBLE_EQ(v.at("ms").as_double(), 12.3);
  set_outcome(e, message::response(1, json::object{}));
  EXPECT_EQ(json::parse(audit_line(e)).as_object().at("outcome").as_string(), "ok");
  EXPECT_FALSE(json::parse(audit_line(e)).as_object().contains("code"));
  set_outcome(e, message::error_response(1, codes::request_timeout, "late"));
  EXPECT_EQ(json::parse(audit_line(e)).as_object().at("outcome").as_string(), "timeout");
}

TEST(audit_log, targets_are_names_and_uris_never_arguments) {
  EXPECT_EQ(audit_target(message::request(
                1, "tools/call",
                json::object{{"name", "echo"}, {"arguments", json::object{{"secret", "x"}}}})),
            "echo");
  EXPECT_EQ(audit_target(message::request(1, "prompts/get", json::object{{"name", "greet"}})),
            "greet");
  EXPECT_EQ(audit_target(message::request(1, "resources/read", json::object{{"uri", "file:///a"}})),
            "file:///a");
  EXPECT_EQ(audit_target(message::request(1, "tools/list")), "");
}

// Every request through the gate leaves one line, written when it is answered (or dropped).
TEST(audit_log, the_gate_writes_a_line_per_request) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("mcp-proxy-audit-" + std::to_string(::getpid()) + ".jsonl");
  std::filesystem::remove(path);
  ASSERT_FALSE(set_audit_log(path.string()));
  auth::limits_config c;
  c.defaults.requests_per_second = 0.001;
  c.defaults.request_burst = 2;
  {
    scoped_limits on(c);
    auto answered = enter_gate(who("token:a"), "fetch", message::request(1, "tools/list"));
    answered_now(answered, message::response(1, json::object{}));
    auto call = enter_gate(who("token:a"), "fetch", tool_call(2, "echo"));
    ASSERT_TRUE(call.watcher);
    EXPECT_FALSE(enter_gate(who("token:a"), "fetch", tool_call(3, "echo")).watcher);  // refused
    call.watcher.reset();  // ended without an answer
  }
  ASSERT_FALSE(set_audit_log(""));
  std::ifstream in(path);
  std::vector<json::object> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(json::parse(line).as_object());
  std::filesystem::remove(path);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].at("method").as_string(), "tools/list");
  EXPECT_EQ(lines[0].at("outcome").as_string(), "ok");
  EXPECT_EQ(lines[1].at("outcome").as_string(), "refused");
  EXPECT_EQ(lines[1].at("code").as_int64(), codes::rate_limited);
  EXPECT_EQ(lines[2].at("target").as_string(), "echo");
  EXPECT_EQ(lines[2].at("outcome").as_string(), "no answer");
  for (const auto& l : lines) {
    EXPECT_EQ(l.at("identity").as_string(), "token:a");
    EXPECT_EQ(l.at("route").as_string(), "fetch");
  }
}

TEST(audit_log, the_line_carries_the_request_id) {
  audit_entry e;
  e.method = "ping";
  e.outcome = "ok";
  e.id = "req-7";
  EXPECT_EQ(json::parse(audit_line(e)).as_object().at("id").as_string(), "req-7");
  e.id = nullptr;
  EXPECT_FALSE(json::parse(audit_line(e)).as_object().contains("id"));
}

// The request line of the log (issue #17): the audit record in words, and as fields.
TEST(request_log, a_line_names_route_method_target_backend_outcome_ms_and_id) {
  audit_entry e;
  e.identity = "token:ci";
  e.route = "github";
  e.method = "tools/call";
  e.target = "search issues";
  e.backend = "github";
  e.id = 7;
  set_outcome(e, message::error_response(7, codes::invalid_params, "bad"));
  e.ms = 12.345;
  EXPECT_EQ(request_log_text(e),
            "request route=github method=tools/call target=\"search issues\" backend=github "
            "outcome=error code=-32602 ms=12.3 id=7 identity=token:ci");
  const auto f = request_log_fields(e);
  EXPECT_EQ(f.at("route").as_string(), "github");
  EXPECT_EQ(f.at("target").as_string(), "search issues");
  EXPECT_EQ(f.at("backend").as_string(), "github");
  EXPECT_EQ(f.at("outcome").as_string(), "error");
  EXPECT_EQ(f.at("code").as_int64(), codes::invalid_params);
  EXPECT_DOUBLE_EQ(f.at("ms").as_double(), 12.3);
  EXPECT_EQ(f.at("id").as_int64(), 7);
  e.route = "";
  e.target = "";
  e.backend = "";
  e.id = "a b";
  set_outcome(e, message::response(7, json::object{}));
  EXPECT_EQ(request_log_text(e),
            "request route=\"\" method=tools/call outcome=ok ms=12.3 id=\"a b\" "
            "identity=token:ci");
}

// Log lines written to a string for one test; the default logger is put back after.
struct captured_log {
  explicit captured_log(spdlog::level::level_enum level)
      : saved(spdlog::default_logger()),
        logger(std::make_shared<spdlog::logger>(
            "capture", std::make_shared<spdlog::sinks::ostream_sink_mt>(out))) {
    logger->set_pattern("%l %v");
    logger->set_level(level);
    spdlog::set_default_logger(logger);
  }
  ~captured_log() { spdlog::set_default_logger(saved); }
  std::ostringstream out;
  std::shared_ptr<spdlog::logger> saved;
  std::shared_ptr<spdlog::logger> logger;
};

TEST(request_log, the_gate_logs_each_request_at_debug_without_the_audit_log) {
  set_call_limits(std::nullopt);
  ASSERT_FALSE(set_audit_log(""));
  {
    captured_log log(spdlog::level::debug);
    auto p = enter_gate(who("peer:127.0.0.1"), "fetch", tool_call(5, "echo"));
    ASSERT_TRUE(p.watcher);
    p.watcher->on_final(message::response(5, json::object{}), "fetch");
    p.watcher.reset();
    const auto text = log.out.str();
    EXPECT_NE(text.find("debug request route=fetch method=tools/call target=echo backend=fetch "
                        "outcome=ok ms="),
              std::string::npos)
        << text;
    EXPECT_NE(text.find(" id=5 identity=peer:127.0.0.1\n"), std::string::npos) << text;
  }
  {
    captured_log log(spdlog::level::info);  // debug off, no audit log: nothing recorded
    EXPECT_FALSE(enter_gate(who("peer:127.0.0.1"), "fetch", tool_call(6, "echo")).watcher);
    EXPECT_EQ(log.out.str(), "");
  }
}

// options.logEnabled (TBXark's): that server's requests at info, others still at debug.
TEST(request_log, log_enabled_servers_are_logged_at_info) {
  set_call_limits(std::nullopt);
  ASSERT_FALSE(set_audit_log(""));
  set_request_log_servers({"fetch"});
  {
    captured_log log(spdlog::level::info);
    auto p = enter_gate(who("stdio"), "fetch", tool_call(1, "echo"));
    ASSERT_TRUE(p.watcher);
    answered_now(p, message::response(1, json::object{}));
    auto q = enter_gate(who("stdio"), "other", tool_call(2, "echo"));
    ASSERT_TRUE(q.watcher);
    answered_now(q, message::response(2, json::object{}));
    // The merged endpoint ("") routing to fetch: logged by its backend.
    auto m = enter_gate(who("stdio"), "", tool_call(3, "fetch__echo"));
    ASSERT_TRUE(m.watcher);
    m.watcher->on_final(message::response(3, json::object{}), "fetch");
    m.watcher.reset();
    const auto text = log.out.str();
    EXPECT_NE(text.find("info request route=fetch method=tools/call"), std::string::npos) << text;
    EXPECT_EQ(text.find("route=other"), std::string::npos) << text;
    EXPECT_NE(text.find("info request route=\"\" method=tools/call target=fetch__echo "
                        "backend=fetch"),
              std::string::npos)
        << text;
  }
  set_request_log_servers({});
}

TEST(audit_log, an_unwritable_file_is_an_error_that_says_why) {
  auto why = set_audit_log("/nonexistent-dir/audit.jsonl");
  ASSERT_TRUE(why);
  EXPECT_NE(why->find("/nonexistent-dir/audit.jsonl"), std::string::npos);
  EXPECT_FALSE(audit_on());
}

}  // namespace
}  // namespace mcp_proxy::frontend
