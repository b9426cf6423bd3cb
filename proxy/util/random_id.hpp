#pragma once
// Session identifiers: 128 bits from OpenSSL's CSPRNG as 32 lowercase hex digits (the spec asks
// for cryptographically secure session ids). Thread-safe. Throws only if OpenSSL cannot seed.

#include <string>

namespace mcp_proxy::util {

std::string random_hex_id();

}  // namespace mcp_proxy::util
