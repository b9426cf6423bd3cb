#pragma once
// Ends the process groups of the backends when the proxy dies in a way that runs no cleanup
// (SIGKILL, a crash, the OOM killer).
//
// Every stdio backend runs in a process group of its own (transport/stdio_child), so a wrapper
// (`bash -c`, `npx`, `uv run`) and whatever it starts are one group, ended as one. The proxy ends
// those groups itself on every stop, restart, DELETE and shutdown. PR_SET_PDEATHSIG covers only
// the direct child and only with a signal it may ignore, so for the rest there is a guardian: a
// small process forked at start, before any backend, that reads the list of live groups from a
// pipe. When the pipe reaches end of file (the proxy is gone, however it died), the guardian sends
// SIGTERM to every group still listed, waits up to 2 s for them to go, sends SIGKILL to what is
// left, and exits. It ignores SIGINT, SIGTERM and SIGHUP, so a signal to the proxy's whole process
// group still lets the proxy stop its backends gracefully first.
//
// Thread-safety: call from one thread (the proxy's io_context thread). Without start(), the
// other calls do nothing (unit tests that spawn children).

namespace mcp_proxy::util {

// Forks the guardian. Call once, early, before any backend starts. Returns false (and logs)
// when it cannot; the proxy then runs without it.
bool start_process_guardian();
// The group `pgid` is to be ended if the proxy dies.
void guard_process_group(int pgid);
// The group `pgid` has been ended (its pgid may be reused from now on).
void release_process_group(int pgid);
// Closes the pipe at a normal exit (every group should be released by then; one that is not is
// ended by the guardian) and reaps the guardian.
void stop_process_guardian();

}  // namespace mcp_proxy::util
