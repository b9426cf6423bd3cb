#pragma once
// `--http HOST:PORT`: the mock served over HTTP at http://HOST:PORT/mock/mcp (Streamable HTTP) and
// http://HOST:PORT/mock/sse (legacy HTTP+SSE), one mock process (over stdio) per client session.
// HTTP-level faults:
//   --drip-ms N             event streams are written 8 bytes at a time, one piece every N ms
//   --drop-after-events K   a POST's event stream is cut after K events, before its response
//   --close-stream-after-ms N  polling: a call still running N ms after its POST has its
//                              stream ended once primed; the client resumes with GET
//   --event-stream-answers  every POSTed request is answered with an event stream
//   --hold-after-bytes N    an event longer than N bytes: N bytes of it are written, then the
//                           rest once the --hold-until PATH file exists (30 s at most); with no
//                           --hold-until, the connection is cut there
// (--bearer-token-file FILE is served in front of this: mock_modern_http.hpp.)

namespace mock {

// Runs until SIGINT/SIGTERM; returns the exit code. `argv` is the mock's own command line: every
// option but the HTTP ones above is passed on to the per-session processes.
int serve_over_http(int argc, char** argv);

}  // namespace mock
