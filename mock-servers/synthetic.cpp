#include "synthetic.hpp"

#include <boost/json/serialize.hpp>

#include <atomic>
#include <charconv>
#include <cstdio>
#include <mutex>
#include <random>

namespace json = boost::json;

namespace mock::synthetic {

namespace {

std::atomic<long> tool_count{0};
long resource_count = 0;
long prompt_count = 0;
long page_size = 0;
long latency_min = 0, latency_max = 0;
long list_latency = 0;
long crash_after = -1, hang_after = -1;
long garbage_every = 0;
long garbage_bytes = 32;

std::atomic<long> calls_seen{0};
std::atomic<long> messages_written{0};
std::atomic<bool> hung{false};
std::mutex random_mutex;
std::mt19937 random_engine{12345};  // deterministic across runs

bool parse_long(std::string_view s, long& out) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size() && out >= 0;
}

std::string numbered(std::string_view prefix, long n) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04ld", n);
  return std::string(prefix) + buf;
}

// "gen_tool_0042" -> 42, when 1 <= 42 <= count.
std::optional<long> index_of(std::string_view name, std::string_view prefix, long count) {
  if (!name.starts_with(prefix)) return std::nullopt;
  long n = 0;
  if (!parse_long(name.substr(prefix.size()), n) || n < 1 || n > count) return std::nullopt;
  return n;
}

json::object text_content(std::string text) {
  return {{"type", "text"}, {"text", std::move(text)}};
}

}  // namespace

bool parse_flag(int& i, int argc, char** argv, std::string& error) {
  std::string_view flag = argv[i];
  auto value = [&](long& out) {
    if (i + 1 >= argc || !parse_long(argv[i + 1], out))
      error = std::string(flag) + " needs a non-negative integer";
    ++i;
    return true;
  };
  if (flag == "--tools") {
    long n = 0;
    value(n);
    tool_count = n;
    return true;
  }
  if (flag == "--resources") return value(resource_count);
  if (flag == "--prompts") return value(prompt_count);
  if (flag == "--page-size") return value(page_size);
  if (flag == "--crash-after") return value(crash_after);
  if (flag == "--hang-after") return value(hang_after);
  if (flag == "--mute") {
    hung = true;  // not even initialize is answered
    return true;
  }
  if (flag == "--garbage-every") return value(garbage_every);
  if (flag == "--garbage-bytes") return value(garbage_bytes);
  if (flag == "--list-latency-ms") return value(list_latency);
  if (flag == "--latency-ms") {
    std::string_view v = i + 1 < argc ? argv[i + 1] : "";
    ++i;
    auto dash = v.find('-');
    bool ok = dash == std::string_view::npos ? parse_long(v, latency_min)
                                             : parse_long(v.substr(0, dash), latency_min) &&
                                                   parse_long(v.substr(dash + 1), latency_max);
    if (dash == std::string_view::npos) latency_max = latency_min;
    if (!ok || latency_max < latency_min) error = "--latency-ms needs N or MIN-MAX (milliseconds)";
    return true;
  }
  return false;
}

bool has_resources_or_prompts() {
  return resource_count > 0 || prompt_count > 0;
}

void add_capabilities(json::object& capabilities) {
  if (resource_count > 0) capabilities["resources"] = json::object{{"listChanged", false}};
  if (prompt_count > 0) capabilities["prompts"] = json::object{{"listChanged", false}};
}

void append_tools(json::array& tools) {
  const long n = tool_count;
  for (long i = 1; i <= n; ++i) {
    tools.push_back(json::object{
        {"name", numbered("gen_tool_", i)},
        {"description", "A generated tool: echoes its arguments"},
        {"inputSchema", json::object{{"type", "object"}, {"properties", json::object{}}}}});
  }
}

void grow_tools() {
  if (tool_count > 0) ++tool_count;
}

page_result page(std::string_view key, json::array items, const json::object& params) {
  page_result out;
  std::size_t start = 0;
  if (auto* c = params.if_contains("cursor"); c && !c->is_null()) {
    // The cursor is "page:OFFSET"; clients must treat it as opaque, and anything else is -32602.
    long offset = 0;
    std::string_view s = c->is_string() ? std::string_view(c->get_string()) : std::string_view();
    if (!s.starts_with("page:") || !parse_long(s.substr(5), offset) || offset <= 0 ||
        static_cast<std::size_t>(offset) >= items.size()) {
      out.error = "Invalid params: unknown cursor";
      return out;
    }
    start = static_cast<std::size_t>(offset);
  }
  std::size_t end = items.size();
  if (page_size > 0) end = std::min(items.size(), start + static_cast<std::size_t>(page_size));
  json::array slice;
  for (std::size_t i = start; i < end; ++i) slice.push_back(std::move(items[i]));
  out.result[key] = std::move(slice);
  if (end < items.size()) out.result["nextCursor"] = "page:" + std::to_string(end);
  return out;
}

std::optional<answer> call_generated_tool(std::string_view name, const json::object& args) {
  auto n = index_of(name, "gen_tool_", tool_count);
  if (!n) return std::nullopt;
  answer a;
  a.result = {
      {"content", json::array{text_content(std::string(name) + " " + json::serialize(args))}}};
  return a;
}

std::optional<answer> handle_request(std::string_view method, const json::object& params) {
  auto string_param = [&](std::string_view key) {
    auto* v = params.if_contains(key);
    return v && v->is_string() ? std::string(v->get_string()) : std::string();
  };
  answer a;
  if (resource_count > 0 && method == "resources/list") {
    json::array items;
    for (long i = 1; i <= resource_count; ++i) {
      auto id = numbered("", i);
      items.push_back(json::object{
          {"uri", "mock://gen/" + id}, {"name", "gen_resource_" + id}, {"mimeType", "text/plain"}});
    }
    auto p = page("resources", std::move(items), params);
    if (!p.error.empty()) return answer{{}, -32602, p.error};
    a.result = std::move(p.result);
    return a;
  }
  if (resource_count > 0 && method == "resources/templates/list") {
    a.result = {{"resourceTemplates", json::array{}}};
    return a;
  }
  if (resource_count > 0 && method == "resources/read") {
    std::string uri = string_param("uri");
    std::string_view rest = uri;
    if (!rest.starts_with("mock://gen/") || !index_of(rest.substr(11), "", resource_count))
      return answer{{}, -32002, "Resource not found: " + uri};
    a.result = {{"contents",
                 json::array{json::object{
                     {"uri", uri}, {"mimeType", "text/plain"}, {"text", "content of " + uri}}}}};
    return a;
  }
  if (prompt_count > 0 && method == "prompts/list") {
    json::array items;
    for (long i = 1; i <= prompt_count; ++i)
      items.push_back(json::object{{"name", numbered("gen_prompt_", i)},
                                   {"description", "A generated prompt"}});
    auto p = page("prompts", std::move(items), params);
    if (!p.error.empty()) return answer{{}, -32602, p.error};
    a.result = std::move(p.result);
    return a;
  }
  if (prompt_count > 0 && method == "prompts/get") {
    std::string name = string_param("name");
    if (!index_of(name, "gen_prompt_", prompt_count))
      return answer{{}, -32602, "Invalid params: unknown prompt " + name};
    a.result = {{"messages", json::array{json::object{
                                 {"role", "user"}, {"content", text_content("prompt " + name)}}}}};
    return a;
  }
  return std::nullopt;
}

call_plan next_call() {
  const long seen = calls_seen.fetch_add(1);  // calls before this one
  call_plan plan;
  if (crash_after >= 0 && seen >= crash_after) plan.what = fate::crash;
  if (hang_after >= 0 && seen >= hang_after) {
    hung = true;
    plan.what = fate::hang;
  }
  if (latency_max > 0) {
    std::lock_guard lock(random_mutex);
    plan.delay_ms = std::uniform_int_distribution<long>(latency_min, latency_max)(random_engine);
  }
  return plan;
}

long list_delay_ms() {
  return list_latency;
}

bool hanging() {
  return hung;
}

std::string garbage_before_message() {
  if (garbage_every <= 0) return {};
  if ((messages_written.fetch_add(1) + 1) % garbage_every != 0) return {};
  std::string line = "garbage: this line is not JSON {";
  if (static_cast<long>(line.size()) < garbage_bytes)
    line.append(static_cast<std::size_t>(garbage_bytes) - line.size(), 'g');
  else
    line.resize(static_cast<std::size_t>(garbage_bytes));
  line.push_back('\n');
  return line;
}

}  // namespace mock::synthetic
