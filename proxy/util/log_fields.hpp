#pragma once
// Structured fields of the log record being written now on this thread: the JSON log format
// (app/logging.cpp) adds them to the line; the text format shows only the message, which says
// the same in words. spdlog formats on the calling thread, so a scope around one spdlog call is
// enough. Thread-safety: per thread.

#include <boost/json/object.hpp>

namespace mcp_proxy::util {

inline thread_local const boost::json::object* current_log_fields = nullptr;

class log_fields_scope {
 public:
  explicit log_fields_scope(const boost::json::object& fields) : saved_(current_log_fields) {
    current_log_fields = &fields;
  }
  ~log_fields_scope() { current_log_fields = saved_; }
  log_fields_scope(const log_fields_scope&) = delete;
  log_fields_scope& operator=(const log_fields_scope&) = delete;

 private:
  const boost::json::object* saved_;
};

}  // namespace mcp_proxy::util
