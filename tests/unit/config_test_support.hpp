#pragma once
// What the config tests share: parsing a document that must load, listing a refusal's paths,
// and an environment variable set for one test.

#include "config/config.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace mcp_proxy::config::test_support {

// Parses `text` (origin "cfg.json") and expects success; returns the config for further checks.
inline config parse_ok(std::string_view text, const load_options& options = {}) {
  auto r = parse_config(text, "cfg.json", options);
  EXPECT_TRUE(r.has_value()) << text << "\n-> " << (r.has_error() ? r.error().message : "");
  if (!r.has_value()) return {};
  return *r;
}

// The JSON paths of a refusal's problems, in order.
inline std::vector<std::string> error_paths(const config_error& e) {
  std::vector<std::string> paths;
  for (const auto& p : e.errors) paths.push_back(p.path);
  return paths;
}

// Sets (or unsets) an environment variable for the scope of a test.
class scoped_env {
 public:
  scoped_env(const char* name, const char* value) : name_(name) {
    if (value)
      ::setenv(name, value, 1);
    else
      ::unsetenv(name);
  }
  ~scoped_env() { ::unsetenv(name_); }
  scoped_env(const scoped_env&) = delete;
  scoped_env& operator=(const scoped_env&) = delete;

 private:
  const char* name_;
};

}  // namespace mcp_proxy::config::test_support
