#include "transport/http_link_base.hpp"

#include "util/spawn.hpp"

#include <spdlog/spdlog.h>

namespace mcp_proxy::transport {

using namespace detail;

namespace {

// ------------------------------------------------------------------------------------------
// Legacy HTTP+SSE (spec 2024-11-05 basic/transports)

class sse_link final : public http_link_base, public std::enable_shared_from_this<sse_link> {
 public:
  sse_link(asio::any_io_executor ex, http_link_options options, target_url url)
      : http_link_base(ex, std::move(options), std::move(url)), endpoint_ready_(ex) {}

  void start() {
    util::spawn_logged(ex_, event_stream(shared_from_this()), options_.name + " event stream");
    util::spawn_logged(ex_, sender(shared_from_this()), options_.name + " sender");
  }

  awaitable<void> stop() override {
    // Closing the event stream ends a legacy session.
    end(link_error::stopped, "stopped");
    co_return;
  }

 protected:
  void on_end() override { endpoint_ready_.close(); }

 private:
  awaitable<void> event_stream([[maybe_unused]] std::shared_ptr<sse_link> self) {
    request req = make_request(bhttp::verb::get, url_, "", "text/event-stream");
    // End reasons reach clients (in the errors of calls in flight): no URL in them, the log has
    // the details.
    auto conn = co_await write_request(url_, req);
    if (!conn) {
      log_unsent(conn.error());
      if (conn.error().starts_with(token_failure_prefix))
        end(link_error::unreachable, "was not reached: " + conn.error());
      else
        end(link_error::unreachable, "is unreachable");
      co_return;
    }
    auto header = co_await read_header(**conn, clock_type::now() + connect_timeout);
    if (!header) {
      spdlog::warn("backend {}: GET {}: {}", options_.name, url_.shown, header.error());
      end(link_error::unreachable, "did not answer the event stream request");
      co_return;
    }
    response_parser& p = **header;
    // A refused token is dropped: the owner's reconnect gets a new one.
    token_refused(req[bhttp::field::authorization], p.get().result_int());
    if (p.get().result_int() != 200 || !content_type_is(p, "text/event-stream")) {
      spdlog::warn("backend {}: GET {} answered {} ({}), not an event stream", options_.name,
                   url_.shown, status_text(p), std::string(p.get()[bhttp::field::content_type]));
      end(link_error::bad_answer, "answered " + status_text(p) + " instead of an event stream");
      co_return;
    }
    sse_decoder decoder(options_.max_message_bytes);
    std::function<void(const sse_event&)> on_event = [&](const sse_event& ev) {
      if (ev.type == "endpoint") take_endpoint(ev.data);
    };
    auto err = co_await pump_events(**conn, p, decoder, clock_type::time_point::max(), on_event);
    (*conn)->close();
    end(link_error::stream_closed,
        err.empty() ? "closed its event stream" : "event stream failed: " + err);
  }

  void take_endpoint(std::string_view ref) {
    auto t = protocol::resolve_endpoint(ref, options_.url, url_);
    if (!t) {
      end(link_error::bad_answer, t.error());
      return;
    }
    post_url_ = std::move(*t);
    if (!have_endpoint_) {
      have_endpoint_ = true;
      endpoint_ready_.push(true);
    }
  }

  awaitable<void> sender([[maybe_unused]] std::shared_ptr<sse_link> self) {
    auto ready = co_await endpoint_ready_.pop(clock_type::now() + options_.timeout);
    if (!ready) {
      if (!ended_)
        end(link_error::timed_out,
            "sent no endpoint event within " + std::to_string(options_.timeout.count()) + " ms");
      co_return;
    }
    // Written in order by this one sender; a request's acknowledgement is read in the
    // background (its answer comes on the event stream anyway), a notification's or response's
    // before the next message, as for Streamable HTTP.
    while (auto m = co_await outgoing_.pop()) {
      json::value id;
      if (m->is_request() && m->id()) id = *m->id();
      const bool is_request = m->is_request();
      posted post{std::move(id), jsonrpc::serialize(*m), {}, false};
      auto conn = co_await send_post(post);
      if (!conn) continue;
      if (is_request)
        util::spawn_logged(ex_, acknowledgement(self, std::move(conn), std::move(post)),
                           options_.name + " POST");
      else
        co_await acknowledgement(self, std::move(conn), std::move(post));
    }
  }

  // A message POSTed: its id (null unless a request), and, with client credentials, its text
  // and Authorization value, kept to send it once more after a 401.
  struct posted {
    json::value id;
    std::string body;
    std::string authorization;
    bool retried = false;
  };

  // Writes `post`; null (after failing a request) when it could not be sent.
  awaitable<std::shared_ptr<http_conn>> send_post(posted& post) {
    std::string body;
    if (has_credentials() && !post.retried)
      body = post.body;  // kept for one more try
    else
      body = std::move(post.body);
    request req = make_request(bhttp::verb::post, post_url_, std::move(body),
                               "application/json, text/event-stream");
    auto conn = co_await write_request(post_url_, req);
    post.authorization = std::string(req[bhttp::field::authorization]);
    if (!conn) {
      if (ended_) co_return nullptr;
      log_unsent(conn.error());
      if (!post.id.is_null()) fail_unsent(post.id, conn.error(), "could not deliver the request");
      co_return nullptr;
    }
    co_return std::move(*conn);
  }

  // Reads a POST's answer: 2xx is all there is to it; 401 with client credentials sends it once
  // more with a new token; otherwise the request (when `id` is not null) fails, and 404 means the
  // session is gone.
  awaitable<void> acknowledgement(std::shared_ptr<sse_link> self, std::shared_ptr<http_conn> conn,
                                  posted post) {
    const json::value& id = post.id;
    auto header = co_await read_header(*conn, clock_type::now() + options_.timeout);
    if (!header) {
      if (ended_) co_return;
      spdlog::warn("backend {}: {}", options_.name, header.error());
      if (!id.is_null()) fail_request(id, "could not deliver the request");
      co_return;
    }
    response_parser& p = **header;
    auto body =
        co_await read_whole_body(*conn, p, max_error_body, clock_type::now() + control_timeout);
    if (body) release(std::move(conn), p);
    const int status = p.get().result_int();
    if (status / 100 == 2 || ended_) co_return;  // the answer comes on the event stream
    if (token_refused(post.authorization, status) && !post.retried && !post.body.empty()) {
      spdlog::info("backend {}: POST answered HTTP 401; sending it again with a new access token",
                   options_.name);
      post.retried = true;
      auto again = co_await send_post(post);
      if (again) co_await acknowledgement(self, std::move(again), std::move(post));
      co_return;
    }
    if (status == 404) {
      end(link_error::session_expired, "ended the session (HTTP 404)");
      co_return;
    }
    spdlog::warn("backend {}: POST answered {}", options_.name, status_text(p));
    if (id.is_null()) co_return;
    if (body && protocol::is_response_to(*body, id))
      deliver(std::move(*body));
    else
      fail_request(id, "could not deliver the request");
  }

  target_url post_url_;
  bool have_endpoint_ = false;
  util::async_queue<bool> endpoint_ready_;
};

}  // namespace

namespace detail {

std::shared_ptr<message_link> start_sse_link(asio::any_io_executor ex, http_link_options options,
                                             target_url url) {
  auto sse = std::make_shared<sse_link>(ex, std::move(options), std::move(url));
  sse->load_tls_settings();  // checked when the first link was made
  sse->start();
  return sse;
}

}  // namespace detail

boost::system::result<std::shared_ptr<message_link>, std::string> make_sse_link(
    asio::any_io_executor ex, http_link_options options) {
  auto url = parse_target(options.url);
  if (!url) return url.error();
  auto link = std::make_shared<sse_link>(ex, std::move(options), std::move(*url));
  if (auto problem = link->load_tls_settings(); !problem.empty()) return problem;
  link->start();
  return link;
}

}  // namespace mcp_proxy::transport
