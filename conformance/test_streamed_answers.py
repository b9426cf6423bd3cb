"""Long answers passed on as they arrive (issue #18, item 5c).

A Streamable HTTP backend that answers a POST with an event stream may send a large result as
one long event. The proxy passes such an answer on to a client that takes it as JSON while the
event is still arriving (a chunked body: its head with the client's id, then the rest as it
comes), instead of holding all of it first. A cut answer must reach the client as a failed call,
never as a shorter one; a client that takes the answer on an event stream gets it whole.

The backend is the mock over HTTP with --event-stream-answers (an event stream for every answer,
as the TypeScript SDK's servers send) and --hold-after-bytes N: it writes N bytes of a long event,
then waits for the test's file before the rest (or, with no file named, cuts the connection
there). So "while the backend is still writing" is a fact the test controls, not a timing.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Iterator

import httpx
import pytest

from conftest import HTTP_TIMEOUT_S, McpClient, text_of, wait_until

ANSWER_BYTES = 1_000_000  # the tool's text: the event is a little longer
HELD_AFTER = 200_000  # what the backend writes of the event before it waits


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=HTTP_TIMEOUT_S) as client:
        yield client


def proxy_before(start_proxy, start_mock_http, *mock_args: str):
    mock = start_mock_http("--event-stream-answers", *mock_args)
    return start_proxy({"mcpProxy": {"addr": "127.0.0.1:0"},
                        "mcpServers": {"b": {"url": mock.url("mcp"),
                                             "transportType": "streamable-http",
                                             "timeout": "30s"}}})


def big_call(request_id: int, **meta) -> bytes:
    params = {"name": "big", "arguments": {"bytes": ANSWER_BYTES}}
    if meta:
        params["_meta"] = meta
    return json.dumps({"jsonrpc": "2.0", "id": request_id, "method": "tools/call",
                       "params": params}).encode()


@pytest.mark.spec("2025-11-25 basic/transports#sending-messages-to-the-server")
def test_a_long_answer_reaches_the_client_while_the_backend_still_writes_it(
        start_proxy, start_mock_http, http, tmp_path: Path):
    gate = tmp_path / "release"
    proxy = proxy_before(start_proxy, start_mock_http,
                         "--hold-after-bytes", str(HELD_AFTER), "--hold-until", str(gate))
    mcp = McpClient(proxy.url("b"), http).open_session()
    with http.stream("POST", mcp.url, content=big_call(41), headers=mcp.headers()) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("application/json")
        assert "content-length" not in r.headers  # sized as it goes: chunked
        received = b""
        chunks = r.iter_raw()
        # The backend holds after HELD_AFTER bytes of its event until `gate` exists: whatever
        # arrives now was passed on before the backend finished its answer.
        for chunk in chunks:
            received += chunk
            if len(received) >= HELD_AFTER // 2:
                break
        assert not gate.exists()
        assert HELD_AFTER // 2 <= len(received) < ANSWER_BYTES
        # The head carries this client's id, spliced in (the backend saw another one).
        assert b'"id":41,' in received[:100], received[:100]
        gate.touch()
        for chunk in chunks:
            received += chunk
    answer = json.loads(received)
    assert answer["id"] == 41 and answer["jsonrpc"] == "2.0"
    assert text_of(answer) == "x" * ANSWER_BYTES
    # The connection and the session go on.
    assert text_of(mcp.call_tool("echo", {"text": "after"})) == "after"


@pytest.mark.spec("2025-11-25 basic/transports#sending-messages-to-the-server")
def test_an_answer_cut_midway_fails_the_call_at_the_client(start_proxy, start_mock_http, http):
    """The backend closes its connection after HELD_AFTER bytes of the event: the client has had
    the start of the answer, so the proxy ends the response unfinished (no last chunk) rather
    than let a shorter answer pass for the whole one."""
    proxy = proxy_before(start_proxy, start_mock_http, "--hold-after-bytes", str(HELD_AFTER))
    mcp = McpClient(proxy.url("b"), http).open_session()
    received = b""
    with pytest.raises(httpx.TransportError):
        with http.stream("POST", mcp.url, content=big_call(42), headers=mcp.headers()) as r:
            assert r.status_code == 200
            for chunk in r.iter_raw():
                received += chunk
    assert 0 < len(received) < ANSWER_BYTES
    cut_logged = "backend b: an answer passed on as it came was cut"
    assert wait_until(lambda: cut_logged in proxy.output()), proxy.output()[-2000:]
    # The next call works.
    assert text_of(mcp.call_tool("echo", {"text": "after"})) == "after"


@pytest.mark.spec("2025-11-25 basic/transports#sending-messages-to-the-server")
def test_a_client_on_an_event_stream_gets_the_long_answer_whole(
        start_proxy, start_mock_http, http, tmp_path: Path):
    """With a progress token the mock sends a progress step first, so the proxy answers this
    client with an event stream: the long answer, passed on by the link as it arrived, is
    gathered whole before it is written as one event."""
    gate = tmp_path / "release"
    proxy = proxy_before(start_proxy, start_mock_http,
                         "--hold-after-bytes", str(HELD_AFTER), "--hold-until", str(gate))
    mcp = McpClient(proxy.url("b"), http).open_session()
    # Released a moment after the call starts, so that the proxy has only part of the event
    # for a while (the answer is the same either way).
    release = threading.Timer(0.3, gate.touch)
    release.start()
    try:
        reply = mcp.post(json.loads(big_call(43, progressToken="p")))
    finally:
        release.cancel()
    assert reply.content_type.startswith("text/event-stream")
    assert [m["method"] for m in reply.messages if "method" in m] == ["notifications/progress"]
    assert text_of(reply.response_to(43)) == "x" * ANSWER_BYTES


@pytest.mark.spec("2025-11-25 basic/transports#sending-messages-to-the-server")
def test_a_short_answer_is_still_written_whole(start_proxy, start_mock_http, http):
    """Below the size at which it is passed on, an answer on an event stream goes as before: a
    JSON body with its length."""
    proxy = proxy_before(start_proxy, start_mock_http)
    mcp = McpClient(proxy.url("b"), http).open_session()
    reply = mcp.post({"jsonrpc": "2.0", "id": 44, "method": "tools/call",
                      "params": {"name": "big", "arguments": {"bytes": 1000}}})
    assert reply.content_type.startswith("application/json")
    assert int(reply.headers["content-length"]) == len(reply.body)
    assert text_of(reply.response_to(44)) == "x" * 1000
