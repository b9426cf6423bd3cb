// protocol/log_text: what log lines may show (session ids shortened, bodies cut), the fields a
// message names, the JSON log line, and mcpProxy.logLevel / logFormat as the config reads them.

#include "protocol/log_text.hpp"
#include "config/config.hpp"

#include <gtest/gtest.h>
#include <boost/json/parse.hpp>

#include <string>

namespace mcp_proxy::protocol {
namespace {

namespace json = boost::json;

TEST(log_text, a_session_id_shows_at_most_8_characters_and_never_half_of_it) {
  const std::string id = "3f2a9c1e-77b0-4d5e-9a11-0c4b2e8f6d31";
  EXPECT_EQ(short_id(id), "3f2a9c1e...");
  EXPECT_EQ(short_id(id).find(id.substr(8)), std::string::npos);
  EXPECT_EQ(short_id("abcdefghij"), "abcde...");  // 10 characters: 5 shown
  EXPECT_EQ(short_id("ab"), "a...");
  EXPECT_EQ(short_id("a"), "...");
  EXPECT_EQ(short_id(""), "...");
}

TEST(log_text, a_long_body_is_cut_with_its_whole_length) {
  const std::string body(5000, 'x');
  const auto cut = body_excerpt(body);
  EXPECT_EQ(cut, std::string(2048, 'x') + "... (5000 bytes)");
  EXPECT_EQ(body_excerpt("{\"a\":1}"), "{\"a\":1}");
  EXPECT_EQ(body_excerpt("abcdef", 6), "abcdef");
  EXPECT_EQ(body_excerpt("abcdef", 3), "abc... (6 bytes)");
}

TEST(log_text, a_cut_never_splits_a_character_and_control_characters_are_escaped) {
  // "é" is two bytes: a cut after its first byte backs up before it.
  EXPECT_EQ(body_excerpt("ab\xC3\xA9z", 3), "ab... (5 bytes)");
  EXPECT_EQ(body_excerpt("a\nb\r\tc\x01", 100), "a\\nb\\r\\tc\\u0001");
}

TEST(log_text, a_session_id_in_a_query_is_shortened) {
  EXPECT_EQ(
      redact_session_query("event: endpoint\ndata: /fs/message?sessionId=0123456789abcdef\n\n"),
      "event: endpoint\ndata: /fs/message?sessionId=01234567...\n\n");
  EXPECT_EQ(redact_session_query("/m?a=1&sessionId=abcdefghijkl&b=2 sessionId="),
            "/m?a=1&sessionId=abcdef...&b=2 sessionId=");
  EXPECT_EQ(redact_session_query("no ids here"), "no ids here");
}

TEST(log_text, logfmt_values_are_words_or_json_strings) {
  EXPECT_EQ(logfmt_value("tools/call"), "tools/call");
  EXPECT_EQ(logfmt_value("file:///a/b.txt"), "file:///a/b.txt");
  EXPECT_EQ(logfmt_value(""), "\"\"");
  EXPECT_EQ(logfmt_value("a b"), "\"a b\"");
  EXPECT_EQ(logfmt_value("x outcome=ok"), "\"x outcome=ok\"");
  EXPECT_EQ(logfmt_value("line\nforged"), "\"line\\nforged\"");
}

TEST(log_text, the_fields_a_message_names_by_its_first_words) {
  auto f = fields_of("backend github: started npx (pid 12)");
  EXPECT_EQ(f.backend, "github");
  EXPECT_EQ(f.session, "");
  EXPECT_EQ(fields_of("backend fs stderr: hello").backend, "fs");
  f = fields_of("session 3f2a9c1e... on github: initialized (client protocol 2025-11-25)");
  EXPECT_EQ(f.session, "3f2a9c1e...");
  EXPECT_EQ(f.route, "github");
  f = fields_of("session 3f2a9c1e... on group dev: ended");
  EXPECT_EQ(f.route, "group dev");
  f = fields_of("session 3f2a9c1e...: cancellation for no request in flight");
  EXPECT_EQ(f.session, "3f2a9c1e...");
  EXPECT_EQ(f.route, "");
  EXPECT_EQ(fields_of("legacy SSE session ab12...: its client does not read").session, "ab12...");
  f = fields_of("mcp-proxy 0.1.0 listening on http://127.0.0.1:9090");
  EXPECT_EQ(f.backend + f.session + f.route, "");
  EXPECT_EQ(fields_of("backend : nothing").backend, "");
}

TEST(log_text, a_json_line_has_time_level_message_and_the_named_fields) {
  const json::object extra{{"method", "tools/call"}, {"ms", 1.5}};
  const auto line = json_log_line("2026-12-05T14:31:17.123Z", "debug",
                                  "backend github: \"quoted\"\nsecond line", &extra);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  const auto v = json::parse(line).as_object();
  EXPECT_EQ(v.at("time").as_string(), "2026-12-05T14:31:17.123Z");
  EXPECT_EQ(v.at("level").as_string(), "debug");
  EXPECT_EQ(v.at("message").as_string(), "backend github: \"quoted\"\nsecond line");
  EXPECT_EQ(v.at("backend").as_string(), "github");
  EXPECT_EQ(v.at("method").as_string(), "tools/call");
  EXPECT_DOUBLE_EQ(v.at("ms").as_double(), 1.5);
  EXPECT_FALSE(v.contains("session"));
}

TEST(log_text, invalid_utf8_in_a_message_still_makes_a_json_line) {
  const auto line = json_log_line("t", "info", "backend x stderr: \xFF\xC3(\xED\xA0\x80 ok");
  boost::system::error_code ec;
  const auto v = json::parse(line, ec);
  ASSERT_FALSE(ec) << line;
  EXPECT_EQ(v.at("message").as_string(),
            "backend x stderr: \xEF\xBF\xBD\xEF\xBF\xBD(\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD ok");
}

TEST(log_text, level_and_format_names) {
  for (const auto name : log_level_names) EXPECT_TRUE(is_log_level_name(name)) << name;
  EXPECT_FALSE(is_log_level_name("verbose"));
  EXPECT_FALSE(is_log_level_name("INFO"));
  EXPECT_EQ(log_level_list(), "trace, debug, info, warn, warning, error, critical, off");
  EXPECT_EQ(log_format_of("json"), log_format::json);
  EXPECT_EQ(log_format_of("text"), log_format::text);
  EXPECT_FALSE(log_format_of("logfmt"));
}

TEST(log_text, mcp_proxy_log_level_and_format_are_read_and_checked) {
  const auto ok = config::parse_config(
      R"({"mcpProxy": {"logLevel": "debug", "logFormat": "json"}, "mcpServers": {}})", "p.json");
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->proxy.log_level, "debug");
  EXPECT_EQ(ok->proxy.log_format, "json");
  const auto unset = config::parse_config(R"({"mcpServers": {}})", "p.json");
  ASSERT_TRUE(unset);
  EXPECT_EQ(unset->proxy.log_level, "");
  EXPECT_EQ(unset->proxy.log_format, "");
  const auto bad = config::parse_config(
      R"({"mcpProxy": {"logLevel": "verbose", "logFormat": "xml"}, "mcpServers": {}})", "p.json");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("p.json: $.mcpProxy.logLevel: unknown log level \"verbose\"; "
                                     "use one of trace, debug, info, warn, warning, error, "
                                     "critical, off"),
            std::string::npos)
      << bad.error().message;
  EXPECT_NE(bad.error().message.find("$.mcpProxy.logFormat: unknown log format \"xml\"; use "
                                     "\"text\" or \"json\""),
            std::string::npos)
      << bad.error().message;
  const auto wrong_type =
      config::parse_config(R"({"mcpProxy": {"logLevel": 3}, "mcpServers": {}})", "p.json");
  EXPECT_FALSE(wrong_type);
}

}  // namespace
}  // namespace mcp_proxy::protocol
