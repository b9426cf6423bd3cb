// mcpProxy.metrics and TBXark's mcpProxy.options.metrics (docs/configuration.md, "Metrics"):
// whether GET /metrics is served, at which path, and on which listener.
//
// TBXark's keys (its pull request 36, "add metrics") mean: without a `metrics` object the
// endpoint is on at /metrics; with one, it is on only when "enabled" is true (an absent
// "enabled" reads as false, as Go reads a missing bool) and "disableEndpoint" is not;
// "endpointPath" moves it; "collectInterval" is read by nothing. mcpProxy.metrics takes the same
// keys, with "enabled" true unless said otherwise, and "addr" for a listener of its own.

#include "config/config_reader.hpp"

#include "protocol/http_rules.hpp"

namespace mcp_proxy::config::detail {

namespace json = boost::json;

namespace {

struct metrics_state {
  metrics_config& out;
  bool disable_endpoint = false;
};

void read_enabled(reader& r, const json::value& v, std::string_view path, metrics_state& m) {
  r.read_bool(v, path, m.out.enabled);
}

void read_disable_endpoint(reader& r, const json::value& v, std::string_view path,
                           metrics_state& m) {
  r.read_bool(v, path, m.disable_endpoint);
}

void read_endpoint_path(reader& r, const json::value& v, std::string_view path, metrics_state& m) {
  auto& p = m.out.path;
  if (!r.read_non_empty_string(v, path, p)) return;
  if (p.front() != '/' || p.find_first_of("?# \t\r\n") != std::string::npos)
    r.fail(path, "expected a path such as \"/metrics\" (a leading /, no query), got " + quoted(p));
  else if (p == "/health" || p == "/healthz" || p == "/readyz")
    r.fail(path, quoted(p) + " is a probe's path: choose another, such as \"/metrics\"");
  else if (protocol::parse_route(p, ""))
    r.fail(path, quoted(p) +
                     " has the shape of an MCP route (/NAME/mcp, /sse, /message): "
                     "choose another, such as \"/metrics\"");
}

void read_metrics_addr(reader& r, const json::value& v, std::string_view path, metrics_state& m) {
  if (!r.read_non_empty_string(v, path, m.out.addr)) return;
  if (auto problem = listen_address_problem(m.out.addr)) r.fail(path, *problem);
}

void check_interval(reader& r, const json::value& v, std::string_view path, metrics_state&) {
  std::string unused;
  r.read_string(v, path, unused);
}

constexpr auto tbxark_keys = std::to_array<key_rule<metrics_state>>({
    {"enabled", read_enabled},
    {"disableEndpoint", read_disable_endpoint},
    {"endpointPath", read_endpoint_path},
    {"collectInterval", check_interval, key_use::no_effect},
});

constexpr auto metrics_keys =
    joined(tbxark_keys, std::to_array<key_rule<metrics_state>>({{"addr", read_metrics_addr}}));

void read_into(reader& r, const json::value& v, std::string_view path, config& c,
               std::span<const key_rule<metrics_state>> keys, bool enabled_by_default) {
  // Given twice, the second would silently win: one place only.
  if (c.proxy.metrics.read_at.empty()) {
    c.proxy.metrics.read_at = std::string(path);
  } else {
    r.fail(path, "metrics are configured at " + c.proxy.metrics.read_at + " already: keep one");
    return;
  }
  metrics_state m{c.proxy.metrics};
  m.out.enabled = enabled_by_default;
  if (!r.read_object<metrics_state>(v, path, keys, m)) return;
  if (m.disable_endpoint) m.out.enabled = false;
}

}  // namespace

void read_metrics(reader& r, const json::value& v, std::string_view path, config& c) {
  read_into(r, v, path, c, metrics_keys, true);
}

void read_tbxark_metrics(reader& r, const json::value& v, std::string_view path, config& c) {
  read_into(r, v, path, c, tbxark_keys, false);
}

}  // namespace mcp_proxy::config::detail
