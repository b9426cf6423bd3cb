#include "protocol/streamable_client.hpp"

#include "jsonrpc/message.hpp"
#include "jsonrpc/top_level_scan.hpp"

#include <boost/json/parse.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace mcp_proxy::protocol {

namespace json = boost::json;

namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

bool media_type_is(std::string_view content_type, std::string_view media_type) {
  auto type = content_type.substr(0, content_type.find(';'));
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  while (!type.empty() && type.front() == ' ') type.remove_prefix(1);
  return iequals(type, media_type);
}

post_answer classify_post_answer(const post_facts& f) {
  if (f.status == 404 && f.had_session) return post_answer::session_expired;
  if (f.detecting && f.status / 100 == 4 && f.status != 401 && f.status != 403)
    return post_answer::not_streamable_http;
  if (f.status == 202 || f.status == 204) return post_answer::accepted;
  if (f.status / 100 != 2) return post_answer::http_error;
  if (media_type_is(f.content_type, "application/json")) return post_answer::json;
  if (media_type_is(f.content_type, "text/event-stream")) return post_answer::event_stream;
  return post_answer::bad_content_type;
}

bool is_response_to(std::string_view text, const json::value& id) {
  // The top level only: cheap, and a response nested deeper than the parser takes still ends
  // its stream (the session then fails the call at once instead of waiting for its deadline).
  const auto outline = jsonrpc::outline_of(text);
  return outline.is_response && outline.id == id;
}

std::string renewed_session_problem(std::string_view answer, std::string_view version) {
  boost::system::error_code ec;
  auto v = jsonrpc::parse_json_value(answer, ec);
  const auto* o = ec ? nullptr : v.if_object();
  const auto* result = o ? o->if_contains("result") : nullptr;
  const auto* got =
      result && result->is_object() ? result->get_object().if_contains("protocolVersion") : nullptr;
  if (!got || !got->is_string()) return "initialize failed: " + std::string(answer.substr(0, 200));
  if (got->get_string() != version)
    return "the new session has protocol version " + std::string(got->get_string());
  return "";
}

std::optional<std::chrono::seconds> keep_alive_timeout(std::string_view header) {
  while (!header.empty()) {
    const auto comma = header.find(',');
    std::string_view part = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view{} : header.substr(comma + 1);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    if (part.size() <= 8 || !iequals(part.substr(0, 8), "timeout=")) continue;
    part.remove_prefix(8);
    unsigned seconds = 0;
    auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), seconds);
    if (ec == std::errc() && (end == part.data() + part.size() || *end == ' '))
      return std::chrono::seconds(std::min(seconds, 3600u));
  }
  return std::nullopt;
}

void resume_policy::saw(std::string_view last_event_id, std::optional<long long> retry_ms) {
  if (!last_event_id.empty()) last_id_ = last_event_id;
  if (retry_ms && *retry_ms >= 0)
    retry_ = std::min<clock::duration>(std::chrono::milliseconds(*retry_ms), cap_);
}

std::optional<resume_policy::clock::duration> resume_policy::next_attempt(
    clock::time_point now, clock::time_point deadline) {
  if (last_id_.empty() || attempts_ >= max_attempts || now >= deadline) return std::nullopt;
  ++attempts_;
  return retry_;
}

}  // namespace mcp_proxy::protocol
