#pragma once
// The scopes a verified access token grants, and the test of the scopes a route or a tool
// requires (the 403 insufficient_scope of RFC 6750 section 3.1 names the ones missing).
// Authorization servers spell them two ways: "scope", a string of space-separated scopes
// (RFC 8693 section 4.2, RFC 9068 section 2.2.3), and "scp", an array of strings (Okta) or a
// space-separated string (Microsoft Entra ID). Both are read; the grant is their union. Scopes
// compare exactly, case-sensitively (RFC 6749 section 3.3).
// Thread-safety: an immutable value.

#include <boost/json/object.hpp>
#include <boost/system/result.hpp>

#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace mcp_proxy::auth {

class scope_set {
 public:
  scope_set() = default;
  // From a space-separated list (empty entries between repeated spaces are ignored).
  static scope_set from_string(std::string_view list);
  // From the claims. An error (one line) when scope or scp has another type or holds a value
  // that is not a string: the token is invalid_token, not merely short of scopes.
  static boost::system::result<scope_set, std::string> from_claims(
      const boost::json::object& claims);

  bool contains(std::string_view scope) const { return scopes_.find(scope) != scopes_.end(); }
  // The scopes of `required` this set lacks, in the order given (empty: all granted).
  std::vector<std::string> missing(const std::vector<std::string>& required) const;
  bool contains_all(const std::vector<std::string>& required) const {
    return missing(required).empty();
  }
  const std::set<std::string, std::less<>>& scopes() const { return scopes_; }

 private:
  void add_list(std::string_view list);
  std::set<std::string, std::less<>> scopes_;
};

// The value of the scope attribute of a WWW-Authenticate insufficient_scope answer: the scopes
// space-separated (RFC 6750 section 3).
std::string scope_attribute(const std::vector<std::string>& scopes);

}  // namespace mcp_proxy::auth
