#pragma once
// What log lines may show, and the JSON log format (issue #17, "Logs"): the level and format
// names the command line and mcpProxy accept, session ids shortened, message bodies cut for
// trace, the structured fields a message names, and one JSON object per line. Pure functions:
// app/logging.cpp and the call sites carry them out. Thread-safety: plain functions.

#include <boost/json/object.hpp>

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace mcp_proxy::protocol {

// The names --log-level and mcpProxy.logLevel accept (spdlog's, and "warning").
inline constexpr std::array<std::string_view, 8> log_level_names{
    "trace", "debug", "info", "warn", "warning", "error", "critical", "off"};
bool is_log_level_name(std::string_view name);
// "trace, debug, info, warn, warning, error, critical, off": for error messages.
std::string log_level_list();

enum class log_format { text, json };
// "text" or "json"; nullopt for any other name.
std::optional<log_format> log_format_of(std::string_view name);

// A session id (a client's Mcp-Session-Id or legacy sessionId, a backend's session) as logs
// show it: its first 8 characters, never more than half of it, and "...". Enough to tell
// sessions apart in one log; not enough to take one over.
std::string short_id(std::string_view id);

// `text` with the value of every "sessionId=" (a legacy SSE endpoint event's query) shortened
// by short_id.
std::string redact_session_query(std::string_view text);

// A message body for trace logs: its first `limit` bytes (cut at a UTF-8 character boundary)
// and, when cut, "... (N bytes)" with the whole length; control characters escaped (\n, \r, \t,
// \u00XX), so a body stays on its log line.
inline constexpr std::size_t body_log_limit = 2048;
std::string body_excerpt(std::string_view body, std::size_t limit = body_log_limit);

// A value of a key=value log message: as it is when it is a plain word, else a JSON string
// ("a b", "" for empty), so a client's tool name cannot forge a field or a line.
std::string logfmt_value(std::string_view v);

// The fields a log message names by the house convention of its first words:
// "backend NAME: ..." and "backend NAME stderr: ..." (backend), "session ID on LABEL: ..."
// (session and route: LABEL is a server name, "group NAME" or "merged endpoint"),
// "session ID: ..." and "legacy SSE session ID: ..." (session). Empty when not named.
struct log_fields {
  std::string backend;
  std::string session;
  std::string route;
};
log_fields fields_of(std::string_view message);

// One line of the JSON log format (no newline): {"time", "level", "message", then the fields
// the message names (fields_of), then `extra` (those win)}. Invalid UTF-8 in the message is
// replaced by U+FFFD, so every line parses.
std::string json_log_line(std::string_view time, std::string_view level, std::string_view message,
                          const boost::json::object* extra = nullptr);

}  // namespace mcp_proxy::protocol
