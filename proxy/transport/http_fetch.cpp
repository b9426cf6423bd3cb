#include "transport/http_fetch.hpp"

#include "transport/http_link_base.hpp"

namespace mcp_proxy::transport {

using namespace detail;

http_fetcher::http_fetcher(asio::any_io_executor ex) : ex_(ex), tls_(true) {}

std::optional<std::string> http_fetcher::trust_ca_file(const std::string& file) {
  return tls_.trust_ca_file(file);
}

void http_fetcher::skip_verification() {
  tls_.skip_verification();
}

awaitable<boost::system::result<fetch_response, std::string>> http_fetcher::fetch(fetch_request r) {
  auto t = parse_target(r.url);
  if (!t) co_return t.error();
  const auto deadline = clock_type::now() + r.timeout;
  auto made = co_await open_connection(ex_, tls_, *t, r.timeout);
  if (!made) co_return made.error();
  auto& c = **made;
  request req{r.post ? bhttp::verb::post : bhttp::verb::get, t->target, 11};
  req.set(bhttp::field::host, t->host_header);
  req.set(bhttp::field::user_agent, "mcp-proxy/" MCP_PROXY_VERSION);
  req.set(bhttp::field::accept, "application/json");
  req.set(bhttp::field::accept_encoding, "identity");
  for (auto& [k, v] : r.headers) req.set(k, v);
  req.body() = std::move(r.body);
  req.keep_alive(false);
  req.prepare_payload();
  c.lowest().expires_at(deadline);
  auto [wec, written] = co_await bhttp::async_write(c.stream, req, tuple_awaitable);
  if (wec) co_return "sending to " + t->origin + " failed: " + wec.message();
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(r.max_body);
  auto [rec, read] = co_await bhttp::async_read(c.stream, c.buffer, parser, tuple_awaitable);
  c.close();
  if (rec == bhttp::error::body_limit)
    co_return t->origin + " answered more than " + std::to_string(r.max_body) + " bytes";
  if (rec) co_return "no answer from " + t->origin + ": " + rec.message();
  fetch_response out;
  out.status = parser.get().result_int();
  out.content_type = std::string(parser.get()[bhttp::field::content_type]);
  out.location = std::string(parser.get()[bhttp::field::location]);
  out.body = std::move(parser.get().body());
  co_return out;
}

}  // namespace mcp_proxy::transport
