#include "config/config.hpp"

#include "config/config_reader.hpp"
#include "config/config_values.hpp"
#include "protocol/patterns.hpp"

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/parser.hpp>
#include <boost/throw_exception.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <memory>
#include <set>
#include <stdexcept>
#include <system_error>
#include <utility>

namespace mcp_proxy::config {

bool name_filter::allows(std::string_view name) const {
  switch (mode) {
    case filter_mode::none:
      return true;
    case filter_mode::allow:
      return protocol::any_glob_matches(patterns, name);
    case filter_mode::block:
      return !protocol::any_glob_matches(patterns, name);
  }
  return true;
}

namespace json = boost::json;

namespace {

constexpr auto npos = std::string_view::npos;

// A config file is small; this bound keeps `--config /dev/zero` from eating memory.
constexpr std::size_t max_config_file_bytes = 16u * 1024 * 1024;

// The error of a file that cannot be read as a whole: one problem, no JSON path.
config_error file_error(std::string_view origin, std::string location, std::string what) {
  config_error e;
  e.message = std::string(origin) + ": ";
  if (!location.empty()) e.message += location + ": ";
  e.message += what;
  e.errors.push_back({std::move(location), std::move(what)});
  return e;
}

// 1-based line and column (in characters, counting UTF-8 sequences once) of a byte offset.
std::pair<std::size_t, std::size_t> line_and_column(std::string_view text, std::size_t offset) {
  offset = std::min(offset, text.size());
  std::size_t line = 1, column = 1;
  for (std::size_t i = 0; i < offset; ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c == '\n') {
      ++line;
      column = 1;
    } else if ((c & 0xC0) != 0x80) {
      ++column;
    }
  }
  return {line, column};
}

// Finds the keys that appear twice in one object, anywhere in the document, with their JSON
// paths (Boost.JSON keeps the last silently: a second "fs" server would replace the first). A
// handler of Boost.JSON's SAX parser: it sees every key in file order and keeps one frame per
// open object or array, so it is as deep as the document (bounded by the parser's depth).
class duplicate_key_finder {
 public:
  static constexpr std::size_t max_array_size = std::size_t(-1);
  static constexpr std::size_t max_object_size = std::size_t(-1);
  static constexpr std::size_t max_string_size = std::size_t(-1);
  static constexpr std::size_t max_key_size = std::size_t(-1);

  std::vector<config_problem> problems;

  bool on_document_begin(json::error_code&) { return true; }
  bool on_document_end(json::error_code&) { return true; }
  bool on_array_begin(json::error_code&) {
    frames_.push_back({false, value_path(), {}, {}, 0});
    return true;
  }
  bool on_array_end(std::size_t, json::error_code&) { return end_container(); }
  bool on_object_begin(json::error_code&) {
    frames_.push_back({true, value_path(), {}, {}, 0});
    return true;
  }
  bool on_object_end(std::size_t, json::error_code&) { return end_container(); }
  bool on_string_part(json::string_view, std::size_t, json::error_code&) { return true; }
  bool on_string(json::string_view, std::size_t, json::error_code&) { return end_value(); }
  bool on_key_part(json::string_view s, std::size_t, json::error_code&) {
    frames_.back().key.append(s.data(), s.size());
    return true;
  }
  bool on_key(json::string_view s, std::size_t, json::error_code&) {
    auto& f = frames_.back();
    f.key.append(s.data(), s.size());
    if (!f.keys.insert(f.key).second) {
      const bool server = f.path == "$.mcpServers";
      problems.push_back({detail::child_path(f.path, f.key),
                          std::string(server ? "duplicate server name " : "duplicate key ") +
                              detail::quoted(f.key) + " in " + f.path +
                              (server ? ": each server needs a name of its own"
                                      : ": a key may appear once in an object")});
    }
    return true;
  }
  bool on_number_part(json::string_view, json::error_code&) { return true; }
  bool on_int64(std::int64_t, json::string_view, json::error_code&) { return end_value(); }
  bool on_uint64(std::uint64_t, json::string_view, json::error_code&) { return end_value(); }
  bool on_double(double, json::string_view, json::error_code&) { return end_value(); }
  bool on_bool(bool, json::error_code&) { return end_value(); }
  bool on_null(json::error_code&) { return end_value(); }
  bool on_comment_part(json::string_view, json::error_code&) { return true; }
  bool on_comment(json::string_view, json::error_code&) { return true; }

 private:
  struct frame {
    bool object;
    std::string path;
    std::set<std::string, std::less<>> keys;  // objects: the keys seen
    std::string key;                          // objects: the current key
    std::size_t index;                        // arrays: the current element
  };

  // The path of the value that starts now.
  std::string value_path() const {
    if (frames_.empty()) return "$";
    const auto& f = frames_.back();
    return f.object ? detail::child_path(f.path, f.key) : detail::index_path(f.path, f.index);
  }
  bool end_value() {
    if (frames_.empty()) return true;
    auto& f = frames_.back();
    if (f.object)
      f.key.clear();
    else
      ++f.index;
    return true;
  }
  bool end_container() {
    frames_.pop_back();
    return end_value();
  }

  std::vector<frame> frames_;
};

// JSONC, as TBXark's documentation writes its examples: // and /* */ comments, trailing commas.
json::parse_options jsonc_options() {
  json::parse_options o;
  o.allow_comments = true;
  o.allow_trailing_commas = true;
  return o;
}

// Where the parser stopped on an error. Boost.JSON 1.81 reports a bogus count (far past the end)
// for some errors at a comment that starts where a value may ("/;", "{\"a\": /x", a document of
// only a comment). Then the byte is found as the last of the shortest prefix that fails other
// than by ending early, by bisection: each try parses a prefix whole (feeding 1.81's parser a
// byte at a time reads past its buffer around comments, as fuzz/config_load found).
std::size_t error_offset(std::string_view body, std::size_t consumed) {
  if (consumed <= body.size()) return consumed;
  auto fails = [&](std::size_t n) {
    json::parser p(json::storage_ptr(), jsonc_options());
    json::error_code ec;
    p.write(body.data(), n, ec);
    return ec && ec != json::error::incomplete;
  };
  if (!fails(body.size())) return body.size();  // it ended too early
  std::size_t passes = 0, fails_at = body.size();
  while (passes + 1 < fails_at) {
    const std::size_t mid = passes + (fails_at - passes) / 2;
    (fails(mid) ? fails_at : passes) = mid;
  }
  return fails_at - 1;
}

std::vector<config_problem> duplicate_keys(std::string_view body) {
  json::basic_parser<duplicate_key_finder> p(jsonc_options());
  json::error_code ec;
  p.write_some(false, body.data(), body.size(), ec);
  return std::move(p.handler().problems);
}

}  // namespace

std::string expand_env_like_go(std::string_view text) {
  auto special = [](char c) { return std::string_view("*#$@!?-0123456789").find(c) != npos; };
  auto name_char = [](char c) { return c == '_' || detail::is_ascii_alnum(c); };
  std::string out;
  out.reserve(text.size());
  auto value_of = [](std::string_view name) {
    const char* v = std::getenv(std::string(name).c_str());
    return std::string_view(v ? v : "");
  };
  std::size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    // A '$' that ends the text stays.
    if (c != '$' || i + 1 == text.size()) {
      out += c;
      ++i;
      continue;
    }
    const auto rest = text.substr(i + 1);
    if (rest[0] == '{') {
      if (rest.size() > 2 && special(rest[1]) && rest[2] == '}') {
        out += value_of(rest.substr(1, 1));
        i += 4;
        continue;
      }
      const auto close = rest.find('}');
      if (close == npos) {
        i += 2;  // "${" with no end: dropped
      } else if (close == 1) {
        i += 3;  // "${}": dropped
      } else {
        out += value_of(rest.substr(1, close - 1));
        i += close + 2;
      }
      continue;
    }
    if (special(rest[0])) {
      out += value_of(rest.substr(0, 1));
      i += 2;
      continue;
    }
    std::size_t n = 0;
    while (n < rest.size() && name_char(rest[n])) ++n;
    if (n == 0)
      out += '$';  // not followed by a name: kept
    else
      out += value_of(rest.substr(0, n));
    i += 1 + n;
  }
  return out;
}

boost::system::result<config, config_error> parse_config(std::string_view raw_text,
                                                         std::string_view origin,
                                                         const load_options& options) {
  // TBXark's -expand-env works on the text, before it is parsed.
  std::string expanded;
  if (options.expansion == env_expansion::whole_text) expanded = expand_env_like_go(raw_text);
  const std::string_view text =
      options.expansion == env_expansion::whole_text ? std::string_view(expanded) : raw_text;
  // Editors on Windows like to start UTF-8 files with a byte order mark.
  constexpr std::string_view bom = "\xEF\xBB\xBF";
  std::size_t skipped = 0;
  if (text.substr(0, bom.size()) == bom) skipped = bom.size();
  std::string_view body = text.substr(skipped);

  json::parser parser(json::storage_ptr(), jsonc_options());
  json::error_code ec;
  std::size_t consumed = parser.write(body.data(), body.size(), ec);
  if (ec) {
    std::size_t offset = skipped + error_offset(body, consumed);
    auto [line, column] = line_and_column(text, offset);
    return file_error(origin,
                      "line " + std::to_string(line) + ", column " + std::to_string(column) +
                          " (byte " + std::to_string(offset) + ")",
                      "invalid JSON: " + ec.message());
  }
  json::value root = parser.release();

  config out;
  out.proxy.addr_origin = std::string(origin) + ": $.mcpProxy.addr";
  detail::reader r(origin, out.warnings, options.expansion == env_expansion::braced_values);
  // Before the values: with a key twice, the reader sees only the last.
  for (const auto& d : duplicate_keys(body)) r.fail(d.path, d.message);
  detail::read_root(r, root, out);
  if (!r.has_errors()) return out;
  auto error = r.take_errors();
  error.warnings = std::move(out.warnings);
  return error;
}

boost::system::result<config, config_error> load_config_file(const std::string& given_path,
                                                             const load_options& options) {
  // TBXark's -expand-env also expands the path ("$HOME/mcp.json").
  const std::string path =
      options.expansion == env_expansion::whole_text ? expand_env_like_go(given_path) : given_path;
  auto cannot_read = [&](int err) {
    return file_error(path, "", "cannot read: " + std::generic_category().message(err));
  };
  errno = 0;
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                       &std::fclose);
  if (!file) return cannot_read(errno);
  std::string text;
  char buffer[16 * 1024];
  for (;;) {
    std::size_t n = std::fread(buffer, 1, sizeof buffer, file.get());
    text.append(buffer, n);
    if (text.size() > max_config_file_bytes)
      return file_error(path, "", "cannot read: larger than 16 MiB, not a config file");
    if (n < sizeof buffer) break;
  }
  if (std::ferror(file.get())) return cannot_read(errno ? errno : EIO);
  return parse_config(text, path, options);
}

void throw_exception_from_error(const config_error& e, const boost::source_location& loc) {
  boost::throw_exception(std::runtime_error(e.message), loc);
}

}  // namespace mcp_proxy::config

namespace boost::system {
void throw_exception_from_error(const mcp_proxy::config::config_error& e,
                                const boost::source_location& loc) {
  mcp_proxy::config::throw_exception_from_error(e, loc);
}
}  // namespace boost::system
