#include "frontend/modern_http.hpp"

#include "protocol/call_answer.hpp"
#include "protocol/http_rules.hpp"
#include "protocol/modern_request.hpp"
#include "protocol/server_request_router.hpp"
#include "protocol/sse.hpp"
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
using protocol::call_answer;
using protocol::input_bridge;
using protocol::narrowing_of;
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

modern_http::modern_http(http_context& ctx)
    : ctx_(ctx), bridge_([] { return util::random_hex_id(); }) {}

awaitable<bool> modern_http::handle(tcp_stream& stream, http_request& req, core::endpoint& ep,
                                    const mcp_header_values& mcp, message msg) {
  const protocol::modern_headers headers{mcp.version, mcp.method, mcp.name};
  if (msg.is_request()) {
    if (auto refused = protocol::check_modern_request(msg, headers)) {
      std::string body = jsonrpc::serialize(protocol::refusal_response(msg, *refused));
      co_return co_await reply(stream, req, refused->status, std::move(body));
    }
  }
  auto narrowing = narrowing_of(req.target(), req["Mcp-Proxy-Servers"], req["Mcp-Proxy-Tools"]);
  if (msg.is_request() && msg.method() == "subscriptions/listen")
    co_return co_await serve_listen(stream, req, ep, std::move(msg), std::move(narrowing));
  if (msg.is_request() && input_bridge::may_suspend(msg.method()) && input_bridge::is_retry(msg))
    co_return co_await retry(stream, req, ep, std::move(msg));
  auto d = co_await dispatch_modern(ep, std::move(msg), std::move(narrowing));
  if (d.answer) {
    const unsigned status = d.overloaded ? 503 : protocol::modern_http_status(*d.answer);
    std::string body = jsonrpc::serialize(*d.answer);
    co_return co_await reply(stream, req, status, std::move(body));
  }
  if (!d.call) co_return co_await reply(stream, req, 202, {});
  const bool keep = co_await stream_call(stream, req, ep, d);
  co_await settle(ep, std::move(d));
  co_return keep;
}

awaitable<bool> modern_http::retry(tcp_stream& stream, http_request& req, core::endpoint& ep,
                                   message msg) {
  const json::value id = *msg.id();
  auto r = bridge_.on_retry(ep.name(), msg, input_bridge::clock::now());
  using kind = input_bridge::retry_outcome::kind;
  if (r.what == kind::refuse) {
    std::string body =
        jsonrpc::serialize(message::error_response(id, codes::invalid_params, r.error));
    co_return co_await reply(stream, req, 200, std::move(body));
  }
  auto it = suspended_.find(r.id);
  if (it == suspended_.end()) {  // ended meanwhile (its session went): nothing to resume
    bridge_.forget(r.id);
    std::string body = jsonrpc::serialize(message::error_response(
        id, codes::invalid_params, "Invalid params: the suspended request has ended"));
    co_return co_await reply(stream, req, 200, std::move(body));
  }
  if (r.what == kind::ask_again) {
    std::string body = jsonrpc::serialize(
        input_required_answer(id, std::move(r.result), it->second.d.server_info));
    co_return co_await reply(stream, req, 200, std::move(body));
  }
  auto d = std::move(it->second.d);
  suspended_.erase(it);
  d.client_id = id;
  d.suspended_as.reset();
  // The backend's request gets the client's input as its result; the call goes on, and this
  // retry gets what comes next (mrtr: the retry is answered like the original request).
  ep.on_response(*d.session, message::response(std::move(r.backend_id), std::move(r.input)));
  const bool keep = co_await stream_call(stream, req, ep, d);
  co_await settle(ep, std::move(d));
  co_return keep;
}

awaitable<void> modern_http::settle(core::endpoint& ep, modern_dispatched d) {
  if (!d.suspended_as) {
    co_await finish_modern(ep, d);
    co_return;
  }
  const auto ticket = *d.suspended_as;
  suspended_.emplace(ticket, suspended_call{&ep, std::move(d)});
  if (!reaping_) {
    reaping_ = true;
    ctx_.tasks.spawn(reap_suspended(), "end suspended calls nobody retried");
  }
}

awaitable<void> modern_http::reap_suspended() {
  util::scope_exit done([this] { reaping_ = false; });
  asio::steady_timer timer(ctx_.ex);
  while (!suspended_.empty() && !ctx_.stopping) {
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

awaitable<bool> modern_http::serve_listen(tcp_stream& stream, http_request& req, core::endpoint& ep,
                                          message msg, core::session_narrowing narrowing) {
  auto l = co_await open_listen(ep, std::move(msg), std::move(narrowing));
  if (l.refused) {
    const unsigned status = l.overloaded ? 503 : protocol::modern_http_status(*l.refused);
    std::string body = jsonrpc::serialize(*l.refused);
    co_return co_await reply(stream, req, status, std::move(body));
  }
  // Closed by the client (a failed write), by the session's end, or at shutdown (then the
  // endpoint's stop ends the session).
  const bool keep = co_await run_listen(stream, req, ep, l);
  co_await close_listen(ep, l);
  co_return keep;
}

awaitable<bool> modern_http::run_listen(tcp_stream& stream, http_request& req, core::endpoint& ep,
                                        modern_listen& l) {
  bool ok = co_await begin_sse(stream, req);
  if (ok) {
    std::string ack = protocol::encode_sse_event(jsonrpc::serialize(listen_ack(l)), "message", {});
    ok = co_await write_chunk(ctx_, stream, std::move(ack));
  }
  if (!ok) co_return false;
  // Explicit captures: GCC 12 mishandles `[&]` in a lambda made in a coroutine.
  const std::function<awaitable<bool>(const message&)> write_one =
      [self = this, out = &stream, ep_ = &ep, listen = &l](const message& m) -> awaitable<bool> {
    auto ev = to_listen_event(*ep_, *listen, m);
    if (!ev) co_return true;
    std::string event = protocol::encode_sse_event(jsonrpc::serialize(*ev), "message", {});
    co_return co_await write_chunk(self->ctx_, *out, std::move(event));
  };
  if (!co_await write_queue(ctx_, stream, l.session->outbox, write_one)) co_return false;
  // Ended by the proxy (shutdown, the session's end): the listen result closes it gracefully
  // (subscriptions, graceful closure).
  std::string last =
      protocol::encode_sse_event(jsonrpc::serialize(listen_result(l)), "message", {});
  if (!co_await write_chunk(ctx_, stream, std::move(last))) co_return false;
  co_return co_await end_chunks(stream) && req.keep_alive();
}

awaitable<bool> modern_http::stream_call(tcp_stream& stream, http_request& req, core::endpoint& ep,
                                         modern_dispatched& d) {
  using step = call_answer::step;
  call_answer answer;
  auto& cs = *d.call;
  for (;;) {
    auto ev = co_await ep.next_event(*d.session, cs);
    if (!ev) {
      bool open = true;
      if (answer.on_cancelled() == step::open_and_end) open = co_await begin_sse(stream, req);
      if (!open) co_return false;
      co_return co_await end_chunks(stream) && req.keep_alive();
    }
    if (ev->is_request() && !protocol::client_can_answer(d.client_capabilities, *ev)) {
      // basic/index: processing needs a capability the client did not declare: -32021, and
      // the request is over (the backend hears the client cannot answer; the call is
      // cancelled).
      refuse_backend_request(ep, *d.session, *ev, "the client did not declare the capability");
      ep.abandon(*d.session, *cs.call, "the client lacks a capability the server needs");
      std::string refused =
          jsonrpc::serialize(protocol::missing_capability_error(d.client_id, *ev));
      if (!answer.streaming()) co_return co_await reply(stream, req, 400, std::move(refused));
      // Events went out already on an event stream: the error ends it.
      std::string event = protocol::encode_sse_event(refused, "message", {});
      if (!co_await write_chunk(ctx_, stream, std::move(event))) co_return false;
      co_return co_await end_chunks(stream) && req.keep_alive();
    }
    if (ev->is_request() && d.request) {
      // A backend request a 2026-07-28 client answers through a retry (mrtr).
      auto s = bridge_.suspend(ep.name(), *d.request, *ev, cs.deadline);
      if (s) {
        d.suspended_as = s->id;
        ev = input_required_answer(d.client_id, std::move(s->result), d.server_info);
      }
    }
    auto out = to_modern_event(ep, d, std::move(*ev));
    if (!out) continue;
    const bool final = out->is_response();
    const step next = answer.on_event(final);
    if (next == step::reply_json) {
      const unsigned status = protocol::modern_http_status(*out);
      co_return co_await reply(stream, req, status, jsonrpc::serialize(*out));
    }
    bool written = true;
    if (next == step::open_and_write) written = co_await begin_sse(stream, req);
    // No event ids: 2026-07-28 has no resumption (streamable-http, changelog).
    if (written) {
      std::string event = protocol::encode_sse_event(jsonrpc::serialize(*out), "message", {});
      written = co_await write_chunk(ctx_, stream, std::move(event));
    }
    if (!written) {
      // 2026-07-28 streamable-http, cancellation: closing the response stream MUST be treated
      // as cancelling the request; nothing more is sent for it.
      if (!final) ep.abandon(*d.session, *cs.call, "the client closed the response stream");
      co_return false;
    }
    if (next == step::write_and_end) co_return co_await end_chunks(stream) && req.keep_alive();
  }
}

}  // namespace mcp_proxy::frontend
