#pragma once
// Internal to aggregate_endpoint*.cpp: small JSON accessors and the rules both halves share.

#include "jsonrpc/message.hpp"

#include <boost/json/object.hpp>

#include <optional>
#include <string_view>

namespace mcp_proxy::core::detail {

// Pages of one list walked to learn names before routing an unknown one; a bound against a
// member whose cursors never end.
inline constexpr int max_learning_pages = 100;

inline const boost::json::object* object_member(const boost::json::object& o,
                                                std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_object() ? &v->get_object() : nullptr;
}

inline std::optional<std::string_view> string_member(const boost::json::object* o,
                                                     std::string_view key) {
  const auto* v = o ? o->if_contains(key) : nullptr;
  if (!v || !v->is_string()) return std::nullopt;
  return std::string_view(v->get_string());
}

// On a merged endpoint a log message names the server it came from: its `logger` becomes
// "{server}/{logger}", or "{server}" when it had none.
void name_logger(jsonrpc::message& m, std::string_view server);

}  // namespace mcp_proxy::core::detail
