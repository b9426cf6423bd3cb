#include "protocol/input_bridge.hpp"

#include <boost/json.hpp>

namespace mcp_proxy::protocol {

namespace json = boost::json;
using jsonrpc::message;

namespace {

// What a retry must name again: the tool or prompt name, or the resource URI.
std::string item_of(const message& m) {
  const auto* params = m.params_object();
  if (!params) return {};
  const auto* v = params->if_contains(m.method() == "resources/read" ? "uri" : "name");
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

// A readable key for the input request of one round: "sampling-3", "elicitation-4",
// "roots-5" (keys are the server's choice, mrtr: InputRequests).
std::string key_for(std::string_view method, std::uint64_t round) {
  std::string_view kind = method == "sampling/createMessage" ? "sampling"
                          : method == "elicitation/create"   ? "elicitation"
                          : method == "roots/list"           ? "roots"
                                                             : "input";
  return std::string(kind) + "-" + std::to_string(round);
}

}  // namespace

bool input_bridge::may_suspend(std::string_view method) {
  // mrtr, supported requests: only these three may answer input_required.
  return method == "tools/call" || method == "prompts/get" || method == "resources/read";
}

bool input_bridge::is_retry(const message& request) {
  const auto* params = request.params_object();
  return params && (params->contains("requestState") || params->contains("inputResponses"));
}

json::object input_bridge::input_required(const entry& e) const {
  return json::object{{"resultType", "input_required"},
                      {"inputRequests", json::object{{e.key, e.input_request}}},
                      {"requestState", e.token}};
}

std::optional<input_bridge::suspended> input_bridge::suspend(std::string_view scope,
                                                             const message& client_request,
                                                             const message& backend_request,
                                                             clock::time_point deadline) {
  if (!may_suspend(client_request.method()) || calls_.size() >= max_suspended_ ||
      !backend_request.is_request())
    return std::nullopt;
  entry e;
  e.token = make_token_();
  e.scope = std::string(scope);
  e.method = std::string(client_request.method());
  e.item = item_of(client_request);
  e.key = key_for(backend_request.method(), next_);
  e.backend_id = *backend_request.id();
  json::object request{{"method", backend_request.method()}};
  if (const auto* params = backend_request.params_object()) {
    json::object p = *params;
    p.erase("_meta");  // the backend's own request metadata is not the client's business
    request["params"] = std::move(p);
  } else {
    request["params"] = json::object{};
  }
  e.input_request = std::move(request);
  e.deadline = deadline;
  const ticket t = next_++;
  by_token_[e.token] = t;
  suspended out{t, input_required(e)};
  calls_.emplace(t, std::move(e));
  return out;
}

std::optional<json::object> input_bridge::pass_through(std::string_view scope,
                                                       const message& client_request,
                                                       json::object result,
                                                       clock::time_point deadline) {
  if (calls_.size() >= max_suspended_) return std::nullopt;
  entry e;
  e.token = make_token_();
  e.scope = std::string(scope);
  e.method = std::string(client_request.method());
  e.item = item_of(client_request);
  e.deadline = deadline;
  e.forwarded = true;
  if (const auto* state = result.if_contains("requestState"); state && state->is_string())
    e.backend_state = std::string(state->get_string());
  result["requestState"] = e.token;
  const ticket t = next_++;
  by_token_[e.token] = t;
  calls_.emplace(t, std::move(e));
  return result;
}

input_bridge::retry_outcome input_bridge::on_retry(std::string_view scope, const message& retry,
                                                   clock::time_point now) {
  retry_outcome out;
  const auto* params = retry.params_object();
  const auto* state = params ? params->if_contains("requestState") : nullptr;
  if (!state || !state->is_string()) {
    out.error = "Invalid params: inputResponses without the requestState they answer";
    return out;
  }
  auto found = by_token_.find(std::string_view(state->get_string()));
  if (found == by_token_.end()) {
    out.error = "Invalid params: requestState is unknown, already used or expired";
    return out;
  }
  const ticket t = found->second;
  by_token_.erase(found);  // single use, whatever follows
  auto& e = calls_.at(t);
  if (e.deadline <= now) {
    out.error = "Invalid params: requestState is unknown, already used or expired";
    return out;  // left for expire(), which tells the caller to end the call
  }
  if (scope != e.scope || retry.method() != e.method || item_of(retry) != e.item) {
    // A state is bound to its request (mrtr, server requirements 5): the call stays suspended
    // for a retry that names it, under a new state.
    e.token = make_token_();
    by_token_[e.token] = t;
    out.error = "Invalid params: requestState belongs to another request";
    return out;
  }
  if (e.forwarded) {
    out.what = retry_outcome::kind::forward;
    out.id = t;
    out.backend_state = std::move(e.backend_state);
    calls_.erase(t);
    return out;
  }
  const auto* responses = params->if_contains("inputResponses");
  const auto* input =
      responses && responses->is_object() ? responses->get_object().if_contains(e.key) : nullptr;
  if (!input || !input->is_object()) {
    // mrtr, error handling: missing input is asked for again rather than failed.
    e.token = make_token_();
    by_token_[e.token] = t;
    out.what = retry_outcome::kind::ask_again;
    out.id = t;
    out.result = input_required(e);
    return out;
  }
  out.what = retry_outcome::kind::resume;
  out.id = t;
  out.backend_id = std::move(e.backend_id);
  out.input = *input;
  calls_.erase(t);
  return out;
}

std::vector<input_bridge::expired> input_bridge::expire(clock::time_point now) {
  std::vector<expired> gone;
  for (auto it = calls_.begin(); it != calls_.end();) {
    if (it->second.deadline > now) {
      ++it;
      continue;
    }
    by_token_.erase(it->second.token);
    if (!it->second.forwarded) gone.push_back({it->first, it->second.backend_id});
    it = calls_.erase(it);
  }
  return gone;
}

void input_bridge::forget(ticket t) {
  auto it = calls_.find(t);
  if (it == calls_.end()) return;
  by_token_.erase(it->second.token);
  calls_.erase(it);
}

std::optional<input_bridge::clock::time_point> input_bridge::next_deadline() const {
  std::optional<clock::time_point> first;
  for (const auto& [t, e] : calls_)
    if (!first || e.deadline < *first) first = e.deadline;
  return first;
}

}  // namespace mcp_proxy::protocol
