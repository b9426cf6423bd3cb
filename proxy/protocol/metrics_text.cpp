#include "protocol/metrics_text.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <vector>

namespace mcp_proxy::protocol {

namespace {

bool name_char(char c, bool first, bool colon) {
  const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  return alpha || (colon && c == ':') || (!first && c >= '0' && c <= '9');
}

bool valid_name(std::string_view name, bool colon) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i)
    if (!name_char(name[i], i == 0, colon)) return false;
  return true;
}

std::string_view type_name(metric_type t) {
  static constexpr std::string_view names[] = {"counter", "gauge", "histogram"};
  return names[static_cast<std::size_t>(t) % 3];
}

}  // namespace

bool metrics_text::valid_metric_name(std::string_view name) {
  return valid_name(name, true);
}

bool metrics_text::valid_label_name(std::string_view name) {
  return valid_name(name, false) && !name.starts_with("__");
}

namespace {

// Backslash and newline always; the double quote in label values only (HELP text may hold it).
std::string escaped(std::string_view v, bool quote) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else if (quote && c == '"')
      out += "\\\"";
    else
      out += c;
  }
  return out;
}

}  // namespace

std::string metrics_text::escape_label_value(std::string_view v) {
  return escaped(v, true);
}

std::string metrics_text::escape_help(std::string_view help) {
  return escaped(help, false);
}

std::string metrics_text::format_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  if (ec != std::errc()) return "NaN";
  return std::string(buf, end);
}

bool metrics_text::family(std::string_view name, metric_type type, std::string_view help) {
  if (!valid_metric_name(name)) return false;
  if (type == metric_type::counter && !name.ends_with("_total")) return false;
  std::vector<std::string> taken{std::string(name)};
  if (type == metric_type::histogram)
    for (std::string_view suffix : {"_bucket", "_sum", "_count"})
      taken.push_back(std::string(name) + std::string(suffix));
  for (const auto& n : taken)
    if (names_.contains(n)) return false;
  names_.insert(taken.begin(), taken.end());
  family_ = std::string(name);
  type_ = type;
  family_series_.clear();
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  out_ += escape_help(help);
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += ' ';
  out_ += type_name(type);
  out_ += '\n';
  return true;
}

bool metrics_text::series(std::span<const metric_label> labels, std::string& text) {
  if (family_.empty()) return false;
  std::vector<metric_label> sorted(labels.begin(), labels.end());
  std::sort(sorted.begin(), sorted.end(),
            [](const metric_label& a, const metric_label& b) { return a.name < b.name; });
  for (std::size_t i = 0; i < sorted.size(); ++i) {
    if (!valid_label_name(sorted[i].name)) return false;
    if (type_ == metric_type::histogram && sorted[i].name == "le") return false;
    if (i > 0 && sorted[i].name == sorted[i - 1].name) return false;
  }
  std::string key;
  for (const auto& l : sorted) {
    key += l.name;
    key += '=';
    key += escape_label_value(l.value);
    key += '\n';  // escaped values hold no raw newline: the key is unambiguous
  }
  if (!family_series_.insert(std::move(key)).second) return false;
  text.clear();
  for (const auto& l : labels) {
    text += text.empty() ? "" : ",";
    text += l.name;
    text += "=\"";
    text += escape_label_value(l.value);
    text += '"';
  }
  return true;
}

void metrics_text::write_sample(std::string_view name, const std::string& labels,
                                std::string_view extra_label, std::string_view value) {
  out_ += name;
  if (!labels.empty() || !extra_label.empty()) {
    out_ += '{';
    out_ += labels;
    if (!labels.empty() && !extra_label.empty()) out_ += ',';
    out_ += extra_label;
    out_ += '}';
  }
  out_ += ' ';
  out_ += value;
  out_ += '\n';
}

bool metrics_text::sample(std::span<const metric_label> labels, std::uint64_t value) {
  if (type_ == metric_type::histogram) return false;
  std::string text;
  if (!series(labels, text)) return false;
  write_sample(family_, text, {}, std::to_string(value));
  return true;
}

bool metrics_text::sample(std::span<const metric_label> labels, std::int64_t value) {
  if (type_ == metric_type::histogram || (type_ == metric_type::counter && value < 0)) return false;
  std::string text;
  if (!series(labels, text)) return false;
  write_sample(family_, text, {}, std::to_string(value));
  return true;
}

bool metrics_text::sample(std::span<const metric_label> labels, double value) {
  if (type_ == metric_type::histogram) return false;
  if (type_ == metric_type::counter && !(value >= 0)) return false;  // NaN too
  std::string text;
  if (!series(labels, text)) return false;
  write_sample(family_, text, {}, format_value(value));
  return true;
}

bool metrics_text::histogram(std::span<const metric_label> labels,
                             std::span<const double> upper_bounds,
                             std::span<const std::uint64_t> counts, double sum) {
  if (type_ != metric_type::histogram || counts.size() != upper_bounds.size() + 1) return false;
  for (std::size_t i = 0; i < upper_bounds.size(); ++i) {
    if (!std::isfinite(upper_bounds[i])) return false;
    if (i > 0 && !(upper_bounds[i] > upper_bounds[i - 1])) return false;
  }
  std::string text;
  if (!series(labels, text)) return false;
  const std::string bucket = family_ + "_bucket";
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    cumulative += counts[i];
    const std::string le =
        "le=\"" + (i < upper_bounds.size() ? format_value(upper_bounds[i]) : "+Inf") + "\"";
    write_sample(bucket, text, le, std::to_string(cumulative));
  }
  write_sample(family_ + "_sum", text, {}, format_value(sum));
  write_sample(family_ + "_count", text, {}, std::to_string(cumulative));
  return true;
}

}  // namespace mcp_proxy::protocol
