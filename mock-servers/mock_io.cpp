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

void run_worker(std::function<void()> work) {
  {
    std::lock_guard lock(workers_mutex);
    ++workers;
  }
  std::thread([work = std::move(work), scope = current_scope] {
    {
      scope_guard in(scope);
      work();
    }
    std::lock_guard lock(workers_mutex);
    --workers;
    workers_cv.notify_all();
  }).detach();
}

void wait_for_workers(std::chrono::milliseconds limit) {
  std::unique_lock lock(workers_mutex);
  workers_cv.wait_for(lock, limit, [] { return workers == 0; });
}

}  // namespace mock
