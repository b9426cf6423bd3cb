#pragma once
// 2026-07-28 ("modern") clients of the stdio frontend (spec 2026-07-28 basic/transports/stdio): a
// request whose _meta names its protocol version is checked (protocol::check_modern_request,
// without headers) and served by modern_calls, its progress, log messages and answer written to
// stdout as they come, concurrently with other requests; `notifications/cancelled` for it
// cancels it (stdio has no stream to close). `subscriptions/listen` writes its acknowledgment
// and its notifications (tagged with its id) to stdout until the client cancels it the same way;
// when stdin ends, each open listen gets its result (subscriptions, graceful closure).
// Thread-safety: the executor. Lifetime: owned by the stdio frontend; stop() before destruction.

#include "core/endpoint.hpp"
#include "frontend/modern_calls.hpp"
#include "frontend/modern_dispatch.hpp"
#include "util/task_group.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <functional>
#include <map>
#include <memory>
#include <string>

namespace mcp_proxy::frontend {

class modern_stdio {
 public:
  // `write` puts one message on stdout (whole lines, one writer).
  modern_stdio(boost::asio::any_io_executor ex, std::function<void(const jsonrpc::message&)> write);
  // Whether `msg` is this class's: a modern request, or a notifications/cancelled of one of its
  // requests or listens.
  bool takes(const jsonrpc::message& msg) const;
  // Serves it (a request runs as a task of its own).
  void handle(std::shared_ptr<core::endpoint> ep, jsonrpc::message msg);
  // stdin ended: open listens end with their result, and every task ends.
  boost::asio::awaitable<void> stop();

 private:
  struct in_flight;  // a request's call, for its cancellation
  boost::asio::awaitable<void> serve(std::shared_ptr<core::endpoint> ep, jsonrpc::message msg);
  boost::asio::awaitable<void> listen(std::shared_ptr<core::endpoint> ep, jsonrpc::message msg);
  void cancel(const std::string& key);

  boost::asio::any_io_executor ex_;
  std::function<void(const jsonrpc::message&)> write_;
  util::task_group tasks_;
  bool stopping_ = false;
  modern_calls calls_;
  // By serialized request id.
  std::map<std::string, std::shared_ptr<in_flight>> requests_;
  std::map<std::string, std::shared_ptr<modern_listen>> listens_;
};

}  // namespace mcp_proxy::frontend
