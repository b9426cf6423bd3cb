#pragma once
// The form of the answer to one POSTed request (spec 2025-11-25 basic/transports: sending
// messages to the server), as a sans-io state machine: JSON when the response is the first thing
// the call produces; an SSE stream as soon as anything else comes first (progress, a related
// request, a log message), which the response then ends. A call the client cancels owes no
// response: its stream ends empty. With polling (closeStreamAfter), a call still running at the
// close time has its stream primed and ended cleanly, and what it sends later waits for the
// client's GET with Last-Event-ID (the call goes on: it is orphaned, not cancelled).
// The caller waits for events (with the deadline and close time) and carries out each step.
// Thread-safety: none (one call, one coroutine).

namespace mcp_proxy::protocol {

class call_answer {
 public:
  enum class step {
    reply_json,      // write the event as a JSON response; done
    open_and_write,  // start the event stream (primed), write the event
    write,           // write the event on the stream
    write_and_end,   // write the event, end the stream; done
    open_and_end,    // start the stream (primed) and end it: nothing more to write; done
    end,             // end the stream; done
  };

  // An event of the call; `final`: it is the response.
  step on_event(bool final);
  // The client cancelled the call: no response is owed.
  step on_cancelled();
  // Polling: the close time passed with the call still running. Its later events go to a
  // queue a resuming GET reads (the caller orphans the call).
  step on_close_time();
  // Whether the answer is an event stream (it has started one).
  bool streaming() const { return streaming_; }
  bool done() const { return done_; }

 private:
  step finish(step s) {
    done_ = true;
    return s;
  }
  bool streaming_ = false;
  bool done_ = false;
};

}  // namespace mcp_proxy::protocol
