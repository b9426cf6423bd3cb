#!/usr/bin/python3
"""Soak of the proxy (issue #15): sessions in waves, continuous calls, a backend killed at a
fixed interval, and the proxy's memory, children and shutdown checked at the end.

Started by bench/soak.sh, which finds the binaries (PRESET, MCP_PROXY_BIN, MOCK_SERVER_BIN).

What runs, all on 127.0.0.1 with ports picked by the kernel (port 0):
  * the mock over HTTP (`mock-mcp-server --http 127.0.0.1:0`, one mock process per session);
  * the proxy, with four servers: the mock over stdio shared (`stdio-shared`) and per client
    (`stdio-pc`), and the HTTP mock shared (`http-shared`) and per client (`http-pc`); the merged
    endpoint `/mcp` serves all four.
For DURATION seconds:
  * waves of short sessions (initialize, notifications/initialized, one tools/call, DELETE) over
    the five endpoints in turn, SESSIONS in all (10000 per 600 s by default);
  * one long-lived client per endpoint calling `echo` continuously (PACE ms between calls);
  * every KILL_EVERY seconds one backend killed with SIGKILL, in turn: the shared stdio backend
    (found in /proc as the proxy's child by its unique --name), the per-client stdio backend of
    the long-lived `stdio-pc` client (found by the mock's `pid` tool) and the mock process behind
    the proxy's shared HTTP session (the `pid` tool through `http-shared`);
  * once a second: the proxy's VmRSS, open fds and threads, and its children (zombies among them).
Criteria (the exit status is 1 when one fails):
  * RSS: the median of the last window at most 10% above the median of the first window after
    warm-up (the max and the trend are reported; --rss-report-only: not judged);
  * no zombie child of the proxy seen in two samples in a row (or at the end);
  * no backend left once every session is closed, and no orphan: no process with this run's
    marker, nor any child they had, once the proxy (then the HTTP mock) is stopped with SIGTERM;
  * no failed request except on the killed backend within KILL_WINDOW seconds of the kill (those
    are counted apart, split into in flight at the kill and started after it); every killed
    backend answers again;
  * the proxy exits with status 0 on SIGTERM.
Every loop is bounded in count and time; every process started here is stopped by PID at the
end, also on failure or interruption.
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import json
import os
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import Optional

import httpx

PROTOCOL_VERSION = "2025-11-25"
REQUEST_TIMEOUT_S = 30.0  # an ASan build on a loaded 2-core machine answers slowly
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 20.0
ORPHAN_GRACE_S = 5.0  # children may still be exiting when the proxy is gone
SETTLE_TIMEOUT_S = 15.0  # for per-client backends to stop after their sessions are closed
WAVE_CONCURRENCY = 16
ENDPOINTS = ["stdio-shared", "stdio-pc", "http-shared", "http-pc", "merged"]
SERVERS = ["stdio-shared", "stdio-pc", "http-shared", "http-pc"]


def log(msg: str) -> None:
    print(f"soak: {msg}", flush=True)


# --- processes ----------------------------------------------------------------------------------

_libc = ctypes.CDLL(None, use_errno=True)
PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    # A process started here gets SIGTERM if this script dies without its cleanup (kill -9).
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def read_cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def read_stat(pid: int) -> Optional[tuple[str, int]]:
    """(state, ppid) of a process, None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            s = f.read()
    except OSError:
        return None
    rest = s[s.rfind(")") + 2:].split()
    return rest[0], int(rest[1])


def all_pids() -> list[int]:
    return [int(d) for d in os.listdir("/proc") if d.isdigit()]


def pids_with_marker(marker: str) -> list[int]:
    me = os.getpid()
    return [p for p in all_pids() if p != me and marker in read_cmdline(p)]


def children_of(ppid: int) -> list[tuple[int, str]]:
    """(pid, state) of the children of ppid."""
    out = []
    for p in all_pids():
        st = read_stat(p)
        if st and st[1] == ppid:
            out.append((p, st[0]))
    return out


def status_kb(pid: int, key: str) -> Optional[int]:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


class Started:
    """A process started here, its output in the work folder, stopped by PID."""

    def __init__(self, name: str, argv: list[str], work: str, env: Optional[dict] = None):
        self.name = name
        self.log_path = os.path.join(work, f"{name}.log")
        self.out = open(os.path.join(work, f"{name}.out"), "wb")
        self.err = open(self.log_path, "wb")
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self.out,
                                     stderr=self.err, preexec_fn=_die_with_parent, env=env)
        self.pid = self.proc.pid
        self.exit_status: Optional[int] = None

    def wait_listening(self) -> int:
        deadline = time.monotonic() + START_TIMEOUT_S
        pattern = re.compile(rb"listening on http://127\.0\.0\.1:(\d+)")
        while time.monotonic() < deadline:
            with open(self.log_path, "rb") as f:
                m = pattern.search(f.read())
            if m:
                return int(m.group(1))
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not start listening within {START_TIMEOUT_S:.0f} s; "
                           f"its log: {self.log_path}")

    def stop(self) -> tuple[Optional[int], float]:
        """SIGTERM, then SIGKILL after STOP_TIMEOUT_S; (exit status, seconds it took)."""
        t0 = time.monotonic()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                log(f"{self.name} (pid {self.pid}) still running {STOP_TIMEOUT_S:.0f} s after "
                    "SIGTERM: SIGKILL")
                self.proc.kill()
                self.proc.wait(10)
        self.exit_status = self.proc.returncode
        self.out.close()
        self.err.close()
        return self.exit_status, time.monotonic() - t0


# --- the MCP client (Streamable HTTP) -----------------------------------------------------------

class RequestFailed(Exception):
    pass


class SessionGone(RequestFailed):
    """404 for the session: the client starts a new one (spec: transports, session management)."""


def parse_answer(r: httpx.Response, want_id) -> dict:
    ctype = r.headers.get("content-type", "")
    if ctype.startswith("application/json"):
        msgs = [json.loads(r.content)]
    elif ctype.startswith("text/event-stream"):
        msgs, data = [], []
        for line in r.text.split("\n") + [""]:
            line = line.rstrip("\r")
            if line == "":
                if data and "".join(data).strip():
                    msgs.append(json.loads("\n".join(data)))
                data = []
            elif line.startswith("data:"):
                data.append(line[5:].lstrip(" ") if line[5:6] == " " else line[5:])
    else:
        raise RequestFailed(f"HTTP {r.status_code} with content-type {ctype!r}")
    for m in msgs:
        if isinstance(m, dict) and m.get("id") == want_id and ("result" in m or "error" in m):
            return m
    raise RequestFailed(f"HTTP {r.status_code}: no response with id {want_id} in the body")


class McpSession:
    def __init__(self, http: httpx.AsyncClient, url: str):
        self.http, self.url = http, url
        self.sid: Optional[str] = None
        self.next_id = 1

    def _headers(self) -> dict:
        h = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
        if self.sid:
            h["Mcp-Session-Id"] = self.sid
            h["MCP-Protocol-Version"] = PROTOCOL_VERSION
        return h

    async def _post(self, body: dict) -> httpx.Response:
        try:
            return await self.http.post(self.url, content=json.dumps(body).encode(),
                                        headers=self._headers(), timeout=REQUEST_TIMEOUT_S)
        except httpx.TimeoutException as e:
            raise RequestFailed(f"timeout ({type(e).__name__})") from e
        except httpx.HTTPError as e:
            raise RequestFailed(f"transport: {type(e).__name__}: {e}") from e

    async def request(self, method: str, params: dict) -> dict:
        rid = self.next_id
        self.next_id += 1
        r = await self._post({"jsonrpc": "2.0", "id": rid, "method": method, "params": params})
        if r.status_code == 404 and self.sid:
            raise SessionGone("HTTP 404 (session gone)")
        if r.status_code != 200:
            raise RequestFailed(f"HTTP {r.status_code}: {r.text[:200]!r}")
        try:
            m = parse_answer(r, rid)
        except (ValueError, UnicodeDecodeError) as e:
            raise RequestFailed(f"unparsable body: {e}") from e
        if "error" in m:
            raise RequestFailed(f"JSON-RPC error {m['error'].get('code')}: "
                                f"{str(m['error'].get('message'))[:200]}")
        return m["result"]

    async def initialize(self, name: str) -> None:
        self.sid, self.next_id = None, 1
        rid = self.next_id
        self.next_id += 1
        r = await self._post({"jsonrpc": "2.0", "id": rid, "method": "initialize", "params": {
            "protocolVersion": PROTOCOL_VERSION, "capabilities": {},
            "clientInfo": {"name": name, "version": "1"}}})
        if r.status_code != 200:
            raise RequestFailed(f"initialize: HTTP {r.status_code}: {r.text[:200]!r}")
        m = parse_answer(r, rid)
        if "error" in m:
            raise RequestFailed(f"initialize: JSON-RPC error {m['error']}")
        sid = r.headers.get("mcp-session-id")
        if not sid:
            raise RequestFailed("initialize: no Mcp-Session-Id")
        self.sid = sid
        r = await self._post({"jsonrpc": "2.0", "method": "notifications/initialized"})
        if r.status_code != 202:
            raise RequestFailed(f"notifications/initialized: HTTP {r.status_code}")

    async def call(self, tool: str, arguments: dict) -> str:
        res = await self.request("tools/call", {"name": tool, "arguments": arguments})
        text = "".join(c.get("text", "") for c in res.get("content", []) if isinstance(c, dict))
        if res.get("isError"):
            raise RequestFailed(f"tool error: {text[:200]}")
        return text

    async def delete(self) -> None:
        if not self.sid:
            return
        try:
            r = await self.http.delete(self.url, headers=self._headers(),
                                       timeout=REQUEST_TIMEOUT_S)
        except httpx.HTTPError as e:
            raise RequestFailed(f"DELETE: {type(e).__name__}: {e}") from e
        finally:
            sid, self.sid = self.sid, None
        if r.status_code not in (200, 202, 204):
            raise RequestFailed(f"DELETE: HTTP {r.status_code} for session {sid}")


# --- the run ------------------------------------------------------------------------------------

@dataclass
class Op:
    who: str  # wave/<endpoint> or ll/<endpoint>
    what: str  # initialize, call, delete
    key: str  # the backend it depends on: a server name, pc:<client>, or merged
    start: float
    end: float
    error: Optional[str] = None


@dataclass
class Kill:
    t: float
    key: str
    pid: int
    how: str
    recovered_after: Optional[float] = None


@dataclass
class Sample:
    t: float
    rss_kb: int
    fds: int
    threads: int
    children: int
    zombies: list[int]
    mock_children: int


@dataclass
class Run:
    args: argparse.Namespace
    marker: str
    t0: float = 0.0
    deadline: float = 0.0
    ops: list[Op] = field(default_factory=list)
    kills: list[Kill] = field(default_factory=list)
    kill_problems: list[str] = field(default_factory=list)
    samples: list[Sample] = field(default_factory=list)
    sessions_opened: int = 0
    sessions_closed: int = 0
    reinitialized: int = 0
    waves: int = 0
    proxy_pid: int = 0
    mock_pid: int = 0
    long_lived: dict = field(default_factory=dict)

    def now(self) -> float:
        return time.monotonic() - self.t0

    def record(self, who, what, key, start, error=None):
        self.ops.append(Op(who, what, key, start, self.now(), error))


def monitor(run: Run, stop: threading.Event) -> None:
    """Samples the proxy once a second until stop (bounded by the run's deadline plus slack)."""
    limit = run.deadline + 600
    while not stop.is_set() and run.now() < limit:
        t = run.now()
        rss = status_kb(run.proxy_pid, "VmRSS")
        if rss is None:
            break
        try:
            fds = len(os.listdir(f"/proc/{run.proxy_pid}/fd"))
        except OSError:
            fds = -1
        threads = status_kb(run.proxy_pid, "Threads") or 0
        kids = children_of(run.proxy_pid)
        mock_kids = len(children_of(run.mock_pid))
        run.samples.append(Sample(t, rss, fds, threads, len(kids),
                                  [p for p, s in kids if s == "Z"], mock_kids))
        stop.wait(max(0.0, 1.0 - (run.now() - t)))


async def long_lived(run: Run, base: str, endpoint: str) -> None:
    """One session calling `echo` one call after another until the deadline; a new session when
    the proxy says the old one is gone (404)."""
    who = f"ll/{endpoint}"
    http = httpx.AsyncClient(limits=httpx.Limits(max_connections=4))
    url = f"{base}/mcp" if endpoint == "merged" else f"{base}/{endpoint}/mcp"
    s = McpSession(http, url)
    run.long_lived[endpoint] = s
    key_of = (lambda srv: f"pc:{who}" if srv == "stdio-pc" and endpoint == "stdio-pc" else srv)
    n = 0
    try:
        while run.now() < run.deadline:
            n += 1
            srv = SERVERS[n % len(SERVERS)] if endpoint == "merged" else endpoint
            key = key_of(srv)
            if s.sid is None:
                start = run.now()
                try:
                    await s.initialize(who)
                    run.record(who, "initialize", "merged" if endpoint == "merged" else key, start)
                    if n > 1:
                        run.reinitialized += 1
                except RequestFailed as e:
                    run.record(who, "initialize", "merged" if endpoint == "merged" else key,
                               start, str(e))
                    await asyncio.sleep(0.5)
                    continue
            tool = f"{srv}__echo" if endpoint == "merged" else "echo"
            start = run.now()
            try:
                text = f"{who} {n}"
                got = await s.call(tool, {"text": text})
                if got != text:
                    raise RequestFailed(f"echo answered {got[:80]!r}, not {text!r}")
                run.record(who, "call", key, start)
            except SessionGone as e:
                run.record(who, "call", key, start, str(e))
                s.sid = None
            except RequestFailed as e:
                run.record(who, "call", key, start, str(e))
            await asyncio.sleep(run.args.pace_ms / 1000)
    finally:
        start = run.now()
        try:
            await s.delete()
        except RequestFailed as e:
            run.record(who, "delete", endpoint, start, str(e))
        await http.aclose()


async def short_session(run: Run, http: httpx.AsyncClient, base: str, endpoint: str, i: int,
                        gate: asyncio.Semaphore, opened: list) -> None:
    who = f"wave/{endpoint}"
    url = f"{base}/mcp" if endpoint == "merged" else f"{base}/{endpoint}/mcp"
    srv = SERVERS[(i // len(ENDPOINTS)) % len(SERVERS)] if endpoint == "merged" else endpoint
    s = McpSession(http, url)
    async with gate:
        if run.now() >= run.deadline:
            return  # a wave the machine could not finish in time: the rest is not started
        start = run.now()
        try:
            await s.initialize(f"{who}-{i}")
            run.record(who, "initialize", endpoint if endpoint != "merged" else "merged", start)
            run.sessions_opened += 1
        except RequestFailed as e:
            run.record(who, "initialize", endpoint if endpoint != "merged" else "merged", start,
                       str(e))
            return
        opened.append(s)
        start = run.now()
        try:
            text = f"{who} {i}"
            got = await s.call(f"{srv}__echo" if endpoint == "merged" else "echo", {"text": text})
            if got != text:
                raise RequestFailed(f"echo answered {got[:80]!r}, not {text!r}")
            run.record(who, "call", srv, start)
        except RequestFailed as e:
            run.record(who, "call", srv, start, str(e))


async def close_session(run: Run, s: McpSession, endpoint: str, gate: asyncio.Semaphore) -> None:
    async with gate:
        start = run.now()
        try:
            await s.delete()
            run.record(f"wave/{endpoint}", "delete", endpoint, start)
            run.sessions_closed += 1
        except RequestFailed as e:
            run.record(f"wave/{endpoint}", "delete", endpoint, start, str(e))


async def waves(run: Run, base: str) -> None:
    """Waves of short sessions: each wave opens its sessions (at most WAVE_CONCURRENCY at once),
    holds them until all are open, then DELETEs them; one wave every wave_every seconds."""
    a = run.args
    n_waves = max(1, int(a.seconds // a.wave_every))
    per_wave = max(1, -(-a.sessions // n_waves))
    http = httpx.AsyncClient(limits=httpx.Limits(max_connections=WAVE_CONCURRENCY * 2,
                                                 max_keepalive_connections=WAVE_CONCURRENCY))
    i = 0
    try:
        for w in range(n_waves):
            await asyncio.sleep(max(0.0, w * a.wave_every - run.now()))
            if run.now() >= run.deadline or i >= a.sessions:
                break
            gate = asyncio.Semaphore(WAVE_CONCURRENCY)
            opened: list[McpSession] = []
            pending = []
            for _ in range(min(per_wave, a.sessions - i)):
                endpoint = ENDPOINTS[i % len(ENDPOINTS)]
                pending.append(short_session(run, http, base, endpoint, i, gate, opened))
                i += 1
            await asyncio.gather(*pending)
            await asyncio.gather(*(close_session(run, s, endpoint_of(s.url), gate)
                                   for s in opened))
            run.waves += 1
    finally:
        await http.aclose()


def endpoint_of(url: str) -> str:
    parts = url.rstrip("/").split("/")
    return "merged" if len(parts) == 4 else parts[-2]


async def find_pid(run: Run, target: str) -> tuple[Optional[int], str]:
    """The pid of the backend to kill, checked to carry this run's marker and to be the child of
    the process that must restart it."""
    if target == "stdio-shared":
        marker = f"{run.marker}-stdio-shared"
        kids = [p for p, s in children_of(run.proxy_pid) if s != "Z" and marker in read_cmdline(p)]
        if len(kids) > 1:
            run.kill_problems.append(f"{run.now():.0f}s: {len(kids)} shared stdio backends "
                                     f"running at once: {kids}")
        return (kids[0] if kids else None), "/proc child of the proxy"
    endpoint = "stdio-pc" if target.startswith("pc:") else target
    s = run.long_lived.get(endpoint)
    if s is None or s.sid is None:
        return None, "no session"
    try:
        pid = int(await s.call("pid", {}))
    except (RequestFailed, ValueError) as e:
        return None, f"pid tool failed: {e}"
    parent = run.mock_pid if endpoint == "http-shared" else run.proxy_pid
    st = read_stat(pid)
    if not st or st[1] != parent or run.marker not in read_cmdline(pid):
        return None, f"pid tool named {pid}, not a child of {parent} with the marker"
    return pid, "the mock's pid tool"


async def killer(run: Run) -> None:
    a = run.args
    targets = ["stdio-shared", "pc:ll/stdio-pc", "http-shared"]
    k = 0
    while True:
        k += 1
        t = k * a.kill_every
        if t > a.seconds - a.kill_window - 5:
            break
        await asyncio.sleep(max(0.0, t - run.now()))
        target = targets[(k - 1) % len(targets)]
        pid, how, tries = None, "", 0
        while pid is None and tries < 10 and run.now() < run.deadline:
            tries += 1
            pid, how = await find_pid(run, target)
            if pid is None:
                await asyncio.sleep(0.5)
        if pid is None:
            run.kill_problems.append(f"{run.now():.0f}s: no {target} backend to kill ({how})")
            continue
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            run.kill_problems.append(f"{run.now():.0f}s: {target} backend {pid} already gone")
            continue
        run.kills.append(Kill(run.now(), target, pid, how))
        log(f"{run.now():6.1f}s kill -9 {pid} ({target}, found by {how})")


async def drive(run: Run, base: str) -> None:
    tasks = [asyncio.create_task(long_lived(run, base, e)) for e in ENDPOINTS]
    tasks.append(asyncio.create_task(waves(run, base)))
    tasks.append(asyncio.create_task(killer(run)))
    # Bounded: nothing new starts after the deadline; the requests still running then (each
    # bounded by REQUEST_TIMEOUT_S: a call, then a DELETE) get 3 x REQUEST_TIMEOUT_S more, then
    # whatever is left is cancelled (its sessions then show as backends left over).
    done, pending = await asyncio.wait(tasks, timeout=run.args.seconds + 3 * REQUEST_TIMEOUT_S)
    for t in pending:
        t.cancel()
    for t in done:
        if t.exception():
            raise t.exception()
    if pending:
        log(f"{len(pending)} task(s) still running past the deadline: cancelled")


# --- the verdict --------------------------------------------------------------------------------

def classify_failures(run: Run):
    excused_inflight, excused_after, other = [], [], []
    w = run.args.kill_window
    for op in run.ops:
        if op.error is None:
            continue
        hit = None
        for k in run.kills:
            if op.key == k.key and k.t <= op.end <= k.t + w:
                hit = k
                break
        if hit is None:
            other.append(op)
        elif op.start <= hit.t:
            excused_inflight.append(op)
        else:
            excused_after.append(op)
    for k in run.kills:
        ok = [op.end for op in run.ops
              if op.what == "call" and op.key == k.key and op.error is None and op.start > k.t]
        k.recovered_after = (min(ok) - k.t) if ok else None
    return excused_inflight, excused_after, other


def median_in(samples: list[Sample], lo: float, hi: float) -> Optional[float]:
    xs = [s.rss_kb for s in samples if lo <= s.t < hi]
    return statistics.median(xs) if xs else None


def verdict(run: Run, end_checks: dict) -> int:
    a = run.args
    failed: list[str] = []
    warm, win = a.warmup, a.window
    first = median_in(run.samples, warm, warm + win)
    last = median_in(run.samples, a.seconds - win, a.seconds + 0.5)
    after = [s for s in run.samples if warm <= s.t <= a.seconds + 0.5]
    mx = max((s.rss_kb for s in after), default=None)
    all_rss = [s.rss_kb for s in run.samples if s.t <= a.seconds + 0.5]
    slope = None
    if len(after) >= 10:
        ts, rs = [s.t for s in after], [s.rss_kb for s in after]
        mt, mr = statistics.fmean(ts), statistics.fmean(rs)
        den = sum((t - mt) ** 2 for t in ts)
        slope = sum((t - mt) * (r - mr) for t, r in zip(ts, rs)) / den * 60 if den else 0.0
    inflight, after_kill, other = classify_failures(run)
    calls = [op for op in run.ops if op.what == "call"]
    ll_calls = [op for op in calls if op.who.startswith("ll/")]
    fd_after = [s.fds for s in after]

    log("---- summary ----")
    log(f"proxy pid {run.proxy_pid}, marker {run.marker}, {a.seconds:.0f} s "
        f"(warm-up {warm:.0f} s, RSS windows of {win:.0f} s)")
    log(f"sessions opened {run.sessions_opened} (target {a.sessions}) in {run.waves} waves, "
        f"closed {run.sessions_closed}; long-lived clients re-initialized {run.reinitialized} "
        "time(s)")
    log(f"tool calls {len(calls)} ({len(ll_calls)} by the long-lived clients, "
        f"{len(calls) - len(ll_calls)} in wave sessions), requests in all {len(run.ops)}")
    log(f"kills {len(run.kills)}: " + ", ".join(
        f"{k.t:.0f}s {k.key} (back after "
        + (f"{k.recovered_after:.1f} s)" if k.recovered_after is not None else "never)")
        for k in run.kills))
    for p in run.kill_problems:
        log(f"kill problem: {p}")
    if first is None or last is None:
        failed.append("RSS: too few samples for the windows")
    else:
        growth = (last - first) / first
        log(f"RSS: start {all_rss[0] / 1024 if all_rss else 0:.1f} MB; first window "
            f"[{warm:.0f},{warm + win:.0f}) s median {first / 1024:.1f} MB; last window "
            f"[{a.seconds - win:.0f},{a.seconds:.0f}) s median {last / 1024:.1f} MB "
            f"({growth * 100:+.1f}%); max after warm-up {mx / 1024:.1f} MB; trend "
            f"{(slope or 0) / 1024:+.2f} MB/min")
        if a.rss_report_only:
            log("RSS reported, not judged (--rss-report-only)")
        elif growth > a.rss_tolerance:
            failed.append(f"RSS grew {growth * 100:.1f}% between the first and last windows "
                          f"(tolerance {a.rss_tolerance * 100:.0f}%)")
    if fd_after:
        log(f"open fds after warm-up: first {fd_after[0]}, last {fd_after[-1]}, max {max(fd_after)}; "
            f"proxy children max {max(s.children for s in run.samples)}, HTTP mock children max "
            f"{max(s.mock_children for s in run.samples)}")
    # Zombies: a child dead for a moment before the proxy reaps it is normal; one seen in two
    # samples in a row (a second apart) is not.
    persistent = set()
    for s0, s1 in zip(run.samples, run.samples[1:]):
        persistent |= set(s0.zombies) & set(s1.zombies)
    seen = {z for s in run.samples for z in s.zombies}
    log(f"zombie children: {len(seen)} seen in one sample, {len(persistent)} in two in a row, "
        f"{len(end_checks['zombies_at_end'])} at the end")
    if persistent or end_checks["zombies_at_end"]:
        failed.append(f"zombie children of the proxy: {sorted(persistent)} in two samples, "
                      f"{end_checks['zombies_at_end']} at the end")
    log(f"backends left once every session was closed: proxy children "
        f"{end_checks['proxy_children_settled']} (expected 1, the shared stdio backend), HTTP mock "
        f"children {end_checks['mock_children_settled']} (expected 1, the proxy's shared session)")
    if end_checks["proxy_children_settled"] != 1:
        failed.append(f"{end_checks['proxy_children_settled']} proxy children once every session "
                      "was closed (expected 1)")
    if end_checks["mock_children_settled"] > 1:
        failed.append(f"{end_checks['mock_children_settled']} HTTP mock sessions once every proxy "
                      "session was closed (expected at most 1)")
    log(f"proxy stop: exit status {end_checks['proxy_exit']} after "
        f"{end_checks['proxy_stop_s']:.1f} s; orphans: {end_checks['orphans_proxy']} after the "
        f"proxy, {end_checks['orphans_mock']} after the HTTP mock")
    if end_checks["proxy_exit"] != 0:
        failed.append(f"the proxy exited with status {end_checks['proxy_exit']} on SIGTERM")
    if end_checks["orphans_proxy"] or end_checks["orphans_mock"]:
        failed.append(f"orphans: {end_checks['orphans_proxy']} processes of the proxy's backends "
                      f"and {end_checks['orphans_mock']} of the HTTP mock outlived them")
    log(f"failed requests: {len(inflight)} in flight at a kill and {len(after_kill)} started within "
        f"{a.kill_window:.0f} s after one, on the killed backend (expected); {len(other)} other")
    for label, ops in (("expected", inflight + after_kill), ("other", other)):
        by_reason: dict = {}
        for op in ops:
            by_reason.setdefault(f"{op.who} {op.what}: {op.error}", []).append(op.end)
        for reason, ts in sorted(by_reason.items(), key=lambda kv: kv[1][0])[:20]:
            log(f"  {label}: {len(ts)}x {reason} (first at {ts[0]:.1f} s)")
    if other:
        failed.append(f"{len(other)} failed request(s) not explained by a kill")
    if run.sessions_opened < 0.9 * a.sessions:
        log(f"warning: only {run.sessions_opened} of {a.sessions} sessions were opened "
            "(the machine is slower than the wave schedule)")
    unrecovered = [k for k in run.kills if k.recovered_after is None]
    if unrecovered:
        failed.append("backend(s) never answered again after a kill: "
                      + ", ".join(f"{k.key} at {k.t:.0f}s" for k in unrecovered))
    if run.kill_problems:
        failed.append("kill problems (see above)")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({
                "seconds": a.seconds, "sessions_target": a.sessions,
                "sessions_opened": run.sessions_opened, "sessions_closed": run.sessions_closed,
                "waves": run.waves, "calls": len(calls), "long_lived_calls": len(ll_calls),
                "requests": len(run.ops), "kills": [vars(k) for k in run.kills],
                "rss_first_median_kb": first, "rss_last_median_kb": last, "rss_max_kb": mx,
                "rss_start_kb": all_rss[0] if all_rss else None,
                "rss_trend_kb_per_min": slope, "failures_in_flight": len(inflight),
                "failures_after_kill": len(after_kill), "failures_other": len(other),
                "zombies_persistent": sorted(persistent), "end": end_checks,
                "reinitialized": run.reinitialized, "failed": failed,
                "failures": [vars(op) | {"expected": op not in other}
                             for op in run.ops if op.error],
                "samples": [vars(s) for s in run.samples],
            }, f)
    if failed:
        for f_ in failed:
            log(f"FAIL: {f_}")
        return 1
    log("PASS")
    return 0


# --- main ---------------------------------------------------------------------------------------

def settle(count, want_at_most: int) -> int:
    """Waits (bounded) for count() to drop to want_at_most; returns the last count."""
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    n = count()
    while n > want_at_most and time.monotonic() < deadline:
        time.sleep(0.5)
        n = count()
    return n


def backends_of(run: Run) -> list[int]:
    """The proxy's stdio backends: its children with the marker (a helper process the proxy may
    fork for itself runs the proxy's command line, which has none)."""
    m = f"{run.marker}-stdio"
    return [p for p, s in children_of(run.proxy_pid) if s != "Z" and m in read_cmdline(p)]


def mock_sessions_of(run: Run) -> list[int]:
    """The HTTP mock's per-session processes (not a fork of the HTTP mock itself)."""
    return [p for p, s in children_of(run.mock_pid)
            if s != "Z" and run.marker in (c := read_cmdline(p)) and " --http " not in c]


def orphans(marker: str, children: dict[int, str]) -> list[int]:
    """Processes still there ORPHAN_GRACE_S after their parent stopped: those with the marker,
    and the children it had before (by pid and command line)."""
    def left() -> list[int]:
        alive = {p for p, c in children.items() if c and read_cmdline(p) == c}
        return sorted(alive | set(pids_with_marker(marker)))
    deadline = time.monotonic() + ORPHAN_GRACE_S
    pids = left()
    while pids and time.monotonic() < deadline:
        time.sleep(0.25)
        pids = left()
    for p in pids:
        log(f"orphan: {p} {read_cmdline(p)[:160]}")
    return pids


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--proxy", required=True, help="mcp-proxy binary")
    p.add_argument("--mock", required=True, help="mock-mcp-server binary")
    p.add_argument("--seconds", type=float, default=600)
    p.add_argument("--sessions", type=int, help="short sessions in all (default 10000 per 600 s)")
    p.add_argument("--wave-every", type=float, default=10.0, help="seconds between waves")
    p.add_argument("--kill-every", type=float,
                   help="seconds between kills (default 30; DURATION/6 under 300 s)")
    p.add_argument("--kill-window", type=float, default=10.0,
                   help="failures on a killed backend this long after its kill are expected")
    p.add_argument("--pace-ms", type=float, default=50.0,
                   help="pause between two calls of a long-lived client")
    p.add_argument("--warmup", type=float, help="seconds before RSS counts (default 60; "
                   "DURATION/4 under 300 s)")
    p.add_argument("--window", type=float, help="RSS window (default 60 s; DURATION/6 under 300 s)")
    p.add_argument("--rss-tolerance", type=float, default=0.10)
    p.add_argument("--rss-report-only", action="store_true",
                   help="report the RSS figures without judging them (sanitizer builds)")
    p.add_argument("--json", help="write the figures and samples to this file")
    p.add_argument("--keep", action="store_true", help="keep the work folder (logs)")
    a = p.parse_args()
    if not 10 <= a.seconds <= 7200:
        p.error("--seconds must be 10..7200")
    short = a.seconds < 300
    a.sessions = a.sessions if a.sessions is not None else round(10000 * a.seconds / 600)
    a.kill_every = a.kill_every or (a.seconds / 6 if short else 30.0)
    a.warmup = a.warmup if a.warmup is not None else (a.seconds / 4 if short else 60.0)
    a.window = a.window or (a.seconds / 6 if short else 60.0)
    if a.warmup + 2 * a.window > a.seconds:
        p.error("warm-up plus two RSS windows do not fit in --seconds")

    marker = f"soak-{secrets.token_hex(4)}"
    work = tempfile.mkdtemp(prefix="mcp-soak.", dir=os.environ.get("TMPDIR", "/tmp"))
    run = Run(a, marker)
    started: list[Started] = []
    end_checks = {"zombies_at_end": [], "proxy_children_settled": -1, "mock_children_settled": -1,
                  "proxy_exit": None, "proxy_stop_s": 0.0, "orphans_proxy": [],
                  "orphans_mock": []}
    stop_monitor = threading.Event()
    mon: Optional[threading.Thread] = None
    status = 1

    def on_signal(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    try:
        log(f"work folder {work}; marker {marker}; {a.seconds:.0f} s, {a.sessions} sessions, "
            f"a kill every {a.kill_every:.0f} s; load average "
            f"{open('/proc/loadavg').read().split()[0]}")
        mock = Started("mock-http", [a.mock, "--http", "127.0.0.1:0", "--name",
                                     f"{marker}-http"], work)
        started.append(mock)
        mock_port = mock.wait_listening()
        run.mock_pid = mock.pid
        cfg = {
            "mcpProxy": {"addr": "127.0.0.1:0"},
            "mcpServers": {
                "stdio-shared": {"command": a.mock, "args": ["--name", f"{marker}-stdio-shared"],
                                 "timeout": "30s"},
                "stdio-pc": {"command": a.mock, "args": ["--name", f"{marker}-stdio-pc"],
                             "sessionMode": "per-client", "timeout": "30s"},
                "http-shared": {"url": f"http://127.0.0.1:{mock_port}/mock/mcp",
                                "transportType": "streamable-http", "timeout": "30s"},
                "http-pc": {"url": f"http://127.0.0.1:{mock_port}/mock/mcp",
                            "transportType": "streamable-http", "sessionMode": "per-client",
                            "timeout": "30s"},
            },
        }
        with open(os.path.join(work, "config.json"), "w") as f:
            json.dump(cfg, f, indent=2)
        proxy = Started("proxy", [a.proxy, "--config", os.path.join(work, "config.json")], work)
        started.append(proxy)
        port = proxy.wait_listening()
        run.proxy_pid = proxy.pid
        base = f"http://127.0.0.1:{port}"
        run.t0 = time.monotonic()
        run.deadline = a.seconds
        mon = threading.Thread(target=monitor, args=(run, stop_monitor), daemon=True)
        mon.start()
        asyncio.run(drive(run, base))
        log(f"{run.now():6.1f}s clients done; checking the proxy's children")
        stop_monitor.set()
        mon.join(5)
        # Every session is closed: per-client backends must be stopped, and no zombie left.
        end_checks["proxy_children_settled"] = settle(lambda: len(backends_of(run)), 1)
        end_checks["mock_children_settled"] = settle(lambda: len(mock_sessions_of(run)), 1)
        for who, parent in (("proxy", run.proxy_pid), ("HTTP mock", run.mock_pid)):
            for pid, state in children_of(parent):
                log(f"child of the {who} once the sessions were closed: {pid} ({state}) "
                    f"{read_cmdline(pid)[:160]}")
        time.sleep(1.0)
        end_checks["zombies_at_end"] = [p for p, s in children_of(run.proxy_pid) if s == "Z"]
        kids = {p: read_cmdline(p) for p, _ in children_of(run.proxy_pid)}
        end_checks["proxy_exit"], end_checks["proxy_stop_s"] = proxy.stop()
        end_checks["orphans_proxy"] = orphans(f"{marker}-stdio", kids)
        kids = {p: read_cmdline(p) for p, _ in children_of(run.mock_pid)}
        mock.stop()
        end_checks["orphans_mock"] = orphans(marker, kids)
        status = verdict(run, end_checks)
    except KeyboardInterrupt as e:
        log(f"interrupted ({e}); stopping what was started")
        status = 130
    except Exception as e:  # a bug of this script or a start-up failure: logged, then cleanup
        log(f"error: {type(e).__name__}: {e}")
        status = 1
    finally:
        stop_monitor.set()
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        for s in reversed(started):
            if s.exit_status is None and s.proc.poll() is None:
                s.stop()
        # Anything left with this run's marker is a process the proxy or the mock started and
        # lost: reported above, stopped here by PID so that nothing outlives the soak.
        for pid in pids_with_marker(marker):
            try:
                os.kill(pid, signal.SIGKILL)
                log(f"killed leftover pid {pid}: {read_cmdline(pid)[:120]}")
            except ProcessLookupError:
                pass
        if status != 0 or a.keep:
            for s in started:
                log(f"{s.name} log: {s.log_path}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
