#include "transport/sse.hpp"

namespace mcp_proxy::transport {

std::string encode_sse_event(std::string_view data, std::string_view event, std::string_view id) {
  std::string out;
  out.reserve(data.size() + event.size() + id.size() + 32);
  if (!event.empty()) out.append("event: ").append(event).append("\n");
  if (!id.empty()) out.append("id: ").append(id).append("\n");
  // A data field cannot hold a line break: each line of the payload becomes its own data line.
  std::size_t start = 0;
  for (;;) {
    std::size_t nl = data.find_first_of("\r\n", start);
    out.append("data: ").append(data.substr(start, nl - start)).append("\n");
    if (nl == std::string_view::npos) break;
    start = nl + ((data[nl] == '\r' && nl + 1 < data.size() && data[nl + 1] == '\n') ? 2 : 1);
  }
  out.append("\n");
  return out;
}

std::string encode_sse_comment(std::string_view text) {
  std::string out(": ");
  out.append(text).append("\n\n");
  return out;
}

}  // namespace mcp_proxy::transport
