#pragma once
// Authorization by identity (mcpProxy.access, docs/security.md "Access by identity"): which
// tools, prompts and resources an authenticated caller may see and use. Sans-io: the HTTP layer
// turns a credential into an `identity`, access_policy::grant_for turns that into an
// access_grant once (at the start of a session, or per request), and the session asks the grant
// about every list item and every call.
//
// The decision for an item: it is allowed iff some rule matching the identity allows it and no
// matching rule denies it. A rule is about an item when its `servers` is empty or one of its
// globs matches the item's server; its patterns then apply to the server's own name of the item
// (with `servers`) or to the name the merged endpoint shows (without). In `allow` a kind left
// out allows every item of that kind; in `deny` it denies none. An identity that no rule matches
// gets the default ("deny": nothing; "allow": everything). With access disabled (no
// mcpProxy.access) every grant is unrestricted.
//
// Thread-safety: access_policy and access_grant are immutable after construction; const member
// functions may be called from any thread at once. A grant shares ownership of the policy's
// rules, so it stays valid (with the rules it was made from) after the policy is destroyed or
// replaced by a reload. No function blocks or suspends; there is nothing to cancel.

#include "auth/scopes.hpp"
#include "config/config.hpp"
#include "protocol/session_narrowing.hpp"

#include <boost/json/object.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace mcp_proxy::auth {

// Who is calling, as the authentication step found out.
struct identity {
  enum class source { static_token, jwt, introspection, anonymous };
  source from = source::anonymous;
  // The static token's name (its fingerprint when unnamed), or the token's sub; for logs.
  std::string name;
  // A JWT's payload or an introspection answer; empty for static tokens and anonymous callers.
  boost::json::object claims;
  scope_set scopes;
};

using item_kind = protocol::item_kind;

namespace detail {
struct policy_state;
struct grant_state;
}  // namespace detail

// What one identity may use. Cheap to copy (a shared pointer and a flag); asking allocates
// nothing.
class access_grant {
 public:
  // Allows nothing.
  access_grant() = default;
  // Allows everything.
  static access_grant everything();

  // Every item of every server is allowed: the caller can skip filtering.
  bool unrestricted() const { return unrestricted_; }
  // Whether the item may be listed and used. `server`: the configured name of the server that
  // has it; `own_name`: its name there (a resource's or resource template's URI);
  // `exposed_name`: its name on the merged endpoint (`prefix` + separator + name for tools and
  // prompts, the URI for resources), whatever route is being served, so that a rule means the
  // same thing on /mcp, on a group and on /{server}/mcp.
  bool allows(item_kind kind, std::string_view server, std::string_view own_name,
              std::string_view exposed_name) const;
  // The JSON paths of the rules that matched the identity ("$.mcpProxy.access.rules[2]"), in
  // file order; empty when none did (the default applies) or access is disabled. For logs;
  // valid as long as this grant (or a copy) lives.
  std::vector<std::string_view> rule_paths() const;

 private:
  friend class access_policy;
  access_grant(bool unrestricted, std::shared_ptr<const detail::grant_state> state)
      : unrestricted_(unrestricted), state_(std::move(state)) {}

  bool unrestricted_ = false;
  std::shared_ptr<const detail::grant_state> state_;  // null: no rule matched
};

// The grant as the endpoints ask it (session_narrowing::access); null when it is unrestricted
// (nothing to ask).
std::shared_ptr<const protocol::item_access> as_item_access(access_grant grant);

class access_policy {
 public:
  // Disabled: every grant is unrestricted.
  access_policy() = default;
  explicit access_policy(config::access_config config);

  bool enabled() const { return state_ != nullptr; }
  // The rules that match `who`, or the default when none does. Allocates once when some rule
  // matches (the list of matching rules), not at all otherwise.
  access_grant grant_for(const identity& who) const;

 private:
  std::shared_ptr<const detail::policy_state> state_;  // null: disabled
};

}  // namespace mcp_proxy::auth
