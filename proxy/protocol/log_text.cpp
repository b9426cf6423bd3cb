#include "protocol/log_text.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

#include <algorithm>
#include <cstdio>

namespace mcp_proxy::protocol {

namespace json = boost::json;

namespace {

// The length of the valid UTF-8 sequence at s[i], or 0 when it is not one (RFC 3629: no
// overlong forms, no surrogates, nothing past U+10FFFF).
std::size_t utf8_length(std::string_view s, std::size_t i) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const unsigned char c = b(0);
  if (c < 0x80) return 1;
  std::size_t n = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // the bounds of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  if (b(1) < lo || b(1) > hi) return 0;
  for (std::size_t k = 2; k < n; ++k)
    if (b(k) < 0x80 || b(k) > 0xBF) return 0;
  return n;
}

std::string valid_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    if (const auto n = utf8_length(s, i)) {
      out.append(s.substr(i, n));
      i += n;
    } else {
      out += "\xEF\xBF\xBD";  // U+FFFD
      ++i;
    }
  }
  return out;
}

// The first word of `s` up to one of `ends` (and not empty), and what follows it.
std::optional<std::pair<std::string_view, std::string_view>> word(std::string_view s,
                                                                  std::string_view ends) {
  const auto end = s.find_first_of(ends);
  if (end == 0 || end == std::string_view::npos) return std::nullopt;
  return std::pair{s.substr(0, end), s.substr(end)};
}

}  // namespace

bool is_log_level_name(std::string_view name) {
  return std::find(log_level_names.begin(), log_level_names.end(), name) != log_level_names.end();
}

std::string log_level_list() {
  std::string out;
  for (const auto name : log_level_names) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

std::optional<log_format> log_format_of(std::string_view name) {
  if (name == "text") return log_format::text;
  if (name == "json") return log_format::json;
  return std::nullopt;
}

std::string short_id(std::string_view id) {
  const std::size_t shown = std::min<std::size_t>(8, id.size() / 2);
  return std::string(id.substr(0, shown)) + "...";
}

std::string redact_session_query(std::string_view text) {
  constexpr std::string_view key = "sessionId=";
  std::string out;
  for (;;) {
    const auto at = text.find(key);
    if (at == std::string_view::npos) break;
    out.append(text.substr(0, at + key.size()));
    text.remove_prefix(at + key.size());
    const auto end = std::min(text.find_first_of("&#\"' \t\r\n"), text.size());
    if (end > 0) out += short_id(text.substr(0, end));
    text.remove_prefix(end);
  }
  out.append(text);
  return out;
}

std::string body_excerpt(std::string_view body, std::size_t limit) {
  std::size_t cut = std::min(limit, body.size());
  // Not inside a character: back up over continuation bytes to the start of the one cut.
  if (cut < body.size())
    while (cut > 0 && (static_cast<unsigned char>(body[cut]) & 0xC0) == 0x80) --cut;
  std::string out;
  out.reserve(cut + 32);
  for (const char ch : body.substr(0, cut)) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && c != 0x7F) {
      out += ch;
    } else if (ch == '\n') {
      out += "\\n";
    } else if (ch == '\r') {
      out += "\\r";
    } else if (ch == '\t') {
      out += "\\t";
    } else {
      char esc[8];
      std::snprintf(esc, sizeof esc, "\\u%04x", c);
      out += esc;
    }
  }
  if (cut < body.size()) out += "... (" + std::to_string(body.size()) + " bytes)";
  return out;
}

std::string logfmt_value(std::string_view v) {
  const bool plain = !v.empty() && std::all_of(v.begin(), v.end(), [](char ch) {
    const auto c = static_cast<unsigned char>(ch);
    return c > 0x20 && c < 0x7F && ch != '"' && ch != '=' && ch != '\\';
  });
  if (plain) return std::string(v);
  return json::serialize(json::string(valid_utf8(v)));
}

log_fields fields_of(std::string_view m) {
  log_fields f;
  if (m.starts_with("backend ")) {
    if (auto w = word(m.substr(8), ": ")) f.backend = std::string(w->first);
  } else if (m.starts_with("session ") || m.starts_with("legacy SSE session ")) {
    const auto rest = m.substr(m.find("session ") + 8);
    if (auto w = word(rest, ": ")) {
      f.session = std::string(w->first);
      if (w->second.starts_with(" on ")) {
        const auto label = w->second.substr(4);
        if (const auto colon = label.find(": "); colon != std::string_view::npos && colon > 0)
          f.route = std::string(label.substr(0, colon));
      }
    }
  }
  return f;
}

std::string json_log_line(std::string_view time, std::string_view level, std::string_view message,
                          const json::object* extra) {
  json::object o{{"time", time}, {"level", level}, {"message", valid_utf8(message)}};
  const auto f = fields_of(message);
  if (!f.backend.empty()) o["backend"] = valid_utf8(f.backend);
  if (!f.session.empty()) o["session"] = valid_utf8(f.session);
  if (!f.route.empty()) o["route"] = valid_utf8(f.route);
  if (extra)
    for (const auto& kv : *extra)
      o[kv.key()] =
          kv.value().is_string() ? json::value(valid_utf8(kv.value().get_string())) : kv.value();
  return json::serialize(o);
}

}  // namespace mcp_proxy::protocol
