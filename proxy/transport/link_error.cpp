#include "transport/link_error.hpp"

#include <string>

namespace mcp_proxy::transport {

namespace {

class link_category_impl final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "mcp-proxy link"; }
  std::string message(int ev) const override {
    switch (static_cast<link_error>(ev)) {
      case link_error::stopped:
        return "stopped";
      case link_error::exited:
        return "the backend process exited";
      case link_error::unreachable:
        return "the backend is unreachable";
      case link_error::refused_transport:
        return "the backend does not speak Streamable HTTP";
      case link_error::session_expired:
        return "the backend ended the session";
      case link_error::stream_closed:
        return "the backend closed its event stream";
      case link_error::bad_answer:
        return "the backend answered outside the protocol";
      case link_error::timed_out:
        return "the backend did not answer in time";
      case link_error::start_failed:
        return "the backend could not be started";
      case link_error::refused:
        return "the backend refused";
    }
    return "unknown link error " + std::to_string(ev);
  }
};

}  // namespace

const boost::system::error_category& link_category() {
  static const link_category_impl category;
  return category;
}

boost::system::error_code make_error_code(link_error e) {
  return {static_cast<int>(e), link_category()};
}

}  // namespace mcp_proxy::transport
