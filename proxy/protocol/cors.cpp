#include "protocol/cors.hpp"

#include "protocol/http_rules.hpp"
#include "util/ascii.hpp"

namespace mcp_proxy::protocol {

namespace {

// The Mcp-Param-* names (2026-07-28) among the requested ones, as the client spelled them.
std::string param_headers_of(std::string_view requested) {
  std::string out;
  while (!requested.empty()) {
    const auto comma = requested.find(',');
    const auto name = util::trim_ows(requested.substr(0, comma));
    bool token = name.size() > 10 && util::ascii_iequals(name.substr(0, 10), "Mcp-Param-");
    for (char c : name)
      if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_'))
        token = false;
    if (token) {
      out += ", ";
      out += name;
    }
    if (comma == std::string_view::npos) break;
    requested.remove_prefix(comma + 1);
  }
  return out;
}

bool allowed(const cors_policy& policy, std::string_view origin) {
  static const std::vector<std::string> none;
  return origin_allowed(origin, policy.allowed_origins ? *policy.allowed_origins : none);
}

}  // namespace

preflight_answer answer_preflight(const cors_policy& policy, std::optional<std::string_view> origin,
                                  std::optional<std::string_view> request_headers) {
  preflight_answer out;
  out.headers.emplace_back("Allow", std::string(cors_allowed_methods));
  if (!origin) return out;
  if (!allowed(policy, *origin)) {
    out.status = 403;
    out.headers.clear();
    out.text = "Forbidden: origin not allowed (mcpProxy.allowedOrigins)";
    return out;
  }
  out.headers = cors_response_headers(policy, origin);
  out.headers.emplace_back("Access-Control-Allow-Methods", std::string(cors_allowed_methods));
  // Always listed, so a script can send them even when the browser did not ask first;
  // Mcp-Param-* names are open-ended: each one asked for is allowed by name.
  std::string headers(cors_allowed_headers);
  if (request_headers) headers += param_headers_of(*request_headers);
  out.headers.emplace_back("Access-Control-Allow-Headers", std::move(headers));
  out.headers.emplace_back("Access-Control-Max-Age", std::to_string(policy.max_age.count()));
  for (auto& h : out.headers)
    if (h.first == "Vary")
      h.second = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers";
  return out;
}

header_list cors_response_headers(const cors_policy& policy,
                                  std::optional<std::string_view> origin) {
  header_list out;
  if (!origin || !allowed(policy, *origin)) return out;
  out.emplace_back("Access-Control-Allow-Origin", std::string(*origin));
  if (policy.allow_credentials) out.emplace_back("Access-Control-Allow-Credentials", "true");
  out.emplace_back("Access-Control-Expose-Headers", std::string(cors_exposed_headers));
  out.emplace_back("Vary", "Origin");
  return out;
}

}  // namespace mcp_proxy::protocol
