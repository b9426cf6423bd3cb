#include "frontend/stdio_frontend.hpp"

#include "frontend/call_gate.hpp"
#include "frontend/modern_stdio.hpp"
#include "frontend/session_dispatch.hpp"
#include "protocol/log_text.hpp"
#include "protocol/proxy_metrics.hpp"
#include "util/async_queue.hpp"
#include "util/spawn.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>

#include <cstdio>
#include <iostream>
#include <thread>

namespace mcp_proxy::frontend {

namespace asio = boost::asio;
using asio::awaitable;
using jsonrpc::message;
namespace codes = jsonrpc::error_codes;

namespace {

// One writer, on the executor: a line is written whole before the next one starts.
void write_message(const message& m) {
  std::string line = jsonrpc::serialize(m);
  if (spdlog::should_log(spdlog::level::trace))
    spdlog::trace("proxy -> client: {}", protocol::body_excerpt(line));
  line.push_back('\n');
  if (auto& m = protocol::metrics::metrics(); m.on()) m.client_sent(line.size());
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fflush(stdout);
}

struct stdio_state {
  explicit stdio_state(asio::any_io_executor ex) : modern(ex, write_message) {}
  std::shared_ptr<core::endpoint> ep;
  std::shared_ptr<core::client_session> session;  // the 2025-era client's
  modern_stdio modern;                            // 2026-07-28 requests, each on its own
};

// Streams one call's events to stdout until its response (or its cancellation).
awaitable<void> relay_call(std::shared_ptr<stdio_state> st, core::call_started cs) {
  while (auto ev = co_await st->ep->next_event(*st->session, cs)) {
    write_message(*ev);
    if (ev->is_response()) break;
  }
}

// Messages for the client not tied to a request (the GET stream of HTTP).
awaitable<void> relay_outbox(std::shared_ptr<core::client_session> s) {
  while (auto m = co_await s->outbox.pop()) write_message(*m);
}

awaitable<void> handle_message(asio::any_io_executor ex, std::shared_ptr<stdio_state> st,
                               message msg) {
  if (st->modern.takes(msg)) {
    st->modern.handle(st->ep, std::move(msg));
    co_return;
  }
  if (!st->session || st->session->ended) {
    core::session_narrowing everything;  // stdio serves what it was started for
    everything.limits_key = stdio_limits_key;
    everything.limits_key = stdio_limits_key;
    auto o = co_await open_session(*st->ep, std::move(msg), std::move(everything));
    if (o.error) write_message(*o.error);
    if (!o.opened) co_return;
    write_message(o.opened->reply);
    if (o.opened->session) {
      st->session = o.opened->session;
      st->session->listening = true;  // stdout is always there
      util::spawn_logged(ex, relay_outbox(st->session), "stdio outbox");
    }
    co_return;
  }
  auto d = co_await dispatch(*st->ep, st->session, std::move(msg));
  if (d.answer) write_message(*d.answer);
  if (d.call) util::spawn_logged(ex, relay_call(st, std::move(*d.call)), "stdio call");
}

// One line: a message, or a batch (2025-03-26 and older), answered in the order given.
awaitable<void> handle_line(asio::any_io_executor ex, std::shared_ptr<stdio_state> st,
                            std::string line) {
  if (spdlog::should_log(spdlog::level::trace))
    spdlog::trace("client -> proxy: {}", protocol::body_excerpt(line));
  if (auto& m = protocol::metrics::metrics(); m.on()) m.client_received(line.size());
  auto payload = jsonrpc::parse_payload(line);
  if (!payload) {
    if (payload.error().too_deep)
      spdlog::warn("refused a client message nested deeper than {} levels (mcpProxy.maxJsonDepth)",
                   jsonrpc::max_json_depth());
    write_message(jsonrpc::to_error_response(payload.error()));
    co_return;
  }
  if (payload->is_batch && st->session && !st->session->ended) {
    if (auto why = batch_refusal(*payload, st->session->protocol_version)) {
      write_message(message::error_response(nullptr, codes::invalid_request, *why));
      co_return;
    }
  }
  for (auto& item : payload->items) {
    if (!item)
      write_message(jsonrpc::to_error_response(item.error()));
    else
      co_await handle_message(ex, st, std::move(*item));
  }
}

}  // namespace

std::shared_ptr<util::async_queue<std::string>> read_stdin_lines(asio::any_io_executor ex) {
  // A blocking reader thread: stdin may be a pipe, a terminal or a file, and only a thread reads
  // all three. Lines reach the executor in order through the queue.
  auto lines = std::make_shared<util::async_queue<std::string>>(ex);
  std::thread reader([ex, lines] {
    std::string line;
    while (std::getline(std::cin, line)) {
      if (line.empty()) continue;
      asio::post(ex, [lines, l = std::move(line)]() mutable { lines->push(std::move(l)); });
    }
    asio::post(ex, [lines] { lines->close(); });
  });
  reader.detach();  // ends with stdin; the process may exit first
  return lines;
}

awaitable<void> serve_stdio(asio::any_io_executor ex, std::shared_ptr<core::endpoint> ep,
                            std::shared_ptr<util::async_queue<std::string>> lines) {
  auto st = std::make_shared<stdio_state>(ex);
  st->ep = ep;
  while (auto line = co_await lines->pop()) co_await handle_line(ex, st, std::move(*line));
  spdlog::info("stdin closed; ending the session");
  co_await st->modern.stop();
  if (st->session) co_await ep->end_session(st->session);
}

}  // namespace mcp_proxy::frontend
