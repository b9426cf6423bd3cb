"""Clients of protocol version 2026-07-28 ("modern": no initialize, no session, the version and
capabilities in every request's _meta) through the proxy to a 2025-11-25 backend (the mock).
Every check cites the section of docs/specification/2026-07-28 it comes from.

The proxy serves each modern request in a 2025-11-25 session of its own, opened for it and ended
with it (frontend/modern_dispatch); legacy clients keep everything on the same routes."""

from __future__ import annotations

import base64
import json
import socket
import time
import urllib.parse
from typing import Any, Optional

import httpx
import pytest

from conftest import SseParser, mock_config, wait_until
from mcp_shapes import META_CAPS, META_INFO, META_LOG, META_SERVER, META_VERSION, MODERN



def modern_meta(version: str = MODERN, **extra: Any) -> dict:
    meta = {META_VERSION: version, META_CAPS: {}, META_INFO: {"name": "modern-test", "version": "1"}}
    meta.update(extra)
    return meta


def modern_headers(method: str, version: Optional[str] = MODERN, name: Optional[str] = None) -> dict:
    h = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json",
         "Mcp-Method": method}
    if version is not None:
        h["MCP-Protocol-Version"] = version
    if name is not None:
        h["Mcp-Name"] = name
    return h


class Answer:
    def __init__(self, status: int, headers: httpx.Headers, messages: list):
        self.status, self.headers, self.messages = status, headers, messages

    def final(self) -> dict:
        finals = [m for m in self.messages if "result" in m or "error" in m]
        assert len(finals) == 1, self.messages
        return finals[0]


def post(http: httpx.Client, url: str, body: dict, headers: dict) -> Answer:
    with http.stream("POST", url, content=json.dumps(body).encode(), headers=headers) as r:
        if r.headers.get("content-type", "").startswith("text/event-stream"):
            parser, messages = SseParser(), []
            for text in r.iter_text():
                for ev in parser.feed(text):
                    if ev.data:
                        messages.append(json.loads(ev.data))
            return Answer(r.status_code, r.headers, messages)
        raw = r.read()
        return Answer(r.status_code, r.headers, [json.loads(raw)] if raw else [])


def modern_call(http, url, method: str, params: Optional[dict] = None, *, rid: Any = 1,
                meta: Optional[dict] = None, name: Optional[str] = None,
                headers: Optional[dict] = None) -> Answer:
    p = dict(params or {})
    p["_meta"] = meta if meta is not None else modern_meta()
    h = headers if headers is not None else modern_headers(method, name=name)
    return post(http, url, {"jsonrpc": "2.0", "id": rid, "method": method, "params": p}, h)


@pytest.fixture(params=["shared", "per-client"])
def modern_proxy(request, start_proxy, mock_server_bin):
    return start_proxy(mock_config(mock_server_bin, mock={"sessionMode": request.param}))


@pytest.fixture(params=["/mock/mcp", "/mcp"])
def url(request, modern_proxy) -> str:
    return modern_proxy.base_url + request.param


@pytest.mark.spec("2026-07-28 server/discover")
def test_discover_answers_versions_capabilities_and_server_info(http, url):
    """server/discover: servers MUST implement it; supportedVersions, capabilities, ttlMs and
    cacheScope are required, serverInfo goes in result _meta. basic/index (statelessness): no
    session is minted."""
    a = modern_call(http, url, "server/discover", rid="discover-1")
    assert a.status == 200
    assert "mcp-session-id" not in a.headers
    r = a.final()
    assert r["id"] == "discover-1"
    res = r["result"]
    assert res["resultType"] == "complete"
    assert res["supportedVersions"] == [MODERN]
    assert "tools" in res["capabilities"]
    assert isinstance(res["ttlMs"], int) and res["ttlMs"] >= 0
    assert res["cacheScope"] in ("public", "private")
    assert res["_meta"][META_SERVER]["name"]


@pytest.mark.spec("2026-07-28 basic/index#result-responses")
def test_list_and_call_results_carry_result_type_and_cache_fields(http, url):
    """basic/index: every result MUST include resultType; serverInfo SHOULD be in result _meta.
    server/utilities/caching: list results carry ttlMs and cacheScope."""
    listed = modern_call(http, url, "tools/list")
    assert listed.status == 200
    res = listed.final()["result"]
    assert res["resultType"] == "complete"
    assert res["cacheScope"] in ("public", "private") and res["ttlMs"] >= 0
    assert META_SERVER in res["_meta"]
    names = [t["name"] for t in res["tools"]]
    echo = next(n for n in names if n.endswith("echo"))
    called = modern_call(http, url, "tools/call", {"name": echo, "arguments": {"text": "modern"}},
                         rid=2, name=echo)
    assert called.status == 200
    res = called.final()["result"]
    assert res["resultType"] == "complete"
    assert res["content"][0]["text"] == "modern"
    assert "mcp-session-id" not in called.headers


@pytest.mark.spec("2026-07-28 basic/index#per-request-protocol-fields")
@pytest.mark.parametrize("missing", [META_VERSION, META_CAPS])
def test_missing_meta_fields_get_32602_and_400_with_the_id(http, url, missing):
    """basic/index: a request missing a required _meta field MUST be rejected with -32602 and
    HTTP 400; error responses carry the request id."""
    meta = modern_meta()
    del meta[missing]
    a = modern_call(http, url, "server/discover", rid=104, meta=meta)
    assert a.status == 400
    assert a.final()["id"] == 104
    assert a.final()["error"]["code"] == -32602


@pytest.mark.spec("2026-07-28 basic/transports/streamable-http#protocol-version-header")
def test_header_and_body_versions_that_differ_get_32020(http, url):
    """streamable-http: MCP-Protocol-Version different from the body's version MUST be rejected
    (400, HeaderMismatch -32020), before the version itself is judged."""
    a = modern_call(http, url, "tools/list", rid=302, meta=modern_meta("v999.0.0"))
    assert a.status == 400
    assert a.final()["id"] == 302
    assert a.final()["error"]["code"] == -32020


@pytest.mark.spec("2026-07-28 basic/versioning#protocol-version-negotiation")
def test_an_unsupported_version_gets_32022_listing_the_supported_ones(http, url):
    """basic/versioning: an unsupported version MUST get UnsupportedProtocolVersionError with the
    supported versions (data.supported, data.requested); streamable-http: HTTP 400."""
    a = modern_call(http, url, "tools/list", rid=301, meta=modern_meta("v999.0.0"),
                    headers=modern_headers("tools/list", version="v999.0.0"))
    assert a.status == 400
    err = a.final()["error"]
    assert a.final()["id"] == 301
    assert err["code"] == -32022
    assert err["data"]["requested"] == "v999.0.0"
    discover = modern_call(http, url, "server/discover").final()["result"]
    assert set(err["data"]["supported"]) <= set(discover["supportedVersions"])


@pytest.mark.spec("2026-07-28 basic/transports/streamable-http#server-validation")
def test_mcp_method_and_mcp_name_are_required_and_must_match(http, url):
    """streamable-http, server validation: a missing or mismatched standard header MUST be
    rejected with 400 (-32020); names are case-insensitive, values case-sensitive; a Base64
    sentinel is decoded before comparing."""
    tools = modern_call(http, url, "tools/list").final()["result"]["tools"]
    echo = next(t["name"] for t in tools if t["name"].endswith("echo"))
    body_params = {"name": echo, "arguments": {"text": "x"}}
    h = modern_headers("tools/call")  # no Mcp-Name
    a = modern_call(http, url, "tools/call", body_params, headers=h)
    assert a.status == 400 and a.final()["error"]["code"] == -32020
    h = modern_headers("tools/call", name="other")
    a = modern_call(http, url, "tools/call", body_params, headers=h)
    assert a.status == 400 and a.final()["error"]["code"] == -32020
    h = modern_headers("TOOLS/LIST")
    assert modern_call(http, url, "tools/list", headers=h).status == 400
    h = modern_headers("tools/list")
    h["mcp-method"] = h.pop("Mcp-Method")
    assert modern_call(http, url, "tools/list", headers=h).status == 200
    encoded = "=?base64?" + base64.b64encode(echo.encode()).decode() + "?="
    a = modern_call(http, url, "tools/call", body_params,
                    headers=modern_headers("tools/call", name=encoded))
    assert a.status == 200 and a.final()["result"]["resultType"] == "complete"


@pytest.mark.spec("2026-07-28 basic/transports/streamable-http#protocol-version-header")
@pytest.mark.parametrize("method", ["initialize", "ping", "logging/setLevel",
                                    "resources/subscribe", "resources/unsubscribe"])
def test_methods_the_era_removed_get_404_and_32601(http, url, method):
    """changelog: these methods are gone in 2026-07-28; streamable-http: a method the server does
    not implement MUST get 404 with -32601."""
    a = modern_call(http, url, method, {"level": "info"} if method == "logging/setLevel" else {},
                    rid=601)
    assert a.status == 404
    assert a.final()["id"] == 601
    assert a.final()["error"]["code"] == -32601


@pytest.mark.spec("2026-07-28 basic/transports/streamable-http#earlier-streamable-http-revisions")
@pytest.mark.parametrize("verb", ["GET", "DELETE"])
def test_get_and_delete_of_a_modern_client_get_405(http, url, verb):
    """streamable-http, earlier revisions: GET and DELETE SHOULD get 405 from a server of this
    revision (there is no stream and no session)."""
    r = http.request(verb, url, headers={"Accept": "text/event-stream",
                                         "MCP-Protocol-Version": MODERN})
    assert r.status_code == 405
    assert "POST" in r.headers.get("allow", "")


@pytest.mark.spec("2026-07-28 server/utilities/logging")
def test_log_messages_only_with_the_per_request_level(http, modern_proxy):
    """server/utilities/logging: without io.modelcontextprotocol/logLevel the server MUST NOT send
    notifications/message for the request; with it, messages at or above it arrive."""
    url = modern_proxy.url("mock")
    quiet = modern_call(http, url, "tools/call", {"name": "log", "arguments": {"text": "hi"}},
                        name="log")
    assert quiet.status == 200
    assert not [m for m in quiet.messages if m.get("method") == "notifications/message"]
    loud = modern_call(http, url, "tools/call", {"name": "log", "arguments": {"text": "hi"}},
                       meta=modern_meta(**{META_LOG: "debug"}), name="log", rid=2)
    assert loud.status == 200
    logs = [m for m in loud.messages if m.get("method") == "notifications/message"]
    assert logs, loud.messages
    assert loud.final()["result"]["resultType"] == "complete"


@pytest.mark.spec("2026-07-28 basic/patterns/progress")
def test_progress_reaches_the_request_that_asked_for_it(http, modern_proxy):
    """basic/patterns/progress: a progressToken in _meta opts the request into
    notifications/progress, sent on that request's stream with the client's token."""
    url = modern_proxy.url("mock")
    a = modern_call(http, url, "tools/call",
                    {"name": "progress", "arguments": {"steps": 3, "interval_ms": 10}},
                    meta=modern_meta(progressToken="tok-1"), name="progress")
    assert a.status == 200
    progress = [m for m in a.messages if m.get("method") == "notifications/progress"]
    assert len(progress) == 3
    assert all(m["params"]["progressToken"] == "tok-1" for m in progress)
    assert a.final()["result"]["resultType"] == "complete"


@pytest.mark.spec("2026-07-28 server/resources#error-handling")
@pytest.mark.parametrize("route", ["/fixture/mcp", "/mcp"])
def test_an_unknown_resource_is_32602(http, start_proxy, mock_server_bin, route):
    """server/resources, error handling: resource not found MUST be -32602 (2026-07-28 servers
    MUST NOT emit -32002, which the 2025-11-25 backend answers)."""
    proxy = start_proxy(mock_config(mock_server_bin,
                                    fixture={"args": ["--fixture", "conformance"]}))
    uri = "test://no-such-resource"
    a = modern_call(http, proxy.base_url + route, "resources/read", {"uri": uri}, name=uri)
    assert a.final()["error"]["code"] == -32602
    known = modern_call(http, proxy.base_url + route, "resources/read",
                        {"uri": "test://static-text"}, name="test://static-text", rid=2)
    res = known.final()["result"]
    assert res["resultType"] == "complete" and res["cacheScope"] in ("public", "private")


@pytest.mark.spec("2025-11-25 basic/lifecycle")
def test_a_legacy_client_on_the_same_route_keeps_its_session(http, modern_proxy):
    """basic/versioning, backward compatibility: a dual-era server serves both eras; a
    2025-11-25 client still initializes and gets a session beside modern requests."""
    url = modern_proxy.url("mock")
    init = post(http, url, {"jsonrpc": "2.0", "id": 1, "method": "initialize",
                            "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                                       "clientInfo": {"name": "legacy", "version": "1"}}},
                {"Accept": "application/json, text/event-stream",
                 "Content-Type": "application/json"})
    assert init.status == 200
    assert init.headers.get("mcp-session-id")
    assert init.final()["result"]["protocolVersion"] == "2025-11-25"
    assert modern_call(http, url, "tools/list").status == 200


class ListenStream:
    """A subscriptions/listen request over a raw socket: its SSE stream is read (chunked
    transfer coding undone) as next() asks, with a deadline; close() shuts the socket, which is
    how a client ends a listen (basic/patterns/subscriptions: closing the stream)."""

    def __init__(self, url: str, rid: Any, notifications: dict):
        u = urllib.parse.urlsplit(url)
        body = json.dumps({"jsonrpc": "2.0", "id": rid, "method": "subscriptions/listen",
                           "params": {"notifications": notifications,
                                      "_meta": modern_meta()}}).encode()
        head = [f"POST {u.path} HTTP/1.1", f"Host: {u.netloc}",
                f"Content-Length: {len(body)}"]
        head += [f"{k}: {v}" for k, v in modern_headers("subscriptions/listen").items()]
        self.sock = socket.create_connection((u.hostname, u.port), timeout=10)
        self.sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        self.raw = b""
        self.status: Optional[int] = None
        self.parser = SseParser()
        self.pending: list = []

    def _fill(self, deadline: float) -> bool:
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        self.sock.settimeout(left)
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            return False
        if not data:
            return False
        self.raw += data
        return True

    def _take_chunks(self) -> None:
        if self.status is None:
            end = self.raw.find(b"\r\n\r\n")
            if end < 0:
                return
            self.status = int(self.raw.split(b" ", 2)[1])
            self.raw = self.raw[end + 4:]
        while True:
            line_end = self.raw.find(b"\r\n")
            if line_end < 0:
                return
            size = int(self.raw[:line_end].split(b";")[0], 16)
            if len(self.raw) < line_end + 2 + size + 2:
                return
            chunk = self.raw[line_end + 2:line_end + 2 + size]
            self.raw = self.raw[line_end + 2 + size + 2:]
            for ev in self.parser.feed(chunk.decode()):
                if ev.data:
                    self.pending.append(json.loads(ev.data))

    def next(self, timeout: float = 10.0) -> Optional[dict]:
        deadline = time.monotonic() + timeout
        while True:
            self._take_chunks()
            if self.pending:
                return self.pending.pop(0)
            if not self._fill(deadline):
                return None

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


@pytest.fixture
def fixture_proxy(start_proxy, mock_server_bin):
    return start_proxy(mock_config(mock_server_bin, fixture={"args": ["--fixture", "conformance"]}))


@pytest.mark.spec("2026-07-28 basic/patterns/subscriptions")
@pytest.mark.parametrize("route", ["/fixture/mcp", "/mcp"])
def test_listen_acknowledges_then_sends_only_what_was_asked_tagged(http, fixture_proxy, route):
    """basic/patterns/subscriptions: the acknowledgment MUST come first with the honored filter;
    only the requested notification types follow (MUST NOT send others); each carries
    _meta.subscriptionId, the listen request's id."""
    url = fixture_proxy.base_url + route
    listen = ListenStream(url, 77, {"toolsListChanged": True})
    try:
        ack = listen.next()
        assert listen.status == 200
        assert ack is not None and ack["method"] == "notifications/subscriptions/acknowledged"
        assert ack["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"] == 77
        assert ack["params"]["notifications"] == {"toolsListChanged": True}
        tools = modern_call(http, url, "tools/list").final()["result"]["tools"]
        trigger = "test_trigger_prompt_change"
        prefix = next(t["name"] for t in tools if t["name"].endswith("test_simple_text"))[
            :-len("test_simple_text")]
        a = modern_call(http, url, "tools/call", {"name": prefix + trigger, "arguments": {}},
                        name=prefix + trigger, rid=2)
        assert a.final()["result"]["resultType"] == "complete"
        trigger = "test_trigger_tool_change"
        a = modern_call(http, url, "tools/call", {"name": prefix + trigger, "arguments": {}},
                        name=prefix + trigger, rid=3)
        assert a.final()["result"]["resultType"] == "complete"
        got = listen.next()
        assert got is not None, "no notifications/tools/list_changed on the listen stream"
        assert got["method"] == "notifications/tools/list_changed"  # not the prompts one first
        assert got["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"] == 77
    finally:
        listen.close()


@pytest.mark.spec("2026-07-28 basic/patterns/subscriptions")
def test_listen_resource_subscriptions_map_to_resources_subscribe(http, fixture_proxy):
    """basic/patterns/subscriptions: resourceSubscriptions replace resources/subscribe; a
    resources/updated for a subscribed URI arrives tagged; closing the stream ends the
    subscription (the backend is unsubscribed: a later change notifies nobody)."""
    url = fixture_proxy.url("fixture")
    listen = ListenStream(url, "sub-1", {"resourceSubscriptions": ["test://watched-resource"]})
    try:
        ack = listen.next()
        assert ack["params"]["notifications"] == {
            "resourceSubscriptions": ["test://watched-resource"]}
        a = modern_call(http, url, "tools/call", {"name": "touch_resource", "arguments": {}},
                        name="touch_resource")
        assert "subscribers notified" in a.final()["result"]["content"][0]["text"]
        got = listen.next()
        assert got["method"] == "notifications/resources/updated"
        assert got["params"]["uri"] == "test://watched-resource"
        assert got["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"] == "sub-1"
    finally:
        listen.close()
    deadline = time.monotonic() + 10
    text = ""
    while time.monotonic() < deadline:
        a = modern_call(http, url, "tools/call", {"name": "touch_resource", "arguments": {}},
                        name="touch_resource", rid=9)
        text = a.final()["result"]["content"][0]["text"]
        if "no subscriber" in text:
            break
        time.sleep(0.1)
    assert "no subscriber" in text


@pytest.mark.spec("2026-07-28 basic/patterns/subscriptions")
def test_closing_a_listen_ends_it_before_anything_is_written(http, fixture_proxy):
    """basic/patterns/subscriptions: closing the stream ends the listen. The proxy notices the
    close while it has nothing to write (no notification, the 15 s keep-alive far off): the
    listen's session ends at once and the backend is unsubscribed."""
    url = fixture_proxy.url("fixture")
    listen = ListenStream(url, "sub-2", {"resourceSubscriptions": ["test://watched-resource"]})
    try:
        assert listen.next()["method"] == "notifications/subscriptions/acknowledged"
        ended = fixture_proxy.output().count(": ended\n")
    finally:
        listen.close()
    assert wait_until(lambda: fixture_proxy.output().count(": ended\n") > ended, 5.0), \
        fixture_proxy.output()[-3000:]
    a = modern_call(http, url, "tools/call", {"name": "touch_resource", "arguments": {}},
                    name="touch_resource", rid=9)
    assert "no subscriber" in a.final()["result"]["content"][0]["text"], a.messages


@pytest.mark.spec("2026-07-28 server/utilities/logging")
def test_the_fixture_logging_tool_logs_only_with_a_level(http, fixture_proxy):
    """server/utilities/logging: no notifications/message for a request without logLevel (the
    2026-07-28 suite's test_logging_tool probe)."""
    url = fixture_proxy.url("fixture")
    a = modern_call(http, url, "tools/call", {"name": "test_logging_tool", "arguments": {}},
                    name="test_logging_tool")
    assert a.status == 200
    assert not [m for m in a.messages if m.get("method") == "notifications/message"]
    assert a.final()["result"]["resultType"] == "complete"


@pytest.mark.spec("2026-07-28 basic/transports/streamable-http#protocol-version-header")
def test_a_method_nobody_implements_gets_404(http, fixture_proxy):
    """streamable-http: a request for a method the server does not implement MUST get 404 with
    -32601 (the backend's own -32601 included: the proxy serves nothing more)."""
    a = modern_call(http, fixture_proxy.url("fixture"), "unknown/method", rid=600)
    assert a.status == 404
    assert a.final()["error"]["code"] == -32601 and a.final()["id"] == 600


# --- multi round-trip requests (basic/patterns/mrtr) -------------------------------------------

def caps_meta(caps: dict) -> dict:
    return modern_meta(**{META_CAPS: caps})


def only_input_request(result: dict) -> tuple:
    assert result["resultType"] == "input_required", result
    requests = result["inputRequests"]
    assert len(requests) == 1, requests
    (key, value), = requests.items()
    return key, value


ELICIT = {"name": "test_elicitation", "arguments": {"message": "Name?"}}
ELICIT_META = caps_meta({"elicitation": {}})


def start_elicitation(http, url) -> tuple:
    """Calls the fixture's test_elicitation as a client that can elicit: (the
    input_required result, its only key)."""
    result = modern_call(http, url, "tools/call", ELICIT, name="test_elicitation",
                         meta=ELICIT_META).final()["result"]
    key, _ = only_input_request(result)
    return result, key


def retry_elicitation(http, url, responses: dict, state: str, rid: int) -> dict:
    return modern_call(http, url, "tools/call",
                       {**ELICIT, "inputResponses": responses, "requestState": state},
                       rid=rid, name="test_elicitation", meta=ELICIT_META).final()


@pytest.fixture(params=["shared", "per-client"])
def mrtr_proxy(request, start_proxy, mock_server_bin):
    return start_proxy(mock_config(mock_server_bin, fixture={
        "args": ["--fixture", "conformance"], "prefix": "", "sessionMode": request.param,
        "timeout": "4s"}))


@pytest.mark.spec("2026-07-28 basic/patterns/mrtr")
@pytest.mark.parametrize("route", ["/fixture/mcp", "/mcp"])
def test_a_backend_elicitation_becomes_input_required_and_the_retry_completes(http, mrtr_proxy,
                                                                              route):
    """mrtr: a server that needs input answers InputRequiredResult (resultType input_required,
    inputRequests keyed by the server, requestState); the client retries the same request with
    a new id, inputResponses and the requestState, and gets the complete result. The 2025-11-25
    backend asked with elicitation/create; the proxy bridged it."""
    url = mrtr_proxy.base_url + route
    params = {"name": "test_elicitation", "arguments": {"message": "Who are you?"}}
    first = modern_call(http, url, "tools/call", params, rid=1, name="test_elicitation",
                        meta=caps_meta({"elicitation": {}}))
    assert first.status == 200
    result = first.final()["result"]
    key, ask = only_input_request(result)
    assert ask["method"] == "elicitation/create"
    assert ask["params"]["message"] == "Who are you?"
    assert "ttlMs" not in result and isinstance(result["requestState"], str)
    answer = {"action": "accept", "content": {"username": "alice", "email": "a@example.com"}}
    second = modern_call(http, url, "tools/call",
                         {**params, "inputResponses": {key: answer},
                          "requestState": result["requestState"]},
                         rid=2, name="test_elicitation", meta=caps_meta({"elicitation": {}}))
    final = second.final()
    assert final["id"] == 2
    assert final["result"]["resultType"] == "complete"
    assert "action=accept" in final["result"]["content"][0]["text"]
    assert "alice" in final["result"]["content"][0]["text"]


@pytest.mark.spec("2026-07-28 basic/patterns/mrtr")
def test_a_backend_sampling_request_is_bridged(http, mrtr_proxy):
    """mrtr: sampling/createMessage is one of the input requests; the client's
    CreateMessageResult is the backend request's result."""
    url = mrtr_proxy.url("fixture")
    params = {"name": "test_sampling", "arguments": {"prompt": "2+2?"}}
    meta = caps_meta({"sampling": {}})
    first = modern_call(http, url, "tools/call", params, name="test_sampling", meta=meta)
    result = first.final()["result"]
    key, ask = only_input_request(result)
    assert ask["method"] == "sampling/createMessage"
    reply = {"role": "assistant", "content": {"type": "text", "text": "four"},
             "model": "test-model", "stopReason": "endTurn"}
    second = modern_call(http, url, "tools/call",
                         {**params, "inputResponses": {key: reply},
                          "requestState": result["requestState"]},
                         rid=2, name="test_sampling", meta=meta)
    assert second.final()["result"]["content"][0]["text"] == "LLM response: four"


@pytest.mark.spec("2026-07-28 basic/patterns/mrtr#server-requirements")
def test_a_tampered_or_foreign_state_is_an_error_and_the_call_still_waits(http, mrtr_proxy):
    """mrtr, server requirements 4 and 5: requestState is attacker-controlled and bound to its
    request; a state that fails is rejected with an error (not a result); missing input is asked
    for again under a new state (error handling)."""
    url = mrtr_proxy.url("fixture")
    result, key = start_elicitation(http, url)
    state = result["requestState"]
    decline = {key: {"action": "decline"}}
    assert retry_elicitation(http, url, decline, state + "-TAMPERED", 2)["error"]["code"] == -32602
    again = retry_elicitation(http, url, {"wrong_key": {"action": "accept"}}, state, 3)["result"]
    key2, _ = only_input_request(again)
    assert again["requestState"] != state
    assert retry_elicitation(http, url, decline, state, 4)["error"]["code"] == -32602  # used
    done = retry_elicitation(http, url, {key2: {"action": "decline"}}, again["requestState"], 5)
    assert done["result"]["resultType"] == "complete"
    assert "action=decline" in done["result"]["content"][0]["text"]


@pytest.mark.spec("2026-07-28 basic/patterns/mrtr#server-requirements")
def test_a_call_nobody_retries_ends_at_its_deadline(http, mrtr_proxy):
    """mrtr, server requirements 8: servers MUST NOT assume clients retry. The backend request
    fails at the call's deadline (the server's timeout, 4 s here) and the state is gone."""
    url = mrtr_proxy.url("fixture")
    result, key = start_elicitation(http, url)
    # The proxy logs the end of a call nobody retried; wait for it (bounded), then the state is
    # gone.
    assert wait_until(lambda: "did not retry a suspended tools/call" in mrtr_proxy.output(),
                      timeout_s=30), mrtr_proxy.output()[-3000:]
    late = retry_elicitation(http, url, {key: {"action": "cancel"}}, result["requestState"], 10)
    assert late["error"]["code"] == -32602


@pytest.mark.spec("2026-07-28 basic/index#error-codes")
@pytest.mark.parametrize("route", ["/fixture/mcp", "/mcp"])
def test_a_capability_the_client_did_not_declare_is_32021(http, mrtr_proxy, route):
    """mrtr, server requirements 7: no inputRequests the client has no capability for;
    basic/index: a request that needs an undeclared capability MUST get
    MissingRequiredClientCapabilityError (-32021, data.requiredCapabilities an object), HTTP
    400. The backend asked for elicitation; the client declared only sampling."""
    url = mrtr_proxy.base_url + route
    a = modern_call(http, url, "tools/call",
                    {"name": "test_elicitation", "arguments": {"message": "Name?"}},
                    name="test_elicitation", meta=caps_meta({"sampling": {}}), rid=401)
    assert a.status == 400
    err = a.final()["error"]
    assert a.final()["id"] == 401
    assert err["code"] == -32021
    assert err["data"]["requiredCapabilities"] == {"elicitation": {"form": {}}}
    # The call is over: the next request is served as usual.
    assert modern_call(http, url, "tools/list", rid=402).status == 200


@pytest.mark.spec("2026-07-28 basic/patterns/mrtr#server-requirements")
def test_a_state_from_one_route_does_not_resume_a_call_on_another(http, mrtr_proxy):
    """mrtr, server requirements 5: a requestState is bound to the request it came from, route
    included: sent to the merged /mcp, a state minted on /fixture/mcp is refused. It was used
    (single use, server requirements 4), so the call is left to end at its deadline."""
    own = mrtr_proxy.url("fixture")
    result, key = start_elicitation(http, own)
    answer = {key: {"action": "accept", "content": {"username": "x", "email": "x@example.com"}}}
    foreign = retry_elicitation(http, mrtr_proxy.base_url + "/mcp", answer,
                                result["requestState"], 2)
    assert foreign["error"]["code"] == -32602
    again = retry_elicitation(http, own, answer, result["requestState"], 3)
    assert again["error"]["code"] == -32602
