// libFuzzer target: the legacy HTTP+SSE handshake as the proxy's client side sees it (spec
// 2024-11-05 basic/transports): a legacy backend's event stream sends an `endpoint` event, and
// the proxy resolves its data against the backend's URL to find where to POST. Both the stream
// and the URL are untrusted (the URL from config, normalized as the config loader does).
//
// What runs here is the sans-io part of transport/sse_link.cpp: protocol::sse_decoder fed as
// pump_events feeds it, then what take_endpoint calls (protocol/http_target: parse_target of the
// backend URL, resolve_endpoint of each event).
//
// Input: byte 0 is the read size (1 + byte % 16), then the backend URL up to the first '\n',
// then the event stream. Properties:
// - nothing crashes; the endpoint events decoded from reads of any size are those decoded whole;
// - an endpoint whose reference parses always resolves against the backend URL;
// - a relative reference (no scheme, no authority) is never refused: a backend that sends
//   "/messages?sessionId=..." is always followed;
// - an accepted endpoint is reached exactly where the event stream is: same scheme (so TLS or
//   not), same host address, same port, whatever the reference says (credentials are sent there);
// - the POST's request target starts with '/' and holds no byte that could break the request line
//   (controls, space, DEL), nor a fragment; the Host header holds no control or space either.
// One known departure is tolerated (known_port_junk below): Boost.URL 1.81 reads
// "http://h:80abc/x" as port 80 and the rootless path "abc/x" (boostorg/url#680, fixed in 1.82),
// and the config loader accepts such a url; the POST target then does not start with '/'. Such a
// backend url is skipped, and such a resolved endpoint is not checked further.

#include "config/config_values.hpp"
#include "protocol/http_target.hpp"
#include "protocol/sse.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

using mcp_proxy::protocol::parse_target;
using mcp_proxy::protocol::resolve_endpoint;
using mcp_proxy::protocol::sse_decoder;

// Boost.URL 1.81 misreads junk after a port as a rootless path (see the header comment).
constexpr bool known_port_junk = true;

bool rootless_after_authority(boost::urls::url_view u) {
  return u.has_authority() && !u.encoded_path().empty() && u.encoded_path().front() != '/';
}

void check(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "property violated: %s\n", what);
  __builtin_trap();
}

std::uint16_t effective_port(boost::urls::url_view u) {
  if (u.has_port()) return u.port_number();
  return u.scheme_id() == boost::urls::scheme::https ? 443 : 80;
}

bool clean_header_text(std::string_view s) {
  for (char c : s) {
    const auto b = static_cast<unsigned char>(c);
    if (b <= 0x20 || b == 0x7F) return false;
  }
  return true;
}

std::vector<std::string> endpoints_of(std::string_view stream, std::size_t step, bool& failed) {
  sse_decoder decoder(4096);  // small, so the line limit is reached too
  std::vector<std::string> out;
  failed = false;
  for (std::size_t at = 0; at < stream.size(); at += step) {
    auto events = decoder.feed(stream.substr(at, step));
    if (!events) {
      failed = true;
      return out;
    }
    for (auto& ev : *events)
      if (ev.type == "endpoint") out.push_back(std::move(ev.data));
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::size_t step = 1 + data[0] % 16;
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  const auto nl = rest.find('\n');
  if (nl == std::string_view::npos) return 0;
  const auto configured = rest.substr(0, nl);
  const auto stream = rest.substr(nl + 1);

  // The backend URL as the config loader keeps it, and as sse_link's constructor parses it.
  auto backend_url = mcp_proxy::config::detail::normalize_http_url(configured);
  if (!backend_url) return 0;
  auto base_view = boost::urls::parse_uri(*backend_url);
  check(base_view.has_value(), "a normalized url does not parse");
  if (known_port_junk && rootless_after_authority(*base_view)) return 0;
  auto url = parse_target(*base_view);
  if (!url) return 0;

  bool failed_whole = false, failed_pieces = false;
  const auto whole = endpoints_of(stream, stream.size() ? stream.size() : 1, failed_whole);
  const auto pieces = endpoints_of(stream, step, failed_pieces);
  if (!failed_whole && !failed_pieces)
    check(whole == pieces, "endpoint events depend on how the stream was read");

  for (const auto& ref : pieces) {
    check(ref.find('\r') == std::string::npos, "an event's data holds a CR");
    const auto post = resolve_endpoint(ref, *backend_url, *url);
    const auto parsed_ref = boost::urls::parse_uri_reference(ref);
    boost::urls::url resolved;
    const bool resolves = parsed_ref && boost::urls::resolve(*base_view, *parsed_ref, resolved);
    if (parsed_ref)
      check(resolves, "a reference that parses does not resolve against the backend url");
    if (!post) {
      check(post.error() == (resolves ? "sent an endpoint on another origin; refused"
                                      : "sent an endpoint event that is not a URL"),
            "an endpoint refused for another reason");
      check(!parsed_ref || parsed_ref->has_scheme() || parsed_ref->has_authority(),
            "a relative endpoint was refused");
      continue;
    }
    check(resolves, "an endpoint that does not resolve was accepted");
    check(post->basic_auth == url->basic_auth, "the endpoint lost or changed the credentials");

    const boost::urls::url_view r = resolved;
    const boost::urls::url_view b = *base_view;
    check(r.scheme_id() == b.scheme_id(), "the endpoint changes the scheme");
    check(post->tls == url->tls, "the endpoint changes TLS");
    check(r.host_address() == b.host_address() && post->host == url->host,
          "the endpoint goes to another host");
    check(effective_port(r) == effective_port(b) && post->port == url->port,
          "the endpoint goes to another port");
    if (known_port_junk && rootless_after_authority(r)) continue;
    const auto& target = post->target;
    check(!target.empty() && target.front() == '/', "the POST target is not an absolute path");
    check(clean_header_text(target), "the POST target could break the request line");
    check(target.find('#') == std::string::npos, "the POST target holds a fragment");
    check(clean_header_text(post->host_header), "the Host header holds a control or space");
    // What was resolved reads back as itself.
    auto again = boost::urls::parse_uri(r.buffer());
    check(again && again->buffer() == r.buffer(), "the resolved url does not parse back");
  }
  return 0;
}
