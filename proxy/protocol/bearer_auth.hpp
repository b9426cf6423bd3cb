#pragma once
// Static bearer tokens (mcpProxy.options.authTokens and a server's own), checked without I/O:
// the credential read from an Authorization header (RFC 6750 section 2.1), a token table that
// compares in constant time, and the 400/401 answers with their WWW-Authenticate challenge
// (RFC 6750 section 3). The token never appears in a name, a log line or an answer: a token
// without a name is known by a fingerprint of its SHA-256.
// Thread-safety: a token_table is immutable once built; share it freely.

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mcp_proxy::protocol {

// RFC 6750 section 2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
bool is_b64token(std::string_view s);

// "sha256:" and the first 12 hex digits of the token's SHA-256: what logs and the audit call a
// token that has no name.
std::string token_fingerprint(std::string_view token);

// A WWW-Authenticate value: `Bearer realm="mcp-proxy"`, then, with an `error` (an RFC 6750
// error code), `error` and `error_description` (a quote becomes an apostrophe, other characters
// RFC 6750 does not allow there spaces), then `extra` (more auth-params, already formatted) when
// not empty.
std::string bearer_challenge(std::string_view error, std::string_view description,
                             std::string_view extra = {});
// One auth-param, `name="value"`, dropping from the value what a quoted-string of RFC 6750 may
// not hold (a quote, a backslash, control and non-ASCII bytes).
std::string challenge_param(std::string_view name, std::string_view value);

// What an Authorization header field holds, for a bearer-token check.
struct bearer_credential {
  enum class kind {
    none,       // no Authorization field, or another scheme (Basic, ...): no bearer credential
    token,      // "Bearer" (any case) 1*SP b64token
    malformed,  // "Bearer" with no token, a token that is not a b64token, or two fields
  } what = kind::none;
  std::string_view token;  // with kind::token
};
// `fields`: the values of every Authorization field of the request, in order.
bearer_credential read_bearer(const std::vector<std::string_view>& fields);

class token_table {
 public:
  // `name` identifies the token in logs and the audit; empty: its fingerprint.
  void add(std::string_view token, std::string name = {});
  bool empty() const { return entries_.empty(); }
  std::size_t size() const { return entries_.size(); }
  // The name of the entry whose token is `token`, or nullptr. The time taken depends only on
  // the number of entries: every entry is compared, each by its SHA-256 digest
  // (CRYPTO_memcmp), so neither a prefix nor the length of a token leaks.
  const std::string* find(std::string_view token) const;

 private:
  struct entry {
    std::array<unsigned char, 32> digest;
    std::string name;
  };
  std::vector<entry> entries_;
};

// The answer to a request that fails the check: RFC 6750 section 3.1.
struct auth_refusal {
  int status = 401;              // 401, or 400 for a malformed credential
  std::string www_authenticate;  // the challenge, e.g. Bearer realm="mcp-proxy", error=...
  std::string text;              // one line for the JSON-RPC error's message
};

// Checks `credential` against `tokens` (which must not be empty). On success the token's name.
// A missing credential gets 401 with a challenge without an error code (section 3.1: "SHOULD
// NOT include an error code"), a wrong one 401 `invalid_token`, a malformed one 400
// `invalid_request`. `extra_params`, when not empty, is appended to the challenge (a
// `resource_metadata="..."` parameter, RFC 9728 section 5.1).
struct auth_result {
  const std::string* identity = nullptr;
  std::optional<auth_refusal> refusal;
};
auth_result check_bearer(const bearer_credential& credential, const token_table& tokens,
                         std::string_view extra_params = {});

}  // namespace mcp_proxy::protocol
