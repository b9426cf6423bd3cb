#pragma once
// A child process that speaks MCP over stdio: one JSON-RPC message per line on stdin/stdout.
// stderr is drained continuously into the log, one line per record, tagged with the backend
// name (a full stderr pipe would stall the child). The child leads a process group of its own,
// and every way it ends also ends what is left of that group (util/process_guardian.hpp).
// Thread-safety: all calls on the executor given to spawn(). Lifetime: shared; the I/O loops
// hold a reference until the child has exited and been reaped.

#include "transport/message_link.hpp"
#include "util/async_event.hpp"
#include "util/async_queue.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mcp_proxy::transport {

struct stdio_child_options {
  std::string name;  // for logs
  std::string command;
  std::vector<std::string> args;
  std::map<std::string, std::string> env;  // added to the inherited environment
  std::optional<std::string> cwd;
  // A stdout line longer than this ends the link (end_reason says so).
  std::size_t max_message_bytes = 64u << 20;
  // stderr lines logged a second, at most (util/line_budget.hpp).
  std::uint64_t log_lines_per_second = 100;
};

class stdio_child final : public message_link, public std::enable_shared_from_this<stdio_child> {
 public:
  struct spawn_error {
    std::string message;
  };
  // Starts the child and its I/O loops; the error says why the command could not start.
  static boost::system::result<std::shared_ptr<stdio_child>, spawn_error> spawn(
      boost::asio::any_io_executor ex, const stdio_child_options& options);

  ~stdio_child() override;

  // Queues one message line (without newline) for the child's stdin. Dropped after exit.
  void send_line(std::string line);
  void send(const jsonrpc::message& m) override;
  // The next line from the child's stdout; nullopt once stdout has closed (the child is gone).
  // Its stdout closes just before it is reaped: nullopt waits a moment (at most 1 s) for its
  // exit status, so that end_reason() says how it ended (an exit code, or a signal).
  boost::asio::awaitable<std::optional<inbound>> receive() override;

  // Closes stdin, waits up to `grace` for exit, then SIGTERM, waits `grace` again, then SIGKILL;
  // the signals go to the child's whole process group. Returns once the child has been reaped
  // and its group ended. Safe to call more than once.
  boost::asio::awaitable<void> stop(std::chrono::milliseconds grace);
  boost::asio::awaitable<void> stop() override { return stop(std::chrono::milliseconds(2000)); }
  // Best-effort synchronous kill and reap (destructors, fatal paths).
  void kill_now() override;
  std::string end_reason() const override;
  // Empty while the child runs with its stdout open.
  boost::system::error_code end_cause() const override {
    if (stopped_) return link_error::stopped;
    if (exited_ || incoming_.closed()) return link_error::exited;
    return {};
  }
  std::string describe() const override { return "pid " + std::to_string(pid_); }

  int pid() const { return pid_; }
  bool exited() const { return exited_; }
  std::optional<int> exit_code() const { return exit_code_; }

  struct impl;

 private:
  stdio_child(boost::asio::any_io_executor ex, const stdio_child_options& options);
  boost::asio::awaitable<void> write_loop([[maybe_unused]] std::shared_ptr<stdio_child> self);
  boost::asio::awaitable<void> read_loop([[maybe_unused]] std::shared_ptr<stdio_child> self);
  boost::asio::awaitable<void> stderr_loop([[maybe_unused]] std::shared_ptr<stdio_child> self);
  boost::asio::awaitable<void> wait_loop([[maybe_unused]] std::shared_ptr<stdio_child> self);
  // After the child (the group's leader) is reaped: SIGTERM to what is left of its group, SIGKILL
  // after group_grace, then the pipes are closed even if an escaped process holds them.
  boost::asio::awaitable<void> end_group();
  void close_stdin();

  std::string name_;
  std::uint32_t metrics_id_;  // name_ in protocol::metrics (bytes sent)
  std::unique_ptr<impl> impl_;
  util::async_queue<std::string> outgoing_;
  util::async_queue<std::string> incoming_;
  util::async_queue<int> exit_signal_;  // one item when the child has been reaped
  util::async_event reaped_;            // notified when exited_ is set (before end_group)
  int pid_ = -1;
  bool exited_ = false;
  bool stopped_ = false;            // stop() or kill_now() ended it, not the child itself
  bool group_ended_ = false;        // reaped, and end_group() done
  std::optional<int> exit_code_;    // set when it exited
  std::optional<int> term_signal_;  // set when a signal ended it
  std::size_t max_message_bytes_;
  std::uint64_t log_lines_per_second_;
  bool oversized_ = false;              // a stdout line went over max_message_bytes_
  util::async_queue<int> pipe_closed_;  // an item as each of stdout and stderr reaches its end
  static constexpr std::chrono::milliseconds group_grace{2000};
};

}  // namespace mcp_proxy::transport
