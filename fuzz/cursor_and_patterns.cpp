// libFuzzer target: what a client of a merged endpoint controls besides JSON: the `cursor` it
// hands back, and the names and URIs matched against glob patterns and URI templates (patterns
// come from config, templates from backends: both untrusted enough). Properties: decoding never
// crashes; a cursor that decodes re-encodes to one that decodes to the same positions; glob and
// template matching end (bounded) and agree with themselves on a literal pattern.

#include "protocol/composite_cursor.hpp"
#include "protocol/patterns.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

using namespace mcp_proxy::protocol;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  static const cursor_codec codec(std::string("fuzz-key"));

  if (auto decoded = codec.decode(input, 7)) {
    auto again = codec.decode(codec.encode(*decoded), 7);
    if (!again || !(*again == *decoded)) std::abort();
  }

  // "pattern\ntext": a glob and a URI template against a name or URI.
  const auto newline = input.find('\n');
  const auto pattern = input.substr(0, newline);
  const auto text =
      newline == std::string_view::npos ? std::string_view() : input.substr(newline + 1);
  (void)glob_match(pattern, text);
  (void)uri_template_matches(pattern, text);
  // A pattern without wildcards matches exactly itself.
  if (pattern.find_first_of("*?") == std::string_view::npos &&
      glob_match(pattern, text) != (pattern == text))
    std::abort();
  return 0;
}
