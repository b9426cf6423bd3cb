#include "frontend/audit_log.hpp"

#include "protocol/log_text.hpp"
#include "util/log_fields.hpp"
#include "util/utc_timestamp.hpp"

#include <spdlog/spdlog.h>
#include <boost/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>

namespace mcp_proxy::frontend {

namespace json = boost::json;
namespace codes = jsonrpc::error_codes;

namespace {

struct file_closer {
  void operator()(std::FILE* f) const {
    if (f && f != stderr) std::fclose(f);
  }
};
std::unique_ptr<std::FILE, file_closer>& sink() {
  static std::unique_ptr<std::FILE, file_closer> f;
  return f;
}

std::vector<std::string>& log_enabled_servers() {
  static std::vector<std::string> names;
  return names;
}

bool log_enabled_for(const audit_entry& e) {
  const auto& names = log_enabled_servers();
  const auto named = [&](const std::string& n) {
    return !n.empty() && std::find(names.begin(), names.end(), n) != names.end();
  };
  return named(e.route) || named(e.backend);
}

std::string ms_text(double ms) {
  char out[32];
  std::snprintf(out, sizeof out, "%.1f", ms < 0 ? 0.0 : ms);
  return out;
}

}  // namespace

std::string audit_line(const audit_entry& e) {
  json::object o{{"time", util::utc_timestamp(e.at)},
                 {"identity", e.identity},
                 {"route", e.route},
                 {"method", e.method}};
  if (!e.target.empty()) o["target"] = e.target;
  if (!e.backend.empty()) o["backend"] = e.backend;
  o["outcome"] = e.outcome;
  if (e.code) o["code"] = *e.code;
  if (!e.id.is_null()) o["id"] = e.id;
  // Tenths of a millisecond, written as a plain decimal (Boost.JSON would write 5E-1).
  std::string line = json::serialize(o);
  char ms[32];
  std::snprintf(ms, sizeof ms, ",\"ms\":%.1f}", e.ms < 0 ? 0.0 : e.ms);
  line.pop_back();  // the object's closing brace
  line += ms;
  return line;
}

std::string request_log_text(const audit_entry& e) {
  using protocol::logfmt_value;
  std::string line = "request route=" + logfmt_value(e.route) + " method=" + logfmt_value(e.method);
  if (!e.target.empty()) line += " target=" + logfmt_value(e.target);
  if (!e.backend.empty()) line += " backend=" + logfmt_value(e.backend);
  line += " outcome=" + logfmt_value(e.outcome);
  if (e.code) line += " code=" + std::to_string(*e.code);
  line += " ms=" + ms_text(e.ms);
  line += " id=" +
          logfmt_value(e.id.is_string() ? std::string(e.id.get_string()) : json::serialize(e.id));
  line += " identity=" + logfmt_value(e.identity);
  return line;
}

json::object request_log_fields(const audit_entry& e) {
  json::object o{{"route", e.route}, {"method", e.method}};
  if (!e.target.empty()) o["target"] = e.target;
  if (!e.backend.empty()) o["backend"] = e.backend;
  o["outcome"] = e.outcome;
  if (e.code) o["code"] = *e.code;
  o["ms"] = std::round((e.ms < 0 ? 0.0 : e.ms) * 10) / 10;
  o["id"] = e.id;
  o["identity"] = e.identity;
  return o;
}

void set_request_log_servers(std::vector<std::string> names) {
  log_enabled_servers() = std::move(names);
}

void set_outcome(audit_entry& e, const jsonrpc::message& answer) {
  const auto* error = answer.error();
  const auto* o = error ? error->if_object() : nullptr;
  if (!o) {
    e.outcome = "ok";
    e.code.reset();
    return;
  }
  const auto* code = o->if_contains("code");
  e.code = code && code->is_int64() ? std::optional(code->get_int64()) : std::nullopt;
  e.outcome = e.code == codes::rate_limited      ? "refused"
              : e.code == codes::request_timeout ? "timeout"
                                                 : "error";
}

std::string audit_target(const jsonrpc::message& request) {
  const auto* params = request.params_object();
  if (!params) return {};
  const auto method = request.method();
  const char* key = method == "tools/call" || method == "prompts/get" ? "name"
                    : method.starts_with("resources/")                ? "uri"
                                                                      : nullptr;
  const auto* v = key ? params->if_contains(key) : nullptr;
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

std::optional<std::string> set_audit_log(const std::string& where) {
  auto& f = sink();
  f.reset();
  if (where.empty()) return std::nullopt;
  if (where == "stderr") {
    f.reset(stderr);
    return std::nullopt;
  }
  f.reset(std::fopen(where.c_str(), "a"));
  if (!f) return "cannot open the audit log " + where + ": " + std::strerror(errno);
  std::setvbuf(f.get(), nullptr, _IOLBF, 0);  // a line is on disk when its request is answered
  return std::nullopt;
}

bool audit_on() {
  return sink() != nullptr;
}

bool request_record_on() {
  return audit_on() || spdlog::should_log(spdlog::level::debug) || !log_enabled_servers().empty();
}

void write_audit(const audit_entry& e) {
  const auto level = log_enabled_for(e) ? spdlog::level::info : spdlog::level::debug;
  if (spdlog::should_log(level)) {
    const auto fields = request_log_fields(e);
    const util::log_fields_scope scope(fields);
    spdlog::log(level, "{}", request_log_text(e));
  }
  auto* f = sink().get();
  if (!f) return;
  std::string line = audit_line(e);
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), f);
}

}  // namespace mcp_proxy::frontend
