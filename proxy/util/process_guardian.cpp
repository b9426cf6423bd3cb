#include "util/process_guardian.hpp"

#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace mcp_proxy::util {

namespace {

int write_end = -1;  // the proxy's end of the guardian's pipe; -1 without a guardian
pid_t guardian_pid = -1;

constexpr int max_groups = 1 << 16;

void close_all_but(int keep) {
  if (keep > 3) ::syscall(SYS_close_range, 3u, static_cast<unsigned>(keep) - 1, 0u);
  ::syscall(SYS_close_range, static_cast<unsigned>(keep) + 1, ~0u, 0u);
}

void sleep_ms(long ms) {
  timespec ts{ms / 1000, (ms % 1000) * 1000000L};
  while (::nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

void say(const char* text) {
  [[maybe_unused]] auto n = ::write(2, text, std::strlen(text));
}

// The guardian itself. It was forked from a process that may have other threads, so it
// allocates nothing and calls only async-signal-safe functions.
[[noreturn]] void guard(int in) {
  static int groups[max_groups];
  int count = 0;
  ::prctl(PR_SET_NAME, "mcp-proxy-guard", 0, 0, 0);
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGQUIT}) ::signal(sig, SIG_IGN);
  if (int null = ::open("/dev/null", O_RDWR); null >= 0) {
    ::dup2(null, 0);
    ::dup2(null, 1);
    if (null > 2) ::close(null);
  }
  close_all_but(in);

  char buf[4096];
  char op = 0;
  long number = 0;
  for (;;) {
    const ssize_t n = ::read(in, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    for (ssize_t i = 0; i < n; ++i) {
      const char c = buf[i];
      if (c == '+' || c == '-') {
        op = c;
        number = 0;
      } else if (c >= '0' && c <= '9') {
        number = number * 10 + (c - '0');
      } else if (c == '\n' && op != 0 && number > 0) {
        if (op == '+' && count < max_groups) {
          groups[count++] = static_cast<int>(number);
        } else if (op == '-') {
          for (int k = 0; k < count; ++k)
            if (groups[k] == number) {
              groups[k] = groups[--count];
              break;
            }
        }
        op = 0;
      }
    }
  }
  if (count == 0) ::_exit(0);

  say("mcp-proxy-guard: the proxy is gone; ending its backend process groups\n");
  for (int k = 0; k < count; ++k) ::kill(-groups[k], SIGTERM);
  for (int waited = 0; waited < 2000; waited += 50) {
    bool any = false;
    for (int k = 0; k < count && !any; ++k) any = ::kill(-groups[k], 0) == 0;
    if (!any) ::_exit(0);
    sleep_ms(50);
  }
  for (int k = 0; k < count; ++k) ::kill(-groups[k], SIGKILL);
  ::_exit(0);
}

void tell(char op, int pgid) {
  if (write_end < 0 || pgid <= 0) return;
  const std::string line = op + std::to_string(pgid) + '\n';
  if (::write(write_end, line.data(), line.size()) == static_cast<ssize_t>(line.size())) return;
  // A full pipe (the guardian stopped reading) or a dead guardian: go on without it.
  spdlog::warn("process guardian unreachable ({}); backends may outlive a killed proxy",
               std::strerror(errno));
  ::close(write_end);
  write_end = -1;
}

}  // namespace

bool start_process_guardian() {
  if (write_end >= 0) return true;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    spdlog::warn("no process guardian (pipe: {}); backends may outlive a killed proxy",
                 std::strerror(errno));
    return false;
  }
  const pid_t pid = ::fork();
  if (pid < 0) {
    spdlog::warn("no process guardian (fork: {}); backends may outlive a killed proxy",
                 std::strerror(errno));
    ::close(fds[0]);
    ::close(fds[1]);
    return false;
  }
  if (pid == 0) guard(fds[0]);
  ::close(fds[0]);
  ::fcntl(fds[1], F_SETFL, O_NONBLOCK);
  write_end = fds[1];
  guardian_pid = pid;
  return true;
}

void guard_process_group(int pgid) {
  tell('+', pgid);
}

void release_process_group(int pgid) {
  tell('-', pgid);
}

void stop_process_guardian() {
  if (write_end < 0) return;
  ::close(write_end);
  write_end = -1;
  // With no group left to end it exits at once; reap it (bounded: a group still listed means a
  // backend the shutdown could not stop, and the guardian then ends it, taking up to 2 s).
  for (int i = 0; i < 300 && ::waitpid(guardian_pid, nullptr, WNOHANG) == 0; ++i) sleep_ms(10);
  guardian_pid = -1;
}

}  // namespace mcp_proxy::util
