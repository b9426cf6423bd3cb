"""mcp-proxy's HTTP backends against faulty servers (fault_server.FaultServer).

Each test puts a FaultServer behind mcp-proxy, as a Streamable HTTP backend (spec 2025-11-25)
or a legacy HTTP+SSE backend (spec 2024-11-05), makes it misbehave (drop a stream mid-response,
expire its session, send a relative or foreign endpoint, answer slowly, speak garbage, vanish)
and checks what the proxy's client sees: a clear JSON-RPC error (or the right answer) well before
the call's deadline, the proxy alive (GET /health), and the next call working once the backend
behaves again. (A proxy bug found here becomes a strict xfail naming the cause until it is fixed;
the four found when the file was written are fixed.)

Proxy-specific: these tests skip when the suite runs against an external server (--url & co).
Spec citations (docstrings and @pytest.mark.spec) are to modelcontextprotocol/modelcontextprotocol,
docs/specification/VERSION/.
"""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

import httpx
import pytest

from conftest import McpClient, ProxyProcess, closed_port, mock_config, text_of, wait_until
from fault_server import FaultServer

spec = pytest.mark.spec

BACKEND_UNAVAILABLE = -32000  # mcp-proxy's error for a call its backend could not answer
REQUEST_TIMEOUT = -32001  # mcp-proxy's error for a call its backend did not answer in time

# A call that fails because of what the backend did must fail well before its deadline: the
# deadline is CALL_TIMEOUT, the error must come within PROMPT_S (ASan on a busy 2-core machine).
CALL_TIMEOUT = "10s"
PROMPT_S = 5.0
CLIENT_HTTP_TIMEOUT_S = 20.0
CUSTOM_HEADERS = {"X-Fault-Token": "t0k3n-for-the-backend",
                  "Authorization": "Bearer backend-secret"}


# ---------------------------------------------------------------------------------------------
# Fixtures and helpers


@pytest.fixture
def launch(fault_servers, start_proxy) -> Callable[..., ProxyProcess]:
    """conftest's start_proxy, set up after fault_servers so that it is torn down first (pytest
    tears fixtures down in reverse order): proxies stop while their backends still listen."""
    return start_proxy


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=CLIENT_HTTP_TIMEOUT_S, trust_env=False) as c:
        yield c


def proxy_config(**servers: dict) -> dict:
    return {"mcpProxy": {"addr": "127.0.0.1:0"}, "mcpServers": servers}


def streamable(url: str, **extra: Any) -> dict:
    return {"url": url, "transportType": "streamable-http", "timeout": CALL_TIMEOUT, **extra}


def legacy(url: str, **extra: Any) -> dict:
    return {"url": url, "transportType": "sse", "timeout": CALL_TIMEOUT, **extra}


def open_client(proxy: ProxyProcess, http: httpx.Client, server: str = "f") -> McpClient:
    return McpClient(proxy.url(server), http).open_session()


def call(client: McpClient, tool: str, text: str = "", progress_token: Any = None,
         headers: Optional[dict] = None) -> tuple[dict, list, float]:
    """tools/call through the proxy: (its response, every message received, seconds taken)."""
    rid = client.next_id()
    params: dict = {"name": tool, "arguments": {"text": text}}
    if progress_token is not None:
        params["_meta"] = {"progressToken": progress_token}
    t0 = time.monotonic()
    reply = client.post({"jsonrpc": "2.0", "id": rid, "method": "tools/call", "params": params},
                        headers=headers)
    elapsed = time.monotonic() - t0
    assert reply.status == 200, f"{tool}: HTTP {reply.status} {reply.body[:500]!r}"
    return reply.response_to(rid), reply.messages, elapsed


def assert_error(response: dict, code: int = BACKEND_UNAVAILABLE) -> str:
    """A JSON-RPC error response with `code` and a message; returns the message."""
    assert "error" in response, f"expected a JSON-RPC error, got {response}"
    err = response["error"]
    assert err["code"] == code, response
    assert isinstance(err.get("message"), str) and err["message"], response
    return err["message"]


def assert_prompt(elapsed: float, limit: float = PROMPT_S) -> None:
    assert elapsed < limit, f"the answer took {elapsed:.1f} s (limit {limit} s)"


def assert_echo_works(client: McpClient, text: str) -> None:
    response, _, _ = call(client, "echo", text)
    assert text_of(response) == f"echo: {text}", response


def assert_healthy(proxy: ProxyProcess, http: httpx.Client) -> None:
    assert proxy.proc.poll() is None, "mcp-proxy exited:\n" + proxy.output()[-4000:]
    r = http.get(f"{proxy.base_url}/health")
    assert r.status_code == 200 and r.json() == {"status": "ok"}, r.text


def progress_of(messages: list) -> list:
    return [m for m in messages
            if isinstance(m, dict) and m.get("method") == "notifications/progress"]


def resume_gets(fault: FaultServer) -> list:
    return [r for r in fault.snapshot() if r.method == "GET" and "last-event-id" in r.headers]


def stream_gets(fault: FaultServer) -> list:
    return [r for r in fault.snapshot() if r.method == "GET"]


def initialize_until_it_works(proxy: ProxyProcess, http: httpx.Client,
                              timeout_s: float) -> McpClient:
    """Client initializes, polled (bounded) until one gets a session, which is then completed
    with notifications/initialized."""
    opened: list[McpClient] = []

    def attempt() -> bool:
        c = McpClient(proxy.url("f"), http)
        reply = c.initialize()
        if reply.status == 200 and c.session_id:
            opened.append(c)
            return True
        return False

    assert wait_until(attempt, timeout_s=timeout_s, interval_s=0.2), proxy.output()[-3000:]
    assert opened[0].notify("notifications/initialized").status == 202
    return opened[0]


# ---------------------------------------------------------------------------------------------
# Streamable HTTP backend: streams that end early


@spec("2025-11-25 basic/transports#sending-messages-to-the-server (SSE answer via an HTTP backend)")
def test_streamable_sse_answer_with_progress_is_relayed(launch, fault_servers, http):
    """2025-11-25 basic/transports#sending-messages-to-the-server (a request may be answered
    with an SSE stream: related messages, then the response) and basic/utilities/progress. The
    well-behaved baseline of the stream faults below."""
    fault = fault_servers()
    proxy = launch(proxy_config(f=streamable(fault.mcp_url)))
    client = open_client(proxy, http)
    response, messages, _ = call(client, "progress_then_answer", "fine", progress_token="p-ok")
    assert text_of(response) == "progress_then_answer: fine"
    assert [p["params"]["progressToken"] for p in progress_of(messages)] == ["p-ok"], messages


@spec("2025-11-25 basic/transports#resumability-and-redelivery (stream without event ids dropped)")
def test_streamable_stream_dropped_without_event_ids_fails_promptly(launch, fault_servers, http):
    """2025-11-25 basic/transports#sending-messages-to-the-server and
    #resumability-and-redelivery: a stream that drops before the response and gave no event
    ids cannot be resumed, so the call gets a JSON-RPC error at once (not at its deadline),
    after the progress sent before the drop; the next call works."""
    fault = fault_servers()
    proxy = launch(proxy_config(f=streamable(fault.mcp_url)))
    client = open_client(proxy, http)
    response, messages, elapsed = call(client, "drop_after_progress", progress_token="p-drop")
    message = assert_error(response)
    assert_prompt(elapsed)
    assert "backend f" in message, message
    assert [p["params"]["progressToken"] for p in progress_of(messages)] == ["p-drop"], messages
    assert resume_gets(fault) == [], "no event id was given: nothing to resume from"
    assert_healthy(proxy, http)
    assert_echo_works(client, "after the drop")


@spec("2025-11-25 basic/transports#resumability-and-redelivery (GET with Last-Event-ID)",
      level="SHOULD")
@spec("2025-11-25 basic/transports#sending-messages-to-the-server (client respects retry)")
def test_streamable_stream_dropped_with_event_ids_is_resumed(launch, fault_servers, http):
    """2025-11-25 basic/transports#resumability-and-redelivery (the client resumes with a GET
    carrying Last-Event-ID, the last id it received; the server replays what followed, the
    response included), #sending-messages-to-the-server (the client MUST wait the `retry`
    delay before reconnecting) and #session-management (the GET carries Mcp-Session-Id)."""
    fault = fault_servers()
    fault.retry_ms = 300
    proxy = launch(proxy_config(f=streamable(fault.mcp_url)))
    client = open_client(proxy, http)
    response, messages, elapsed = call(client, "drop_resumable", "resumed", progress_token="p-res")
    assert text_of(response) == "drop_resumable: resumed", response
    assert_prompt(elapsed)
    assert [p["params"]["message"] for p in progress_of(messages)] == \
        ["before the drop", "after the drop"], messages
    post = [r for r in fault.rpc("tools/call") if r.tool == "drop_resumable"][0]
    resumes = resume_gets(fault)
    assert len(resumes) == 1, [r.headers for r in resumes]
    last_id = resumes[0].headers["last-event-id"]
    key = last_id.rpartition(":")[0]
    assert last_id == f"{key}:1", f"resumed from {last_id}, not from the last event received"
    assert resumes[0].headers.get("mcp-session-id") == post.headers.get("mcp-session-id")
    assert "text/event-stream" in resumes[0].headers.get("accept", "")
    waited = resumes[0].at - fault.dropped_at[key]
    assert waited >= 0.3 - 0.02, f"reconnected {waited * 1000:.0f} ms after the drop (retry: 300)"
    assert_echo_works(client, "after the resume")


@spec("2025-11-25 basic/transports#resumability-and-redelivery (resumption refused)")
def test_streamable_resume_refused_fails_the_call_promptly(launch, fault_servers, http):
    """2025-11-25 basic/transports#resumability-and-redelivery: when the GET that resumes a
    dropped stream is refused (here 400: the server no longer has that stream), the call gets
    a JSON-RPC error at once rather than at its deadline."""
    fault = fault_servers()
    proxy = launch(proxy_config(f=streamable(fault.mcp_url)))
    client = open_client(proxy, http)
    response, _, elapsed = call(client, "drop_unresumable", progress_token="p-gone")
    assert_error(response)
    assert_prompt(elapsed)
    assert len(resume_gets(fault)) == 1
    assert_healthy(proxy, http)
    assert_echo_works(client, "after a refused resume")


# ---------------------------------------------------------------------------------------------
# Streamable HTTP backend: sessions


@spec("2025-11-25 basic/transports#session-management (404: new session)")
def test_streamable_session_404_starts_a_new_session_and_the_call_goes_through(
        launch, fault_servers, http):
    """2025-11-25 basic/transports#session-management: a server answering 404 to a session id
    has ended that session (it did not process the request), and the client MUST start a new
    one with an initialize without a session id. The proxy (shared mode: it is the backend's
    client) does that and sends the refused call again on the new session, so an idle backend
    that dropped its sessions costs the client nothing (issue #15 point 11)."""
    fault = fault_servers()
    fault.expire_after_calls = 1
    proxy = launch(proxy_config(f=streamable(fault.mcp_url)))
    client = open_client(proxy, http)
    assert_echo_works(client, "first")
    response, _, elapsed = call(client, "echo", "second")
    assert text_of(response) == "echo: second", response
    assert_prompt(elapsed)
    fault.expire_after_calls = None
    assert_echo_works(client, "third")
    assert_healthy(proxy, http)
    inits = fault.rpc("initialize")
    assert len(inits) == 2, [r.target for r in inits]
    assert all("mcp-session-id" not in r.headers for r in inits)
    calls = fault.rpc("tools/call")
    assert [c.headers.get("mcp-session-id") for c in calls] == \
        ["fault-1", "fault-1", "fault-2", "fault-2"]
    assert [c.tool for c in calls] == ["echo"] * 4
    assert fault.count("notifications/initialized") == 2


def test_streamable_session_that_keeps_expiring_fails_the_call_promptly(launch, fault_servers,
                                                                         http):
    """A server that ends every new session at once is down, not idle: after a few new sessions
    in a row the call gets a JSON-RPC error (not a loop until its deadline), and once the
    server behaves the next call works."""
    fault = fault_servers()
    proxy = launch(proxy_config(f=streamable(fault.mcp_url)))
    client = open_client(proxy, http)
    assert_echo_works(client, "first")
    fault.expire_after_calls = 0
    response, _, elapsed = call(client, "echo", "refused")
    assert_error(response)
    assert_prompt(elapsed)
    assert 2 <= fault.count("initialize") <= 5, fault.count("initialize")
    fault.expire_after_calls = None
    assert_echo_works(client, "after")
    assert_healthy(proxy, http)


def test_a_restarted_http_backend_serves_the_next_call(launch, start_mock_http, http,
                                                       mock_server_bin):
    """An HTTP backend that restarted (and so forgot every session) while the proxy held a
    session with it: the next call gets 404 from it, and the proxy starts a new session and
    sends the call again; the client sees only its answer."""
    port = closed_port()
    mock = start_mock_http("--http", f"127.0.0.1:{port}")
    proxy = launch(proxy_config(f=streamable(mock.url("mcp"))))
    client = open_client(proxy, http)
    assert text_of(client.call_tool("echo", {"text": "before"})) == "before"
    mock.stop()
    start_mock_http("--http", f"127.0.0.1:{port}")
    assert text_of(client.call_tool("echo", {"text": "after the restart"})) == "after the restart"
    assert "starting a new one" in proxy.output(), proxy.output()[-3000:]
    assert_healthy(proxy, http)


def children_of(pid: int) -> list[int]:
    """Processes whose parent is `pid` (from /proc), but the proxy library's guardian
    (proxy/util/process_guardian.hpp), a child for the whole life of its parent."""
    kids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue  # gone meanwhile
        fields = text.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid and "(mcp-proxy-guard)" not in text:
            kids.append(int(stat.parent.name))
    return kids


def sockets_held_by(pid: int) -> list[str]:
    held = []
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:"):
            held.append(f"fd {fd.name}: {target}")
    return held


def test_backend_processes_hold_none_of_the_servers_sockets(start_mock_http, http):
    """A stdio backend started by the proxy (here: the mock's HTTP side, the proxy library with
    one stdio child per session) inherits none of its sockets. A child holding a copy of a
    keep-alive connection kept it open after the server closed it: no FIN reached the client,
    whose next request on it waited for its deadline (issue #15 point 11)."""
    mock = start_mock_http()
    client = McpClient(mock.url("mcp"), http).open_session()
    assert text_of(client.call_tool("echo", {"text": "one child"})) == "one child"
    McpClient(mock.url("mcp"), http).open_session()  # a second child, with more sockets open
    kids = children_of(mock.proc.pid)
    assert len(kids) == 2, kids
    for kid in kids:
        assert sockets_held_by(kid) == [], f"child {kid} of the mock holds sockets"


@spec("2025-11-25 basic/transports#session-management (per-client: backend 404 ends the session)")
def test_per_client_backend_session_404_ends_the_client_session(launch, fault_servers, http):
    """2025-11-25 basic/transports#session-management: in per-client mode the backend session
    is the client's own; when the backend ends it (404) the proxy fails the call and ends the
    client session, so the client's next request gets HTTP 404 and it starts a new session."""
    fault = fault_servers()
    fault.expire_after_calls = 1
    proxy = launch(proxy_config(f=streamable(fault.mcp_url, sessionMode="per-client")))
    client = open_client(proxy, http)
    assert_echo_works(client, "first")
    response, _, elapsed = call(client, "echo", "second")
    assert_error(response)
    assert_prompt(elapsed)
    gone = client.post({"jsonrpc": "2.0", "id": client.next_id(), "method": "tools/list"})
    assert gone.status == 404, (gone.status, gone.body[:300])
    again = open_client(proxy, http)
    assert again.session_id != client.session_id
    assert_echo_works(again, "new session")
    assert fault.count("initialize") == 2


# ---------------------------------------------------------------------------------------------
# Streamable HTTP backend: slow, garbage, unreachable


@spec("2025-11-25 basic/lifecycle#timeouts (cancel on timeout, HTTP backend)", level="SHOULD")
def test_streamable_slow_backend_times_out_and_is_cancelled(launch, fault_servers, http):
    """2025-11-25 basic/lifecycle#timeouts (on a request's timeout the sender SHOULD issue a
    cancellation notification and stop waiting) and basic/utilities/cancellation (it names
    the request id the receiver saw): a 1 s deadline, a backend that does not answer."""
    fault = fault_servers()
    proxy = launch(proxy_config(f=streamable(fault.mcp_url, timeout="1s")))
    client = open_client(proxy, http)
    response, _, elapsed = call(client, "slow")
    message = assert_error(response, REQUEST_TIMEOUT)
    assert "1000 ms" in message, message
    assert 0.9 <= elapsed < PROMPT_S, elapsed
    slow = [r for r in fault.rpc("tools/call") if r.tool == "slow"]
    assert len(slow) == 1
    backend_id = json.dumps(slow[0].body["id"])
    assert fault.wait_for(lambda: backend_id in fault.cancelled_ids(), 5.0), \
        f"no notifications/cancelled for request {backend_id}: {fault.cancelled_ids()}"
    cancel = fault.rpc("notifications/cancelled")[-1]
    assert cancel.headers.get("mcp-session-id") == slow[0].headers.get("mcp-session-id")
    assert_healthy(proxy, http)
    assert_echo_works(client, "after the timeout")


@spec("2025-11-25 basic/transports#sending-messages-to-the-server (broken answers)")
@pytest.mark.parametrize("tool", ["html_500", "wrong_content_type", "not_http"])
def test_streamable_garbage_answer_fails_the_call_promptly(launch, fault_servers, http, tool):
    """2025-11-25 basic/transports#sending-messages-to-the-server (a request is answered with
    Content-Type application/json or text/event-stream carrying its JSON-RPC response): an
    HTTP 500 HTML page, a 200 with another Content-Type, or bytes that are not HTTP give the
    call a JSON-RPC error at once; the proxy survives and the next call works."""
    fault = fault_servers()
    proxy = launch(proxy_config(f=streamable(fault.mcp_url)))
    client = open_client(proxy, http)
    response, _, elapsed = call(client, tool)
    assert_error(response)
    assert_prompt(elapsed)
    assert_healthy(proxy, http)
    assert_echo_works(client, f"after {tool}")


@spec("2025-11-25 basic/transports#sending-messages-to-the-server (JSON answer is the response)")
def test_streamable_json_not_jsonrpc_answer_fails_promptly(launch, fault_servers, http):
    """2025-11-25 basic/transports#sending-messages-to-the-server (a JSON answer to a POSTed
    request is one JSON object, its response): a 200 application/json body that is not the
    response means no response will come on that POST, so the call must fail at once, as it
    does when an SSE answer ends without the response."""
    fault = fault_servers()
    proxy = launch(proxy_config(f=streamable(fault.mcp_url, timeout="4s")))
    client = open_client(proxy, http)
    response, _, elapsed = call(client, "json_not_jsonrpc")
    assert_prompt(elapsed, 2.0)
    assert_error(response)
    assert_healthy(proxy, http)


@spec("2025-11-25 basic/lifecycle#timeouts (unusable JSON answer)", level="SHOULD")
def test_streamable_json_not_jsonrpc_fails_by_the_deadline(launch, fault_servers, http):
    """2025-11-25 basic/lifecycle#timeouts: even an answer the proxy cannot use ends in a
    JSON-RPC error for the client, at the latest at the (1 s) deadline, and the proxy stays
    usable. (That it should come at once: test_streamable_json_not_jsonrpc_answer_fails_promptly.)
    """
    fault = fault_servers()
    proxy = launch(proxy_config(f=streamable(fault.mcp_url, timeout="1s")))
    client = open_client(proxy, http)
    response, _, elapsed = call(client, "json_not_jsonrpc")
    assert "error" in response, response
    assert response["error"]["code"] in (BACKEND_UNAVAILABLE, REQUEST_TIMEOUT), response
    assert "world" not in json.dumps(response)
    assert_prompt(elapsed)
    assert_healthy(proxy, http)
    assert_echo_works(client, "after garbage JSON")


@spec("2025-11-25 basic#requests (request ids are not reused)")
@pytest.mark.parametrize("tool", ["not_http", "close_without_answer"])
def test_streamable_request_with_a_broken_answer_is_not_sent_twice(launch, fault_servers, http,
                                                                   tool):
    """2025-11-25 basic#requests (a request id MUST NOT have been used before by the requestor
    in the same session) and RFC 9110 section 9.2.2 (a client SHOULD NOT automatically retry a
    non-idempotent request): a tools/call whose POST got a broken answer reaches the backend
    once, and the call fails with a JSON-RPC error."""
    fault = fault_servers()
    proxy = launch(proxy_config(f=streamable(fault.mcp_url)))
    client = open_client(proxy, http)
    assert_echo_works(client, "leaves an idle keep-alive connection")
    response, _, elapsed = call(client, tool)
    assert_error(response)
    assert_prompt(elapsed)
    sent = [r for r in fault.rpc("tools/call") if r.tool == tool]
    assert len(sent) == 1, \
        f"the backend got the {tool} call {len(sent)} times (ids {[r.body['id'] for r in sent]})"


@spec("2025-11-25 basic/transports#sending-messages-to-the-server (non-JSON-RPC SSE events)")
def test_streamable_sse_garbage_events_are_skipped(launch, fault_servers, http):
    """2025-11-25 basic/transports#sending-messages-to-the-server (an SSE answer carries
    JSON-RPC messages, then the response): events that are not JSON-RPC are dropped, never
    relayed, and the response that follows still reaches the client."""
    fault = fault_servers()
    proxy = launch(proxy_config(f=streamable(fault.mcp_url)))
    client = open_client(proxy, http)
    response, messages, _ = call(client, "sse_garbage_then_answer", "clean")
    assert text_of(response) == "sse_garbage_then_answer: clean"
    assert all(isinstance(m, dict) and m.get("jsonrpc") == "2.0" for m in messages), messages
    assert "world" not in json.dumps(messages)
    assert_healthy(proxy, http)


@spec("2025-11-25 basic/lifecycle#initialization (unreachable HTTP backend)")
@pytest.mark.parametrize("transport", ["streamable-http", "sse"])
def test_unreachable_backend_gets_an_error_and_others_still_work(launch, http, mock_server_bin,
                                                                 transport):
    """2025-11-25 basic/lifecycle#initialization, basic/transports#streamable-http and 2024-11-05
    basic/transports#http-with-sse: a backend whose URL refuses connections makes the client's
    initialize fail promptly with a JSON-RPC error that does not echo the backend's address
    (the proxy keeps its backends hidden; a URL may carry a key); the other servers work on."""
    port = closed_port()
    config = mock_config(mock_server_bin, mock={})
    path = "/mcp" if transport == "streamable-http" else "/sse"
    config["mcpServers"]["dead"] = {"url": f"http://127.0.0.1:{port}{path}?key=s3cr3t",
                                    "transportType": transport, "timeout": "2s"}
    proxy = launch(config)
    t0 = time.monotonic()
    reply = McpClient(proxy.url("dead"), http).initialize(request_id="init-dead")
    elapsed = time.monotonic() - t0
    message = assert_error(reply.response_to("init-dead"))
    assert_prompt(elapsed)
    assert "dead" in message, message
    assert_healthy(proxy, http)
    mock = open_client(proxy, http, "mock")
    assert text_of(mock.call_tool("echo", {"text": "still here"})) == "still here"
    assert str(port) not in message and "s3cr3t" not in message, message


@spec("2025-11-25 basic/transports#streamable-http (server gone mid-session)")
def test_streamable_backend_going_away_mid_session_fails_calls_promptly(launch, fault_servers,
                                                                        http):
    """2025-11-25 basic/transports#streamable-http: when the server stops (its keep-alive
    connections closed, new ones refused), each call gets a JSON-RPC error at once instead of
    waiting for its deadline, and the proxy stays up."""
    fault = fault_servers()
    proxy = launch(proxy_config(f=streamable(fault.mcp_url)))
    client = open_client(proxy, http)
    assert_echo_works(client, "before")
    fault.close()
    for attempt in range(2):
        response, _, elapsed = call(client, "echo", f"after {attempt}")
        assert_error(response)
        assert_prompt(elapsed)
    assert_healthy(proxy, http)


@spec("2025-11-25 basic/lifecycle#initialization (failed HTTP backend retried on demand)")
def test_shared_backend_restarts_on_demand_at_most_once_per_second(launch, fault_servers, http):
    """2025-11-25 basic/lifecycle#initialization: a backend whose initialize fails (HTTP 500)
    is unavailable; each client initialize gets a JSON-RPC error naming the cause; the proxy
    (shared mode) tries the backend again on demand, at most once a second, and once the
    backend recovers a client initialize succeeds and calls work."""
    fault = fault_servers()
    fault.init_failures = 1_000_000
    proxy = launch(proxy_config(f=streamable(fault.mcp_url)))
    assert fault.wait_for(lambda: any(r.rpc_method == "initialize" for r in fault.requests), 5)
    first = fault.rpc("initialize")[0].at
    for i in range(10):
        reply = McpClient(proxy.url("f"), http).initialize(request_id=f"burst-{i}")
        message = assert_error(reply.response_to(f"burst-{i}"))
        assert "500" in message, message
    elapsed = time.monotonic() - first
    attempts = fault.count("initialize")
    # k attempts at least 1 s apart span k-1 seconds (0.5 s of slack for scheduling).
    assert 1 <= attempts <= math.floor(elapsed + 0.5) + 1, (attempts, elapsed)
    assert_healthy(proxy, http)
    fault.init_failures = 0
    client = initialize_until_it_works(proxy, http, timeout_s=5.0)
    assert_echo_works(client, "recovered")


# ---------------------------------------------------------------------------------------------
# Streamable HTTP backend: what the proxy sends


@spec("2025-11-25 basic/transports#session-management (Mcp-Session-Id on later requests)")
@spec("2025-11-25 basic/transports#protocol-version-header (HTTP backend)")
@spec("2025-11-25 basic/transports#session-management (DELETE on shutdown)", level="SHOULD")
@spec("2025-11-25 basic/authorization#token-audience-binding-and-validation (no token passthrough)")
def test_streamable_backend_gets_session_version_custom_headers_and_delete(launch, fault_servers,
                                                                           http):
    """2025-11-25 basic/transports#session-management (Mcp-Session-Id on every request after the
    server assigned it; a client that leaves SHOULD DELETE the session), #protocol-version-header
    (MCP-Protocol-Version, the negotiated version, on every request after initialize), and
    basic/authorization#token-audience-binding-and-validation (the proxy MUST NOT pass the
    client's token through: the backend gets only the configured headers)."""
    fault = fault_servers(protocol_version="2025-06-18")
    proxy = launch(proxy_config(f=streamable(fault.mcp_url, headers=CUSTOM_HEADERS)))
    client = open_client(proxy, http)
    response, _, _ = call(client, "echo", "headers",
                          headers={"Authorization": "Bearer client-token"})
    assert text_of(response) == "echo: headers"
    assert proxy.stop() == 0, proxy.output()[-4000:]
    assert fault.wait_for(lambda: any(r.method == "DELETE" for r in fault.requests), 5), \
        "no DELETE reached the backend on shutdown:\n" + proxy.output()[-3000:]
    everything = fault.snapshot()
    for r in everything:
        for name, value in CUSTOM_HEADERS.items():
            assert r.headers.get(name.lower()) == value, (r.method, r.target, r.headers)
    # The era probe comes first (2026-07-28 basic/versioning, backward compatibility): a
    # 2026-07-28 request, with no session.
    probe = everything[0]
    assert probe.rpc_method == "server/discover", probe
    assert probe.headers.get("mcp-protocol-version") == "2026-07-28", probe.headers
    assert "mcp-session-id" not in probe.headers
    seen = everything[1:]
    assert seen[0].rpc_method == "initialize"
    assert "mcp-session-id" not in seen[0].headers
    for r in seen[1:]:
        assert r.headers.get("mcp-session-id") == "fault-1", (r.method, r.rpc_method, r.headers)
        assert r.headers.get("mcp-protocol-version") == "2025-06-18", \
            (r.method, r.rpc_method, r.headers)
    assert [r.rpc_method for r in seen if r.method == "POST"][:3] == [
        "initialize", "notifications/initialized", "tools/call"]
    deletes = [r for r in seen if r.method == "DELETE"]
    assert len(deletes) == 1 and deletes[0].path == "/mcp"


# ---------------------------------------------------------------------------------------------
# Legacy HTTP+SSE backend


@spec("2024-11-05 basic/transports#http-with-sse (relative endpoint URI)")
@pytest.mark.parametrize("endpoint_ref, expected_path", [  # not "endpoint": a conftest fixture
    ("messages?sessionId={sid}", "/svc/messages"),  # relative to /svc/sse
    ("/messages?sessionId={sid}", "/messages"),  # absolute path, same origin
    ("./messages?sessionId={sid}&x=1", "/svc/messages"),
])
def test_legacy_relative_endpoint_is_resolved(launch, fault_servers, http, endpoint_ref,
                                              expected_path):
    """2024-11-05 basic/transports#http-with-sse (the endpoint event gives the URI that all
    client messages are POSTed to; a relative reference resolves against the event stream's
    URL, RFC 3986 section 5); the configured headers go on the stream and on every POST."""
    fault = fault_servers(sse_endpoint=endpoint_ref)
    proxy = launch(proxy_config(f=legacy(fault.sse_url("/svc"), headers=CUSTOM_HEADERS)))
    client = open_client(proxy, http)
    assert_echo_works(client, "legacy")
    posts = [r for r in fault.snapshot() if r.method == "POST"]
    assert [p.rpc_method for p in posts][:3] == \
        ["initialize", "notifications/initialized", "tools/call"]
    assert {p.path for p in posts} == {expected_path}
    assert all("sessionId=legacy-" in p.target for p in posts)
    for r in fault.snapshot():
        assert r.headers.get("x-fault-token") == CUSTOM_HEADERS["X-Fault-Token"], r.target


@spec("2024-11-05 basic/transports#http-with-sse (endpoint on another origin refused)")
@pytest.mark.parametrize("other_host", ["other port", "127.0.0.2"])
def test_legacy_endpoint_on_another_origin_is_refused(launch, fault_servers, http, other_host):
    """2024-11-05 basic/transports#http-with-sse (client messages go to the endpoint event's
    URI): an endpoint on another origin is refused by the proxy (its configured credentials
    must not be sent elsewhere): no request reaches that origin and the client's initialize
    gets a JSON-RPC error promptly."""
    other = fault_servers()
    fault = fault_servers()
    if other_host == "other port":
        fault.sse_endpoint = f"http://127.0.0.1:{other.port}/messages?sessionId={{sid}}"
    else:
        fault.sse_endpoint = f"http://127.0.0.2:{fault.port}/messages?sessionId={{sid}}"
    # A short timeout: see test_legacy_failed_backend_does_not_delay_shutdown.
    proxy = launch(proxy_config(f=legacy(fault.sse_url(), headers=CUSTOM_HEADERS, timeout="2s")))
    t0 = time.monotonic()
    reply = McpClient(proxy.url("f"), http).initialize(request_id="init-x")
    assert_error(reply.response_to("init-x"))
    assert_prompt(time.monotonic() - t0)
    assert other.snapshot() == [], "a request reached the other origin"
    seen = fault.snapshot()
    assert seen and all(r.method == "GET" for r in seen), [(r.method, r.target) for r in seen]
    assert "another origin" in proxy.output()
    assert_healthy(proxy, http)


@spec("2024-11-05 basic/transports#http-with-sse (event stream dropped mid-call)")
def test_legacy_event_stream_dropped_mid_call_fails_promptly(launch, fault_servers, http):
    """2024-11-05 basic/transports#http-with-sse: every answer comes on the event stream, so
    when it drops mid-call the call gets a JSON-RPC error at once; the proxy (shared mode) opens
    a new stream and initializes again on its own, about a second later."""
    fault = fault_servers()
    proxy = launch(proxy_config(f=legacy(fault.sse_url())))
    client = open_client(proxy, http)
    response, _, elapsed = call(client, "drop_after_progress", progress_token="p-legacy")
    assert_error(response)
    assert_prompt(elapsed)
    assert_healthy(proxy, http)
    # Reconnected without waiting for a request, so the server's own messages keep coming.
    assert fault.wait_for(
        lambda: len(stream_gets(fault)) == 2 and fault.count("initialize") == 2, 10)
    assert_echo_works(client, "after the legacy drop")
    assert len(stream_gets(fault)) == 2
    assert fault.count("initialize") == 2


@spec("2024-11-05 basic/transports#http-with-sse (POST answered 500)")
def test_legacy_post_500_fails_the_call_promptly(launch, fault_servers, http):
    """2024-11-05 basic/transports#http-with-sse (client messages are POSTed to the endpoint):
    a POST answered 500 gives its request a JSON-RPC error at once; the event stream is
    unaffected and the next call works on it."""
    fault = fault_servers()
    proxy = launch(proxy_config(f=legacy(fault.sse_url())))
    client = open_client(proxy, http)
    response, _, elapsed = call(client, "post_500")
    assert_error(response)
    assert_prompt(elapsed)
    assert_healthy(proxy, http)
    assert_echo_works(client, "after the 500")
    assert len(stream_gets(fault)) == 1
    assert fault.count("initialize") == 1


@spec("2024-11-05 basic/transports#http-with-sse (per-client: stream drop ends the session)")
def test_per_client_legacy_stream_drop_ends_the_client_session(launch, fault_servers, http):
    """2024-11-05 basic/transports#http-with-sse and 2025-11-25
    basic/transports#session-management: in per-client mode the dropped event stream was this
    client's backend session: the call fails, the client session ends (HTTP 404), and a new
    client session gets a new backend stream."""
    fault = fault_servers()
    proxy = launch(proxy_config(f=legacy(fault.sse_url(), sessionMode="per-client")))
    client = open_client(proxy, http)
    response, _, elapsed = call(client, "drop_after_progress")
    assert_error(response)
    assert_prompt(elapsed)
    gone = client.post({"jsonrpc": "2.0", "id": client.next_id(), "method": "tools/list"})
    assert gone.status == 404, (gone.status, gone.body[:300])
    again = open_client(proxy, http)
    assert_echo_works(again, "new legacy session")
    assert len(stream_gets(fault)) == 2


@spec("2024-11-05 basic/transports#http-with-sse (POST answered 404: new session)")
def test_legacy_session_404_fails_the_call_and_a_new_stream_follows(launch, fault_servers, http):
    """2024-11-05 basic/transports#http-with-sse with 2025-11-25
    basic/transports#session-management (404: the session is gone, start a new one): a POST
    answered 404 ends the legacy session; the call fails at once and the next call runs on a
    new event stream after a new initialize."""
    fault = fault_servers()
    fault.expire_after_calls = 1
    proxy = launch(proxy_config(f=legacy(fault.sse_url())))
    client = open_client(proxy, http)
    assert_echo_works(client, "first")
    response, _, elapsed = call(client, "echo", "second")
    assert_error(response)
    assert_prompt(elapsed)
    assert_healthy(proxy, http)
    assert_echo_works(client, "third")
    assert len(stream_gets(fault)) == 2
    assert fault.count("initialize") == 2
    sessions = [r.target.partition("sessionId=")[2] for r in fault.rpc("tools/call")]
    assert len(sessions) == 3 and sessions[0] == sessions[1] != sessions[2], sessions


@spec("2025-11-25 basic/lifecycle#timeouts (cancel on timeout, legacy backend)", level="SHOULD")
def test_legacy_slow_backend_times_out_and_is_cancelled(launch, fault_servers, http):
    """2025-11-25 basic/lifecycle#timeouts and basic/utilities/cancellation (2024-11-05 the
    same): a legacy backend that never answers gives the call a timeout error at its 1 s
    deadline, and the backend gets notifications/cancelled for the request id it saw."""
    fault = fault_servers()
    proxy = launch(proxy_config(f=legacy(fault.sse_url(), timeout="1s")))
    client = open_client(proxy, http)
    response, _, elapsed = call(client, "slow")
    assert_error(response, REQUEST_TIMEOUT)
    assert 0.9 <= elapsed < PROMPT_S, elapsed
    slow = [r for r in fault.rpc("tools/call") if r.tool == "slow"]
    assert len(slow) == 1
    backend_id = json.dumps(slow[0].body["id"])
    assert fault.wait_for(lambda: backend_id in fault.cancelled_ids(), 5.0), fault.cancelled_ids()
    assert_healthy(proxy, http)
    assert_echo_works(client, "after the legacy timeout")


@spec("2024-11-05 basic/transports#http-with-sse (non-JSON-RPC message events)")
def test_legacy_garbage_events_are_skipped(launch, fault_servers, http):
    """2024-11-05 basic/transports#http-with-sse (server messages are `message` events whose
    data is a JSON-RPC message): events that are not JSON-RPC are dropped, never relayed; the
    response that follows reaches the client and the stream stays usable."""
    fault = fault_servers()
    proxy = launch(proxy_config(f=legacy(fault.sse_url())))
    client = open_client(proxy, http)
    response, messages, _ = call(client, "sse_garbage_then_answer", "clean")
    assert text_of(response) == "sse_garbage_then_answer: clean"
    assert "world" not in json.dumps(messages)
    assert_echo_works(client, "after legacy garbage")
    assert len(stream_gets(fault)) == 1


@spec("2024-11-05 basic/transports#http-with-sse (GET is not an event stream)")
def test_legacy_stream_that_is_not_an_event_stream_fails_promptly(launch, fault_servers, http):
    """2024-11-05 basic/transports#http-with-sse (the GET opens an SSE stream whose first event
    is `endpoint`): an HTML page instead makes the client's initialize fail at once with a
    JSON-RPC error, nothing is POSTed; once the server behaves, an initialize works."""
    fault = fault_servers()
    fault.sse_stream_garbage = True
    # A short timeout: see test_legacy_failed_backend_does_not_delay_shutdown.
    proxy = launch(proxy_config(f=legacy(fault.sse_url(), timeout="2s")))
    t0 = time.monotonic()
    reply = McpClient(proxy.url("f"), http).initialize(request_id="init-html")
    assert_error(reply.response_to("init-html"))
    assert_prompt(time.monotonic() - t0)
    assert [r for r in fault.snapshot() if r.method == "POST"] == []
    assert_healthy(proxy, http)
    fault.sse_stream_garbage = False
    client = initialize_until_it_works(proxy, http, timeout_s=5.0)
    assert_echo_works(client, "recovered")


@spec("2025-11-25 basic/lifecycle#shutdown (failed legacy backend)")
def test_legacy_failed_backend_does_not_delay_shutdown(launch):
    """2025-11-25 basic/lifecycle#shutdown (for HTTP transports, shutdown is closing the
    connections) and 2024-11-05 basic/transports#http-with-sse: a legacy backend that never
    became usable must not hold up the proxy's shutdown: SIGTERM ends it at once, cleanly."""
    port = closed_port()
    proxy = launch(proxy_config(f=legacy(f"http://127.0.0.1:{port}/sse")))
    assert wait_until(lambda: "initialize failed" in proxy.output(), 5.0), proxy.output()
    t0 = time.monotonic()
    assert proxy.stop() == 0
    took = time.monotonic() - t0
    assert "tasks still pending" not in proxy.output(), proxy.output()[-2000:]
    assert took < 3.0, f"shutdown took {took:.1f} s"
