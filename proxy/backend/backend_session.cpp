#include "backend/backend_session.hpp"

#include "jsonrpc/top_level_scan.hpp"
#include "protocol/log_text.hpp"
#include "protocol/proxy_metrics.hpp"
#include "transport/era_link.hpp"
#include "transport/http_link.hpp"
#include "transport/stdio_child.hpp"
#include "util/spawn.hpp"

#include <spdlog/spdlog.h>

namespace mcp_proxy::backend {

namespace asio = boost::asio;
namespace json = boost::json;
using asio::awaitable;
using jsonrpc::message;

namespace {

std::string preview(std::string_view line) {
  constexpr std::size_t max = 200;
  std::string out(line.substr(0, max));
  if (line.size() > max) out += "...";
  return out;
}

// The trace line of a message to or from a backend (its body cut, never a header).
void trace_body(const std::string& backend, std::string_view direction, std::string_view text) {
  if (spdlog::should_log(spdlog::level::trace))
    spdlog::trace("backend {}: {}: {}", backend, direction, protocol::body_excerpt(text));
}
void trace_body(const std::string& backend, const message& m) {
  if (spdlog::should_log(spdlog::level::trace))
    trace_body(backend, "proxy -> backend", jsonrpc::serialize(m));
}

// How long a backend of unknown era may take to answer server/discover (at most half its
// timeout): a legacy server may not answer it at all (spec 2026-07-28 basic/versioning).
constexpr std::chrono::milliseconds max_probe_time{5000};

protocol::era_adapter::mode era_mode(config::backend_era era) {
  switch (era) {
    case config::backend_era::modern:
      return protocol::era_adapter::mode::modern;
    case config::backend_era::legacy:
      return protocol::era_adapter::mode::legacy;
    case config::backend_era::detect:
      break;
  }
  return protocol::era_adapter::mode::detect;
}

}  // namespace

pending_call::pending_call(asio::any_io_executor ex, rpc::client_key c, std::int64_t id,
                           json::value cid, backlog_limits limits)
    : client(c), backend_id(id), client_id(std::move(cid)), events(ex, limits) {
  events.answer_id = client_id;
  events.call_id = backend_id;
}

backend_session::backend_session(asio::any_io_executor ex, config::server_config server, handlers h)
    : ex_(ex),
      server_(std::move(server)),
      handlers_(std::move(h)),
      junk_lines_(server_.log_lines_per_second),
      metrics_id_(protocol::metrics::metrics().name(server_.name)) {}

backend_session::~backend_session() {
  if (link_) link_->kill_now();
}

void throw_exception_from_error(const backend_failure& e, const boost::source_location&) {
  throw std::runtime_error(e.text);
}

std::int64_t backend_failure::rpc_code() const {
  return cause == transport::link_error::timed_out ? jsonrpc::error_codes::request_timeout
                                                   : jsonrpc::error_codes::backend_unavailable;
}

boost::system::result<std::shared_ptr<backend_session>, backend_failure> backend_session::start(
    asio::any_io_executor ex, const config::server_config& server, handlers h) {
  std::shared_ptr<backend_session> s(new backend_session(ex, server, std::move(h)));
  std::function<std::shared_ptr<transport::message_link>()> relaunch;
  if (server.transport == config::transport_type::stdio) {
    auto spawn = [ex, server] {
      return transport::stdio_child::spawn(
          ex, {server.name, server.command, server.args, server.env, server.cwd,
               static_cast<std::size_t>(server.max_message_bytes), server.log_lines_per_second});
    };
    auto child = spawn();
    relaunch = [spawn]() -> std::shared_ptr<transport::message_link> {
      auto again = spawn();
      if (!again) return nullptr;
      return std::move(*again);
    };
    if (!child) {
      // The details name paths on the proxy's machine: the log has them, clients do not (they
      // get this error as the reason the backend is unavailable).
      spdlog::error("backend {}: {}", server.name, child.error().message);
      return backend_failure{
          transport::link_error::start_failed,
          "backend " + server.name + ": its command could not be started (see the proxy log)"};
    }
    s->link_ = std::move(*child);
    spdlog::info("backend {}: started {} ({})", server.name, server.command, s->link_->describe());
  } else {
    transport::http_link_options options{server.name,
                                         server.url,
                                         server.headers,
                                         server.timeout,
                                         server.tls_ca_file,
                                         server.tls_insecure_skip_verify,
                                         server.detect_transport,
                                         server.mode == config::session_mode::shared,
                                         static_cast<std::size_t>(server.max_message_bytes),
                                         server.max_retry_wait,
                                         server.client_credentials};
    auto link = server.transport == config::transport_type::sse
                    ? transport::make_sse_link(ex, std::move(options))
                    : transport::make_streamable_http_link(ex, std::move(options));
    if (!link)
      return backend_failure{transport::link_error::unreachable,
                             "backend " + server.name + ": " + link.error()};
    s->link_ = std::move(*link);
    spdlog::info("backend {}: connecting to {}", server.name, s->link_->describe());
  }
  // Either era (issue #14): detected with server/discover unless the config says.
  transport::era_link_options era{
      server.name, era_mode(server.era),
      std::min<std::chrono::milliseconds>(max_probe_time, server.timeout / 2), std::move(relaunch)};
  s->link_ = transport::make_era_link(ex, std::move(s->link_), std::move(era));
  s->link_->set_stream_policy([weak = std::weak_ptr<backend_session>(s)](const json::value& id) {
    auto self = weak.lock();
    if (!self || !id.is_int64()) return false;
    auto it = self->calls_.find(id.get_int64());
    return it != self->calls_.end() && it->second->may_stream && !it->second->creates_task;
  });
  util::spawn_logged(ex, s->read_loop(s), server.name + " reader");
  return s;
}

void backend_session::send(const message& m) {
  if (!alive_) return;
  trace_body(server_.name, m);
  link_->send(m);
}

std::shared_ptr<pending_call> backend_session::call(rpc::client_key client, message request,
                                                    const protocol::declared_client* declared) {
  json::value client_id = request.id() ? *request.id() : json::value();
  const std::int64_t backend_id = router_.on_client_request(client, request);
  auto pc = std::make_shared<pending_call>(
      ex_, client, backend_id, std::move(client_id),
      backlog_limits{static_cast<std::size_t>(server_.call_backlog_events),
                     static_cast<std::size_t>(server_.call_backlog_bytes)});
  pc->events.backend_name = server_.name;
  pc->events.on_overflow = [self = weak_from_this(), call = std::weak_ptr<pending_call>(pc)] {
    auto s = self.lock();
    auto c = call.lock();
    if (!s || !c) return;
    spdlog::warn(
        "backend {}: call {} cancelled: its client did not read its events (backlog "
        "bound of callBacklogEvents/callBacklogBytes x4)",
        s->server_.name, c->backend_id);
    s->abandon(*c, "mcp-proxy: the client did not read the call's events");
  };
  if (!alive_) {
    router_.forget(backend_id);
    pc->events.push(message::error_response(pc->client_id,
                                            jsonrpc::error_codes::backend_unavailable,
                                            "backend " + server_.name + " is not running"));
    pc->events.close();
    return pc;
  }
  calls_.emplace(backend_id, pc);
  const auto method = request.method();
  pc->may_stream = method == "tools/call" || method == "resources/read" || method == "prompts/get";
  if (protocol::metrics::metrics().on()) {
    pc->sent_at = std::chrono::steady_clock::now();
    pc->metrics_method = protocol::metrics::registry::method(request.method());
  }
  if (declared) {
    trace_body(server_.name, request);
    link_->send_for(request, *declared);
  } else
    send(request);
  return pc;
}

void backend_session::abandon(const pending_call& call, std::string_view reason) {
  if (!router_.forget(call.backend_id)) return;
  // Nobody waits for its events any more: a reader blocked on them wakes (nullopt: no response
  // is owed), now rather than at its deadline.
  if (auto it = calls_.find(call.backend_id); it != calls_.end()) {
    it->second->events.close();
    calls_.erase(it);
  }
  // The spec forbids cancelling initialize; the caller stops this backend instead.
  if (call.client == proxy_client_key && call.backend_id == initialize_id_) return;
  json::object params{{"requestId", call.backend_id}, {"reason", reason}};
  send(message::notification("notifications/cancelled", std::move(params)));
}

bool backend_session::cancel_from_client(rpc::client_key client, const message& cancelled) {
  auto* params = cancelled.params_object();
  auto* rid = params ? params->if_contains("requestId") : nullptr;
  if (!rid) return false;
  auto backend_id = router_.backend_id_of(client, *rid);
  if (!backend_id) return false;
  message forwarded = cancelled;
  forwarded.params_object()->at("requestId") = *backend_id;
  router_.forget(*backend_id);
  if (auto it = calls_.find(*backend_id); it != calls_.end()) {
    it->second->events.close();  // the client stopped waiting; the backend should not answer
    calls_.erase(it);
  }
  send(forwarded);
  return true;
}

void backend_session::drop_client(rpc::client_key client) {
  for (auto& id : router_.take_server_requests_of(client))
    send(message::error_response(std::move(id), jsonrpc::error_codes::internal_error,
                                 "mcp-proxy: the client session this request went to has ended"));
  for (std::int64_t id : router_.forget_client(client)) {
    if (auto it = calls_.find(id); it != calls_.end()) {
      // A POST still waiting on this call gets an answer, not an empty stream.
      it->second->events.push(message::error_response(
          it->second->client_id, jsonrpc::error_codes::backend_unavailable, "session ended"));
      it->second->events.close();
      calls_.erase(it);
    }
    json::object params{{"requestId", id}, {"reason", "client session ended"}};
    send(message::notification("notifications/cancelled", std::move(params)));
  }
}

void backend_session::notify(const message& notification) {
  send(notification);
}

void backend_session::route_request_to(rpc::client_key client, message& request) {
  router_.on_backend_request(client, request);
}

bool backend_session::answer_from_client(rpc::client_key client, message response) {
  if (!router_.on_client_response(client, response)) return false;
  send(response);
  return true;
}

void backend_session::reply(message response) {
  send(response);
}

awaitable<boost::system::result<json::object, backend_failure>> backend_session::initialize(
    json::object params, std::chrono::milliseconds timeout) {
  using transport::link_error;
  const std::string who = "backend " + server_.name;
  auto pc = call(proxy_client_key, message::request(0, "initialize", std::move(params)));
  initialize_id_ = pc->backend_id;
  auto deadline = util::async_queue<message>::clock::now() + timeout;
  for (;;) {
    auto ev = co_await pc->events.pop(deadline);
    if (!ev) {
      abandon(*pc, "initialize timed out");
      co_return backend_failure{link_error::timed_out, who + ": no answer to initialize within " +
                                                           std::to_string(timeout.count()) + " ms"};
    }
    if (!ev->is_response()) continue;
    if (auto* err = ev->error()) {
      // The link ended (its cause says why), or the server answered with an error.
      boost::system::error_code cause = link_error::refused;
      if (!alive_) cause = link_->end_cause();
      co_return backend_failure{cause, who + ": initialize failed: " + json::serialize(*err)};
    }
    auto* result = ev->result()->if_object();
    if (!result)
      co_return backend_failure{link_error::bad_answer,
                                who + ": initialize result is not an object"};
    auto* version = result->if_contains("protocolVersion");
    if (!version || !version->is_string())
      co_return backend_failure{link_error::bad_answer,
                                who + ": initialize result has no protocolVersion"};
    link_->set_protocol_version(version->as_string());
    send(message::notification("notifications/initialized"));
    co_return *result;
  }
}

awaitable<void> backend_session::read_loop([[maybe_unused]] std::shared_ptr<backend_session> self) {
  while (auto in = co_await link_->receive()) {
    if (in->session_renewed) {
      spdlog::info("backend {}: new session", server_.name);
      if (handlers_.on_renewed) handlers_.on_renewed();
      continue;
    }
    trace_body(server_.name, "backend -> proxy", in->text);
    if (auto& m = protocol::metrics::metrics(); m.on())
      m.backend_received(metrics_id_, in->text.size());
    if (in->rest) {
      // The head of an answer whose rest is still arriving (the link checked the head).
      if (auto head = jsonrpc::scan_response_head(in->text)) {
        dispatch(message::streamed(std::move(in->text), head->id_at, head->id_size,
                                   std::move(head->id), std::move(in->rest)),
                 in->in_reply_to);
        continue;
      }
      in->rest->fail("its head could not be read");
    }
    auto parsed = jsonrpc::parse_taking(in->text);  // a response relayed as is takes the text
    if (!parsed) {
      if (junk_lines_.allow(util::line_budget::clock::now())) {
        report_junk_suppressed();
        spdlog::warn("backend {}: ignoring a message that is not JSON-RPC ({}): {}", server_.name,
                     parsed.error().reason, preview(in->text));
      }
      answer_unreadable(in->text, parsed.error().reason, in->in_reply_to);
      continue;
    }
    dispatch(std::move(*parsed), in->in_reply_to);
  }
  report_junk_suppressed();
  fail_all("backend " + server_.name + " " + link_->end_reason());
}

void backend_session::report_junk_suppressed() {
  if (auto suppressed = junk_lines_.take_suppressed())
    spdlog::warn(
        "backend {}: suppressed {} more messages that are not JSON-RPC (over "
        "logLinesPerSecond {})",
        server_.name, suppressed, server_.log_lines_per_second);
}

void backend_session::answer_unreadable(std::string_view text, std::string_view why,
                                        const json::value& in_reply_to) {
  // Its id may still be readable (a result nested too deep): the call it answers fails now
  // instead of at its deadline, and a request of the backend gets its error.
  const auto outline = jsonrpc::outline_of(text);
  if (outline.is_response)
    dispatch(message::error_response(
                 outline.id, jsonrpc::error_codes::backend_unavailable,
                 "backend " + server_.name + ": its answer could not be read: " + std::string(why)),
             in_reply_to);
  else if (outline.is_request)
    send(message::error_response(outline.id, jsonrpc::error_codes::parse_error,
                                 "Parse error: " + std::string(why)));
}

backend_session::related_call backend_session::call_of(const json::value& id) const {
  if (!id.is_int64()) return nullptr;
  auto it = calls_.find(id.get_int64());
  if (it == calls_.end() || it->second->client == proxy_client_key) return nullptr;
  return it->second;
}

void backend_session::dispatch(message m, const json::value& in_reply_to) {
  if (m.is_response()) {
    boost::system::error_code ec;
    const auto backend_id = m.id() ? m.id()->to_number<std::int64_t>(ec) : 0;
    if (!m.id() || ec || !router_.on_backend_response(m)) {
      spdlog::debug("backend {}: dropping a response to no call in flight", server_.name);
      return;
    }
    if (auto it = calls_.find(backend_id); it != calls_.end()) {
      if (handlers_.on_answer) handlers_.on_answer(*it->second, m);
      if (auto& metrics = protocol::metrics::metrics();
          metrics.on() && it->second->sent_at != std::chrono::steady_clock::time_point{})
        metrics.backend_answered(metrics_id_, it->second->metrics_method,
                                 std::chrono::steady_clock::now() - it->second->sent_at);
      it->second->events.push(std::move(m));
      it->second->events.close();
      calls_.erase(it);
    }
    return;
  }
  if (m.is_notification() && m.method() == "notifications/progress") {
    if (auto target = router_.on_backend_progress(m)) {
      if (auto it = calls_.find(target->backend_id); it != calls_.end()) {
        it->second->events.push(std::move(m));
        return;
      }
    }
    spdlog::debug("backend {}: progress for no call in flight dropped", server_.name);
    return;
  }
  if (m.is_notification() && m.method() == "notifications/cancelled") {
    // About a request the backend sent to one client: only that client, with its id. Anything
    // else (a request of nobody's, or already answered) concerns no client.
    if (auto client = router_.on_backend_cancelled(m); client && handlers_.on_cancelled_for)
      handlers_.on_cancelled_for(*client, std::move(m));
    else
      spdlog::debug("backend {}: a cancellation of no request waiting for a client", server_.name);
    return;
  }
  if (m.is_notification()) {
    if (handlers_.on_notification) handlers_.on_notification(std::move(m), call_of(in_reply_to));
    return;
  }
  if (handlers_.on_request) handlers_.on_request(std::move(m), call_of(in_reply_to));
}

std::optional<protocol::era> backend_session::detected_era() const {
  return link_ ? link_->detected_era() : std::nullopt;
}

void backend_session::fail_all(std::string_view why) {
  if (!alive_) return;
  alive_ = false;
  end_reason_ = std::string(why);
  if (stopping_ && calls_.empty())
    spdlog::info("{}", why);
  else
    spdlog::warn("{}; failing {} call(s) in flight", why, calls_.size());
  for (auto& [id, pc] : calls_) {
    router_.forget(id);
    pc->events.push(
        message::error_response(pc->client_id, jsonrpc::error_codes::backend_unavailable, why));
    pc->events.close();
  }
  calls_.clear();
  if (handlers_.on_closed) handlers_.on_closed();
}

awaitable<void> backend_session::stop() {
  if (!link_) co_return;
  stopping_ = true;
  co_await link_->stop();
  fail_all("backend " + server_.name + " stopped");
}

}  // namespace mcp_proxy::backend
