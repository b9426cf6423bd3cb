#pragma once
// Names of aggregated tools and prompts (sans-io): `{prefix}{separator}{name}`, always valid for
// clients (^[a-zA-Z0-9_-]{1,64}$), and mapped back through a table, never by splitting on a
// separator (names and prefixes may contain it).
// Thread-safety: plain values; a name_table is used from one executor.

#include "util/string_map.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace mcp_proxy::protocol {

inline constexpr std::size_t max_exposed_name = 64;

// ^[a-zA-Z0-9_-]{1,64}$
bool is_valid_exposed_name(std::string_view name);

// A stable 64-bit hash (FNV-1a) of a backend item, as 8 hex digits for shortened names.
std::string short_hash(std::string_view server, std::string_view name);

// `prefix + separator + name` when that is valid (no separator when the prefix is empty);
// otherwise a stable valid form: characters outside [a-zA-Z0-9_-] become '_', and a name longer
// than 64 is cut to leave room for '_' and short_hash(server, name).
std::string expose_name(std::string_view server, std::string_view prefix,
                        std::string_view separator, std::string_view name);

// The exposed names of one list method (tools or prompts) across backends, and the way back.
// Collisions are decided by rank (the server's place in the config), not by the order names
// arrive in: the lowest rank keeps the plain exposed name, the other gets '_' + short_hash
// appended. When a lower-ranked origin arrives after a higher-ranked one took the plain name,
// it takes the name over and the other is renamed (reported, so clients can be told).
class name_table {
 public:
  struct origin {
    std::string server;
    std::string name;
    bool operator==(const origin&) const = default;
  };
  struct added {
    std::string exposed;
    // Set when this name collided with another backend's: who has (or had) the plain name.
    std::optional<origin> collided_with;
    // Set when this origin took the plain name over: the new name of the one that had it.
    std::optional<std::string> renamed_other;
  };

  added add(std::string_view server, std::string_view prefix, std::string_view separator,
            std::string_view name, std::size_t rank = 0);
  std::optional<origin> resolve(std::string_view exposed) const;
  // Forgets a server's names (its list changed, or it went away).
  void forget_server(std::string_view server);
  std::size_t size() const { return by_exposed_.size(); }

 private:
  // A hashed name for an origin that lost its plain name, free in the table.
  std::string hashed_name(const std::string& plain, const origin& o) const;

  struct entry {
    origin who;
    std::size_t rank;
  };
  // Hash tables: a merged list looks up every item of every member page here.
  util::string_map<entry> by_exposed_;
  util::string_map<util::string_map<std::string>> by_origin_;  // server -> own name -> exposed
};

}  // namespace mcp_proxy::protocol
