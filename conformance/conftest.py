"""Fixtures and a small Streamable HTTP client for the conformance suite.

The generic protocol tests (test_protocol.py, test_transports.py) run over any of the three MCP
transports through mcp_session.Session; mcp_targets.py picks the server under test (--url,
--sse-url, --cmd, or by default our mock over stdio) and spec_report.py prints the per-rule
report. This file keeps the Streamable HTTP layer of the HTTP tests (test_proxy_smoke.py), in
two layers:

* Generic: `McpClient` speaks MCP Streamable HTTP (spec 2025-11-25, basic/transports) to any URL,
  and `EndpointUnderTest` names the endpoint plus the few tools the generic tests call. Tests that
  only use the `endpoint` and `mcp` fixtures make no assumption about what serves the URL.
* Proxy-specific: `ProxyProcess` starts mcp-proxy with a temporary config (loopback, port 0),
  drains its output in a thread and stops it by PID. The `endpoint` fixture is built from it and
  the mock server's tools; swapping that one fixture points the generic tests at another server.

Binaries: env MCP_PROXY_BIN and MOCK_SERVER_BIN, else build/asan/... if present, else
build/release/... (relative to the repository root).
"""

from __future__ import annotations

import itertools
import json
import os
import re
import signal
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

import httpx
import pytest

# The server under test for the generic tests, and the per-rule report.
pytest_plugins = ("mcp_targets", "spec_report")

REPO_ROOT = Path(__file__).resolve().parent.parent
LATEST_PROTOCOL_VERSION = "2025-11-25"
# Versions a 2025-11-25 Streamable HTTP server is expected to negotiate when asked for them.
NEGOTIABLE_VERSIONS = ("2025-03-26", "2025-06-18", "2025-11-25")

STARTUP_TIMEOUT_S = 30.0  # an ASan build starts slowly on a busy 2-core machine
STOP_TIMEOUT_S = 15.0
HTTP_TIMEOUT_S = 20.0

_LISTENING = re.compile(r"listening on (https?)://127\.0\.0\.1:(\d+)")
_SANITIZER_REPORT = re.compile(r"ERROR: (Address|Leak|Thread|Memory)Sanitizer|runtime error:")


# --------------------------------------------------------------------------------------------
# Binaries


def _binary(env_var: str, relative: str) -> Path:
    explicit = os.environ.get(env_var)
    if explicit:
        return Path(explicit).resolve()
    asan = REPO_ROOT / "build" / "asan" / relative
    return asan if asan.exists() else REPO_ROOT / "build" / "release" / relative


def pytest_addoption(parser):
    group = parser.getgroup("mcp", "the MCP server under test")
    group.addoption("--url", default=None,
                    help="Streamable HTTP endpoint of any MCP server: run the generic tests against "
                         "it (the proxy-specific tests are skipped)")
    group.addoption("--echo-tool", default=None,
                    help="a tool that returns text it was given, as "
                         "NAME:ARGS_JSON:EXPECTED_TEXT, e.g. 'echo:{\"message\":\"hi\"}:Echo: hi'")


def _external_url(config) -> Optional[str]:
    return config.getoption("--url")


def _external_option(config) -> Optional[str]:
    """The option naming an external server under test (--url, --sse-url, --cmd), if any."""
    for option in ("--url", "--sse-url", "--cmd"):
        if config.getoption(option):
            return option
    return None


def _skip_if_external(request) -> None:
    option = _external_option(request.config)
    if option:
        from spec_report import skip_not_applicable
        skip_not_applicable(f"proxy-specific: not run against an external server ({option})")


@pytest.fixture(scope="session")
def mcp_proxy_bin(request) -> Path:
    _skip_if_external(request)
    path = _binary("MCP_PROXY_BIN", "proxy/mcp-proxy")
    if not os.access(path, os.X_OK):
        pytest.fail(f"mcp-proxy binary not found at {path} (build it, or set MCP_PROXY_BIN)")
    return path


@pytest.fixture(scope="session")
def mock_server_bin(request) -> Path:
    _skip_if_external(request)  # else a checkout without a build errors instead of skipping
    path = _binary("MOCK_SERVER_BIN", "mock-servers/mock-mcp-server")
    if not os.access(path, os.X_OK):
        pytest.fail(f"mock-mcp-server binary not found at {path} (build it, or set MOCK_SERVER_BIN)")
    return path


# --------------------------------------------------------------------------------------------
# Processes


def process_exists(pid: int) -> bool:
    """True while /proc has the PID, zombies included: a reaped child is gone."""
    return Path(f"/proc/{pid}").exists()


def closed_port() -> int:
    """A loopback port nothing listens on (bound to port 0, then closed)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_until(predicate: Callable[[], bool], timeout_s: float = 10.0, interval_s: float = 0.02) -> bool:
    """Polls a condition, bounded in time; returns its last value."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval_s)
    return predicate()


def terminate(proc: subprocess.Popen, timeout_s: float = STOP_TIMEOUT_S,
              group: bool = False) -> Optional[int]:
    """Stops a child by its PID (or its process group: servers that fork): SIGTERM, then SIGKILL,
    every wait bounded. Returns the exit status."""
    for sig, wait_s in ((signal.SIGTERM, timeout_s), (signal.SIGKILL, 5.0)):
        if proc.poll() is not None:
            break
        try:
            if group:
                os.killpg(proc.pid, sig)
            else:
                proc.send_signal(sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(wait_s)
        except subprocess.TimeoutExpired:
            continue
    return proc.poll()


class ListeningProcess:
    """A server process that logs "listening on http://127.0.0.1:PORT" (or https://): stdout and
    stderr in one pipe drained by one thread (it can never fill up), the scheme and port taken
    from the output, stopped by PID (or by process group with `own_group`)."""

    def __init__(self, what: str, argv: list, *, env: Optional[dict] = None,
                 cwd: Optional[Path] = None, own_group: bool = False,
                 stop_timeout_s: float = STOP_TIMEOUT_S):
        self.what = what
        self._own_group = own_group
        self._stop_timeout_s = stop_timeout_s
        self._lines: list[str] = []
        self._lock = threading.Lock()
        self._settled = threading.Event()  # the port is known, or the output ended
        self.port: Optional[int] = None
        self.scheme: Optional[str] = None
        self.returncode: Optional[int] = None
        self.proc = subprocess.Popen([str(a) for a in argv], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                                     cwd=str(cwd) if cwd else None, start_new_session=own_group)
        self._drain = threading.Thread(target=self._drain_output, name=f"{what}-output",
                                       daemon=True)
        self._drain.start()
        if not self._settled.wait(STARTUP_TIMEOUT_S) or self.port is None:
            self.stop()
            pytest.fail(f"{what} did not report 'listening on' within {STARTUP_TIMEOUT_S} s "
                        f"(exit={self.returncode}):\n" + self.output()[-4000:])

    def _drain_output(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            line = raw.decode("utf-8", "replace")
            with self._lock:
                self._lines.append(line)
            if self.port is None:
                m = _LISTENING.search(line)
                if m:
                    self.scheme, self.port = m.group(1), int(m.group(2))
                    self._settled.set()
        self._settled.set()  # EOF: the process is gone

    def output(self) -> str:
        with self._lock:
            return "".join(self._lines)

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def stop(self) -> Optional[int]:
        """Every step bounded. Returns the exit status."""
        self.returncode = terminate(self.proc, self._stop_timeout_s, self._own_group)
        self._drain.join(5)
        return self.returncode


class ProxyProcess(ListeningProcess):
    """One mcp-proxy process on 127.0.0.1:<ephemeral port>."""

    def __init__(self, binary: Path, config: dict, workdir: Path, extra_args: tuple = ()):
        self.config_path = workdir / "mcp-proxy-config.json"
        self.config_path.write_text(json.dumps(config, indent=2))
        super().__init__("mcp-proxy", [binary, "--config", self.config_path,
                                       "--addr", "127.0.0.1:0", *extra_args])

    def url(self, server: str) -> str:
        return f"{self.base_url}/{server}/mcp"


@pytest.fixture
def start_proxy(mcp_proxy_bin: Path, tmp_path: Path) -> Iterator[Callable[..., ProxyProcess]]:
    """Factory: start_proxy(config_dict) -> a running ProxyProcess; all are stopped afterwards.

    Teardown also checks that each proxy exited 0 on SIGTERM with no sanitizer report (ASan/UBSan
    builds print them to the proxy's stderr, and the proxy relays its children's stderr there).
    """
    started: list[ProxyProcess] = []

    def start(config: dict, *extra_args: str) -> ProxyProcess:
        workdir = tmp_path / f"proxy{len(started)}"
        workdir.mkdir()
        p = ProxyProcess(mcp_proxy_bin, config, workdir, extra_args)
        started.append(p)
        return p

    yield start
    problems = []
    for p in started:  # stop every one before judging any
        exited_already = p.proc.poll() is not None
        rc = p.stop()
        out = p.output()
        if not exited_already and rc != 0:
            problems.append(f"mcp-proxy on port {p.port} exited with {rc} on SIGTERM:\n{out[-6000:]}")
        elif _SANITIZER_REPORT.search(out):
            problems.append(f"sanitizer report in mcp-proxy output (port {p.port}):\n{out[-6000:]}")
    if problems:
        pytest.fail("\n\n".join(problems))


def mock_config(mock_server_bin: Path, **servers: dict) -> dict:
    """A proxy config whose servers all run the mock; keyword = route name, value = extra fields."""
    return {
        "mcpProxy": {"addr": "127.0.0.1:0"},
        "mcpServers": {
            name: {"command": str(mock_server_bin), "args": [], "timeout": "30s", **extra}
            for name, extra in (servers or {"mock": {}}).items()
        },
    }


@pytest.fixture
def proxy(start_proxy, mock_server_bin) -> ProxyProcess:
    """mcp-proxy with one mock backend at /mock/mcp (shared session mode)."""
    return start_proxy(mock_config(mock_server_bin, mock={"sessionMode": "shared"}))


# --------------------------------------------------------------------------------------------
# SSE (HTML Living Standard, "Server-sent events", event stream interpretation)


@dataclass
class SseEvent:
    data: str
    event: str = "message"
    id: Optional[str] = None
    retry: Optional[int] = None


class SseParser:
    """Incremental text/event-stream parser: feed() text chunks, get complete events back."""

    def __init__(self) -> None:
        self._buf = ""
        self._data: list[str] = []
        self._event = ""
        self._id: Optional[str] = None
        self._retry: Optional[int] = None
        self.comments: list[str] = []

    def feed(self, text: str) -> list[SseEvent]:
        self._buf += text
        events = []
        while True:
            m = re.search(r"\r\n|\r|\n", self._buf)
            # A lone CR at the end may be the first half of CRLF: wait for more input.
            if not m or (m.group() == "\r" and m.end() == len(self._buf)):
                break
            line, self._buf = self._buf[: m.start()], self._buf[m.end():]
            ev = self._line(line)
            if ev is not None:
                events.append(ev)
        return events

    def _line(self, line: str) -> Optional[SseEvent]:
        if line == "":
            if not self._data:
                self._event = ""
                return None
            ev = SseEvent("\n".join(self._data), self._event or "message", self._id, self._retry)
            self._data, self._event, self._retry = [], "", None
            return ev
        if line.startswith(":"):
            self.comments.append(line[1:])
            return None
        name, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id" and "\0" not in value:
            self._id = value
        elif name == "retry" and value.isdigit():
            self._retry = int(value)
        return None


# --------------------------------------------------------------------------------------------
# A minimal Streamable HTTP client


@dataclass
class McpReply:
    status: int
    headers: httpx.Headers
    body: bytes
    messages: list = field(default_factory=list)  # JSON-RPC messages, from JSON or SSE
    sse_events: list = field(default_factory=list)

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    def json(self) -> Any:
        return json.loads(self.body)

    def response_to(self, request_id: Any) -> dict:
        """The JSON-RPC response among the messages whose id is request_id."""
        for m in self.messages:
            if isinstance(m, dict) and m.get("id") == request_id and ("result" in m or "error" in m):
                return m
        raise AssertionError(f"no response with id {request_id!r} in {self.messages!r} "
                             f"(HTTP {self.status}, {self.content_type})")


_NO_SESSION = object()


class McpClient:
    """Streamable HTTP (2025-11-25) client with just enough state: session id, version, ids."""

    ACCEPT = "application/json, text/event-stream"

    def __init__(self, url: str, http: httpx.Client):
        self.url = url
        self.http = http
        self.session_id: Optional[str] = None
        self.protocol_version: Optional[str] = None
        self._ids = itertools.count(1)

    def next_id(self) -> int:
        return next(self._ids)

    def headers(self, session: Any = None, extra: Optional[dict] = None) -> dict:
        h = {"Accept": self.ACCEPT, "Content-Type": "application/json"}
        sid = self.session_id if session is None else session
        if sid is not _NO_SESSION and sid:
            h["Mcp-Session-Id"] = sid
        if self.protocol_version:
            h["MCP-Protocol-Version"] = self.protocol_version
        h.update(extra or {})
        return {k: v for k, v in h.items() if v is not None}

    def post(self, message: Any = None, *, raw: Optional[bytes] = None, session: Any = None,
             headers: Optional[dict] = None) -> McpReply:
        """POSTs one message (or raw bytes). SSE answers are read until the response to the
        request arrives (spec: the server SHOULD close the stream after it), then closed."""
        body = raw if raw is not None else json.dumps(message).encode()
        want_id = message.get("id") if isinstance(message, dict) and "method" in message else None
        with self.http.stream("POST", self.url, content=body,
                              headers=self.headers(session, headers)) as r:
            return self._read(r, want_id)

    def _read(self, r: httpx.Response, want_id: Any,
              on_message: Optional[Callable[[Any], None]] = None) -> McpReply:
        """The reply to one POST; `on_message` (if given) sees each message as it is parsed,
        before the stream ends (a subscriptions/listen stream may never end by itself)."""
        reply = McpReply(r.status_code, r.headers, b"")
        if r.headers.get("content-type", "").lower().startswith("text/event-stream"):
            parser = SseParser()
            chunks = []
            for text in r.iter_text():
                chunks.append(text)
                for ev in parser.feed(text):
                    reply.sse_events.append(ev)
                    if ev.data == "":
                        continue  # a priming event (2025-11-25) carries an id and no data
                    parsed = json.loads(ev.data)
                    batch = parsed if isinstance(parsed, list) else [parsed]  # 2025-03-26 batches
                    reply.messages.extend(batch)
                    for m in batch if on_message is not None else ():
                        on_message(m)
                    if want_id is not None and any(
                            isinstance(m, dict) and m.get("id") == want_id
                            and ("result" in m or "error" in m) for m in batch):
                        reply.body = "".join(chunks).encode()
                        return reply
            reply.body = "".join(chunks).encode()
            return reply
        reply.body = r.read()
        if reply.body and reply.content_type.lower().startswith("application/json"):
            parsed = json.loads(reply.body)
            reply.messages = parsed if isinstance(parsed, list) else [parsed]
            for m in reply.messages if on_message is not None else ():
                on_message(m)
        return reply

    # Lifecycle (spec 2025-11-25 basic/lifecycle)

    def initialize(self, version: str = LATEST_PROTOCOL_VERSION, capabilities: Optional[dict] = None,
                   request_id: Any = None) -> McpReply:
        rid = self.next_id() if request_id is None else request_id
        reply = self.post({"jsonrpc": "2.0", "id": rid, "method": "initialize",
                           "params": {"protocolVersion": version,
                                      "capabilities": capabilities or {},
                                      "clientInfo": {"name": "mcp-conformance", "version": "0.1"}}},
                          session=_NO_SESSION)
        if reply.status == 200:
            self.session_id = reply.headers.get("mcp-session-id")
            result = reply.response_to(rid).get("result", {})
            self.protocol_version = result.get("protocolVersion")
        return reply

    def open_session(self) -> "McpClient":
        reply = self.initialize()
        assert reply.status == 200, reply
        done = self.notify("notifications/initialized")
        assert done.status == 202, done
        return self

    def notify(self, method: str, params: Optional[dict] = None, **kw) -> McpReply:
        msg: dict = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            msg["params"] = params
        return self.post(msg, **kw)

    def request(self, method: str, params: Optional[dict] = None, request_id: Any = None,
                **kw) -> dict:
        """Sends a request and returns its JSON-RPC response (asserting HTTP 200)."""
        rid = self.next_id() if request_id is None else request_id
        msg: dict = {"jsonrpc": "2.0", "id": rid, "method": method}
        if params is not None:
            msg["params"] = params
        reply = self.post(msg, **kw)
        assert reply.status == 200, f"{method}: HTTP {reply.status} {reply.body[:500]!r}"
        return reply.response_to(rid)

    def call_tool(self, name: str, arguments: Optional[dict] = None, request_id: Any = None,
                  meta: Optional[dict] = None) -> dict:
        params: dict = {"name": name, "arguments": arguments or {}}
        if meta is not None:
            params["_meta"] = meta
        return self.request("tools/call", params, request_id)

    def delete(self, session: Any = None) -> httpx.Response:
        return self.http.delete(self.url, headers=self.headers(session))


def text_of(response: dict) -> str:
    """The first text content of a tools/call result."""
    assert "result" in response, response
    return response["result"]["content"][0]["text"]


# --------------------------------------------------------------------------------------------
# The endpoint under test


@dataclass(frozen=True)
class ToolCase:
    """One tools/call a generic test makes, and what the answer must say."""
    name: str
    arguments: dict
    expect_text: Optional[str] = None
    expect_structured: Optional[dict] = None


@dataclass(frozen=True)
class EndpointUnderTest:
    url: str
    echo: Optional[ToolCase] = None  # a tool that returns text it was given
    add: Optional[ToolCase] = None  # a tool with structured output (2025-06-18 and later)
    # progress(steps) -> ToolCase for a tool that reports `steps` progress notifications
    progress: Optional[Callable[[int], ToolCase]] = None


def _parse_echo_option(value: Optional[str]) -> Optional[ToolCase]:
    if not value:
        return None
    name, rest = value.split(":", 1)
    decoder = json.JSONDecoder()
    arguments, end = decoder.raw_decode(rest)
    if rest[end:end + 1] != ":":
        raise pytest.UsageError("--echo-tool: expected NAME:ARGS_JSON:EXPECTED_TEXT")
    return ToolCase(name, arguments, rest[end + 1:])


@pytest.fixture
def endpoint(request) -> EndpointUnderTest:
    """The Streamable HTTP endpoint the HTTP tests check: --url if given, else the proxy in
    front of the mock. With --sse-url or --cmd there is none: those tests skip."""
    option = _external_option(request.config)
    if option in ("--sse-url", "--cmd"):
        from spec_report import skip_not_applicable
        skip_not_applicable(f"Streamable HTTP only: the server under test ({option}) speaks "
                            f"{'HTTP+SSE' if option == '--sse-url' else 'stdio'}")
    url = _external_url(request.config)
    if url:
        from mcp_targets import LEGACY, require_era
        require_era(request, LEGACY)  # these are the 2025-11-25 rules of Streamable HTTP
        progress = None
        if value := request.config.getoption("--progress-tool"):
            from mcp_targets import _parse_tool_option
            name, arguments, _ = _parse_tool_option("--progress-tool", value, False)
            # Another server's progress tool: its step count and text are its own.
            progress = lambda steps: ToolCase(name, arguments, None)  # noqa: E731
        return EndpointUnderTest(url=url,
                                 echo=_parse_echo_option(request.config.getoption("--echo-tool")),
                                 progress=progress)
    proxy = request.getfixturevalue("proxy")
    return EndpointUnderTest(
        url=proxy.url("mock"),
        echo=ToolCase("echo", {"text": "hello through the proxy"}, "hello through the proxy"),
        add=ToolCase("add", {"a": 2, "b": 40}, '{"sum":42}', {"sum": 42}),
        progress=lambda steps: ToolCase("progress", {"steps": steps}, f"done {steps} steps"),
    )


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=HTTP_TIMEOUT_S, trust_env=False) as c:
        yield c


@pytest.fixture
def mcp_client(endpoint: EndpointUnderTest, http: httpx.Client) -> Callable[[], McpClient]:
    """Factory for clients of the endpoint under test (no session yet)."""
    return lambda: McpClient(endpoint.url, http)


@pytest.fixture
def mcp(mcp_client) -> McpClient:
    """A client with an initialized session on the endpoint under test."""
    return mcp_client().open_session()


# --------------------------------------------------------------------------------------------
# The mock over HTTP


class MockHttp(ListeningProcess):
    """`mock-mcp-server --http 127.0.0.1:0 ...`: the mock at /mock/mcp and /mock/sse."""

    def __init__(self, binary: Path, *args: str):
        super().__init__("mock-mcp-server --http", [binary, "--http", "127.0.0.1:0", *args])

    def url(self, kind: str) -> str:
        return f"{self.base_url}/mock/{kind}"


@pytest.fixture
def start_mock_http(mock_server_bin) -> Iterator:
    started: list[MockHttp] = []

    def start(*args: str) -> MockHttp:
        m = MockHttp(mock_server_bin, *args)
        started.append(m)
        return m

    yield start
    for m in started:
        m.stop()


# --------------------------------------------------------------------------------------------
# Scripted HTTP backends (fault_server.py), closed after the test; what they saw go wrong fails it


@pytest.fixture
def fault_servers() -> Iterator[Callable[..., Any]]:
    from fault_server import FaultServer  # only the tests that use it pay for the import

    made: list = []

    def make(**kw: Any) -> FaultServer:
        s = FaultServer(**kw)
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()
    errors = [e for s in made for e in s.errors]
    if errors:
        pytest.fail(f"fault server errors: {errors}")
