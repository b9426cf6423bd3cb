#include "config/config_reader.hpp"

#include <cmath>
#include <cstdlib>
#include <utility>

namespace mcp_proxy::config::detail {

namespace json = boost::json;

namespace {

// A file of thousands of bad values would otherwise make a message of megabytes; the first ones
// are enough to start fixing.
constexpr std::size_t max_reported_errors = 100;
// Longest per-request deadline: longer ones are surely a mistake, and timer arithmetic with huge
// values would overflow the clock.
constexpr std::chrono::milliseconds max_timeout = std::chrono::hours(24);

}  // namespace

config_error reader::take_errors() {
  config_error out;
  for (const auto& e : errors_) {
    if (!out.message.empty()) out.message += '\n';
    out.message += std::string(origin_) + ": " + e.path + ": " + e.message;
  }
  if (errors_left_out_ > 0)
    out.message += "\n" + std::string(origin_) + ": " + std::to_string(errors_left_out_) +
                   " more errors not shown";
  out.errors = std::move(errors_);
  errors_.clear();
  errors_left_out_ = 0;
  return out;
}

bool reader::fail(std::string_view path, std::string_view what) {
  if (errors_.size() < max_reported_errors)
    errors_.push_back({std::string(path), std::string(what)});
  else
    ++errors_left_out_;
  return false;
}

bool reader::type_error(std::string_view path, std::string_view expected, const json::value& got) {
  return fail(path, "expected " + std::string(expected) + ", got " + std::string(kind_name(got)));
}

void reader::warn(std::string_view path, std::string_view what) {
  warnings_.push_back(std::string(origin_) + ": " + std::string(path) + ": " + std::string(what));
}

void reader::warn_unknown(std::string_view path, std::optional<std::string_view> closest) {
  std::string what = "unknown key, ignored";
  if (closest) what += "; did you mean " + quoted(*closest) + "?";
  warn(path, what);
}

// Replaces each ${NAME} with the environment variable NAME. Only that form is special: "$NAME"
// and a lone "$" stay as written.
bool reader::expand(std::string_view path, std::string_view raw, std::string& out) {
  out.clear();
  if (!expand_) {
    out.assign(raw);
    return true;
  }
  std::size_t i = 0;
  while (i < raw.size()) {
    auto start = raw.find("${", i);
    if (start == std::string_view::npos) {
      out.append(raw.substr(i));
      break;
    }
    out.append(raw.substr(i, start - i));
    auto end = raw.find('}', start + 2);
    if (end == std::string_view::npos)
      return fail(path, "unterminated \"${\" (write ${NAME} to use an environment variable)");
    auto name = raw.substr(start + 2, end - start - 2);
    if (!is_identifier(name))
      return fail(path, "invalid variable reference " + quoted(raw.substr(start, end - start + 1)) +
                            " (write ${NAME}, NAME made of letters, digits and _)");
    const char* value = std::getenv(std::string(name).c_str());
    if (!value) return fail(path, "environment variable " + std::string(name) + " is not set");
    out.append(value);
    i = end + 1;
  }
  return true;
}

bool reader::read_string(const json::value& v, std::string_view path, std::string& out) {
  const auto* s = v.if_string();
  if (!s) return type_error(path, "a string", v);
  return expand(path, std::string_view(s->data(), s->size()), out);
}

bool reader::read_non_empty_string(const json::value& v, std::string_view path, std::string& out) {
  if (!read_string(v, path, out)) return false;
  if (out.empty()) return fail(path, "must not be empty");
  return true;
}

bool reader::read_bool(const json::value& v, std::string_view path, bool& out) {
  const auto* b = v.if_bool();
  if (!b) return type_error(path, "a boolean", v);
  out = *b;
  return true;
}

bool reader::read_string_array(const json::value& v, std::string_view path,
                               std::vector<std::string>& out, value_check check) {
  const auto* a = v.if_array();
  if (!a) return type_error(path, "an array of strings", v);
  out.clear();
  out.reserve(a->size());
  bool ok = true;
  for (std::size_t i = 0; i < a->size(); ++i) {
    std::string s;
    if (!read_string((*a)[i], index_path(path, i), s)) {
      ok = false;
      continue;
    }
    if (check) {
      if (auto problem = check(s)) {
        ok = fail(index_path(path, i), *problem);
        continue;
      }
    }
    out.push_back(std::move(s));
  }
  return ok;
}

bool reader::read_string_map(const json::value& v, std::string_view path,
                             std::map<std::string, std::string>& out, entry_check check) {
  const auto* o = v.if_object();
  if (!o) return type_error(path, "an object of strings", v);
  out.clear();
  bool ok = true;
  for (const auto& kv : *o) {
    std::string key(kv.key().data(), kv.key().size());
    auto p = child_path(path, key);
    std::string s;
    if (!read_string(kv.value(), p, s)) {
      ok = false;
      continue;
    }
    if (check) {
      if (auto problem = check(key, s)) {
        ok = fail(p, *problem);
        continue;
      }
    }
    out.insert_or_assign(std::move(key), std::move(s));
  }
  return ok;
}

bool reader::read_positive_integer(const json::value& v, std::string_view path,
                                   std::uint64_t& out) {
  if (v.is_int64() && v.get_int64() > 0) {
    out = static_cast<std::uint64_t>(v.get_int64());
  } else if (v.is_uint64()) {
    out = v.get_uint64();
  } else if (v.is_double() && v.get_double() > 0 && v.get_double() < 1e18 &&
             std::floor(v.get_double()) == v.get_double()) {
    out = static_cast<std::uint64_t>(v.get_double());
  } else if (v.is_number()) {
    return fail(path, "expected a positive integer");
  } else {
    return type_error(path, "a positive integer", v);
  }
  return true;
}

bool reader::read_timeout(const json::value& v, std::string_view path,
                          std::chrono::milliseconds& out) {
  std::optional<std::chrono::milliseconds> d;
  if (v.is_number()) {
    double seconds = v.to_number<double>();
    // Boost.JSON reads 1e400 as infinity.
    if (!std::isfinite(seconds) || seconds > static_cast<double>(max_timeout.count()) / 1000)
      return fail(path, "must be at most 24h");
    if (seconds <= 0) return fail(path, "must be greater than 0");
    d = std::chrono::milliseconds(std::llround(seconds * 1000));
  } else if (v.is_string()) {
    std::string s;
    if (!read_string(v, path, s)) return false;
    d = parse_duration(s);
    if (!d)
      return fail(
          path,
          "expected a duration such as \"30s\", \"1500ms\", \"2m\" or \"1m30s\", got " + quoted(s));
  } else {
    return type_error(path, "a number of seconds or a duration string", v);
  }
  if (*d <= std::chrono::milliseconds::zero()) return fail(path, "must be at least 1ms");
  if (*d > max_timeout) return fail(path, "must be at most 24h");
  out = *d;
  return true;
}

bool reader::read_duration_or_zero(const json::value& v, std::string_view path,
                                   std::chrono::milliseconds& out) {
  if ((v.is_number() && v.to_number<double>() == 0) || (v.is_string() && v.get_string() == "0")) {
    out = std::chrono::milliseconds::zero();
    return true;
  }
  return read_timeout(v, path, out);
}

namespace {

// A filter as it is read: whether "mode" was written at all tells a missing mode from a wrong one.
struct filter_state {
  name_filter::filter_mode mode = name_filter::filter_mode::none;
  bool has_mode = false;
  std::vector<std::string> patterns;
};

void read_filter_mode(reader& r, const json::value& v, std::string_view path, filter_state& f) {
  f.has_mode = true;
  std::string text;
  if (!r.read_string(v, path, text)) return;
  // TBXark lower-cases the mode, so "Allow" works there too.
  if (ascii_iequals(text, "allow"))
    f.mode = name_filter::filter_mode::allow;
  else if (ascii_iequals(text, "block"))
    f.mode = name_filter::filter_mode::block;
  else
    r.fail(path, "expected \"allow\" or \"block\", got " + quoted(text));
}

void read_filter_list(reader& r, const json::value& v, std::string_view path, filter_state& f) {
  r.read_string_array(v, path, f.patterns);
}

constexpr auto filter_keys = std::to_array<key_rule<filter_state>>({
    {"mode", read_filter_mode},
    {"list", read_filter_list},
});

}  // namespace

// TBXark's tool filter, also used for prompts and resources.
bool reader::read_filter(const json::value& v, std::string_view path, name_filter& out) {
  filter_state f;
  if (!read_object<filter_state>(v, path, filter_keys, f)) return false;
  if (!f.has_mode && !f.patterns.empty())
    return fail(path, "missing \"mode\": expected \"allow\" or \"block\" with a \"list\"");
  // An allow filter with an empty list lets nothing through, as its words say.
  out.mode = f.mode;
  out.patterns = std::move(f.patterns);
  return true;
}

}  // namespace mcp_proxy::config::detail
