#include "mock_listen.hpp"

#include <boost/json.hpp>

#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>

namespace json = boost::json;
using mcp_proxy::jsonrpc::message;
namespace codes = mcp_proxy::jsonrpc::error_codes;

namespace mock::listens {

namespace {

constexpr std::string_view subscription_id = "io.modelcontextprotocol/subscriptionId";

struct filter {
  bool tools = false, prompts = false, resources = false;
  std::set<std::string, std::less<>> uris;
};

struct listen {
  json::value id;
  filter wants;
  modern::sink out;
};

// Never destroyed: handles held by other statics may close their listen at exit.
std::mutex& mutex = *new std::mutex;
std::map<std::uint64_t, listen>& open_listens = *new std::map<std::uint64_t, listen>;
filter offered;  // what the capabilities allow (uris unused)
bool offers_subscriptions = false;
std::uint64_t next_key = 1;

bool flag(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_bool() && v->get_bool();
}

bool capability_flag(const json::object& caps, std::string_view feature, std::string_view key) {
  const auto* f = caps.if_contains(feature);
  return f && f->is_object() && flag(f->get_object(), key);
}

class listen_handle final : public modern::request_handle {
 public:
  explicit listen_handle(std::uint64_t key) : key_(key) {}
  ~listen_handle() override { cancel(); }
  void cancel() override {
    std::lock_guard lock(mutex);
    open_listens.erase(key_);
  }

 private:
  std::uint64_t key_;
};

// The notification as one listen receives it: its params._meta names the subscription.
message tagged(const message& n, const json::value& id) {
  json::object params = n.params_object() ? *n.params_object() : json::object{};
  auto& meta = params["_meta"];
  if (!meta.is_object()) meta = json::object{};
  meta.get_object()[subscription_id] = id;
  return message::notification(n.method(), std::move(params));
}

}  // namespace

void configure(const json::object& capabilities) {
  std::lock_guard lock(mutex);
  offered.tools = capability_flag(capabilities, "tools", "listChanged");
  offered.prompts = capability_flag(capabilities, "prompts", "listChanged");
  offered.resources = capability_flag(capabilities, "resources", "listChanged");
  offers_subscriptions = capability_flag(capabilities, "resources", "subscribe");
}

std::shared_ptr<modern::request_handle> open(const message& request, modern::sink out) {
  const json::value& id = *request.id();
  const auto* params = request.params_object();
  const auto* asked = params ? params->if_contains("notifications") : nullptr;
  if (!asked || !asked->is_object()) {
    out(message::error_response(
        id, codes::invalid_params,
        "Invalid params: subscriptions/listen needs a notifications object"));
    return nullptr;
  }
  const auto& a = asked->get_object();
  listen l;
  l.id = id;
  l.out = out;
  // The acknowledgment names only what will be delivered (subscriptions, acknowledgment).
  json::object honored;
  auto honor = [&](std::string_view key, bool offered_flag, bool& wants) {
    if (flag(a, key) && offered_flag) {
      wants = true;
      honored[key] = true;
    }
  };
  std::uint64_t key;
  {
    std::lock_guard lock(mutex);
    honor("toolsListChanged", offered.tools, l.wants.tools);
    honor("promptsListChanged", offered.prompts, l.wants.prompts);
    honor("resourcesListChanged", offered.resources, l.wants.resources);
    if (const auto* uris = a.if_contains("resourceSubscriptions");
        uris && uris->is_array() && offers_subscriptions) {
      json::array kept;
      for (const auto& u : uris->get_array()) {
        if (!u.is_string()) continue;
        l.wants.uris.emplace(u.get_string());
        kept.push_back(u);
      }
      honored["resourceSubscriptions"] = std::move(kept);
    }
    key = next_key++;
    // Registered and acknowledged under the lock: no notification can overtake the ack.
    out(message::notification(
        "notifications/subscriptions/acknowledged",
        {{"_meta", json::object{{subscription_id, id}}}, {"notifications", std::move(honored)}}));
    open_listens.emplace(key, std::move(l));
  }
  return std::make_shared<listen_handle>(key);
}

void publish(const message& n) {
  const std::string_view method = n.method();
  std::string uri;
  if (method == "notifications/resources/updated" && n.params_object())
    if (const auto* u = n.params_object()->if_contains("uri"); u && u->is_string())
      uri = u->get_string();
  std::lock_guard lock(mutex);
  for (auto& [key, l] : open_listens) {
    const bool wanted = (method == "notifications/tools/list_changed" && l.wants.tools) ||
                        (method == "notifications/prompts/list_changed" && l.wants.prompts) ||
                        (method == "notifications/resources/list_changed" && l.wants.resources) ||
                        (method == "notifications/resources/updated" && l.wants.uris.contains(uri));
    if (wanted) l.out(tagged(n, l.id));
  }
}

}  // namespace mock::listens
