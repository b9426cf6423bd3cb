"""Backends of the 2026-07-28 era behind the proxy, and the bridge between the eras (issue #14,
part 2). Citations are to docs/specification/2026-07-28/ of modelcontextprotocol/modelcontextprotocol.

The modern backend is tests/interop/v2_server.mjs, written with the v2 TypeScript SDK
(@modelcontextprotocol/server) and served over stdio (serveStdio, dual-era) or Streamable HTTP
(createMcpHandler, stateless). Its tools ask for input with input_required results (MRTR).

- 2025-era clients (the v1 SDK client, the Inspector CLI, our own session) get real sampling,
  elicitation and roots requests for them, and their answers reach the backend as inputResponses
  on a retry; resources/subscribe becomes the backend's subscriptions/listen.
- 2026-07-28 clients get the backend's input_required as it is (its keys), with a requestState of
  the proxy's bound to the route and the request.
- The era is detected (server/discover first, basic/versioning backward compatibility) or set
  with the server's "protocol" key.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Iterator

import httpx
import pytest

from conftest import REPO_ROOT, wait_until
from test_sdk_interop import (  # noqa: F401 (inspector and peers are fixtures used here)
    NodePeers, PeerProcess, _run_sdk_script, inspector, peers, run_inspector)

V2_SERVER = REPO_ROOT / "tests" / "interop" / "v2_server.mjs"
V1_CLIENT = REPO_ROOT / "tests" / "interop" / "v1_client_modern.mjs"
MODERN = "2026-07-28"
WAIT_S = 15.0


@pytest.fixture(scope="module")
def v2_server_http(peers) -> Iterator[PeerProcess]:
    p = PeerProcess("v2_server --http", [peers.node, str(V2_SERVER), "--http"],
                    env=dict(os.environ, MCP_PROXY_NPM_DIR=str(peers.npm_dir)),
                    cwd=peers.npm_dir)
    yield p
    p.stop()


def _v2_stdio(peers: NodePeers, *extra: str) -> dict:
    return {"command": peers.node, "args": [str(V2_SERVER), *extra],
            "env": {"MCP_PROXY_NPM_DIR": str(peers.npm_dir)}, "timeout": "20s"}


def _backend(request, peers, transport: str) -> dict:
    if transport == "stdio":
        return _v2_stdio(peers)
    server = request.getfixturevalue("v2_server_http")
    return {"url": server.url("/mcp"), "timeout": "20s"}


def _fail_with_log(e: AssertionError, proxy) -> None:
    raise AssertionError(f"{e}\n--- mcp-proxy output (tail):\n{proxy.output()[-4000:]}") from None


@pytest.mark.spec("2026-07-28 basic/patterns/mrtr")
@pytest.mark.parametrize("session_mode", ["shared", "per-client"])
@pytest.mark.parametrize("route", ["v2", ""], ids=["server-route", "merged"])
@pytest.mark.parametrize("transport", ["stdio", "http"])
def test_v1_sdk_client_through_the_proxy_to_a_modern_backend(request, peers, start_proxy,
                                                             transport, route, session_mode):
    """The v1 SDK client (2025-11-25) through /v2/mcp and /mcp to the v2 SDK server: initialize
    is answered from server/discover; a call with progress; the server's input_required for
    elicitation, sampling and roots become real requests to the client, whose answers complete
    the calls (mrtr: the retry carries inputResponses); resources/subscribe is served by the
    backend's subscriptions/listen (basic/patterns/subscriptions), so the update arrives."""
    proxy = start_proxy({"mcpProxy": {"addr": "127.0.0.1:0"}, "mcpServers": {"v2": {
        **_backend(request, peers, transport), "sessionMode": session_mode}}})
    nonce = "n" + os.urandom(4).hex()
    url = f"{proxy.base_url}/{route}/mcp" if route else f"{proxy.base_url}/mcp"
    try:
        out = _run_sdk_script(peers, ["--nonce", nonce, url, "" if route else "v2__"], V1_CLIENT)
        assert out["serverName"] == ("v2-server" if route else "mcp-proxy"), out
        assert out["protocolVersion"] == "2025-11-25", out
        assert out["echo"] == f"echo: hi-{nonce}", out
        assert [n["progress"] for n in out["progress"]["notifications"]] == [1, 2, 3], out
        assert out["progress"]["text"] == "counted 3", out
        elicitation = out["elicitation"]
        assert len(elicitation["requests"]) == 1, elicitation
        assert elicitation["requests"][0]["message"] == "Your name?", elicitation
        assert elicitation["text"] == f"hello name-{nonce}", elicitation
        sampling = out["sampling"]
        assert len(sampling["requests"]) == 1, sampling
        assert sampling["requests"][0]["messages"][0]["content"]["text"] == f"prompt-{nonce}"
        assert sampling["text"] == f"model said: answer-{nonce}", sampling
        assert out["roots"] == {"requests": 1, "text": f"roots: file:///root-{nonce}"}, out
        assert out["updated"] == ["demo://doc"], out
        assert "speaks protocol 2026-07-28" in proxy.output()
    except AssertionError as e:
        _fail_with_log(e, proxy)


@pytest.mark.spec("2026-07-28 basic/patterns/mrtr")
def test_the_inspector_cli_through_the_proxy_to_a_modern_backend(inspector, peers, start_proxy,
                                                                 tmp_path):
    """The Inspector CLI (a 2025-era client) lists and calls the modern backend's tools."""
    proxy = start_proxy({"mcpProxy": {"addr": "127.0.0.1:0"},
                         "mcpServers": {"v2": _v2_stdio(peers)}})
    for route, prefix in (("v2/", ""), ("", "v2__")):
        url = f"{proxy.base_url}/{route}mcp"
        listed = run_inspector(inspector, tmp_path / "home", url, "--transport", "http",
                               "--method", "tools/list")
        names = {t["name"] for t in listed["tools"]}
        assert {prefix + n for n in ("echo", "ask_name", "count")} <= names, listed
        called = run_inspector(inspector, tmp_path / "home", url, "--transport", "http",
                               "--method", "tools/call", "--tool-name", prefix + "echo",
                               "--tool-arg", "text=from-inspector")
        assert called["content"][0]["text"] == "echo: from-inspector", called


def _modern_post(url: str, id_: int, method: str, params: dict, name: str | None = None,
                 capabilities: dict | None = None) -> dict:
    """One 2026-07-28 request (basic/transports/streamable-http: the standard headers), its
    response (JSON, or the last message of an event stream)."""
    params = {**params, "_meta": {"io.modelcontextprotocol/protocolVersion": MODERN,
                                  "io.modelcontextprotocol/clientCapabilities":
                                      capabilities if capabilities is not None
                                      else {"elicitation": {}}}}
    headers = {"Accept": "application/json, text/event-stream", "MCP-Protocol-Version": MODERN,
               "Mcp-Method": method}
    if name is not None:
        headers["Mcp-Name"] = name
    r = httpx.post(url, json={"jsonrpc": "2.0", "id": id_, "method": method, "params": params},
                   headers=headers, timeout=WAIT_S)
    if r.headers.get("content-type", "").startswith("text/event-stream"):
        datas = [line[5:].strip() for line in r.text.splitlines() if line.startswith("data:")]
        messages = [json.loads(d) for d in datas if d]
        return messages[-1]
    return r.json()


@pytest.mark.spec("2026-07-28 basic/patterns/mrtr")
@pytest.mark.parametrize("transport", ["stdio", "http"])
def test_a_modern_client_gets_the_backends_input_requests_as_they_are(request, peers,
                                                                      start_proxy, transport):
    """A 2026-07-28 client of a 2026-07-28 backend: the backend's input_required reaches it
    with the backend's own inputRequests keys; the requestState is the proxy's (single use,
    bound to the route and the request, mrtr server requirements 4 and 5), and a retry with it
    reaches the backend, whose answer completes the call."""
    proxy = start_proxy({"mcpProxy": {"addr": "127.0.0.1:0"},
                         "mcpServers": {"v2": _backend(request, peers, transport)}})
    url = f"{proxy.base_url}/v2/mcp"
    call = {"name": "ask_name", "arguments": {}}
    first = _modern_post(url, 1, "tools/call", call, "ask_name")
    result = first["result"]
    assert result["resultType"] == "input_required", first
    assert list(result["inputRequests"]) == ["name"], first  # the backend's key
    assert result["inputRequests"]["name"]["method"] == "elicitation/create", first
    state = result["requestState"]
    answer = {"inputResponses": {"name": {"action": "accept", "content": {"name": "Ada"}}},
              "requestState": state}
    done = _modern_post(url, 2, "tools/call", {**call, **answer}, "ask_name")
    assert done["result"]["resultType"] == "complete", done
    assert done["result"]["content"][0]["text"] == "hello Ada", done
    # Single use.
    again = _modern_post(url, 3, "tools/call", {**call, **answer}, "ask_name")
    assert again["error"]["code"] == -32602, again
    # Bound to the request: a state of ask_name sent with another tool is refused.
    state = _modern_post(url, 4, "tools/call", call, "ask_name")["result"]["requestState"]
    other = _modern_post(url, 5, "tools/call",
                         {"name": "echo", "arguments": {"text": "x"}, **answer,
                          "requestState": state}, "echo")
    assert other["error"]["code"] == -32602, other


@pytest.mark.spec("2026-07-28 basic/versioning")
def test_the_protocol_key_fixes_the_era(peers, start_proxy, mock_server_bin):
    """"protocol": "2025-11-25" skips the probe (the dual-era v2 server is then served the 2025
    way: initialize); "2026-07-28" on a 2025-era backend (the mock) fails its initialize with
    an error that says so, instead of falling back."""
    proxy = start_proxy({"mcpProxy": {"addr": "127.0.0.1:0"}, "mcpServers": {
        "v2": {**_v2_stdio(peers), "protocol": "2025-11-25"},
        "mock": {"command": str(mock_server_bin), "protocol": "2026-07-28", "timeout": "5s"}}})
    reply = _modern_post(f"{proxy.base_url}/v2/mcp", 1, "tools/call",
                         {"name": "echo", "arguments": {"text": "old"}}, "echo")
    assert reply["result"]["content"][0]["text"] == "echo: old", reply
    out = proxy.output()
    assert "backend v2: speaks protocol 2026-07-28" not in out, out[-3000:]
    assert wait_until(lambda: "answered server/discover with an error" in proxy.output(), WAIT_S), \
        proxy.output()[-3000:]
    r = httpx.post(f"{proxy.base_url}/mock/mcp", json={
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                   "clientInfo": {"name": "t", "version": "1"}}},
        headers={"Accept": "application/json, text/event-stream"}, timeout=WAIT_S)
    assert "error" in r.text and "2026-07-28" in r.text, r.text


def test_a_modern_only_backend_is_detected(peers, start_proxy):
    """A 2026-07-28-only server (serveStdio with legacy 'reject') behind the default "auto":
    server/discover finds it, and a 2025-era client's call goes through."""
    proxy = start_proxy({"mcpProxy": {"addr": "127.0.0.1:0"},
                         "mcpServers": {"v2": _v2_stdio(peers, "--modern-only")}})
    from mcp_session import StreamableHttpSession
    with StreamableHttpSession(f"{proxy.base_url}/v2/mcp", "legacy") as s:
        s.open()
        result = s.result("tools/call", {"name": "echo", "arguments": {"text": "hi"}})
        assert result["content"][0]["text"] == "echo: hi", result
    assert "backend v2: speaks protocol 2026-07-28" in proxy.output()


# A 2025-era stdio server that says nothing to a request before initialize (some do), and one
# that exits on it (rmcp-based servers do): the probe must fall back to initialize either way.
_LEGACY_SERVER = r"""
import json, sys
mode = sys.argv[1]
initialized = False
for line in sys.stdin:
    m = json.loads(line)
    if "id" not in m or "method" not in m:
        continue
    if m["method"] == "initialize":
        initialized = True
        result = {"protocolVersion": "2025-11-25", "capabilities": {"tools": {}},
                  "serverInfo": {"name": "quiet", "version": "1"}}
    elif not initialized:
        if mode == "exit":
            sys.exit(1)
        continue
    elif m["method"] == "tools/list":
        result = {"tools": [{"name": "hello", "inputSchema": {"type": "object"}}]}
    elif m["method"] == "tools/call":
        result = {"content": [{"type": "text", "text": "hello from " + mode}]}
    else:
        result = {}
    print(json.dumps({"jsonrpc": "2.0", "id": m["id"], "result": result}), flush=True)
"""


@pytest.mark.spec("2026-07-28 basic/versioning")
@pytest.mark.parametrize("mode", ["quiet", "exit"])
def test_a_legacy_server_that_ignores_or_dies_on_the_probe_is_served(start_proxy, tmp_path, mode):
    """basic/versioning: "Any other error, or a timeout, means legacy"; the fallback MUST NOT be
    keyed to one error code. A server that never answers server/discover is taken for a legacy
    one once the probe time (half the server's timeout, at most 5 s) passes; one that exits on
    it is started again and initialized."""
    script = tmp_path / "legacy_server.py"
    script.write_text(_LEGACY_SERVER)
    proxy = start_proxy({"mcpProxy": {"addr": "127.0.0.1:0"}, "mcpServers": {"old": {
        "command": sys.executable, "args": [str(script), mode], "timeout": "2s"}}})
    from mcp_session import StreamableHttpSession
    with StreamableHttpSession(f"{proxy.base_url}/old/mcp", "legacy") as s:
        s.open()
        result = s.result("tools/call", {"name": "hello", "arguments": {}})
        assert result["content"][0]["text"] == f"hello from {mode}", result
    out = proxy.output()
    assert "backend old: speaks protocol 2025-11-25 or older" in out, out[-3000:]
    if mode == "exit":
        assert "starting it again as a 2025-11-25 server" in out, out[-3000:]


def _mock_modern(mock_server_bin, start_mock_http, transport: str) -> dict:
    """The mock's 2026-07-28 era with the conformance fixture (test_header_param marks its
    `region` argument x-mcp-header: Region)."""
    args = ["--fixture", "conformance", "--era", "modern"]
    if transport == "stdio":
        return {"command": str(mock_server_bin), "args": args, "timeout": "20s"}
    server = start_mock_http(*args)
    return {"url": server.url("mcp"), "timeout": "20s"}


def _header_call(url: str, id_: int, region, headers: dict) -> httpx.Response:
    params = {"name": "test_header_param", "arguments": {"region": region},
              "_meta": {"io.modelcontextprotocol/protocolVersion": MODERN,
                        "io.modelcontextprotocol/clientCapabilities": {}}}
    return httpx.post(url, json={"jsonrpc": "2.0", "id": id_, "method": "tools/call",
                                 "params": params},
                      headers={"Accept": "application/json, text/event-stream",
                               "MCP-Protocol-Version": MODERN, "Mcp-Method": "tools/call",
                               "Mcp-Name": "test_header_param", **headers}, timeout=WAIT_S)


@pytest.mark.spec("2026-07-28 basic/transports/streamable-http#custom-headers")
@pytest.mark.parametrize("transport", ["stdio", "http"])
def test_mcp_param_headers_are_checked_and_reach_the_backend(mock_server_bin, start_mock_http,
                                                             start_proxy, transport):
    """A server that processes the body MUST check each x-mcp-header value against it (400,
    -32020): a missing, different or undecodable Mcp-Param-Region is refused by the proxy
    itself, whatever the backend's transport; a good one (plain or base64-encoded) passes, and
    an HTTP backend (which checks it too) gets the header."""
    proxy = start_proxy({"mcpProxy": {"addr": "127.0.0.1:0"}, "mcpServers": {
        "m": _mock_modern(mock_server_bin, start_mock_http, transport)}})
    url = f"{proxy.base_url}/m/mcp"
    for i, headers in enumerate([{}, {"Mcp-Param-Region": "us-east"},
                                 {"Mcp-Param-Region": "=?base64?SGVsbG8?="}]):
        r = _header_call(url, i, "eu-west", headers)
        assert r.status_code == 400, (headers, r.status_code, r.text)
        assert r.json()["error"]["code"] == -32020 and r.json()["id"] == i, r.text
    for i, value in enumerate(["eu-west", "=?base64?ZXUtd2VzdA==?="], start=10):
        r = _header_call(url, i, "eu-west", {"mcp-param-region": value})
        assert r.status_code == 200, r.text
        text = r.text
        assert "Region: eu-west" in text and '"isError"' not in text, text


# -- per-request _meta of 2025-era clients, and cancellation by closing the stream

META_CAPS = "io.modelcontextprotocol/clientCapabilities"
META_INFO = "io.modelcontextprotocol/clientInfo"
META_VERSION = "io.modelcontextprotocol/protocolVersion"


def _legacy_open(url: str, capabilities: dict, client_info: dict) -> str:
    """A 2025-11-25 session of a client with its own capabilities and clientInfo; its id."""
    h = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
    r = httpx.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": capabilities,
        "clientInfo": client_info}}, headers=h, timeout=WAIT_S)
    assert r.status_code == 200 and "result" in r.json(), r.text
    sid = r.headers["mcp-session-id"]
    h.update({"Mcp-Session-Id": sid, "MCP-Protocol-Version": "2025-11-25"})
    r = httpx.post(url, json={"jsonrpc": "2.0", "method": "notifications/initialized"},
                   headers=h, timeout=WAIT_S)
    assert r.status_code == 202, r.text
    return sid


def _legacy_call(url: str, sid: str, id_: int, tool: str) -> dict:
    """A tools/call in session `sid`; its response (JSON, or the last message of the stream)."""
    r = httpx.post(url, json={"jsonrpc": "2.0", "id": id_, "method": "tools/call",
                              "params": {"name": tool, "arguments": {}}},
                   headers={"Accept": "application/json, text/event-stream",
                            "Mcp-Session-Id": sid, "MCP-Protocol-Version": "2025-11-25"},
                   timeout=WAIT_S)
    if r.headers.get("content-type", "").startswith("text/event-stream"):
        datas = [line[5:].strip() for line in r.text.splitlines() if line.startswith("data:")]
        return [json.loads(d) for d in datas if d][-1]
    return r.json()


@pytest.mark.spec("2026-07-28 basic/index (per-request protocol fields)")
@pytest.mark.parametrize("route", ["m", ""], ids=["server-route", "merged"])
@pytest.mark.parametrize("transport", ["stdio", "http"])
def test_each_legacy_client_declares_its_own_capabilities_to_a_modern_backend(
        mock_server_bin, start_mock_http, start_proxy, transport, route):
    """A 2026-07-28 server learns the client's capabilities and identity from each request's
    _meta, as there is no initialize. Two 2025-era clients share the proxy's one backend
    (shared mode); each request the backend gets carries the capabilities and clientInfo its
    own client declared in its initialize, not the proxy's (the mock's `meta` tool answers with
    the request's _meta as it arrived)."""
    proxy = start_proxy({"mcpProxy": {"addr": "127.0.0.1:0"}, "mcpServers": {"m": {
        **_mock_modern(mock_server_bin, start_mock_http, transport), "sessionMode": "shared"}}})
    url = f"{proxy.base_url}/{route}/mcp" if route else f"{proxy.base_url}/mcp"
    tool = "meta" if route else "m__meta"
    clients = [({"sampling": {}}, {"name": "client-a", "version": "1.0.0"}),
               ({"elicitation": {"form": {}}, "roots": {"listChanged": True}},
                {"name": "client-b", "version": "2.0.0"})]
    sids = [_legacy_open(url, caps, info) for caps, info in clients]  # both open at once
    for round_ in range(2):
        for k, ((caps, info), sid) in enumerate(zip(clients, sids)):
            reply = _legacy_call(url, sid, 10 + 2 * round_ + k, tool)
            meta = reply["result"]["structuredContent"]
            assert meta[META_VERSION] == MODERN, meta
            assert meta[META_CAPS] == caps, (info["name"], meta)
            assert meta[META_INFO] == info, (info["name"], meta)
    assert "speaks protocol 2026-07-28" in proxy.output()


def _post_and_close(base_url: str, path: str, tool: str, arguments: dict) -> None:
    """Sends one 2026-07-28 tools/call on a connection of its own and closes that connection
    without reading anything: the client cancels by closing the response stream
    (basic/transports/streamable-http, cancellation)."""
    import socket
    body = json.dumps({"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {
        "name": tool, "arguments": arguments,
        "_meta": {META_VERSION: MODERN, META_CAPS: {}}}}).encode()
    port = int(base_url.rsplit(":", 1)[1])
    head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            "Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\n"
            f"MCP-Protocol-Version: {MODERN}\r\nMcp-Method: tools/call\r\nMcp-Name: {tool}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", port), timeout=WAIT_S) as s:
        s.sendall(head + body)


_CANCELLED_CALL = r"request \d+ cancelled"  # the mock's report; the proxy's own ids are strings


@pytest.mark.spec("2026-07-28 basic/transports/streamable-http (cancellation)")
@pytest.mark.parametrize("route", ["m", ""], ids=["server-route", "merged"])
@pytest.mark.parametrize("backend", ["legacy-stdio", "modern-stdio", "modern-http"])
def test_closing_the_stream_before_any_event_cancels_the_backend_request(
        mock_server_bin, start_mock_http, start_proxy, backend, route):
    """"Closing the response stream cancels the request": a 2026-07-28 client's call of a slow
    tool (30 s, no progress: nothing is written before its answer) whose connection closes at
    once is cancelled at the backend within seconds, not at the call's end or deadline: a
    2025-11-25 backend gets notifications/cancelled, a 2026-07-28 one over stdio too, and one
    over HTTP sees the request's stream closed (the mock reports each on stderr)."""
    import re
    import time
    era, transport = backend.split("-")
    if era == "legacy":
        config = {"command": str(mock_server_bin), "args": [], "timeout": "60s"}
        log = None
    elif transport == "stdio":
        config = {"command": str(mock_server_bin), "args": ["--era", "modern"], "timeout": "60s"}
        log = None
    else:
        log = start_mock_http("--era", "modern")
        config = {"url": log.url("mcp"), "timeout": "60s"}
    proxy = start_proxy({"mcpProxy": {"addr": "127.0.0.1:0"}, "mcpServers": {"m": config}})
    seen = (log or proxy).output
    assert not re.search(_CANCELLED_CALL, seen())
    path, tool = (f"/{route}/mcp", "sleep") if route else ("/mcp", "m__sleep")
    closed_at = time.monotonic()
    _post_and_close(proxy.base_url, path, tool, {"ms": 30000})
    assert wait_until(lambda: re.search(_CANCELLED_CALL, seen()), 5.0), \
        f"the backend saw no cancellation:\n{seen()[-3000:]}\n{proxy.output()[-3000:]}"
    assert time.monotonic() - closed_at < 5.0
