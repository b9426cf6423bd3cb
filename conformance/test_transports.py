"""Transport rules of stdio and of HTTP+SSE (2024-11-05), checked on the server under test.

Each test runs only when the target speaks its transport (--cmd or the default mock: stdio;
--sse-url: HTTP+SSE) and skips otherwise. The Streamable HTTP rules (status codes, headers,
sessions) are in test_proxy_smoke.py and run with --url or against the proxy.
"""

from __future__ import annotations

import subprocess
import time

import httpx
import pytest

from mcp_session import STOP_TIMEOUT_S
from spec_report import skip_not_applicable

spec = pytest.mark.spec

BAD_ORIGIN = "https://evil.example"


def require_transport(target, transport: str) -> None:
    if target.transport != transport:
        skip_not_applicable(f"{transport} only: the server under test speaks "
                            f"{target.transport} ({target.option_hint()})")


def exercise(session) -> None:
    """A little of everything a session does: list, ping, an unknown method, a tool call."""
    session.request("ping")
    session.request("conformance/no-such-method")
    if "tools" in session.server_capabilities:
        tools = session.result("tools/list").get("tools") or []
        no_argument_tools = [t for t in tools
                             if not (t.get("inputSchema") or {}).get("required")
                             and t.get("name") in ("test_simple_text", "get-tiny-image", "pid")]
        for tool in no_argument_tools[:1]:
            session.call_tool(tool["name"], {})


# ---------------------------------------------------------------------------------------------
# stdio


@spec("2025-11-25 basic/transports#stdio")
def test_stdio_stdout_carries_only_mcp_messages(connect, mcp_target):
    """The server MUST NOT write anything to its stdout that is not a valid MCP message;
    messages are delimited by newlines and MUST NOT contain embedded newlines (a message split
    over lines would show up here as lines that are not JSON)."""
    require_transport(mcp_target, "stdio")
    s = connect()
    s.open()
    exercise(s)
    time.sleep(0.3)
    s.close()
    assert not s.transport_problems, "\n".join(s.transport_problems)
    not_jsonrpc = [m for m in s.received if m.get("jsonrpc") != "2.0"]
    assert not not_jsonrpc, f"stdout messages without jsonrpc 2.0: {not_jsonrpc[:3]}"


@spec("2025-11-25 basic/lifecycle#stdio", level="SHOULD")
def test_stdio_server_exits_when_its_stdin_closes(connect, mcp_target):
    """Shutdown: the client closes the server's input stream and waits for it to exit, and
    sends SIGTERM only if it does not exit within a reasonable time."""
    require_transport(mcp_target, "stdio")
    s = connect()
    s.open()
    s.request("ping")
    s.close_stdin()
    try:
        s.proc.wait(STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        pass  # judged below; the fixture then stops it with SIGTERM
    assert s.proc.poll() is not None, (f"pid {s.pid} still runs {STOP_TIMEOUT_S} s after its "
                                       "stdin was closed")


# ---------------------------------------------------------------------------------------------
# HTTP+SSE (2024-11-05)


@spec("2024-11-05 basic/transports#http-with-sse")
def test_sse_first_event_is_endpoint(connect, mcp_target):
    """When a client connects, the server MUST send an endpoint event containing a URI for the
    client to use for sending messages (the stream is text/event-stream)."""
    require_transport(mcp_target, "sse")
    s = connect()
    assert s.stream_status == 200
    assert (s.stream_content_type or "").startswith("text/event-stream"), s.stream_content_type
    assert s.events and s.events[0].event == "endpoint", s.events[:1]
    assert s.events[0].data.strip(), "the endpoint event carries no URI"
    assert s.endpoint_url, s.transport_problems


@spec("2024-11-05 basic/transports#http-with-sse (message events)")
def test_sse_server_messages_are_message_events(connect, mcp_target):
    """Server messages are sent as SSE `message` events with the JSON message in the data;
    client messages are POSTed to the endpoint (and accepted: 2xx)."""
    require_transport(mcp_target, "sse")
    s = connect()
    s.open()
    exercise(s)
    time.sleep(0.3)
    assert not s.transport_problems, "\n".join(s.transport_problems)
    assert [e.event for e in s.events[1:]] == ["message"] * (len(s.events) - 1)
    refused = [code for code in s.post_statuses if not 200 <= code < 300]
    assert not refused, f"POSTs of valid messages refused: {s.post_statuses}"


@spec("2024-11-05 basic/transports#security-warning")
def test_sse_bad_origin_is_refused(mcp_target):
    """Servers MUST validate the Origin header on all incoming connections (DNS rebinding): a
    connection from a foreign web origin gets no stream."""
    require_transport(mcp_target, "sse")
    with httpx.Client(timeout=10.0, trust_env=False) as http:
        with http.stream("GET", mcp_target.address,
                         headers={"Accept": "text/event-stream", "Origin": BAD_ORIGIN}) as r:
            status = r.status_code  # headers only; the stream is closed unread
    assert 400 <= status < 500, f"GET with Origin {BAD_ORIGIN} got HTTP {status}"

