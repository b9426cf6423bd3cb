#include "frontend/modern_http.hpp"

#include "frontend/close_watch.hpp"
#include "protocol/call_answer.hpp"
#include "protocol/http_rules.hpp"
#include "protocol/modern_request.hpp"
#include "protocol/sse.hpp"
#include "util/ascii.hpp"

#include <spdlog/spdlog.h>
#include <boost/json.hpp>

namespace mcp_proxy::frontend {

namespace asio = boost::asio;
using asio::awaitable;
using jsonrpc::message;
using protocol::call_answer;

namespace {

// A modern request's answer on its HTTP response: JSON when the answer comes first, else an
// event stream without event ids (2026-07-28 has no resumption: streamable-http, changelog).
// While its call is in flight, the connection is watched: a client that closes it cancels the
// call at once (streamable-http, cancellation), before any event too.
class http_output final : public modern_output {
 public:
  http_output(http_context& ctx, tcp_stream& stream, http_request& req)
      : ctx_(ctx), stream_(stream), req_(req), watch_(stream.socket()) {}

  void started(core::endpoint& ep, core::client_session& s, const core::call_started& cs) override {
    // Stopped by the write that ends the answer, or the one that fails, or end_unanswered:
    // the session and the call outlive it.
    watch_.start([ep = &ep, s = &s, call = cs.call] {
      spdlog::debug("a 2026-07-28 client closed its response stream; cancelling its call");
      ep->abandon(*s, *call, "the client closed the response stream");
    });
  }

  awaitable<bool> write(const message& m, bool final, bool overloaded) override {
    if (watch_.closed()) co_return false;  // the client left: nothing more is sent
    if (final) watch_.stop();              // the connection's next request may be read after this
    const bool ok = co_await write_answer(m, final, overloaded);
    if (!ok) watch_.stop();
    co_return ok;
  }

  awaitable<bool> end_unanswered() override {
    watch_.stop();
    // No co_await in a condition (GCC 12 miscompiles some of those): plain statements.
    bool ok = !watch_.closed();
    if (ok && answer_.on_cancelled() == call_answer::step::open_and_end)
      ok = co_await begin_sse(stream_, req_);
    if (ok) ok = co_await end_chunks(stream_);
    co_return ok&& req_.keep_alive();
  }

 private:
  awaitable<bool> write_answer(const message& m, bool final, bool overloaded) {
    using step = call_answer::step;
    const step next = answer_.on_event(final);
    if (next == step::reply_json) {
      const unsigned status = overloaded ? 503 : protocol::modern_http_status(m);
      co_return co_await reply_answer(stream_, req_, status, m);
    }
    bool written = true;
    if (next == step::open_and_write) written = co_await begin_sse(stream_, req_);
    if (written) {
      std::string event = protocol::encode_sse_event(jsonrpc::serialize(m), "message", {});
      written = co_await write_chunk(ctx_, stream_, std::move(event));
    }
    if (!written) co_return false;
    if (next == step::write_and_end) co_return co_await end_chunks(stream_) && req_.keep_alive();
    co_return true;
  }

  http_context& ctx_;
  tcp_stream& stream_;
  http_request& req_;
  call_answer answer_;
  close_watch watch_;
};

}  // namespace

modern_http::modern_http(http_context& ctx) : ctx_(ctx), calls_(ctx.ex, ctx.tasks, ctx.stopping) {}

awaitable<bool> modern_http::handle(tcp_stream& stream, http_request& req, core::endpoint& ep,
                                    const mcp_header_values& mcp, message msg,
                                    const request_identity& who) {
  // 2026-07-28 defines no client notification over HTTP (a closed stream is the
  // cancellation): accepted, and nothing is owed.
  if (!msg.is_request()) co_return co_await reply(stream, req, 202, {});
  const protocol::modern_headers headers{mcp.version, mcp.method, mcp.name};
  if (auto refused = protocol::check_modern_request(msg, headers)) {
    std::string body = jsonrpc::serialize(protocol::refusal_response(msg, *refused));
    co_return co_await reply(stream, req, refused->status, std::move(body));
  }
  auto narrowing = narrowing_for(req, who);
  if (msg.method() == "subscriptions/listen")
    co_return co_await serve_listen(stream, req, ep, std::move(msg), std::move(narrowing));
  if (msg.method() == "tools/call") {
    if (auto refused = co_await check_params(ep, req, msg)) {
      std::string body = jsonrpc::serialize(*refused);
      co_return co_await reply(stream, req, 400, std::move(body));
    }
  }
  http_output out(ctx_, stream, req);
  co_return co_await calls_.serve(ep, std::move(msg), std::move(narrowing), out);
}

awaitable<std::optional<message>> modern_http::check_params(core::endpoint& ep,
                                                            const http_request& req,
                                                            const message& msg) {
  protocol::sent_headers sent;
  for (const auto& field : req) {
    const std::string_view name = field.name_string();
    if (name.size() > protocol::param_header_prefix.size() &&
        util::ascii_iequals(name.substr(0, protocol::param_header_prefix.size()),
                            protocol::param_header_prefix))
      sent.emplace_back(name.substr(protocol::param_header_prefix.size()), field.value());
  }
  const auto* params = msg.params_object();
  const auto* tool = params ? params->if_contains("name") : nullptr;
  if (!tool || !tool->is_string()) co_return std::nullopt;  // the call itself will say
  const std::string_view tool_name = tool->get_string();
  using clock = std::chrono::steady_clock;
  auto& known = marks_[ep.name()];
  const auto age = clock::now() - known.fetched;
  const bool stale = age > std::chrono::minutes(1) ||
                     (!known.by_tool.contains(tool_name) && age > std::chrono::seconds(5));
  if (stale) {
    known.fetched = clock::now();
    auto tools = co_await list_tools(ep);
    known.by_tool.clear();
    for (const auto& t : tools)
      if (const auto* n = t.if_contains("name"); n && n->is_string())
        known.by_tool[std::string(n->get_string())] = protocol::param_headers_of(t);
  }
  static const std::vector<protocol::param_header> unmarked;
  auto it = known.by_tool.find(tool_name);
  const auto& marks = it == known.by_tool.end() ? unmarked : it->second;
  if (auto refused = protocol::check_param_headers(msg, marks, sent))
    co_return protocol::refusal_response(msg, *refused);
  co_return std::nullopt;
}

awaitable<bool> modern_http::serve_listen(tcp_stream& stream, http_request& req, core::endpoint& ep,
                                          message msg, core::session_narrowing narrowing) {
  auto l = co_await open_listen(ep, std::move(msg), std::move(narrowing));
  if (l.refused) {
    const unsigned status = l.overloaded ? 503 : protocol::modern_http_status(*l.refused);
    co_return co_await reply_answer(stream, req, status, *l.refused);
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
  // A client that closes the stream ends the listen now (subscriptions; streamable-http,
  // cancellation), not at the next notification or keep-alive: the connection is cut, so the
  // writer, woken, fails at once.
  close_watch watch(stream.socket());
  watch.start([out = &stream, outbox = &l.session->outbox] {
    boost::system::error_code ignored;
    out->socket().close(ignored);
    outbox->interrupt();
  });
  // Explicit captures: GCC 12 mishandles `[&]` in a lambda made in a coroutine.
  const std::function<awaitable<bool>(const message&)> write_one =
      [self = this, out = &stream, ep_ = &ep, listen = &l](const message& m) -> awaitable<bool> {
    auto ev = to_listen_event(*ep_, *listen, m);
    if (!ev) co_return true;
    std::string event = protocol::encode_sse_event(jsonrpc::serialize(*ev), "message", {});
    co_return co_await write_chunk(self->ctx_, *out, std::move(event));
  };
  if (!co_await write_queue(ctx_, stream, l.session->outbox, write_one)) co_return false;
  watch.stop();
  // Ended by the proxy (shutdown, the session's end): the listen result closes it gracefully
  // (subscriptions, graceful closure).
  std::string last =
      protocol::encode_sse_event(jsonrpc::serialize(listen_result(l)), "message", {});
  if (!co_await write_chunk(ctx_, stream, std::move(last))) co_return false;
  co_return co_await end_chunks(stream) && req.keep_alive();
}

}  // namespace mcp_proxy::frontend
