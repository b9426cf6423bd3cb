#pragma once
// The handler behind message.cpp's check of a kept response and streamed_check.cpp's check of a
// streamed one (internal to jsonrpc/).

#include <boost/json/basic_parser.hpp>
#include <boost/json/error.hpp>
#include <boost/json/string_view.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>

namespace mcp_proxy::jsonrpc::detail {

namespace json = boost::json;

// Checks JSON text without building it: Boost.JSON's own parser (the same grammar, UTF-8 and
// depth checks as parse()) with a handler that keeps nothing and allocates nothing, refusing a
// number beyond double range as from_value does.
struct json_checker {
  using ec_t = boost::system::error_code;
  constexpr static std::size_t max_object_size = std::size_t(-1);
  constexpr static std::size_t max_array_size = std::size_t(-1);
  constexpr static std::size_t max_key_size = std::size_t(-1);
  constexpr static std::size_t max_string_size = std::size_t(-1);
  bool on_document_begin(ec_t&) { return true; }
  bool on_document_end(ec_t&) { return true; }
  bool on_array_begin(ec_t&) { return true; }
  bool on_array_end(std::size_t, ec_t&) { return true; }
  bool on_object_begin(ec_t&) { return true; }
  bool on_object_end(std::size_t, ec_t&) { return true; }
  bool on_string_part(json::string_view, std::size_t, ec_t&) { return true; }
  bool on_string(json::string_view, std::size_t, ec_t&) { return true; }
  bool on_key_part(json::string_view, std::size_t, ec_t&) { return true; }
  bool on_key(json::string_view, std::size_t, ec_t&) { return true; }
  bool on_number_part(json::string_view, ec_t&) { return true; }
  bool on_int64(std::int64_t, json::string_view, ec_t&) { return true; }
  bool on_uint64(std::uint64_t, json::string_view, ec_t&) { return true; }
  bool on_double(double d, json::string_view, ec_t& ec) {
    if (std::isfinite(d)) return true;
    ec = json::error::exponent_overflow;
    return false;
  }
  bool on_bool(bool, ec_t&) { return true; }
  bool on_null(ec_t&) { return true; }
  bool on_comment_part(json::string_view, ec_t&) { return true; }
  bool on_comment(json::string_view, ec_t&) { return true; }
};

}  // namespace mcp_proxy::jsonrpc::detail
