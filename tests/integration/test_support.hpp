#pragma once
// Helpers for tests that run the real mcp-proxy binary: a child process with captured stderr,
// a temporary config, and a small blocking HTTP client for Streamable HTTP. Every wait is
// bounded; every process started is stopped by PID.

#include <boost/json.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mcp_proxy::test {

// A started program; its stderr is collected by a thread. The destructor kills and reaps it.
class process {
 public:
  process(const std::string& exe, const std::vector<std::string>& args);
  ~process();
  process(const process&) = delete;
  process& operator=(const process&) = delete;

  int pid() const { return pid_; }
  // Waits until stderr contains `needle`; returns the stderr seen so far, or nullopt on timeout.
  std::optional<std::string> wait_for_output(const std::string& needle,
                                             std::chrono::milliseconds timeout);
  std::string output() const;
  // Sends a signal and waits for exit; returns the exit status (or -1 on timeout).
  int signal_and_wait(int sig, std::chrono::milliseconds timeout);

 private:
  struct shared;
  int pid_ = -1;
  int status_ = -1;
  bool reaped_ = false;
  std::shared_ptr<shared> state_;
};

// Whether a process with this pid exists (a zombie, not yet reaped, counts as existing).
bool process_exists(int pid);
// Whether it exists and is not a zombie.
bool process_running(int pid);
// Child processes of `parent`, running or exited but not reaped (the proxy's guardian aside).
int children_of(int parent);

std::string write_temp_file(const std::string& name, const std::string& content);

struct http_response {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? "" : it->second;
  }
};

http_response http_request(std::uint16_t port, const std::string& method, const std::string& target,
                           const std::string& body,
                           const std::map<std::string, std::string>& headers,
                           std::chrono::milliseconds timeout = std::chrono::seconds(20));

// The JSON-RPC messages in a response: the body itself for application/json, every `data:` of an
// event stream otherwise.
std::vector<boost::json::value> messages_of(const http_response& r);

// A proxy with a config of mock servers, listening on a free loopback port.
class proxy_fixture {
 public:
  explicit proxy_fixture(const std::string& config_json);
  std::uint16_t port() const { return port_; }
  process& proc() { return *proc_; }

  // POSTs a JSON-RPC message to /{server}/mcp with the headers a correct client sends.
  http_response post(const std::string& server, const boost::json::value& msg,
                     const std::string& session = {},
                     std::map<std::string, std::string> extra = {});
  // initialize + notifications/initialized; returns the session id.
  std::string open_session(const std::string& server, const std::string& version = "2025-11-25");
  // tools/call on an open session; returns the (single) response message.
  boost::json::value call_tool(const std::string& server, const std::string& session,
                               const std::string& tool, boost::json::object args,
                               boost::json::value id = 1);

 private:
  std::unique_ptr<process> proc_;
  std::uint16_t port_ = 0;
};

// A config with servers named by `servers` (name -> extra JSON members such as sessionMode).
std::string mock_config(const std::map<std::string, std::string>& servers);

}  // namespace mcp_proxy::test
