#pragma once
// The client side of MCP's HTTP transports (spec 2025-11-25 basic/transports), as the proxy
// speaks it to its backends, in sans-io pieces: what an answer to a POST is, how an event stream
// that ended early is resumed, how long a kept connection may idle. The link (transport/) does
// the I/O and follows these.
// Thread-safety: plain values and functions.

#include <boost/json/value.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mcp_proxy::protocol {

// What the answer to one POST to a Streamable HTTP server is.
enum class post_answer {
  session_expired,      // 404 to a POST that carried a session: it ended, and did not process it
  not_streamable_http,  // while detecting: a 4xx other than 401/403 to the first request
  accepted,             // 202 or 204: no body is owed (a request then gets no answer at all)
  http_error,           // any other non-2xx (its body may hold a JSON-RPC error)
  json,                 // 2xx application/json: the body is the answer
  event_stream,         // 2xx text/event-stream: related messages, then the response
  bad_content_type,     // 2xx of any other type
};
struct post_facts {
  int status = 200;
  std::string_view content_type;  // the header as sent (parameters allowed)
  bool had_session = false;       // the POST carried Mcp-Session-Id
  // The transport is still being detected: the POST is the first request, no session yet and
  // nothing received (spec 2025-11-25 basic/transports, backwards compatibility: a client falls
  // back to the legacy transport on 400, 404 or 405; 401 and 403 are about credentials).
  bool detecting = false;
};
post_answer classify_post_answer(const post_facts& f);

// Whether a Content-Type header names `media_type`, ignoring parameters and case.
bool media_type_is(std::string_view content_type, std::string_view media_type);

// Whether `text` is the response (result or error) to request `id`.
bool is_response_to(std::string_view text, const boost::json::value& id);

// What is wrong with `answer`, the response to the initialize that started a new session in
// place of an expired one, or "" when it agrees on the old session's `version`.
std::string renewed_session_problem(std::string_view answer, std::string_view version);

// The `timeout=N` (seconds) of a Keep-Alive header (RFC 9112 appendix C.2.2 names the header;
// its parameters are those of the historic draft): how long the server keeps an idle
// connection. Bounded to an hour.
std::optional<std::chrono::seconds> keep_alive_timeout(std::string_view header);

// Resuming an event stream that ended before its response (spec 2025-11-25 basic/transports:
// resumability and redelivery): GET with the last event id the server gave, after the `retry`
// it asked for (capped), a bounded number of times before the call's deadline. Without an id
// there is nothing to resume from.
class resume_policy {
 public:
  using clock = std::chrono::steady_clock;
  static constexpr int max_attempts = 5;
  static constexpr std::chrono::milliseconds default_retry{1000};
  static constexpr std::chrono::milliseconds max_retry{30'000};

  // `cap` bounds the wait a server's retry field asks for (the server key maxRetryWait).
  explicit resume_policy(clock::duration cap = max_retry) : cap_(cap) {}

  // What a stream said before it ended: its last event id (empty: none) and retry field.
  void saw(std::string_view last_event_id, std::optional<long long> retry_ms);
  // The wait before the next attempt, or nullopt to give up (no id, attempts used up, or the
  // deadline passed). Counts the attempt.
  std::optional<clock::duration> next_attempt(clock::time_point now, clock::time_point deadline);
  const std::string& last_event_id() const { return last_id_; }
  clock::duration retry() const { return retry_; }
  void restart() { *this = resume_policy{cap_}; }

 private:
  clock::duration cap_;
  std::string last_id_;
  clock::duration retry_ = std::min<clock::duration>(default_retry, cap_);
  int attempts_ = 0;
};

}  // namespace mcp_proxy::protocol
