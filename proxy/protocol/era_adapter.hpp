#pragma once
// A backend of the 2026-07-28 ("modern") era behind a proxy whose core speaks 2025-11-25: this
// class decides, message by message, what the backend gets and what the core hears back, so the
// core keeps its one session with each backend whatever the backend's era (sans-io; the
// transport::era_link carries out its actions).
//
// Era detection (spec 2026-07-28 basic/versioning, backward compatibility): the core's
// `initialize` is held, and `server/discover` goes first with the same client's _meta. A
// DiscoverResult means modern; any other answer, or none within the probe time, means legacy:
// the held initialize goes to the backend, and from then on every message passes unchanged
// (requests only lose the modern _meta keys a 2026-07-28 client's request may carry).
//
// A modern backend:
// - `initialize` is answered from server/discover (capabilities, serverInfo, instructions);
//   notifications/initialized and roots/list_changed (removed in 2026-07-28) are dropped; ping
//   becomes a server/discover;
// - each request carries the per-request _meta (basic/index): the protocol version, the
//   capabilities and clientInfo of the client the request is for (the core says which, as in
//   shared mode one session serves many clients; else those of the initialize), and the level
//   of logging/setLevel (which is answered here). A request that already carries a 2026-07-28
//   client's own _meta keeps it, and its answers (input_required included) go back as they
//   are: that client speaks the era;
// - an `input_required` result to any other request (basic/patterns/mrtr) becomes real
//   requests to the core (sampling, elicitation, roots/list: the core routes them to the
//   client of the call), and their answers go back as `inputResponses` on a retry with a new id
//   and the backend's `requestState`, until the result is complete (at most max_rounds);
// - resources/subscribe and unsubscribe are answered here, and one `subscriptions/listen`
//   (basic/patterns/subscriptions) carries the list_changed notifications the backend declares
//   and the subscribed URIs' updates; it is opened again (a new one first) when the set changes;
// - `resultType: "complete"` is removed from answers to requests made here (the core's clients
//   are 2025-11-25 ones); the listen's subscriptionId tag is removed from its notifications.
// Thread-safety: none (one owner, one executor).

#include "jsonrpc/message.hpp"
#include "protocol/declared_client.hpp"
#include "protocol/param_headers.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace mcp_proxy::protocol {

class era_adapter {
 public:
  enum class verdict { unknown, modern, legacy };
  // How the era is found: detect (server/discover, then initialize), or fixed by the config.
  enum class mode { detect, modern, legacy };
  // Rounds of input one call may take before it is failed (a backend that keeps asking).
  static constexpr int max_rounds = 16;

  explicit era_adapter(mode m);

  // What to do after a message: send these to the backend, hand these to the core (as if the
  // backend sent them; `in_reply_to` is the core's id of the call they belong to, or null),
  // and the timers to start.
  struct for_core {
    jsonrpc::message m;
    boost::json::value in_reply_to;
  };
  struct actions {
    std::vector<jsonrpc::message> to_backend;
    std::vector<for_core> to_core;
    bool start_probe_timer = false;    // call on_probe_timeout() when it fires
    bool reopen_listen_later = false;  // call reopen_listen() after a pause
    // The Mcp-Param-* headers of the tools/call in to_backend (for an HTTP backend): its
    // arguments marked x-mcp-header in the tools/list answers seen (streamable-http, custom
    // headers).
    sent_headers call_headers;
  };

  verdict current() const { return verdict_; }

  // A message from the core for the backend; `client`: the client a request is for, whose
  // capabilities and clientInfo its _meta carries (null: those of the initialize).
  actions on_send(const jsonrpc::message& m, const declared_client* client = nullptr);
  // A message from a modern backend (or during detection); `in_reply_to` is what the transport
  // said (the id of the request whose stream carried it), or null.
  actions on_receive(jsonrpc::message m, const boost::json::value& in_reply_to);
  // No answer to the probe in time: legacy (only while detecting).
  actions on_probe_timeout();
  // The listen ended earlier (reopen_listen_later) and its pause is over.
  actions reopen_listen();
  // The backend was replaced while detecting (a legacy server that exits on a request before
  // initialize): legacy, and the held initialize goes to the new one.
  actions on_backend_restarted();
  // Whether the backend should be started again for on_backend_restarted (detection ended the
  // backend: it exited while the probe was out).
  bool probing() const { return probe_.has_value(); }

  // A request the core sends to a legacy backend: without the modern _meta keys a 2026-07-28
  // client's request carries (nullopt: send it unchanged).
  static std::optional<jsonrpc::message> for_legacy_backend(const jsonrpc::message& m);
  // The request id the proxy gives its own requests (discover, listen, retries, input).
  static bool is_own_id(const boost::json::value& id);

 private:
  struct call {
    boost::json::value core_id;
    boost::json::value backend_id;  // the core's id, or one of ours for a retry
    jsonrpc::message request;       // as the backend got it (retries add the input to it)
    bool bridged = true;  // false: a 2026-07-28 client's own request (answers as they are)
    int rounds = 0;
  };
  // One round of input: the core's answers to the requests made of the backend's inputRequests.
  struct input_round {
    boost::json::value core_id;
    jsonrpc::message request;
    std::optional<std::string> request_state;
    std::map<std::string, std::string> key_of_id;  // own request id -> inputRequests key
    boost::json::object responses;
    int rounds = 0;
  };

  actions start_modern(const boost::json::object& discover, actions out);
  actions fall_back_to_legacy(actions out);
  boost::json::object request_meta(const declared_client* client = nullptr) const;
  jsonrpc::message with_meta(const jsonrpc::message& m, const declared_client* client) const;
  std::string next_id(std::string_view kind);
  void send_call(actions& out, const boost::json::value& core_id, jsonrpc::message request,
                 bool bridged, int rounds);
  void answer_core(actions& out, const boost::json::value& id, boost::json::value result);
  void fail_core(actions& out, const boost::json::value& id, std::int64_t code,
                 std::string_view text);
  void on_answer(actions& out, call c, jsonrpc::message m);
  void ask_core(actions& out, call c, const boost::json::object& result);
  void on_input_answer(actions& out, const std::string& own_id, jsonrpc::message m);
  void cancel(actions& out, const boost::json::value& core_id);
  void update_listen(actions& out);
  void on_listen_event(actions& out, jsonrpc::message m);

  mode mode_;
  verdict verdict_ = verdict::unknown;
  std::uint64_t counter_ = 0;
  // Detection: the core's initialize, held until the probe is answered.
  std::optional<jsonrpc::message> probe_;
  std::string probe_id_;
  // What the core's initialize said (capabilities, clientInfo) and the level it set.
  boost::json::object client_capabilities_, client_info_;
  std::string requested_version_;
  std::optional<std::string> log_level_;
  boost::json::object server_capabilities_;
  // Requests at the backend, by the id the backend got (serialized JSON).
  std::map<std::string, call, std::less<>> calls_;
  std::map<std::string, input_round, std::less<>> rounds_;          // by the core's id (serialized)
  std::map<std::string, std::string, std::less<>> round_of_input_;  // own input id -> core id
  std::map<std::string, boost::json::value, std::less<>> pings_;    // by own id (serialized)
  // subscriptions/listen: the URIs subscribed, and the listen that carries them.
  std::set<std::string> subscribed_;
  std::string listen_id_;
  boost::json::object listen_filter_;
  bool listen_failed_ = false;
  // The x-mcp-header marks of the backend's tools, from the tools/list answers it gave.
  std::map<std::string, std::vector<param_header>, std::less<>> marks_;
};

}  // namespace mcp_proxy::protocol
