#include "config/config_values.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <boost/url/ipv4_address.hpp>
#include <boost/url/ipv6_address.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

namespace mcp_proxy::config {
namespace detail {

namespace json = boost::json;

namespace {

bool is_ascii_alpha(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

// Percent-encodes the bytes a URI may not hold (space, <>"{}|\\^`, controls, non-ASCII), as
// browsers and Go's net/url tolerate them: configs copied from vendor pages often carry a
// "?key=<key>" placeholder or a raw space.
std::string encode_disallowed_uri_bytes(std::string_view s) {
  constexpr std::string_view allowed = "-._~:/?#[]@!$&'()*+,;=%";
  constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (is_ascii_alnum(c) || allowed.find(c) != std::string_view::npos) {
      out += c;
    } else {
      auto b = static_cast<unsigned char>(c);
      out += '%';
      out += hex[b >> 4];
      out += hex[b & 0xF];
    }
  }
  return out;
}

// Optimal string alignment distance: Levenshtein plus the swap of two neighbours, the commonest
// typo ("tiemout"). Keys are short, so the full table is cheap.
std::size_t edit_distance(std::string_view a, std::string_view b) {
  const std::size_t width = b.size() + 1;
  std::vector<std::size_t> d((a.size() + 1) * width);
  auto at = [&](std::size_t i, std::size_t j) -> std::size_t& { return d[i * width + j]; };
  for (std::size_t i = 0; i <= a.size(); ++i) at(i, 0) = i;
  for (std::size_t j = 0; j <= b.size(); ++j) at(0, j) = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      at(i, j) = std::min({at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        at(i, j) = std::min(at(i, j), at(i - 2, j - 2) + 1);
    }
  }
  return at(a.size(), b.size());
}

}  // namespace

bool is_ascii_digit(char c) {
  return c >= '0' && c <= '9';
}

bool is_ascii_alnum(char c) {
  return is_ascii_alpha(c) || is_ascii_digit(c);
}

bool is_identifier(std::string_view s) {
  if (s.empty() || !(is_ascii_alpha(s[0]) || s[0] == '_')) return false;
  for (char c : s)
    if (!(is_ascii_alnum(c) || c == '_')) return false;
  return true;
}

bool is_valid_server_name(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s)
    if (!(is_ascii_alnum(c) || c == '_' || c == '.' || c == '-')) return false;
  return true;
}

bool protocol_name_chars(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return is_ascii_alnum(c) || c == '_' || c == '-'; });
}

bool is_header_token(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!(is_ascii_alnum(c) ||
          std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos))
      return false;
  return true;
}

bool contains_nul(std::string_view s) {
  return s.find('\0') != std::string_view::npos;
}

std::string quoted(std::string_view s) {
  if (s.size() <= max_echo_chars) return json::serialize(json::string(s));
  return json::serialize(json::string(s.substr(0, max_echo_chars))) + "...";
}

std::string child_path(std::string_view parent, std::string_view key) {
  std::string p(parent);
  if (is_identifier(key)) {
    p += '.';
    p += key;
  } else {
    p += '[';
    p += quoted(key);
    p += ']';
  }
  return p;
}

std::string index_path(std::string_view parent, std::size_t i) {
  return std::string(parent) + "[" + std::to_string(i) + "]";
}

std::string_view kind_name(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      return "null";
    case json::kind::bool_:
      return "a boolean";
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_:
      return "a number";
    case json::kind::string:
      return "a string";
    case json::kind::array:
      return "an array";
    case json::kind::object:
      return "an object";
  }
  return "an unknown value";
}

std::optional<std::string> normalize_http_url(std::string_view s) {
  std::string encoded = encode_disallowed_uri_bytes(s);
  auto u = boost::urls::parse_uri(encoded);
  if (!u) return std::nullopt;
  auto scheme = u->scheme_id();
  if (scheme != boost::urls::scheme::http && scheme != boost::urls::scheme::https)
    return std::nullopt;
  if (!u->has_authority() || u->encoded_host().empty()) return std::nullopt;
  return encoded;
}

bool is_origin(std::string_view s) {
  if (s == "*") return true;
  auto u = boost::urls::parse_uri(s);
  return u && u->has_authority() && !u->encoded_host().empty() && !u->has_userinfo() &&
         u->encoded_path().empty() && !u->has_query() && !u->has_fragment();
}

bool url_path_ends_in_sse(std::string_view url) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) return false;
  std::string_view path(parsed->encoded_path().data(), parsed->encoded_path().size());
  return path.size() >= 4 && path.substr(path.size() - 4) == "/sse";
}

std::optional<transport_type> transport_from_name(std::string_view s, bool claude_type_key) {
  if (s == "stdio") return transport_type::stdio;
  if (s == "sse") return transport_type::sse;
  if (s == "streamable-http") return transport_type::streamable_http;
  if (claude_type_key && s == "http") return transport_type::streamable_http;
  return std::nullopt;
}

std::string_view transport_name(transport_type t) {
  switch (t) {
    case transport_type::stdio:
      return "stdio";
    case transport_type::sse:
      return "sse";
    case transport_type::streamable_http:
      return "streamable-http";
  }
  return "unknown";
}

std::optional<std::size_t> typo_distance(std::string_view unknown, std::string_view known) {
  if (ascii_iequals(unknown, known)) return 0;
  // Two edits turn "id" into "cwd": a suggestion must keep something of what was written.
  std::size_t d = edit_distance(unknown, known);
  if (d > 2 || d >= unknown.size()) return std::nullopt;
  return d;
}

}  // namespace detail

using detail::is_ascii_alnum;
using detail::is_ascii_digit;

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  // Go's time.ParseDuration grammar without the sign: (number unit)+, number = digits with an
  // optional fraction. A bare number means seconds. The total must fit int64 nanoseconds, as in Go
  // (2562047h is the longest).
  constexpr double max_ns = 9223372036854775807.0;
  auto parse_number = [&](std::size_t& i, double& value) {
    bool digits = false;
    value = 0;
    while (i < text.size() && is_ascii_digit(text[i])) {
      value = value * 10 + (text[i] - '0');
      digits = true;
      ++i;
    }
    if (i < text.size() && text[i] == '.') {
      ++i;
      double scale = 0.1;
      while (i < text.size() && is_ascii_digit(text[i])) {
        value += (text[i] - '0') * scale;
        scale /= 10;
        digits = true;
        ++i;
      }
    }
    return digits;
  };
  auto to_ms = [&](double ns) -> std::optional<std::chrono::milliseconds> {
    if (!std::isfinite(ns) || ns > max_ns) return std::nullopt;
    return std::chrono::milliseconds(std::llround(ns / 1e6));
  };

  std::size_t i = 0;
  double value = 0;
  if (!parse_number(i, value)) return std::nullopt;
  if (i == text.size()) return to_ms(value * 1e9);

  struct unit {
    std::string_view suffix;
    double ns;
  };
  // Longest first, so "ms" is not read as "m" followed by garbage.
  static constexpr unit units[] = {
      {"ns", 1},   {"us", 1e3}, {"\xC2\xB5s", 1e3}, {"\xCE\xBCs", 1e3},
      {"ms", 1e6}, {"s", 1e9},  {"m", 60e9},        {"h", 3600e9},
  };
  double total_ns = 0;
  i = 0;
  while (i < text.size()) {
    if (!parse_number(i, value)) return std::nullopt;
    const unit* matched = nullptr;
    for (const auto& u : units) {
      if (text.substr(i, u.suffix.size()) == u.suffix) {
        matched = &u;
        break;
      }
    }
    if (!matched) return std::nullopt;
    i += matched->suffix.size();
    total_ns += value * matched->ns;
    if (!std::isfinite(total_ns) || total_ns > max_ns) return std::nullopt;
  }
  return to_ms(total_ns);
}

namespace {

// A listen address, or what is wrong with it (for the message naming where it came from).
struct listen_reading {
  std::optional<listen_address> address;
  std::string problem;
};

listen_reading read_listen_address(std::string_view addr) {
  const auto shape = [&] {
    return listen_reading{std::nullopt,
                          "expected \"host:port\", \":port\" or \"[ipv6]:port\" with a port from 0 "
                          "to 65535, got " +
                              detail::quoted(addr)};
  };
  listen_address out;
  std::string_view port_text;
  if (!addr.empty() && addr.front() == '[') {
    const auto close = addr.find(']');
    if (close == std::string_view::npos || close + 1 >= addr.size() || addr[close + 1] != ':')
      return shape();
    const auto host = addr.substr(1, close - 1);
    // A zone ("fe80::1%eth0") is the interface's name; the address before it must be IPv6.
    const auto zone = host.find('%');
    const auto zone_ok =
        zone == std::string_view::npos ||
        (zone + 1 < host.size() && std::all_of(host.begin() + zone + 1, host.end(), [](char c) {
           return detail::is_ascii_alnum(c) || c == '.' || c == '_' || c == '-';
         }));
    if (!zone_ok || !boost::urls::parse_ipv6_address(host.substr(0, zone)))
      return {std::nullopt, detail::quoted(addr.substr(0, close + 1)) + " is not an IPv6 address"};
    out.host = std::string(host);
    port_text = addr.substr(close + 2);
  } else {
    const auto colon = addr.rfind(':');
    if (colon == std::string_view::npos) return shape();
    const auto host = addr.substr(0, colon);
    if (host.find(':') != std::string_view::npos)
      return {std::nullopt, "an IPv6 address goes in brackets, as in \"[::1]:9090\", got " +
                                detail::quoted(addr)};
    // ":9090" listens on loopback only: exposing the proxy takes an explicit "0.0.0.0:9090".
    if (host.empty())
      out.host = "127.0.0.1";
    else if (detail::ascii_iequals(host, "localhost"))
      out.host = "localhost";
    else if (boost::urls::parse_ipv4_address(host))
      out.host = std::string(host);
    else
      return {std::nullopt, "host " + detail::quoted(host) +
                                " is not an IP address or localhost (the proxy listens on an "
                                "address: names other than localhost are not resolved)"};
    port_text = addr.substr(colon + 1);
  }
  unsigned port = 0;
  bool digits = !port_text.empty() && port_text.size() <= 5;
  for (char c : port_text) {
    if (!detail::is_ascii_digit(c)) digits = false;
    if (digits) port = port * 10 + static_cast<unsigned>(c - '0');
  }
  if (!digits || port > 65535)
    return {std::nullopt,
            "port must be a number from 0 to 65535, got " + detail::quoted(port_text)};
  out.port = static_cast<std::uint16_t>(port);
  return {out, {}};
}

}  // namespace

std::optional<listen_address> parse_listen_address(std::string_view addr) {
  return read_listen_address(addr).address;
}

std::optional<std::string> listen_address_problem(std::string_view addr) {
  auto r = read_listen_address(addr);
  if (r.address) return std::nullopt;
  return std::move(r.problem);
}

}  // namespace mcp_proxy::config
