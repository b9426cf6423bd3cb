#pragma once
// The cursor of an aggregated list (sans-io): where each backend's own paging stands, packed into
// one opaque string a client hands back. It is authenticated (HMAC-SHA256 with a key of the
// process), so a tampered cursor, or one from another proxy process or another generation of
// the backend set, is refused: the caller answers -32602 (spec 2025-11-25
// server/utilities/pagination: invalid cursors).
// Thread-safety: a codec is immutable after construction.

#include <boost/system/result.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mcp_proxy::protocol {

struct backend_position {
  std::string server;
  // The backend's own cursor for its next page; nullopt: its first page.
  std::optional<std::string> cursor;
  // The backend has no more items (or failed during this walk and is left out of it).
  bool done = false;
  // Items of the page at `cursor` already returned (a merged page may end inside a backend page).
  std::uint64_t skip = 0;
  bool operator==(const backend_position&) const = default;
};

struct composite_cursor {
  // The set of backends the walk started with; a different one makes the cursor stale.
  std::uint64_t generation = 0;
  std::vector<backend_position> backends;
  bool operator==(const composite_cursor&) const = default;
};

class cursor_codec {
 public:
  // A random key (OpenSSL RAND_bytes).
  cursor_codec();
  // A given key (tests).
  explicit cursor_codec(std::string key);

  std::string encode(const composite_cursor& c) const;
  // The error says what is wrong, for logs; clients get -32602.
  boost::system::result<composite_cursor, std::string> decode(
      std::string_view text, std::uint64_t expected_generation) const;

 private:
  std::string mac(std::string_view payload) const;
  std::string key_;
};

}  // namespace mcp_proxy::protocol
