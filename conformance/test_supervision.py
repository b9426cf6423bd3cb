"""Backend supervision (issue #17, "Supervision and readiness"; docs/operations.md).

* Ping supervision: every `pingInterval` the proxy pings each backend (spec basic/utilities/ping:
  every MCP server answers ping), the answer due before the next ping. A miss makes a shared
  backend `degraded` in /readyz (not ready; still used), the next answer `ready` again;
  `pingMisses` misses in a row restart it (`backing-off`, then `ready` with one more restart).
  A per-client backend that misses them has its session ended (the client gets 404 and starts a
  new session, with a new backend). `pingInterval: 0` sends none.
* A backend that dies by a signal is logged, and shown in /readyz, as "killed by signal N (SIGX)".
* A backend is stopped with its whole process group: a grandchild that ignores stdin's end and
  SIGTERM (what a wrapper such as npx may leave) is gone after the proxy stops on SIGTERM, and
  after a per-client session is deleted (test_process_faults.py has the other ways).

The mock's --ignore-pings-while FILE makes a backend ignore pings while FILE exists, so a test
turns the fault on and off without restarting anything.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path
from typing import Callable

import httpx
import pytest

from conftest import McpClient, mock_config, text_of, wait_until
from test_process_faults import alive, leftovers, read_pid  # noqa: F401 (leftovers: a fixture)
from test_readiness import poll_readyz, readyz

# Bounds of waits for what takes a few ping intervals (0.5 s here) on a loaded ASan machine.
EVENT_TIMEOUT_S = 30.0
INTERVAL = "500ms"


def wait_readyz(http: httpx.Client, proxy, done: Callable[[httpx.Response], bool]) -> httpx.Response:
    return poll_readyz(http, proxy, done, EVENT_TIMEOUT_S)


def backend(r: httpx.Response, name: str = "m") -> dict:
    return r.json()["backends"][name]


def pinged(flag: Path, **extra) -> dict:
    """A mock that ignores pings while `flag` exists, pinged every INTERVAL."""
    return {"args": ["--ignore-pings-while", str(flag)], "pingInterval": INTERVAL, **extra}


def logged(proxy, text: str) -> bool:
    """Whether the proxy logs `text` (bounded wait: its output is read by another thread, so a
    line written before what the test saw may still be on its way)."""
    found = wait_until(lambda: text in proxy.output(), EVENT_TIMEOUT_S)
    if not found:
        print(proxy.output()[-3000:])
    return found


def pid_of(mcp: McpClient) -> int:
    return int(text_of(mcp.call_tool("pid", {})))


def test_a_missed_ping_makes_the_backend_degraded_and_the_next_answer_ready(
        start_proxy, mock_server_bin, http, tmp_path):
    flag = tmp_path / "ignore-pings"
    proxy = start_proxy(mock_config(mock_server_bin, m=pinged(flag, pingMisses=1000)))
    r = wait_readyz(http, proxy, lambda r: r.status_code == 200)
    assert backend(r)["state"] == "ready", r.text
    flag.touch()
    r = wait_readyz(http, proxy, lambda r: backend(r)["state"] == "degraded")
    assert backend(r)["state"] == "degraded", f"{r.text}\n{proxy.output()[-3000:]}"
    assert r.status_code == 503, "degraded counts as not ready"
    assert backend(r)["restarts"] == 0
    assert logged(proxy, "no answer to ping within 500 ms (1 of 1000 misses in a row); degraded")
    # It is still used: calls go through while its pings go unanswered.
    mcp = McpClient(proxy.url("m"), http).open_session()
    assert text_of(mcp.call_tool("echo", {"text": "still here"})) == "still here"
    before = pid_of(mcp)
    flag.unlink()
    r = wait_readyz(http, proxy, lambda r: r.status_code == 200)
    assert r.status_code == 200 and backend(r)["state"] == "ready", \
        f"{r.text}\n{proxy.output()[-3000:]}"
    assert backend(r)["restarts"] == 0
    assert logged(proxy, "backend m: answered a ping again; ready")
    assert pid_of(mcp) == before, "not restarted"


@pytest.mark.parametrize("transport", ["streamable-http", "sse"])
def test_an_http_backend_is_pinged_too(start_proxy, fault_servers, http, transport):
    """Over HTTP the ping is a POST like any request (legacy SSE: its answer comes on the
    stream); a miss and a recovery read as over stdio."""
    server = fault_servers()
    url = server.mcp_url if transport == "streamable-http" else server.sse_url()
    proxy = start_proxy({"mcpProxy": {"addr": "127.0.0.1:0"}, "mcpServers": {"m": {
        "url": url, "transportType": transport, "timeout": "30s", "pingInterval": INTERVAL,
        "pingMisses": 1000}}})
    assert wait_readyz(http, proxy, lambda r: r.status_code == 200).status_code == 200
    assert server.wait_for(lambda: len([r for r in server.requests if r.rpc_method == "ping"]) >= 2,
                           EVENT_TIMEOUT_S), "pinged every interval"
    server.ignore_pings(True)
    r = wait_readyz(http, proxy, lambda r: backend(r)["state"] == "degraded")
    assert backend(r)["state"] == "degraded", f"{r.text}\n{proxy.output()[-3000:]}"
    server.ignore_pings(False)
    r = wait_readyz(http, proxy, lambda r: r.status_code == 200)
    assert backend(r)["state"] == "ready" and backend(r)["restarts"] == 0, r.text


def test_an_unreachable_http_backend_misses_its_pings(start_proxy, fault_servers, http):
    """A refused connection is the link's own error (-32000), not the server's answer."""
    server = fault_servers()
    proxy = start_proxy({"mcpProxy": {"addr": "127.0.0.1:0"}, "mcpServers": {"m": {
        "url": server.mcp_url, "transportType": "streamable-http", "timeout": "30s",
        "pingInterval": INTERVAL, "pingMisses": 1000}}})
    assert wait_readyz(http, proxy, lambda r: r.status_code == 200).status_code == 200
    server.close()
    r = wait_readyz(http, proxy, lambda r: backend(r)["state"] != "ready")
    assert backend(r)["state"] in ("degraded", "backing-off"), \
        f"{r.text}\n{proxy.output()[-3000:]}"
    assert r.status_code == 503


def test_ping_misses_in_a_row_restart_the_backend(start_proxy, mock_server_bin, http, tmp_path):
    flag = tmp_path / "ignore-pings"
    proxy = start_proxy(mock_config(mock_server_bin, m=pinged(flag, pingMisses=3)))
    assert wait_readyz(http, proxy, lambda r: r.status_code == 200).status_code == 200
    first = pid_of(McpClient(proxy.url("m"), http).open_session())
    flag.touch()
    why = "backend m did not answer 3 pings in a row (pingInterval 500 ms)"
    assert logged(proxy, why + "; restarting it")
    flag.unlink()  # the restarted backend answers
    assert wait_until(lambda: not alive(first), EVENT_TIMEOUT_S), "the hung backend was stopped"
    r = wait_readyz(http, proxy, lambda r: r.status_code == 200 and backend(r)["restarts"] >= 1)
    assert r.status_code == 200, f"{r.text}\n{proxy.output()[-3000:]}"
    assert backend(r)["state"] == "ready"
    assert backend(r)["lastError"] == why, r.text
    # Degraded at the first miss (the degraded state itself: the test above), restarted at the
    # third.
    out = proxy.output()
    assert out.index("(1 of 3 misses in a row); degraded") < \
        out.index("(2 of 3 misses in a row)") < out.index(why)
    assert pid_of(McpClient(proxy.url("m"), http).open_session()) != first


def test_a_hung_backend_is_restarted(start_proxy, mock_server_bin, http):
    """--hang-after 0: the first tool call hangs the whole server, pings included."""
    proxy = start_proxy(mock_config(mock_server_bin, m={
        "args": ["--hang-after", "0"], "pingInterval": INTERVAL, "pingMisses": 2,
        "timeout": "60s"}))
    mcp = McpClient(proxy.url("m"), http).open_session()
    # Failed by the restart, long before its timeout.
    hung = mcp.call_tool("echo", {"text": "never answered"})
    assert "error" in hung, hung
    assert "timeout" not in hung["error"]["message"] and hung["error"]["code"] != -32001, hung
    r = wait_readyz(http, proxy, lambda r: r.status_code == 200 and backend(r)["restarts"] >= 1)
    assert r.status_code == 200 and backend(r)["state"] == "ready", \
        f"{r.text}\n{proxy.output()[-3000:]}"
    assert "did not answer 2 pings in a row" in backend(r)["lastError"]
    # The new process answers until its own first tool call: a fresh session lists its tools.
    fresh = McpClient(proxy.url("m"), http).open_session()
    assert "result" in fresh.request("tools/list"), proxy.output()[-3000:]


def test_a_per_client_backend_that_misses_its_pings_ends_its_session(
        start_proxy, mock_server_bin, http, tmp_path):
    flag = tmp_path / "ignore-pings"
    proxy = start_proxy(mock_config(mock_server_bin, m=pinged(flag, pingMisses=2,
                                                              sessionMode="per-client")))
    mcp = McpClient(proxy.url("m"), http).open_session()
    pid = pid_of(mcp)
    flag.touch()
    assert wait_until(lambda: not alive(pid), EVENT_TIMEOUT_S), proxy.output()[-3000:]
    assert logged(proxy, "did not answer 2 pings in a row (pingInterval 500 ms); ending session")
    # The spec's answer for an ended session: 404, and the client starts a new one.
    gone = mcp.post({"jsonrpc": "2.0", "id": 99, "method": "tools/list"})
    assert gone.status == 404, gone
    flag.unlink()
    fresh = McpClient(proxy.url("m"), http).open_session()
    assert pid_of(fresh) not in (pid, 0)
    # Per-client servers stay "ready" in /readyz; the reason shows as the last error.
    r = readyz(http, proxy)
    assert r.status_code == 200 and "did not answer 2 pings" in backend(r)["lastError"], r.text


def test_ping_interval_0_sends_no_ping(start_proxy, mock_server_bin, http, tmp_path):
    """Two backends that ignore pings: the one with pingInterval 0 is never asked, so it stays
    ready while the other is restarted."""
    flag = tmp_path / "ignore-pings"
    flag.touch()
    proxy = start_proxy(mock_config(mock_server_bin, off=pinged(flag, pingInterval=0),
                                    on=pinged(flag, pingMisses=1)))
    r = wait_readyz(http, proxy, lambda r: backend(r, "on")["restarts"] >= 1)
    assert backend(r, "on")["restarts"] >= 1, f"{r.text}\n{proxy.output()[-3000:]}"
    off = backend(r, "off")
    assert off["state"] == "ready" and off["restarts"] == 0, r.text
    assert "backend off stderr: mock-mcp-server: ignoring a ping" not in proxy.output()
    assert logged(proxy, "backend on stderr: mock-mcp-server: ignoring a ping")


def test_a_backend_killed_by_a_signal_is_reported_as_a_signal(start_proxy, mock_server_bin, http):
    proxy = start_proxy(mock_config(mock_server_bin, m={}))
    mcp = McpClient(proxy.url("m"), http).open_session()
    pid = pid_of(mcp)
    os.kill(pid, signal.SIGTERM)
    assert logged(proxy, f"process {pid} killed by signal 15 (SIGTERM)")
    assert f"process {pid} exited with code" not in proxy.output()
    r = wait_readyz(http, proxy, lambda r: backend(r)["restarts"] >= 1)
    assert backend(r)["lastError"] == "backend m killed by signal 15 (SIGTERM)", r.text


@pytest.mark.parametrize("key,value,message", [
    ("pingInterval", "50ms", "must be 0 (no pings) or at least 100ms"),
    ("pingInterval", "often", "expected a duration"),
    ("pingMisses", 0, ""),
])
def test_bad_supervision_keys_are_config_errors(mock_server_bin, mcp_proxy_bin, tmp_path, key,
                                                value, message):
    config = mock_config(mock_server_bin, m={key: value})
    path = tmp_path / "proxy.json"
    path.write_text(json.dumps(config))
    done = subprocess.run([str(mcp_proxy_bin), "--config", str(path), "--addr", "127.0.0.1:0"],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 2, done.stderr
    assert f"$.mcpServers.m.{key}: {message}" in done.stderr, done.stderr


def stubborn_grandchild(mock_server_bin: Path, pid_file: Path, **extra) -> dict:
    """A wrapper script (as npx is) that stays the direct child and leaves a grandchild that
    ignores SIGTERM (trap '' survives exec) and has no stdin to see end, so only a signal to the
    whole group, SIGKILL in the end, takes it down."""
    script = (f"(trap '' TERM; exec sleep 600) </dev/null >/dev/null 2>&1 & "
              f"echo $! > {pid_file}; {mock_server_bin}; true")
    return {"command": "bash", "args": ["-c", script], "timeout": "30s", **extra}


def ignores_sigterm(pid: int) -> bool:
    """SigIgn of /proc/PID/status has SIGTERM's bit (15)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigIgn:"):
            return bool(int(line.split()[1], 16) & (1 << (signal.SIGTERM - 1)))
    return False


def test_a_stubborn_grandchild_is_gone_after_the_proxy_stops(start_proxy, mock_server_bin,
                                                              tmp_path, http, leftovers):
    pid_file = tmp_path / "grandchild.pid"
    proxy = start_proxy(mock_config(mock_server_bin,
                                    w=stubborn_grandchild(mock_server_bin, pid_file)))
    grandchild = read_pid(pid_file)
    leftovers.append(grandchild)
    assert alive(grandchild) and ignores_sigterm(grandchild)
    mcp = McpClient(proxy.url("w"), http).open_session()
    assert text_of(mcp.call_tool("echo", {"text": "up"})) == "up"
    assert proxy.stop() == 0, proxy.output()[-3000:]  # SIGTERM
    # SIGKILL was sent before the proxy exited; the kernel ends the process within moments.
    assert wait_until(lambda: not alive(grandchild), EVENT_TIMEOUT_S), \
        f"grandchild {grandchild} outlived the proxy:\n{proxy.output()[-3000:]}"
    assert "sending them SIGTERM" in proxy.output() and "sending SIGKILL" in proxy.output()


def test_a_stubborn_grandchild_is_gone_after_its_session_is_deleted(start_proxy, mock_server_bin,
                                                                     tmp_path, http, leftovers):
    pid_file = tmp_path / "grandchild.pid"
    proxy = start_proxy(mock_config(mock_server_bin, w=stubborn_grandchild(
        mock_server_bin, pid_file, sessionMode="per-client")))
    mcp = McpClient(proxy.url("w"), http).open_session()
    grandchild = read_pid(pid_file)
    leftovers.append(grandchild)
    assert alive(grandchild) and ignores_sigterm(grandchild)
    assert mcp.delete().status_code in (200, 202, 204)
    # The proxy gives the group 2 s after SIGTERM, then SIGKILL.
    assert wait_until(lambda: not alive(grandchild), EVENT_TIMEOUT_S), \
        f"grandchild {grandchild} outlived its session:\n{proxy.output()[-3000:]}"
    assert logged(proxy, "still running after SIGTERM; sending SIGKILL")
