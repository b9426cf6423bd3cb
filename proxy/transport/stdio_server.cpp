#include "transport/stdio_server.hpp"

#include "util/async_queue.hpp"
#include "util/spawn.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>

#include <cstdio>
#include <iostream>
#include <thread>

namespace mcp_proxy::transport {

namespace asio = boost::asio;
using asio::awaitable;
using jsonrpc::message;
namespace codes = jsonrpc::error_codes;

namespace {

// One writer, on the executor: a line is written whole before the next one starts.
void write_message(const message& m) {
  std::string line = jsonrpc::serialize(m);
  line.push_back('\n');
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fflush(stdout);
}

struct stdio_state {
  std::shared_ptr<core::endpoint> ep;
  std::shared_ptr<core::client_session> session;
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

awaitable<void> handle_line(asio::any_io_executor ex, std::shared_ptr<stdio_state> st,
                            std::string line) {
  auto parsed = jsonrpc::parse(line);
  if (!parsed) {
    write_message(jsonrpc::to_error_response(parsed.error()));
    co_return;
  }
  message msg = std::move(*parsed);
  if (!st->session || st->session->ended) {
    if (msg.is_request() && msg.method() == "initialize") {
      auto outcome = co_await st->ep->initialize(std::move(msg), {});
      write_message(outcome.reply);
      if (outcome.session) {
        st->session = outcome.session;
        util::spawn_logged(ex, relay_outbox(st->session), "stdio outbox");
      }
    } else if (msg.is_request()) {
      write_message(message::error_response(*msg.id(), codes::invalid_request,
                                            "the session is not initialized: send initialize"));
    }
    co_return;
  }
  if (msg.is_notification()) {
    st->ep->on_notification(*st->session, msg);
  } else if (msg.is_response()) {
    st->ep->on_response(*st->session, std::move(msg));
  } else {
    auto outcome = co_await st->ep->on_request(st->session, std::move(msg));
    if (auto* now = std::get_if<message>(&outcome))
      write_message(*now);
    else
      util::spawn_logged(ex, relay_call(st, std::get<core::call_started>(outcome)), "stdio call");
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
  auto st = std::make_shared<stdio_state>();
  st->ep = ep;
  while (auto line = co_await lines->pop()) co_await handle_line(ex, st, std::move(*line));
  spdlog::info("stdin closed; ending the session");
  if (st->session) co_await ep->end_session(st->session);
}

}  // namespace mcp_proxy::transport
