#include "mock_io.hpp"

#include "synthetic.hpp"

#include <boost/json.hpp>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>

namespace json = boost::json;
using mcp_proxy::jsonrpc::message;

namespace mock {

namespace {

std::mutex out_mutex;

// Requests sent to the client, by their id as JSON text; the slot is filled by route_response.
std::mutex requests_mutex;
std::condition_variable requests_cv;
std::map<std::string, std::optional<message>> waiting;
bool requests_closed = false;
std::atomic<std::int64_t> next_request_id{1};

std::mutex cancelled_mutex;
std::set<std::string> cancelled;  // request ids as JSON text

std::mutex workers_mutex;
std::condition_variable workers_cv;
int workers = 0;

thread_local std::shared_ptr<request_scope> current_scope;
std::function<void(const message&)> unscoped_observer;  // set once in main, before any thread

}  // namespace

std::shared_ptr<request_scope> thread_scope() {
  return current_scope;
}

scope_guard::scope_guard(std::shared_ptr<request_scope> s) : previous_(std::move(current_scope)) {
  current_scope = std::move(s);
}

scope_guard::~scope_guard() {
  current_scope = std::move(previous_);
}

void set_unscoped_observer(std::function<void(const message&)> observer) {
  unscoped_observer = std::move(observer);
}

void emit(const message& m) {
  if (current_scope) {
    current_scope->deliver(m);
    return;
  }
  write_stdout(m);
  if (unscoped_observer && m.is_notification()) unscoped_observer(m);
}

void write_stdout(const message& m) {
  emit_line(mcp_proxy::jsonrpc::serialize(m));
}

void emit_line(std::string text) {
  std::string line = synthetic::garbage_before_message();
  line += text;
  line.push_back('\n');
  std::lock_guard lock(out_mutex);
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fflush(stdout);
}

std::optional<message> request_client(std::string_view method, json::object params,
                                      std::chrono::milliseconds timeout) {
  std::string id = "mock-" + std::to_string(next_request_id.fetch_add(1));
  const std::string key = json::serialize(json::value(id));
  {
    std::lock_guard lock(requests_mutex);
    if (requests_closed) return std::nullopt;
    waiting.emplace(key, std::nullopt);
  }
  // Registered before it is sent, so an answer can never arrive to no waiter.
  emit(message::request(json::value(id), method, std::move(params)));
  std::unique_lock lock(requests_mutex);
  requests_cv.wait_for(lock, timeout, [&] { return requests_closed || waiting[key].has_value(); });
  auto node = waiting.extract(key);
  const bool timed_out = !requests_closed && !node.mapped().has_value();
  lock.unlock();
  if (timed_out) {
    emit(message::notification(
        "notifications/cancelled",
        {{"requestId", id}, {"reason", "mock-mcp-server: no answer in time"}}));
  }
  return std::move(node.mapped());
}

bool route_response(const message& response) {
  const json::value* id = response.id();
  if (!id || !id->is_string()) return false;
  const std::string key = json::serialize(*id);
  std::lock_guard lock(requests_mutex);
  auto it = waiting.find(key);
  if (it == waiting.end() || it->second) return false;
  it->second = response;
  requests_cv.notify_all();
  return true;
}

void close_client_requests() {
  std::lock_guard lock(requests_mutex);
  requests_closed = true;
  requests_cv.notify_all();
}

void note_cancelled(const json::value& id) {
  report_cancelled(id, "notifications/cancelled");
  std::lock_guard lock(cancelled_mutex);
  cancelled.insert(json::serialize(id));
}

void report_cancelled(const json::value& id, std::string_view how) {
  // One write: lines of concurrent threads do not interleave.
  const std::string line =
      "mock-mcp-server: request " + json::serialize(id) + " cancelled (" + std::string(how) + ")\n";
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

bool take_cancelled(const json::value& id) {
  std::lock_guard lock(cancelled_mutex);
  return cancelled.erase(json::serialize(id)) > 0;
}

namespace {
void worker_started() {
  std::lock_guard lock(workers_mutex);
  ++workers;
}
void worker_ended() {
  std::lock_guard lock(workers_mutex);
  --workers;
  workers_cv.notify_all();
}

struct delayed_work {
  std::function<void()> work;
  std::shared_ptr<request_scope> scope;
};
// Never destroyed: the timer thread may still wait on it while the process exits. Keyed by due
// time, then by the order they were asked for.
struct timer_queue {
  std::mutex mutex;
  std::condition_variable cv;
  std::map<std::pair<std::chrono::steady_clock::time_point, std::uint64_t>, delayed_work> due;
  std::uint64_t next_order = 0;
};
timer_queue& timers() {
  static auto* q = new timer_queue;
  return *q;
}

[[noreturn]] void run_timers() {
  auto& q = timers();
  std::unique_lock lock(q.mutex);
  for (;;) {
    if (q.due.empty()) {
      q.cv.wait(lock);
      continue;
    }
    // Woken early: an earlier one may have come, look again.
    if (std::chrono::steady_clock::now() < q.due.begin()->first.first) {
      q.cv.wait_until(lock, q.due.begin()->first.first);
      continue;
    }
    auto next = std::move(q.due.extract(q.due.begin()).mapped());
    lock.unlock();
    {
      scope_guard in(std::move(next.scope));
      next.work();
    }
    worker_ended();
    lock.lock();
  }
}
}  // namespace

void run_worker(std::function<void()> work) {
  worker_started();
  std::thread([work = std::move(work), scope = current_scope] {
    {
      scope_guard in(scope);
      work();
    }
    worker_ended();
  }).detach();
}

void run_after(std::chrono::milliseconds delay, std::function<void()> work) {
  worker_started();
  static std::once_flag started;
  std::call_once(started, [] { std::thread(run_timers).detach(); });
  auto& q = timers();
  std::lock_guard lock(q.mutex);
  auto at = q.due.emplace(std::pair(std::chrono::steady_clock::now() + delay, q.next_order++),
                          delayed_work{std::move(work), current_scope});
  // The timer thread needs waking only when this one is due first (a wakeup is not free).
  if (at.first == q.due.begin()) q.cv.notify_one();
}

void wait_for_workers(std::chrono::milliseconds limit) {
  std::unique_lock lock(workers_mutex);
  workers_cv.wait_for(lock, limit, [] { return workers == 0; });
}

}  // namespace mock
