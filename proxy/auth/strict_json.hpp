#pragma once
// The JSON of JOSE objects (JWS headers, JWT claims, JWK sets), parsed strictly: a single object,
// bounded depth, valid UTF-8, and no key twice in any object. Boost.JSON keeps the last of two
// equal keys silently, and two parsers that pick different duplicates is how a token says one
// thing to a checker and another to a consumer (RFC 7515 section 4 and RFC 7519 section 4 say to
// reject such input).
// Thread-safety: a plain function.

#include <boost/json/object.hpp>
#include <boost/system/result.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace mcp_proxy::auth {

// The error says what is wrong in one line, and never quotes the input.
boost::system::result<boost::json::object, std::string> parse_strict_object(std::string_view text,
                                                                            std::size_t max_depth);

}  // namespace mcp_proxy::auth
