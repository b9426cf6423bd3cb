#pragma once
// Reads the top level of a JSON object without building it (sans-io): the members of a message
// that Boost.JSON refused (nested deeper than the bound, say) or that is only looked at for its
// id. Linear in the text, with no recursion and no allocation whatever the nesting, so hostile
// input (a megabyte of `[`, an unterminated string, NULs) costs one pass and cannot exhaust the
// stack. Values below the top level are skipped by counting brackets, not checked: the scan
// says where members are, not that the document is valid JSON.
// Thread-safety: plain functions.

#include <boost/json/value.hpp>

#include <optional>
#include <string_view>

namespace mcp_proxy::jsonrpc {

struct top_level {
  // The text of the "id" member's value as written (`1.5`, `"a\"b"`, `null`, `{...}`); the last
  // one when the key is repeated, as Boost.JSON keeps the last.
  std::optional<std::string_view> id;
  // The "jsonrpc" member's value as written (`"2.0"`).
  std::optional<std::string_view> jsonrpc;
  bool has_method = false, has_result = false, has_error = false;
  // One of the members above appears more than once.
  bool repeated = false;
};

// nullopt unless `text` is one JSON object (whitespace around it allowed) whose members are
// well delimited: every key a complete string, every value complete, brackets balanced.
std::optional<top_level> scan_top_level(std::string_view text);

// The request id of a message that is readable at its top level: a string or a finite number,
// as JSON-RPC allows; null otherwise (no id, a null, object or array id, or no object at all).
boost::json::value readable_id(std::string_view text);

// A message as far as its top level can be read (one that did not parse, or one only looked at
// for its id): the id it carries (null when none can be read) and whether it is a request
// (method and id) or a response (result or error, and id). Neither when the text is not
// readable at its top level or has no valid id.
struct message_outline {
  boost::json::value id;
  bool is_request = false;
  bool is_response = false;
};
message_outline outline_of(std::string_view text);

// The head of a response whose result is still arriving: `{"jsonrpc":"2.0","id":ID,"result":`,
// "jsonrpc" and "id" in either order, each once, and no other member before "result"
// (whitespace anywhere between tokens). What a proxy needs to pass the rest on as it comes.
struct response_head {
  boost::json::value id;
  std::size_t id_at = 0, id_size = 0;  // where the id is written
  std::size_t result_at = 0;           // just after the colon that follows "result"
};
// nullopt when `text` does not start with such a head (or not all of it yet), or the id is not
// a string or a finite number.
std::optional<response_head> scan_response_head(std::string_view text);

}  // namespace mcp_proxy::jsonrpc
