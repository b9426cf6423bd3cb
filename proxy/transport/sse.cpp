#include "transport/sse.hpp"

namespace mcp_proxy::transport {

namespace {
// A field value ends at a line break; dropping CR and LF keeps a field from starting another.
void append_field(std::string& out, std::string_view name, std::string_view value) {
  out.append(name).append(": ");
  for (char c : value)
    if (c != '\r' && c != '\n') out.push_back(c);
  out.push_back('\n');
}
}  // namespace

std::string encode_sse_event(std::string_view data, std::string_view event, std::string_view id) {
  std::string out;
  out.reserve(data.size() + event.size() + id.size() + 32);
  if (!event.empty()) append_field(out, "event", event);
  if (!id.empty()) append_field(out, "id", id);
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
  std::string out;
  append_field(out, "", text);
  out.push_back('\n');
  return out;
}

}  // namespace mcp_proxy::transport
