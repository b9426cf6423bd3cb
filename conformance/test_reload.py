"""Hot reload and the SIGTERM drain (issue #17 items 3 and 7), with real processes.

Reload (SIGHUP, `mcp-proxy --reload PIDFILE`, `--watch`):

* The issue's "Done when": calls in flight on unaffected backends (a shared one on its own
  route, over legacy SSE and through the merged endpoint; a per-client one) complete across a
  reload that removes another server and adds a third; the unaffected backends keep their
  processes and their sessions. A call in flight on the removed server gets an error answer.
* Servers added start (their route answers), removed or disabled ones stop (404, also for their
  open sessions), changed ones get a new backend (a new pid; their sessions get 404); /readyz
  follows.
* Merged endpoint and groups: sessions go on, see the new members' tools and not the old ones',
  and get notifications/tools/list_changed on their GET stream; groups added, changed, removed.
* Tokens, mcpProxy.limits and mcpProxy.auditLog take effect at once, with no backend restarted.
* A bad new config (invalid JSON, several bad values, an audit log that cannot be opened) is
  refused with every problem logged, and the old one keeps serving the same backends.
* mcpProxy keys read only at start are kept, with a warning naming them.

Drain (SIGTERM, SIGINT): a call in flight completes within mcpProxy.shutdownGrace and its answer
reaches the client; meanwhile new sessions (initialize, a 2026-07-28 request, legacy GET /sse)
get 503 while open sessions go on, and /readyz answers 503
{"ready":false,"reason":"shutting down"}; the process exits 0. With a grace of 0 (or one that
runs out) the call is answered with the error "mcp-proxy is shutting down". A second signal
exits at once.

That a call is in flight is seen on /metrics (mcp_proxy_calls_in_flight by route), never guessed
by sleeping; every wait is bounded. Every proxy binds 127.0.0.1 port 0 and is stopped by PID;
start_proxy's teardown fails a test on a non-zero exit or a sanitizer report.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
from typing import Any, Callable, Iterator, Optional

import httpx
import pytest

from conftest import McpClient, mock_config, text_of, wait_until
from mcp_modern import request_meta
from mcp_session import (LegacySseSession, Session, StreamableHttpSession, is_response,
                         modern_headers, same_id)

RELOAD_TIMEOUT_S = 60.0  # a reload starts backends: an ASan build on a busy 2-core machine
CALL_WAIT_S = 45.0  # an answer, beyond the time the tool itself takes
EXIT_TIMEOUT_S = 45.0  # a drained proxy stopping its backends
WATCH_TIMEOUT_S = 30.0  # --watch looks every second, then waits 300 ms of quiet
# A call long enough that a reload (one backend started, one stopped) ends while it still runs;
# its answer is awaited, never its duration measured.
LONG_CALL_MS = 8000
DRAIN_CALL_MS = 5000
MERGED_ROUTE = "*"  # the merged endpoint's label on /metrics
LIST_CHANGED = "notifications/tools/list_changed"
SHUTTING_DOWN = "mcp-proxy is shutting down"
INIT = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                   "clientInfo": {"name": "reload-test", "version": "1"}}}
ACCEPT = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


# --------------------------------------------------------------------------------------------
# Helpers


@pytest.fixture
def sessions() -> Iterator[Callable[..., StreamableHttpSession]]:
    """open(url) -> an initialized Streamable HTTP session with its GET stream open (requests
    run concurrently); all closed after the test (before the proxies stop)."""
    opened: list[StreamableHttpSession] = []

    def open_(url: str, read_timeout_s: float = 60.0,
              headers: Optional[dict] = None) -> StreamableHttpSession:
        s = StreamableHttpSession(url, read_timeout_s=read_timeout_s)
        if headers:
            s._http.headers.update(headers)
            s._get_http.headers.update(headers)
        opened.append(s)
        s.open()
        assert wait_until(lambda: s.get_stream_status is not None, 30), \
            f"no GET stream on {url}: {s.diagnostics()}"
        assert s.get_stream_status == 200, s.diagnostics()
        return s

    yield open_
    for s in opened:
        s.close()


def wait_for_log(proxy, needle: str | re.Pattern, start: int = 0,
                 timeout_s: float = RELOAD_TIMEOUT_S) -> str:
    """The proxy's output from `start` once it holds `needle` (a string or a regex)."""
    def found() -> bool:
        text = proxy.output()[start:]
        return bool(needle.search(text)) if isinstance(needle, re.Pattern) else needle in text

    if not wait_until(found, timeout_s, 0.05):
        pytest.fail(f"no {getattr(needle, 'pattern', needle)!r} in the proxy's output within "
                    f"{timeout_s} s:\n{proxy.output()[start:][-5000:]}")
    return proxy.output()[start:]


RELOAD_END = re.compile(r"reload done|reload refused")


def reload(proxy, config: Any = None, *, raw: Optional[str] = None) -> str:
    """Writes the new config (a dict, or raw text) to the proxy's config file, sends SIGHUP and
    returns the proxy's output from then on, once the reload is done or refused."""
    start = len(proxy.output())
    if raw is not None:
        proxy.config_path.write_text(raw)
    elif config is not None:
        proxy.config_path.write_text(json.dumps(config, indent=2))
    os.kill(proxy.proc.pid, signal.SIGHUP)
    wait_for_log(proxy, "received SIGHUP: reloading the configuration", start)
    return wait_for_log(proxy, RELOAD_END, start)


def calls_in_flight(http: httpx.Client, proxy, route: str) -> int:
    text = http.get(proxy.base_url + "/metrics").text
    m = re.search(r'^mcp_proxy_calls_in_flight\{route="%s"\} (\d+)' % re.escape(route), text,
                  re.M)
    return int(m.group(1)) if m else 0


def wait_in_flight(http: httpx.Client, proxy, route: str, n: int = 1) -> None:
    if not wait_until(lambda: calls_in_flight(http, proxy, route) >= n, 30, 0.05):
        pytest.fail(f"/metrics never showed {n} call(s) in flight on route {route!r}:\n"
                    + http.get(proxy.base_url + "/metrics").text[-3000:])


def start_sleep(s: Session, tool: str, ms: int) -> Any:
    return s.start_request("tools/call", {"name": tool, "arguments": {"ms": ms}})


def answered(s: Session, rid: Any) -> bool:
    return bool(s.messages(lambda m: is_response(m) and same_id(m.get("id"), rid)))


def pid_of(s: Session, tool: str = "pid") -> int:
    return int(text_of(s.call_tool(tool)))


def backend_pids(output: str, name: str) -> list[int]:
    """The pids the proxy logged for a backend's starts, in order."""
    return [int(p) for p in re.findall(r"backend %s: started .* \(pid (\d+)\)" % re.escape(name),
                                       output)]


def tool_names(s: StreamableHttpSession) -> set[str]:
    names: set[str] = set()
    cursor = None
    for _ in range(50):  # pages, bounded
        result = s.result("tools/list", {"cursor": cursor} if cursor else {})
        names |= {t["name"] for t in result["tools"]}
        cursor = result.get("nextCursor")
        if not cursor:
            return names
    pytest.fail("tools/list did not end within 50 pages")


def initialize_status(http: httpx.Client, url: str, token: Optional[str] = None) -> int:
    """The HTTP status of an initialize (the session it may open is ended again)."""
    headers = dict(ACCEPT)
    if token:
        headers["Authorization"] = f"Bearer {token}"
    r = http.post(url, json=INIT, headers=headers)
    if r.status_code == 200 and (sid := r.headers.get("mcp-session-id")):
        http.delete(url, headers={**headers, "Mcp-Session-Id": sid,
                                  "MCP-Protocol-Version": "2025-11-25"})
    return r.status_code


def post_in_session(s: StreamableHttpSession, method: str = "tools/list") -> int:
    """The HTTP status of one more request in an existing session."""
    return s.client.post({"jsonrpc": "2.0", "id": s.next_id(), "method": method}).status


def alive(pid: int) -> bool:
    """The process runs (a zombie left to a parent that does not reap it does not count)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def readyz(http: httpx.Client, proxy) -> httpx.Response:
    return http.get(proxy.base_url + "/readyz")


# --------------------------------------------------------------------------------------------
# The "Done when"


def test_done_when_a_call_in_flight_on_an_unaffected_backend_completes_across_a_reload(
        start_proxy, mock_server_bin, http, sessions):
    """Clients call a slow tool of the unaffected servers a (shared: on /a/mcp, over legacy SSE
    on /a/sse, and as a__sleep on the merged endpoint) and p (per-client); while every call
    runs, a reload removes server b and adds server c. Every call completes with its result,
    a and p keep their processes, and every session goes on."""
    proxy = start_proxy(mock_config(mock_server_bin, a={}, b={}, p={"sessionMode": "per-client"}))
    direct = sessions(proxy.url("a"))
    merged = sessions(proxy.base_url + "/mcp")
    own = sessions(proxy.url("p"))
    legacy = LegacySseSession(f"{proxy.base_url}/a/sse")
    try:
        legacy.open()
        pid_a, pid_p = pid_of(direct), pid_of(own)
        assert pid_a in backend_pids(proxy.output(), "a")
        assert pid_of(merged, "a__pid") == pid_a and pid_of(legacy) == pid_a
        pids_p = backend_pids(proxy.output(), "p")
        assert pid_p in pids_p

        calls = [(direct, start_sleep(direct, "sleep", LONG_CALL_MS)),
                 (legacy, start_sleep(legacy, "sleep", LONG_CALL_MS)),
                 (merged, start_sleep(merged, "a__sleep", LONG_CALL_MS)),
                 (own, start_sleep(own, "sleep", LONG_CALL_MS))]
        wait_in_flight(http, proxy, "a", 2)
        wait_in_flight(http, proxy, MERGED_ROUTE)
        wait_in_flight(http, proxy, "p")

        log = reload(proxy, mock_config(mock_server_bin, a={}, c={},
                                        p={"sessionMode": "per-client"}))
        assert ("reload: servers added: c; servers removed: b; merged endpoints changed: /mcp"
                in log), log
        assert "reload done" in log, log
        assert re.search(r"backend b: process \d+ exited", log), log
        # The reload (c started, b stopped) is over while every call still runs: they were in
        # flight across all of it.
        assert not any(answered(s, rid) for s, rid in calls), (
            f"a call of {LONG_CALL_MS} ms ended before the reload did; the machine is too slow "
            f"for this test to say anything:\n{log}")

        for s, rid in calls:
            response = s.wait_response(rid, LONG_CALL_MS / 1000 + CALL_WAIT_S)
            assert text_of(response) == f"slept {LONG_CALL_MS} ms", (s.label, response)

        # a and p kept their processes (no new start logged) and every session goes on.
        assert backend_pids(proxy.output(), "a") == [pid_a]
        assert backend_pids(proxy.output(), "p") == pids_p
        assert pid_of(direct) == pid_a and pid_of(legacy) == pid_a
        assert pid_of(merged, "a__pid") == pid_a
        assert pid_of(own) == pid_p
        assert text_of(merged.call_tool("c__echo", {"text": "from c"})) == "from c"
        assert initialize_status(http, proxy.url("b")) == 404
        assert initialize_status(http, proxy.url("c")) == 200
    finally:
        legacy.close()


def test_a_call_in_flight_on_a_removed_server_is_answered_with_an_error(
        start_proxy, mock_server_bin, http, sessions):
    """Its session ends with the server: the client gets an error answer, not a hang."""
    proxy = start_proxy(mock_config(mock_server_bin, a={}, b={}))
    on_b = sessions(proxy.url("b"))
    merged = sessions(proxy.base_url + "/mcp")
    calls = [(on_b, start_sleep(on_b, "sleep", 60000)),
             (merged, start_sleep(merged, "b__sleep", 60000))]
    wait_in_flight(http, proxy, "b")
    wait_in_flight(http, proxy, MERGED_ROUTE)
    log = reload(proxy, mock_config(mock_server_bin, a={}))
    assert "reload: servers removed: b" in log and "reload done" in log, log
    for s, rid in calls:
        response = s.wait_response(rid, CALL_WAIT_S)
        assert "error" in response, (s.label, response)
    assert text_of(merged.call_tool("a__echo", {"text": "on"})) == "on"


# --------------------------------------------------------------------------------------------
# Servers


def test_servers_added_removed_changed_and_disabled(start_proxy, mock_server_bin, http,
                                                   sessions):
    proxy = start_proxy(mock_config(mock_server_bin, a={}, b={}, d={}))
    on_a, on_b, on_d = (sessions(proxy.url(n)) for n in ("a", "b", "d"))
    pid_a, pid_b, pid_d = pid_of(on_a), pid_of(on_b), pid_of(on_d)

    # b removed, c added, d changed (an environment variable its new process sees), a unchanged.
    log = reload(proxy, mock_config(mock_server_bin, a={}, c={},
                                    d={"env": {"RELOAD_MARK": "second"}}))
    assert ("reload: servers added: c; servers removed: b; servers changed: d; "
            "merged endpoints changed: /mcp; listener: readiness") in log
    assert "reload done" in log, log

    # Removed: its route and its open session answer 404, its process is gone.
    assert initialize_status(http, proxy.url("b")) == 404
    assert post_in_session(on_b) == 404
    assert wait_until(lambda: not alive(pid_b), 15), f"b's process {pid_b} still runs"
    # Changed: its open session ends (404), a new session reaches a new process with the new env.
    assert post_in_session(on_d) == 404
    new_d = sessions(proxy.url("d"))
    new_pid_d = pid_of(new_d)
    assert new_pid_d != pid_d and new_pid_d in backend_pids(proxy.output(), "d")
    assert text_of(new_d.call_tool("env", {"name": "RELOAD_MARK"})) == "second"
    assert wait_until(lambda: not alive(pid_d), 15), f"d's old process {pid_d} still runs"
    # Unchanged: same process, same session.
    assert pid_of(on_a) == pid_a and backend_pids(proxy.output(), "a") == [pid_a]
    # Added: it serves.
    on_c = sessions(proxy.url("c"))
    assert text_of(on_c.call_tool("echo", {"text": "new"})) == "new"
    r = readyz(http, proxy)
    assert r.status_code == 200, r.text
    assert set(r.json()["backends"]) == {"a", "c", "d"}, r.text

    # Disabling c is removing it; its route and session answer 404; /readyz says "disabled" as
    # it does for a server disabled at start.
    pid_c = pid_of(on_c)
    log = reload(proxy, mock_config(mock_server_bin, a={}, c={"options": {"disabled": True}},
                                    d={"env": {"RELOAD_MARK": "second"}}))
    assert "reload: servers removed: c; merged endpoints changed: /mcp; listener: readiness" in log
    assert "reload done" in log, log
    assert initialize_status(http, proxy.url("c")) == 404
    assert post_in_session(on_c) == 404
    assert wait_until(lambda: not alive(pid_c), 15), f"c's process {pid_c} still runs"
    r = readyz(http, proxy)
    assert r.status_code == 200, r.text
    backends = r.json()["backends"]
    assert set(backends) == {"a", "c", "d"}, r.text
    assert backends["c"]["state"] == "disabled", r.text
    assert pid_of(on_a) == pid_a and pid_of(new_d) == new_pid_d

    # Enabling it again is adding it: a new process serves.
    log = reload(proxy, mock_config(mock_server_bin, a={}, c={},
                                    d={"env": {"RELOAD_MARK": "second"}}))
    assert "reload: servers added: c; merged endpoints changed: /mcp; listener: readiness" in log
    assert "reload done" in log, log
    again = sessions(proxy.url("c"))
    assert pid_of(again) not in (pid_c, pid_a, new_pid_d)
    assert readyz(http, proxy).json()["backends"]["c"]["state"] == "ready"


def test_a_reload_with_no_change_restarts_nothing(start_proxy, mock_server_bin, sessions):
    config = mock_config(mock_server_bin, a={})
    proxy = start_proxy(config)
    s = sessions(proxy.url("a"))
    pid = pid_of(s)
    log = reload(proxy, config)
    assert "reload: no change" in log and "reload done" in log, log
    assert pid_of(s) == pid and backend_pids(proxy.output(), "a") == [pid]


# --------------------------------------------------------------------------------------------
# The merged endpoint and groups


def test_a_merged_session_sees_the_new_members_and_gets_list_changed(start_proxy,
                                                                     mock_server_bin, sessions):
    proxy = start_proxy(mock_config(mock_server_bin, a={}, b={}))
    merged = sessions(proxy.base_url + "/mcp")
    before = tool_names(merged)
    assert {"a__echo", "b__echo"} <= before and not any(n.startswith("c__") for n in before)
    mark = merged.mark()

    log = reload(proxy, mock_config(mock_server_bin, a={}, c={}))
    assert "reload done" in log, log
    changed = merged.wait_for(lambda m: m.get("method") == LIST_CHANGED, 20, mark)
    assert changed is not None, (f"no {LIST_CHANGED} on the merged session's GET stream: "
                                 f"{merged.diagnostics()}")
    after = tool_names(merged)
    assert {"a__echo", "c__echo"} <= after, after
    assert not any(n.startswith("b__") for n in after), after
    assert text_of(merged.call_tool("c__echo", {"text": "joined"})) == "joined"
    assert text_of(merged.call_tool("a__echo", {"text": "stayed"})) == "stayed"
    # A tool of the server that left is no longer callable there.
    gone = merged.call_tool("b__echo", {"text": "x"})
    assert "error" in gone or gone.get("result", {}).get("isError") is True, gone


def test_groups_added_changed_and_removed(start_proxy, mock_server_bin, http, sessions):
    config = mock_config(mock_server_bin, a={}, b={})
    config["mcpProxy"]["groups"] = {"g1": {"servers": ["a"]}}
    proxy = start_proxy(config)
    g1 = sessions(proxy.url("g1"))
    assert {n.split("__")[0] for n in tool_names(g1)} == {"a"}
    assert initialize_status(http, proxy.url("g2")) == 404
    mark = g1.mark()

    # g1 gains b; g2 is new (b only).
    config["mcpProxy"]["groups"] = {"g1": {"servers": ["a", "b"]}, "g2": {"servers": ["b"]}}
    log = reload(proxy, config)
    assert "reload: merged endpoints added: g2; merged endpoints changed: g1" in log, log
    assert "reload done" in log, log
    assert g1.wait_for(lambda m: m.get("method") == LIST_CHANGED, 20, mark) is not None, \
        f"no {LIST_CHANGED} on g1's session: {g1.diagnostics()}"
    assert {n.split("__")[0] for n in tool_names(g1)} == {"a", "b"}
    assert text_of(g1.call_tool("b__echo", {"text": "via g1"})) == "via g1"
    g2 = sessions(proxy.url("g2"))
    assert {n.split("__")[0] for n in tool_names(g2)} == {"b"}

    # g1 removed: its route and its session answer 404; g2 goes on.
    config["mcpProxy"]["groups"] = {"g2": {"servers": ["b"]}}
    log = reload(proxy, config)
    assert "reload: merged endpoints removed: g1" in log, log
    assert "reload done" in log, log
    assert initialize_status(http, proxy.url("g1")) == 404
    assert post_in_session(g1) == 404
    assert text_of(g2.call_tool("b__echo", {"text": "via g2"})) == "via g2"


# --------------------------------------------------------------------------------------------
# Listener settings: tokens, limits, audit log


def test_tokens_swap_at_once_without_restarting_backends(start_proxy, mock_server_bin, http):
    old_global, new_global = "reload-global-old_Xq1", "reload-global-new_Xq2"
    old_a, new_a = "reload-a-old_Yw1", "reload-a-new_Yw2"

    def config(global_token: str, a_token: str) -> dict:
        c = mock_config(mock_server_bin, a={"options": {"authTokens": [a_token]}}, b={})
        c["mcpProxy"]["options"] = {"authTokens": [global_token]}
        return c

    proxy = start_proxy(config(old_global, old_a))
    started = {n: backend_pids(proxy.output(), n) for n in ("a", "b")}
    assert initialize_status(http, proxy.url("a"), old_a) == 200
    assert initialize_status(http, proxy.url("b"), old_global) == 200
    assert initialize_status(http, proxy.base_url + "/mcp", old_global) == 200
    assert initialize_status(http, proxy.url("a"), new_a) == 401

    log = reload(proxy, config(new_global, new_a))
    assert "reload: listener: tokens and scopes" in log, log
    assert "reload done" in log, log
    for url, old, new in ((proxy.url("a"), old_a, new_a), (proxy.url("b"), old_global, new_global),
                          (proxy.base_url + "/mcp", old_global, new_global)):
        assert initialize_status(http, url, new) == 200, url
        assert initialize_status(http, url, old) == 401, url
        assert initialize_status(http, url) == 401, url
    # a's own token is a's alone.
    assert initialize_status(http, proxy.url("b"), new_a) == 401
    assert {n: backend_pids(proxy.output(), n) for n in ("a", "b")} == started
    for token in (old_global, new_global, old_a, new_a):
        assert token not in proxy.output()


def test_limits_and_the_audit_log_swap_at_once(start_proxy, mock_server_bin, http, tmp_path):
    config = mock_config(mock_server_bin, a={})
    proxy = start_proxy(config)
    client = McpClient(proxy.url("a"), http).open_session()
    for i in range(3):
        assert text_of(client.call_tool("echo", {"text": f"free {i}"})) == f"free {i}"

    audit = tmp_path / "audit.jsonl"
    config["mcpProxy"]["limits"] = {"toolCallsPerSecond": 0.001, "toolCallBurst": 1}
    config["mcpProxy"]["auditLog"] = str(audit)
    log = reload(proxy, config)
    assert "reload: listener: limits, audit log" in log, log
    assert "reload done" in log, log
    # The session opened before the reload is under the new limit: one call, then 429.
    assert text_of(client.call_tool("echo", {"text": "limited"})) == "limited"
    msg = {"jsonrpc": "2.0", "id": client.next_id(), "method": "tools/call",
           "params": {"name": "echo", "arguments": {"text": "refused"}}}
    refused = client.post(msg)
    assert refused.status == 429, (refused.status, refused.body)
    assert refused.response_to(msg["id"])["error"]["code"] == -32029
    # The audit log took both, from the reload on.
    assert wait_until(lambda: audit.exists() and len(audit.read_text().splitlines()) >= 2, 10)
    lines = [json.loads(line) for line in audit.read_text().splitlines()]
    assert [(l["method"], l["target"], l["outcome"]) for l in lines[-2:]] == [
        ("tools/call", "echo", "ok"), ("tools/call", "echo", "refused")], lines

    # Limits off again: calls pass at once.
    del config["mcpProxy"]["limits"]
    log = reload(proxy, config)
    assert "reload: listener: limits" in log and "reload done" in log, log
    for i in range(3):
        assert text_of(client.call_tool("echo", {"text": f"again {i}"})) == f"again {i}"


# --------------------------------------------------------------------------------------------
# A bad config is refused


def test_a_bad_config_is_refused_with_every_problem_and_the_old_one_serves(
        start_proxy, mock_server_bin, http, sessions, tmp_path):
    good = mock_config(mock_server_bin, a={})
    proxy = start_proxy(good)
    s = sessions(proxy.url("a"))
    pid = pid_of(s)

    def still_serving() -> None:
        assert text_of(s.call_tool("echo", {"text": "still here"})) == "still here"
        assert pid_of(s) == pid and backend_pids(proxy.output(), "a") == [pid]
        assert initialize_status(http, proxy.url("b")) == 404
        r = readyz(http, proxy)
        assert r.status_code == 200 and set(r.json()["backends"]) == {"a"}, r.text

    # Not JSON at all.
    start = len(proxy.output())
    reload(proxy, raw='{"mcpServers": {')
    log = wait_for_log(proxy, "invalid JSON", start)
    assert ("reload refused: the new configuration has 1 problem(s); the running one stays in "
            "use") in log, log
    assert "reload done" not in log
    still_serving()

    # Three problems, each listed: a bad value, a bad duration, an unknown transport type.
    bad = mock_config(mock_server_bin, a={"timeout": "forever"})
    bad["mcpServers"]["b"] = {"url": "http://127.0.0.1:9/mcp", "transportType": "carrier-pigeon"}
    bad["mcpProxy"]["limits"] = {"requestsPerSecond": -1}
    start = len(proxy.output())
    reload(proxy, bad)
    problems = ["$.mcpProxy.limits.requestsPerSecond: must be greater than 0",
                "$.mcpServers.a.timeout: expected a duration",
                "$.mcpServers.b.transportType: expected \"stdio\", \"sse\" or \"streamable-http\", "
                "got \"carrier-pigeon\""]
    for p in problems:
        log = wait_for_log(proxy, p, start)
    assert ("reload refused: the new configuration has 3 problem(s); the running one stays in "
            "use") in log, log
    assert "reload done" not in log and "reload:" not in log
    still_serving()

    # Valid, but its audit log cannot be opened: refused before anything changes.
    unopenable = mock_config(mock_server_bin, a={}, b={})
    unopenable["mcpProxy"]["auditLog"] = str(tmp_path / "no-such-dir" / "audit.jsonl")
    log = reload(proxy, unopenable)
    assert re.search(r"reload refused; the running configuration stays in use: "
                     r"\$\.mcpProxy\.auditLog: cannot open .*no-such-dir", log), log
    assert "reload done" not in log and "backend b" not in log
    still_serving()

    # A good file afterwards is taken: the refusals left nothing behind.
    log = reload(proxy, mock_config(mock_server_bin, a={}, b={}))
    assert "reload: servers added: b" in log and "reload done" in log, log
    assert initialize_status(http, proxy.url("b")) == 200
    assert pid_of(s) == pid


# --------------------------------------------------------------------------------------------
# Triggers: --reload PIDFILE, --watch


def test_reload_pidfile_sends_sighup(start_proxy, mock_server_bin, mcp_proxy_bin, http,
                                     tmp_path):
    pid_file = tmp_path / "proxy.pid"
    proxy = start_proxy(mock_config(mock_server_bin, a={}), "--pid-file", str(pid_file))
    assert pid_file.read_text().strip() == str(proxy.proc.pid)
    assert initialize_status(http, proxy.url("c")) == 404

    proxy.config_path.write_text(json.dumps(mock_config(mock_server_bin, a={}, c={})))
    start = len(proxy.output())
    done = subprocess.run([str(mcp_proxy_bin), "--reload", str(pid_file)], capture_output=True,
                          text=True, timeout=30)
    assert done.returncode == 0, (done.stdout, done.stderr)
    assert f"sent SIGHUP to mcp-proxy (process {proxy.proc.pid})" in done.stdout + done.stderr
    log = wait_for_log(proxy, RELOAD_END, start)
    assert "received SIGHUP: reloading the configuration" in log
    assert "reload: servers added: c" in log and "reload done" in log, log
    assert initialize_status(http, proxy.url("c")) == 200

    # The pid file goes when the proxy exits.
    assert proxy.stop() == 0, proxy.output()[-3000:]
    assert not pid_file.exists()


def test_reload_pidfile_without_a_live_process_exits_1(mcp_proxy_bin, tmp_path):
    gone = subprocess.Popen(["true"])
    gone.wait(10)
    cases = {
        "garbage.pid": ("no process id", "not a pid\n"),
        "empty.pid": ("no process id", ""),
        "gone.pid": (f"cannot signal process {gone.pid}", f"{gone.pid}\n"),
        "missing.pid": (None, None),
    }
    for name, (says, content) in cases.items():
        path = tmp_path / name
        if content is not None:
            path.write_text(content)
        done = subprocess.run([str(mcp_proxy_bin), "--reload", str(path)], capture_output=True,
                              text=True, timeout=30)
        out = done.stdout + done.stderr
        assert done.returncode == 1, (name, out)
        assert f"--reload {path}" in out, (name, out)
        if says:
            assert says in out, (name, out)


def test_watch_reloads_a_changed_config_file(start_proxy, mock_server_bin, http, sessions):
    proxy = start_proxy(mock_config(mock_server_bin, a={}), "--watch")
    s = sessions(proxy.url("a"))
    pid = pid_of(s)
    start = len(proxy.output())
    proxy.config_path.write_text(json.dumps(mock_config(mock_server_bin, a={}, c={}), indent=2))
    log = wait_for_log(proxy, "the config file changed: reloading the configuration", start,
                       WATCH_TIMEOUT_S)
    log = wait_for_log(proxy, RELOAD_END, start)
    assert "reload: servers added: c" in log and "reload done" in log, log
    assert initialize_status(http, proxy.url("c")) == 200
    assert pid_of(s) == pid

    # A broken edit is refused; fixing it is picked up again.
    start = len(proxy.output())
    proxy.config_path.write_text('{"mcpServers": ')
    log = wait_for_log(proxy, "reload refused", start, WATCH_TIMEOUT_S)
    assert "reload done" not in log
    assert initialize_status(http, proxy.url("c")) == 200
    start = len(proxy.output())
    proxy.config_path.write_text(json.dumps(mock_config(mock_server_bin, a={}), indent=2))
    log = wait_for_log(proxy, "reload done", start, WATCH_TIMEOUT_S)
    assert "reload: servers removed: c" in log, log
    assert initialize_status(http, proxy.url("c")) == 404


# --------------------------------------------------------------------------------------------
# Keys read only at start


def test_keys_read_only_at_start_are_kept_with_a_warning(start_proxy, mock_server_bin, sessions):
    config = mock_config(mock_server_bin, a={})
    proxy = start_proxy(config)
    merged = sessions(proxy.base_url + "/mcp")
    config = mock_config(mock_server_bin, a={}, c={})
    config["mcpProxy"].update({"toolNameSeparator": "-", "maxSessions": 50})
    log = reload(proxy, config)
    assert ("reload: mcpProxy.maxSessions, mcpProxy.toolNameSeparator changed; read only at "
            "start, kept as they were until a restart") in log, log
    assert "reload done" in log, log
    # The rest of the file is taken; the separator stays "__".
    names = tool_names(merged)
    assert "c__echo" in names and "c-echo" not in names, names


# --------------------------------------------------------------------------------------------
# SIGTERM drain


def modern_request(http: httpx.Client, url: str) -> httpx.Response:
    """A 2026-07-28 request: no session, so a draining proxy refuses it as a new session."""
    message = {"jsonrpc": "2.0", "id": 1, "method": "tools/list",
               "params": {"_meta": request_meta()}}
    return http.post(url, json=message, headers=modern_headers(message))


def test_sigterm_drains_a_call_in_flight_refuses_new_sessions_and_exits_0(
        start_proxy, mock_server_bin, http, sessions):
    proxy = start_proxy(mock_config(mock_server_bin, a={}))
    assert modern_request(http, proxy.url("a")).status_code == 200
    s = sessions(proxy.url("a"))
    merged = sessions(proxy.base_url + "/mcp")
    pid = pid_of(s)
    call = start_sleep(s, "sleep", DRAIN_CALL_MS)
    merged_call = start_sleep(merged, "a__sleep", DRAIN_CALL_MS)
    wait_in_flight(http, proxy, "a")
    wait_in_flight(http, proxy, MERGED_ROUTE)
    # A request after them on the same backend has been answered: the calls are at the backend.
    assert text_of(s.call_tool("echo", {"text": "before"})) == "before"
    start = len(proxy.output())
    proxy.proc.send_signal(signal.SIGTERM)
    wait_for_log(proxy, "shutting down: new sessions are refused; waiting up to 10000 ms for 2 "
                        "call(s) in flight", start)
    assert not answered(s, call) and not answered(merged, merged_call)

    # Draining: no new session (Streamable HTTP initialize, legacy SSE stream), /readyz 503.
    r = http.post(proxy.url("a"), json=INIT, headers=ACCEPT)
    assert r.status_code == 503, r.text
    assert r.json()["error"]["message"] == SHUTTING_DOWN, r.text
    r = http.post(proxy.base_url + "/mcp", json=INIT, headers=ACCEPT)
    assert r.status_code == 503, r.text
    r = modern_request(http, proxy.url("a"))
    assert r.status_code == 503, r.text
    with http.stream("GET", f"{proxy.base_url}/a/sse",
                     headers={"Accept": "text/event-stream"}) as r:
        assert r.status_code == 503, r.headers
    r = readyz(http, proxy)
    assert r.status_code == 503 and r.json() == {"ready": False, "reason": "shutting down"}, r.text
    assert http.get(proxy.base_url + "/healthz").status_code == 200
    # The open session still works.
    assert text_of(s.call_tool("echo", {"text": "during"})) == "during"
    assert not answered(s, call), "the call ended before the drain was looked at"

    for session, rid in ((s, call), (merged, merged_call)):
        response = session.wait_response(rid, DRAIN_CALL_MS / 1000 + CALL_WAIT_S)
        assert text_of(response) == f"slept {DRAIN_CALL_MS} ms", response
    assert proxy.proc.wait(EXIT_TIMEOUT_S) == 0, proxy.output()[-4000:]
    log = proxy.output()[start:]
    assert "received signal 15" in log and "shutdown complete" in log, log
    assert "answered with an error" not in log, log
    assert not alive(pid)


@pytest.mark.parametrize("grace, sig", [("0", signal.SIGINT), ("1s", signal.SIGTERM)],
                         ids=["grace-0-sigint", "grace-1s-sigterm"])
def test_a_call_still_running_after_the_grace_gets_the_shutdown_error(
        start_proxy, mock_server_bin, http, sessions, grace, sig):
    config = mock_config(mock_server_bin, a={})
    config["mcpProxy"]["shutdownGrace"] = grace
    proxy = start_proxy(config)
    s = sessions(proxy.url("a"))
    call = start_sleep(s, "sleep", 60000)
    wait_in_flight(http, proxy, "a")
    assert text_of(s.call_tool("echo", {"text": "before"})) == "before"
    start = len(proxy.output())
    proxy.proc.send_signal(sig)

    response = s.wait_response(call, CALL_WAIT_S)
    assert "error" in response, response
    assert response["error"]["message"] == SHUTTING_DOWN, response
    assert proxy.proc.wait(EXIT_TIMEOUT_S) == 0, proxy.output()[-4000:]
    log = proxy.output()[start:]
    assert f"received signal {int(sig)}" in log, log
    assert "1 call(s) in flight answered with an error" in log, log
    if grace == "0":
        assert "waiting up to" not in log, log
    else:
        assert "waiting up to 1000 ms for 1 call(s) in flight" in log, log


def test_a_second_signal_exits_at_once(start_proxy, mock_server_bin, http, sessions):
    proxy = start_proxy(mock_config(mock_server_bin, a={}))
    s = sessions(proxy.url("a"))
    pid = pid_of(s)
    start_sleep(s, "sleep", 60000)
    wait_in_flight(http, proxy, "a")
    assert text_of(s.call_tool("echo", {"text": "before"})) == "before"
    start = len(proxy.output())
    proxy.proc.send_signal(signal.SIGTERM)
    wait_for_log(proxy, "waiting up to 10000 ms for 1 call(s) in flight", start)
    proxy.proc.send_signal(signal.SIGTERM)
    # At once: 128 + the signal (the end of a drain is 0).
    assert proxy.proc.wait(EXIT_TIMEOUT_S) == 128 + signal.SIGTERM, proxy.output()[-4000:]
    assert "received signal 15 again; exiting without waiting for backends" in proxy.output()
    # The guardian ends the backend.
    assert wait_until(lambda: not alive(pid), 15), f"backend {pid} outlived the proxy"
