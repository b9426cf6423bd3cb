#pragma once
// What a merged endpoint exposes of its members' lists (sans-io): tool and prompt names as
// `{prefix}{separator}{name}` through name tables (collisions decided by config order, never by
// arrival), and which member serves each resource URI and template (the member configured
// first). Members are numbered by their place in the config. expose() reports what the caller
// should log and tell clients; the caller owns the I/O.
// Thread-safety: none (one owner, one executor).

#include "protocol/merged_page.hpp"
#include "protocol/naming.hpp"

#include <boost/json/value.hpp>

#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mcp_proxy::protocol {

struct catalog_member {
  std::string server;
  std::string prefix;  // "" keeps names as they are
};

// Something expose() noticed.
struct catalog_note {
  std::string text;  // for the log
  // A tool or prompt that clients may know by another name now: the list key ("tools",
  // "prompts") whose list_changed they must be sent; empty when no client needs telling.
  std::string changed_list;
};

class merged_catalog {
 public:
  merged_catalog(std::vector<catalog_member> members, std::string separator);

  // The exposed form of member `i`'s `item` of list `list_key` ("tools", "prompts",
  // "resources", "resourceTemplates"): the item itself (not a copy: it must outlive the
  // answer), with its exposed name when that differs from its own; URIs and templates are
  // recorded. nullopt when it has no usable name, uri or uriTemplate, or when an earlier member
  // serves its URI.
  std::optional<exposed_item> expose(std::size_t i, std::string_view list_key,
                                     const boost::json::value& item,
                                     std::vector<catalog_note>& notes);

  // The member and the member's own name behind an exposed tool or prompt name (`kind` "tool"
  // or "prompt"); nullopt when none is known.
  struct named {
    std::size_t member;
    std::string name;
  };
  std::optional<named> resolve(std::string_view kind, std::string_view exposed) const;
  // The member serving `uri` among those `usable`: the list that named it, else the first
  // template that matches it (RFC 6570); nullopt when none.
  std::optional<std::size_t> owner_of_uri(std::string_view uri,
                                          const std::function<bool(std::size_t)>& usable) const;
  // The member whose template is exactly `uri_template` (a completion's ref/resource), else
  // the one serving it as a URI (owner_of_uri).
  std::optional<std::size_t> owner_of_template(
      std::string_view uri_template, const std::function<bool(std::size_t)>& usable) const;
  // A member's resources changed: the templates learnt from it are forgotten.
  void forget_templates(std::size_t i);
  // A configuration reload: a member comes after the others (its index is size() before), or one
  // leaves for good (its names, URIs and templates are forgotten, and member_index no longer
  // finds it; its index is never reused, so that what refers to indexes stays right).
  std::size_t add_member(catalog_member m);
  void retire(std::size_t i);
  bool retired(std::size_t i) const { return retired_[i]; }
  std::optional<std::size_t> member_index(std::string_view server) const;
  const catalog_member& member(std::size_t i) const { return members_[i]; }
  std::size_t size() const { return members_.size(); }

 private:
  std::vector<catalog_member> members_;
  std::vector<bool> retired_;
  std::string separator_;
  name_table tools_, prompts_;
  std::map<std::string, std::size_t, std::less<>> resource_owner_;
  std::set<std::string, std::less<>> duplicate_uris_noted_;
  // Resource templates seen in members' lists, in member order.
  std::vector<std::pair<std::string, std::size_t>> templates_;
};

}  // namespace mcp_proxy::protocol
