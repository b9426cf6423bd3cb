#include "frontend/call_gate.hpp"

#include "frontend/audit_log.hpp"
#include "protocol/proxy_metrics.hpp"

#include <spdlog/spdlog.h>

#include <string>
#include <variant>

namespace mcp_proxy::frontend {

namespace json = boost::json;
namespace codes = jsonrpc::error_codes;
namespace metrics = protocol::metrics;
using jsonrpc::message;

namespace {

std::unique_ptr<auth::identity_limits>& limits() {
  static std::unique_ptr<auth::identity_limits> instance;
  return instance;
}

// What /metrics counts of one request (protocol/proxy_metrics.hpp): its route and method as
// numbers, found once when it comes in.
struct metered {
  metrics::name_id route = 0;
  metrics::method_id method = 0;
  bool on = false;
};

metered meter(std::string_view route, const message& request) {
  auto& m = metrics::metrics();
  if (!m.on()) return {};
  return {m.name(route), metrics::registry::method(request.method()), true};
}

// The watch on one request: holds its slot of calls in flight, and writes its audit line when
// it is released (the outcome "no answer" unless it was told one); counts it for /metrics.
class request_watch final : public core::call_watcher {
 public:
  request_watch(auth::identity_limits::call_slot slot, std::optional<audit_entry> entry,
                metered counted)
      : slot_(std::move(slot)),
        entry_(std::move(entry)),
        counted_(counted),
        start_(std::chrono::steady_clock::now()) {
    if (counted_.on) metrics::metrics().call_started(counted_.route);
  }
  ~request_watch() override {
    if (counted_.on) count(0, metrics::outcome::no_answer);
    if (!entry_) return;
    if (entry_->outcome.empty()) {
      entry_->outcome = "no answer";
      entry_->ms = elapsed_ms();
    }
    write_audit(*entry_);
  }
  void on_final(const message& answer, std::string_view backend) override {
    slot_.release();  // the answer is on its way: the call is no longer in flight
    if (counted_.on) count(metrics::metrics().name(backend), metrics::outcome_of(answer));
    if (!entry_) return;
    set_outcome(*entry_, answer);
    entry_->backend = std::string(backend);
    entry_->ms = elapsed_ms();  // to the answer, not to the end of its relay
  }

 private:
  double elapsed_ms() const {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start_)
        .count();
  }

  // Once: at the answer, or at the end of a request never answered.
  void count(metrics::name_id backend, metrics::outcome o) {
    counted_.on = false;
    auto& m = metrics::metrics();
    m.call_ended(counted_.route);
    m.answered(counted_.route, counted_.method, backend, o,
               std::chrono::steady_clock::now() - start_);
  }

  auth::identity_limits::call_slot slot_;
  std::optional<audit_entry> entry_;
  metered counted_;
  std::chrono::steady_clock::time_point start_;
};

std::string_view key_of(const protocol::session_narrowing& who) {
  return who.limits_key.empty() ? std::string_view(who.principal) : who.limits_key;
}

std::optional<audit_entry> audit_entry_for(std::string_view key, std::string_view route,
                                           const message& request) {
  if (!request_record_on()) return std::nullopt;
  audit_entry e;
  e.at = std::chrono::system_clock::now();
  e.identity = std::string(key);
  e.route = std::string(route);
  e.method = std::string(request.method());
  e.target = audit_target(request);
  if (const auto* id = request.id()) e.id = *id;
  return e;
}

// The error of a refused request; logged at most once a second (a client over its limit
// retries often).
message refusal_answer(const message& request, std::string_view key,
                       const auth::identity_limits::refusal& why) {
  static auto next_log = std::chrono::steady_clock::time_point{};
  const auto now = std::chrono::steady_clock::now();
  if (now >= next_log) {
    next_log = now + std::chrono::seconds(1);
    spdlog::warn("limit reached: {} of {} ({} refused; retry after {} s)", why.what, key,
                 request.method(), why.retry_after.count());
  }
  const json::value data{{"limit", why.what}, {"retryAfter", why.retry_after.count()}};
  return message::error_response(*request.id(), codes::rate_limited,
                                 "Too many requests: the limit on " + why.what +
                                     " is reached; retry after " +
                                     std::to_string(why.retry_after.count()) + " s",
                                 &data);
}

std::optional<std::string_view> tool_name(const message& msg) {
  if (msg.method() != "tools/call") return std::nullopt;
  const auto* params = msg.params_object();
  const auto* name = params ? params->if_contains("name") : nullptr;
  if (!name || !name->is_string()) return std::nullopt;
  return std::string_view(name->get_string());
}

// What the limits say of a request of `key`: a slot (held or empty), or why not.
std::variant<auth::identity_limits::call_slot, auth::identity_limits::refusal> admit(
    std::string_view key, const message& msg) {
  auto* l = limits().get();
  if (!l) return auth::identity_limits::call_slot{};
  // The slot first: a call refused for it takes no token.
  auto slot = l->acquire_call(key);
  if (std::holds_alternative<auth::identity_limits::refusal>(slot)) return slot;
  const auto now = auth::limits_clock::now();
  auto why = l->admit_request(key, now);
  if (!why) {
    if (auto tool = tool_name(msg)) why = l->admit_tool_call(key, *tool, now);
  }
  if (why) return std::move(*why);
  return slot;
}

}  // namespace

void set_call_limits(std::optional<auth::limits_config> config) {
  if (config)
    limits() = std::make_unique<auth::identity_limits>(std::move(*config));
  else
    limits().reset();
}

gate_pass enter_gate(const protocol::session_narrowing& who, std::string_view route,
                     const message& msg) {
  gate_pass pass;
  if (!msg.is_request() || (!limits() && !request_record_on() && !metrics::metrics().on()))
    return pass;
  const auto key = key_of(who);
  auto admitted = admit(key, msg);
  auto entry = audit_entry_for(key, route, msg);
  const auto counted = meter(route, msg);
  if (auto* why = std::get_if<auth::identity_limits::refusal>(&admitted)) {
    pass.refused = refusal_answer(msg, key, *why);
    if (counted.on) {
      auto& m = metrics::metrics();
      m.refused(metrics::limit_kind_of(why->what));
      m.answered(counted.route, counted.method, 0, metrics::outcome::refused, {});
    }
    if (entry) {
      set_outcome(*entry, *pass.refused);
      write_audit(*entry);
    }
    return pass;
  }
  pass.watcher = std::make_shared<request_watch>(
      std::get<auth::identity_limits::call_slot>(std::move(admitted)), std::move(entry), counted);
  return pass;
}

void answered_now(gate_pass& pass, const message& answer) {
  if (!pass.watcher) return;
  pass.watcher->on_final(answer, {});
  pass.watcher.reset();
}

std::optional<std::chrono::seconds> retry_after_of(const message& answer) {
  const auto* error = answer.error();
  const auto* o = error ? error->if_object() : nullptr;
  const auto* code = o ? o->if_contains("code") : nullptr;
  if (!code || !code->is_int64() || code->get_int64() != codes::rate_limited) return std::nullopt;
  const auto* data = o->if_contains("data");
  const auto* after =
      data && data->is_object() ? data->get_object().if_contains("retryAfter") : nullptr;
  if (!after || !after->is_int64()) return std::nullopt;
  return std::chrono::seconds(after->get_int64());
}

}  // namespace mcp_proxy::frontend
