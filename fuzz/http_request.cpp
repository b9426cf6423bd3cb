// libFuzzer target: a client's HTTP/1.1 bytes through what the listener decides before a session
// sees them: Beast's request parser fed in reads as http_server::read_request feeds it, the
// answer to a request that cannot be read (http/request_framing: answer_unreadable_request,
// check_header_fields), then, as http_server::dispatch does, the route (protocol/http_rules:
// route_prefix, parse_route), the request checks (check_request: Host, Origin, method, media
// types, MCP-Protocol-Version), the session id, the narrowing of a merged session, the id an
// early error echoes (jsonrpc::readable_id), and for a POST to an `mcp` route the checks of a
// 2026-07-28 request (protocol/modern_request). Requests follow each other on one connection
// (pipelined bytes stay in the buffer), up to 8.
//
// The header values come from frontend/request_headers (read_facts, mcp_headers), as in the
// proxy. The session dispatch itself (frontend/session_dispatch) needs a live core::endpoint and
// is not reached.
//
// Input: byte 0 is the listener (bit 0 loopback, bit 1 getStream, bits 2-3 baseURL, bits 4-5
// allowedHosts, bits 6-7 allowedOrigins), byte 1 the limits (bits 0-1 maxHeaderBytes, bits 2-3
// maxHeaders, bits 4-5 maxBodyBytes; bit 6: the client goes quiet at the end instead of closing),
// byte 2 the read size (1 + byte % 128), then the bytes the client sends. Properties:
// - nothing crashes;
// - a request that cannot be read because of what the client sent gets an answer: 400, 413,
//   414 or 431 (never a silent close), 408 when it went quiet mid-request; nothing is answered
//   only when the client closed or never sent a byte; 414 only when the request line alone
//   passes maxHeaderBytes, 413 only for the body limit; every answer has one line of text;
// - the header field checks answer 431 past maxHeaders, else 400 for two Host fields or none in
//   an HTTP/1.1 request, else nothing;
// - a route is `{prefix}[/{name}]/{mcp|sse|message}` rebuilt to the path it came from, with a
//   name free of '/'; a refusal is 400, 403, 405, 406 or 415 with a text, an Allow header exactly
//   with 405; a Host the listener does not allow is always 403, an allowed request on `sse` is a
//   GET, on `message` a POST of JSON, on `mcp` a POST that accepts both answer forms, a GET or a
//   DELETE; Accept and Content-Type matching ignore ASCII case; "*" allows any Host and Origin;
// - the narrowing lists hold no empty entry, no comma, no space at either end;
// - an id that readable_id finds in a body Boost.JSON reads as an object is that object's "id";
// - a 2026-07-28 refusal is 400 or 404 with one of its codes, and keeps the request's id.
// One known departure is tolerated (known_split_request_line): when the first read of a request
// ends inside its request line, Beast parses nothing until the whole header block is in, so
// headers past maxHeaderBytes get 414 (the target is unknown) where one read would get 431.

#include "frontend/request_headers.hpp"
#include "http/request_framing.hpp"
#include "jsonrpc/message.hpp"
#include "jsonrpc/top_level_scan.hpp"
#include "protocol/http_rules.hpp"
#include "protocol/modern_request.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/json/parse.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace bhttp = boost::beast::http;
namespace json = boost::json;
namespace protocol = mcp_proxy::protocol;
namespace jsonrpc = mcp_proxy::jsonrpc;
using parser_type = bhttp::request_parser<bhttp::string_body>;
using http_request = bhttp::request<bhttp::string_body>;
using namespace std::chrono_literals;

// request_framing tells 414 from 431 by whether Beast has the target; a request line that
// arrived in two reads is not handed over before the whole header block (see the header comment).
constexpr bool known_split_request_line = true;

void check(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "property violated: %s\n", what);
  __builtin_trap();
}

const std::vector<std::string> host_lists[] = {
    {}, {"*"}, {"proxy.example.com"}, {"proxy.example.com:8443", "[::1]", "10.0.0.1"}};
const std::vector<std::string> origin_lists[] = {
    {}, {"*"}, {"https://app.example"}, {"https://app.example:8443", "http://localhost:5173"}};
const std::string_view base_urls[] = {"", "https://proxy.example.com/tools/",
                                      "http://127.0.0.1:9090/a/b//", "https://proxy.example.com"};
const std::uint64_t header_bytes[] = {1024, 2048, 16384, 1024};
const std::uint64_t header_counts[] = {8, 16, 100, 8};
const std::uint64_t body_bytes[] = {16, 1024, 32ull << 20, 64};

bool one_line(std::string_view s) {
  return !s.empty() && s.find_first_of("\r\n") == std::string_view::npos;
}

std::string flip_case(std::string_view s) {
  std::string out(s);
  for (auto& c : out) {
    if (c >= 'a' && c <= 'z')
      c = static_cast<char>(c - 'a' + 'A');
    else if (c >= 'A' && c <= 'Z')
      c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// The client's side of the connection: reads of `step` bytes until the input ends.
struct connection {
  std::string_view input;
  std::size_t step;
  bool goes_quiet;  // at the end of input: the header deadline passes (else the client closes)
  std::string buffer = {};
  std::size_t sent = 0;
  // Bytes buffered at the first parser.put of the current request (npos before it).
  std::size_t first_put = std::string::npos;

  bool read_more() {
    if (sent == input.size()) return false;
    const auto n = std::min(step, input.size() - sent);
    buffer.append(input.substr(sent, n));
    sent += n;
    return true;
  }
};

// How reading one request part (the headers, then the body) ended, as Beast's read algorithms
// end it: parser.put on what is buffered, a read when it needs more, put_eof at the end.
struct read_end {
  boost::system::error_code ec;
  bool timed_out = false;
};

template <class Done>
read_end read_until(connection& c, parser_type& p, Done done) {
  read_end out;
  for (;;) {
    if (!c.buffer.empty()) {
      if (c.first_put == std::string::npos) c.first_put = c.buffer.size();
      boost::system::error_code ec;
      const auto used = p.put(boost::asio::buffer(c.buffer.data(), c.buffer.size()), ec);
      c.buffer.erase(0, used);
      if (ec && ec != bhttp::error::need_more) {
        out.ec = ec;
        return out;
      }
      if (done()) return out;
      if (!ec && used > 0) continue;  // parsed a piece; more may be buffered
    } else if (done()) {
      return out;
    }
    if (c.read_more()) continue;
    if (c.goes_quiet) {
      out.timed_out = true;
      out.ec = boost::asio::error::operation_aborted;
      return out;
    }
    if (p.got_some())
      p.put_eof(out.ec);
    else
      out.ec = bhttp::error::end_of_stream;
    if (!out.ec && !done()) out.ec = bhttp::error::partial_message;
    return out;
  }
}

bool client_closed(boost::system::error_code ec) {
  return ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message ||
         ec == bhttp::error::short_read;
}

// `request`: the bytes of this request received so far (from its first byte on).
void check_unreadable(const read_end& end, const parser_type& p, bool in_body, bool got_bytes,
                      std::string_view request, std::size_t first_put,
                      const mcp_proxy::http::framing_limits& limits) {
  mcp_proxy::http::read_progress progress;
  progress.timed_out = end.timed_out;
  progress.got_bytes = got_bytes;
  // As http_server::why_unreadable: Beast hands the target over once the request line is in.
  progress.request_line_read = !p.get().target().empty();
  progress.in_body = in_body;
  const auto a = mcp_proxy::http::answer_unreadable_request(end.ec, progress, limits);
  if (end.timed_out) {
    check(a.has_value() == got_bytes, "a quiet client got an answer, or a half-sent request none");
    if (a) check(a->status == 408, "a late request is not answered 408");
  } else if (client_closed(end.ec)) {
    check(!a, "a client that closed gets an answer");
  } else {
    check(a.has_value(), "a request the client sent wrong is closed without an answer");
    const auto s = a->status;
    check(s == 400 || s == 413 || s == 414 || s == 431,
          "an unreadable request gets another status");
    check((s == 413) == (end.ec == bhttp::error::body_limit), "413 is not the body limit");
    if (s == 414 || s == 431) check(end.ec == bhttp::error::header_limit, "414/431 not for size");
    // 414 when the request line alone does not end within the bound, 431 when it does.
    const auto line_end = request.substr(0, limits.max_header_bytes).find("\r\n");
    const bool line_within = line_end != std::string_view::npos;
    // Known: Beast parses the request line at once only when the first read holds all of it;
    // otherwise it waits for the whole header block, and past the bound the target is unknown.
    const bool line_split = line_within && first_put < line_end + 2;
    if (s == 414 && !(known_split_request_line && line_split))
      check(!line_within, "414 for a request line within the bound");
    if (s == 431 && end.ec == bhttp::error::header_limit)
      check(line_within, "431 for a request line past the bound");
  }
  if (a) check(one_line(a->text), "an answer without one line of text");
}

void check_list(const std::vector<std::string>& items) {
  for (const auto& i : items)
    check(!i.empty() && i.find(',') == std::string::npos && i.front() != ' ' && i.back() != ' ',
          "a narrowing entry is empty, holds a comma or a space at an end");
}

void check_body(const http_request& req, const mcp_proxy::frontend::mcp_header_values& h) {
  const std::string_view body = req.body();
  // An early error's id is the body's own, never another.
  const auto id = jsonrpc::readable_id(body);
  if (!id.is_null()) {
    check(id.is_string() || id.is_number(), "readable_id returned an id JSON-RPC does not allow");
    boost::system::error_code ec;
    const auto whole = json::parse(body, ec);
    if (!ec && whole.is_object()) {
      const auto* own = whole.get_object().if_contains("id");
      check(own && *own == id, "readable_id returned another id than the body's");
    }
  }
  auto parsed = jsonrpc::parse(body);
  if (!parsed || !parsed->is_request()) return;
  const auto& m = *parsed;
  if (!protocol::is_modern(m, h.version, h.session.has_value())) return;
  protocol::modern_headers mh{h.version, h.method, h.name};
  if (auto refused = protocol::check_modern_request(m, mh)) {
    check(refused->status == 400 || refused->status == 404, "a modern refusal has another status");
    const auto code = refused->code;
    check(code == -32602 || code == -32020 || code == -32022 || code == -32601,
          "a modern refusal has another code");
    auto answer = protocol::refusal_response(m, *refused);
    check(answer.id() && *answer.id() == *m.id(), "a modern refusal lost the request id");
  }
}

void check_dispatch(const http_request& req, std::string_view prefix, bool loopback,
                    bool get_stream, const std::vector<std::string>& allowed_hosts,
                    const std::vector<std::string>& allowed_origins) {
  const std::string_view target = req.target();
  const std::string_view path = target.substr(0, target.find('?'));
  if (path == "/health" || path == std::string(prefix) + "/health") return;

  const auto r = protocol::parse_route(path, prefix);
  if (!r) return;  // 404
  check(r->kind == "mcp" || r->kind == "sse" || r->kind == "message", "a route of another kind");
  check(r->name.find('/') == std::string_view::npos, "a route name holds a '/'");
  std::string rebuilt(prefix);
  if (!r->name.empty()) rebuilt += "/" + std::string(r->name);
  rebuilt += "/" + std::string(r->kind);
  check(path == rebuilt || path == rebuilt + "/", "a route does not rebuild to its path");

  protocol::request_facts facts;
  facts.method = req.method_string();
  facts.kind = r->kind;
  mcp_proxy::frontend::read_facts(req, facts);
  facts.loopback_listener = loopback;
  facts.allowed_hosts = &allowed_hosts;
  facts.allowed_origins = &allowed_origins;
  facts.get_stream_offered = get_stream;
  const auto refused = protocol::check_request(facts);

  const bool host_ok = protocol::host_allowed(facts.host, loopback, allowed_hosts);
  const bool any_host =
      std::find(allowed_hosts.begin(), allowed_hosts.end(), "*") != allowed_hosts.end();
  check(!any_host || host_ok, "\"*\" does not allow a host");
  if (facts.origin &&
      std::find(allowed_origins.begin(), allowed_origins.end(), "*") != allowed_origins.end())
    check(protocol::origin_allowed(*facts.origin, allowed_origins), "\"*\" refused an origin");
  if (!host_ok) check(refused && refused->status == 403, "a host not allowed passed");

  if (facts.accept) {
    const auto flipped = flip_case(*facts.accept);
    for (std::string_view type : {"application/json", "text/event-stream"})
      check(protocol::accepts(*facts.accept, type) == protocol::accepts(flipped, type),
            "Accept matching depends on case");
  }
  if (facts.content_type)
    check(protocol::content_type_is(*facts.content_type, "application/json") ==
              protocol::content_type_is(flip_case(*facts.content_type), "application/json"),
          "Content-Type matching depends on case");

  const auto h = mcp_proxy::frontend::mcp_headers(req);
  if (h.session) (void)protocol::valid_session_id(*h.session);
  const auto narrowing =
      protocol::narrowing_of(target, req["Mcp-Proxy-Servers"], req["Mcp-Proxy-Tools"]);
  check_list(narrowing.servers);
  check_list(narrowing.tools);

  if (refused) {
    const auto s = refused->status;
    check(s == 400 || s == 403 || s == 405 || s == 406 || s == 415, "a refusal of another status");
    check(one_line(refused->text), "a refusal without one line of text");
    check((s == 405) == !refused->allow.empty(), "Allow goes with 405 and only with it");
    return;
  }
  const auto method = facts.method;
  if (r->kind == "sse") check(method == "GET", "the legacy stream served another method");
  if (r->kind == "message")
    check(method == "POST" && facts.content_type &&
              protocol::content_type_is(*facts.content_type, "application/json"),
          "the legacy message route served a non-JSON POST");
  if (r->kind == "mcp") {
    check(method == "POST" || method == "GET" || method == "DELETE",
          "the mcp route served another method");
    if (method == "POST")
      check(facts.accept && protocol::accepts(*facts.accept, "application/json") &&
                protocol::accepts(*facts.accept, "text/event-stream"),
            "a POST that does not accept both answer forms was served");
    if (method == "POST") check_body(req, h);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 3) return 0;
  const bool loopback = data[0] & 1, get_stream = data[0] & 2;
  const std::string_view base_url = base_urls[(data[0] >> 2) & 3];
  // As http_server does: the host of baseURL is allowed too.
  auto allowed_hosts = host_lists[(data[0] >> 4) & 3];
  if (auto u = boost::urls::parse_uri(base_url); u && !u->encoded_host().empty())
    allowed_hosts.emplace_back(u->encoded_host());
  const auto& allowed_origins = origin_lists[(data[0] >> 6) & 3];
  mcp_proxy::http::framing_limits limits{10s, header_bytes[data[1] & 3],
                                         body_bytes[(data[1] >> 4) & 3]};
  const auto max_headers = header_counts[(data[1] >> 2) & 3];
  connection c{std::string_view(reinterpret_cast<const char*>(data + 3), size - 3),
               1 + std::size_t(data[2] % 128), (data[1] & 0x40) != 0};

  const auto prefix = protocol::route_prefix(base_url);
  check(prefix.empty() || (prefix.front() == '/' && prefix.back() != '/'),
        "a route prefix that is not a path without a trailing slash");

  for (int n = 0; n < 8; ++n) {
    // Between requests an idle client that sends nothing is closed without a word.
    if (n > 0 && c.buffer.empty() && !c.read_more()) break;
    const std::size_t request_start = c.sent - c.buffer.size();
    c.first_put = std::string::npos;
    auto request_bytes = [&] { return c.input.substr(request_start, c.sent - request_start); };
    parser_type p;
    p.header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
    p.body_limit(limits.max_body_bytes);
    auto end = read_until(c, p, [&] { return p.is_header_done(); });
    if (end.ec) {
      check_unreadable(end, p, false, p.got_some() || !c.buffer.empty(), request_bytes(),
                       c.first_put, limits);
      break;
    }
    const auto& header = p.get();
    const auto fields = static_cast<std::size_t>(std::distance(header.begin(), header.end()));
    std::size_t hosts = 0;
    for (const auto& f : header) hosts += f.name() == bhttp::field::host;
    const auto bad = mcp_proxy::http::check_header_fields(fields, header.count(bhttp::field::host),
                                                          header.version(), max_headers);
    if (fields > max_headers)
      check(bad && bad->status == 431, "too many header fields not answered 431");
    else if (hosts > 1 || (hosts == 0 && header.version() >= 11))
      check(bad && bad->status == 400, "a bad Host not answered 400");
    else
      check(!bad, "good header fields refused");
    if (bad) {
      check(one_line(bad->text), "a header refusal without one line of text");
      break;
    }
    if (!p.is_done()) {
      end = read_until(c, p, [&] { return p.is_done(); });
      if (end.ec) {
        check_unreadable(end, p, true, true, request_bytes(), c.first_put, limits);
        break;
      }
    }
    const http_request req = p.release();
    check_dispatch(req, prefix, loopback, get_stream, allowed_hosts, allowed_origins);
    if (!req.keep_alive()) break;
  }
  return 0;
}
