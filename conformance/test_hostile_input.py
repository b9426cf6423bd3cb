"""Hostile input and unlucky operators (issue #15, points 5, 7 and 10): each fault the probe
found, as a test that fails without its fix.

* JSON nesting: a backend result 40 levels deep passes through every backend transport; a
  backend answer too deep fails its call at once (not at the call's deadline); a client request
  too deep gets a JSON-RPC error with its id on every client transport.
* Connections: a header deadline answered with 408; one client dripping header bytes on 4200
  connections locks nobody out (/health included); connections per peer.
* Smaller ones: ids echoed as spelled, ids in answers given before dispatch, duplicate server
  names and keys in the config, address errors naming where the address came from, malformed
  HTTP framing answered (400, 408, 414, 431), duplicate Host, a legacy session reached through
  another server's route, POST /health.

The faulty backends are small scripts of this file (standard library only): a stdio MCP server
and a Streamable HTTP one, whose `deep` tool answers with structuredContent nested `depth`
levels deep, written as text (no JSON library recursion on either side).
"""

from __future__ import annotations

import json
import resource
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator, Optional

import httpx
import pytest

from conftest import HTTP_TIMEOUT_S, McpClient, mock_config, wait_until
from mcp_session import LegacySseSession, StdioSession

DEPTH_BOUND = 1024  # mcpProxy.maxJsonDepth's default
# A backend's call deadline in these tests, and how soon an unreadable answer must fail the call
# instead: far below the deadline, generous for an ASan build on a loaded machine.
CALL_TIMEOUT_S = 60
PROMPT_S = 20.0


def nested(depth: int, leaf: str = "1") -> str:
    """`depth` levels of objects, as text."""
    return '{"n":' * depth + leaf + "}" * depth


# --------------------------------------------------------------------------------------------
# Faulty backends

# What both deep backends answer: initialize, tools/list, ping, and tools/call of `deep` (a
# result whose structuredContent is nested `depth` objects deep). Text in, text out.
_DEEP_CORE = r'''
import json

def answer(line):
    msg = json.loads(line)
    if "id" not in msg or "method" not in msg:
        return None
    rid = json.dumps(msg["id"])
    method = msg["method"]
    if method == "initialize":
        result = {"protocolVersion": msg["params"].get("protocolVersion", "2025-11-25"),
                  "capabilities": {"tools": {}}, "serverInfo": {"name": "deep", "version": "1"}}
    elif method == "tools/list":
        result = {"tools": [{"name": "deep", "inputSchema": {"type": "object"}}]}
    elif method == "tools/call":
        depth = int(msg["params"].get("arguments", {}).get("depth", 1))
        inner = '{"n":' * depth + '0' + '}' * depth
        return ('{"jsonrpc":"2.0","id":' + rid + ',"result":{"content":[{"type":"text",'
                '"text":"deep"}],"structuredContent":' + inner + '}}')
    elif method == "ping":
        result = {}
    else:
        return json.dumps({"jsonrpc": "2.0", "id": msg["id"],
                           "error": {"code": -32601, "message": "no " + method}})
    return json.dumps({"jsonrpc": "2.0", "id": msg["id"], "result": result})
'''

_DEEP_STDIO = _DEEP_CORE + r'''
import sys
for line in sys.stdin:
    if line.strip():
        out = answer(line)
        if out is not None:
            sys.stdout.write(out + "\n")
            sys.stdout.flush()
'''

_deep_core: dict = {}
exec(_DEEP_CORE, _deep_core)


class _DeepHttpHandler(BaseHTTPRequestHandler):
    """Streamable HTTP, JSON answers only, no sessions: enough for a backend that answers."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:  # quiet
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
        out = _deep_core["answer"](body)
        if out is None:
            self.send_response(202)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        data = out.encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self.send_response(405)
        self.send_header("Allow", "POST")
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_DELETE = do_GET


@pytest.fixture
def deep_backend(tmp_path) -> Iterator:
    """deep_backend(kind) -> a server entry of the deep backend over `kind` (stdio or
    streamable-http)."""
    servers: list = []

    def make(kind: str) -> dict:
        entry: dict = {"timeout": f"{CALL_TIMEOUT_S}s"}
        if kind == "stdio":
            script = tmp_path / "deep_server.py"
            script.write_text(_DEEP_STDIO)
            entry.update(command=sys.executable, args=[str(script)])
        else:
            server = ThreadingHTTPServer(("127.0.0.1", 0), _DeepHttpHandler)
            server.daemon_threads = True
            threading.Thread(target=server.serve_forever, daemon=True).start()
            servers.append(server)
            entry.update(url=f"http://127.0.0.1:{server.server_address[1]}/mcp",
                         transportType="streamable-http")
        return entry

    yield make
    for s in servers:
        s.shutdown()
        s.server_close()


# --------------------------------------------------------------------------------------------
# Point 5: JSON nesting


@pytest.mark.parametrize("kind", ["stdio", "streamable-http"])
def test_a_backend_result_40_deep_passes_through(start_proxy, deep_backend, http, kind):
    """Boost.JSON's default bound (32) dropped this valid result as "too deep" and the client
    waited the whole timeout. Now the bound is 1024 on both sides."""
    proxy = start_proxy({"mcpProxy": {}, "mcpServers": {"deep": deep_backend(kind)}})
    mcp = McpClient(proxy.url("deep"), http).open_session()
    reply = mcp.call_tool("deep", {"depth": 40})
    assert "result" in reply, reply
    inner = reply["result"]["structuredContent"]
    for _ in range(40):
        inner = inner["n"]
    assert inner == 0


@pytest.mark.parametrize("kind", ["stdio", "streamable-http"])
def test_a_backend_answer_too_deep_fails_its_call_at_once(start_proxy, deep_backend, http, kind):
    """An answer past the bound cannot be read, but its id can (read from its top level): the
    call fails now with an error saying why, not after the call's 60 s deadline."""
    proxy = start_proxy({"mcpProxy": {}, "mcpServers": {"deep": deep_backend(kind)}})
    mcp = McpClient(proxy.url("deep"), http).open_session()
    started = time.monotonic()
    reply = mcp.call_tool("deep", {"depth": DEPTH_BOUND + 100}, request_id="too-deep")
    elapsed = time.monotonic() - started
    assert elapsed < PROMPT_S, f"the call took {elapsed:.1f} s: it waited for its deadline"
    assert reply["id"] == "too-deep"
    assert reply["error"]["code"] == -32000, reply
    assert "nested deeper than 1024 levels" in reply["error"]["message"], reply
    # The backend is still usable.
    again = mcp.call_tool("deep", {"depth": 3})
    assert "result" in again, again
    assert "nested deeper than 1024 levels" in proxy.output()


def deep_request_text(rid, depth: int) -> bytes:
    """A tools/call of the mock's echo with an argument nested `depth` levels (as text: json.dumps
    would recurse that deep)."""
    return ('{"jsonrpc":"2.0","id":' + json.dumps(rid) + ',"method":"tools/call","params":'
            '{"name":"echo","arguments":{"text":"deep","extra":' + nested(depth) + '}}}').encode()


def test_a_client_request_deep_but_within_the_bound_reaches_the_backend(proxy, http):
    mcp = McpClient(proxy.url("mock"), http).open_session()
    reply = mcp.post(raw=deep_request_text(5, 600))
    assert reply.status == 200, reply.body[:300]
    assert reply.response_to(5)["result"]["content"][0]["text"] == "deep"


def test_a_client_request_too_deep_gets_an_error_with_its_id_over_streamable_http(proxy, http):
    mcp = McpClient(proxy.url("mock"), http).open_session()
    reply = mcp.post(raw=deep_request_text("deep-1", DEPTH_BOUND + 10))
    assert reply.status == 400
    body = reply.json()
    assert body["id"] == "deep-1", body
    assert body["error"]["code"] == -32700
    assert "nested deeper than 1024 levels" in body["error"]["message"]
    assert "result" in mcp.request("ping")  # the session goes on


def test_a_client_request_too_deep_gets_an_error_with_its_id_over_legacy_sse(proxy):
    """A body that cannot be read is refused on the POST itself (400), not on the stream."""
    with LegacySseSession(f"{proxy.base_url}/mock/sse") as s:
        s.open()
        with httpx.Client(timeout=HTTP_TIMEOUT_S, trust_env=False) as http:
            r = http.post(s.endpoint_url, content=deep_request_text("deep-2", DEPTH_BOUND + 10),
                          headers={"Content-Type": "application/json"})
        assert r.status_code == 400, r.text
        error = r.json()
        assert error["id"] == "deep-2", error
        assert error["error"]["code"] == -32700, error
        assert "nested deeper than 1024 levels" in error["error"]["message"]
        assert "result" in s.request("ping")


def test_a_client_request_too_deep_gets_an_error_with_its_id_over_stdio(mcp_proxy_bin,
                                                                        mock_server_bin,
                                                                        tmp_path):
    config = tmp_path / "stdio.json"
    config.write_text(json.dumps(mock_config(mock_server_bin)))
    with StdioSession([str(mcp_proxy_bin), "--stdio", "--config", str(config)]) as s:
        s.open()
        s.send_raw(deep_request_text("deep-3", DEPTH_BOUND + 10))
        error = s.wait_response("deep-3")
        assert error["error"]["code"] == -32700, error
        assert "nested deeper than 1024 levels" in error["error"]["message"]
        assert "result" in s.request("ping")


# --------------------------------------------------------------------------------------------
# Point 7: connections


def raw_request(port: int, data: bytes, timeout_s: float = HTTP_TIMEOUT_S) -> bytes:
    """Sends `data` on a fresh connection and reads until the server closes it or a whole
    response is in (headers and a Content-Length body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout_s) as s:
        s.sendall(data)
        return read_response(s, timeout_s)


def read_response(s: socket.socket, timeout_s: float = HTTP_TIMEOUT_S) -> bytes:
    s.settimeout(timeout_s)
    out = b""
    while True:
        try:
            chunk = s.recv(65536)
        except ConnectionResetError:
            return out
        if not chunk:
            return out
        out += chunk
        head, sep, body = out.partition(b"\r\n\r\n")
        if sep:
            length = [int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length:")]
            if length and len(body) >= length[0]:
                return out


def status_of(response: bytes) -> int:
    assert response.startswith((b"HTTP/1.1 ", b"HTTP/1.0 ")), response[:200]
    return int(response.split(b" ", 2)[1])


def header_of(response: bytes, name: str) -> Optional[str]:
    head = response.partition(b"\r\n\r\n")[0].decode("latin-1")
    for line in head.split("\r\n")[1:]:
        key, _, value = line.partition(":")
        if key.strip().lower() == name.lower():
            return value.strip()
    return None


def json_body(response: bytes) -> dict:
    return json.loads(response.partition(b"\r\n\r\n")[2])


def test_headers_that_do_not_arrive_in_time_get_408(start_proxy, mock_server_bin):
    proxy = start_proxy({**mock_config(mock_server_bin), "mcpProxy": {"headerTimeout": "1s"}})
    started = time.monotonic()
    response = raw_request(proxy.port, b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Drip: a")
    assert status_of(response) == 408, response
    assert "did not arrive within 1 s" in json_body(response)["error"]["message"]
    assert time.monotonic() - started < 10.0
    # A connection that never says anything is closed without an answer.
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=HTTP_TIMEOUT_S) as s:
        assert read_response(s) == b""
    # A kept-alive connection idle past the header deadline between requests still works.
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=HTTP_TIMEOUT_S) as s:
        s.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert status_of(read_response(s)) == 200
        time.sleep(2.0)  # the state under test is the idle time itself
        s.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert status_of(read_response(s)) == 200
    assert wait_until(lambda: "answered 408" in proxy.output(), 15.0), proxy.output()[-2000:]


def _raise_descriptor_limit(wanted: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < wanted:
        pytest.skip(f"the descriptor limit ({hard}) is below the {wanted} this test opens")
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def test_a_flood_of_dripping_connections_locks_nobody_out(start_proxy, mock_server_bin, http):
    """Issue #15: 4200 connections dripping header bytes filled the 4096 cap and everyone,
    /health included, was refused for 120 s. With the default limits the flood's oldest
    half-sent requests make room, and busy connections are never taken."""
    _raise_descriptor_limit(4200 + 1000)
    proxy = start_proxy(mock_config(mock_server_bin))  # the default limits
    mcp = McpClient(proxy.url("mock"), http).open_session()  # a client busy before the flood
    flood = []
    try:
        for _ in range(4200):
            s = socket.socket()
            s.settimeout(HTTP_TIMEOUT_S)
            s.connect(("127.0.0.1", proxy.port))
            s.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Drip: ")
            flood.append(s)
        started = time.monotonic()
        with httpx.Client(timeout=HTTP_TIMEOUT_S, trust_env=False) as fresh:
            assert fresh.get(f"{proxy.base_url}/health").status_code == 200
        assert time.monotonic() - started < 10.0
        assert mcp.call_tool("echo", {"text": "still here"})["result"]["content"][0]["text"] \
            == "still here"
        newcomer = McpClient(proxy.url("mock"), http).open_session()
        assert "result" in newcomer.request("ping")
        assert wait_until(lambda: "waiting connection(s) closed to make room" in proxy.output(),
                          15.0), proxy.output()[-2000:]
    finally:
        for s in flood:
            s.close()


def open_legacy_stream(port: int) -> socket.socket:
    """A legacy SSE stream, read up to its endpoint event: a busy connection."""
    s = socket.create_connection(("127.0.0.1", port), timeout=HTTP_TIMEOUT_S)
    s.sendall(b"GET /mock/sse HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n")
    seen = b""
    while b"event: endpoint" not in seen:
        chunk = s.recv(4096)
        assert chunk, seen
        seen += chunk
    return s


def test_a_peer_holding_its_share_of_busy_connections_gets_503(start_proxy, mock_server_bin):
    proxy = start_proxy({**mock_config(mock_server_bin), "mcpProxy": {"maxConnectionsPerPeer": 3}})
    streams = [open_legacy_stream(proxy.port) for _ in range(3)]
    try:
        response = raw_request(proxy.port, b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert status_of(response) == 503, response
        assert "too many connections" in json_body(response)["error"]["message"]
        # A closed stream is noticed at its next write, the keep-alive comment (every 15 s).
        streams.pop().close()
        assert wait_until(lambda: status_of(raw_request(
            proxy.port, b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")) == 200, 45.0,
            interval_s=0.5)
        assert wait_until(lambda: "maxConnectionsPerPeer" in proxy.output(), 15.0)
    finally:
        for s in streams:
            s.close()


# --------------------------------------------------------------------------------------------
# Point 10: the smaller ones


@pytest.mark.parametrize("rid", ["1.5", "12345678901234567890123", "2.50e0"])
def test_a_number_id_is_echoed_as_sent(proxy, http, rid):
    """Boost.JSON writes 1.5 as 1.5E0 and loses digits of big numbers: an id must be echoed
    exactly (JSON-RPC 2.0 section 5)."""
    mcp = McpClient(proxy.url("mock"), http).open_session()
    for method, params in (("ping", {}), ("tools/call", {"name": "echo",
                                                        "arguments": {"text": "x"}})):
        body = ('{"jsonrpc":"2.0","id":' + rid + ',"method":"' + method + '","params":'
                + json.dumps(params) + "}").encode()
        reply = mcp.post(raw=body)
        assert reply.status == 200
        assert f'"id":{rid},'.encode() in reply.body, reply.body[:300]


def test_a_number_id_is_echoed_as_sent_over_stdio(mcp_proxy_bin, mock_server_bin, tmp_path):
    config = tmp_path / "stdio.json"
    config.write_text(json.dumps(mock_config(mock_server_bin)))
    proc = subprocess.Popen([str(mcp_proxy_bin), "--stdio", "--config", str(config)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL)
    try:
        proc.stdin.write(b'{"jsonrpc":"2.0","id":0.5,"method":"initialize","params":'
                         b'{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":'
                         b'{"name":"t","version":"1"}}}\n')
        proc.stdin.flush()
        line = proc.stdout.readline()
        assert line.startswith(b'{"jsonrpc":"2.0","id":0.5,'), line[:200]
    finally:
        proc.stdin.close()
        proc.wait(HTTP_TIMEOUT_S)


def test_answers_given_before_dispatch_carry_the_bodys_id(proxy, http):
    mcp = McpClient(proxy.url("mock"), http).open_session()
    ping = '{"jsonrpc":"2.0","id":"early-1","method":"ping"}'
    url = proxy.url("mock")
    base = {"Accept": McpClient.ACCEPT, "Content-Type": "application/json",
            "MCP-Protocol-Version": mcp.protocol_version}
    cases = [
        (400, {**base}),                                           # no session id
        (404, {**base, "Mcp-Session-Id": "no-such-session"}),      # unknown session
        (415, {**base, "Content-Type": "text/plain", "Mcp-Session-Id": mcp.session_id}),
        (406, {**base, "Accept": "application/json", "Mcp-Session-Id": mcp.session_id}),
        (403, {**base, "Origin": "https://evil.example", "Mcp-Session-Id": mcp.session_id}),
    ]
    for status, headers in cases:
        r = http.post(url, content=ping, headers=headers)
        assert r.status_code == status, (status, r.text)
        assert r.json()["id"] == "early-1", (status, r.text)
    r = http.post(f"{proxy.base_url}/nowhere/mcp", content=ping, headers=base)
    assert r.status_code == 404 and r.json()["id"] == "early-1", r.text


def run_proxy(binary: Path, config_text: str, tmp_path: Path, *args: str) -> tuple[int, str]:
    """Runs mcp-proxy to its exit (a config it refuses, an address it cannot listen on)."""
    config = tmp_path / "proxy.json"
    config.write_text(config_text)
    done = subprocess.run([str(binary), "--config", str(config), *args], capture_output=True,
                          timeout=60)
    return done.returncode, (done.stdout + done.stderr).decode()


def test_duplicate_server_names_and_keys_are_config_errors(mcp_proxy_bin, tmp_path):
    text = ('{"mcpProxy": {"addr": "127.0.0.1:0", "addr": "127.0.0.1:0"},\n'
            ' "mcpServers": {"fs": {"command": "a"}, "fs": {"command": "b"}}}')
    rc, out = run_proxy(mcp_proxy_bin, text, tmp_path)
    config = tmp_path / "proxy.json"
    assert rc == 2, out
    assert f'{config}: $.mcpServers.fs: duplicate server name "fs"' in out, out
    assert f'{config}: $.mcpProxy.addr: duplicate key "addr"' in out, out


def test_address_errors_name_the_file_and_path_or_the_option(mcp_proxy_bin, tmp_path):
    config = tmp_path / "proxy.json"
    rc, out = run_proxy(mcp_proxy_bin, '{"mcpProxy": {"addr": "example.com:9090"}, '
                                       '"mcpServers": {}}', tmp_path)
    assert rc == 2, out
    assert f'{config}: $.mcpProxy.addr: host "example.com" is not an IP address' in out, out
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    try:
        rc, out = run_proxy(mcp_proxy_bin, json.dumps(
            {"mcpProxy": {"addr": f"127.0.0.1:{port}"}, "mcpServers": {}}), tmp_path)
        assert rc == 2, out
        assert f"{config}: $.mcpProxy.addr: cannot listen on 127.0.0.1:{port}" in out, out
        rc, out = run_proxy(mcp_proxy_bin, '{"mcpServers": {}}', tmp_path,
                            "--addr", f"127.0.0.1:{port}")
        assert rc == 2, out
        assert f"--addr: cannot listen on 127.0.0.1:{port}" in out, out
        rc, out = run_proxy(mcp_proxy_bin, '{"mcpServers": {}}', tmp_path, "--addr", "nohost:1")
        assert rc == 2, out
        assert '--addr: host "nohost" is not an IP address' in out, out
    finally:
        taken.close()


FRAMING_CASES = {
    "bad-content-length": (b"POST /mock/mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                           b"Content-Length: abc\r\n\r\n", 400),
    "content-length-and-chunked": (b"POST /mock/mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                   b"Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
                                   b"0\r\n\r\n", 400),
    "two-content-lengths": (b"POST /mock/mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1\r\n"
                            b"Content-Length: 2\r\n\r\nab", 400),
    "bad-chunk": (b"POST /mock/mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n"
                  b"\r\nzz\r\n", 400),
    "too-many-headers": (b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                         + b"".join(b"X-%d: a\r\n" % i for i in range(300)) + b"\r\n", 431),
    "header-too-large": (b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: "
                         + b"a" * 20000 + b"\r\n\r\n", 431),
    "target-too-long": (b"GET /" + b"a" * 20000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 414),
    "duplicate-host": (b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: evil.example\r\n\r\n",
                       400),
    "no-host": (b"GET /health HTTP/1.1\r\n\r\n", 400),
    "bad-request-line": (b"GET /health HTTP/9.9 extra\r\nHost: 127.0.0.1\r\n\r\n", 400),
}


@pytest.mark.parametrize("case", list(FRAMING_CASES))
def test_malformed_http_framing_gets_an_answer(proxy, case):
    """It used to close the socket without a word. RFC 9112 sections 3.2 and 6.3; RFC 9110
    sections 15.5.15 (414); RFC 6585 section 5 (431)."""
    data, status = FRAMING_CASES[case]
    response = raw_request(proxy.port, data)
    assert status_of(response) == status, response[:300]
    assert header_of(response, "Connection") == "close"
    assert json_body(response)["error"]["code"] == -32600


def test_http_1_0_without_host_is_still_served(proxy):
    assert status_of(raw_request(proxy.port, b"GET /health HTTP/1.0\r\n\r\n")) == 200


def test_a_legacy_session_is_not_reached_through_another_servers_route(start_proxy,
                                                                       mock_server_bin):
    proxy = start_proxy(mock_config(mock_server_bin, a={}, b={}))
    with LegacySseSession(f"{proxy.base_url}/a/sse") as s:
        s.open()
        session_id = s.endpoint_url.split("sessionId=")[1]
        ping = b'{"jsonrpc":"2.0","id":1,"method":"ping"}'
        headers = {"Content-Type": "application/json"}
        with httpx.Client(timeout=HTTP_TIMEOUT_S, trust_env=False) as http:
            other = http.post(f"{proxy.base_url}/b/message?sessionId={session_id}",
                              content=ping, headers=headers)
            assert other.status_code == 404, other.text
            merged = http.post(f"{proxy.base_url}/message?sessionId={session_id}",
                               content=ping, headers=headers)
            assert merged.status_code == 404, merged.text
            own = http.post(f"{proxy.base_url}/a/message?sessionId={session_id}",
                            content=ping, headers=headers)
            assert own.status_code == 202, own.text


def test_post_to_health_is_405_with_allow(proxy, http):
    r = http.post(f"{proxy.base_url}/health", content=b"{}")
    assert r.status_code == 405
    assert r.headers["allow"] == "GET, HEAD"
    assert http.get(f"{proxy.base_url}/health").status_code == 200
