#pragma once
// Multi round-trip requests (spec 2026-07-28 basic/patterns/mrtr) for 2026-07-28 clients of
// 2025-11-25 backends: a backend request raised during a client's call (sampling, elicitation,
// roots/list) becomes an `input_required` result with one input request and a requestState; the
// call stays suspended, its backend request unanswered, until the client retries the same
// request with `inputResponses` and that requestState. Then the backend request gets the
// client's input as its result, and the call goes on. A client that never retries leaves the
// suspended call to expire at its deadline.
// The table of suspended calls, the tokens and the checks of a retry live here (sans-io); the
// frontend keeps each suspended call's session and call under the ticket this table gives it.
// requestState is a random 128-bit token, single use, bound to the route (`scope`), the method
// and the item (tool/prompt name, resource URI) of the request that was suspended: a tampered,
// replayed, foreign or expired one is refused (mrtr, server requirements 4 and 5).
// Thread-safety: none (one owner, one executor).

#include "jsonrpc/message.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mcp_proxy::protocol {

class input_bridge {
 public:
  using clock = std::chrono::steady_clock;
  using ticket = std::uint64_t;

  // `make_token`: an unguessable string (the frontend gives 128 random bits).
  explicit input_bridge(std::function<std::string()> make_token, std::size_t max_suspended = 1000)
      : make_token_(std::move(make_token)), max_suspended_(max_suspended) {}

  // Whether a modern request may be answered with input_required (mrtr, supported requests).
  static bool may_suspend(std::string_view method);
  // Whether a request is a retry: it carries requestState or inputResponses.
  static bool is_retry(const jsonrpc::message& request);

  // A backend request `backend_request` arrived during the call of `client_request` (the
  // client's own request, as it was sent): the result to answer the client with, and the
  // ticket the caller keeps the call under. nullopt when the call cannot be suspended (not a
  // method that may be, or the table is full): the caller refuses the backend request.
  struct suspended {
    ticket id = 0;
    boost::json::object result;  // resultType input_required, inputRequests, requestState
  };
  std::optional<suspended> suspend(std::string_view scope, const jsonrpc::message& client_request,
                                   const jsonrpc::message& backend_request,
                                   clock::time_point deadline);

  // A 2026-07-28 backend's own input_required answer to `client_request` (a 2026-07-28
  // client's, which gets it as it is: the backend's inputRequests and keys): the result with a
  // requestState of ours in place of the backend's, bound like the others, which a retry
  // trades back (retry_outcome::forward). nullopt when the table is full.
  std::optional<boost::json::object> pass_through(std::string_view scope,
                                                  const jsonrpc::message& client_request,
                                                  boost::json::object result,
                                                  clock::time_point deadline);
  // How long a passed-through state stays valid (the backend's call is over meanwhile).
  static constexpr std::chrono::minutes pass_through_life{10};

  // A retry: `resume` (the ticket, no longer suspended, with the backend request's id and the
  // client's input, its result), `ask_again` (the input is missing: a new input_required for
  // the same call, which stays suspended under the same ticket), `forward` (a passed-through
  // state: the retry goes to the backend as a new request with `backend_state`, or with none),
  // or `refuse` (an error for the client: unknown, used or expired state, or a request other
  // than the one suspended).
  struct retry_outcome {
    enum class kind { resume, ask_again, forward, refuse } what = kind::refuse;
    ticket id = 0;
    boost::json::value backend_id;  // resume: the backend request the input answers
    boost::json::value input;       // resume: the client's input, the backend request's result
    boost::json::object result;     // ask_again: the new input_required result
    std::string error;              // refuse: the -32602 message
    std::optional<std::string> backend_state;  // forward: the backend's requestState
  };
  retry_outcome on_retry(std::string_view scope, const jsonrpc::message& retry,
                         clock::time_point now);

  // Calls whose deadline passed (forgotten here): the caller refuses their backend requests and
  // ends them.
  struct expired {
    ticket id = 0;
    boost::json::value backend_id;
  };
  std::vector<expired> expire(clock::time_point now);
  // Forgets a ticket (its call ended another way).
  void forget(ticket t);
  std::optional<clock::time_point> next_deadline() const;
  std::size_t size() const { return calls_.size(); }

 private:
  struct entry {
    std::string token;
    std::string scope, method, item;  // what a retry must repeat
    std::string key;                  // the inputRequests key of the current round
    boost::json::value backend_id;
    boost::json::object input_request;  // {method, params}
    clock::time_point deadline;
    bool forwarded = false;  // pass_through: no suspended call, the backend's state instead
    std::optional<std::string> backend_state;
  };
  boost::json::object input_required(const entry& e) const;

  std::function<std::string()> make_token_;
  std::size_t max_suspended_;
  ticket next_ = 1;
  std::map<ticket, entry> calls_;
  std::map<std::string, ticket, std::less<>> by_token_;
};

}  // namespace mcp_proxy::protocol
