#pragma once
// The access token of a backend with clientCredentials (RFC 6749 section 4.4): fetched from the
// token endpoint when a request needs one, reused until it is near expiry
// (client_credentials.hpp, refresh_due), dropped when the backend answers 401. Requests waiting
// for a token share one fetch; after a failed fetch the next one waits at least a second (the
// requests meanwhile fail with the same error). The secret and the token are never logged: the
// log names the token endpoint's origin only.
// Thread-safety: one executor (the proxy runs one thread); every link of a backend with the same
// credentials shares one source (shared_for). Cancellation: a request that stops waiting does not
// stop the fetch, which is its own task bounded by its timeout.

#include "config/config.hpp"
#include "transport/client_credentials.hpp"
#include "transport/http_fetch.hpp"
#include "util/async_event.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/system/result.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace mcp_proxy::transport {

class token_source : public std::enable_shared_from_this<token_source> {
 public:
  // The source of `backend`'s links with these credentials: a new one, or the one its other
  // links use. The error says why the caFile cannot be used.
  static boost::system::result<std::shared_ptr<token_source>, std::string> shared_for(
      boost::asio::any_io_executor ex, const std::string& backend,
      const config::client_credentials_config& credentials);

  token_source(boost::asio::any_io_executor ex, std::string backend,
               config::client_credentials_config credentials);
  token_source(const token_source&) = delete;
  token_source& operator=(const token_source&) = delete;

  // The Authorization value for a request now ("Bearer ..."), fetching a token first when there
  // is none or the one held is due for replacement (a failing replacement keeps a token that has
  // not expired). The error is one line for the client, "cannot get an access token for backend
  // NAME: ...", without the endpoint's URL (the log has it).
  // `max_wait` bounds the wait for a fetch (which goes on for the requests after this one).
  using outcome = boost::system::result<std::string, std::string>;  // built in place: T == E
  boost::asio::awaitable<outcome> authorization(token_clock::duration max_wait);

  // The backend answered 401 to a request that carried `authorization`: that token is dropped
  // (unless another has replaced it meanwhile), so the next request fetches a new one.
  void refused(std::string_view authorization);

  // Fetches made so far, for tests and logs.
  std::size_t fetches() const { return fetches_; }

 private:
  boost::asio::awaitable<void> fetch(std::shared_ptr<token_source> self);
  outcome failure(std::string_view why) const;
  outcome bearer() const;

  boost::asio::any_io_executor ex_;
  std::string backend_;
  config::client_credentials_config credentials_;
  std::string endpoint_origin_;  // for logs
  std::string basic_;            // the Basic client credentials (holds the secret)
  http_fetcher fetcher_;
  util::async_event fetched_;
  std::optional<access_token> token_;
  bool fetching_ = false;
  std::size_t fetches_ = 0;
  std::optional<token_clock::time_point> failed_at_;
  std::string last_problem_;  // what the client is told about the last failed fetch
};

}  // namespace mcp_proxy::transport
