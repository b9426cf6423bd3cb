#include "protocol/http_rules.hpp"

#include "util/ascii.hpp"

#include "protocol/versions.hpp"

#include <boost/url/parse.hpp>

#include <algorithm>
#include <cctype>

namespace mcp_proxy::protocol {

namespace {

bool is_loopback_host(std::string_view host) {
  return util::ascii_iequals(host, "localhost") || host == "127.0.0.1" || host == "[::1]" ||
         host == "::1";
}

// "q=0" (or 0.0, 0.00...) marks a media range as not acceptable.
bool excluded(std::string_view params) {
  while (!params.empty()) {
    auto semi = params.find(';');
    auto p = util::trim_ows(params.substr(0, semi));
    params = semi == std::string_view::npos ? std::string_view{} : params.substr(semi + 1);
    if (p.size() >= 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
      auto v = p.substr(2);
      return !v.empty() &&
             std::all_of(v.begin(), v.end(), [](char c) { return c == '0' || c == '.'; });
    }
  }
  return false;
}

}  // namespace

bool origin_allowed(std::string_view origin, const std::vector<std::string>& allowed) {
  for (const auto& a : allowed)
    if (a == "*" || util::ascii_iequals(a, origin)) return true;
  auto url = boost::urls::parse_absolute_uri(origin);
  if (!url) return false;
  if (!util::ascii_iequals(url->scheme(), "http") && !util::ascii_iequals(url->scheme(), "https"))
    return false;
  // An origin is scheme, host and port only (RFC 6454): nothing else may ride along.
  if (!url->has_authority() || url->has_userinfo() || url->has_query() || url->has_fragment() ||
      !(url->path().empty() || url->path() == "/"))
    return false;
  return is_loopback_host(url->encoded_host_address());
}

bool host_allowed(std::string_view host_header, bool loopback_listener,
                  const std::vector<std::string>& allowed) {
  host_header = util::trim_ows(host_header);
  // The host without its port: "[::1]:9090" -> "[::1]", "localhost:9090" -> "localhost".
  std::string_view name = host_header;
  if (name.starts_with('[')) {
    name =
        name.substr(0, name.find(']') == std::string_view::npos ? name.size() : name.find(']') + 1);
  } else if (auto colon = name.rfind(':'); colon != std::string_view::npos) {
    name = name.substr(0, colon);
  }
  for (const auto& a : allowed)
    if (a == "*" || util::ascii_iequals(a, host_header) || util::ascii_iequals(a, name))
      return true;
  if (!loopback_listener) return allowed.empty();
  if (name.empty()) return false;
  std::string_view address = name;
  if (address.starts_with('[') && address.ends_with(']'))
    address = address.substr(1, address.size() - 2);
  return is_loopback_host(address);
}

bool accepts(std::string_view accept_header, std::string_view media_type) {
  // RFC 9110 section 12.5.1: the most specific matching range decides (type/subtype over type/*
  // over */*), so "application/json;q=0, */*" excludes JSON.
  auto slash = media_type.find('/');
  std::string_view type = media_type.substr(0, slash);
  int best_specificity = -1;
  bool best_acceptable = false;
  while (!accept_header.empty()) {
    auto comma = accept_header.find(',');
    auto range = util::trim_ows(accept_header.substr(0, comma));
    accept_header =
        comma == std::string_view::npos ? std::string_view{} : accept_header.substr(comma + 1);
    auto semi = range.find(';');
    auto mr = util::trim_ows(range.substr(0, semi));
    int specificity = -1;
    if (util::ascii_iequals(mr, media_type))
      specificity = 2;
    else if (mr.size() == type.size() + 2 && util::ascii_iequals(mr.substr(0, type.size()), type) &&
             mr.substr(type.size()) == "/*")
      specificity = 1;
    else if (mr == "*/*")
      specificity = 0;
    if (specificity <= best_specificity) continue;
    best_specificity = specificity;
    best_acceptable = semi == std::string_view::npos || !excluded(range.substr(semi + 1));
  }
  return best_acceptable;
}

bool content_type_is(std::string_view content_type, std::string_view media_type) {
  return util::ascii_iequals(util::trim_ows(content_type.substr(0, content_type.find(';'))),
                             media_type);
}

bool valid_session_id(std::string_view id) {
  return !id.empty() &&
         std::all_of(id.begin(), id.end(), [](char c) { return c >= 0x21 && c <= 0x7e; });
}

std::string route_prefix(std::string_view base_url) {
  auto u = boost::urls::parse_uri(base_url);
  if (!u) return {};
  std::string path(u->encoded_path());
  while (!path.empty() && path.back() == '/') path.pop_back();
  return path;
}

std::optional<route> parse_route(std::string_view path, std::string_view prefix) {
  if (!path.starts_with(prefix)) return std::nullopt;
  path.remove_prefix(prefix.size());
  if (path.size() > 1 && path.back() == '/') path.remove_suffix(1);  // "/fs/sse/" = "/fs/sse"
  if (path.size() < 3 || path.front() != '/') return std::nullopt;
  const auto slash = path.find('/', 1);
  if (slash == std::string_view::npos) {
    route merged{{}, path.substr(1)};
    if (merged.kind == "mcp" || merged.kind == "sse" || merged.kind == "message") return merged;
    return std::nullopt;
  }
  route r{path.substr(1, slash - 1), path.substr(slash + 1)};
  if (r.name.empty() || (r.kind != "mcp" && r.kind != "sse" && r.kind != "message"))
    return std::nullopt;
  return r;
}

namespace {

void append_list(std::string_view text, std::vector<std::string>& out) {
  while (!text.empty()) {
    const auto comma = text.find(',');
    auto item = text.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (!item.empty()) out.emplace_back(item);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
}

}  // namespace

session_narrowing narrowing_of(std::string_view target, std::string_view servers_header,
                               std::string_view tools_header) {
  session_narrowing n;
  if (auto url = boost::urls::parse_origin_form(target)) {
    for (auto param : url->params()) {
      if (!param.has_value) continue;
      if (param.key == "servers") append_list(param.value, n.servers);
      if (param.key == "tools") append_list(param.value, n.tools);
    }
  }
  append_list(servers_header, n.servers);
  append_list(tools_header, n.tools);
  return n;
}

std::optional<rejection> check_request(const request_facts& r) {
  if (r.allowed_hosts && !host_allowed(r.host, r.loopback_listener, *r.allowed_hosts))
    return rejection{403, "Forbidden: host not allowed", {}};
  if (r.origin && r.allowed_origins && !origin_allowed(*r.origin, *r.allowed_origins))
    return rejection{403, "Forbidden: origin not allowed", {}};
  const bool get = r.method == "GET", post = r.method == "POST";
  if (r.kind == "sse") {
    if (!get) return rejection{405, "Method not allowed", "GET"};
    if (r.accept && !accepts(*r.accept, "text/event-stream"))
      return rejection{406, "Not Acceptable: Accept must list text/event-stream", {}};
    return std::nullopt;
  }
  if (r.kind == "message") {
    if (!post) return rejection{405, "Method not allowed", "POST"};
    if (!r.content_type || !content_type_is(*r.content_type, "application/json"))
      return rejection{415, "Unsupported Media Type: Content-Type must be application/json", {}};
    return std::nullopt;
  }
  // Streamable HTTP (`mcp`). A POST's version header is checked with its body (the era of a
  // request is in its _meta: protocol::is_modern). A GET or DELETE of a 2026-07-28 client has
  // no session or stream to act on (2026-07-28 streamable-http, earlier revisions: 405).
  if (r.protocol_version && !post) {
    if (protocol::era_of(*r.protocol_version) == protocol::era::modern)
      return rejection{405,
                       "Method not allowed: protocol version " + std::string(*r.protocol_version) +
                           " has no GET stream and no session",
                       "POST"};
    if (!protocol::is_supported_version(*r.protocol_version))
      return rejection{
          400,
          "Bad Request: unsupported MCP-Protocol-Version " + std::string(*r.protocol_version),
          {}};
  }
  if (post) {
    if (!r.content_type || !content_type_is(*r.content_type, "application/json"))
      return rejection{415, "Unsupported Media Type: Content-Type must be application/json", {}};
    // The client MUST accept both answer forms (spec: Streamable HTTP, sending messages).
    if (!r.accept || !accepts(*r.accept, "application/json") ||
        !accepts(*r.accept, "text/event-stream"))
      return rejection{
          406, "Not Acceptable: Accept must list application/json and text/event-stream", {}};
    return std::nullopt;
  }
  if (!get && r.method != "DELETE")
    return rejection{405, "Method not allowed", "GET, POST, DELETE"};
  if (get && !r.get_stream_offered)
    return rejection{405, "this server offers no GET stream", "POST, DELETE"};
  if (get && (!r.accept || !accepts(*r.accept, "text/event-stream")))
    return rejection{406, "Not Acceptable: Accept must list text/event-stream", {}};
  return std::nullopt;
}

}  // namespace mcp_proxy::protocol
