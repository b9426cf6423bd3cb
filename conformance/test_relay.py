"""mcp-proxy's full relay: what flows between one backend and several clients besides calls.

Two or three client sessions share one backend (sessionMode "shared", the default) or each has
its own ("per-client"), and the tests check that everything the backend and the clients send
each other reaches the right party and only it:

* progress notifications, when clients pick the same progressToken (2025-11-25
  basic/utilities/progress);
* cancellation: the client's notifications/cancelled, a DELETEd session and the proxy's own
  timeout reach the backend with the id the backend saw (basic/utilities/cancellation);
* sampling/createMessage, elicitation/create (form and URL mode) and roots/list sent by the
  backend: routed to the client whose call asked, answered by it, never by another client; and
  refused with an error when the proxy cannot tell (client/sampling, client/elicitation,
  client/roots);
* roots/list_changed, resource subscriptions shared by two clients, per-session log levels,
  tools/list_changed (server/resources, server/utilities/logging, server/tools).

Backends: the mock (mock-servers/mock_mcp_server.cpp, its conformance fixture) over stdio,
Streamable HTTP and legacy SSE; fault_server.FaultServer where a test must see what reached the
backend or make the backend send a request on a given stream (tools ask_client and log_levels,
its standalone GET stream with request_client / notify_client).

Clients are `RelayClient`s: mcp_session's StreamableHttpSession, reading each POST's event
stream as it arrives so that a server request in the middle of a call's stream is answered while
the call waits, and answering server requests with a callback.

Proxy-specific: skipped against an external server. Spec citations are to
modelcontextprotocol/modelcontextprotocol, docs/specification/2025-11-25/.
"""

from __future__ import annotations

import concurrent.futures
import json
import threading
from typing import Any, Callable, Iterator, Optional

import httpx
import pytest

from conftest import McpClient, ProxyProcess, text_of, wait_until
from fault_server import LOG_LEVELS, FaultServer
from mcp_session import (INTERNAL_ERROR, METHOD_NOT_FOUND, StreamableHttpSession,
                         is_notification, is_response, same_id)

spec = pytest.mark.spec

REQUEST_TIMEOUT = -32001  # mcp-proxy's error for a call its backend did not answer in time
NO_SINGLE_CLIENT = "no single client session this request can be routed to"
WAIT_S = 15.0  # an ASan build on a busy 2-core machine
MAX_PAGES = 20  # every cursor walk ends by here
ALL_CAPABILITIES = {"sampling": {}, "elicitation": {"form": {}, "url": {}},
                    "roots": {"listChanged": True}}


# ---------------------------------------------------------------------------------------------
# A client that answers server requests mid-stream


class RelayClient(StreamableHttpSession):
    """A Streamable HTTP session whose POST answers are read event by event (each message is
    delivered as it arrives, not when the stream ends) and whose server requests other than
    ping are answered with `on_request(request) -> result` (an exception becomes a JSON-RPC
    error)."""

    def __init__(self, url: str, label: str,
                 on_request: Optional[Callable[[dict], dict]] = None) -> None:
        super().__init__(url, label, incremental=True)
        self.on_request = on_request

    def _answer_server_request(self, request: dict) -> None:
        if self.on_request is None or request.get("method") == "ping":
            super()._answer_server_request(request)
            return
        try:
            reply = {"jsonrpc": "2.0", "id": request["id"], "result": self.on_request(request)}
        except Exception as e:  # noqa: BLE001 (any failure of the callback is the answer)
            reply = {"jsonrpc": "2.0", "id": request["id"],
                     "error": {"code": INTERNAL_ERROR, "message": f"{self.label}: {e}"}}
        self.send(reply)

    def requests_seen(self, method: str) -> list[dict]:
        with self._cond:
            return [m for m in self.server_requests if m.get("method") == method]

    def wait_notification(self, method: str, start: int = 0,
                          match: Callable[[dict], bool] = lambda m: True) -> Optional[dict]:
        return self.wait_for(lambda m: is_notification(m) and m.get("method") == method
                             and match(m), WAIT_S, start)


def answer_of(who: str, request: dict) -> dict:
    """What client `who` answers to a server request: distinct per client."""
    method, params = request["method"], request.get("params") or {}
    if method == "sampling/createMessage":
        return {"role": "assistant", "content": {"type": "text", "text": f"reply from {who}"},
                "model": f"model-{who}", "stopReason": "endTurn"}
    if method == "elicitation/create":
        if params.get("mode") == "url":  # no content in URL mode: the action tells them apart
            return {"action": "accept" if who == "A" else "decline"}
        return {"action": "accept",
                "content": {"username": f"user-{who}", "email": f"{who.lower()}@example.com"}}
    if method == "roots/list":
        return {"roots": [{"uri": f"file:///work/{who}", "name": f"root-{who}"}]}
    raise ValueError(f"no answer for {method}")


def answering(who: str, barrier: Optional[threading.Barrier] = None) -> Callable[[dict], dict]:
    """on_request for client `who`; with a barrier, each answer waits until every client has
    its request (the requests are then in flight together)."""
    def on_request(request: dict) -> dict:
        if barrier is not None:
            try:
                barrier.wait()
            except threading.BrokenBarrierError:
                pass  # the assertions on what each client saw tell what went wrong
        return answer_of(who, request)
    return on_request


# ---------------------------------------------------------------------------------------------
# Fixtures and helpers


@pytest.fixture
def launch(start_mock_http, fault_servers, start_proxy) -> Callable[..., ProxyProcess]:
    """start_proxy, set up after the backends so that proxies stop first (pytest tears fixtures
    down in reverse order) while their backends still listen."""
    return start_proxy


@pytest.fixture
def relay(launch) -> Iterator[Callable[..., RelayClient]]:
    """relay(url, who, capabilities=ALL_CAPABILITIES, on_request=answering(who)) -> an opened
    RelayClient (with its GET stream); all are closed before the proxies stop."""
    made: list[RelayClient] = []

    def make(url: str, who: str, capabilities: Optional[dict] = None,
             on_request: Optional[Callable[[dict], dict]] = None) -> RelayClient:
        c = RelayClient(url, f"client {who}", on_request or answering(who))
        made.append(c)
        c.open(capabilities=ALL_CAPABILITIES if capabilities is None else capabilities)
        return c

    yield make
    for c in made:
        c.close()


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=WAIT_S + 10, trust_env=False) as c:
        yield c


def config(**servers: dict) -> dict:
    return {"mcpProxy": {"addr": "127.0.0.1:0"}, "mcpServers": servers}


def mock_backend(kind: str, mock_server_bin, start_mock_http, *args: str, **extra: Any) -> dict:
    """The mock as a server entry, over `kind` (stdio, streamable-http, sse)."""
    if kind == "stdio":
        return {"command": str(mock_server_bin), "args": list(args), "timeout": "30s", **extra}
    m = start_mock_http(*args)
    path = "mcp" if kind == "streamable-http" else "sse"
    return {"url": m.url(path), "transportType": kind, "timeout": "30s", **extra}


def fault_backend(fault: FaultServer, **extra: Any) -> dict:
    return {"url": fault.mcp_url, "transportType": "streamable-http", "timeout": "30s", **extra}


def relay_fault(fault_servers, **settings: Any) -> FaultServer:
    """A fault server declaring what the relay tests need, with its standalone GET stream."""
    fault = fault_servers()
    fault.capabilities = {"tools": {}, "logging": {}, "resources": {"subscribe": True}}
    fault.get_stream = True
    for k, v in settings.items():
        setattr(fault, k, v)
    return fault


def progress_of(messages: list) -> list:
    return [m for m in messages
            if isinstance(m, dict) and m.get("method") == "notifications/progress"]


def tool_call(name: str, arguments: dict, meta: Optional[dict] = None) -> dict:
    params: dict = {"name": name, "arguments": arguments}
    if meta is not None:
        params["_meta"] = meta
    return params


def asked_answer(response: dict) -> dict:
    """The client's JSON-RPC answer that fault_server's ask_client returns as its text."""
    text = text_of(response)
    assert text != "no answer", "the backend's request was never answered"
    return json.loads(text)


def backend_call(fault: FaultServer, tool: str, text: str):
    """The tools/call of `tool` with arguments.text `text` as the fault server received it."""
    for r in fault.rpc("tools/call"):
        if r.tool == tool and (r.body["params"].get("arguments") or {}).get("text") == text:
            return r
    return None


ASKS = {
    "sampling": ("sampling/createMessage",
                 {"messages": [{"role": "user", "content": {"type": "text", "text": "hi"}}],
                  "maxTokens": 10}),
    "elicitation-form": ("elicitation/create",
                         {"mode": "form", "message": "Who are you?",
                          "requestedSchema": {"type": "object", "properties": {
                              "username": {"type": "string"}, "email": {"type": "string"}}}}),
    "elicitation-url": ("elicitation/create",
                        {"mode": "url", "elicitationId": "e-1",
                         "url": "https://example.com/authorize", "message": "Sign in"}),
    "roots": ("roots/list", None),
}


# ---------------------------------------------------------------------------------------------
# Progress


@spec("2025-11-25 basic/utilities/progress (tokens of concurrent clients)")
@pytest.mark.parametrize("kind", ["stdio", "streamable-http", "sse"])
@pytest.mark.parametrize("token", ["same-token", 7], ids=["string-token", "int-token"])
def test_concurrent_calls_with_the_same_progress_token_get_their_own_progress(
        launch, mock_server_bin, start_mock_http, http, kind, token):
    """2025-11-25 basic/utilities/progress: progress notifications carry the token of the
    request they report on, and a token is unique only among one client's requests. Two clients
    of one shared backend call `progress` at once with the same token (3 and 5 steps, 100 ms
    apart, so the calls overlap): each gets exactly its own steps, with its token, value and
    type unchanged, then its own result."""
    proxy = launch(config(m=mock_backend(kind, mock_server_bin, start_mock_http)))
    a = McpClient(proxy.url("m"), http).open_session()
    b = McpClient(proxy.url("m"), http).open_session()

    def run(client: McpClient, steps: int) -> tuple[dict, list]:
        rid = client.next_id()
        reply = client.post({"jsonrpc": "2.0", "id": rid, "method": "tools/call",
                             "params": tool_call("progress", {"steps": steps, "interval_ms": 100},
                                                 {"progressToken": token})})
        assert reply.status == 200, reply
        return reply.response_to(rid), reply.messages

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        fa, fb = pool.submit(run, a, 3), pool.submit(run, b, 5)
        (ra, ma), (rb, mb) = fa.result(60), fb.result(60)
    for steps, response, messages in ((3, ra, ma), (5, rb, mb)):
        progress = progress_of(messages)
        assert [p["params"]["progress"] for p in progress] == list(range(1, steps + 1)), messages
        assert all(p["params"]["total"] == steps for p in progress), messages
        for p in progress:
            assert p["params"]["progressToken"] == token
            assert type(p["params"]["progressToken"]) is type(token)
        assert text_of(response) == f"done {steps} steps"


# ---------------------------------------------------------------------------------------------
# Cancellation


@spec("2025-11-25 basic/utilities/cancellation (the receiver's request id)")
def test_client_cancellation_reaches_the_backend_with_the_backends_id(launch, fault_servers,
                                                                      relay):
    """2025-11-25 basic/utilities/cancellation: notifications/cancelled names the request by the
    id its receiver saw. Two clients of one shared backend both call `slow` with the SAME
    JSON-RPC id; A cancels its id: the backend gets one notifications/cancelled naming the id
    of A's call as the backend saw it (and A's reason), and B's call is not cancelled (it gets
    the backend's own answer)."""
    fault = relay_fault(fault_servers, slow_max_s=3.0)
    proxy = launch(config(f=fault_backend(fault)))
    a, b = relay(proxy.url("f"), "A"), relay(proxy.url("f"), "B")
    a.start_request("tools/call", tool_call("slow", {"text": "A"}), request_id=7)
    b.start_request("tools/call", tool_call("slow", {"text": "B"}), request_id=7)
    assert fault.wait_for(lambda: backend_call(fault, "slow", "A") and
                          backend_call(fault, "slow", "B"), WAIT_S), fault.snapshot()
    a_id = backend_call(fault, "slow", "A").body["id"]
    a.notify("notifications/cancelled", {"requestId": 7, "reason": "the user changed their mind"})
    assert fault.wait_for(lambda: json.dumps(a_id) in fault.cancelled_ids(), WAIT_S), \
        (a_id, fault.cancelled_ids())
    cancel = fault.rpc("notifications/cancelled")[0]
    assert cancel.body["params"].get("reason") == "the user changed their mind", cancel.body
    answer_b = b.wait_response(7, WAIT_S)
    assert answer_b["error"]["code"] == -32800, answer_b  # the backend's own answer to B
    assert fault.cancelled_ids() == {json.dumps(a_id)}


@spec("2025-11-25 basic/utilities/cancellation (session ended by the client)")
def test_deleting_a_session_cancels_its_call_at_the_shared_backend(launch, fault_servers, relay):
    """2025-11-25 basic/transports#session-management (DELETE ends the session) and
    basic/utilities/cancellation: a shared backend must not keep working for a session that is
    gone. A's `slow` call is in flight when A DELETEs its session: the backend gets
    notifications/cancelled for that call's backend id, with a reason; B's session still works."""
    fault = relay_fault(fault_servers)
    proxy = launch(config(f=fault_backend(fault)))
    a, b = relay(proxy.url("f"), "A"), relay(proxy.url("f"), "B")
    a.start_request("tools/call", tool_call("slow", {"text": "A"}))
    assert fault.wait_for(lambda: backend_call(fault, "slow", "A") is not None, WAIT_S)
    a_id = backend_call(fault, "slow", "A").body["id"]
    assert 200 <= a.client.delete().status_code < 300
    assert fault.wait_for(lambda: json.dumps(a_id) in fault.cancelled_ids(), WAIT_S), \
        (a_id, fault.cancelled_ids())
    cancel = [r for r in fault.rpc("notifications/cancelled")
              if r.body["params"].get("requestId") == a_id][0]
    assert isinstance(cancel.body["params"].get("reason"), str) and cancel.body["params"]["reason"]
    assert text_of(b.call_tool("echo", {"text": "still here"})) == "echo: still here"


@spec("2025-11-25 basic/lifecycle#timeouts (per-client backend)", level="SHOULD")
def test_proxy_timeout_cancels_the_call_of_a_per_client_backend(launch, fault_servers, relay):
    """2025-11-25 basic/lifecycle#timeouts: on a request's timeout the sender SHOULD send
    notifications/cancelled and stop waiting. Per-client mode, a 1 s `timeout`, a backend that
    does not answer: the client gets error -32001, and the client's own backend session gets
    notifications/cancelled for the id it saw."""
    fault = relay_fault(fault_servers)
    proxy = launch(config(f=fault_backend(fault, timeout="1s", sessionMode="per-client")))
    a = relay(proxy.url("f"), "A")
    response = a.call_tool("slow", {"text": "A"}, timeout_s=WAIT_S)
    assert response.get("error", {}).get("code") == REQUEST_TIMEOUT, response
    call = backend_call(fault, "slow", "A")
    assert call is not None
    assert fault.wait_for(lambda: json.dumps(call.body["id"]) in fault.cancelled_ids(), WAIT_S)
    cancel = fault.rpc("notifications/cancelled")[-1]
    assert cancel.headers.get("mcp-session-id") == call.headers.get("mcp-session-id")


# ---------------------------------------------------------------------------------------------
# Sampling and elicitation: the client that answers


FIXTURE_ASKS = {
    "sampling": ("test_sampling", {"prompt": "hi"},
                 lambda who, text: text == f"LLM response: reply from {who}"),
    "elicitation": ("test_elicitation", {"message": "Who are you?"},
                    lambda who, text: "action=accept" in text
                    and f'"username":"user-{who}"' in text),
}


@spec("2025-11-25 client/sampling, client/elicitation (per-client backends)")
@pytest.mark.parametrize("ask", list(FIXTURE_ASKS))
def test_per_client_backends_ask_their_own_client(launch, mock_server_bin, relay, ask):
    """2025-11-25 client/sampling and client/elicitation: the server asks the client it is
    connected to. Per-client mode: two clients call the fixture's tool at once and each backend
    waits for its client's answer (both requests are out together); each result holds its own
    client's answer, and each client saw exactly one request."""
    tool, args, expected = FIXTURE_ASKS[ask]
    proxy = launch(config(fx={"command": str(mock_server_bin), "args": ["--fixture", "conformance"],
                              "timeout": "30s", "sessionMode": "per-client"}))
    barrier = threading.Barrier(2, timeout=WAIT_S)
    a = relay(proxy.url("fx"), "A", on_request=answering("A", barrier))
    b = relay(proxy.url("fx"), "B", on_request=answering("B", barrier))
    ids = [c.start_request("tools/call", tool_call(tool, args)) for c in (a, b)]
    for who, c, rid in (("A", a, ids[0]), ("B", b, ids[1])):
        text = text_of(c.wait_response(rid, WAIT_S * 2))
        assert expected(who, text), (who, text)
        assert len(c.server_requests) == 1, (who, c.server_requests)


@spec("2025-11-25 client/sampling, client/elicitation, client/roots (request on a POST stream)")
@pytest.mark.parametrize("ask", list(ASKS))
def test_shared_http_backend_asks_the_client_whose_call_it_is(launch, fault_servers, relay, ask):
    """2025-11-25 basic/transports#sending-messages-to-the-server: a server request sent on a
    POST's event stream relates to that POST's request, so the proxy knows which client's call
    it belongs to even with two clients busy. A shared Streamable HTTP backend gets two calls of
    `ask_client` at once and sends its request on each call's stream (both are out together:
    each client answers only when both have theirs); each call's result carries its own
    client's answer, never the other's."""
    method, params = ASKS[ask]
    fault = relay_fault(fault_servers)
    proxy = launch(config(f=fault_backend(fault)))
    barrier = threading.Barrier(2, timeout=WAIT_S)
    a = relay(proxy.url("f"), "A", on_request=answering("A", barrier))
    b = relay(proxy.url("f"), "B", on_request=answering("B", barrier))
    ids = [c.start_request("tools/call", tool_call("ask_client", {"method": method,
                                                                  "params": params}))
           for c in (a, b)]
    for who, c, rid in (("A", a, ids[0]), ("B", b, ids[1])):
        response = c.wait_response(rid, WAIT_S * 2)
        assert [r["method"] for r in c.server_requests] == [method], (who, c.server_requests)
        seen = c.server_requests[0]
        assert seen.get("params") == params, seen
        assert asked_answer(response).get("result") == answer_of(who, seen), (who, response)


@spec("2025-11-25 client/sampling (a shared stdio backend, two clients busy)")
def test_shared_stdio_backend_request_with_two_clients_busy_is_refused(launch, mock_server_bin,
                                                                       relay):
    """2025-11-25 client/sampling: the request must reach the client that can answer for the
    call. Over stdio nothing tells which call a backend request belongs to: with two clients'
    calls running the proxy cannot know, so it answers the backend with a JSON-RPC error and
    sends the request to neither client. B is kept busy with a paced `progress` call; A's
    test_sampling then fails with the proxy's error, as the fixture reports it."""
    proxy = launch(config(fx={"command": str(mock_server_bin), "args": ["--fixture", "conformance"],
                              "timeout": "30s"}))
    a, b = relay(proxy.url("fx"), "A"), relay(proxy.url("fx"), "B")
    b_call = b.start_request("tools/call", tool_call("progress", {"steps": 2, "interval_ms": 5000},
                                                     {"progressToken": "b-busy"}))
    assert b.wait_notification("notifications/progress") is not None, b.diagnostics()
    response = a.call_tool("test_sampling", {"prompt": "hi"}, timeout_s=WAIT_S)
    assert not b.messages(lambda m: is_response(m) and same_id(m.get("id"), b_call)), \
        "B's call ended before A's request: the test did not have two clients busy"
    assert response["result"].get("isError") is True, response
    assert NO_SINGLE_CLIENT in text_of(response), response
    assert a.requests_seen("sampling/createMessage") == []
    assert b.requests_seen("sampling/createMessage") == []
    b.notify("notifications/cancelled", {"requestId": b_call, "reason": "test over"})


@spec("2025-11-25 client/sampling, client/elicitation (a shared stdio backend, one client busy)")
@pytest.mark.parametrize("ask", list(FIXTURE_ASKS))
def test_shared_stdio_backend_asks_the_only_busy_client(launch, mock_server_bin, relay, ask):
    """2025-11-25 client/sampling and client/elicitation: with one client's call running, the
    shared stdio backend's request is that call's: A (calling) answers and its result holds A's
    answer; B (connected, idle, declaring the same capabilities) sees no request."""
    tool, args, expected = FIXTURE_ASKS[ask]
    proxy = launch(config(fx={"command": str(mock_server_bin), "args": ["--fixture", "conformance"],
                              "timeout": "30s"}))
    a, b = relay(proxy.url("fx"), "A"), relay(proxy.url("fx"), "B")
    text = text_of(a.call_tool(tool, args, timeout_s=WAIT_S))
    assert expected("A", text), text
    assert len(a.server_requests) == 1 and b.server_requests == [], \
        (a.server_requests, b.server_requests)


@spec("2025-11-25 client/sampling#capabilities (per-client backend)")
def test_per_client_request_for_an_undeclared_capability_is_refused(launch, fault_servers, relay):
    """2025-11-25 client/sampling: clients that support sampling MUST declare the capability,
    and a server sends only what its client declared. A per-client backend that sends
    sampling/createMessage anyway (ask_client) to a client that declared nothing gets -32601
    from the proxy, and the client sees no request."""
    fault = relay_fault(fault_servers)
    proxy = launch(config(f=fault_backend(fault, sessionMode="per-client")))
    a = relay(proxy.url("f"), "A", capabilities={})
    method, params = ASKS["sampling"]
    response = a.call_tool("ask_client", {"method": method, "params": params}, timeout_s=WAIT_S)
    error = asked_answer(response).get("error") or {}
    assert error.get("code") == METHOD_NOT_FOUND, response
    assert "did not declare the capability for sampling/createMessage" in error.get("message", "")
    assert a.server_requests == []
    init = fault.rpc("initialize")[0].body["params"]
    assert "sampling" not in init["capabilities"], init  # the client's own capabilities


@spec("2025-11-25 client/elicitation#capabilities (modes)")
@pytest.mark.parametrize("mode", ["shared", "per-client"])
def test_url_mode_elicitation_goes_only_to_a_client_that_declared_url(launch, fault_servers,
                                                                      relay, mode):
    """2025-11-25 client/elicitation, Capabilities: an empty `elicitation` object means form
    mode only, and servers MUST NOT send a mode the client did not declare. The proxy declares
    both modes to a shared backend, so it checks each request against its client: a URL-mode
    request for a form-only client gets -32601 and the client sees nothing; form mode still
    reaches it."""
    fault = relay_fault(fault_servers)
    proxy = launch(config(f=fault_backend(fault, sessionMode=mode)))
    if mode == "shared":
        assert fault.wait_for(lambda: fault.count("initialize") == 1, WAIT_S)
        caps = fault.rpc("initialize")[0].body["params"]["capabilities"]
        assert caps.get("elicitation") == {"form": {}, "url": {}}, caps
    a = relay(proxy.url("f"), "A", capabilities={"elicitation": {}})
    method, params = ASKS["elicitation-url"]
    response = a.call_tool("ask_client", {"method": method, "params": params}, timeout_s=WAIT_S)
    error = asked_answer(response).get("error") or {}
    assert error.get("code") == METHOD_NOT_FOUND, response
    assert a.server_requests == []
    method, params = ASKS["elicitation-form"]
    response = a.call_tool("ask_client", {"method": method, "params": params}, timeout_s=WAIT_S)
    assert "result" in asked_answer(response), response
    assert [r["method"] for r in a.server_requests] == ["elicitation/create"]


@spec("2025-11-25 client/elicitation#url-mode (completion notification)")
def test_elicitation_complete_reaches_only_the_client_the_url_went_to(launch, fault_servers,
                                                                      relay):
    """2025-11-25 client/elicitation, URL mode: the server MAY send
    notifications/elicitation/complete with the elicitationId of a URL-mode request once the
    interaction ends. On a shared backend the proxy remembers which client got that request:
    only that client hears the completion; one for an id nobody was sent is dropped."""
    fault = relay_fault(fault_servers)
    proxy = launch(config(f=fault_backend(fault)))
    a, b = relay(proxy.url("f"), "A"), relay(proxy.url("f"), "B")
    method, params = ASKS["elicitation-url"]
    response = a.call_tool("ask_client", {"method": method, "params": params}, timeout_s=WAIT_S)
    assert "result" in asked_answer(response), response
    assert fault.wait_for(lambda: len(fault.get_streams()) == 1, WAIT_S), "no GET stream"
    mark_a, mark_b = a.mark(), b.mark()
    fault.notify_client("notifications/elicitation/complete", {"elicitationId": "nobody's"})
    fault.notify_client("notifications/elicitation/complete",
                        {"elicitationId": params["elicitationId"]})
    fault.notify_client("notifications/tools/list_changed")  # a marker for both
    for c, mark in ((a, mark_a), (b, mark_b)):
        assert c.wait_notification("notifications/tools/list_changed", mark), c.label
    heard = [m["params"]["elicitationId"]
             for m in a.notifications("notifications/elicitation/complete", mark_a)]
    assert heard == [params["elicitationId"]], heard
    assert b.notifications("notifications/elicitation/complete", mark_b) == []


@spec("2025-11-25 client/roots#capabilities")
def test_roots_change_of_a_client_without_roots_is_not_passed_on(launch, fault_servers, relay):
    """2025-11-25 client/roots: only clients that declare roots have roots. A shared backend's
    root list is that of its clients that declared roots, so a client without the capability
    changes nothing: neither its arrival nor a stray roots/list_changed from it reaches the
    backend."""
    fault = relay_fault(fault_servers)
    proxy = launch(config(f=fault_backend(fault)))
    a = relay(proxy.url("f"), "A", capabilities={"sampling": {}})
    a.notify("notifications/roots/list_changed")
    b = relay(proxy.url("f"), "B")  # declares roots: its arrival is announced
    # The proxy writes to the backend in order: once B's call is answered, every notification
    # sent before it (A's, had it been passed on, and B's arrival) has reached the backend.
    response = b.call_tool("ask_client", {"method": "ping", "params": {}}, timeout_s=WAIT_S)
    assert asked_answer(response).get("result") == {}, response
    assert roots_changed(fault) == 1, roots_changed(fault)


# ---------------------------------------------------------------------------------------------
# Roots


def roots_changed(fault: FaultServer) -> int:
    return fault.count("notifications/roots/list_changed")


@spec("2025-11-25 client/roots#root-list-changes")
def test_shared_backend_hears_roots_change_as_clients_come_and_go(launch, fault_servers, relay):
    """2025-11-25 client/roots: a client that supports roots declares it (with listChanged) and
    sends notifications/roots/list_changed when its roots change. The proxy declares
    roots {listChanged: true} to a shared backend, whose root list is that of the clients
    connected: it changes when a client declaring roots finishes initializing, when that
    client sends its own list_changed, and when its session ends."""
    fault = relay_fault(fault_servers)
    proxy = launch(config(f=fault_backend(fault)))
    assert fault.wait_for(lambda: fault.count("initialize") == 1, WAIT_S)
    caps = fault.rpc("initialize")[0].body["params"]["capabilities"]
    assert caps.get("roots") == {"listChanged": True}, caps
    assert "sampling" in caps and "elicitation" in caps, caps
    a = relay(proxy.url("f"), "A")
    assert fault.wait_for(lambda: roots_changed(fault) == 1, WAIT_S), roots_changed(fault)
    a.notify("notifications/roots/list_changed")
    assert fault.wait_for(lambda: roots_changed(fault) == 2, WAIT_S), roots_changed(fault)
    assert 200 <= a.client.delete().status_code < 300
    assert fault.wait_for(lambda: roots_changed(fault) == 3, WAIT_S), roots_changed(fault)


@spec("2025-11-25 client/roots#listing-roots (no client session)")
def test_roots_list_with_no_client_session_is_an_empty_list(launch, fault_servers):
    """2025-11-25 client/roots: roots/list returns the roots the client exposes. With no client
    session the proxy exposes none: a shared backend's roots/list (on its GET stream) is
    answered {"roots": []}."""
    fault = relay_fault(fault_servers)
    launch(config(f=fault_backend(fault)))
    assert fault.wait_for(lambda: len(fault.get_streams()) == 1, WAIT_S), "no GET stream"
    answer = fault.request_client("roots/list", timeout_s=WAIT_S)
    assert answer is not None and answer.get("result") == {"roots": []}, answer


@spec("2025-11-25 client/roots#listing-roots (one client session)")
def test_roots_list_with_no_call_in_flight_reaches_the_only_client(launch, fault_servers, relay):
    """2025-11-25 client/roots: with exactly one client session (declaring roots) and no call
    running, a shared backend's roots/list on its GET stream is that client's to answer: the
    client gets it and its answer reaches the backend with the backend's id."""
    fault = relay_fault(fault_servers)
    proxy = launch(config(f=fault_backend(fault)))
    a = relay(proxy.url("f"), "A")
    assert fault.wait_for(lambda: len(fault.get_streams()) == 1, WAIT_S), "no GET stream"
    answer = fault.request_client("roots/list", timeout_s=WAIT_S)
    assert answer is not None, "the backend's roots/list was not answered"
    assert answer.get("result") == answer_of("A", {"method": "roots/list"}), answer
    assert [r["method"] for r in a.server_requests] == ["roots/list"]


@spec("2025-11-25 client/roots#listing-roots (two idle client sessions)")
def test_roots_list_with_two_idle_clients_is_refused(launch, fault_servers, relay):
    """2025-11-25 client/roots: each client has its own roots; with two idle client sessions a
    shared backend's roots/list belongs to neither, so the proxy answers an error and asks no
    client."""
    fault = relay_fault(fault_servers)
    proxy = launch(config(f=fault_backend(fault)))
    a, b = relay(proxy.url("f"), "A"), relay(proxy.url("f"), "B")
    assert fault.wait_for(lambda: len(fault.get_streams()) == 1, WAIT_S), "no GET stream"
    answer = fault.request_client("roots/list", timeout_s=WAIT_S)
    assert answer is not None and "error" in answer, answer
    assert NO_SINGLE_CLIENT in answer["error"]["message"], answer
    assert a.server_requests == [] and b.server_requests == []


# ---------------------------------------------------------------------------------------------
# Subscriptions, logging, list changes


@spec("2025-11-25 server/resources#subscriptions (two clients, one backend subscription)")
def test_a_subscription_shared_by_two_clients_over_an_http_backend(launch, fault_servers, relay):
    """2025-11-25 server/resources#subscriptions: a subscribed client gets
    notifications/resources/updated for the URI until it unsubscribes. Two clients subscribe to
    one URI of a shared Streamable HTTP backend: the backend gets one resources/subscribe, an
    update reaches both; after A unsubscribes only B hears the next update (A, still subscribed
    to another URI, hears that one after it), and the backend's resources/unsubscribe comes
    when B, the last, leaves."""
    uri, other = "test://shared", "test://other"
    fault = relay_fault(fault_servers)
    proxy = launch(config(f=fault_backend(fault)))
    a, b = relay(proxy.url("f"), "A"), relay(proxy.url("f"), "B")
    for c in (a, b):
        assert "result" in c.request("resources/subscribe", {"uri": uri}), c.label
    assert "result" in a.request("resources/subscribe", {"uri": other})
    subscribed = [r.body["params"]["uri"] for r in fault.rpc("resources/subscribe")]
    assert sorted(subscribed) == [other, uri], subscribed
    assert fault.wait_for(lambda: len(fault.get_streams()) == 1, WAIT_S), "no GET stream"

    def updated(u: str) -> Callable[[dict], bool]:
        return lambda m: (m.get("params") or {}).get("uri") == u

    mark_a, mark_b = a.mark(), b.mark()
    fault.notify_client("notifications/resources/updated", {"uri": uri})
    for c, mark in ((a, mark_a), (b, mark_b)):
        assert c.wait_notification("notifications/resources/updated", mark, updated(uri)), c.label
    assert "result" in a.request("resources/unsubscribe", {"uri": uri})
    assert fault.count("resources/unsubscribe") == 0, "B still subscribes"
    mark_a, mark_b = a.mark(), b.mark()
    fault.notify_client("notifications/resources/updated", {"uri": uri})
    fault.notify_client("notifications/resources/updated", {"uri": other})
    assert b.wait_notification("notifications/resources/updated", mark_b, updated(uri))
    # A's stream carries the two updates in order: once `other` is there, `uri` would be too.
    assert a.wait_notification("notifications/resources/updated", mark_a, updated(other))
    heard = [m["params"]["uri"] for m in a.notifications("notifications/resources/updated", mark_a)]
    assert heard == [other], heard
    assert "result" in b.request("resources/unsubscribe", {"uri": uri})
    unsubscribed = [r.body["params"]["uri"] for r in fault.rpc("resources/unsubscribe")]
    assert unsubscribed == [uri], unsubscribed


@spec("2025-11-25 server/utilities/logging#setting-log-level (per client session)")
def test_each_client_gets_the_log_levels_it_asked_for(launch, fault_servers, relay):
    """2025-11-25 server/utilities/logging: after logging/setLevel the server sends messages at
    that level and more severe. Over one shared backend, A sets debug and B error: the backend is
    set to debug (the most verbose asked for); a tool that logs at all eight levels gives A all
    eight and B only error, critical, alert and emergency."""
    fault = relay_fault(fault_servers)
    proxy = launch(config(f=fault_backend(fault)))
    a, b = relay(proxy.url("f"), "A"), relay(proxy.url("f"), "B")
    assert a.request("logging/setLevel", {"level": "debug"}).get("result") == {}
    assert b.request("logging/setLevel", {"level": "error"}).get("result") == {}
    assert fault.log_level == "debug"
    for c, expected in ((a, list(LOG_LEVELS)), (b, list(LOG_LEVELS[LOG_LEVELS.index("error"):]))):
        mark = c.mark()
        assert text_of(c.call_tool("log_levels", timeout_s=WAIT_S)) == "logged"
        levels = [m["params"]["level"] for m in c.notifications("notifications/message", mark)]
        assert levels == expected, (c.label, levels)


@spec("2025-11-25 server/tools#list-changed-notification (every client, merged endpoint too)")
@pytest.mark.parametrize("kind", ["stdio", "streamable-http", "sse"])
def test_tools_list_changed_reaches_every_client_and_the_merged_endpoint(
        launch, mock_server_bin, start_mock_http, relay, kind):
    """2025-11-25 server/tools#list-changed-notification: a server that declared
    tools.listChanged notifies its clients when its tools change. The mock's change_tools adds
    gen_tool_0003 and says so: A (who called it) and B on /m/mcp and C on the merged /mcp each
    get notifications/tools/list_changed, and a tools/list after it shows the new tool (C's
    under the server's prefix)."""
    proxy = launch(config(m=mock_backend(kind, mock_server_bin, start_mock_http, "--tools", "2"),
                          o={"command": str(mock_server_bin), "args": [], "timeout": "30s"}))
    a, b = relay(proxy.url("m"), "A"), relay(proxy.url("m"), "B")
    c = relay(f"{proxy.base_url}/mcp", "C")
    for s in (a, b, c):
        assert wait_until(lambda: s.get_stream_status is not None, WAIT_S), s.diagnostics()
        assert s.get_stream_status == 200, s.diagnostics()

    def names(s: RelayClient) -> list:
        found, cursor = [], None
        for _ in range(MAX_PAGES):
            page = s.result("tools/list", {"cursor": cursor} if cursor else {})
            found += [t["name"] for t in page["tools"]]
            cursor = page.get("nextCursor")
            if not cursor:
                return found
        raise AssertionError(f"{s.label}: still a nextCursor after {MAX_PAGES} pages")

    assert "gen_tool_0003" not in names(b) and "m__gen_tool_0003" not in names(c)
    marks = [s.mark() for s in (a, b, c)]
    assert text_of(a.call_tool("change_tools")) == "changed"
    for s, mark in zip((a, b, c), marks):
        assert s.wait_notification("notifications/tools/list_changed", mark), \
            (s.label, s.received[mark:])
    assert "gen_tool_0003" in names(b)
    assert "m__gen_tool_0003" in names(c)
