#include "frontend/audit_log.hpp"

#include "util/utc_timestamp.hpp"

#include <boost/json.hpp>

#include <cerrno>
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
  // Tenths of a millisecond, written as a plain decimal (Boost.JSON would write 5E-1).
  std::string line = json::serialize(o);
  char ms[32];
  std::snprintf(ms, sizeof ms, ",\"ms\":%.1f}", e.ms < 0 ? 0.0 : e.ms);
  line.pop_back();  // the object's closing brace
  line += ms;
  return line;
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

void write_audit(const audit_entry& e) {
  auto* f = sink().get();
  if (!f) return;
  std::string line = audit_line(e);
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), f);
}

}  // namespace mcp_proxy::frontend
