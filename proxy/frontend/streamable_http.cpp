#include "frontend/streamable_http.hpp"

#include "frontend/call_gate.hpp"
#include "frontend/session_dispatch.hpp"
#include "protocol/call_answer.hpp"
#include "protocol/http_rules.hpp"
#include "protocol/log_text.hpp"
#include "protocol/modern_request.hpp"
#include "protocol/sse.hpp"
#include "protocol/versions.hpp"
#include "util/scope_exit.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http.hpp>

namespace mcp_proxy::frontend {

namespace asio = boost::asio;
namespace json = boost::json;
namespace bhttp = boost::beast::http;
using asio::awaitable;
using jsonrpc::message;
namespace codes = jsonrpc::error_codes;
using protocol::call_answer;
using clock = std::chrono::steady_clock;

// An event stream of a session: its number in the session's event log, so each event written
// on it has an id and can be replayed after a reconnect. Empty for streams without ids
// (batches).
struct streamable_http::logged_stream {
  std::shared_ptr<session_streams> st;
  std::uint64_t no = 0;
};

namespace {

// Events of a POST stream whose client went away, kept for a GET that resumes it; beyond this
// the newest progress and notifications are dropped (never the response).
constexpr std::size_t max_orphaned_events = 1000;

// Follows a call whose POST stream lost its client, into the queue a resuming GET will read.
awaitable<void> follow_orphaned_call(core::endpoint& ep, std::shared_ptr<core::client_session> s,
                                     core::call_started cs,
                                     std::shared_ptr<util::async_queue<message>> pending) {
  bool warned = false;
  while (auto ev = co_await ep.next_event(*s, cs)) {
    const bool final = ev->is_response();
    if (final || pending->size() < max_orphaned_events) {
      pending->push(std::move(*ev));
    } else if (!warned) {
      warned = true;
      spdlog::warn("session {}: a stream nobody resumed holds {} events; dropping more",
                   protocol::short_id(s->id()), max_orphaned_events);
    }
    if (final) break;
  }
  pending->close();
}

// 2025-11-25 basic/transports: an unsupported MCP-Protocol-Version gets 400, its error with
// the id of the message (null for a batch). nullopt: no header, or a supported version.
std::optional<std::string> version_refusal(std::optional<std::string_view> version,
                                           const json::value& id) {
  if (!version || protocol::is_supported_version(*version)) return std::nullopt;
  return jsonrpc::serialize(message::error_response(
      id, codes::invalid_request,
      "Bad Request: unsupported MCP-Protocol-Version " + std::string(*version)));
}

}  // namespace

awaitable<bool> streamable_http::handle(tcp_stream& stream, http_request& req, core::endpoint& ep,
                                        const request_identity& who) {
  if (req.method() == bhttp::verb::post) co_return co_await handle_post(stream, req, ep, who);
  bool keep_alive = false;
  auto session =
      co_await require_session(stream, req, ep, mcp_headers(req).session, who, keep_alive);
  if (!session) co_return keep_alive;
  if (req.method() == bhttp::verb::delete_) {
    co_await ep.end_session(session);
    co_return co_await reply(stream, req, 200, {});
  }
  co_return co_await handle_get(stream, req, session);
}

awaitable<std::shared_ptr<core::client_session>> streamable_http::require_session(
    tcp_stream& stream, const http_request& req, core::endpoint& ep,
    std::optional<std::string_view> sid, const request_identity& who, bool& keep_alive) {
  if (!sid) {
    keep_alive = co_await reply_error(stream, req, 400, codes::invalid_request,
                                      "Bad Request: Mcp-Session-Id header is required");
    co_return nullptr;
  }
  auto session = ep.find_session(*sid);
  if (session && !owned_by(session->narrowing, who)) session = nullptr;
  if (!session)
    keep_alive =
        co_await reply_error(stream, req, 404, codes::invalid_request, "Session not found");
  co_return session;
}

awaitable<bool> streamable_http::handle_post(tcp_stream& stream, http_request& req,
                                             core::endpoint& ep, const request_identity& who) {
  trace_client_body(req);
  auto payload = jsonrpc::parse_payload(req.body());
  if (!payload) {
    if (payload.error().too_deep) log_too_deep();
    co_return co_await reply(stream, req, 400,
                             jsonrpc::serialize(jsonrpc::to_error_response(payload.error())));
  }
  const auto headers = mcp_headers(req);
  if (payload->is_batch) {
    // Batches exist only before 2025-06-18 and never in 2026-07-28: the version header rule
    // alone.
    if (auto refused = version_refusal(headers.version, nullptr))
      co_return co_await reply(stream, req, 400, std::move(*refused));
    co_return co_await handle_batch(stream, req, ep, std::move(*payload), who);
  }
  auto& parsed = payload->items.front();
  if (!parsed) {
    co_return co_await reply(stream, req, 400,
                             jsonrpc::serialize(jsonrpc::to_error_response(parsed.error())));
  }
  message msg = std::move(*parsed);
  if (!ctx_.faults.legacy_only &&
      protocol::is_modern(msg, headers.version, headers.session.has_value()))
    co_return co_await modern_.handle(stream, req, ep, headers, std::move(msg), who);
  if (auto refused = version_refusal(headers.version, msg.id() ? *msg.id() : json::value()))
    co_return co_await reply(stream, req, 400, std::move(*refused));

  if (msg.is_request() && msg.method() == "initialize") {
    auto narrowing = narrowing_for(req, who);  // a local: GCC 12 and co_await temporaries
    auto pass = enter_gate(narrowing, ep.name(), msg);
    if (pass.refused) co_return co_await reply_answer(stream, req, 200, *pass.refused);
    auto slot = acquire_session_slot(ctx_, stream);
    if (!slot) co_return co_await refuse_session_slot(ctx_, stream, req);
    auto outcome = co_await ep.initialize(std::move(msg), std::move(narrowing));
    answered_now(pass, outcome.reply);
    // GCC 12 mishandles temporaries of a conditional inside co_await (double free): use locals.
    std::string session_id;
    if (outcome.session) {
      session_id = outcome.session->id();
      outcome.session->quota_slot = std::move(slot);
    }
    std::string body = jsonrpc::serialize(outcome.reply);
    const unsigned status = outcome.overloaded ? 503 : 200;
    co_return co_await reply(stream, req, status, std::move(body), "application/json", session_id);
  }
  bool keep_alive = false;
  auto session = co_await require_session(stream, req, ep, headers.session, who, keep_alive);
  if (!session) co_return keep_alive;
  auto d = co_await dispatch(ep, session, std::move(msg));
  if (d.answer) co_return co_await reply_answer(stream, req, 200, *d.answer);
  if (d.call) co_return co_await stream_call(stream, req, ep, session, std::move(*d.call));
  co_return co_await reply(stream, req, 202, {});
}

awaitable<bool> streamable_http::write_event(tcp_stream& stream, const message& m,
                                             const logged_stream& log) {
  std::string data = jsonrpc::serialize(m);
  std::string id;
  if (log.st) id = log.st->log.next_id(log.no);
  std::string event = protocol::encode_sse_event(data, "message", id);
  const bool ok = co_await write_chunk(ctx_, stream, std::move(event));
  // Recorded once written: one that failed goes back to its queue instead (never twice).
  if (ok && log.st) log.st->log.record(log.no, std::move(data));
  co_return ok;
}

awaitable<bool> streamable_http::begin_session_sse(tcp_stream& stream, const http_request& req,
                                                   const core::client_session& s,
                                                   logged_stream& log) {
  log.no = log.st->log.open_stream();
  if (!co_await begin_sse(stream, req)) co_return false;
  if (!protocol::primes_sse_streams(s.protocol_version)) co_return true;
  // With `retry`: how long a client that lost the stream waits before it reconnects.
  std::string priming =
      "retry: 1000\n" + protocol::encode_sse_event("", {}, std::to_string(log.no) + "-0");
  co_return co_await write_chunk(ctx_, stream, std::move(priming));
}

awaitable<bool> streamable_http::write_replay(tcp_stream& stream, const event_log::replay& replay) {
  for (const auto& [id, data] : replay.events) {
    std::string event = protocol::encode_sse_event(data, "message", id);
    if (!co_await write_chunk(ctx_, stream, std::move(event))) co_return false;
  }
  co_return true;
}

void streamable_http::orphan_stream(core::endpoint& ep, std::shared_ptr<core::client_session> s,
                                    std::shared_ptr<session_streams> st, core::call_started cs,
                                    std::uint64_t stream_no, std::optional<message> unsent,
                                    bool final) {
  // A GET that resumes this stream may already wait on its queue; else a new one.
  auto& slot = st->orphaned[stream_no];
  if (!slot || slot->closed()) slot = std::make_shared<util::async_queue<message>>(ctx_.ex);
  auto pending = slot;
  if (unsent) pending->push_front(std::move(*unsent));
  // Only streams the log still knows can be resumed; the others are forgotten.
  std::erase_if(st->orphaned, [&](const auto& kv) { return !st->log.knows(kv.first); });
  if (final) {
    pending->close();
    return;
  }
  ctx_.tasks.spawn(follow_orphaned_call(ep, std::move(s), std::move(cs), pending),
                   "follow a call whose client went away");
}

awaitable<bool> streamable_http::resume_stream(tcp_stream& stream, const http_request& req,
                                               std::shared_ptr<session_streams> st,
                                               event_log::replay replay) {
  if (!co_await begin_sse(stream, req)) co_return false;
  if (!co_await write_replay(stream, replay)) co_return false;
  std::shared_ptr<util::async_queue<message>> pending;
  if (auto it = st->orphaned.find(replay.stream); it != st->orphaned.end()) {
    pending = it->second;
    st->orphaned.erase(it);  // one reader at a time
  } else if (auto live = st->live.find(replay.stream); live != st->live.end()) {
    // Its POST handler has not noticed the client left: cut that connection, so its next write
    // fails and the call's remaining events come to this queue.
    pending = std::make_shared<util::async_queue<message>>(ctx_.ex);
    st->orphaned[replay.stream] = pending;
    live->second();
  }
  if (pending) {
    // A local, not a temporary inside co_await (GCC 12 destroys such temporaries twice).
    const logged_stream log{st, replay.stream};
    if (!co_await write_logged(stream, *pending, log)) {
      st->orphaned[replay.stream] = pending;  // resumable again
      co_return false;
    }
    st->orphaned.erase(replay.stream);
  }
  co_return co_await end_chunks(stream) && req.keep_alive();
}

awaitable<bool> streamable_http::write_logged(tcp_stream& stream, util::async_queue<message>& queue,
                                              const logged_stream& log) {
  // A local, not a temporary inside co_await (GCC 12 and coroutine temporaries).
  // Explicit captures: GCC 12 mishandles `[&]` (this, parameters) in a lambda made in a coroutine.
  const std::function<awaitable<bool>(const message&)> write_one = [self = this, out = &stream,
                                                                    log = &log](const message& m) {
    return self->write_event(*out, m, *log);
  };
  co_return co_await write_queue(ctx_, stream, queue, write_one);
}

awaitable<bool> streamable_http::stream_call(tcp_stream& stream, http_request& req,
                                             core::endpoint& ep,
                                             std::shared_ptr<core::client_session> s,
                                             core::call_started cs) {
  using step = call_answer::step;
  call_answer answer;
  logged_stream log{streams_.of(s), 0};
  auto st = log.st;
  std::size_t events = 0;
  bool orphaned = false;  // the call's events go on to a queue for a resuming GET
  bool opened = false;    // the stream has a number in the log
  // While this stream is written, a GET resuming it can cut it; after, it is not live.
  util::scope_exit not_live([&] {
    if (!opened) return;
    st->live.erase(log.no);
    // Taken over by a GET, but ended here anyway (its last write got through): the GET's
    // queue ends too.
    auto it = st->orphaned.find(log.no);
    if (!orphaned && it != st->orphaned.end()) it->second->close();
  });
  auto open = [&]() -> awaitable<bool> {
    opened = true;
    const bool ok = co_await begin_session_sse(stream, req, *s, log);
    st->live[log.no] = [&stream] { cut(stream); };
    co_return ok;
  };
  // Polling: a call that runs on past closeStreamAfter has its stream ended, cleanly, once
  // primed, and what it sends later waits for the client's GET with Last-Event-ID.
  const bool polling = ctx_.proxy.close_stream_after.count() > 0 &&
                       protocol::primes_sse_streams(s->protocol_version);
  const auto close_at =
      polling ? clock::now() + ctx_.proxy.close_stream_after : clock::time_point::max();
  for (;;) {
    if (polling && cs.call) {
      const bool ready = co_await cs.call->events.wait(std::min(close_at, cs.deadline));
      if (!ready && clock::now() >= close_at && !ctx_.stopping) {
        bool primed = true;
        if (answer.on_close_time() == step::open_and_end) primed = co_await open();
        orphaned = true;
        orphan_stream(ep, s, st, std::move(cs), log.no, std::nullopt, false);
        if (!primed) co_return false;
        spdlog::debug("session {}: closing the stream of a call still running (closeStreamAfter)",
                      protocol::short_id(s->id()));
        co_return co_await end_chunks(stream) && req.keep_alive();
      }
    }
    // Before the stream opens, the response is written as JSON: a long one as it arrives.
    cs.stream_ok = !answer.streaming();
    auto ev = co_await ep.next_event(*s, cs);
    cs.stream_ok = false;
    if (!ev) {
      // Cancelled by the client: no response is owed (spec: cancellation). End the stream.
      if (answer.on_cancelled() == step::open_and_end) {
        if (!co_await open()) co_return false;
      }
      co_return co_await end_chunks(stream) && req.keep_alive();
    }
    const bool final = ev->is_response();
    const step next = answer.on_event(final);
    if (next == step::reply_json && ctx_.faults.event_stream_answers) {
      // Injected: the answer as a stream of its one event.
      if (!co_await open()) co_return false;
      if (!co_await write_event(stream, *ev, log)) co_return false;
      co_return co_await end_chunks(stream) && req.keep_alive();
    }
    if (next == step::reply_json) co_return co_await reply_message(stream, req, 200, *ev);
    bool written = true;
    if (next == step::open_and_write) written = co_await open();
    if (written) written = co_await write_event(stream, *ev, log);
    std::optional<message> unsent;
    if (!written) unsent = std::move(*ev);
    if (written && !final && ctx_.faults.drop_stream_after_events > 0 &&
        ++events >= ctx_.faults.drop_stream_after_events) {
      spdlog::info("injected fault: cutting a response stream after {} event(s)", events);
      cut(stream);
      written = false;
    }
    if (!written) {
      // A client that went away is not a cancellation (spec: Streamable HTTP): the call runs on
      // to its response or deadline, and what it sends waits for a GET that resumes the stream.
      orphaned = true;
      orphan_stream(ep, s, st, std::move(cs), log.no, std::move(unsent), final);
      co_return false;
    }
    if (next == step::write_and_end) co_return co_await end_chunks(stream) && req.keep_alive();
  }
}

awaitable<bool> streamable_http::handle_batch(tcp_stream& stream, http_request& req,
                                              core::endpoint& ep, jsonrpc::payload batch,
                                              const request_identity& who) {
  // Every request of the batch gets its answer on one event stream.
  bool keep_alive = false;
  auto session =
      co_await require_session(stream, req, ep, mcp_headers(req).session, who, keep_alive);
  if (!session) co_return keep_alive;
  if (auto why = batch_refusal(batch, session->protocol_version))
    co_return co_await reply_error(stream, req, 400, codes::invalid_request, *why);
  auto d = co_await dispatch_batch(ep, session, std::move(batch));
  if (d.answers.empty() && d.calls.empty()) co_return co_await reply(stream, req, 202, {});
  const logged_stream no_ids;
  auto drain_from = [&](std::size_t first) {
    for (std::size_t k = first; k < d.calls.size(); ++k) ep.drain(session, std::move(d.calls[k]));
  };
  if (!co_await begin_sse(stream, req)) {
    drain_from(0);
    co_return false;
  }
  for (auto& a : d.answers) {
    if (!co_await write_event(stream, a, no_ids)) {
      drain_from(0);
      co_return false;
    }
  }
  // The calls run concurrently at the backend; their events are written call by call.
  for (std::size_t k = 0; k < d.calls.size(); ++k) {
    auto& cs = d.calls[k];
    while (auto ev = co_await ep.next_event(*session, cs)) {
      const bool final = ev->is_response();
      if (!co_await write_event(stream, *ev, no_ids)) {
        if (!final) ep.drain(session, std::move(cs));
        drain_from(k + 1);
        co_return false;
      }
      if (final) break;
    }
  }
  co_return co_await end_chunks(stream) && req.keep_alive();
}

awaitable<bool> streamable_http::handle_get(tcp_stream& stream, http_request& req,
                                            std::shared_ptr<core::client_session> s) {
  auto st = streams_.of(s);
  // Last-Event-ID (spec 2025-11-25 basic/transports: resumability and redelivery): the stream
  // it names is resumed; an id the session cannot replay gets a fresh GET stream.
  std::optional<event_log::replay> replay;
  if (auto last = req.find("Last-Event-ID"); last != req.end())
    replay = st->log.after(last->value());
  if (replay && replay->stream != st->get_stream_no)
    co_return co_await resume_stream(stream, req, st, std::move(*replay));
  if (replay && st->get_stream_open) {
    // The GET stream resumed while its old connection looks open (the client left without the
    // proxy noticing yet): that connection is cut and this one takes over, bounded in time.
    if (auto live = st->live.find(replay->stream); live != st->live.end()) live->second();
    const auto give_up = clock::now() + std::chrono::seconds(2);
    // No co_await inside && (GCC 12 miscompiles some of those): plain statements.
    while (st->get_stream_open) {
      const bool ended = co_await st->get_stream_ended.wait(give_up);
      if (!ended) break;
    }
  }
  // One GET stream per session, so every message goes on exactly one stream.
  if (st->get_stream_open) {
    co_return co_await reply_error(stream, req, 409, codes::invalid_request,
                                   "Conflict: this session already has a GET stream open");
  }
  // Before any co_await: a second GET must see it. Undone however this handler ends.
  st->get_stream_open = true;
  s->listening = true;
  logged_stream log{st, 0};
  util::scope_exit closed([&] {
    st->live.erase(log.no);
    st->get_stream_open = false;
    s->listening = false;
    st->get_stream_ended.notify_all();
  });
  bool ok = true;
  if (replay) {
    // The GET stream again: what may have been lost with the old connection, then the rest.
    log.no = replay->stream;
    ok = co_await begin_sse(stream, req);
    if (ok) ok = co_await write_replay(stream, *replay);
  } else {
    ok = co_await begin_session_sse(stream, req, *s, log);
    st->get_stream_no = log.no;
  }
  if (!ok) co_return false;
  st->live[log.no] = [&stream, &outbox = s->outbox] {
    cut(stream);
    outbox.interrupt();  // its writer notices now, not at the next keep-alive
  };
  ok = co_await write_logged(stream, s->outbox, log);
  if (!ok) co_return false;
  co_return co_await end_chunks(stream) && req.keep_alive();
}

}  // namespace mcp_proxy::frontend
