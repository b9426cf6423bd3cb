#pragma once
// What each key holds of something scarce, against a bound per key (issue #15): client sessions
// per client address, so one client cannot take every slot; per-client backend processes, all
// under one key. A slot is a shared_ptr<void>: the count goes down when its last copy goes (a
// session drops its slot when it ends).
// Thread-safety: none (one executor). Slots may outlive the quota.

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

namespace mcp_proxy::util {

class keyed_quota {
 public:
  explicit keyed_quota(std::uint64_t per_key)
      : per_key_(per_key), held_(std::make_shared<counts>()) {}

  // A slot for `key`, or null when it already holds per_key of them.
  std::shared_ptr<void> acquire(const std::string& key) {
    auto& n = (*held_)[key];
    if (n >= per_key_) return nullptr;
    ++n;
    // Points at the counts (never null); the deleter only counts down.
    return std::shared_ptr<void>(held_.get(), [held = held_, key](void*) {
      auto it = held->find(key);
      if (it != held->end() && --it->second == 0) held->erase(it);
    });
  }
  std::uint64_t held(const std::string& key) const {
    auto it = held_->find(key);
    return it == held_->end() ? 0 : it->second;
  }
  std::uint64_t per_key() const { return per_key_; }

 private:
  using counts = std::unordered_map<std::string, std::uint64_t>;
  std::uint64_t per_key_;
  std::shared_ptr<counts> held_;
};

}  // namespace mcp_proxy::util
