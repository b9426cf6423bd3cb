#include "protocol/naming.hpp"

#include <algorithm>
#include <cstdio>

namespace mcp_proxy::protocol {

namespace {

bool valid_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

// Makes `s` valid by replacing characters and, when too long, ending it in '_' + hash.
std::string make_valid(std::string s, std::string_view server, std::string_view name,
                       bool force_hash) {
  for (char& c : s)
    if (!valid_char(c)) c = '_';
  if (s.empty()) force_hash = true;
  if (!force_hash && s.size() <= max_exposed_name) return s;
  const std::string suffix = "_" + short_hash(server, name);
  s.resize(std::min(s.size(), max_exposed_name - suffix.size()));
  return s + suffix;
}

}  // namespace

bool is_valid_exposed_name(std::string_view name) {
  return !name.empty() && name.size() <= max_exposed_name &&
         std::all_of(name.begin(), name.end(), valid_char);
}

std::string short_hash(std::string_view server, std::string_view name) {
  std::uint64_t h = 1469598103934665603ull;
  auto mix = [&h](std::string_view s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 1099511628211ull;
    }
  };
  mix(server);
  mix(std::string_view("\0", 1));  // ("ab", "c") and ("a", "bc") differ
  mix(name);
  char out[17];
  std::snprintf(out, sizeof out, "%016llx", static_cast<unsigned long long>(h));
  return std::string(out, 8);
}

std::string expose_name(std::string_view server, std::string_view prefix,
                        std::string_view separator, std::string_view name) {
  std::string plain;
  if (!prefix.empty()) plain.append(prefix).append(separator);
  plain.append(name);
  if (is_valid_exposed_name(plain)) return plain;
  // Changed in any way: the hash keeps two different originals from meeting.
  return make_valid(std::move(plain), server, name, true);
}

std::string name_table::hashed_name(const std::string& plain, const origin& o) const {
  std::string exposed = make_valid(plain, o.server, o.name, true);
  // A hash collision on top of a name collision: count on until free (deterministic).
  for (int n = 2; by_exposed_.contains(exposed); ++n)
    exposed = make_valid(exposed, o.server, o.name + "#" + std::to_string(n), true);
  return exposed;
}

name_table::added name_table::add(std::string_view server, std::string_view prefix,
                                  std::string_view separator, std::string_view name,
                                  std::size_t rank) {
  auto known = by_origin_.find(server);
  if (known != by_origin_.end())
    if (auto it = known->second.find(name); it != known->second.end()) return {it->second, {}, {}};
  const origin me{std::string(server), std::string(name)};
  added out;
  out.exposed = expose_name(server, prefix, separator, name);
  if (auto taken = by_exposed_.find(out.exposed); taken != by_exposed_.end()) {
    out.collided_with = taken->second.who;
    if (rank < taken->second.rank) {
      // Configured earlier: the plain name is ours; the other one moves to a hashed name.
      entry other = taken->second;
      by_exposed_.erase(taken);
      std::string moved = hashed_name(out.exposed, other.who);
      by_origin_[other.who.server][other.who.name] = moved;
      by_exposed_.emplace(moved, other);
      out.renamed_other = std::move(moved);
    } else {
      out.exposed = hashed_name(out.exposed, me);
    }
  }
  by_exposed_.emplace(out.exposed, entry{me, rank});
  if (known == by_origin_.end()) known = by_origin_.try_emplace(me.server).first;
  known->second.emplace(me.name, out.exposed);
  return out;
}

std::optional<name_table::origin> name_table::resolve(std::string_view exposed) const {
  auto it = by_exposed_.find(exposed);
  if (it == by_exposed_.end()) return std::nullopt;
  return it->second.who;
}

void name_table::forget_server(std::string_view server) {
  std::erase_if(by_exposed_, [&](const auto& kv) { return kv.second.who.server == server; });
  if (auto it = by_origin_.find(server); it != by_origin_.end()) by_origin_.erase(it);
}

}  // namespace mcp_proxy::protocol
