#include "protocol/patterns.hpp"

#include <optional>

namespace mcp_proxy::protocol {

bool glob_match(std::string_view pattern, std::string_view text) {
  // Iterative matching with one backtrack point (the last '*'): linear in practice, never
  // exponential on hostile patterns.
  std::size_t p = 0, t = 0;
  std::optional<std::size_t> star_p, star_t;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t]) && pattern[p] != '*') {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star_p = p++;
      star_t = t;
    } else if (star_p) {
      p = *star_p + 1;
      t = ++*star_t;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool any_glob_matches(const std::vector<std::string>& patterns, std::string_view text) {
  for (const auto& p : patterns)
    if (glob_match(p, text)) return true;
  return false;
}

namespace {

struct template_part {
  bool literal = true;
  std::string_view text;  // the literal, or the operator of an expression ("" for simple)
};

std::optional<std::vector<template_part>> split_template(std::string_view t) {
  std::vector<template_part> parts;
  while (!t.empty()) {
    const auto open = t.find('{');
    if (open != 0) {
      const auto literal = t.substr(0, open);
      if (literal.find('}') != std::string_view::npos) return std::nullopt;
      parts.push_back({true, literal});
      if (open == std::string_view::npos) break;
      t.remove_prefix(open);
    }
    const auto close = t.find('}');
    if (close == std::string_view::npos) return std::nullopt;
    std::string_view expr = t.substr(1, close - 1);
    std::string_view op;
    if (!expr.empty() && std::string_view("+#/.;?&").find(expr.front()) != std::string_view::npos)
      op = expr.substr(0, 1);
    parts.push_back({false, op});
    t.remove_prefix(close + 1);
  }
  return parts;
}

// `budget` is shared by the whole search (by reference): the steps of all branches together are
// bounded, so a pathological template cannot make matching exponential.
bool match_parts(const std::vector<template_part>& parts, std::size_t i, std::string_view uri,
                 int& budget) {
  if (--budget < 0) return false;
  if (i == parts.size()) return uri.empty();
  const auto& part = parts[i];
  if (part.literal) {
    if (!uri.starts_with(part.text)) return false;
    return match_parts(parts, i + 1, uri.substr(part.text.size()), budget);
  }
  std::size_t start = 0;
  bool any_char = part.text == "+" || part.text == "#";
  if (!part.text.empty() && !any_char) {
    // {/x} {.x} {;x} {?x} {&x}: the operator's character comes first, and may be omitted when
    // the variable is undefined.
    if (match_parts(parts, i + 1, uri, budget)) return true;
    const char lead = part.text == "?" ? '?' : part.text == "&" ? '&' : part.text.front();
    if (uri.empty() || uri.front() != lead) return false;
    start = 1;
    any_char = part.text == "?" || part.text == "&";  // the query runs to its end
  } else if (part.text == "#") {
    if (match_parts(parts, i + 1, uri, budget)) return true;
    if (uri.empty() || uri.front() != '#') return false;
    start = 1;
  }
  // Simple expressions need at least one character; the value stops at a delimiter.
  for (std::size_t end = start + (part.text.empty() ? 1 : 0); end <= uri.size(); ++end) {
    if (end > start) {
      const char c = uri[end - 1];
      if (!any_char && (c == '/' || c == '?' || c == '#')) break;
    }
    if (match_parts(parts, i + 1, uri.substr(end), budget)) return true;
  }
  return false;
}

}  // namespace

bool uri_template_matches(std::string_view uri_template, std::string_view uri) {
  auto parts = split_template(uri_template);
  if (!parts) return false;
  int budget = 10'000;
  return match_parts(*parts, 0, uri, budget);
}

}  // namespace mcp_proxy::protocol
