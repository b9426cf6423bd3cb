"""Smoke conformance of mcp-proxy's Streamable HTTP endpoint, from a Python client.

Tests that use only `endpoint`, `mcp_client` and `mcp` check the MCP spec against whatever
endpoint the `endpoint` fixture names; tests that use `proxy` or `start_proxy` check the proxy
itself (backend crash, session modes, health). Spec citations are to the public repository
modelcontextprotocol/modelcontextprotocol, docs/specification/2025-11-25/.
"""

from __future__ import annotations

import json
import socket
import time
from urllib.parse import urlsplit

import pytest

from conftest import (LATEST_PROTOCOL_VERSION, NEGOTIABLE_VERSIONS, McpClient, mock_config,
                      process_exists, text_of, wait_until)

JSON_RPC_PARSE_ERROR = -32700
JSON_RPC_INVALID_REQUEST = -32600


def request(rid, method, params=None):
    msg = {"jsonrpc": "2.0", "id": rid, "method": method}
    if params is not None:
        msg["params"] = params
    return msg


def assert_error_body(reply, code=None):
    """An error body, when present, is a JSON-RPC error response (2025-11-25 basic: Responses)."""
    if not reply.body:
        return
    assert reply.content_type.startswith("application/json"), reply.content_type
    body = reply.json()
    assert body.get("jsonrpc") == "2.0" and "error" in body, body
    assert isinstance(body["error"].get("code"), int), body
    if code is not None:
        assert body["error"]["code"] == code, body


# ---------------------------------------------------------------------------------------------
# Lifecycle and sessions


@pytest.mark.spec("2025-11-25 basic/transports#session-management")
@pytest.mark.spec("2025-11-25 basic/lifecycle#initialization")
def test_initialize_returns_a_visible_ascii_session_id(mcp_client):
    """2025-11-25 basic/transports: Session Management (the id is visible ASCII, 0x21-0x7E,
    assigned in the HTTP response that carries the InitializeResult); basic/lifecycle:
    Initialization (result has protocolVersion, capabilities, serverInfo)."""
    client = mcp_client()
    reply = client.initialize(request_id="init-1")
    assert reply.status == 200
    assert reply.content_type.startswith(("application/json", "text/event-stream"))
    sid = reply.headers.get("mcp-session-id")
    assert sid, "no Mcp-Session-Id on the InitializeResult"
    assert all(0x21 <= ord(c) <= 0x7E for c in sid), repr(sid)
    result = reply.response_to("init-1")["result"]
    assert result["protocolVersion"] == LATEST_PROTOCOL_VERSION
    assert isinstance(result["capabilities"], dict) and "tools" in result["capabilities"]
    assert isinstance(result["serverInfo"]["name"], str) and result["serverInfo"]["name"]
    assert isinstance(result["serverInfo"]["version"], str)


@pytest.mark.spec("2025-11-25 basic/transports#session-management (unique id)", level="SHOULD")
def test_each_initialize_gets_its_own_session_id(mcp_client):
    """2025-11-25 basic/transports: Session Management (the session ID SHOULD be globally
    unique and cryptographically secure)."""
    ids = set()
    for _ in range(5):
        client = mcp_client()
        assert client.initialize().status == 200
        ids.add(client.session_id)
    assert len(ids) == 5


@pytest.mark.spec("2025-11-25 basic/lifecycle#version-negotiation")
@pytest.mark.parametrize("version", NEGOTIABLE_VERSIONS)
def test_supported_requested_version_is_echoed(mcp_client, version):
    """2025-11-25 basic/lifecycle: Version Negotiation (if the server supports the requested
    version, it MUST respond with the same version)."""
    client = mcp_client()
    reply = client.initialize(version, request_id=1)
    assert reply.status == 200
    assert reply.response_to(1)["result"]["protocolVersion"] == version


@pytest.mark.spec("2025-11-25 basic/lifecycle#version-negotiation (latest)", level="SHOULD")
def test_unsupported_requested_version_is_answered_with_the_latest(mcp_client):
    """2025-11-25 basic/lifecycle: Version Negotiation (otherwise the server MUST respond with
    another version it supports, which SHOULD be the latest)."""
    client = mcp_client()
    reply = client.initialize("1999-01-01", request_id=1)
    assert reply.status == 200
    assert reply.response_to(1)["result"]["protocolVersion"] == LATEST_PROTOCOL_VERSION


@pytest.mark.spec(
    "2025-11-25 basic/transports#sending-messages-to-the-server (202 for notifications)")
def test_initialized_notification_gets_202_with_no_body(mcp_client):
    """2025-11-25 basic/transports: Sending Messages to the Server (for a notification the
    server MUST return 202 Accepted with no body); basic/lifecycle: Initialization."""
    client = mcp_client()
    assert client.initialize().status == 200
    reply = client.notify("notifications/initialized")
    assert reply.status == 202
    assert reply.body == b""


@pytest.mark.spec("2025-11-25 basic/utilities/ping#behavior-requirements")
def test_ping_is_answered_with_an_empty_result(mcp):
    """2025-11-25 basic/utilities/ping: Behavior Requirements (the receiver MUST respond
    promptly with an empty response)."""
    response = mcp.request("ping", request_id="p-1")
    assert response == {"jsonrpc": "2.0", "id": "p-1", "result": {}}


# ---------------------------------------------------------------------------------------------
# Tools


@pytest.mark.spec("2025-11-25 server/tools#listing-tools")
def test_tools_list_names_the_tools(mcp, endpoint):
    """2025-11-25 server/tools: Listing Tools (result.tools, each with name and inputSchema);
    basic: Responses (the response has the request's id)."""
    response = mcp.request("tools/list", request_id="list-1")
    assert response["id"] == "list-1"
    tools = list(response["result"]["tools"])
    # The named tools may be on a later page (server/utilities/pagination): follow nextCursor.
    cursor = response["result"].get("nextCursor")
    for _ in range(50):
        if not cursor:
            break
        page = mcp.request("tools/list", {"cursor": cursor})["result"]
        tools += page["tools"]
        cursor = page.get("nextCursor")
    assert not cursor, "tools/list: still a nextCursor after 50 pages"
    names = [t["name"] for t in tools]
    if endpoint.echo:
        assert endpoint.echo.name in names
    if endpoint.add:
        assert endpoint.add.name in names
    for t in tools:
        assert t["inputSchema"]["type"] == "object", t


@pytest.mark.spec("2025-11-25 server/tools#calling-tools")
def test_tools_call_echo_returns_the_text(mcp, endpoint):
    """2025-11-25 server/tools: Calling Tools (result.content holds the tool's output)."""
    if endpoint.echo is None:
        pytest.skip("no echo tool named for this server (--echo-tool)")
    response = mcp.call_tool(endpoint.echo.name, endpoint.echo.arguments, request_id="x-1")
    assert response["id"] == "x-1"
    assert response["result"].get("isError", False) is False
    assert text_of(response) == endpoint.echo.expect_text


@pytest.mark.spec("2025-11-25 server/tools#structured-content (structuredContent field)")
def test_tools_call_with_structured_output(mcp, endpoint):
    """2025-11-25 server/tools: Structured Content (structuredContent, with the same data
    serialized in a text block for compatibility)."""
    if endpoint.add is None:
        pytest.skip("the endpoint under test names no structured-output tool")
    response = mcp.call_tool(endpoint.add.name, endpoint.add.arguments, request_id=99)
    assert response["id"] == 99
    assert text_of(response) == endpoint.add.expect_text
    assert response["result"]["structuredContent"] == endpoint.add.expect_structured


@pytest.mark.spec("2025-11-25 basic/utilities/progress#progress-flow")
@pytest.mark.spec("2025-11-25 basic/transports#sending-messages-to-the-server (SSE answer)")
@pytest.mark.parametrize("token", ["progress-token-1", 12345], ids=["string-token", "int-token"])
def test_progress_arrives_on_sse_with_the_clients_token(mcp, endpoint, token):
    """2025-11-25 basic/utilities/progress: Progress Flow (notifications carry the request's
    progressToken; progress increases); basic/transports: Sending Messages to the Server (the
    server may answer a POST with text/event-stream carrying related messages, then the
    response)."""
    if endpoint.progress is None:
        pytest.skip("the endpoint under test names no progress tool")
    case = endpoint.progress(3)
    rid = mcp.next_id()
    reply = mcp.post(request(rid, "tools/call", {"name": case.name, "arguments": case.arguments,
                                                 "_meta": {"progressToken": token}}))
    assert reply.status == 200
    assert reply.content_type.startswith("text/event-stream")
    progress = [m for m in reply.messages if m.get("method") == "notifications/progress"]
    if case.expect_text is None:  # a server's own progress tool (--progress-tool)
        assert progress, reply.messages
    else:
        assert len(progress) == 3, reply.messages
    values = [p["params"]["progress"] for p in progress]
    for p in progress:
        assert p["params"]["progressToken"] == token
        assert type(p["params"]["progressToken"]) is type(token)
    assert values == sorted(values) and len(set(values)) == len(values), values
    final = reply.messages[-1]
    assert final["id"] == rid, "the response must come after the notifications"
    if case.expect_text is not None:
        assert text_of(final) == case.expect_text
    for ev in reply.sse_events:
        assert ev.event == "message", ev


# ---------------------------------------------------------------------------------------------
# Transport rules (status codes)


@pytest.mark.spec("2025-11-25 basic/transports#session-management (unknown id: 404)")
def test_unknown_session_gets_404(mcp_client):
    """2025-11-25 basic/transports: Session Management (a request with a session ID the server
    does not know MUST be answered with 404 Not Found)."""
    client = mcp_client()
    reply = client.post(request(1, "tools/list"), session="no-such-session",
                        headers={"MCP-Protocol-Version": LATEST_PROTOCOL_VERSION})
    assert reply.status == 404
    assert_error_body(reply)


@pytest.mark.spec("2025-11-25 basic/transports#session-management (missing id: 400)",
                  level="SHOULD")
def test_missing_session_gets_400(mcp):
    """2025-11-25 basic/transports: Session Management (servers that require a session ID
    SHOULD answer requests without it, other than initialization, with 400 Bad Request)."""
    reply = mcp.post(request(1, "tools/list"), session="")
    assert reply.status == 400
    assert_error_body(reply)


@pytest.mark.spec("2025-11-25 basic/transports#security-warning")
def test_bad_origin_gets_403_and_a_loopback_origin_is_allowed(mcp):
    """2025-11-25 basic/transports: Security Warning (servers MUST validate Origin; a present
    and invalid Origin MUST get 403 Forbidden)."""
    bad = mcp.post(request(1, "tools/list"), headers={"Origin": "https://evil.example"})
    assert bad.status == 403
    assert_error_body(bad)
    good = mcp.post(request(2, "tools/list"), headers={"Origin": "http://localhost:6274"})
    assert good.status == 200
    good.response_to(2)


@pytest.mark.spec("2025-11-25 basic/transports#protocol-version-header")
def test_unsupported_protocol_version_header_gets_400(mcp):
    """2025-11-25 basic/transports: Protocol Version Header (an invalid or unsupported
    MCP-Protocol-Version MUST get 400 Bad Request)."""
    reply = mcp.post(request(1, "tools/list"), headers={"MCP-Protocol-Version": "2099-01-01"})
    assert reply.status == 400
    assert_error_body(reply)


@pytest.mark.spec("2025-11-25 basic/transports#protocol-version-header")
def test_negotiated_protocol_version_header_is_accepted(mcp):
    """2025-11-25 basic/transports: Protocol Version Header (the client sends the negotiated
    version on every later request)."""
    assert mcp.protocol_version == LATEST_PROTOCOL_VERSION
    reply = mcp.post(request(1, "ping"), headers={"MCP-Protocol-Version": mcp.protocol_version})
    assert reply.status == 200
    assert reply.response_to(1)["result"] == {}


@pytest.mark.spec("2025-11-25 basic/transports#sending-messages-to-the-server (Accept)")
@pytest.mark.parametrize("accept", ["application/json", "text/event-stream", "text/html"])
def test_post_without_both_accept_types_gets_406(mcp, accept):
    """2025-11-25 basic/transports: Sending Messages to the Server (the client MUST list both
    application/json and text/event-stream in Accept); RFC 9110 section 15.5.7 (406)."""
    reply = mcp.post(request(1, "ping"), headers={"Accept": accept})
    assert reply.status == 406
    assert_error_body(reply)


@pytest.mark.spec("2025-11-25 basic/transports#sending-messages-to-the-server (Content-Type)",
                  level="SHOULD")
@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_post_with_wrong_content_type_gets_415(mcp, content_type):
    """2025-11-25 basic/transports: Sending Messages to the Server (the body is a single
    JSON-RPC message, i.e. application/json); RFC 9110 section 15.5.16 (415)."""
    reply = mcp.post(request(1, "ping"), headers={"Content-Type": content_type})
    assert reply.status == 415
    assert_error_body(reply)


@pytest.mark.spec("2025-11-25 basic/transports#sending-messages-to-the-server (bad input: 4xx)")
@pytest.mark.spec("jsonrpc-2.0 §5.1 (parse error)")
def test_invalid_json_gets_400_with_parse_error(mcp):
    """2025-11-25 basic/transports: Sending Messages to the Server (input the server cannot
    accept gets an HTTP error status, e.g. 400, and MAY carry a JSON-RPC error without id);
    JSON-RPC 2.0 section 5.1 (-32700 Parse error, id null)."""
    reply = mcp.post(raw=b'{"jsonrpc": "2.0", "id": 1, "method": ')
    assert reply.status == 400
    body = reply.json()
    assert body["error"]["code"] == JSON_RPC_PARSE_ERROR
    assert body.get("id") is None


@pytest.mark.spec("jsonrpc-2.0 §5.1 (invalid request)")
@pytest.mark.parametrize("message", [
    {"jsonrpc": "1.0", "id": 1, "method": "ping"},
    {"id": 1, "method": "ping"},
    {"jsonrpc": "2.0", "id": 1, "method": 42},
    {"jsonrpc": "2.0", "id": {"not": "allowed"}, "method": "ping"},
    [],
    "just a string",
], ids=["jsonrpc-1.0", "no-jsonrpc", "method-not-string", "id-object", "empty-array", "string"])
def test_invalid_request_gets_invalid_request_error(mcp, message):
    """JSON-RPC 2.0 section 4 and 5.1 (-32600 Invalid Request: jsonrpc MUST be exactly "2.0",
    method a string, id a string, number or null); 2025-11-25 basic: Requests (an id MUST be a
    string or integer); basic/transports: Sending Messages to the Server (400 for input the
    server cannot accept)."""
    reply = mcp.post(message)
    assert reply.status == 400
    assert reply.json()["error"]["code"] == JSON_RPC_INVALID_REQUEST


@pytest.mark.spec("2025-11-25 basic/transports#session-management (DELETE)")
def test_delete_ends_the_session_then_404(mcp):
    """2025-11-25 basic/transports: Session Management (DELETE with the session ID ends the
    session; later requests with that ID MUST get 404)."""
    assert mcp.request("ping")["result"] == {}
    deleted = mcp.delete()
    assert 200 <= deleted.status_code < 300, deleted
    reply = mcp.post(request(2, "ping"))
    assert reply.status == 404
    assert_error_body(reply)


@pytest.mark.spec("2025-11-25 basic/transports#session-management (unknown id: 404)")
def test_delete_of_unknown_session_gets_404(mcp_client):
    """2025-11-25 basic/transports: Session Management (an unknown session ID gets 404)."""
    client = mcp_client()
    assert client.delete(session="no-such-session").status_code == 404


@pytest.mark.spec("2025-11-25 basic/transports#listening-for-messages-from-the-server")
def test_get_opens_an_event_stream(mcp, http):
    """2025-11-25 basic/transports: Listening for Messages from the Server (a GET with Accept:
    text/event-stream is answered with Content-Type: text/event-stream, or 405)."""
    headers = mcp.headers(extra={"Accept": "text/event-stream"})
    del headers["Content-Type"]
    with http.stream("GET", mcp.url, headers=headers) as r:  # headers only; closed unread
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
    # The session survives the client closing its stream.
    assert mcp.request("ping")["result"] == {}


@pytest.mark.spec("2025-11-25 basic/transports#session-management (missing id: 400)",
                  level="SHOULD")
def test_get_without_session_gets_400(mcp_client, http):
    """2025-11-25 basic/transports: Session Management (requests other than initialization
    without a session ID SHOULD get 400)."""
    client = mcp_client()
    r = http.get(client.url, headers={"Accept": "text/event-stream"})
    assert r.status_code == 400


@pytest.mark.spec("rfc9110 §15.5.6 (405 with Allow)")
def test_put_gets_405_with_allow(mcp, http):
    """2025-11-25 basic/transports: Streamable HTTP (the endpoint supports POST and GET, and
    DELETE for sessions); RFC 9110 section 15.5.6 (405 MUST carry Allow)."""
    r = http.put(mcp.url, content=json.dumps(request(1, "ping")), headers=mcp.headers())
    assert r.status_code == 405
    allow = {m.strip().upper() for m in r.headers.get("allow", "").split(",")}
    assert {"GET", "POST"} <= allow, r.headers


def _raw_exchange(url: str, request_bytes: bytes, timeout_s: float = 10.0) -> bytes:
    """Sends raw bytes on a fresh connection (Connection: close) and reads until EOF, bounded."""
    u = urlsplit(url)
    deadline = time.monotonic() + timeout_s
    data = b""
    with socket.create_connection((u.hostname, u.port), timeout=timeout_s) as s:
        s.sendall(request_bytes)
        while time.monotonic() < deadline:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    return data


@pytest.mark.spec("rfc9110 §9.3.2 (HEAD has no content)")
def test_head_response_carries_no_body(endpoint):
    """RFC 9110 section 9.3.2 (the server MUST NOT send content in the response to HEAD);
    a body there corrupts the next response on a kept-alive connection. The MCP endpoint need
    not support HEAD (2025-11-25 basic/transports: Streamable HTTP names POST, GET, DELETE)."""
    path = urlsplit(endpoint.url).path
    raw = _raw_exchange(endpoint.url, f"HEAD {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                      "Connection: close\r\n\r\n".encode())
    head, sep, body = raw.partition(b"\r\n\r\n")
    assert sep, raw
    assert head.startswith(b"HTTP/1.1 "), raw
    assert body == b"", f"{len(body)} bytes of content after the HEAD response's headers"


@pytest.mark.spec("2025-03-26 basic/transports#sending-messages-to-the-server (batches)")
def test_batch_is_accepted_in_a_2025_03_26_session(mcp_client):
    """2025-03-26 basic/transports: Sending Messages to the Server (the POST body MUST be a
    single message or an array batching requests and/or notifications; the SSE or JSON answer
    carries one response per request, which MAY be batched). Batches exist only in 2025-03-26."""
    client = mcp_client()
    assert client.initialize("2025-03-26").status == 200
    assert client.protocol_version == "2025-03-26"
    reply = client.post([request("b-1", "ping"), request("b-2", "ping")])
    assert reply.status == 200, reply.body
    assert reply.response_to("b-1")["result"] == {}
    assert reply.response_to("b-2")["result"] == {}


@pytest.mark.spec("2025-06-18 changelog#major-changes (batching removed)")
def test_batch_is_rejected_in_a_2025_11_25_session(mcp_client):
    """2025-06-18 changelog: JSON-RPC batching removed; a 2025-11-25 POST body is one message."""
    client = mcp_client()
    assert client.initialize("2025-11-25").status == 200
    reply = client.post([request("b-1", "ping"), request("b-2", "ping")])
    assert reply.status == 400


# ---------------------------------------------------------------------------------------------
# Proxy-specific


def test_health_returns_ok(proxy, http):
    """mcp-proxy: GET /health (design: health and readiness endpoints), not an MCP endpoint."""
    r = http.get(proxy.base_url + "/health")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    assert r.json() == {"status": "ok"}


def test_unknown_route_gets_404(proxy, http):
    """mcp-proxy: only /{name}/mcp routes exist (2025-11-25 basic/transports: Streamable HTTP,
    one MCP endpoint per server)."""
    client = McpClient(proxy.url("nope"), http)
    assert client.initialize().status == 404


def _backend_pid(client: McpClient) -> int:
    return int(text_of(client.call_tool("pid")))


def test_backend_crash_mid_call_gives_an_error_and_the_proxy_stays_up(proxy, http):
    """2025-11-25 basic: Responses (every request gets a result or an error, even when the
    backend dies: the proxy answers in its place); basic/lifecycle: Shutdown (stdio: the server
    exited; the proxy reaps it) and basic/transports: Session Management (a new session works)."""
    client = McpClient(proxy.url("mock"), http).open_session()
    old_pid = _backend_pid(client)
    response = client.call_tool("crash", request_id="boom")
    assert response["id"] == "boom"
    assert "error" in response and "result" not in response, response
    assert isinstance(response["error"]["code"], int)
    assert wait_until(lambda: not process_exists(old_pid)), "crashed backend not reaped"
    assert http.get(proxy.base_url + "/health").status_code == 200
    again = McpClient(proxy.url("mock"), http).open_session()
    assert text_of(again.call_tool("echo", {"text": "back"})) == "back"
    assert _backend_pid(again) != old_pid


def test_shared_mode_sessions_share_one_backend(proxy, http):
    """mcp-proxy sessionMode "shared": all client sessions use one backend process."""
    a = McpClient(proxy.url("mock"), http).open_session()
    b = McpClient(proxy.url("mock"), http).open_session()
    assert a.session_id != b.session_id
    assert _backend_pid(a) == _backend_pid(b)


def test_per_client_mode_gives_each_session_its_own_backend(start_proxy, mock_server_bin, http):
    """mcp-proxy sessionMode "per-client": one backend per client session, stopped when the
    session ends (2025-11-25 basic/transports: Session Management, DELETE ends the session)."""
    p = start_proxy(mock_config(mock_server_bin, mock={"sessionMode": "per-client"}))
    a = McpClient(p.url("mock"), http).open_session()
    b = McpClient(p.url("mock"), http).open_session()
    pa, pb = _backend_pid(a), _backend_pid(b)
    assert pa != pb
    assert 200 <= a.delete().status_code < 300
    assert wait_until(lambda: not process_exists(pa)), "the ended session's backend still runs"
    assert process_exists(pb)
    assert text_of(b.call_tool("echo", {"text": "still here"})) == "still here"


def test_shared_backend_request_for_an_undeclared_capability_is_refused(start_proxy,
                                                                         mock_server_bin, http):
    """2025-11-25 client/sampling: clients that support sampling MUST declare the capability;
    mcp-proxy tells the shared backend it can relay sampling, so it refuses the backend's request
    on behalf of a client that did not declare it (the backend gets an error, never a guess)."""
    p = start_proxy(mock_config(mock_server_bin,
                                fixture={"args": ["--fixture", "conformance"]}))
    client = McpClient(p.url("fixture"), http)
    assert client.initialize(capabilities={}).status == 200  # no sampling declared
    client.notify("notifications/initialized")
    reply = client.call_tool("test_sampling", {"prompt": "hi"})
    assert reply["result"]["isError"] is True
    assert "did not declare the capability for sampling/createMessage" in text_of(reply)
