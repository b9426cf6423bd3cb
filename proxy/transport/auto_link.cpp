// Streamable HTTP first, legacy HTTP+SSE as the fallback (spec 2025-11-25 basic/transports,
// backwards compatibility).

#include "protocol/modern_request.hpp"
#include "transport/http_link_base.hpp"

#include <algorithm>

namespace mcp_proxy::transport::detail {

namespace {

// Streamable HTTP first; legacy SSE when the server refuses it. Messages sent before the
// transport is known are kept and sent again over the fallback.
class auto_link final : public message_link {
 public:
  auto_link(asio::any_io_executor ex, http_link_options options,
            std::shared_ptr<message_link> first)
      : ex_(ex), options_(std::move(options)), first_(first), inner_(std::move(first)) {}

  void send_with_headers(const message& m, const header_list& headers) override {
    remember(m);
    inner_->send_with_headers(m, headers);
  }
  void send(const message& m) override {
    remember(m);
    inner_->send(m);
  }

  awaitable<std::optional<inbound>> receive() override {
    for (;;) {
      auto r = co_await inner_->receive();
      if (!first_) co_return r;
      if (r && answers_probe(*r)) co_return r;
      if (r || first_->end_cause() != link_error::refused_transport) {
        early_.clear();
        first_.reset();  // decided
        co_return r;
      }
      first_.reset();
      auto options = options_;
      options.detect_transport = false;
      auto url = parse_target(options.url);
      inner_ = start_sse_link(ex_, std::move(options), std::move(*url));
      inner_->set_stream_policy(policy_);
      for (auto& m : early_) inner_->send(m);
      early_.clear();
    }
  }

  void set_stream_policy(stream_policy p) override {
    policy_ = p;
    inner_->set_stream_policy(std::move(p));
  }

  awaitable<void> stop() override { co_await inner_->stop(); }
  void kill_now() override { inner_->kill_now(); }
  std::string end_reason() const override { return inner_->end_reason(); }
  boost::system::error_code end_cause() const override { return inner_->end_cause(); }
  std::string describe() const override { return inner_->describe(); }
  void set_protocol_version(std::string_view v) override { inner_->set_protocol_version(v); }

 private:
  // Before the transport is known: what to send again over SSE.
  void remember(const message& m) {
    if (first_) {
      // A 2026-07-28 probe is not sent again, and its answer decides nothing: the spec's
      // dual-era client falls back to initialize first (2026-07-28 basic/versioning).
      if (!protocol::outgoing_headers_of(m))
        early_.push_back(m);
      else if (m.id())
        probes_.push_back(*m.id());
    }
  }
  // An answer to a probe (which decides nothing about the transport).
  bool answers_probe(const inbound& in) const {
    if (probes_.empty()) return false;
    auto m = jsonrpc::parse(in.text);
    return m && m->is_response() && m->id() &&
           std::find(probes_.begin(), probes_.end(), *m->id()) != probes_.end();
  }

  asio::any_io_executor ex_;
  http_link_options options_;
  std::shared_ptr<message_link> first_;  // until the transport is known
  std::shared_ptr<message_link> inner_;
  stream_policy policy_;
  std::vector<message> early_;
  std::vector<json::value> probes_;  // ids of the 2026-07-28 requests sent before the decision
};

}  // namespace

std::shared_ptr<message_link> make_auto_link(asio::any_io_executor ex, http_link_options options,
                                             std::shared_ptr<message_link> first) {
  return std::make_shared<auto_link>(ex, std::move(options), std::move(first));
}

}  // namespace mcp_proxy::transport::detail
