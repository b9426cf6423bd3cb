"""The proxy against the mock server's synthetic load and fault modes (mock-servers/synthetic.hpp,
mock-servers/mock_http.hpp), over each backend transport.

Spec citations are to docs/specification/2025-11-25/ of modelcontextprotocol/modelcontextprotocol.
What a proxy owes its client when a backend misbehaves is not spelled out there; the rule these
tests hold the proxy to is the project's: an error for the affected call, promptly, and the next
call works once the backend does.
"""

from __future__ import annotations

import concurrent.futures
import threading
import time
from typing import Iterator

import httpx
import pytest

from conftest import HTTP_TIMEOUT_S, STOP_TIMEOUT_S, McpClient, mock_config, text_of

BACKEND_UNAVAILABLE = -32000
REQUEST_TIMEOUT = -32001
INVALID_PARAMS = -32602


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=HTTP_TIMEOUT_S) as client:
        yield client


def session(proxy, http, name: str) -> McpClient:
    return McpClient(proxy.url(name), http).open_session()


def backend_config(start_mock_http, mock_server_bin, transport: str, *mock_args: str,
                   **server: object) -> dict:
    """A proxy config with one server `b` that runs the mock with `mock_args` over `transport`."""
    if transport == "stdio":
        return mock_config(mock_server_bin, b={"args": list(mock_args), **server})
    mock = start_mock_http(*mock_args)
    kind = "sse" if transport == "sse" else "mcp"
    return {"mcpProxy": {"addr": "127.0.0.1:0"},
            "mcpServers": {"b": {"url": mock.url(kind), "transportType": transport,
                                 "timeout": "30s", **server}}}


TRANSPORTS = ["stdio", "sse", "streamable-http"]


@pytest.mark.spec("2025-11-25 server/utilities/pagination")
@pytest.mark.parametrize("transport", TRANSPORTS)
def test_paginated_lists_pass_through_with_their_cursors(start_proxy, start_mock_http,
                                                         mock_server_bin, http, transport):
    """2025-11-25 server/utilities/pagination: the client follows nextCursor until it is absent,
    and an invalid cursor gets -32602; both through the proxy, over every backend transport."""
    proxy = start_proxy(backend_config(start_mock_http, mock_server_bin, transport,
                                       "--tools", "30", "--page-size", "7"))
    mcp = session(proxy, http, "b")
    names, cursor, pages = [], None, 0
    while pages < 20:
        result = mcp.request("tools/list", {"cursor": cursor} if cursor else {})["result"]
        names += [t["name"] for t in result["tools"]]
        pages += 1
        cursor = result.get("nextCursor")
        if not cursor:
            break
    assert cursor is None, "pagination did not end"
    generated = [n for n in names if n.startswith("gen_tool_")]
    assert generated == [f"gen_tool_{i:04d}" for i in range(1, 31)]
    assert len(names) == len(set(names)), "a tool appeared on two pages"
    assert pages == -(-len(names) // 7)
    bad = mcp.request("tools/list", {"cursor": "not-a-cursor"})
    assert bad["error"]["code"] == INVALID_PARAMS, bad


@pytest.mark.spec("2025-11-25 basic/lifecycle#error-handling")
@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_backend_that_crashes_fails_the_call_and_the_next_call_works(
        start_proxy, start_mock_http, mock_server_bin, http, transport):
    """2025-11-25 basic/lifecycle: Error Handling. The mock exits on its third tool call: that
    call gets a JSON-RPC error at once, and a later call reaches a new backend session."""
    proxy = start_proxy(backend_config(start_mock_http, mock_server_bin, transport,
                                       "--crash-after", "2"))
    mcp = session(proxy, http, "b")
    for i in range(2):
        assert text_of(mcp.call_tool("echo", {"text": f"t{i}"})) == f"t{i}"
    started = time.monotonic()
    crashed = mcp.call_tool("echo", {"text": "boom"})
    assert crashed["error"]["code"] == BACKEND_UNAVAILABLE, crashed
    assert time.monotonic() - started < 10, "the failure waited for a deadline"
    # Shared mode starts the backend again on demand; over HTTP the mock's session ended with its
    # process, so the proxy starts a new session. Per-client over stdio would end the session.
    deadline = time.monotonic() + 20
    while True:
        again = mcp.call_tool("echo", {"text": "again"})
        if "result" in again or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert text_of(again) == "again", again


@pytest.mark.spec("2025-11-25 basic/utilities/cancellation")
@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_backend_that_hangs_gets_a_timeout_error(start_proxy, start_mock_http,
                                                   mock_server_bin, http, transport):
    """2025-11-25 basic/lifecycle: Timeouts (the sender SHOULD issue a cancellation and stop
    waiting): a backend that stops answering gives the call a timeout error near its deadline."""
    # 3 s: the timeout also bounds initialize, which takes over a second on a loaded machine.
    proxy = start_proxy(backend_config(start_mock_http, mock_server_bin, transport,
                                       "--hang-after", "1", timeout="3s"))
    mcp = session(proxy, http, "b")
    assert text_of(mcp.call_tool("echo", {"text": "ok"})) == "ok"
    started = time.monotonic()
    hung = mcp.call_tool("echo", {"text": "never"})
    elapsed = time.monotonic() - started
    assert hung["error"]["code"] == REQUEST_TIMEOUT, hung
    assert 2.9 <= elapsed < 15, elapsed


@pytest.mark.spec("2025-11-25 basic/transports#stdio")
def test_garbage_lines_from_a_stdio_backend_are_skipped(start_proxy, mock_server_bin, http):
    """2025-11-25 basic/transports: stdio (the server MUST NOT write anything to stdout that is
    not a valid MCP message). A backend that does anyway loses nothing else: every answer still
    arrives, and the proxy logs the bad lines, oversized ones included."""
    proxy = start_proxy(mock_config(mock_server_bin, b={
        "args": ["--garbage-every", "2", "--garbage-bytes", "300000"]}))
    mcp = session(proxy, http, "b")
    for i in range(6):
        assert text_of(mcp.call_tool("echo", {"text": f"g{i}"})) == f"g{i}"
    assert "not JSON-RPC" in proxy.output()


@pytest.mark.spec("2025-11-25 basic#requests")
@pytest.mark.parametrize("transport", TRANSPORTS)
def test_concurrent_calls_with_random_latency_get_their_own_answers(
        start_proxy, start_mock_http, mock_server_bin, http, transport):
    """2025-11-25 basic: Requests (responses carry the id of their request). Calls answered out
    of order by a backend with random latency each get their own answer."""
    proxy = start_proxy(backend_config(start_mock_http, mock_server_bin, transport,
                                       "--latency-ms", "20-200"))
    mcp = session(proxy, http, "b")
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda i: text_of(mcp.call_tool("echo", {"text": f"c{i}"})),
                                range(16)))
    assert answers == [f"c{i}" for i in range(16)]


@pytest.mark.spec("2025-11-25 basic/transports#resumability-and-redelivery")
def test_a_response_stream_cut_before_the_response_is_resumed(start_proxy, start_mock_http,
                                                               http):
    """2025-11-25 basic/transports: Resumability and Redelivery, on both sides of the proxy.
    The backend (the mock, served by the proxy's own HTTP server: event ids, priming) cuts its
    answer stream after the first progress event; the proxy resumes it with GET and
    Last-Event-ID, and the client gets every progress event once, then the response. (A stream
    without event ids cannot be resumed: test_http_backend_faults.py covers that.)"""
    mock = start_mock_http("--drop-after-events", "1")
    proxy = start_proxy({"mcpProxy": {"addr": "127.0.0.1:0"},
                         "mcpServers": {"b": {"url": mock.url("mcp"), "timeout": "30s"}}})
    mcp = session(proxy, http, "b")
    started = time.monotonic()
    reply = mcp.post({"jsonrpc": "2.0", "id": 7, "method": "tools/call",
                      "params": {"name": "progress", "arguments": {"steps": 3},
                                 "_meta": {"progressToken": "p"}}})
    progress = [m for m in reply.messages if m.get("method") == "notifications/progress"]
    assert [p["params"]["progress"] for p in progress] == [1, 2, 3]
    assert text_of(reply.response_to(7)) == "done 3 steps"
    assert time.monotonic() - started < 10
    assert text_of(mcp.call_tool("echo", {"text": "after"})) == "after"


@pytest.mark.spec("2025-11-25 basic/utilities/progress")
def test_a_slow_drip_stream_arrives_whole(start_proxy, start_mock_http, http):
    """2025-11-25 basic/utilities/progress: a backend that writes its event stream a few bytes at
    a time still delivers every progress notification, in order, then the response."""
    mock = start_mock_http("--drip-ms", "1")
    proxy = start_proxy({"mcpProxy": {"addr": "127.0.0.1:0"},
                         "mcpServers": {"b": {"url": mock.url("mcp"), "timeout": "30s"}}})
    mcp = session(proxy, http, "b")
    reply = mcp.post({"jsonrpc": "2.0", "id": 8, "method": "tools/call",
                      "params": {"name": "progress", "arguments": {"steps": 4},
                                 "_meta": {"progressToken": "d"}}})
    progress = [m["params"]["progress"] for m in reply.messages
                if m.get("method") == "notifications/progress"]
    assert progress == [1, 2, 3, 4]
    assert text_of(reply.response_to(8)) == "done 4 steps"


@pytest.mark.spec("2025-11-25 basic/transports#listening-for-messages-from-the-server")
@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_backend_notification_of_its_own_reaches_the_clients_get_stream(
        start_proxy, start_mock_http, mock_server_bin, http, transport):
    """2025-11-25 basic/transports: Listening for Messages from the Server, on both hops: the
    mock announces notifications/tools/list_changed after answering change_tools (not tied to
    the call), which the proxy receives on its GET stream to an HTTP backend (or stdout) and
    relays on the client's GET stream."""
    proxy = start_proxy(backend_config(start_mock_http, mock_server_bin, transport))
    mcp = session(proxy, http, "b")
    seen = threading.Event()
    opened = threading.Event()

    def listen():
        headers = mcp.headers(extra={"Accept": "text/event-stream"})
        with httpx.Client(timeout=httpx.Timeout(HTTP_TIMEOUT_S, read=20.0)) as h:
            with h.stream("GET", mcp.url, headers=headers) as r:
                assert r.status_code == 200
                opened.set()
                for line in r.iter_lines():
                    if "notifications/tools/list_changed" in line:
                        seen.set()
                        return

    reader = threading.Thread(target=listen, daemon=True)
    reader.start()
    assert opened.wait(HTTP_TIMEOUT_S), "the GET stream did not open"
    assert text_of(mcp.call_tool("change_tools")) == "changed"
    assert seen.wait(15), "list_changed did not reach the client's GET stream"
    mcp.delete()  # ends the session, and with it the GET stream
    reader.join(STOP_TIMEOUT_S)


@pytest.mark.spec("2025-11-25 basic/transports#backwards-compatibility")
@pytest.mark.parametrize("kind", ["mcp", "sse/"])
def test_a_url_without_transport_is_detected(start_proxy, start_mock_http, http, kind):
    """2025-11-25 basic/transports: Backwards Compatibility. With no transportType, the proxy
    POSTs initialize; a Streamable HTTP server answers it, a legacy one refuses it (405 here) and
    the proxy then opens the legacy event stream at the same URL. `sse/` keeps the path from
    ending in /sse, which would name the legacy transport without a probe."""
    mock = start_mock_http()
    proxy = start_proxy({"mcpProxy": {"addr": "127.0.0.1:0"},
                         "mcpServers": {"b": {"url": mock.url(kind), "timeout": "30s"}}})
    mcp = session(proxy, http, "b")
    assert text_of(mcp.call_tool("echo", {"text": kind})) == kind
    fell_back = "trying the legacy SSE transport" in proxy.output()
    assert fell_back == (kind == "sse/"), proxy.output()


def test_the_path_of_base_url_prefixes_every_route(start_proxy, mock_server_bin, http):
    """mcp-proxy (as TBXark/mcp-proxy): behind a reverse proxy, baseURL's path prefixes the
    routes, and legacy SSE clients are sent absolute endpoint URLs under baseURL."""
    config = mock_config(mock_server_bin)
    config["mcpProxy"]["baseURL"] = "https://proxy.example.com/tools/"
    proxy = start_proxy(config)
    prefixed = McpClient(f"{proxy.base_url}/tools/mock/mcp", http).open_session()
    assert text_of(prefixed.call_tool("echo", {"text": "prefixed"})) == "prefixed"
    assert http.post(proxy.url("mock"), json={}).status_code == 404
    assert http.get(f"{proxy.base_url}/tools/health").json() == {"status": "ok"}
    with http.stream("GET", f"{proxy.base_url}/tools/mock/sse",
                     headers={"Accept": "text/event-stream"}) as r:
        assert r.status_code == 200
        endpoint = None
        for line in r.iter_lines():
            if line.startswith("data: "):
                endpoint = line[len("data: "):]
                break
    assert endpoint and endpoint.startswith(
        "https://proxy.example.com/tools/mock/message?sessionId="), endpoint


@pytest.mark.spec("2025-11-25 server/resources#subscriptions")
def test_a_subscription_the_backend_refuses_is_not_counted(start_proxy, mock_server_bin, http):
    """2025-11-25 server/resources: Subscriptions. In shared mode the proxy forwards only the
    first subscribe of a URI; when the backend refuses it (the plain mock has no resources:
    -32601), the session is not a subscriber, so asking again is forwarded again instead of
    being answered "subscribed" by the proxy."""
    proxy = start_proxy(mock_config(mock_server_bin, b={}))
    a, b = session(proxy, http, "b"), session(proxy, http, "b")
    for client in (a, a, b):
        refused = client.request("resources/subscribe", {"uri": "mock://nothing"})
        assert refused.get("error", {}).get("code") == -32601, refused


@pytest.mark.spec("2025-11-25 basic/security_best_practices")
def test_a_host_header_naming_another_server_is_refused(start_proxy, mock_server_bin, http):
    """DNS rebinding (2025-11-25 basic/transports, security warning): a page on a rebound name
    reaches a loopback server with that name as Host, even without an Origin. The proxy on
    loopback answers 403 unless the host is loopback or listed in allowedHosts."""
    config = mock_config(mock_server_bin)
    config["mcpProxy"]["allowedHosts"] = ["mcp.internal"]
    proxy = start_proxy(config)
    body = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
    for host, status in (("evil.example.com", 403), ("evil.example.com:80", 403),
                         ("mcp.internal:9090", 400), (f"localhost:{proxy.port}", 400)):
        r = http.post(proxy.url("mock"), json=body, headers={
            "Host": host, "Accept": "application/json, text/event-stream"})
        # 400: past the host check, refused for the missing session (the next rule).
        assert r.status_code == status, (host, r.status_code, r.text)
    assert http.get(f"{proxy.base_url}/health", headers={"Host": "evil.example.com"}).status_code \
        == 200, "health checks (load balancers) are not MCP endpoints"


@pytest.mark.spec("2025-11-25 server/utilities/logging")
def test_each_client_of_a_shared_backend_gets_its_own_log_level(start_proxy, mock_server_bin,
                                                                 http):
    """2025-11-25 server/utilities/logging: a client's logging/setLevel sets the minimum level of
    the messages *it* receives. Over one shared backend, client A at `error` gets none of the
    fixture's `info` messages while client B at `debug` gets them all; when B leaves, the backend
    is told the most verbose level still wanted."""
    proxy = start_proxy(mock_config(mock_server_bin, b={"args": ["--fixture", "conformance"]}))
    a, b = session(proxy, http, "b"), session(proxy, http, "b")
    assert "result" in a.request("logging/setLevel", {"level": "error"})
    assert "result" in b.request("logging/setLevel", {"level": "debug"})
    bad = a.request("logging/setLevel", {"level": "loud"})
    assert bad["error"]["code"] == INVALID_PARAMS, bad

    def logs_of(client):
        reply = client.post({"jsonrpc": "2.0", "id": client.next_id(), "method": "tools/call",
                             "params": {"name": "test_tool_with_logging", "arguments": {}}})
        return [m["params"]["level"] for m in reply.messages
                if m.get("method") == "notifications/message"]

    c = session(proxy, http, "b")  # sets no level: gets what the backend sends
    assert logs_of(b) == ["info", "info", "info"]
    assert logs_of(a) == []
    assert logs_of(c) == ["info", "info", "info"], "the backend logs at B's level"
    assert b.delete().status_code == 200
    assert logs_of(a) == []
    assert logs_of(c) == [], "after B left, the backend was set to A's level"


@pytest.mark.parametrize("mode", ["per-client", "shared"])
def test_a_backend_that_never_answers_initialize_gets_the_timeout_code(start_proxy,
                                                                      mock_server_bin, http,
                                                                      mode):
    """A backend that never answers initialize: the client's initialize gets -32001, the code the
    README gives timeouts (not -32000, the code for a backend that is down), with a message that
    says so (issue #15 point 9; the cause is carried as transport::link_error::timed_out)."""
    proxy = start_proxy(mock_config(mock_server_bin,
                                    b={"args": ["--mute"], "sessionMode": mode,
                                       "timeout": "1s"}))
    reply = McpClient(proxy.url("b"), http).initialize()
    assert reply.status == 200, (reply.status, reply.body[:300])
    error = reply.json().get("error")
    assert error and error["code"] == REQUEST_TIMEOUT, reply.json()
    assert "no answer to initialize within 1000 ms" in error["message"], error
