// mcp-proxy --check's parts (config/config_check): the checks against this machine and the
// resolved view with its secrets redacted.

#include "config/config_check.hpp"
#include "config_test_support.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <boost/json/serialize.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

namespace mcp_proxy::config {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;

using test_support::parse_ok;

// A directory of its own for each test, removed at its end.
class temp_dir {
 public:
  explicit temp_dir(std::string_view name)
      : path_(fs::temp_directory_path() / ("config_check_test_" + std::string(name))) {
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~temp_dir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }
  fs::path file(std::string_view name, std::string_view text, bool executable = false) const {
    auto p = path_ / std::string(name);
    std::ofstream(p) << text;
    if (executable) ::chmod(p.c_str(), 0755);
    return p;
  }

 private:
  fs::path path_;
};

std::string paths_of(const std::vector<config_problem>& problems) {
  std::string out;
  for (const auto& p : problems) out += p.path + ": " + p.message + "\n";
  return out;
}

TEST(config_check, commands_are_found_as_execvp_finds_them) {
  temp_dir d("find");
  d.file("tool", "#!/bin/sh\n", true);
  d.file("plain", "not executable");
  const std::string path_env = "/nonexistent:" + d.path().string();
  EXPECT_EQ(find_command("tool", path_env), (d.path() / "tool").string());
  EXPECT_FALSE(find_command("plain", path_env));
  EXPECT_FALSE(find_command("missing", path_env));
  EXPECT_EQ(find_command((d.path() / "tool").string(), ""), (d.path() / "tool").string());
  EXPECT_FALSE(find_command((d.path() / "plain").string(), path_env));
  // A directory is no command.
  EXPECT_FALSE(find_command(d.path().string(), path_env));
}

TEST(config_check, a_missing_command_and_a_missing_cwd_are_each_reported) {
  temp_dir d("servers");
  d.file("tool", "#!/bin/sh\n", true);
  const auto text = R"({"mcpServers": {
      "good": {"command": "tool"},
      "gone": {"command": "no-such-tool"},
      "path": {"command": "./sub/tool"},
      "where": {"command": "tool", "cwd": ")" +
                    (d.path() / "nowhere").string() + R"("},
      "off": {"command": "no-such-tool", "disabled": true},
      "web": {"url": "https://example.com/mcp"}}})";
  const auto problems = check_environment(parse_ok(text), d.path().string());
  EXPECT_EQ(paths_of(problems),
            "$.mcpServers.gone.command: command \"no-such-tool\" not found on PATH\n"
            "$.mcpServers.path.command: \"./sub/tool\" is not an executable file\n"
            "$.mcpServers.where.cwd: no such directory: \"" +
                (d.path() / "nowhere").string() + "\"\n");
}

TEST(config_check, a_relative_command_is_found_from_the_servers_cwd) {
  temp_dir d("relative");
  fs::create_directories(d.path() / "bin");
  d.file("bin/tool", "#!/bin/sh\n", true);
  const auto text =
      R"({"mcpServers": {"a": {"command": "./bin/tool", "cwd": ")" + d.path().string() + R"("}}})";
  EXPECT_TRUE(check_environment(parse_ok(text), "").empty());
}

TEST(config_check, ca_files_must_hold_certificates) {
  temp_dir d("ca");
  const auto empty = d.file("empty.pem", "no certificate here\n");
  const auto text = R"({"mcpServers": {
      "a": {"url": "https://example.com/mcp", "tlsCaFile": ")" +
                    empty.string() + R"("},
      "b": {"url": "https://example.com/mcp", "tlsCaFile": ")" +
                    (d.path() / "missing.pem").string() + R"("}}})";
  const auto problems = check_environment(parse_ok(text), "");
  ASSERT_EQ(problems.size(), 2u) << paths_of(problems);
  EXPECT_EQ(problems[0].path, "$.mcpServers.a.tlsCaFile");
  EXPECT_NE(problems[0].message.find("holds no PEM certificate"), std::string::npos);
  EXPECT_EQ(problems[1].path, "$.mcpServers.b.tlsCaFile");
  EXPECT_NE(problems[1].message.find("cannot read"), std::string::npos);
}

TEST(config_check, the_audit_log_needs_a_writable_place) {
  temp_dir d("audit");
  auto problems =
      check_environment(parse_ok(R"({"mcpProxy": {"auditLog": ")" +
                                 (d.path() / "audit.log").string() + R"("}, "mcpServers": {}})"),
                        "");
  EXPECT_TRUE(problems.empty()) << paths_of(problems);
  problems = check_environment(
      parse_ok(R"({"mcpProxy": {"auditLog": ")" + (d.path() / "no/such/dir/audit.log").string() +
               R"("}, "mcpServers": {}})"),
      "");
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].path, "$.mcpProxy.auditLog");
}

TEST(config_check, secret_looking_names) {
  for (std::string_view name : {"GITHUB_TOKEN", "Authorization", "X-Api-Key", "apikey",
                                "DB_PASSWORD", "client_secret", "Cookie", "PRIVATE_KEY"})
    EXPECT_TRUE(name_looks_secret(name)) << name;
  for (std::string_view name : {"HOME", "PATH", "Accept", "X-Request-Id", "LANG", "--verbose"})
    EXPECT_FALSE(name_looks_secret(name)) << name;
}

TEST(config_check, the_view_redacts_every_secret_and_keeps_the_rest) {
  auto c = parse_ok(R"({
    "mcpProxy": {"options": {"authTokens": ["tok-global", {"name": "ci", "token": "tok-ci"}]}},
    "mcpServers": {
      "fs": {"command": "tool", "args": ["--api-key", "arg-secret", "--token=flag-secret", "-v",
                                          "plain"],
             "env": {"GITHUB_TOKEN": "env-secret", "HOME": "/home/me"}},
      "web": {"url": "https://user:url-pass@example.com/mcp?key=query-secret&x",
              "headers": {"Authorization": "Bearer header-secret", "Accept-Language": "en"},
              "clientCredentials": {"tokenEndpoint": "https://auth.example.com/token",
                                    "clientId": "me", "clientSecret": "client-secret"},
              "options": {"authTokens": ["tok-own"], "logEnabled": true}}}})");
  const auto view = resolved_view(c);
  const auto text = json::serialize(view);
  for (std::string_view secret :
       {"tok-global", "tok-ci", "tok-own", "arg-secret", "flag-secret", "env-secret", "url-pass",
        "query-secret", "header-secret", "client-secret"})
    EXPECT_EQ(text.find(secret), std::string::npos) << secret << " in " << text;

  const auto& fs_view = view.at("mcpServers").at("fs").as_object();
  EXPECT_EQ(fs_view.at("args"),
            (json::array{"--api-key", "REDACTED", "--token=REDACTED", "-v", "plain"}));
  EXPECT_EQ(fs_view.at("env").at("HOME"), "/home/me");
  EXPECT_EQ(fs_view.at("env").at("GITHUB_TOKEN"), "REDACTED");
  EXPECT_EQ(fs_view.at("transportType"), "stdio");
  EXPECT_EQ(fs_view.at("timeout"), "60s");
  // Inherited tokens show, by name where they have one.
  EXPECT_EQ(fs_view.at("options").at("authTokens"),
            (json::array{"REDACTED", json::object{{"name", "ci"}, {"token", "REDACTED"}}}));

  const auto& web = view.at("mcpServers").at("web").as_object();
  EXPECT_EQ(web.at("url"), "https://user:REDACTED@example.com/mcp?key=REDACTED&x");
  EXPECT_EQ(web.at("headers").at("Authorization"), "REDACTED");
  EXPECT_EQ(web.at("headers").at("Accept-Language"), "en");
  EXPECT_EQ(web.at("clientCredentials").at("clientId"), "me");
  EXPECT_EQ(web.at("clientCredentials").at("clientSecret"), "REDACTED");
  EXPECT_EQ(web.at("options").at("logEnabled"), true);
  EXPECT_EQ(web.at("options").at("panicIfInvalid"), false);
  EXPECT_EQ(web.at("transportType"), "streamable-http");
  EXPECT_EQ(web.at("transportDetected"), true);

  EXPECT_EQ(view.at("mcpProxy").at("addr"), "127.0.0.1:9090");
  EXPECT_EQ(view.at("mcpProxy").at("fanOutTimeout"), "10s");
}

}  // namespace
}  // namespace mcp_proxy::config
