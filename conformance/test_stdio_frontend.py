"""mcp-proxy --stdio: the proxy served over its own stdin/stdout (for clients that only launch
stdio servers). Spec: 2025-11-25 basic/transports, "stdio"."""

import json
import os
import queue
import subprocess
import threading
import time
from pathlib import Path
from typing import Optional

import pytest

from conftest import process_exists, terminate

LINE_TIMEOUT_S = 20.0


class StdioProxy:
    """The proxy as a child process; stdout lines are collected by a thread, stderr drained."""

    def __init__(self, proxy_bin: Path, config: Path, extra_args=()):
        self.proc = subprocess.Popen(
            [str(proxy_bin), "--stdio", "--config", str(config), *extra_args],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.lines: "queue.Queue[bytes]" = queue.Queue()
        self.stderr = bytearray()
        threading.Thread(target=self._read_stdout, daemon=True).start()
        self.stderr_reader = threading.Thread(target=self._read_stderr, daemon=True)
        self.stderr_reader.start()

    def _read_stdout(self):
        for line in self.proc.stdout:
            self.lines.put(line)

    def _read_stderr(self):
        for chunk in iter(lambda: self.proc.stderr.read1(4096), b""):
            self.stderr += chunk

    def send(self, message) -> None:
        self.proc.stdin.write(json.dumps(message).encode() + b"\n")
        self.proc.stdin.flush()

    def receive(self) -> dict:
        line = self.lines.get(timeout=LINE_TIMEOUT_S)
        return json.loads(line)  # every stdout line must be one JSON-RPC message

    def close_stdin_and_wait(self) -> int:
        self.proc.stdin.close()
        return self.proc.wait(timeout=LINE_TIMEOUT_S)

    def stop(self) -> None:
        terminate(self.proc, 10)


def request(rid, method, params=None):
    return {"jsonrpc": "2.0", "id": rid, "method": method, "params": params or {}}


def write_config(tmp_path: Path, servers: dict, proxy: Optional[dict] = None) -> Path:
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"mcpProxy": proxy or {}, "mcpServers": servers}))
    return path


@pytest.fixture
def stdio_proxy(tmp_path, mcp_proxy_bin, mock_server_bin):
    started = []

    def start(servers=None, extra_args=(), proxy=None):
        servers = servers or {"mock": {"command": str(mock_server_bin)}}
        p = StdioProxy(mcp_proxy_bin, write_config(tmp_path, servers, proxy), extra_args)
        started.append(p)
        return p

    yield start
    for p in started:
        p.stop()


def initialize(p: StdioProxy) -> dict:
    p.send(request(1, "initialize", {"protocolVersion": "2025-11-25", "capabilities": {},
                                     "clientInfo": {"name": "pytest", "version": "1"}}))
    reply = p.receive()
    p.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
    return reply


def test_initialize_list_and_call_over_stdio(stdio_proxy):
    """basic/transports stdio: one JSON-RPC message per line; stdout carries only messages."""
    p = stdio_proxy()
    reply = initialize(p)
    assert reply["id"] == 1
    assert reply["result"]["protocolVersion"] == "2025-11-25"
    p.send(request("l", "tools/list"))
    names = [t["name"] for t in p.receive()["result"]["tools"]]
    assert "echo" in names and "add" in names
    p.send(request(7, "tools/call", {"name": "echo", "arguments": {"text": "over stdio"}}))
    reply = p.receive()
    assert reply["id"] == 7
    assert reply["result"]["content"][0]["text"] == "over stdio"


def test_progress_precedes_the_response_with_the_clients_token(stdio_proxy):
    """basic/utilities/progress: notifications carry the request's progressToken."""
    p = stdio_proxy()
    initialize(p)
    p.send(request(2, "tools/call", {"name": "progress", "arguments": {"steps": 2},
                                     "_meta": {"progressToken": "tok"}}))
    first, second, final = p.receive(), p.receive(), p.receive()
    assert first["method"] == "notifications/progress"
    assert first["params"]["progressToken"] == "tok"
    assert second["params"]["progress"] == 2
    assert final["id"] == 2


def test_a_request_before_initialize_gets_an_error(stdio_proxy):
    """basic/lifecycle: initialization MUST be the first interaction."""
    p = stdio_proxy()
    p.send(request(1, "tools/list"))
    reply = p.receive()
    assert reply["id"] == 1
    assert reply["error"]["code"] == -32600


def test_invalid_json_gets_a_parse_error_and_the_session_goes_on(stdio_proxy):
    """JSON-RPC 2.0 section 5.1: -32700 with a null id."""
    p = stdio_proxy()
    initialize(p)
    p.proc.stdin.write(b"{not json\n")
    p.proc.stdin.flush()
    reply = p.receive()
    assert reply["id"] is None
    assert reply["error"]["code"] == -32700
    p.send(request(3, "ping"))
    assert p.receive()["id"] == 3


def test_end_of_stdin_stops_the_backend_and_exits_zero(stdio_proxy):
    """basic/transports stdio, shutdown: the client closes the server's stdin; the proxy then
    stops its own child the same way and exits."""
    p = stdio_proxy()
    initialize(p)
    p.send(request(4, "tools/call", {"name": "pid", "arguments": {}}))
    backend_pid = int(p.receive()["result"]["content"][0]["text"])
    assert p.close_stdin_and_wait() == 0
    deadline = time.monotonic() + 10
    while process_exists(backend_pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not process_exists(backend_pid)


def test_several_servers_are_merged_unless_one_is_named(stdio_proxy, mock_server_bin):
    """mcp-proxy: --stdio with several servers serves them merged (tools prefixed with the
    server name); --server picks one; with mcpProxy.aggregate off, --server is needed."""
    servers = {"a": {"command": str(mock_server_bin)}, "b": {"command": str(mock_server_bin)}}
    p = stdio_proxy(servers)
    assert initialize(p)["result"]["serverInfo"]["name"] == "mcp-proxy"
    p.send(request(2, "tools/list"))
    names = {t["name"] for t in p.receive()["result"]["tools"]}
    assert {"a__echo", "b__echo"} <= names, names
    q = stdio_proxy(servers, ["--server", "b", "--log-level", "warn"])
    assert initialize(q)["result"]["serverInfo"]["name"] == "mock-mcp-server"
    r = stdio_proxy(servers, proxy={"aggregate": False})
    assert r.proc.wait(timeout=LINE_TIMEOUT_S) == 2
    r.stderr_reader.join(timeout=LINE_TIMEOUT_S)  # it ends at end of file
    assert b"choose one with --server NAME" in bytes(r.stderr)


@pytest.mark.spec("2025-11-25 basic/transports#stdio")
@pytest.mark.parametrize("transport", ["stdio", "sse", "streamable-http"])
def test_stdio_frontend_over_every_backend_transport(stdio_proxy, start_mock_http,
                                                     mock_server_bin, transport):
    """basic/transports stdio on the client side, each backend transport behind it:
    initialize, tools, resources and prompts through `mcp-proxy --stdio`."""
    fixture_args = ["--fixture", "conformance"]
    if transport == "stdio":
        server = {"command": str(mock_server_bin), "args": fixture_args}
    else:
        mock = start_mock_http(*fixture_args)
        server = {"url": mock.url("sse" if transport == "sse" else "mcp"),
                  "transportType": transport}
    p = stdio_proxy({"fixture": server})
    assert initialize(p)["result"]["serverInfo"]["name"] == "mock-mcp-server"
    p.send(request(2, "tools/call", {"name": "echo", "arguments": {"text": transport}}))
    assert p.receive()["result"]["content"][0]["text"] == transport
    p.send(request(3, "resources/list"))
    uris = [r["uri"] for r in p.receive()["result"]["resources"]]
    assert uris, "the fixture has resources"
    p.send(request(4, "resources/read", {"uri": uris[0]}))
    assert p.receive()["result"]["contents"][0]["uri"] == uris[0]
    p.send(request(5, "prompts/get", {"name": "test_simple_prompt"}))
    messages = p.receive()["result"]["messages"]
    assert messages and messages[0]["role"] == "user"
    assert p.close_stdin_and_wait() == 0


# ---------------------------------------------------------------------------------------------
# 2026-07-28 clients over stdio (spec 2026-07-28 basic/transports/stdio)

MODERN = "2026-07-28"


def modern_request(rid, method, params=None, capabilities=None, meta=None):
    """A 2026-07-28 request: the per-request _meta (basic/index) rides on it."""
    params = dict(params or {})
    params["_meta"] = {"io.modelcontextprotocol/protocolVersion": MODERN,
                       "io.modelcontextprotocol/clientCapabilities": capabilities or {},
                       **(meta or {})}
    return request(rid, method, params)


def receive_until(p: StdioProxy, predicate, limit: int = 50) -> list:
    """The lines up to the first that matches, bounded in count (and in time by receive)."""
    seen = []
    for _ in range(limit):
        seen.append(p.receive())
        if predicate(seen[-1]):
            return seen
    raise AssertionError(f"no matching line in {limit}: {seen}")


@pytest.mark.spec("2026-07-28 basic/transports/stdio")
def test_a_modern_client_is_served_over_stdio_without_initialize(stdio_proxy):
    """server/discover and tools/call with no initialize; results carry resultType and
    serverInfo (basic/index); progress precedes the response with the client's token."""
    p = stdio_proxy()
    p.send(modern_request("d", "server/discover"))
    discover = p.receive()
    assert discover["id"] == "d"
    assert MODERN in discover["result"]["supportedVersions"], discover
    assert discover["result"]["resultType"] == "complete"
    p.send(modern_request(2, "tools/call", {"name": "progress", "arguments": {"steps": 2}},
                          meta={"progressToken": "t"}))
    lines = receive_until(p, lambda m: m.get("id") == 2)
    progress = [m for m in lines if m.get("method") == "notifications/progress"]
    assert [m["params"]["progressToken"] for m in progress] == ["t", "t"], lines
    final = lines[-1]["result"]
    assert final["resultType"] == "complete", final
    assert "io.modelcontextprotocol/serverInfo" in final["_meta"], final


@pytest.mark.spec("2026-07-28 basic/index")
def test_modern_errors_over_stdio(stdio_proxy):
    """Missing _meta fields: -32602; an unknown version: -32022 with data.supported; removed
    methods: -32601 (basic/index error codes; basic/versioning)."""
    p = stdio_proxy()
    p.send(request(1, "tools/list", {"_meta": {"io.modelcontextprotocol/protocolVersion": MODERN}}))
    assert p.receive()["error"]["code"] == -32602
    p.send(modern_request(2, "tools/list", meta={
        "io.modelcontextprotocol/protocolVersion": "1900-01-01"}))
    err = p.receive()["error"]
    assert err["code"] == -32022 and MODERN in err["data"]["supported"], err
    p.send(modern_request(3, "ping"))
    assert p.receive()["error"]["code"] == -32601


@pytest.mark.spec("2026-07-28 basic/utilities/cancellation")
def test_notifications_cancelled_cancels_a_modern_request_over_stdio(stdio_proxy):
    """basic/transports/stdio: the client cancels with notifications/cancelled; the server
    sends nothing more for that request, and other requests go on."""
    p = stdio_proxy()
    p.send(modern_request(5, "tools/call", {"name": "sleep", "arguments": {"ms": 3000}}))
    time.sleep(0.3)  # the call is at the backend
    p.send({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 5}})
    p.send(modern_request(6, "tools/call", {"name": "echo", "arguments": {"text": "after"}}))
    reply = p.receive()
    assert reply["id"] == 6 and reply["result"]["content"][0]["text"] == "after", reply
    with pytest.raises(queue.Empty):
        p.lines.get(timeout=4)  # nothing for request 5, not even after the sleep ends


@pytest.mark.spec("2026-07-28 basic/patterns/subscriptions")
def test_subscriptions_listen_over_stdio(stdio_proxy):
    """The acknowledgment first, then the opted-in list_changed tagged with the listen's id;
    notifications/cancelled for the listen ends it (nothing more); at end of stdin an open
    listen gets its result (graceful closure)."""
    p = stdio_proxy()
    p.send(modern_request("L", "subscriptions/listen",
                          {"notifications": {"toolsListChanged": True}}))
    ack = p.receive()
    assert ack["method"] == "notifications/subscriptions/acknowledged", ack
    assert ack["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"] == "L"
    assert ack["params"]["notifications"] == {"toolsListChanged": True}, ack
    p.send(modern_request(1, "tools/call", {"name": "change_tools", "arguments": {}}))
    lines = receive_until(p, lambda m: m.get("method") == "notifications/tools/list_changed")
    assert lines[-1]["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"] == "L"
    p.send(modern_request("M", "subscriptions/listen",
                          {"notifications": {"toolsListChanged": True}}))
    receive_until(p, lambda m: m.get("method") == "notifications/subscriptions/acknowledged"
                  and m["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"] == "M")
    p.send({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": "L"}})
    time.sleep(0.3)
    assert p.close_stdin_and_wait() == 0
    rest = []
    while not p.lines.empty():
        rest.append(json.loads(p.lines.get()))
    results = [m for m in rest if "result" in m and m.get("id") in ("L", "M")]
    assert [m["id"] for m in results] == ["M"], rest  # L was cancelled: no result for it
    assert results[0]["result"]["_meta"]["io.modelcontextprotocol/subscriptionId"] == "M"
