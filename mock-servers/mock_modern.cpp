#include "mock_modern.hpp"

#include "mock_listen.hpp"
#include "modern_tools.hpp"

#include "protocol/modern_request.hpp"

#include <boost/json.hpp>

#include <atomic>
#include <map>
#include <mutex>

namespace json = boost::json;
namespace protocol = mcp_proxy::protocol;
using mcp_proxy::jsonrpc::message;

namespace mock::modern {

namespace {

settings config;

// The list changes and resource updates a tool announces: they go to the listens that asked for
// them, never on the stream of the request that caused them (basic/patterns/subscriptions).
bool for_listens(std::string_view method) {
  return method == "notifications/tools/list_changed" ||
         method == "notifications/prompts/list_changed" ||
         method == "notifications/resources/list_changed" ||
         method == "notifications/resources/updated";
}

std::string_view level_of(const message& m) {
  const auto* p = m.params_object();
  const auto* level = p ? p->if_contains("level") : nullptr;
  return level && level->is_string() ? std::string_view(level->get_string()) : std::string_view();
}

int rank_of(std::string_view level) {
  static constexpr std::string_view levels[] = {"debug", "info",     "notice", "warning",
                                                "error", "critical", "alert",  "emergency"};
  for (int i = 0; i < 8; ++i)
    if (levels[i] == level) return i;
  return -1;
}

// One modern request: what its tools emit becomes its modern answer, or is dropped.
class modern_scope final : public request_scope, public request_handle {
 public:
  modern_scope(const message& request, sink out)
      : id_(*request.id()),
        method_(request.method()),
        log_rank_(protocol::modern_log_rank(request)),
        out_(std::move(out)) {}

  void deliver(message m) override {
    if (m.is_notification() && for_listens(m.method())) {
      listens::publish(m);
      return;
    }
    std::lock_guard lock(mutex_);
    // Nothing follows the answer or a cancellation (basic/patterns/cancellation, progress).
    if (finished_ || cancelled_) return;
    if (m.is_response()) {
      if (!m.id() || *m.id() != id_) return;
      protocol::to_modern_answer(m, method_, config.server_info);
      finished_ = true;
      out_(m);
      return;
    }
    if (!m.is_notification()) return;  // a modern server sends no requests (basic/patterns)
    if (m.method() == "notifications/message") {
      // server/utilities/logging: only for a request that set a level, and at or above it.
      const int rank = rank_of(level_of(m));
      if (log_rank_ < 0 || rank < log_rank_) return;
    } else if (m.method() != "notifications/progress") {
      return;
    }
    out_(m);
  }

  void cancel() override {
    std::lock_guard lock(mutex_);
    cancelled_ = true;
  }

 private:
  json::value id_;
  std::string method_;
  int log_rank_;
  sink out_;
  std::mutex mutex_;
  bool finished_ = false, cancelled_ = false;
};

// stdio: the requests in flight by id (JSON text), so notifications/cancelled can reach them;
// the open listens are held here (they live until cancelled), other requests by their workers.
std::mutex stdio_mutex;
std::map<std::string, std::weak_ptr<request_handle>> stdio_requests;
std::map<std::string, std::shared_ptr<request_handle>> stdio_listens;

void remember_stdio(const message& m, const std::shared_ptr<request_handle>& h) {
  std::lock_guard lock(stdio_mutex);
  std::erase_if(stdio_requests, [](auto& e) { return e.second.expired(); });
  if (!h) return;
  const auto key = json::serialize(*m.id());
  if (m.method() == "subscriptions/listen")
    stdio_listens[key] = h;
  else
    stdio_requests[key] = h;
}

void cancel_stdio(const json::value& id) {
  std::shared_ptr<request_handle> h;
  {
    std::lock_guard lock(stdio_mutex);
    const auto key = json::serialize(id);
    if (auto it = stdio_listens.find(key); it != stdio_listens.end()) {
      h = std::move(it->second);
      stdio_listens.erase(it);
    } else if (auto it = stdio_requests.find(key); it != stdio_requests.end()) {
      h = it->second.lock();
      stdio_requests.erase(it);
    }
  }
  if (h) h->cancel();
}

// A call of the legacy tool `meta`, which answers with the request's _meta as it came.
bool is_meta_call(const message& m) {
  const auto* p = m.params_object();
  const auto* name = p ? p->if_contains("name") : nullptr;
  return m.method() == "tools/call" && name && name->is_string() && name->get_string() == "meta";
}

json::object discover_result() {
  json::object as_initialized{{"capabilities", config.capabilities},
                              {"serverInfo", config.server_info}};
  if (!config.instructions.empty()) as_initialized["instructions"] = config.instructions;
  return protocol::discover_result(as_initialized);
}

}  // namespace

void configure(settings s) {
  config = std::move(s);
  listens::configure(config.capabilities);
  if (config.served == era::dual) {
    // What a legacy session of this process announces reaches the modern listens too.
    set_unscoped_observer([](const message& m) {
      if (for_listens(m.method())) listens::publish(m);
    });
  }
}

const settings& current() {
  return config;
}

bool in_modern_request() {
  return dynamic_cast<modern_scope*>(thread_scope().get()) != nullptr;
}

message unsupported_version_error(const json::value& id, std::string requested) {
  json::array supported;
  for (auto v : protocol::modern_versions()) supported.emplace_back(v);
  const json::value data =
      json::object{{"supported", std::move(supported)}, {"requested", std::move(requested)}};
  return message::error_response(id, protocol::modern_codes::unsupported_protocol_version,
                                 "Unsupported protocol version: this server speaks only 2026-07-28",
                                 &data);
}

std::shared_ptr<request_handle> serve(const message& request, sink out) {
  const std::string_view method = request.method();
  if (method == "subscriptions/listen") return listens::open(request, std::move(out));
  auto scope = std::make_shared<modern_scope>(request, std::move(out));
  scope_guard in(scope);
  if (method == "server/discover") {
    emit(message::response(*request.id(), discover_result()));
  } else if (auto answer = config.fixture ? modern_tools::answer(request) : std::nullopt) {
    emit(*answer);
  } else if (is_meta_call(request)) {
    config.legacy_handler(request);  // the meta tool shows the request's own _meta
  } else {
    config.legacy_handler(protocol::to_legacy_request(request));
  }
  return scope;
}

void on_stdio_message(const message& m) {
  if (m.is_response()) {
    mock::route_response(m);
    return;
  }
  const bool modern = protocol::is_modern(m, std::nullopt, false);
  if (config.served == era::dual && !modern) {
    config.legacy_handler(m);
    // Cancellation needs no _meta: the id may be a modern request's (or listen's) as well.
    if (!(m.is_notification() && m.method() == "notifications/cancelled")) return;
  }
  if (m.is_notification()) {
    // basic/patterns/cancellation (stdio): the client cancels a request, or ends a listen.
    if (m.method() == "notifications/cancelled" && m.params_object()) {
      if (auto* rid = m.params_object()->if_contains("requestId")) {
        mock::note_cancelled(*rid);
        cancel_stdio(*rid);
      }
    }
    return;
  }
  if (!modern && m.method() == "initialize") {
    std::string requested;
    if (const auto* p = m.params_object())
      if (const auto* v = p->if_contains("protocolVersion"); v && v->is_string())
        requested = v->get_string();
    write_stdout(unsupported_version_error(*m.id(), std::move(requested)));
    return;
  }
  if (auto refusal = protocol::check_modern_request(m, std::nullopt)) {
    write_stdout(protocol::refusal_response(m, *refusal));
    return;
  }
  remember_stdio(m, serve(m, [](const message& out) { write_stdout(out); }));
}

}  // namespace mock::modern
