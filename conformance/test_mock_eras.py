"""The mock server's protocol eras (`mock-mcp-server --era legacy|modern|dual`): as a 2026-07-28
("modern") server over stdio and over Streamable HTTP, and as a dual-era server that still
serves 2025-11-25 clients exactly as `--era legacy` does. Every test cites the file of
docs/specification/2026-07-28 it checks.

Each test starts its own mock (stdio child, or `--http 127.0.0.1:0` with the port read from its
log), bounds every wait, and stops what it started by PID."""

from __future__ import annotations

import json
import queue
import threading
import time
from typing import Any, Iterator, Optional

import httpx
import pytest

from conftest import _SANITIZER_REPORT, ListeningProcess, SseParser
from mcp_session import StdioSession
from mcp_shapes import (META_CAPS, META_INFO, META_LOG, META_SERVER, META_VERSION, MODERN,
                        SUBSCRIPTION)

WAIT_S = 20.0  # an ASan build on a busy 2-core machine answers slowly
QUIET_S = 0.5  # how long "nothing more arrives" is watched


def meta(caps: Optional[dict] = None, **extra: Any) -> dict:
    m = {META_VERSION: MODERN, META_CAPS: {} if caps is None else caps,
         META_INFO: {"name": "mock-eras-test", "version": "1"}}
    m.update(extra)
    return m


def modern_params(params: Optional[dict] = None, caps: Optional[dict] = None, **extra) -> dict:
    p = dict(params or {})
    p["_meta"] = meta(caps, **extra)
    return p


# --------------------------------------------------------------------------------------------
# The two transports behind one small interface: rpc() gives (HTTP status or None, messages).


class StdioMock:
    def __init__(self, binary, era: str):
        self.session = StdioSession([str(binary), "--era", era, "--fixture", "conformance"],
                                    label=f"mock --era {era}")
        self._ids = iter(range(1, 1_000_000))

    def rpc(self, method: str, params: Optional[dict], **_) -> tuple[Optional[int], list]:
        start = self.session.mark()
        rid = self.session.start_request(method, params, request_id=f"s{next(self._ids)}")
        final = self.session.wait_response(rid, WAIT_S)
        related = [m for m in self.session.messages(start=start)
                   if "method" in m and m is not final]
        return None, related + [final]

    def stop(self) -> None:
        self.session.close()
        assert not _SANITIZER_REPORT.search(self.session.stderr_text()), self.session.stderr_text()


class HttpMock:
    def __init__(self, binary, era: str):
        self.process = ListeningProcess(f"mock --era {era}", [
            binary, "--era", era, "--fixture", "conformance", "--http", "127.0.0.1:0"])
        self.url = f"{self.process.base_url}/mock/mcp"
        self.http = httpx.Client(timeout=WAIT_S)
        self._ids = iter(range(1, 1_000_000))

    @staticmethod
    def headers(method: str, params: Optional[dict]) -> dict:
        h = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json",
             "Mcp-Method": method}
        version = ((params or {}).get("_meta") or {}).get(META_VERSION)
        if version:
            h["MCP-Protocol-Version"] = version
        name = (params or {}).get("uri" if method == "resources/read" else "name")
        if method in ("tools/call", "prompts/get", "resources/read") and isinstance(name, str):
            h["Mcp-Name"] = name
        return h

    def post(self, body: dict, headers: dict) -> tuple[int, list, httpx.Headers]:
        with self.http.stream("POST", self.url, content=json.dumps(body).encode(),
                              headers=headers) as r:
            if r.headers.get("content-type", "").startswith("text/event-stream"):
                parser, messages = SseParser(), []
                for text in r.iter_text():
                    messages += [json.loads(e.data) for e in parser.feed(text) if e.data]
                return r.status_code, messages, r.headers
            raw = r.read()
            return r.status_code, [json.loads(raw)] if raw else [], r.headers

    def rpc(self, method: str, params: Optional[dict], headers: Optional[dict] = None
            ) -> tuple[Optional[int], list]:
        body = {"jsonrpc": "2.0", "id": next(self._ids), "method": method}
        if params is not None:
            body["params"] = params
        status, messages, _ = self.post(body, headers or self.headers(method, params))
        return status, messages

    def stop(self) -> None:
        self.http.close()
        self.process.stop()
        out = self.process.output()
        report = _SANITIZER_REPORT.search(out)
        # From the report's first line: its top frames say where (the tail alone lost them).
        assert not report, out[report.start():][:16000] if report else ""


@pytest.fixture
def start_mock(mock_server_bin) -> Iterator:
    started: list = []

    def start(transport: str, era: str):
        mock = (StdioMock if transport == "stdio" else HttpMock)(mock_server_bin, era)
        started.append(mock)
        return mock

    yield start
    for mock in started:
        mock.stop()


def final(messages: list) -> dict:
    finals = [m for m in messages if "result" in m or "error" in m]
    assert len(finals) == 1, messages
    return finals[0]


def error_code(messages: list) -> Optional[int]:
    return final(messages).get("error", {}).get("code")


TRANSPORTS = ["stdio", "http"]
MODERN_ERAS = ["modern", "dual"]


# --------------------------------------------------------------------------------------------
# Discovery, _meta, versions, results


@pytest.mark.parametrize("era", MODERN_ERAS)
@pytest.mark.parametrize("transport", TRANSPORTS)
def test_discover_names_the_version_capabilities_and_server_info(start_mock, transport, era):
    """server/discover.mdx: supportedVersions, capabilities, serverInfo in result _meta, and the
    cache fields of server/utilities/caching.mdx."""
    status, messages = start_mock(transport, era).rpc("server/discover", modern_params())
    assert status in (None, 200)
    result = final(messages)["result"]
    assert result["resultType"] == "complete"
    assert result["supportedVersions"] == [MODERN]
    assert result["capabilities"]["tools"] == {"listChanged": True}
    assert result["_meta"][META_SERVER]["name"] == "mock-mcp-server"
    assert isinstance(result["ttlMs"], int) and result["cacheScope"] in ("public", "private")


@pytest.mark.parametrize("missing", [META_VERSION, META_CAPS])
@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_request_missing_a_required_meta_field_is_32602(start_mock, transport, missing):
    """basic/index.mdx, per-request protocol fields: -32602, and HTTP 400."""
    params = modern_params()
    del params["_meta"][missing]
    headers = HttpMock.headers("tools/list", {"_meta": {META_VERSION: MODERN}})
    mock = start_mock(transport, "modern")
    status, messages = mock.rpc("tools/list", params, headers=headers)
    assert error_code(messages) == -32602
    assert status in (None, 400)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_an_unknown_version_is_32022_with_supported_and_requested(start_mock, transport):
    """basic/versioning.mdx, protocol version negotiation: UnsupportedProtocolVersionError."""
    params = modern_params()
    params["_meta"][META_VERSION] = "2099-01-01"
    status, messages = start_mock(transport, "modern").rpc("tools/list", params)
    error = final(messages)["error"]
    assert error["code"] == -32022
    assert error["data"] == {"supported": [MODERN], "requested": "2099-01-01"}
    assert status in (None, 400)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_results_carry_result_type_server_info_and_cache_fields(start_mock, transport):
    """basic/index.mdx (resultType, serverInfo on every result) and
    server/utilities/caching.mdx (ttlMs, cacheScope on lists and resources/read)."""
    mock = start_mock(transport, "modern")
    for method, params in (("tools/list", {}), ("resources/read", {"uri": "test://static-text"}),
                           ("tools/call", {"name": "echo", "arguments": {"text": "hi"}})):
        _, messages = mock.rpc(method, modern_params(params))
        result = final(messages)["result"]
        assert result["resultType"] == "complete", method
        assert result["_meta"][META_SERVER]["name"] == "mock-mcp-server", method
        if method != "tools/call":
            assert isinstance(result["ttlMs"], int) and result["cacheScope"], method
    _, messages = mock.rpc("resources/read", modern_params({"uri": "test://nowhere"}))
    assert error_code(messages) == -32602  # server/resources.mdx: not -32002 any more


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_methods_the_era_removed_get_32601(start_mock, transport):
    """changelog.mdx (initialize, ping, logging/setLevel, resources/subscribe removed) and
    basic/transports/streamable-http.mdx (HTTP 404 for a method not found)."""
    mock = start_mock(transport, "modern")
    for method in ("initialize", "ping", "logging/setLevel", "resources/subscribe"):
        status, messages = mock.rpc(method, modern_params())
        assert error_code(messages) == -32601, method
        assert status in (None, 404), method


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_log_messages_only_for_a_request_that_set_a_level(start_mock, transport):
    """server/utilities/logging.mdx, per-request log level: none without logLevel, and only
    at or above it."""
    mock = start_mock(transport, "modern")
    call = {"name": "log", "arguments": {"text": "hello"}}
    _, quiet = mock.rpc("tools/call", modern_params(call))
    _, above = mock.rpc("tools/call", modern_params(call, **{META_LOG: "error"}))
    _, asked = mock.rpc("tools/call", modern_params(call, **{META_LOG: "info"}))
    logs = lambda ms: [m for m in ms if m.get("method") == "notifications/message"]
    assert logs(quiet) == [] and logs(above) == []
    assert [m["params"]["data"] for m in logs(asked)] == ["hello"]
    assert final(asked)["result"]["resultType"] == "complete"


# --------------------------------------------------------------------------------------------
# input_required (MRTR) and capabilities


@pytest.mark.parametrize("era", MODERN_ERAS)
@pytest.mark.parametrize("transport", TRANSPORTS)
def test_input_required_then_the_retry_with_the_state_completes(start_mock, transport, era):
    """basic/patterns/mrtr.mdx: inputRequests keyed by the server, an opaque requestState echoed
    on the retry (a new request), then the complete result; an altered state is refused."""
    mock = start_mock(transport, era)
    caps = {"elicitation": {}}
    call = {"name": "test_input_required_result_request_state", "arguments": {}}
    _, messages = mock.rpc("tools/call", modern_params(call, caps))
    first = final(messages)["result"]
    assert first["resultType"] == "input_required"
    assert first["inputRequests"]["user_name"]["method"] == "elicitation/create"
    state = first["requestState"]
    answer = {"user_name": {"action": "accept", "content": {"name": "Ada"}}}
    retry = dict(call, inputResponses=answer, requestState=state)
    _, messages = mock.rpc("tools/call", modern_params(retry, caps))
    done = final(messages)["result"]
    assert done["resultType"] == "complete"
    assert "state-ok" in done["content"][0]["text"] and "Ada" in done["content"][0]["text"]
    _, messages = mock.rpc("tools/call", modern_params(dict(retry, requestState=state + "x"), caps))
    assert error_code(messages) == -32602


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_question_the_client_cannot_answer_is_32021(start_mock, transport):
    """basic/index.mdx, error codes: MissingRequiredClientCapability with
    data.requiredCapabilities (HTTP 400); the server never sends the request itself."""
    mock = start_mock(transport, "modern")
    call = {"name": "test_missing_capability", "arguments": {}}
    status, messages = mock.rpc("tools/call", modern_params(call, caps={}))
    error = final(messages)["error"]
    assert error["code"] == -32021
    assert error["data"]["requiredCapabilities"] == {"sampling": {}}
    assert status in (None, 400)
    assert not [m for m in messages if "method" in m and "id" in m]
    _, messages = mock.rpc("tools/call", modern_params(call, caps={"sampling": {}}))
    asked = final(messages)["result"]
    assert asked["resultType"] == "input_required"
    assert asked["inputRequests"]["sampling"]["method"] == "sampling/createMessage"


# --------------------------------------------------------------------------------------------
# subscriptions/listen


def test_listen_over_stdio_acks_then_tags_list_changed_until_cancelled(start_mock):
    """basic/patterns/subscriptions.mdx: the acknowledgment first with the honoured filter, then
    only the opted-in notifications tagged with the listen's id; basic/patterns/cancellation.mdx:
    notifications/cancelled ends it."""
    session = start_mock("stdio", "modern").session
    start = session.mark()
    session.start_request("subscriptions/listen", modern_params(
        {"notifications": {"toolsListChanged": True, "promptsListChanged": False}}),
        request_id=77)
    ack = session.wait_for(lambda m: m.get("method") == "notifications/subscriptions/acknowledged",
                           WAIT_S, start)
    assert ack is not None and ack["params"]["_meta"][SUBSCRIPTION] == 77
    assert ack["params"]["notifications"] == {"toolsListChanged": True}
    assert session.request("tools/call", modern_params({"name": "change_tools"}))["result"]
    changed = session.wait_for(lambda m: m.get("method") == "notifications/tools/list_changed",
                               WAIT_S, start)
    assert changed is not None and changed["params"]["_meta"][SUBSCRIPTION] == 77
    session.notify("notifications/cancelled", {"requestId": 77})
    mark = session.mark()
    session.request("tools/call", modern_params({"name": "change_tools"}))
    time.sleep(QUIET_S)  # watching for something that must not come
    assert session.notifications("notifications/tools/list_changed", mark) == []


class ListenStream:
    """A subscriptions/listen POST read on a thread, bounded by `WAIT_S` per message."""

    def __init__(self, mock: HttpMock, rid: Any, notifications: dict):
        self.frames: "queue.Queue[dict]" = queue.Queue()
        self.status: Optional[int] = None
        self.response_headers: Optional[httpx.Headers] = None
        self._stop = threading.Event()
        params = modern_params({"notifications": notifications})
        body = {"jsonrpc": "2.0", "id": rid, "method": "subscriptions/listen", "params": params}
        self._client = httpx.Client(timeout=httpx.Timeout(WAIT_S, read=1.0))
        self._thread = threading.Thread(
            target=self._read, args=(mock.url, body, mock.headers("subscriptions/listen", params)),
            daemon=True)
        self._thread.start()

    def _read(self, url, body, headers) -> None:
        parser = SseParser()
        try:
            with self._client.stream("POST", url, content=json.dumps(body).encode(),
                                     headers=headers) as r:
                self.status, self.response_headers = r.status_code, r.headers
                chunks = r.iter_text()
                while not self._stop.is_set():
                    try:
                        text = next(chunks)
                    except httpx.ReadTimeout:
                        continue  # the stream is quiet: look at the stop flag again
                    except StopIteration:
                        return
                    for e in parser.feed(text):
                        if e.data:
                            self.frames.put(json.loads(e.data))
        except httpx.HTTPError:
            pass

    def next(self, timeout: float = WAIT_S) -> Optional[dict]:
        try:
            return self.frames.get(timeout=timeout)
        except queue.Empty:
            return None

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self._client.close()


@pytest.mark.parametrize("era", MODERN_ERAS)
def test_listen_over_http_acks_then_tags_list_changed_from_another_connection(start_mock, era):
    """basic/patterns/subscriptions.mdx over basic/transports/streamable-http.mdx: the listen is
    an event stream; a tools change made on another connection reaches it tagged; a listen for
    prompts only hears nothing of it; no Mcp-Session-Id is minted."""
    mock = start_mock("http", era)
    tools = ListenStream(mock, 901, {"toolsListChanged": True})
    prompts = ListenStream(mock, 902, {"promptsListChanged": True})
    try:
        for stream, rid in ((tools, 901), (prompts, 902)):
            ack = stream.next()
            assert ack and ack["method"] == "notifications/subscriptions/acknowledged", ack
            assert ack["params"]["_meta"][SUBSCRIPTION] == rid
        assert "mcp-session-id" not in tools.response_headers
        _, messages = mock.rpc("tools/call", modern_params({"name": "change_tools"}))
        assert final(messages)["result"]["resultType"] == "complete"
        changed = tools.next()
        assert changed and changed["method"] == "notifications/tools/list_changed", changed
        assert changed["params"]["_meta"][SUBSCRIPTION] == 901
        assert prompts.next(QUIET_S) is None
    finally:
        tools.close()
        prompts.close()


# --------------------------------------------------------------------------------------------
# HTTP rules and the legacy era beside the modern one


@pytest.mark.parametrize("era", MODERN_ERAS)
def test_http_headers_must_match_the_body(start_mock, era):
    """basic/transports/streamable-http.mdx, server validation: MCP-Protocol-Version, Mcp-Method
    and Mcp-Name must match the body, else 400 with -32020 (HeaderMismatch)."""
    mock = start_mock("http", era)
    params = modern_params({"name": "echo", "arguments": {"text": "x"}})
    good = HttpMock.headers("tools/call", params)
    for broken in (dict(good, **{"Mcp-Method": "tools/list"}), dict(good, **{"Mcp-Name": "add"}),
                   {k: v for k, v in good.items() if k != "Mcp-Name"}):
        status, messages = mock.rpc("tools/call", params, headers=broken)
        assert (status, error_code(messages)) == (400, -32020), broken
    status, messages = mock.rpc("tools/call", params, headers=good)
    assert status == 200 and final(messages)["result"]["content"][0]["text"] == "x"


def test_get_and_delete_of_a_modern_only_server_get_405(start_mock):
    """basic/transports/streamable-http.mdx, earlier Streamable HTTP revisions: no GET stream
    and no session to delete (SHOULD 405)."""
    mock = start_mock("http", "modern")
    for verb in ("GET", "DELETE"):
        r = mock.http.request(verb, mock.url, headers={"MCP-Protocol-Version": MODERN})
        assert r.status_code == 405, verb


def legacy_initialize(mock, transport: str) -> tuple[Optional[int], list, Optional[str]]:
    params = {"protocolVersion": "2025-11-25", "capabilities": {},
              "clientInfo": {"name": "legacy-client", "version": "1"}}
    if transport == "stdio":
        return (*mock.rpc("initialize", params), None)
    body = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": params}
    status, messages, headers = mock.post(body, {"Accept": "application/json, text/event-stream",
                                                 "Content-Type": "application/json"})
    return status, messages, headers.get("mcp-session-id")


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_legacy_initialize_is_served_in_dual_and_refused_in_modern(start_mock, transport):
    """basic/versioning.mdx, backward compatibility: a dual-era server starts a legacy session
    on initialize (over HTTP, with Mcp-Session-Id); a modern-only one answers -32022 naming
    the versions it supports."""
    dual = start_mock(transport, "dual")
    status, messages, session_id = legacy_initialize(dual, transport)
    result = final(messages)["result"]
    assert result["protocolVersion"] == "2025-11-25" and "resultType" not in result
    if transport == "http":
        assert status == 200 and session_id
        headers = {"Accept": "application/json, text/event-stream",
                   "Content-Type": "application/json", "Mcp-Session-Id": session_id,
                   "MCP-Protocol-Version": "2025-11-25"}
        dual.post({"jsonrpc": "2.0", "method": "notifications/initialized"}, headers)
        status, messages, _ = dual.post({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                                         "params": {"name": "echo", "arguments": {"text": "old"}}},
                                        headers)
    else:
        dual.session.notify("notifications/initialized")
        status, messages = dual.rpc("tools/call", {"name": "echo", "arguments": {"text": "old"}})
    assert final(messages)["result"] == {"content": [{"type": "text", "text": "old"}]}

    modern = start_mock(transport, "modern")
    status, messages, session_id = legacy_initialize(modern, transport)
    error = final(messages)["error"]
    assert error["code"] == -32022 and error["data"]["supported"] == [MODERN]
    assert error["data"]["requested"] == "2025-11-25"
    assert status in (None, 400) and session_id is None
