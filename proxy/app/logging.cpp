#include "app/app.hpp"

#include "protocol/log_text.hpp"
#include "util/log_fields.hpp"
#include "util/utc_timestamp.hpp"

#include <spdlog/formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <memory>

// Both formats write times in UTC with milliseconds and a "Z" (as the audit log and /readyz):
// lines from machines in different zones sort and compare as they are.

namespace mcp_proxy {

namespace {

constexpr const char* text_pattern = "%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ %v";

// One JSON object per line (protocol::json_log_line), with the fields of the record being
// logged (util::current_log_fields: the request line's route, method, ...).
class json_formatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const auto level = spdlog::level::to_string_view(msg.level);
    const std::string line =
        protocol::json_log_line(util::utc_timestamp(msg.time), {level.data(), level.size()},
                                {msg.payload.data(), msg.payload.size()}, util::current_log_fields);
    dest.append(line.data(), line.data() + line.size());
    dest.push_back('\n');
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<json_formatter>();
  }
};

}  // namespace

void init_logging(std::string_view name) {
  auto logger = spdlog::stderr_color_mt(std::string(name));
  spdlog::set_default_logger(logger);
  set_log_format(protocol::log_format::text);
}

void set_log_format(protocol::log_format format) {
  if (format == protocol::log_format::json)
    spdlog::set_formatter(std::make_unique<json_formatter>());
  else
    spdlog::set_pattern(text_pattern, spdlog::pattern_time_type::utc);
}

}  // namespace mcp_proxy
