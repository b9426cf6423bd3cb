#include "frontend/modern_calls.hpp"

#include "protocol/modern_request.hpp"
#include "protocol/server_request_router.hpp"
#include "util/random_id.hpp"
#include "util/scope_exit.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include <algorithm>

namespace mcp_proxy::frontend {

namespace asio = boost::asio;
namespace json = boost::json;
using asio::awaitable;
using jsonrpc::message;
using protocol::input_bridge;
namespace codes = jsonrpc::error_codes;

namespace {

// An answer shaped for the modern client (input_required results too: resultType is theirs).
message input_required_answer(const json::value& id, json::object result,
                              const json::object& server_info) {
  if (!server_info.empty())
    result["_meta"] = json::object{{protocol::meta::server_info, server_info}};
  return message::response(id, std::move(result));
}

}  // namespace

modern_calls::modern_calls(asio::any_io_executor ex, util::task_group& tasks, const bool& stopping)
    : ex_(ex), tasks_(tasks), stopping_(stopping), bridge_([] { return util::random_hex_id(); }) {}

awaitable<bool> modern_calls::serve(core::endpoint& ep, message msg,
                                    core::session_narrowing narrowing, modern_output& out) {
  if (input_bridge::may_suspend(msg.method()) && input_bridge::is_retry(msg))
    co_return co_await retry(ep, std::move(msg), std::move(narrowing), out);
  co_return co_await serve_new(ep, std::move(msg), std::move(narrowing), out);
}

awaitable<bool> modern_calls::serve_new(core::endpoint& ep, message msg,
                                        core::session_narrowing narrowing, modern_output& out) {
  auto d = co_await dispatch_modern(ep, std::move(msg), std::move(narrowing));
  if (d.answer) co_return co_await out.write(*d.answer, true, d.overloaded);
  if (!d.call) co_return co_await out.end_unanswered();
  const bool keep = co_await run(ep, d, out);
  co_await settle(ep, std::move(d));
  co_return keep;
}

awaitable<bool> modern_calls::retry(core::endpoint& ep, message msg,
                                    core::session_narrowing narrowing, modern_output& out) {
  const json::value id = *msg.id();
  auto r = bridge_.on_retry(ep.name(), msg, input_bridge::clock::now());
  using kind = input_bridge::retry_outcome::kind;
  if (r.what == kind::refuse) {
    co_return co_await out.write(message::error_response(id, codes::invalid_params, r.error), true);
  }
  if (r.what == kind::forward) {
    // A 2026-07-28 backend asked: the retry goes to it with its own state (a new request).
    auto& params = *msg.params_object();
    if (r.backend_state)
      params["requestState"] = *r.backend_state;
    else
      params.erase("requestState");
    co_return co_await serve_new(ep, std::move(msg), std::move(narrowing), out);
  }
  auto it = suspended_.find(r.id);
  if (it == suspended_.end()) {  // ended meanwhile (its session went): nothing to resume
    bridge_.forget(r.id);
    co_return co_await out.write(
        message::error_response(id, codes::invalid_params,
                                "Invalid params: the suspended request has ended"),
        true);
  }
  if (r.what == kind::ask_again) {
    co_return co_await out.write(
        input_required_answer(id, std::move(r.result), it->second.d.server_info), true);
  }
  auto d = std::move(it->second.d);
  suspended_.erase(it);
  d.client_id = id;
  d.suspended_as.reset();
  // The backend's request gets the client's input as its result; the call goes on, and this
  // retry gets what comes next (mrtr: the retry is answered like the original request).
  ep.on_response(*d.session, message::response(std::move(r.backend_id), std::move(r.input)));
  const bool keep = co_await run(ep, d, out);
  co_await settle(ep, std::move(d));
  co_return keep;
}

awaitable<bool> modern_calls::run(core::endpoint& ep, modern_dispatched& d, modern_output& out) {
  auto& cs = *d.call;
  out.started(ep, *d.session, cs);
  for (;;) {
    auto ev = co_await ep.next_event(*d.session, cs);
    if (!ev) co_return co_await out.end_unanswered();
    if (ev->is_request() && !protocol::client_can_answer(d.client_capabilities, *ev)) {
      // basic/index: processing needs a capability the client did not declare: -32021, and
      // the request is over (the backend hears the client cannot answer; the call is
      // cancelled).
      refuse_backend_request(ep, *d.session, *ev, "the client did not declare the capability");
      ep.abandon(*d.session, *cs.call, "the client lacks a capability the server needs");
      co_return co_await out.write(protocol::missing_capability_error(d.client_id, *ev), true);
    }
    if (ev->is_request() && d.request) {
      // A backend request a 2026-07-28 client answers through a retry (mrtr).
      auto s = bridge_.suspend(ep.name(), *d.request, *ev, cs.deadline);
      if (s) {
        d.suspended_as = s->id;
        ev = input_required_answer(d.client_id, std::move(s->result), d.server_info);
      }
    }
    auto m = to_modern_event(ep, d, std::move(*ev));
    if (!m) continue;
    // A backend's own input_required (the proxy's, for a suspended call, is final already).
    if (d.request && !d.suspended_as && protocol::is_input_required(*m)) pass_through(ep, d, *m);
    const bool final = m->is_response();
    if (!co_await out.write(*m, final)) {
      // 2026-07-28 streamable-http, cancellation: a client that left cancels the request;
      // nothing more is sent for it.
      if (!final) ep.abandon(*d.session, *cs.call, "the client closed the response stream");
      co_return false;
    }
    if (final) co_return true;
  }
}

void modern_calls::pass_through(core::endpoint& ep, const modern_dispatched& d, message& answer) {
  // A 2026-07-28 backend's own input_required (mrtr): the client answers the backend's
  // inputRequests; only the state is the proxy's, bound to this route and request.
  auto& result = answer.object()["result"].get_object();
  auto wrapped = bridge_.pass_through(ep.name(), *d.request, std::move(result),
                                      input_bridge::clock::now() + input_bridge::pass_through_life);
  if (wrapped) {
    answer.object()["result"] = std::move(*wrapped);
    return;
  }
  answer = message::error_response(d.client_id, codes::internal_error,
                                   "too many requests are waiting for the client's input");
}

awaitable<void> modern_calls::settle(core::endpoint& ep, modern_dispatched d) {
  if (!d.suspended_as) {
    co_await finish_modern(ep, d);
    co_return;
  }
  const auto ticket = *d.suspended_as;
  suspended_.emplace(ticket, suspended_call{&ep, std::move(d)});
  if (!reaping_) {
    reaping_ = true;
    tasks_.spawn(reap_suspended(), "end suspended calls nobody retried");
  }
}

awaitable<void> modern_calls::reap_suspended() {
  util::scope_exit done([this] { reaping_ = false; });
  asio::steady_timer timer(ex_);
  while (!suspended_.empty() && !stopping_) {
    const auto next = bridge_.next_deadline();
    // At least once a second: the listener's stop is noticed too.
    timer.expires_at(std::min(next.value_or(input_bridge::clock::now()),
                              input_bridge::clock::now() + std::chrono::seconds(1)));
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    for (auto& gone : bridge_.expire(input_bridge::clock::now())) {
      auto it = suspended_.find(gone.id);
      if (it == suspended_.end()) continue;
      auto [ep, d] = std::move(it->second);
      suspended_.erase(it);
      spdlog::info("a 2026-07-28 client did not retry a suspended {} before its deadline",
                   d.method);
      // mrtr, server requirements 8: no retry came; the backend request fails.
      ep->on_response(*d.session,
                      message::error_response(gone.backend_id, codes::request_timeout,
                                              "the client did not provide the input in time"));
      ep->abandon(*d.session, *d.call->call, "the client did not retry in time");
      co_await finish_modern(*ep, d);
    }
  }
}

}  // namespace mcp_proxy::frontend
