#include "frontend/legacy_sse.hpp"

#include "backend/event_backlog.hpp"
#include "frontend/call_gate.hpp"
#include "frontend/session_dispatch.hpp"
#include "protocol/http_rules.hpp"
#include "protocol/log_text.hpp"
#include "protocol/sse.hpp"
#include "util/async_queue.hpp"
#include "util/random_id.hpp"

#include <spdlog/spdlog.h>
#include <boost/url/parse.hpp>

namespace mcp_proxy::frontend {

using boost::asio::awaitable;
using jsonrpc::message;
namespace codes = jsonrpc::error_codes;

// A legacy session: its event stream, and the core session once the client has initialized.
struct legacy_sse::session {
  session(boost::asio::any_io_executor ex, std::string i, const core::endpoint* e)
      : id(std::move(i)), endpoint(e), events(ex) {}
  std::string id;
  const core::endpoint* endpoint;  // whose route opened it: only that route's POSTs reach it
  std::shared_ptr<core::client_session> core;
  // Written to the event stream, in order; bounded (backend/event_backlog.hpp): a client that
  // does not read its stream has it ended past the hard bound.
  backend::event_backlog events;
  core::session_narrowing narrowing;  // what the GET asked of a merged endpoint
  std::shared_ptr<void> quota_slot;   // of http_context::sessions_per_peer, while the stream lasts
};

namespace {

std::optional<std::string> query_param(std::string_view target, std::string_view key) {
  auto u = boost::urls::parse_origin_form(target);
  if (!u) return std::nullopt;
  auto params = u->params();
  auto it = params.find(key);
  if (it == params.end() || !(*it).has_value) return std::nullopt;
  return std::string((*it).value);
}

// Follows one call of a legacy session: its progress, related requests and response go on the
// event stream. If the stream is gone meanwhile the events are dropped; the call still runs to
// its end, like a drained Streamable HTTP call.
awaitable<void> follow_call(std::shared_ptr<legacy_sse::session> ls,
                            std::shared_ptr<core::endpoint> ep, core::call_started cs) {
  while (auto ev = co_await ep->next_event(*ls->core, cs)) {
    const bool final = ev->is_response();
    ls->events.push(std::move(*ev));
    if (final) break;
  }
}

// Messages of the session not tied to a call (list changes, log messages, ...) join the stream.
// The outbox closes when the core session ends; the stream then ends too.
awaitable<void> forward_outbox(std::shared_ptr<legacy_sse::session> ls) {
  while (auto m = co_await ls->core->outbox.pop()) ls->events.push(std::move(*m));
  ls->events.close();
}

}  // namespace

std::string legacy_sse::post_url(std::string_view name, std::string_view id) const {
  std::string base = ctx_.proxy.base_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  if (!name.empty()) base += "/" + std::string(name);
  return base + "/message?sessionId=" + std::string(id);
}

void legacy_sse::close_all() {
  for (auto& [id, ls] : sessions_) ls->events.close();
}

awaitable<bool> legacy_sse::handle_stream(tcp_stream& stream, http_request& req,
                                          std::shared_ptr<core::endpoint> ep,
                                          const request_identity& who) {
  auto slot = acquire_session_slot(ctx_, stream);
  if (!slot) co_return co_await refuse_session_slot(ctx_, stream, req);
  auto ls = std::make_shared<session>(ctx_.ex, util::random_hex_id(), ep.get());
  ls->quota_slot = std::move(slot);
  ls->events.on_overflow = [id = ls->id] {
    spdlog::warn("legacy SSE session {}: its client does not read its stream; ending it",
                 protocol::short_id(id));
  };
  ls->narrowing = narrowing_for(req, who);
  sessions_.emplace(ls->id, ls);
  // The first event names where to POST (spec 2024-11-05: the endpoint event).
  std::string endpoint = protocol::encode_sse_event(post_url(ep->name(), ls->id), "endpoint");
  bool ok = co_await begin_sse(stream, req);
  if (ok) ok = co_await write_chunk(ctx_, stream, std::move(endpoint));
  // A local, not a temporary inside co_await (GCC 12 and coroutine temporaries).
  // Explicit captures: GCC 12 mishandles `[&]` (this, parameters) in a lambda made in a coroutine.
  const std::function<awaitable<bool>(const message&)> write_one = [ctx = &ctx_, out = &stream](
                                                                       const message& m) {
    return write_chunk(*ctx, *out, protocol::encode_sse_event(jsonrpc::serialize(m), "message"));
  };
  if (ok) ok = co_await write_queue(ctx_, stream, ls->events, write_one);
  // The stream is the session: when it ends, so does the session.
  sessions_.erase(ls->id);
  ls->events.close();
  if (ls->core) co_await ep->end_session(ls->core);
  if (!ok) co_return false;
  co_return co_await end_chunks(stream) && req.keep_alive();
}

awaitable<bool> legacy_sse::handle_post(tcp_stream& stream, http_request& req,
                                        std::shared_ptr<core::endpoint> ep,
                                        const request_identity& who) {
  trace_client_body(req);
  auto id = query_param(req.target(), "sessionId");
  if (!id) {
    co_return co_await reply_error(stream, req, 400, codes::invalid_request,
                                   "Bad Request: sessionId query parameter is required");
  }
  // A session of another route (`/a/message?sessionId=` of a `/b/sse` stream) is not found
  // there: one server's client must not reach another's session; nor another principal's.
  auto it = sessions_.find(*id);
  if (it == sessions_.end() || it->second->endpoint != ep.get() ||
      !owned_by(it->second->narrowing, who))
    co_return co_await reply_error(stream, req, 404, codes::invalid_request, "Session not found");
  auto ls = it->second;
  auto payload = jsonrpc::parse_payload(req.body());
  if (!payload) {
    if (payload.error().too_deep) log_too_deep();
    co_return co_await reply(stream, req, 400,
                             jsonrpc::serialize(jsonrpc::to_error_response(payload.error())));
  }
  if (payload->is_batch && ls->core) {
    if (auto why = batch_refusal(*payload, ls->core->protocol_version)) {
      co_return co_await reply_error(stream, req, 400, codes::invalid_request, *why);
    }
  }
  // Every answer goes on the event stream; the POST itself is only acknowledged. A message
  // refused for a limit is answered by the POST instead (429 with Retry-After), unless it came
  // in a batch.
  const bool single = payload->items.size() == 1;
  for (auto& item : payload->items) {
    if (!item) {
      ls->events.push(jsonrpc::to_error_response(item.error()));
      continue;
    }
    auto limited = co_await on_message(ls, ep, std::move(*item));
    if (limited && single) co_return co_await reply_answer(stream, req, 200, *limited);
    if (limited) ls->events.push(std::move(*limited));
  }
  co_return co_await reply(stream, req, 202, "Accepted", "text/plain");
}

awaitable<std::optional<message>> legacy_sse::on_message(std::shared_ptr<session> ls,
                                                         std::shared_ptr<core::endpoint> ep,
                                                         message msg) {
  if (!ls->core) {
    auto o = co_await open_session(*ep, std::move(msg), ls->narrowing);
    if (o.error && retry_after_of(*o.error)) co_return std::move(o.error);
    if (o.error) ls->events.push(std::move(*o.error));
    if (!o.opened) co_return std::nullopt;
    ls->events.push(std::move(o.opened->reply));
    if (!o.opened->session) co_return std::nullopt;
    if (ls->events.closed()) {
      // The stream ended while the backend was being initialized.
      co_await ep->end_session(o.opened->session);
      co_return std::nullopt;
    }
    ls->core = std::move(o.opened->session);
    ls->core->listening = true;  // the event stream is open: not an idle session
    ctx_.tasks.spawn(forward_outbox(ls), ep->name() + " legacy outbox");
    co_return std::nullopt;
  }
  auto d = co_await dispatch(*ep, ls->core, std::move(msg));
  if (d.answer && retry_after_of(*d.answer)) co_return std::move(d.answer);
  if (d.answer) ls->events.push(std::move(*d.answer));
  if (d.call)
    ctx_.tasks.spawn(follow_call(ls, ep, std::move(*d.call)), ep->name() + " legacy call");
  co_return std::nullopt;
}

}  // namespace mcp_proxy::frontend
