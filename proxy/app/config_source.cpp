#include "app/config_source.hpp"

#include "config/config_check.hpp"
#include "config/config_values.hpp"
#include "http/request_auth.hpp"
#include "protocol/http_target.hpp"
#include "transport/http_fetch.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>

#include <exception>

namespace mcp_proxy {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

// Go's redirect limit (net/http: "stopped after 10 redirects").
constexpr int max_redirects = 10;
// As for a file (config.cpp).
constexpr std::size_t max_config_bytes = 16u * 1024 * 1024;

std::string_view trim_spaces(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t\r\n");
  return s.substr(first, last - first + 1);
}

bool is_redirect(unsigned status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

// Why a fetch failed (a type of its own: result<string, string> cannot tell its sides apart).
struct fetch_error {
  std::string what;
};

// The whole fetch, redirects included, within `timeout` (as Go's http.Client.Timeout).
asio::awaitable<boost::system::result<std::string, fetch_error>> fetch_config(
    transport::http_fetcher& fetcher, const config_source& source) {
  const auto deadline = std::chrono::steady_clock::now() + source.http_timeout;
  std::string url = source.location;
  const auto first = protocol::parse_target(url);
  if (!first) co_return fetch_error{first.error()};
  for (int hop = 0; hop <= max_redirects; ++hop) {
    const auto target = protocol::parse_target(url);
    if (!target) co_return fetch_error{target.error()};
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left <= std::chrono::milliseconds::zero())
      co_return fetch_error{"no answer from " + target->origin + " within " +
                            std::to_string(source.http_timeout.count()) + " s (-http-timeout)"};
    transport::fetch_request request;
    request.url = url;
    request.timeout = left;
    request.max_body = max_config_bytes;
    // Credentials go to the host they were given for, not to where it redirects.
    if (target->host == first->host) {
      if (!target->basic_auth.empty())
        request.headers.emplace_back("Authorization", target->basic_auth);
      for (const auto& h : source.http_headers) request.headers.push_back(h);
    }
    auto answer = co_await fetcher.fetch(request);
    if (!answer) co_return fetch_error{answer.error()};
    if (is_redirect(answer->status) && !answer->location.empty()) {
      auto base = boost::urls::parse_uri(url);
      auto ref = boost::urls::parse_uri_reference(answer->location);
      if (!base || !ref)
        co_return fetch_error{target->shown + " redirected to an invalid location"};
      boost::urls::url next;
      if (!boost::urls::resolve(*base, *ref, next))
        co_return fetch_error{target->shown + " redirected to an invalid location"};
      url = std::string(next.buffer());
      continue;
    }
    if (answer->status < 200 || answer->status >= 300)
      co_return fetch_error{"GET " + target->shown + " answered HTTP " +
                            std::to_string(answer->status)};
    co_return boost::system::result<std::string, fetch_error>(boost::system::in_place_value,
                                                              std::move(answer->body));
  }
  co_return fetch_error{"GET " + first->shown + ": more than " + std::to_string(max_redirects) +
                        " redirects"};
}

// The text of the config at `source`: a fetch on an io_context of its own.
boost::system::result<std::string, fetch_error> fetch_config_text(const config_source& source) {
  asio::io_context ctx(1);
  transport::http_fetcher fetcher(ctx.get_executor());
  if (source.insecure) fetcher.skip_verification();
  boost::system::result<std::string, fetch_error> out = fetch_error{"the fetch did not run"};
  asio::co_spawn(ctx, fetch_config(fetcher, source),
                 [&](std::exception_ptr e, boost::system::result<std::string, fetch_error> r) {
                   if (e)
                     out = fetch_error{"the fetch failed"};
                   else
                     out = std::move(r);
                 });
  ctx.run();
  return out;
}

// Two-space indented JSON, for people.
void write_pretty(std::string& out, const json::value& v, int depth) {
  const std::string pad(2 * (depth + 1), ' '), end_pad(2 * depth, ' ');
  if (const auto* o = v.if_object(); o && !o->empty()) {
    out += "{\n";
    bool first = true;
    for (const auto& kv : *o) {
      if (!first) out += ",\n";
      first = false;
      out += pad + json::serialize(json::string(kv.key())) + ": ";
      write_pretty(out, kv.value(), depth + 1);
    }
    out += "\n" + end_pad + "}";
  } else if (const auto* a = v.if_array(); a && !a->empty()) {
    out += "[\n";
    for (std::size_t i = 0; i < a->size(); ++i) {
      if (i) out += ",\n";
      out += pad;
      write_pretty(out, (*a)[i], depth + 1);
    }
    out += "\n" + end_pad + "]";
  } else {
    out += json::serialize(v);
  }
}

// Beyond loopback, a route that needs no token is refused at start (app.cpp's serve()).
std::vector<config::config_problem> exposure_problems(const config::config& c) {
  std::vector<config::config_problem> out;
  const auto listen = config::parse_listen_address(c.proxy.addr);
  if (!listen || c.proxy.allow_unauthenticated || c.proxy.oauth.enabled) return out;
  if (c.proxy.tls.enabled() &&
      c.proxy.tls.client_certificates == config::tls_listener_config::client_certs::required)
    return out;
  boost::system::error_code ec;
  const auto ip =
      asio::ip::make_address(listen->host == "localhost" ? "127.0.0.1" : listen->host, ec);
  if (ec || ip.is_loopback()) return out;
  std::string open;
  for (const auto& [name, security] : http::security_of_routes(c))
    if (security.tokens.empty())
      open += (open.empty() ? "/" : ", /") + (name.empty() ? "" : name + "/") + "mcp";
  if (!open.empty())
    out.push_back(
        {"$.mcpProxy.addr", c.proxy.addr +
                                " is reachable from other machines, and these routes need no "
                                "token: " +
                                open +
                                ". Set mcpProxy.options.authTokens (or a server's own), or "
                                "mcpProxy.allowUnauthenticated: true (--allow-unauthenticated)"});
  return out;
}

}  // namespace

void config_overrides::apply(config::config& c) const {
  if (!addr.empty()) {
    c.proxy.addr = addr;
    c.proxy.addr_origin = "--addr";
  }
  if (allow_unauthenticated) c.proxy.allow_unauthenticated = true;
}

bool is_config_url(std::string_view location) {
  auto u = boost::urls::parse_uri(location);
  if (!u) return false;
  const auto scheme = u->scheme_id();
  return (scheme == boost::urls::scheme::http || scheme == boost::urls::scheme::https) &&
         u->has_authority() && !u->encoded_host().empty();
}

boost::system::result<std::vector<std::pair<std::string, std::string>>, std::string>
parse_http_headers(std::string_view text) {
  std::vector<std::pair<std::string, std::string>> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto end = std::min(text.find(';', start), text.size());
    const auto entry = text.substr(start, end - start);
    start = end + 1;
    const auto colon = entry.find(':');
    if (colon == std::string_view::npos) continue;
    const auto name = trim_spaces(entry.substr(0, colon));
    const auto value = trim_spaces(entry.substr(colon + 1));
    if (name.empty() || value.empty()) continue;
    if (!config::detail::is_header_token(name))
      return "-http-headers: " + config::detail::quoted(name) + " is not an HTTP header name";
    if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos)
      return "-http-headers: the value of " + std::string(name) + " holds a line break or NUL";
    out.emplace_back(std::string(name), std::string(value));
  }
  return out;
}

boost::system::result<config::config, config::config_error> load_config_source(
    const config_source& source) {
  if (!is_config_url(source.location))
    return config::load_config_file(source.location, source.load);
  const auto target = protocol::parse_target(source.location);
  const std::string shown = target ? target->shown : std::string("the config URL");
  auto text = fetch_config_text(source);
  if (!text) {
    config::config_error e;
    e.message = shown + ": cannot fetch: " + text.error().what;
    e.errors.push_back({"", "cannot fetch: " + text.error().what});
    return e;
  }
  return config::parse_config(*text, shown, source.load);
}

int run_check(const config_source& source, const config_overrides& overrides, std::FILE* out,
              std::FILE* err) {
  // A URL is named without its query and userinfo (keys live there).
  const auto target = protocol::parse_target(source.location);
  const std::string origin =
      is_config_url(source.location) && target ? target->shown : source.location;
  auto loaded = load_config_source(source);
  auto print_lines = [&](std::string_view prefix, const std::string& text) {
    std::size_t start = 0;
    while (start < text.size()) {
      auto nl = text.find('\n', start);
      if (nl == std::string::npos) nl = text.size();
      std::fprintf(err, "%.*s%.*s\n", static_cast<int>(prefix.size()), prefix.data(),
                   static_cast<int>(nl - start), text.data() + start);
      start = nl + 1;
    }
  };
  if (!loaded) {
    for (const auto& w : loaded.error().warnings) print_lines("warning: ", w);
    print_lines("error: ", loaded.error().message);
    std::fprintf(err, "%s: invalid (%zu error(s))\n", origin.c_str(), loaded.error().errors.size());
    return 2;
  }
  auto& cfg = *loaded;
  overrides.apply(cfg);
  for (const auto& w : cfg.warnings) print_lines("warning: ", w);
  // Problems that only starting would find: the machine's files and commands, the --addr
  // override, a listener open to other machines without tokens.
  std::vector<config::config_problem> problems;
  if (auto why = config::listen_address_problem(cfg.proxy.addr))
    problems.push_back({"", cfg.proxy.addr_origin + ": " + *why});
  for (auto& p : config::check_environment(cfg)) problems.push_back(std::move(p));
  for (auto& p : exposure_problems(cfg)) problems.push_back(std::move(p));
  for (const auto& p : problems)
    print_lines("error: ", p.path.empty() ? p.message : origin + ": " + p.path + ": " + p.message);
  std::string view;
  write_pretty(view, config::resolved_view(cfg), 0);
  std::fprintf(out, "%s\n", view.c_str());
  if (!problems.empty()) {
    std::fprintf(err, "%s: invalid (%zu error(s))\n", origin.c_str(), problems.size());
    return 2;
  }
  std::size_t enabled = 0;
  for (const auto& s : cfg.servers) enabled += s.disabled ? 0 : 1;
  std::fprintf(err, "%s: valid (%zu server(s), %zu enabled)\n", origin.c_str(), cfg.servers.size(),
               enabled);
  return 0;
}

}  // namespace mcp_proxy
