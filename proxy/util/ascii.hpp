#pragma once
// ASCII case folding for protocol tokens (header names, hosts, config keywords): no locale, no
// table lookup per character. Thread-safety: plain functions.

#include <string_view>

namespace mcp_proxy::util {

constexpr char ascii_lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

constexpr bool ascii_iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  return true;
}

}  // namespace mcp_proxy::util
