// jsonrpc::streamed_check (declared in message.hpp): a streamed response checked as it arrives.
#include "jsonrpc/json_checker.hpp"
#include "jsonrpc/message.hpp"

#include <boost/json/basic_parser_impl.hpp>

#include <algorithm>
#include <string>

namespace mcp_proxy::jsonrpc {

namespace json = boost::json;

namespace {

using detail::json_checker;

// json_checker that also reads the top-level keys: none of a response's own members may come
// again once its result has begun.
struct top_key_checker : json_checker {
  std::size_t depth = 0;
  bool in_result = false;
  std::string key;  // a top-level key's parts so far (only short ones can matter)
  bool on_array_begin(ec_t&) {
    ++depth;
    return true;
  }
  bool on_array_end(std::size_t, ec_t&) {
    --depth;
    return true;
  }
  bool on_object_begin(ec_t&) {
    ++depth;
    return true;
  }
  bool on_object_end(std::size_t, ec_t&) {
    --depth;
    return true;
  }
  bool on_key_part(json::string_view part, std::size_t, ec_t&) {
    if (depth == 1 && key.size() < 16)
      key.append(part.data(), std::min<std::size_t>(part.size(), 16));
    return true;
  }
  bool on_key(json::string_view part, std::size_t n, ec_t& ec) {
    if (depth != 1) return true;
    on_key_part(part, n, ec);
    const std::string_view k = n == key.size() ? std::string_view(key) : std::string_view();
    const bool is_result = k == "result";
    const bool own = is_result || k == "jsonrpc" || k == "id" || k == "error" || k == "method";
    key.clear();
    if (own && in_result) {
      ec = json::error::syntax;
      return false;
    }
    in_result = in_result || is_result;
    return true;
  }
};

json::parse_options bounded() {
  json::parse_options o;
  o.max_depth = max_json_depth();
  return o;
}

}  // namespace

struct streamed_check::impl {
  json::basic_parser<top_key_checker> parser{bounded()};
  bool failed = false;
  bool ended = false;  // the object is whole: only whitespace may follow
};

streamed_check::streamed_check() : impl_(std::make_unique<impl>()) {}
streamed_check::~streamed_check() = default;
streamed_check::streamed_check(streamed_check&&) noexcept = default;
streamed_check& streamed_check::operator=(streamed_check&&) noexcept = default;

bool streamed_check::feed(std::string_view part) {
  auto& d = *impl_;
  if (!d.failed && !d.ended) {
    boost::system::error_code ec;
    const auto used = d.parser.write_some(true, part.data(), part.size(), ec);
    d.failed = ec.failed();
    d.ended = !d.failed && d.parser.done();
    part.remove_prefix(d.failed ? 0 : used);
    if (!d.failed && !d.ended && !part.empty()) d.failed = true;
  }
  if (d.ended && part.find_first_not_of(" \t\r\n") != std::string_view::npos) d.failed = true;
  return !d.failed;
}

bool streamed_check::finish() {
  auto& d = *impl_;
  if (d.failed || d.ended) return !d.failed;
  boost::system::error_code ec;
  d.parser.write_some(false, nullptr, 0, ec);
  d.failed = ec.failed() || !d.parser.done();
  return !d.failed;
}

}  // namespace mcp_proxy::jsonrpc
