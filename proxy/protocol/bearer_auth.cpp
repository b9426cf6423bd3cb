#include "protocol/bearer_auth.hpp"

#include "util/ascii.hpp"

#include <openssl/crypto.h>
#include <openssl/sha.h>

namespace mcp_proxy::protocol {

namespace {

std::array<unsigned char, 32> sha256(std::string_view s) {
  std::array<unsigned char, 32> out{};
  SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), out.data());
  return out;
}

constexpr std::string_view realm = R"(Bearer realm="mcp-proxy")";

}  // namespace

std::string bearer_challenge(std::string_view error, std::string_view description,
                             std::string_view extra) {
  std::string out(realm);
  if (!error.empty()) {
    out += R"(, error=")";
    out += error;
    out += R"(", error_description=")";
    // RFC 6750 section 3: %x20-21 / %x23-5B / %x5D-7E. A quote becomes an apostrophe (claim
    // values are quoted in messages), anything else outside the set a space.
    for (char c : description) {
      const auto u = static_cast<unsigned char>(c);
      out += c == '"' ? '\'' : (u < 0x20 || u > 0x7e || c == '\\') ? ' ' : c;
    }
    out += '"';
  }
  if (!extra.empty()) {
    out += ", ";
    out += extra;
  }
  return out;
}

std::string challenge_param(std::string_view name, std::string_view value) {
  std::string out(name);
  out += "=\"";
  for (char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u <= 0x7e && c != '"' && c != '\\') out += c;
  }
  out += '"';
  return out;
}

bool is_b64token(std::string_view s) {
  std::size_t i = 0;
  auto body = [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~' || c == '+' || c == '/';
  };
  while (i < s.size() && body(s[i])) ++i;
  if (i == 0) return false;
  while (i < s.size() && s[i] == '=') ++i;
  return i == s.size();
}

std::string token_fingerprint(std::string_view token) {
  static constexpr char hex[] = "0123456789abcdef";
  const auto d = sha256(token);
  std::string out = "sha256:";
  for (std::size_t i = 0; i < 6; ++i) {
    out += hex[d[i] >> 4];
    out += hex[d[i] & 15];
  }
  return out;
}

bearer_credential read_bearer(const std::vector<std::string_view>& fields) {
  bearer_credential out;
  if (fields.empty()) return out;
  // Two Authorization fields: which one counts is ambiguous (section 3.1, invalid_request).
  if (fields.size() > 1) {
    out.what = bearer_credential::kind::malformed;
    return out;
  }
  const std::string_view v = util::trim_ows(fields.front());
  const auto space = v.find(' ');
  const auto scheme = v.substr(0, space);
  if (!util::ascii_iequals(scheme, "Bearer")) return out;  // another scheme: no bearer token
  out.what = bearer_credential::kind::malformed;
  if (space == std::string_view::npos) return out;
  auto token = v.substr(space);
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  if (!is_b64token(token)) return out;
  out.what = bearer_credential::kind::token;
  out.token = token;
  return out;
}

void token_table::add(std::string_view token, std::string name) {
  if (name.empty()) name = token_fingerprint(token);
  entries_.push_back({sha256(token), std::move(name)});
}

const std::string* token_table::find(std::string_view token) const {
  const auto d = sha256(token);
  const std::string* found = nullptr;
  for (const auto& e : entries_) {
    const bool same = CRYPTO_memcmp(e.digest.data(), d.data(), d.size()) == 0;
    // No early exit: every entry costs the same whether it matched or not.
    if (same && !found) found = &e.name;
  }
  return found;
}

auth_result check_bearer(const bearer_credential& credential, const token_table& tokens,
                         std::string_view extra_params) {
  auth_result out;
  switch (credential.what) {
    case bearer_credential::kind::none:
      out.refusal = auth_refusal{401, bearer_challenge({}, {}, extra_params),
                                 "Unauthorized: this endpoint needs a bearer token "
                                 "(Authorization: Bearer <token>)"};
      break;
    case bearer_credential::kind::malformed:
      out.refusal = auth_refusal{
          400,
          bearer_challenge("invalid_request", "one Authorization field, Bearer and a b64token",
                           extra_params),
          "Bad Request: the Authorization header is not one \"Bearer <token>\" credential"};
      break;
    case bearer_credential::kind::token:
      out.identity = tokens.find(credential.token);
      if (!out.identity)
        out.refusal = auth_refusal{
            401, bearer_challenge("invalid_token", "the access token is not valid", extra_params),
            "Unauthorized: the bearer token is not valid"};
      break;
  }
  return out;
}

}  // namespace mcp_proxy::protocol
