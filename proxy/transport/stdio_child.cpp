#include "transport/stdio_child.hpp"

#include "protocol/line_splitter.hpp"
#include "protocol/proxy_metrics.hpp"
#include "util/line_budget.hpp"
#include "util/process_guardian.hpp"
#include "util/process_v2.hpp"
#include "util/spawn.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/readable_pipe.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/writable_pipe.hpp>
#include <boost/asio/write.hpp>

#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <string>
#include <vector>

namespace mcp_proxy::transport {

namespace asio = boost::asio;
namespace bp = boost::process::v2;
using asio::awaitable;
using asio::use_awaitable;

struct stdio_child::impl {
  explicit impl(asio::any_io_executor ex) : in(ex), out(ex), err(ex) {}
  asio::writable_pipe in;
  asio::readable_pipe out;
  asio::readable_pipe err;
  std::optional<bp::process> proc;
};

namespace {

// Closes every descriptor from 3 up but those in `keep`, without allocating (we are between
// fork and exec). Boost.Process 1.81 means to do this but skips every gap below its last kept
// descriptor, so children inherited the proxy's sockets: a keep-alive connection the proxy
// closed stayed open in the child, sent no FIN, and the next request written on it at the peer
// waited for its deadline.
void close_inherited_fds(const std::vector<int>& keep) {
  auto close_from_to = [](unsigned lo, unsigned hi) {
    if (lo > hi) return;
    if (::syscall(SYS_close_range, lo, hi, 0) == 0) return;
    const long max_fd = ::sysconf(_SC_OPEN_MAX);
    const unsigned last = max_fd > 0 ? std::min<unsigned long>(hi, max_fd - 1) : 65535;
    for (unsigned fd = lo; fd <= last; ++fd) ::close(static_cast<int>(fd));
  };
  unsigned lo = 3;
  for (;;) {
    // The smallest kept descriptor at or above `lo` (the list is short and unsorted).
    int next = -1;
    for (int fd : keep)
      if (fd >= static_cast<int>(lo) && (next < 0 || fd < next)) next = fd;
    if (next < 0) break;
    close_from_to(lo, static_cast<unsigned>(next) - 1);
    lo = static_cast<unsigned>(next) + 1;
  }
  close_from_to(lo, ~0u);
}

// In the child, before exec (after its stdio is in place): lead a process group of its own (so
// what a wrapper starts is ended with it: util/process_guardian.hpp), get SIGTERM when the proxy
// dies (the guardian follows up with SIGKILL), and hold none of the proxy's descriptors.
struct child_setup {
  template <typename Launcher>
  boost::system::error_code on_exec_setup(Launcher& launcher, const std::filesystem::path&,
                                          const char* const*&) {
    ::setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    close_inherited_fds(launcher.fd_whitelist);
    return {};
  }
};

std::vector<std::string> merged_environment(const std::map<std::string, std::string>& extra) {
  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string_view kv(*e);
    auto eq = kv.find('=');
    if (eq == std::string_view::npos) continue;
    env.emplace(std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1)));
  }
  for (const auto& [k, v] : extra) env[k] = v;
  std::vector<std::string> out;
  out.reserve(env.size());
  for (const auto& [k, v] : env) out.push_back(k + "=" + v);
  return out;
}

// A command with a slash is a path (relative to the child's cwd when one is set); a bare name is
// looked up in PATH, the extra env's PATH first.
std::filesystem::path resolve_command(const stdio_child_options& o) {
  if (o.command.find('/') != std::string::npos) {
    std::filesystem::path p(o.command);
    if (p.is_relative() && o.cwd) return std::filesystem::path(*o.cwd) / p;
    return p;
  }
  std::string path;
  if (auto it = o.env.find("PATH"); it != o.env.end()) path = it->second;
  if (const char* sys = std::getenv("PATH")) {
    if (!path.empty()) path += ':';
    path += sys;
  }
  std::string_view rest(path);
  while (!rest.empty()) {
    auto colon = rest.find(':');
    std::string dir(rest.substr(0, colon));
    rest = colon == std::string_view::npos ? std::string_view{} : rest.substr(colon + 1);
    if (dir.empty()) continue;
    auto candidate = std::filesystem::path(dir) / o.command;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return {};
}

}  // namespace

stdio_child::stdio_child(asio::any_io_executor ex, const stdio_child_options& options)
    : name_(options.name),
      metrics_id_(protocol::metrics::metrics().name(options.name)),
      impl_(std::make_unique<impl>(ex)),
      outgoing_(ex),
      incoming_(ex),
      exit_signal_(ex),
      reaped_(ex),
      max_message_bytes_(options.max_message_bytes),
      log_lines_per_second_(options.log_lines_per_second),
      pipe_closed_(ex) {}

stdio_child::~stdio_child() {
  kill_now();
}

boost::system::result<std::shared_ptr<stdio_child>, stdio_child::spawn_error> stdio_child::spawn(
    asio::any_io_executor ex, const stdio_child_options& options) {
  auto exe = resolve_command(options);
  if (exe.empty()) return spawn_error{"command not found in PATH: " + options.command};
  if (::access(exe.c_str(), X_OK) != 0)
    return spawn_error{"command is not an executable file: " + exe.string()};
  std::error_code fs_ec;
  if (options.cwd && !std::filesystem::is_directory(*options.cwd, fs_ec))
    return spawn_error{"cwd is not a directory: " + *options.cwd};

  std::shared_ptr<stdio_child> child(new stdio_child(ex, options));
  auto& io = *child->impl_;
  boost::system::error_code ec;
  auto env = merged_environment(options.env);
  std::filesystem::path dir =
      options.cwd ? std::filesystem::path(*options.cwd) : std::filesystem::current_path(fs_ec);
  if (fs_ec) return spawn_error{"no working directory: " + fs_ec.message()};
  // The launcher tells the io_context it runs on about the fork (notify_fork), and Asio's
  // resolver then stops its thread: a name lookup queued at that moment was never answered (an
  // HTTP backend connecting while a stdio one started waited for its whole timeout). The child
  // execs at once and needs none of that, so the launch runs on a context of its own and the
  // process is then attached to `ex`.
  asio::io_context launch_context;
  bp::default_process_launcher launcher;
  auto launched = launcher(launch_context.get_executor(), ec, exe, options.args,
                           bp::process_stdio{io.in, io.out, io.err}, bp::process_environment(env),
                           bp::process_start_dir(dir), child_setup{});
  if (ec) {
    // When exec fails after fork, the launcher reports it without reaping the forked child.
    if (launcher.pid > 0) ::waitpid(launcher.pid, nullptr, 0);
    return spawn_error{"cannot start " + exe.string() + ": " + ec.message()};
  }
  child->pid_ = launched.id();
  util::guard_process_group(child->pid_);
  launched.detach();
  io.proc.emplace(ex, child->pid_);

  util::spawn_logged(ex, child->write_loop(child), options.name + " stdin");
  util::spawn_logged(ex, child->read_loop(child), options.name + " stdout");
  util::spawn_logged(ex, child->stderr_loop(child), options.name + " stderr");
  util::spawn_logged(ex, child->wait_loop(child), options.name + " wait");
  return child;
}

void stdio_child::send(const jsonrpc::message& m) {
  send_line(jsonrpc::serialize(m));
}

void stdio_child::send_line(std::string line) {
  line.push_back('\n');
  if (auto& m = protocol::metrics::metrics(); m.on()) m.backend_sent(metrics_id_, line.size());
  outgoing_.push(std::move(line));
}

awaitable<std::optional<inbound>> stdio_child::receive() {
  auto line = co_await incoming_.pop();
  if (line) co_return inbound{std::move(*line), {}};
  if (!exited_ && !oversized_ && !stopped_) {
    // A local deadline (the GCC 12 rule of docs/architecture.md).
    const auto deadline = util::async_event::clock::now() + std::chrono::seconds(1);
    co_await reaped_.wait(deadline);
  }
  co_return std::nullopt;
}

awaitable<void> stdio_child::write_loop([[maybe_unused]] std::shared_ptr<stdio_child> self) {
  // The lines queued while a write was under way go out together in the next one: concurrent
  // calls cost one system call per burst, not one per line (a write stays under 256 KB).
  constexpr std::size_t batch_bytes = 256 * 1024;
  std::vector<std::string> batch;
  std::vector<asio::const_buffer> pieces;
  while (auto line = co_await outgoing_.pop()) {
    batch.clear();
    pieces.clear();
    std::size_t bytes = line->size();
    batch.push_back(std::move(*line));
    while (bytes < batch_bytes) {
      auto more = outgoing_.try_pop();
      if (!more) break;
      bytes += more->size();
      batch.push_back(std::move(*more));
    }
    for (const auto& l : batch) pieces.push_back(asio::buffer(l));
    auto [ec, n] = co_await asio::async_write(impl_->in, pieces, asio::as_tuple(use_awaitable));
    if (ec) {
      spdlog::warn("backend {}: writing to stdin failed: {}", name_, ec.message());
      outgoing_.close();  // nothing more can be delivered; later sends are dropped
      break;
    }
  }
  close_stdin();
}

awaitable<void> stdio_child::read_loop([[maybe_unused]] std::shared_ptr<stdio_child> self) {
  protocol::line_splitter lines(max_message_bytes_);
  std::array<char, 64 * 1024> buf;
  for (;;) {
    auto [ec, n] =
        co_await impl_->out.async_read_some(asio::buffer(buf), asio::as_tuple(use_awaitable));
    if (n > 0) {
      lines.feed(std::string_view(buf.data(), n));
      while (auto line = lines.next_line()) incoming_.push(std::move(*line));
      if (lines.overflowed()) {
        // Not read any further: the link ends, its calls fail now, and the backend is restarted.
        oversized_ = true;
        spdlog::error("backend {}: a stdout message over maxMessageBytes ({} bytes); ending it",
                      name_, max_message_bytes_);
        break;
      }
    }
    if (ec) break;
  }
  if (lines.pending_bytes() > 0)
    spdlog::warn("backend {}: stdout closed inside a line ({} bytes dropped)", name_,
                 lines.pending_bytes());
  incoming_.close();
  pipe_closed_.push(1);
}

awaitable<void> stdio_child::stderr_loop([[maybe_unused]] std::shared_ptr<stdio_child> self) {
  protocol::line_splitter lines;
  util::line_budget budget(log_lines_per_second_);
  std::array<char, 16 * 1024> buf;
  constexpr std::size_t max_logged = 4096;    // a log record, not the data
  constexpr std::size_t max_pending = 65536;  // stderr is for people: bound an endless line
  auto report_suppressed = [&] {
    if (auto suppressed = budget.take_suppressed())
      spdlog::warn("backend {} stderr: suppressed {} lines (over logLinesPerSecond {})", name_,
                   suppressed, log_lines_per_second_);
  };
  auto log_line = [&](std::string line, util::line_budget::clock::time_point now) {
    if (!budget.allow(now)) return;
    report_suppressed();
    if (line.size() > max_logged) line.resize(max_logged);
    spdlog::info("backend {} stderr: {}", name_, line);
  };
  for (;;) {
    auto [ec, n] =
        co_await impl_->err.async_read_some(asio::buffer(buf), asio::as_tuple(use_awaitable));
    const std::string_view chunk(buf.data(), n);
    const auto now = util::line_budget::clock::now();
    if (const auto last_newline = chunk.rfind('\n');
        budget.exhausted(now) && last_newline != std::string_view::npos) {
      // A flood: its whole lines are counted, not split (the one pending ends at the first).
      lines.take_pending();
      budget.suppress(static_cast<std::uint64_t>(
          std::count(chunk.begin(), chunk.begin() + last_newline + 1, '\n')));
      lines.feed(chunk.substr(last_newline + 1));
    } else if (n > 0) {
      lines.feed(chunk);
      while (auto line = lines.next_line()) log_line(std::move(*line), now);
    }
    if (lines.pending_bytes() > max_pending) {
      auto partial = lines.take_pending();
      partial.resize(max_logged);
      log_line("(a line over " + std::to_string(max_pending) + " bytes, cut) " + partial, now);
    }
    if (ec) break;
  }
  report_suppressed();
  pipe_closed_.push(1);
}

awaitable<void> stdio_child::wait_loop([[maybe_unused]] std::shared_ptr<stdio_child> self) {
  auto [ec, code] = co_await impl_->proc->async_wait(asio::as_tuple(use_awaitable));
  exited_ = true;
  if (!ec) {
    const int status = impl_->proc->native_exit_code();
    if (WIFSIGNALED(status))
      term_signal_ = WTERMSIG(status);
    else
      exit_code_ = code;
  }
  reaped_.notify_all();  // receive() waits for this to end the link with the exit status
  spdlog::info("backend {}: process {} {}", name_, pid_, ec ? ec.message() : end_reason());
  outgoing_.close();
  co_await end_group();
  group_ended_ = true;
  exit_signal_.push(code);
}

awaitable<void> stdio_child::end_group() {
  asio::steady_timer timer(impl_->out.get_executor());
  if (::kill(-pid_, 0) == 0) {
    spdlog::info("backend {}: process {} left processes in its group; sending them SIGTERM", name_,
                 pid_);
    ::kill(-pid_, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + group_grace;
    while (::kill(-pid_, 0) == 0 && std::chrono::steady_clock::now() < deadline) {
      timer.expires_after(std::chrono::milliseconds(50));
      co_await timer.async_wait(asio::as_tuple(use_awaitable));
    }
    if (::kill(-pid_, 0) == 0) {
      spdlog::warn("backend {}: processes of group {} still running after SIGTERM; sending SIGKILL",
                   name_, pid_);
      ::kill(-pid_, SIGKILL);
    }
  }
  util::release_process_group(pid_);
  // What the child wrote before it exited is read within moments. A pipe still open after that
  // is held by a process that left the group (setsid): stop waiting for it.
  const auto drained = std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
  for (int open_pipes = 2; open_pipes > 0; --open_pipes) {
    auto closed = co_await pipe_closed_.pop(drained);
    if (!closed) break;
  }
  boost::system::error_code ignored;
  if (impl_->out.is_open()) impl_->out.close(ignored);
  if (impl_->err.is_open()) impl_->err.close(ignored);
}

void stdio_child::close_stdin() {
  boost::system::error_code ignored;
  if (impl_->in.is_open()) impl_->in.close(ignored);
}

awaitable<void> stdio_child::stop(std::chrono::milliseconds grace) {
  stopped_ = true;
  auto self = shared_from_this();
  outgoing_.close();  // the writer drains what is queued, then closes stdin
  if (outgoing_.empty()) close_stdin();
  using clock = util::async_queue<int>::clock;
  if (group_ended_) co_return;
  // The awaited values go into locals (the GCC 12 rule of docs/architecture.md).
  auto ended = co_await exit_signal_.pop(clock::now() + grace);
  if (ended || group_ended_) co_return;
  if (!exited_) {
    spdlog::info("backend {}: no exit {} ms after stdin closed; sending SIGTERM", name_,
                 grace.count());
    ::kill(-pid_, SIGTERM);  // the whole group (the child leads it)
    ended = co_await exit_signal_.pop(clock::now() + grace);
    if (ended || group_ended_) co_return;
    if (!exited_) {
      spdlog::warn("backend {}: still running after SIGTERM; sending SIGKILL", name_);
      ::kill(-pid_, SIGKILL);
    }
  }
  // Reaped, or about to be; end_group() takes at most group_grace and a moment more.
  ended = co_await exit_signal_.pop(clock::now() + group_grace + std::chrono::seconds(5));
}

void stdio_child::kill_now() {
  stopped_ = true;
  if (exited_ || pid_ <= 0 || !impl_->proc) return;
  boost::system::error_code ignored;
  if (impl_->proc->running(ignored)) {
    ::kill(-pid_, SIGKILL);      // the whole group (the child leads it)
    impl_->proc->wait(ignored);  // reaps
  } else {
    ::kill(-pid_, SIGKILL);  // what it left behind
  }
  util::release_process_group(pid_);
  exited_ = true;
}

}  // namespace mcp_proxy::transport

namespace mcp_proxy::transport {

std::string stdio_child::end_reason() const {
  if (oversized_)
    return "sent a message over maxMessageBytes (" + std::to_string(max_message_bytes_) + " bytes)";
  if (exit_code_) return "exited with code " + std::to_string(*exit_code_);
  if (term_signal_) {
    const char* name = ::sigabbrev_np(*term_signal_);
    return "killed by signal " + std::to_string(*term_signal_) +
           (name ? std::string(" (SIG") + name + ")" : std::string());
  }
  return "closed its stdout";
}

}  // namespace mcp_proxy::transport
