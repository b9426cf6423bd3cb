"""Fault suite (issue #15): what a stdio backend and everything it starts may do to the proxy.

* Process groups: a backend leads a process group of its own, and every way it ends (shutdown,
  restart, DELETE of a per-client session, the end of the stdio frontend, kill -9 of the proxy)
  ends the whole group, wrappers' leftovers included (proxy/util/process_guardian.hpp).
* maxMessageBytes: a stdout line over it fails the calls in flight at once and restarts the
  backend; memory stays bounded whatever the backend writes.
* logLinesPerSecond: a backend's stderr and its junk stdout lines are logged at a bounded rate,
  with a "suppressed N" summary.

None of this is in the MCP spec; the rule is the project's (README, "Children and limits"): no
orphan, no unbounded memory or log, and an error for the affected call, promptly.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Iterator, Optional

import httpx
import pytest

from conftest import (HTTP_TIMEOUT_S, STOP_TIMEOUT_S, McpClient, SseParser, mock_config,
                      terminate, text_of, wait_until)

# Bounds of the waits below, generous for an ASan build on a loaded 2-core machine: the proxy
# gives a group 2 s after SIGTERM, the guardian 2 s more.
GONE_TIMEOUT_S = 20.0


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=HTTP_TIMEOUT_S) as client:
        yield client


def alive(pid: int) -> bool:
    """True while the process runs (a zombie has ended: it only waits for its parent)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat[stat.rindex(")") + 2] != "Z"


def read_pid(path: Path, timeout_s: float = 30.0) -> int:
    assert wait_until(lambda: path.exists() and path.read_text().strip() != "", timeout_s), \
        f"no pid in {path}"
    return int(path.read_text())


def kill_if_alive(pid: Optional[int]) -> None:
    if pid and alive(pid):
        os.kill(pid, signal.SIGKILL)


@pytest.fixture
def leftovers() -> Iterator[list]:
    """PIDs a test expects gone; any still alive at the end is killed (the test has failed)."""
    pids: list = []
    yield pids
    for pid in pids:
        kill_if_alive(pid)


def wrapped_mock(mock_server_bin: Path, *mock_args: str) -> dict:
    """A server entry that starts the mock the way wrappers (npx, uv run, a script) do: through a
    shell that stays the direct child and waits for it."""
    command = " ".join([str(mock_server_bin), *mock_args]) + "; true"
    return {"command": "bash", "args": ["-c", command], "timeout": "30s"}


def config_of(**servers: dict) -> dict:
    return {"mcpProxy": {"addr": "127.0.0.1:0"}, "mcpServers": servers}


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS for {pid}")


# --------------------------------------------------------------------------------------------
# Process groups


@pytest.mark.parametrize("ignores_sigterm", [False, True], ids=["plain", "ignores-sigterm"])
def test_a_wrappers_leftover_ends_with_the_proxy(start_proxy, mock_server_bin, tmp_path,
                                                 leftovers, ignores_sigterm):
    """Shutdown ends the backend's whole process group, not only the wrapper it started."""
    pid_file = tmp_path / "grandchild.pid"
    args = ["--spawn-grandchild", str(pid_file)] + (["--ignore-sigterm"] if ignores_sigterm else [])
    proxy = start_proxy(config_of(w=wrapped_mock(mock_server_bin, *args)))
    grandchild = read_pid(pid_file)
    leftovers.append(grandchild)
    assert alive(grandchild)
    assert proxy.stop() == 0, proxy.output()[-3000:]
    assert wait_until(lambda: not alive(grandchild), GONE_TIMEOUT_S), \
        f"grandchild {grandchild} outlived the proxy:\n{proxy.output()[-3000:]}"


def test_a_restart_ends_the_leftovers_of_the_crashed_backend(start_proxy, mock_server_bin,
                                                             tmp_path, http, leftovers):
    pid_file = tmp_path / "grandchild.pid"
    proxy = start_proxy(config_of(w=wrapped_mock(mock_server_bin, "--spawn-grandchild",
                                                 str(pid_file))))
    first = read_pid(pid_file)
    leftovers.append(first)
    pid_file.write_text("")
    mcp = McpClient(proxy.url("w"), http).open_session()
    crashed = mcp.call_tool("crash", {})
    assert "error" in crashed, crashed
    assert wait_until(lambda: not alive(first), GONE_TIMEOUT_S), \
        f"the crashed backend's grandchild {first} is still running:\n{proxy.output()[-3000:]}"
    # The backend comes back (with a grandchild of its own) and answers.
    answered = wait_until(lambda: "result" in McpClient(proxy.url("w"), http).open_session()
                          .call_tool("echo", {"text": "back"}), 30.0, 0.5)
    assert answered, proxy.output()[-3000:]
    leftovers.append(read_pid(pid_file))


def test_delete_of_a_per_client_session_ends_its_backends_group(start_proxy, mock_server_bin,
                                                                tmp_path, http, leftovers):
    pid_file = tmp_path / "grandchild.pid"
    server = wrapped_mock(mock_server_bin, "--spawn-grandchild", str(pid_file))
    proxy = start_proxy(config_of(w={**server, "sessionMode": "per-client"}))
    mcp = McpClient(proxy.url("w"), http).open_session()
    grandchild = read_pid(pid_file)
    leftovers.append(grandchild)
    assert "result" in mcp.call_tool("echo", {"text": "hi"})
    assert mcp.delete().status_code in (200, 202, 204)
    assert wait_until(lambda: not alive(grandchild), GONE_TIMEOUT_S), \
        f"grandchild {grandchild} outlived its session:\n{proxy.output()[-3000:]}"


def test_kill_9_of_the_proxy_ends_a_backend_that_ignores_sigterm(start_proxy, mock_server_bin,
                                                                 tmp_path, http, leftovers):
    """PR_SET_PDEATHSIG sends SIGTERM, which this backend ignores; the guardian follows up."""
    pid_file = tmp_path / "grandchild.pid"
    proxy = start_proxy(mock_config(mock_server_bin, m={"args": [
        "--ignore-sigterm", "--linger-ms", "600000", "--spawn-grandchild", str(pid_file)]}))
    grandchild = read_pid(pid_file)
    mcp = McpClient(proxy.url("m"), http).open_session()
    backend = int(text_of(mcp.call_tool("pid", {})))
    leftovers.extend([backend, grandchild])
    proxy.proc.kill()
    proxy.proc.wait(STOP_TIMEOUT_S)
    for pid in (backend, grandchild):
        assert wait_until(lambda: not alive(pid), GONE_TIMEOUT_S), \
            f"{pid} outlived a proxy killed with SIGKILL:\n{proxy.output()[-3000:]}"


def test_a_process_that_left_the_group_does_not_hold_up_shutdown(start_proxy, mock_server_bin,
                                                                 tmp_path, leftovers):
    """A daemon (setsid) that keeps the backend's stdout and stderr open: out of reach of a
    group signal, but the proxy stops reading its pipes and exits cleanly."""
    pid_file = tmp_path / "daemon.pid"
    proxy = start_proxy(mock_config(mock_server_bin, m={"args": [
        "--spawn-grandchild", str(pid_file), "--escape-group"]}))
    leftovers.append(read_pid(pid_file))
    assert proxy.stop() == 0, proxy.output()[-3000:]
    assert "tasks still pending" not in proxy.output(), proxy.output()[-3000:]


def test_the_end_of_the_stdio_frontend_ends_the_backends_group(mcp_proxy_bin, mock_server_bin,
                                                               tmp_path, leftovers):
    pid_file = tmp_path / "grandchild.pid"
    config = tmp_path / "proxy.json"
    config.write_text(json.dumps(config_of(
        w=wrapped_mock(mock_server_bin, "--spawn-grandchild", str(pid_file)))))
    proc = subprocess.Popen([str(mcp_proxy_bin), "--stdio", "--config", str(config)],
                            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        grandchild = read_pid(pid_file)
        leftovers.append(grandchild)
        proc.stdin.close()  # the client goes away
        assert proc.wait(STOP_TIMEOUT_S + GONE_TIMEOUT_S) == 0
        assert wait_until(lambda: not alive(grandchild), GONE_TIMEOUT_S)
    finally:
        terminate(proc)


def test_a_backend_killed_by_a_signal_is_logged_as_such(start_proxy, mock_server_bin, http):
    proxy = start_proxy(mock_config(mock_server_bin, m={}))
    mcp = McpClient(proxy.url("m"), http).open_session()
    backend = int(text_of(mcp.call_tool("pid", {})))
    os.kill(backend, signal.SIGKILL)
    assert wait_until(lambda: f"process {backend} killed by signal 9 (SIGKILL)" in proxy.output(),
                      GONE_TIMEOUT_S), proxy.output()[-3000:]
    assert f"process {backend} exited with code 9" not in proxy.output()


# --------------------------------------------------------------------------------------------
# maxMessageBytes


def test_a_message_over_max_message_bytes_fails_the_call_at_once(start_proxy, mock_server_bin,
                                                                 http):
    proxy = start_proxy(mock_config(mock_server_bin, m={"maxMessageBytes": 1 << 20,
                                                        "timeout": "120s"}))
    mcp = McpClient(proxy.url("m"), http).open_session()
    assert "result" in mcp.call_tool("big", {"bytes": 500_000})  # under the limit
    reply = mcp.call_tool("big", {"bytes": 2 << 20})
    assert "error" in reply, reply
    assert "maxMessageBytes" in reply["error"]["message"], reply
    assert reply["error"]["code"] != -32001, "failed at once, not at the deadline"
    # The backend is restarted and answers again.
    assert wait_until(lambda: "result" in McpClient(proxy.url("m"), http).open_session()
                      .call_tool("echo", {"text": "back"}), 30.0, 0.5), \
        proxy.output()[-3000:]


def test_an_endless_stdout_line_keeps_memory_bounded(start_proxy, mock_server_bin, http):
    """`cat /dev/zero` as a backend: a line without end. Each start reads up to the limit and
    ends; the proxy's memory stays near its size at rest (without the limit it grew by about a
    gigabyte a second)."""
    limit = 4 << 20
    proxy = start_proxy({"mcpProxy": {"addr": "127.0.0.1:0"}, "mcpServers": {
        "zero": {"command": "cat", "args": ["/dev/zero"], "timeout": "5s",
                 "maxMessageBytes": limit},
        "m": {"command": str(mock_server_bin), "args": [], "timeout": "30s"}}})
    at_rest = rss_bytes(proxy.proc.pid)
    assert wait_until(lambda: proxy.output().count("over maxMessageBytes") >= 2, 60.0, 0.2), \
        proxy.output()[-3000:]
    peak = 0
    for _ in range(20):  # two more seconds of restarts
        peak = max(peak, rss_bytes(proxy.proc.pid))
        time.sleep(0.1)
    assert peak < at_rest + 40 * limit, (at_rest, peak)
    # The healthy backend beside it is served throughout.
    mcp = McpClient(proxy.url("m"), http).open_session()
    assert text_of(mcp.call_tool("echo", {"text": "fine"})) == "fine"


# --------------------------------------------------------------------------------------------
# logLinesPerSecond


def test_a_stderr_flood_is_logged_at_a_bounded_rate(start_proxy, mock_server_bin, http):
    per_second = 20
    flood = f"yes flood-line >&2 & exec {mock_server_bin}"
    # From before the start, as the flood begins with it (see the junk test below).
    started = time.monotonic()
    proxy = start_proxy(config_of(f={"command": "bash", "args": ["-c", flood], "timeout": "30s",
                                     "logLinesPerSecond": per_second}))
    assert wait_until(lambda: "suppressed" in proxy.output(), 30.0), proxy.output()[-3000:]
    mcp = McpClient(proxy.url("f"), http).open_session()
    assert text_of(mcp.call_tool("echo", {"text": "heard"})) == "heard"
    time.sleep(2.0)
    logged = proxy.output().count("flood-line")
    elapsed = time.monotonic() - started
    # The burst, then the rate: one second of slack for the log lines in flight.
    assert logged <= per_second * (elapsed + 2), (logged, elapsed)
    assert "stderr: suppressed" in proxy.output()


def test_junk_stdout_lines_are_logged_at_a_bounded_rate(start_proxy, mock_server_bin, http):
    per_second = 20
    junk = f"while :; do echo not-json-junk; done & exec {mock_server_bin}"
    # From before the start: the shared backend writes junk (and the proxy logs it) while the
    # proxy gets ready, which takes seconds on a loaded machine.
    started = time.monotonic()
    proxy = start_proxy(config_of(j={"command": "bash", "args": ["-c", junk], "timeout": "30s",
                                     "logLinesPerSecond": per_second}))
    mcp = McpClient(proxy.url("j"), http).open_session()
    assert text_of(mcp.call_tool("echo", {"text": "through"})) == "through"
    assert wait_until(lambda: "more messages that are not JSON-RPC" in proxy.output(), 30.0), \
        proxy.output()[-3000:]
    logged = proxy.output().count("not-json-junk")
    elapsed = time.monotonic() - started
    assert logged <= per_second * (elapsed + 2), (logged, elapsed)


# --------------------------------------------------------------------------------------------
# A backend that never answers initialize


@pytest.mark.parametrize("mode", ["shared", "per-client"])
def test_initialize_on_a_hung_backend_gets_32001_without_waiting_for_its_stop(
        start_proxy, mock_server_bin, http, mode):
    """-32001 is the README's code for a timeout. The client is answered when the timeout ends;
    stopping the backend (2 s of grace, SIGTERM ignored here, then SIGKILL) happens after."""
    proxy = start_proxy(mock_config(mock_server_bin, h={
        "args": ["--mute", "--ignore-sigterm", "--linger-ms", "60000"], "timeout": "2s",
        "sessionMode": mode}))
    answer = McpClient(proxy.url("h"), http).initialize(request_id=1).response_to(1)
    assert answer.get("error", {}).get("code") == -32001, answer
    assert "initialize" in answer["error"]["message"], answer
    if mode == "per-client":
        # The backend started for this client: its stop begins when the answer is sent. (A
        # shared backend started with the proxy and may have been stopped already.)
        assert "sending SIGKILL" not in proxy.output(), \
            "the client waited for the backend's stop:\n" + proxy.output()[-3000:]
        assert wait_until(lambda: "sending SIGKILL" in proxy.output(), GONE_TIMEOUT_S), \
            proxy.output()[-3000:]


# --------------------------------------------------------------------------------------------
# The per-call event backlog


def test_a_client_that_reads_slowly_gets_coalesced_progress_and_its_result(start_proxy,
                                                                          mock_server_bin, http):
    """A call's events wait for its client in a bounded backlog (backend/event_backlog.hpp):
    past callBacklogEvents, progress notifications are merged into the newest. A client that
    reads nothing while the backend sends 200 000 of them then gets far fewer, the last one
    current, and the result."""
    steps = 200_000
    proxy = start_proxy(mock_config(mock_server_bin, m={"callBacklogEvents": 100,
                                                        "timeout": "120s"}))
    mcp = McpClient(proxy.url("m"), http).open_session()
    body = {"jsonrpc": "2.0", "id": 5, "method": "tools/call",
            "params": {"name": "progress", "arguments": {"steps": steps},
                       "_meta": {"progressToken": "slow"}}}
    with httpx.Client(timeout=120) as slow:
        with slow.stream("POST", proxy.url("m"), json=body, headers=mcp.headers()) as r:
            # Nothing is read until the proxy has had to merge.
            assert wait_until(lambda: "progress notifications are coalesced" in proxy.output(),
                              120.0, 0.2), proxy.output()[-3000:]
            # Another client of the same backend is served meanwhile.
            other = McpClient(proxy.url("m"), http).open_session()
            assert text_of(other.call_tool("echo", {"text": "unaffected"})) == "unaffected"
            raw = b"".join(r.iter_bytes())
    events = [json.loads(line[5:]) for line in raw.decode().splitlines()
              if line.startswith("data:") and line[5:].strip()]
    progress = [e["params"]["progress"] for e in events if e.get("method") == "notifications/progress"]
    assert events[-1].get("id") == 5 and "result" in events[-1], events[-3:]
    assert progress and progress[-1] == steps, progress[-5:]
    assert progress == sorted(progress)
    assert len(progress) < steps


# --------------------------------------------------------------------------------------------
# Sessions per client address, per-client backends in total


def test_sessions_per_client_address_are_bounded_and_come_back(start_proxy, mock_server_bin,
                                                               http):
    """One client address cannot take every session slot (mcpProxy.maxSessionsPerPeer); the
    slot of an ended session is free again. Streamable HTTP and legacy SSE count together."""
    config = mock_config(mock_server_bin, m={})
    config["mcpProxy"]["maxSessionsPerPeer"] = 3
    proxy = start_proxy(config)
    first = McpClient(proxy.url("m"), http).open_session()
    McpClient(proxy.url("m"), http).open_session()
    with http.stream("GET", f"{proxy.base_url}/m/sse") as sse:  # a legacy session: the third
        assert sse.status_code == 200
        refused = McpClient(proxy.url("m"), http).initialize(request_id=1)
        assert refused.status == 503, refused
        error = refused.response_to(1)["error"]
        assert "maxSessionsPerPeer is 3" in error["message"], error
        # An ended session gives its slot back at once.
        assert first.delete().status_code in (200, 202, 204)
        assert McpClient(proxy.url("m"), http).initialize().status == 200


def test_per_client_backend_processes_are_bounded_in_total(start_proxy, mock_server_bin, http):
    config = mock_config(mock_server_bin, a={"sessionMode": "per-client"},
                         b={"sessionMode": "per-client"})
    config["mcpProxy"]["maxPerClientBackends"] = 2
    proxy = start_proxy(config)
    first = McpClient(proxy.url("a"), http).open_session()
    McpClient(proxy.url("b"), http).open_session()
    refused = McpClient(proxy.url("a"), http).initialize(request_id=1)
    assert refused.status == 503, refused
    assert "maxPerClientBackends is 2" in refused.response_to(1)["error"]["message"]
    assert first.delete().status_code in (200, 202, 204)
    assert wait_until(lambda: McpClient(proxy.url("b"), http).initialize().status == 200,
                      GONE_TIMEOUT_S, 0.2), proxy.output()[-3000:]


# --------------------------------------------------------------------------------------------
# Shutdown


def test_a_call_in_flight_at_shutdown_gets_an_error(start_proxy, mock_server_bin, http):
    """A client whose call is still running when the proxy stops gets a JSON-RPC error for it,
    not a stream cut without an answer."""
    proxy = start_proxy(mock_config(mock_server_bin, m={}))
    mcp = McpClient(proxy.url("m"), http).open_session()
    # The mock's first progress comes at once, the next (and the answer) a minute later: the
    # call is in flight once the first is read.
    body = {"jsonrpc": "2.0", "id": 77, "method": "tools/call",
            "params": {"name": "progress", "arguments": {"steps": 2, "interval_ms": 60_000},
                       "_meta": {"progressToken": "p"}}}
    messages = []
    with http.stream("POST", proxy.url("m"), json=body, headers=mcp.headers()) as r:
        parser = SseParser()
        stopper = None
        for text in r.iter_text():
            for ev in parser.feed(text):
                if ev.data:
                    messages.append(json.loads(ev.data))
            if stopper is None and messages:
                stopper = threading.Thread(target=proxy.stop, daemon=True)
                stopper.start()
    stopper.join(STOP_TIMEOUT_S + 10)
    assert proxy.returncode == 0, proxy.output()[-3000:]
    final = messages[-1]
    assert final.get("id") == 77 and "error" in final, messages
    assert "shutting down" in final["error"]["message"], messages
