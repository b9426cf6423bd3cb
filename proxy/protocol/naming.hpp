#pragma once
// Names of aggregated tools and prompts (sans-io): `{prefix}{separator}{name}`, always valid for
// clients (^[a-zA-Z0-9_-]{1,64}$), and mapped back through a table, never by splitting on a
// separator (names and prefixes may contain it).
// Thread-safety: plain values; a name_table is used from one executor.

#include <cstdint>
#include <map>
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
// Registration order decides collisions: the first (server, name) keeps the plain exposed
// name, a later different one gets '_' + short_hash appended (a collision is reported once).
class name_table {
 public:
  struct origin {
    std::string server;
    std::string name;
    bool operator==(const origin&) const = default;
  };
  struct added {
    std::string exposed;
    // Set when this name collided with another backend's: who had it first.
    std::optional<origin> collided_with;
  };

  added add(std::string_view server, std::string_view prefix, std::string_view separator,
            std::string_view name);
  std::optional<origin> resolve(std::string_view exposed) const;
  // Forgets a server's names (its list changed, or it went away).
  void forget_server(std::string_view server);
  std::size_t size() const { return by_exposed_.size(); }

 private:
  std::map<std::string, origin, std::less<>> by_exposed_;
  std::map<std::pair<std::string, std::string>, std::string> by_origin_;
};

}  // namespace mcp_proxy::protocol
