#include "util/random_id.hpp"

#include <sys/random.h>

#include <cerrno>
#include <stdexcept>

namespace mcp_proxy::util {

void random_bytes(void* out, std::size_t size) {
  auto* p = static_cast<unsigned char*>(out);
  while (size > 0) {
    const auto got = ::getrandom(p, size, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error("getrandom failed");
    }
    p += got;
    size -= static_cast<std::size_t>(got);
  }
}

std::string random_hex_id() {
  unsigned char bytes[16];
  random_bytes(bytes, sizeof bytes);
  static constexpr char hex[] = "0123456789abcdef";
  std::string id;
  id.reserve(2 * sizeof bytes);
  for (unsigned char b : bytes) {
    id.push_back(hex[b >> 4]);
    id.push_back(hex[b & 15]);
  }
  return id;
}

}  // namespace mcp_proxy::util
