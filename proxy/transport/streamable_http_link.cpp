#include "transport/http_link_base.hpp"

#include "protocol/modern_request.hpp"
#include "util/scope_exit.hpp"
#include "util/spawn.hpp"

#include <spdlog/spdlog.h>

#include <deque>

namespace mcp_proxy::transport {

using namespace detail;

namespace {

// GET streams refused (HTTP 401) in a row, each with a new token, before the link stops asking.
constexpr int max_token_refusals = 3;

// ------------------------------------------------------------------------------------------
// Streamable HTTP (spec 2025-11-25 basic/transports)

class streamable_http_link final : public http_link_base,
                                   public std::enable_shared_from_this<streamable_http_link> {
 public:
  using http_link_base::http_link_base;

  void start() { util::spawn_logged(ex_, sender(shared_from_this()), options_.name + " sender"); }

  void send_with_headers(const message& m, const header_list& headers) override {
    if (m.id()) extra_headers_[json::serialize(*m.id())] = headers;
    send(m);
  }

  void set_protocol_version(std::string_view v) override {
    protocol_version_ = v;
    // After initialize: the server may now send on its own, on a GET stream.
    if (!get_started_ && !ended_) {
      get_started_ = true;
      util::spawn_logged(ex_, get_stream(shared_from_this()), options_.name + " GET stream");
    }
  }

  awaitable<void> stop() override {
    if (ended_) co_return;
    stopping_ = true;  // a 404 from now on is the DELETE's doing: no new session
    if (!session_id_.empty()) {
      // Ends the session at the server (spec: Session Management); 405 is a fine answer too.
      request req =
          session_request(bhttp::verb::delete_, "", "application/json, text/event-stream");
      // Shutdown must not wait on an unreachable server: 2 s to connect, 2 s for the answer.
      auto conn = co_await write_request(url_, req, false, std::chrono::seconds(2));
      if (conn) {
        auto p = co_await read_header(**conn, clock_type::now() + std::chrono::seconds(2));
        if (p) spdlog::debug("backend {}: DELETE answered {}", options_.name, status_text(**p));
      }
    }
    end(link_error::stopped, "stopped");
  }

 private:
  // A request of the 2026-07-28 era (`modern`) has no session; its headers come from its body.
  request session_request(bhttp::verb verb, std::string body, std::string_view accept,
                          const protocol::outgoing_headers* modern = nullptr,
                          const header_list& extra = {}) const {
    request req = make_request(verb, url_, std::move(body), accept);
    if (modern) {
      // 2026-07-28 streamable-http, standard headers, and the custom ones (Mcp-Param-*).
      req.set(version_header, modern->protocol_version);
      req.set("Mcp-Method", modern->method);
      if (modern->name) req.set("Mcp-Name", *modern->name);
      for (const auto& [name, value] : extra) req.set(name, value);
      return req;
    }
    if (!session_id_.empty()) req.set(session_header, session_id_);
    if (!protocol_version_.empty()) req.set(version_header, protocol_version_);
    return req;
  }

  // One message to POST: its text (kept while a request is in flight only when an expired
  // session is renewed, to send it again), and its id when it is a request (else null).
  struct outgoing_post {
    std::string body;
    json::value id;
    std::optional<protocol::outgoing_headers> modern;  // a 2026-07-28 request
    header_list extra;                                 // its Mcp-Param-* headers
    bool listen = false;  // subscriptions/listen: its stream stays open without a deadline
    bool probe = false;   // server/discover: a legacy server's refusal is expected
    // With client credentials: the Authorization value it was sent with, and whether it is the
    // one more try after a 401 (its body is kept for that try).
    std::string authorization;
    bool retried = false;
  };

  // A client of 2026-07-28 cancels a request by closing its stream (streamable-http,
  // cancellation), and has no session to post a notification to: true when `m` was such a
  // cancellation (done, or moot), false when it goes to the server as it is.
  bool closes_instead(const message& m) {
    if (!m.is_notification() || m.method() != "notifications/cancelled") return false;
    const auto* params = m.params_object();
    const auto* rid = params ? params->if_contains("requestId") : nullptr;
    if (!rid) return false;
    if (auto it = modern_streams_.find(json::serialize(*rid)); it != modern_streams_.end()) {
      cancelled_.insert(it->first);
      if (auto conn = it->second.lock()) conn->close();
      return true;
    }
    return session_id_.empty() && protocol_version_.empty();
  }

  // One writer keeps messages in order: a request is written and its answer read in the
  // background; a notification or response waits for its 202, so the server has seen it before
  // whatever follows (notifications/initialized before the first request). Requests the server
  // refused for an expired session go first once a new session is started.
  awaitable<void> sender(std::shared_ptr<streamable_http_link> self) {
    for (;;) {
      if (renew_due_) {
        co_await renew_session(self);
        if (ended_) co_return;
        continue;
      }
      outgoing_post post;
      if (!refused_posts_.empty()) {
        post = std::move(refused_posts_.front());
        refused_posts_.pop_front();
      } else {
        auto m = co_await outgoing_.pop();
        if (!m) {
          if (outgoing_.closed()) co_return;
          continue;  // interrupted: a renewal is due
        }
        post.modern = protocol::outgoing_headers_of(*m);
        if (!post.modern && closes_instead(*m)) continue;
        post.listen = post.modern && m->method() == "subscriptions/listen";
        post.probe = post.modern && m->method() == "server/discover";
        if (m->is_request() && m->id()) post.id = *m->id();
        if (!extra_headers_.empty()) {
          if (auto h = extra_headers_.find(json::serialize(post.id)); h != extra_headers_.end()) {
            post.extra = std::move(h->second);
            extra_headers_.erase(h);
          }
        }
        post.body = jsonrpc::serialize(*m);
        if (options_.renew_expired_session && !initialize_ && m->method() == "initialize")
          initialize_ = post;
      }
      co_await post_one(self, std::move(post));
    }
  }

  awaitable<void> post_one(std::shared_ptr<streamable_http_link> self, outgoing_post post) {
    const bool is_request = !post.id.is_null();
    std::string sid = post.modern ? "" : session_id_;  // the session this POST belongs to
    request req = session_request(bhttp::verb::post, std::move(post.body),
                                  "application/json, text/event-stream",
                                  post.modern ? &*post.modern : nullptr, post.extra);
    auto conn = co_await write_request(url_, req);
    if ((options_.renew_expired_session && is_request) || (has_credentials() && !post.retried))
      post.body = std::move(req.body());
    if (has_credentials()) post.authorization = std::string(req[bhttp::field::authorization]);
    if (!conn) {
      log_unsent(conn.error());
      if (is_request) fail_unsent(post.id, conn.error(), "unreachable");
      co_return;
    }
    if (is_request)
      util::spawn_logged(ex_, answer(self, std::move(*conn), std::move(post), std::move(sid)),
                         options_.name + " answer");
    else
      co_await answer(self, std::move(*conn), std::move(post), std::move(sid));
  }

  // The server ended session `sid` (HTTP 404, spec: Session Management). Without renewal the
  // link ends, so the owner starts over. With it, a new session is started once (`post`, a
  // request the server refused and so never processed, goes again on the new one).
  void session_refused(const std::string& sid, std::optional<outgoing_post> post) {
    if (stopping_) return;
    if (!options_.renew_expired_session || !initialize_) {
      spdlog::warn("backend {}: session expired (HTTP 404)", options_.name);
      end(link_error::session_expired, "ended the session (HTTP 404)");
      return;
    }
    if (post) refused_posts_.push_back(std::move(*post));
    if (sid == session_id_ && !renew_due_) {
      renew_due_ = true;
      outgoing_.interrupt();  // the sender may be waiting for a message
    }
  }

  // Starts a new session with the first one's initialize, then notifications/initialized; the
  // owner is told (inbound::session_renewed) so it can restore what the old session held.
  awaitable<void> renew_session(std::shared_ptr<streamable_http_link> self) {
    renew_due_ = false;
    if (++renewals_in_a_row_ > max_renewals_in_a_row) {
      end(link_error::session_expired, "ended the session (HTTP 404) again after " +
                                           std::to_string(max_renewals_in_a_row) + " new ones");
      co_return;
    }
    spdlog::warn("backend {}: the server ended the session (HTTP 404); starting a new one",
                 options_.name);
    renewing_ = true;
    session_id_.clear();
    const std::string version = std::exchange(protocol_version_, {});
    auto problem = co_await initialize_again(version);
    renewing_ = false;
    protocol_version_ = version;
    if (!problem.empty()) {
      spdlog::warn("backend {}: a new session failed: {}", options_.name, problem);
      end(link_error::session_expired, "ended the session (HTTP 404); a new one failed");
      co_return;
    }
    outgoing_post initialized;
    initialized.body = jsonrpc::serialize(message::notification("notifications/initialized"));
    co_await post_one(self, std::move(initialized));
    spdlog::info("backend {}: new session started; {} refused request(s) sent again", options_.name,
                 refused_posts_.size());
    incoming_.push(inbound{{}, {}, true});
    if (!get_started_ && !ended_) {
      get_started_ = true;
      util::spawn_logged(ex_, get_stream(self), options_.name + " GET stream");
    }
  }

  // POSTs the kept initialize without a session; "" once the answer (JSON or an event stream)
  // has given a session id and the same protocol version, else what went wrong.
  awaitable<std::string> initialize_again(const std::string& version) {
    request req = session_request(bhttp::verb::post, initialize_->body,
                                  "application/json, text/event-stream");
    auto conn = co_await write_request(url_, req);
    if (!conn) co_return conn.error();
    const auto deadline = clock_type::now() + options_.timeout;
    auto header = co_await read_header(**conn, deadline);
    if (!header) co_return header.error();
    response_parser& p = **header;
    token_refused(req[bhttp::field::authorization], p.get().result_int());
    if (p.get().result_int() / 100 != 2) co_return "initialize answered " + status_text(p);
    std::string answer;
    std::string err;
    if (content_type_is(p, "text/event-stream")) {
      sse_decoder decoder(options_.max_message_bytes);
      std::function<bool(std::string_view)> sink = [&](std::string_view piece) {
        auto events = decoder.feed(piece);
        if (!events) return false;
        for (auto& ev : *events)
          if (ev.type == "message" && protocol::is_response_to(ev.data, initialize_->id))
            answer = std::move(ev.data);
        return answer.empty();
      };
      err = co_await read_body(**conn, p, sink, deadline);
    } else {
      auto body = co_await read_whole_body(**conn, p, options_.max_message_bytes, deadline);
      err = body.error();
      if (body && protocol::is_response_to(*body, initialize_->id)) answer = std::move(*body);
      if (body) release(std::move(*conn), p);
    }
    if (answer.empty()) {
      // Built apart (GCC 12 and conditional temporaries in coroutines do not mix well).
      std::string why = "no answer to initialize";
      if (!err.empty()) why += ": " + err;
      co_return why;
    }
    if (auto problem = protocol::renewed_session_problem(answer, version); !problem.empty())
      co_return problem;
    if (auto sid = p.get().find(session_header); sid != p.get().end()) session_id_ = sid->value();
    co_return "";
  }

  // Reads the answer to one POST of session `sid`. `post.id` is the request's id, or null for a
  // notification or a response (then nothing is owed to anyone).
  awaitable<void> answer(std::shared_ptr<streamable_http_link> self,
                         std::shared_ptr<http_conn> conn, outgoing_post post, std::string sid) {
    const json::value& id = post.id;
    const bool is_request = !id.is_null();
    auto deadline = clock_type::now() + options_.timeout + std::chrono::seconds(5);
    if (post.listen) deadline = clock_type::time_point::max();
    // A 2026-07-28 request's stream is closed to cancel it (closes_instead).
    std::string stream_key;
    if (post.modern && is_request) {
      stream_key = json::serialize(id);
      modern_streams_[stream_key] = conn;
    }
    util::scope_exit forget([this, &stream_key] {
      if (stream_key.empty()) return;
      modern_streams_.erase(stream_key);
      cancelled_.erase(stream_key);
    });
    auto header_deadline = clock_type::now() + control_timeout;
    if (is_request) header_deadline = deadline;
    auto header = co_await read_header(*conn, header_deadline);
    if (!header) {
      if (ended_ || cancelled_.contains(stream_key)) co_return;
      spdlog::warn("backend {}: {}", options_.name, header.error());
      if (is_request) fail_request(id, "no answer");
      co_return;
    }
    response_parser& p = **header;
    const int status = p.get().result_int();
    if (token_refused(post.authorization, status) && !post.retried && !post.body.empty()) {
      // The token was refused (revoked, or the server rotated its keys): the server did not act
      // on the POST, so it goes once more with a new token. A second 401 is an answer.
      auto body =
          co_await read_whole_body(*conn, p, max_error_body, clock_type::now() + control_timeout);
      if (body)
        release(std::move(conn), p);
      else
        conn->close();
      spdlog::info("backend {}: POST answered HTTP 401; sending it again with a new access token",
                   options_.name);
      post.retried = true;
      co_await post_one(self, std::move(post));
      co_return;
    }
    using protocol::post_answer;
    const auto kind =
        protocol::classify_post_answer({status, p.get()[bhttp::field::content_type], !sid.empty(),
                                        options_.detect_transport && is_request && !post.modern &&
                                            session_id_.empty() && !delivered_legacy_});
    if (kind == post_answer::session_expired) {
      // The server ended the session (spec: Session Management): it did not process this one.
      // Only requests are sent again: a notification or response concerned the old session.
      std::optional<outgoing_post> again;
      if (is_request) again = std::move(post);
      session_refused(sid, std::move(again));
      co_return;
    }
    if (is_request && status / 100 == 2) renewals_in_a_row_ = 0;
    if (!post.modern && status / 100 == 2) delivered_legacy_ = true;
    if (kind == post_answer::not_streamable_http) {
      // No Streamable HTTP here: the owner (auto_link) tries legacy SSE.
      spdlog::info("backend {}: POST answered {}; trying the legacy SSE transport", options_.name,
                   status_text(p));
      conn->close();
      end(link_error::refused_transport, "refused Streamable HTTP (" + status_text(p) + ")");
      co_return;
    }
    if (auto sid = p.get().find(session_header); sid != p.get().end() && session_id_.empty())
      session_id_ = sid->value();
    if (kind == post_answer::accepted) {
      auto body =
          co_await read_whole_body(*conn, p, max_error_body, clock_type::now() + control_timeout);
      if (body) release(std::move(conn), p);
      if (is_request) fail_request(id, "the server accepted the request but sent no answer");
      co_return;
    }
    if (kind == post_answer::http_error) {
      auto body =
          co_await read_whole_body(*conn, p, max_error_body, clock_type::now() + control_timeout);
      if (body) release(std::move(conn), p);
      // A legacy server refusing the era probe (server/discover) is expected: era_link logs
      // what it concluded.
      spdlog::log(post.probe ? spdlog::level::debug : spdlog::level::warn,
                  "backend {}: POST answered {}{}", options_.name, status_text(p),
                  body && !body->empty() ? ": " + body->substr(0, 200) : std::string());
      if (!is_request) co_return;
      // A JSON-RPC error in the body says more than the status.
      if (body && protocol::is_response_to(*body, id))
        deliver(std::move(*body));
      else
        fail_request(id, "answered " + status_text(p));
      co_return;
    }
    if (kind == post_answer::json) {
      auto body = co_await read_whole_body(*conn, p, options_.max_message_bytes, deadline);
      if (!body && cancelled_.contains(stream_key)) co_return;
      if (!body) {
        spdlog::warn("backend {}: reading an answer failed: {}", options_.name, body.error());
        if (is_request) fail_request(id, "the answer could not be read");
        co_return;
      }
      release(std::move(conn), p);
      // Anything but this request's response leaves the call unanswered: fail it now rather
      // than at its deadline (what came is still passed on; the owner logs it if it is bad).
      const bool answered = is_request && protocol::is_response_to(*body, id);
      if (!body->empty()) deliver(std::move(*body), id);
      if (is_request && !answered) {
        spdlog::warn("backend {}: a JSON answer that is not the response to request {}",
                     options_.name, json::serialize(id));
        fail_request(id, "answered with something other than the response");
      }
      co_return;
    }
    if (kind == post_answer::bad_content_type) {
      spdlog::warn("backend {}: POST answered with Content-Type {}", options_.name,
                   std::string(p.get()[bhttp::field::content_type]));
      conn->close();
      if (is_request) fail_request(id, "the answer has an unexpected Content-Type");
      co_return;
    }
    sse_decoder decoder(options_.max_message_bytes);
    bool answered = false;
    std::function<void(const sse_event&)> watch = [&](const sse_event& ev) {
      if (is_request && !answered && ev.type == "message")
        answered = protocol::is_response_to(ev.data, id);
    };
    // An answer passed on as it arrives counts as answered, even if cut: its reader fails it.
    auto err = co_await pump_events(*conn, p, decoder, deadline, watch, id, &answered);
    if (err.empty())
      release(std::move(conn), p);
    else
      conn->close();
    if (!is_request || answered || ended_ || cancelled_.contains(stream_key)) co_return;
    // The stream ended before the response: resume it if the server gave event ids
    // (spec: Resumability and Redelivery), else the call fails now rather than at its deadline.
    protocol::resume_policy resumption(options_.max_retry_wait);
    resumption.saw(decoder.last_event_id(), decoder.retry_ms());
    co_await resume(resumption, deadline, watch, answered, id);
    if (answered || ended_) co_return;
    spdlog::warn("backend {}: the stream of a request ended before its response{}", options_.name,
                 err.empty() ? std::string() : ": " + err);
    fail_request(id, "the connection ended before the response");
  }

  // A GET of the session's event stream, resuming after `last_id` when it is set: the
  // connection and the answer's header, or why there is no answer.
  struct event_stream {
    std::shared_ptr<http_conn> conn;
    std::unique_ptr<response_parser> parser;  // null: no answer
    std::string problem;
    std::string authorization;  // what the GET was sent with
    bool accepted() const {
      return parser && parser->get().result_int() == 200 &&
             content_type_is(*parser, "text/event-stream");
    }
  };
  awaitable<event_stream> open_event_stream(const std::string& last_id) {
    request req = session_request(bhttp::verb::get, "", "text/event-stream");
    if (!last_id.empty()) req.set(last_event_id_header, last_id);
    auto conn = co_await write_request(url_, req);
    if (!conn) co_return event_stream{nullptr, nullptr, conn.error(), {}};
    const auto deadline = clock_type::now() + control_timeout;
    auto header = co_await read_header(**conn, deadline);
    if (!header) co_return event_stream{nullptr, nullptr, header.error(), {}};
    co_return event_stream{
        std::move(*conn), std::move(*header), {}, std::string(req[bhttp::field::authorization])};
  }

  // GETs with Last-Event-ID until `answered` (set by `watch`), the server refuses, or the
  // policy gives up (no event id, attempts used up, deadline). What comes is still the stream of
  // request `in_reply_to`.
  awaitable<void> resume(protocol::resume_policy& policy, clock_type::time_point deadline,
                         const std::function<void(const sse_event&)>& watch, bool& answered,
                         const json::value& in_reply_to) {
    while (auto wait = policy.next_attempt(clock_type::now(), deadline)) {
      if (!co_await pause(*wait)) co_return;
      auto stream = co_await open_event_stream(policy.last_event_id());
      if (!stream.parser) continue;
      if (!stream.accepted()) {
        token_refused(stream.authorization, stream.parser->get().result_int());
        spdlog::warn("backend {}: resuming a stream: GET answered {}", options_.name,
                     status_text(*stream.parser));
        stream.conn->close();
        co_return;
      }
      sse_decoder decoder(options_.max_message_bytes);
      co_await pump_events(*stream.conn, *stream.parser, decoder, deadline, watch, in_reply_to,
                           &answered);
      stream.conn->close();
      policy.saw(decoder.last_event_id(), decoder.retry_ms());
      if (answered) co_return;
    }
  }

  // The server-to-client stream (spec: Listening for Messages from the Server), kept open and
  // resumed with Last-Event-ID while the link lives. 405 means the server offers none.
  awaitable<void> get_stream([[maybe_unused]] std::shared_ptr<streamable_http_link> self) {
    // Where the stream stands (it is resumed without limit).
    protocol::resume_policy pos(options_.max_retry_wait);
    clock_type::duration backoff = protocol::resume_policy::default_retry;
    int refused_in_a_row = 0;  // 401s with a new token each time
    while (!ended_) {
      if (renewing_ || renew_due_) {
        get_started_ = false;  // the new session starts its own
        co_return;
      }
      const std::string sid = session_id_;
      auto stream = co_await open_event_stream(pos.last_event_id());
      if (stream.parser) {
        const int status = stream.parser->get().result_int();
        if (status == 404 && !sid.empty()) {
          if (sid != session_id_ && !session_id_.empty()) {
            pos.restart();  // a new session meanwhile: its stream, from its start
            continue;
          }
          get_started_ = false;
          session_refused(sid, std::nullopt);
          co_return;
        }
        if (token_refused(stream.authorization, status) &&
            ++refused_in_a_row <= max_token_refusals) {
          // The token was refused: dropped, so the next GET carries a new one.
          stream.conn->close();
          spdlog::warn(
              "backend {}: GET stream answered HTTP 401; retrying with a new access "
              "token in {} ms",
              options_.name,
              std::chrono::duration_cast<std::chrono::milliseconds>(backoff).count());
          if (!co_await pause(backoff)) co_return;
          backoff = std::min<clock_type::duration>(backoff * 2, protocol::resume_policy::max_retry);
          continue;
        }
        if (!stream.accepted()) {
          // 405: the server offers no GET stream, which the spec allows.
          if (status == 405)
            spdlog::debug("backend {}: no GET stream (405)", options_.name);
          else
            spdlog::warn("backend {}: GET stream refused: {}", options_.name,
                         status_text(*stream.parser));
          stream.conn->close();
          co_return;
        }
        backoff = protocol::resume_policy::default_retry;
        refused_in_a_row = 0;
        sse_decoder decoder(options_.max_message_bytes);
        co_await pump_events(*stream.conn, *stream.parser, decoder, clock_type::time_point::max(),
                             {});
        stream.conn->close();
        pos.saw(decoder.last_event_id(), decoder.retry_ms());
        if (!co_await pause(pos.retry())) co_return;
        continue;
      }
      if (ended_) co_return;
      spdlog::warn("backend {}: GET stream: {}; retrying in {} ms", options_.name, stream.problem,
                   std::chrono::duration_cast<std::chrono::milliseconds>(backoff).count());
      if (!co_await pause(backoff)) co_return;
      backoff = std::min<clock_type::duration>(backoff * 2, protocol::resume_policy::max_retry);
    }
  }

  std::string session_id_;
  std::string protocol_version_;
  // The streams of 2026-07-28 requests in flight (by serialized id), and those cancelled.
  std::map<std::string, std::weak_ptr<http_conn>> modern_streams_;
  std::set<std::string> cancelled_;
  std::map<std::string, header_list> extra_headers_;  // send_with_headers, by serialized id
  bool delivered_legacy_ = false;  // a legacy request was answered: this is Streamable HTTP
  bool get_started_ = false;
  // Renewal of an expired session (options_.renew_expired_session).
  std::optional<outgoing_post> initialize_;  // the first initialize, sent again
  std::deque<outgoing_post> refused_posts_;  // requests the old session refused: sent again
  bool renew_due_ = false;
  bool renewing_ = false;
  bool stopping_ = false;
  int renewals_in_a_row_ = 0;
};

}  // namespace

boost::system::result<std::shared_ptr<message_link>, std::string> make_streamable_http_link(
    asio::any_io_executor ex, http_link_options options) {
  auto url = parse_target(options.url);
  if (!url) return url.error();
  const bool detect = options.detect_transport;
  auto kept = options;
  auto link = std::make_shared<streamable_http_link>(ex, std::move(options), std::move(*url));
  if (auto problem = link->load_tls_settings(); !problem.empty()) return problem;
  link->start();
  if (detect) return make_auto_link(ex, std::move(kept), std::move(link));
  return link;
}

}  // namespace mcp_proxy::transport
