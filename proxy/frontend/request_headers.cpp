#include "frontend/request_headers.hpp"

#include "util/ascii.hpp"

namespace mcp_proxy::frontend {

namespace bhttp = boost::beast::http;

namespace {
std::string_view name_of(const bhttp::fields::value_type& f) {
  return {f.name_string().data(), f.name_string().size()};
}
}  // namespace

void read_facts(const bhttp::fields& fields, protocol::request_facts& facts) {
  bool host = false;
  for (const auto& f : fields) {
    switch (f.name()) {
      case bhttp::field::host:
        if (!host) facts.host = f.value();
        host = true;
        break;
      case bhttp::field::origin:
        if (!facts.origin) facts.origin = f.value();
        break;
      case bhttp::field::content_type:
        if (!facts.content_type) facts.content_type = f.value();
        break;
      case bhttp::field::accept:
        if (!facts.accept) facts.accept = f.value();
        break;
      case bhttp::field::unknown:
        if (!facts.protocol_version && util::ascii_iequals(name_of(f), version_header))
          facts.protocol_version = f.value();
        break;
      default:
        break;
    }
  }
}

mcp_header_values mcp_headers(const bhttp::fields& fields) {
  mcp_header_values out;
  for (const auto& f : fields) {
    if (f.name() != bhttp::field::unknown) continue;
    const auto name = name_of(f);
    if (!out.version && util::ascii_iequals(name, version_header))
      out.version = f.value();
    else if (!out.session && util::ascii_iequals(name, session_header))
      out.session = f.value();
    else if (!out.method && util::ascii_iequals(name, "Mcp-Method"))
      out.method = f.value();
    else if (!out.name && util::ascii_iequals(name, "Mcp-Name"))
      out.name = f.value();
  }
  return out;
}

}  // namespace mcp_proxy::frontend
