#pragma once
// Session identifiers: 128 bits from the kernel's CSPRNG (getrandom(2)) as 32 lowercase hex
// digits (the spec asks for cryptographically secure session ids), and secret keys. Not
// OpenSSL's generator: initializing it costs a proxy without TLS 2.5 MB of resident memory.
// Thread-safe. Throws only if the kernel has no randomness to give (never after boot).

#include <cstddef>
#include <string>

namespace mcp_proxy::util {

std::string random_hex_id();
// Fills `size` bytes at `out`.
void random_bytes(void* out, std::size_t size);

}  // namespace mcp_proxy::util
