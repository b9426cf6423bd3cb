#include "auth/jwt.hpp"

#include "auth/strict_json.hpp"
#include "util/base64.hpp"

#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <boost/json/array.hpp>
#include <boost/json/string.hpp>
#include <boost/throw_exception.hpp>

#include <algorithm>
#include <memory>
#include <stdexcept>

namespace mcp_proxy::auth {

namespace json = boost::json;

namespace {

token_error fail(token_failure f, std::string message) {
  return token_error{f, std::move(message)};
}

// Values from the token in an error line: only short printable ASCII, so a log line stays one
// line and an attacker cannot write into it.
std::string quoted(std::string_view s) {
  const bool printable = s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
                           return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
                         });
  return printable ? "\"" + std::string(s) + "\"" : std::string("(not shown)");
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; };
           return lower(x) == lower(y);
         });
}

// Why an alg name is refused, for the error line.
std::string refused_alg(std::string_view name) {
  if (iequals(name, "none")) return "alg none is never accepted";
  if (name.size() >= 2 && iequals(name.substr(0, 2), "HS")) {
    return "HMAC algs are never accepted (a resource server holds no shared secret)";
  }
  return "unsupported alg " + quoted(name);
}

const char* digest_name(jws_alg alg) {
  switch (alg) {
    case jws_alg::rs256:
    case jws_alg::ps256:
    case jws_alg::es256:
      return "SHA256";
    case jws_alg::rs384:
    case jws_alg::ps384:
    case jws_alg::es384:
      return "SHA384";
    case jws_alg::rs512:
    case jws_alg::ps512:
      return "SHA512";
    case jws_alg::eddsa:
      return nullptr;  // Ed25519 hashes internally
  }
  return nullptr;
}

struct md_ctx_free {
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
struct ecdsa_sig_free {
  void operator()(ECDSA_SIG* p) const { ECDSA_SIG_free(p); }
};

// RFC 7518 section 3.4: R and S, each at the curve's full size, concatenated. OpenSSL verifies
// the DER form, so the raw one is rebuilt as DER here; a DER signature in the token has the
// wrong length and never gets this far.
std::optional<std::string> ecdsa_der(std::string_view raw, std::size_t coordinate_bytes) {
  if (raw.size() != 2 * coordinate_bytes) return std::nullopt;
  std::unique_ptr<ECDSA_SIG, ecdsa_sig_free> sig(ECDSA_SIG_new());
  const auto* bytes = reinterpret_cast<const unsigned char*>(raw.data());
  BIGNUM* r = BN_bin2bn(bytes, static_cast<int>(coordinate_bytes), nullptr);
  BIGNUM* s = BN_bin2bn(bytes + coordinate_bytes, static_cast<int>(coordinate_bytes), nullptr);
  if (!sig || !r || !s || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return std::nullopt;
  }
  const int size = i2d_ECDSA_SIG(sig.get(), nullptr);
  if (size <= 0) return std::nullopt;
  std::string der(static_cast<std::size_t>(size), '\0');
  auto* out = reinterpret_cast<unsigned char*>(der.data());
  if (i2d_ECDSA_SIG(sig.get(), &out) != size) return std::nullopt;
  return der;
}

// Nothing can be accepted without an issuer and an audience to compare with; an empty audience
// in the list is a configuration slip that must not quietly accept aud "".
bool misconfigured(const validation_options& options) {
  return options.issuer.empty() || options.audiences.empty() ||
         std::any_of(options.audiences.begin(), options.audiences.end(),
                     [](const std::string& a) { return a.empty(); });
}

}  // namespace

// Seconds since the epoch, fractions allowed.
boost::system::result<std::optional<double>, token_error> numeric_date(const json::object& claims,
                                                                       std::string_view name) {
  const auto* v = claims.if_contains(name);
  if (!v) return std::optional<double>();
  if (v->is_int64()) return std::optional<double>(static_cast<double>(v->get_int64()));
  if (v->is_uint64()) return std::optional<double>(static_cast<double>(v->get_uint64()));
  if (v->is_double()) return std::optional<double>(v->get_double());
  return fail(token_failure::invalid_claim, std::string(name) + " is not a number");
}

boost::system::result<void, token_error> check_audience(const json::value& aud,
                                                        const std::vector<std::string>& audiences) {
  auto ours = [&](std::string_view a) {
    return std::find(audiences.begin(), audiences.end(), a) != audiences.end();
  };
  bool found = false;
  if (const auto* one = aud.if_string()) {
    found = ours(*one);
  } else if (const auto* many = aud.if_array()) {
    for (const auto& a : *many) {
      const auto* s = a.if_string();
      if (!s) return fail(token_failure::invalid_claim, "aud holds a value that is not a string");
      found = found || ours(*s);
    }
  } else {
    return fail(token_failure::invalid_claim, "aud is not a string or an array of strings");
  }
  if (found) return {};
  if (audiences.size() == 1) {
    return fail(token_failure::wrong_audience,
                "aud does not name this resource " + quoted(audiences.front()));
  }
  return fail(
      token_failure::wrong_audience,
      "aud names none of the " + std::to_string(audiences.size()) + " audiences of this resource");
}

std::string_view bearer_error_code(bearer_error e) {
  // In the order of the enum.
  constexpr std::string_view codes[] = {"invalid_request", "invalid_token", "insufficient_scope"};
  return codes[static_cast<int>(e)];
}

void throw_exception_from_error(const token_error& e, const boost::source_location& loc) {
  boost::throw_exception(std::logic_error("token refused: " + e.message), loc);
}

boost::system::result<compact_jws, token_error> parse_compact_jws(
    std::string_view token, const token_limits& limits, const std::vector<jws_alg>& allowed_algs) {
  if (token.empty()) return fail(token_failure::malformed, "the token is empty");
  if (token.size() > limits.max_token_bytes) {
    return fail(token_failure::malformed,
                "the token is longer than " + std::to_string(limits.max_token_bytes) + " bytes");
  }
  const auto dots = std::count(token.begin(), token.end(), '.');
  if (dots != 2) {
    return fail(token_failure::malformed,
                "the token has " + std::to_string(dots + 1) + " parts; a compact JWS has three");
  }
  const auto first = token.find('.');
  const auto second = token.find('.', first + 1);
  const auto header_text = util::base64url_decode(token.substr(0, first));
  if (!header_text || header_text->empty()) {
    return fail(token_failure::malformed, "the header is not unpadded base64url");
  }
  auto header = parse_strict_object(*header_text, limits.max_json_depth);
  if (!header) return fail(token_failure::malformed, "the header: " + header.error());

  compact_jws out;
  const auto* alg = header->if_contains("alg");
  if (!alg || !alg->is_string()) return fail(token_failure::malformed, "the header has no alg");
  const auto alg_text = std::string_view(alg->get_string());
  const auto known = alg_from_name(alg_text);
  if (!known) return fail(token_failure::unsupported_alg, refused_alg(alg_text));
  if (!allowed_algs.empty() &&
      std::find(allowed_algs.begin(), allowed_algs.end(), *known) == allowed_algs.end()) {
    return fail(token_failure::unsupported_alg,
                "alg " + std::string(alg_text) + " is not among the allowed algs");
  }
  out.alg = *known;
  if (const auto* kid = header->if_contains("kid")) {
    if (!kid->is_string()) return fail(token_failure::malformed, "the kid is not a string");
    out.kid = std::string(kid->get_string());
  }
  if (header->contains("crit")) {
    return fail(token_failure::malformed, "the header has crit: no extension is supported");
  }
  if (const auto* typ = header->if_contains("typ")) {
    const auto* s = typ->if_string();
    if (!s || !(iequals(*s, "JWT") || iequals(*s, "at+jwt") || iequals(*s, "application/at+jwt"))) {
      return fail(token_failure::malformed, "the typ is not JWT or at+jwt");
    }
  }

  auto payload = util::base64url_decode(token.substr(first + 1, second - first - 1));
  if (!payload) return fail(token_failure::malformed, "the payload is not unpadded base64url");
  auto signature = util::base64url_decode(token.substr(second + 1));
  if (!signature) return fail(token_failure::malformed, "the signature is not unpadded base64url");
  if (signature->empty()) return fail(token_failure::malformed, "the token has no signature");

  out.header = std::move(*header);
  out.signing_input = token.substr(0, second);
  out.payload = std::move(*payload);
  out.signature = std::move(*signature);
  return out;
}

bool verify_signature(jws_alg alg, const jwk& key, std::string_view signing_input,
                      std::string_view signature) {
  if (!key.public_key || !key.fits(alg)) return false;
  EVP_PKEY* pkey = key.public_key.get();
  std::optional<std::string> der;
  switch (key.type) {
    case key_type::rsa:
      // RFC 7518 section 3.3 and 3.5: the signature is exactly as long as the modulus.
      if (signature.size() != static_cast<std::size_t>(EVP_PKEY_get_size(pkey))) return false;
      break;
    case key_type::ec_p256:
      der = ecdsa_der(signature, 32);
      if (!der) return false;
      signature = *der;
      break;
    case key_type::ec_p384:
      der = ecdsa_der(signature, 48);
      if (!der) return false;
      signature = *der;
      break;
    case key_type::ed25519:
      if (signature.size() != 64) return false;
      break;
  }
  std::unique_ptr<EVP_MD_CTX, md_ctx_free> ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;  // owned by ctx
  if (!ctx || EVP_DigestVerifyInit_ex(ctx.get(), &pctx, digest_name(alg), nullptr, nullptr, pkey,
                                      nullptr) != 1) {
    return false;
  }
  if (key.type == key_type::rsa) {
    const bool pss = alg == jws_alg::ps256 || alg == jws_alg::ps384 || alg == jws_alg::ps512;
    if (EVP_PKEY_CTX_set_rsa_padding(pctx, pss ? RSA_PKCS1_PSS_PADDING : RSA_PKCS1_PADDING) != 1) {
      return false;
    }
    // RFC 7518 section 3.5: MGF1 with the same hash, a salt as long as the hash.
    if (pss && (EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1 ||
                EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, digest_name(alg), nullptr) != 1)) {
      return false;
    }
  }
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                          signature.size(),
                          reinterpret_cast<const unsigned char*>(signing_input.data()),
                          signing_input.size()) == 1;
}

boost::system::result<void, token_error> validate_claims(
    const json::object& claims, const validation_options& options,
    std::chrono::system_clock::time_point now) {
  if (misconfigured(options)) {
    return fail(token_failure::misconfigured, "no issuer or audience is configured to check");
  }

  const auto* iss = claims.if_contains("iss");
  if (!iss) return fail(token_failure::missing_claim, "the token has no iss");
  if (!iss->is_string()) return fail(token_failure::invalid_claim, "iss is not a string");
  if (iss->get_string() != options.issuer) {
    return fail(token_failure::wrong_issuer,
                "iss " + quoted(iss->get_string()) + " is not " + quoted(options.issuer));
  }

  const auto* aud = claims.if_contains("aud");
  if (!aud) return fail(token_failure::missing_claim, "the token has no aud");
  auto audience = check_audience(*aud, options.audiences);
  if (!audience) return audience.error();

  const double now_s = std::chrono::duration<double>(now.time_since_epoch()).count();
  const double skew = static_cast<double>(options.clock_skew.count());
  auto exp = numeric_date(claims, "exp");
  if (!exp) return exp.error();
  if (!*exp) return fail(token_failure::missing_claim, "the token has no exp");
  if (now_s >= **exp + skew) return fail(token_failure::expired, "the token has expired");
  auto nbf = numeric_date(claims, "nbf");
  if (!nbf) return nbf.error();
  if (*nbf && **nbf > now_s + skew) {
    return fail(token_failure::not_yet_valid, "the token is not valid yet (nbf)");
  }
  auto iat = numeric_date(claims, "iat");
  if (!iat) return iat.error();
  if (*iat && **iat > now_s + skew) {
    return fail(token_failure::issued_in_future, "the token is issued in the future (iat)");
  }
  return {};
}

boost::system::result<verified_token, token_error> verify_jwt(
    std::string_view token, const jwk_set& keys, const validation_options& options,
    std::chrono::system_clock::time_point now) {
  if (misconfigured(options)) {
    return fail(token_failure::misconfigured, "no issuer or audience is configured to check");
  }
  auto jws = parse_compact_jws(token, options.limits, options.allowed_algs);
  if (!jws) return jws.error();

  const std::string_view alg = alg_name(jws->alg);
  const std::string kid_text = jws->kid ? "kid " + quoted(*jws->kid) : std::string("no kid");
  auto key = keys.find(jws->alg, jws->kid);
  if (!key) {
    switch (key.error()) {
      case key_lookup_failure::unknown_kid:
        return fail(token_failure::unknown_key, "no key has the token's " + kid_text);
      case key_lookup_failure::no_fitting_key:
        return fail(token_failure::key_mismatch,
                    "no key (" + kid_text + ") fits alg " + std::string(alg));
      case key_lookup_failure::ambiguous:
        return fail(token_failure::key_mismatch,
                    "more than one key (" + kid_text + ") fits alg " + std::string(alg));
    }
    return fail(token_failure::key_mismatch, "no key fits alg " + std::string(alg));
  }
  if (!verify_signature(jws->alg, **key, jws->signing_input, jws->signature)) {
    return fail(token_failure::bad_signature,
                "the " + std::string(alg) + " signature does not verify (" + kid_text + ")");
  }

  auto claims = parse_strict_object(jws->payload, options.limits.max_json_depth);
  if (!claims) return fail(token_failure::malformed, "the claims: " + claims.error());
  auto valid = validate_claims(*claims, options, now);
  if (!valid) return valid.error();
  return verified_token{jws->alg, (*key)->kid, std::move(jws->header), std::move(*claims)};
}

}  // namespace mcp_proxy::auth
