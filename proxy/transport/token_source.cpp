#include "transport/token_source.hpp"

#include "auth/introspection.hpp"
#include "protocol/http_target.hpp"
#include "util/scope_exit.hpp"
#include "util/spawn.hpp"

#include <spdlog/spdlog.h>

#include <map>

namespace mcp_proxy::transport {

namespace asio = boost::asio;
using asio::awaitable;

namespace {

// A failed fetch is not tried again sooner than this: requests meanwhile get its error.
constexpr auto retry_gap = std::chrono::seconds(1);
constexpr auto fetch_timeout = std::chrono::seconds(10);
constexpr std::size_t max_answer_bytes = 64 * 1024;

// Every field that makes the token: links whose credentials differ never share one.
std::string registry_key(const std::string& backend, const config::client_credentials_config& c) {
  std::string key;
  for (const std::string* part : {&backend, &c.token_endpoint, &c.client_id, &c.client_secret,
                                  &c.scope, &c.resource, &c.audience, &c.ca_file}) {
    key += std::to_string(part->size());
    key += ':';
    key += *part;
  }
  return key;
}

std::map<std::string, std::weak_ptr<token_source>>& registry() {
  static std::map<std::string, std::weak_ptr<token_source>> sources;
  return sources;
}

}  // namespace

boost::system::result<std::shared_ptr<token_source>, std::string> token_source::shared_for(
    asio::any_io_executor ex, const std::string& backend,
    const config::client_credentials_config& credentials) {
  auto& sources = registry();
  std::erase_if(sources, [](const auto& kv) { return kv.second.expired(); });
  const auto key = registry_key(backend, credentials);
  if (auto it = sources.find(key); it != sources.end())
    if (auto found = it->second.lock()) return found;
  auto made = std::make_shared<token_source>(ex, backend, credentials);
  if (!credentials.ca_file.empty())
    if (auto problem = made->fetcher_.trust_ca_file(credentials.ca_file))
      return "clientCredentials.caFile " + *problem;
  sources[key] = made;
  return made;
}

token_source::token_source(asio::any_io_executor ex, std::string backend,
                           config::client_credentials_config credentials)
    : ex_(ex),
      backend_(std::move(backend)),
      credentials_(std::move(credentials)),
      basic_(auth::basic_client_credentials(credentials_.client_id, credentials_.client_secret)),
      fetcher_(ex),
      fetched_(ex) {
  auto t = protocol::parse_target(credentials_.token_endpoint);
  endpoint_origin_ = t ? t->origin : std::string("the token endpoint");
}

token_source::outcome token_source::failure(std::string_view why) const {
  return outcome(boost::system::in_place_error,
                 "cannot get an access token for backend " + backend_ + ": " + std::string(why));
}

token_source::outcome token_source::bearer() const {
  return outcome(boost::system::in_place_value, "Bearer " + token_->value);
}

awaitable<token_source::outcome> token_source::authorization(token_clock::duration max_wait) {
  auto self = shared_from_this();  // links may end while a fetch is awaited
  // A fresh token is never due at once (refresh_margin is at most half a lifetime), so two rounds
  // suffice; the bound keeps a clock oddity from looping.
  for (int round = 0; round < 3; ++round) {
    const auto now = token_clock::now();
    if (token_ && !refresh_due(*token_, now)) co_return bearer();
    if (!fetching_) {
      if (round > 0 || (failed_at_ && now - *failed_at_ < retry_gap)) {
        // The fetch just made (or one less than a second ago) failed: no new one yet.
        if (token_ && !has_expired(*token_, now)) co_return bearer();
        co_return failure(last_problem_);
      }
      fetching_ = true;
      util::spawn_logged(ex_, fetch(self), backend_ + " token fetch");
    }
    const auto deadline = token_clock::now() + max_wait;
    while (fetching_ && token_clock::now() < deadline) co_await fetched_.wait(deadline);
    if (fetching_) co_return failure("the token endpoint did not answer in time");
  }
  if (token_ && !has_expired(*token_, token_clock::now())) co_return bearer();
  std::string why = last_problem_;
  if (why.empty()) why = "no usable token";
  co_return failure(why);
}

void token_source::refused(std::string_view authorization) {
  if (!token_ || authorization != "Bearer " + token_->value) return;  // replaced already
  spdlog::info("backend {}: the backend refused its access token (HTTP 401); a new one is due",
               backend_);
  token_.reset();
}

awaitable<void> token_source::fetch([[maybe_unused]] std::shared_ptr<token_source> self) {
  util::scope_exit done([this] {
    fetching_ = false;
    fetched_.notify_all();
  });
  ++fetches_;
  fetch_request req;
  req.post = true;
  req.url = credentials_.token_endpoint;
  req.headers = {{"Authorization", basic_},
                 {"Content-Type", "application/x-www-form-urlencoded"},
                 {"Accept", "application/json"}};
  req.body = token_request_body(credentials_);
  req.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(fetch_timeout);
  req.max_body = max_answer_bytes;
  auto answer = co_await fetcher_.fetch(std::move(req));
  std::string problem, logged;
  if (!answer) {
    problem = "the token endpoint could not be reached";  // the client is not told where
    logged = answer.error();
  } else if (answer->status / 100 != 2) {
    problem = token_refusal_text(answer->status, answer->body);
  } else if (auto parsed = parse_token_response(answer->body); !parsed) {
    problem = "the token endpoint's answer is not usable: " + parsed.error();
  } else {
    const auto now = token_clock::now();
    token_ = make_access_token(std::move(*parsed), now);
    failed_at_.reset();
    last_problem_.clear();
    spdlog::info("backend {}: got an access token from {} (valid {} s)", backend_, endpoint_origin_,
                 std::chrono::duration_cast<std::chrono::seconds>(token_->expires - now).count());
    co_return;
  }
  failed_at_ = token_clock::now();
  last_problem_ = problem;
  spdlog::warn("backend {}: cannot get an access token from {}: {}", backend_, endpoint_origin_,
               logged.empty() ? problem : logged);
}

}  // namespace mcp_proxy::transport
