#pragma once
// Base64 (RFC 4648): the standard alphabet with '=' padding (section 4), and the URL-safe
// alphabet without padding (section 5). Decoding is strict: only what the encoder writes (no
// whitespace, padding only at the end and only as needed, no stray low bits), else nullopt.
// Thread-safety: plain functions.

#include <optional>
#include <string>
#include <string_view>

namespace mcp_proxy::util {

std::string base64_encode(std::string_view in);
std::optional<std::string> base64_decode(std::string_view in);

std::string base64url_encode(std::string_view in);
std::optional<std::string> base64url_decode(std::string_view in);

}  // namespace mcp_proxy::util
