#pragma once
// Runs a callable when the scope ends, however it ends (return, co_return, exception), unless
// released. One utility for the guards that restore state a coroutine set (C++20 has no
// std::scope_exit).
// Thread-safety: none needed (a local of one scope).

#include <utility>

namespace mcp_proxy::util {

template <typename F>
class scope_exit {
 public:
  explicit scope_exit(F f) : f_(std::move(f)) {}
  scope_exit(const scope_exit&) = delete;
  scope_exit& operator=(const scope_exit&) = delete;
  ~scope_exit() {
    if (active_) f_();
  }
  void release() { active_ = false; }

 private:
  F f_;
  bool active_ = true;
};

}  // namespace mcp_proxy::util
