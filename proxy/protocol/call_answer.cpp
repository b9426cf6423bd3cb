#include "protocol/call_answer.hpp"

namespace mcp_proxy::protocol {

call_answer::step call_answer::on_event(bool final) {
  if (!streaming_) {
    if (final) return finish(step::reply_json);
    streaming_ = true;
    return step::open_and_write;
  }
  return final ? finish(step::write_and_end) : step::write;
}

call_answer::step call_answer::on_cancelled() {
  if (streaming_) return finish(step::end);
  streaming_ = true;
  return finish(step::open_and_end);
}

call_answer::step call_answer::on_close_time() {
  return on_cancelled();  // the same stream shape: what follows goes to the resuming GET
}

}  // namespace mcp_proxy::protocol
