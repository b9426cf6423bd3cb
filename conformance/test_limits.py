"""Limits per identity (issue #16 item 4: `mcpProxy.limits`): token buckets on the JSON-RPC
requests and tool calls of each identity, per tool pattern, and a bound on its calls in flight.

What is checked, each against real answers of the proxy:

* Every JSON-RPC request (initialize included, notifications and responses not) takes a token of
  the identity's request bucket; past the burst a request is refused with JSON-RPC error -32029,
  "Too many requests: the limit on <what> is reached; retry after N s", `error.data`
  {"limit": <what>, "retryAfter": N}. Over HTTP that answer comes with status 429 and
  `Retry-After: N` (Streamable HTTP, 2026-07-28 requests, a legacy SSE POST of one message); in a
  legacy SSE batch it goes on the event stream; over `--stdio` it is the answer line.
* After Retry-After seconds a request passes again; another identity is never affected.
* tools/call also takes tokens of the tool-call bucket and of the bucket of every `tools`
  pattern its name (as the route shows it) matches: all matching tools share that bucket; other
  tools, tools/list and ping still pass.
* maxCallsInFlight: a call holds its slot until its final answer is sent; a request refused for
  it ("calls in flight") takes no token.
* Identities: "token:NAME" (static tokens with names), "peer:ADDRESS" for clients without
  credentials (all clients of one address share it), "stdio"; an identity's settings override
  the defaults field by field.
* A bad `mcpProxy.limits` is a config error naming its path (exit status 2).

Counts, not timing, are what is asserted: rates are either small enough that nothing refills
during a test (SLOW) or the refill the limit allows over the measured time is allowed for.
Every proxy binds 127.0.0.1 port 0, is stopped by PID and must exit 0 on SIGTERM without a
sanitizer report and without any token of this file in its output.
"""

from __future__ import annotations

import json
import re
import subprocess
import threading
import time
from pathlib import Path
from typing import Any, Iterator, Optional

import httpx
import pytest

from conftest import (_SANITIZER_REPORT, HTTP_TIMEOUT_S, McpClient, McpReply, ProxyProcess,
                      mock_config, text_of)
from mcp_modern import request_meta
from mcp_session import LegacySseSession, StdioSession, is_request, modern_headers
from proxy_fleet import ProxyFleet, SentCredentials

RATE_LIMITED = -32029
REQUESTS = "requests per second"
TOOL_CALLS = "tool calls per second"
IN_FLIGHT = "calls in flight"
SLOW = 0.001  # a rate under which nothing worth a token refills during a test
WAIT_S = 20.0  # an ASan build on a busy 2-core machine answers slowly
MAX_TRIES = 12  # requests sent at most while looking for the first refusal

TOKENS = {"dev": "limits-dev_Kq82vXs", "ci": "limits-ci_Pw13nTd", "ops": "limits-ops_Zr57hLc"}
SENT = SentCredentials(TOKENS.values())


# --------------------------------------------------------------------------------------------
# Proxies and configs


@pytest.fixture
def proxies(mcp_proxy_bin, tmp_path) -> Iterator[ProxyFleet]:
    fleet = ProxyFleet(mcp_proxy_bin, tmp_path, SENT)
    yield fleet
    problems = fleet.stop_all()
    if problems:
        pytest.fail("\n\n".join(problems))


def limited(mock_server_bin: Path, limits: dict, tokens: tuple = tuple(TOKENS),
            **servers: dict) -> dict:
    """The mock at /mock (or `servers`), every route needing one of `tokens` (none: open),
    with `limits` as mcpProxy.limits."""
    config = mock_config(mock_server_bin, **(servers or {"mock": {"sessionMode": "shared"}}))
    config["mcpProxy"]["options"] = {
        "authTokens": [{"name": n, "token": TOKENS[n]} for n in tokens]}
    config["mcpProxy"]["limits"] = limits
    return config


# --------------------------------------------------------------------------------------------
# Clients


class Client(McpClient):
    """A Streamable HTTP client sending `Authorization: Bearer <token>` (None: no credentials)
    with every request; `send` returns the whole reply, so that refusals can be looked at."""

    def __init__(self, proxy: ProxyProcess, route: str, http: httpx.Client,
                 who: Optional[str] = None):
        super().__init__(proxy.base_url + route, http)
        self.auth = SENT.bearer(TOKENS[who]) if who else {}

    def headers(self, session: Any = None, extra: Optional[dict] = None) -> dict:
        return super().headers(session, {**self.auth, **(extra or {})})

    def send(self, method: str, params: Optional[dict] = None) -> tuple[int, McpReply]:
        rid = self.next_id()
        message: dict = {"jsonrpc": "2.0", "id": rid, "method": method}
        if params is not None:
            message["params"] = params
        return rid, self.post(message)

    def served(self, method: str, params: Optional[dict] = None) -> dict:
        """A request that must pass: its result."""
        rid, reply = self.send(method, params)
        assert reply.status == 200, f"{method}: HTTP {reply.status} {reply.body[:500]!r}"
        response = reply.response_to(rid)
        assert "result" in response, f"{method}: {response}"
        return response["result"]

    def refused(self, method: str, params: Optional[dict], limit: str) -> int:
        """A request that must be refused for `limit`: its Retry-After."""
        rid, reply = self.send(method, params)
        return assert_refused_reply(reply, rid, limit)


def text(result: dict) -> str:
    """The first text content of a tools/call result."""
    return text_of({"result": result})


def call(name: str, arguments: Optional[dict] = None) -> dict:
    return {"name": name, "arguments": arguments or {}}


ECHO = call("echo", {"text": "within limits"})


def opened(proxy: ProxyProcess, route: str, http: httpx.Client, who: Optional[str],
           capabilities: Optional[dict] = None) -> Client:
    c = Client(proxy, route, http, who)
    reply = c.initialize(capabilities=capabilities)
    assert reply.status == 200, f"initialize: HTTP {reply.status} {reply.body[:500]!r}"
    assert c.session_id, reply.headers
    done = c.notify("notifications/initialized")
    assert done.status == 202, done
    return c


def assert_refusal(response: dict, limit: str) -> int:
    """A JSON-RPC answer refusing a request for `limit`; returns its retryAfter."""
    error = response.get("error")
    assert isinstance(error, dict), f"not refused for {limit}: {response}"
    assert error.get("code") == RATE_LIMITED, response
    data = error.get("data")
    assert isinstance(data, dict) and data.get("limit") == limit, response
    after = data.get("retryAfter")
    assert isinstance(after, int) and not isinstance(after, bool) and after >= 1, response
    assert error.get("message") == (f"Too many requests: the limit on {limit} is reached; "
                                    f"retry after {after} s"), response
    return after


def assert_refused_reply(reply: McpReply, rid: Any, limit: str) -> int:
    """An HTTP answer refusing request `rid` for `limit`: 429, Retry-After, the JSON-RPC error as
    a JSON body. Returns the Retry-After."""
    assert reply.status == 429, (f"expected 429 ({limit}), got HTTP {reply.status} "
                                 f"{reply.body[:500]!r}")
    header = reply.headers.get("retry-after", "")
    assert re.fullmatch(r"[0-9]+", header) and int(header) >= 1, dict(reply.headers)
    assert reply.content_type.lower().startswith("application/json"), dict(reply.headers)
    assert reply.json() == reply.response_to(rid), reply.body  # the answer is the whole body
    after = assert_refusal(reply.response_to(rid), limit)
    assert int(header) == after, (header, reply.body)
    return after


def ping_until_refused(client: Client) -> tuple[int, int]:
    """Pings until one is refused (bounded): (how many were served, the refused one's
    Retry-After)."""
    for served in range(MAX_TRIES):
        rid, reply = client.send("ping")
        if reply.status != 200:
            return served, assert_refused_reply(reply, rid, REQUESTS)
        assert reply.response_to(rid).get("result") == {}, reply.body
    raise AssertionError(f"{MAX_TRIES} pings served: no request limit applies")


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=HTTP_TIMEOUT_S, trust_env=False) as c:
        yield c


# --------------------------------------------------------------------------------------------
# Requests per second


def test_requests_over_the_burst_get_429_with_retry_after_and_pass_again_after_it(
        proxies, mock_server_bin, http):
    """requestsPerSecond 0.2, requestBurst 3: initialize and two pings pass, the next request is
    refused (the refill over the measured time is allowed for); after Retry-After seconds one
    passes again. Notifications pass while refused; a new session's initialize is refused too;
    another token's client is served all along."""
    rate, burst = 0.2, 3
    proxy = proxies.start(limited(mock_server_bin, {"requestsPerSecond": rate,
                                                    "requestBurst": burst}))
    start = time.monotonic()
    dev = opened(proxy, "/mock/mcp", http, "dev")  # initialize: one request
    pings, after = ping_until_refused(dev)
    elapsed = time.monotonic() - start
    served = 1 + pings
    assert burst <= served <= burst + int(rate * elapsed), (served, elapsed)
    assert after <= 5, after  # one token comes within 1/rate seconds

    # Notifications are no requests; a new session's initialize is one.
    assert dev.notify("notifications/cancelled", {"requestId": 999999,
                                                  "reason": "no such request"}).status == 202
    fresh = Client(proxy, "/mock/mcp", http, "dev")
    reply = fresh.initialize(request_id="init-over-limit")
    assert_refused_reply(reply, "init-over-limit", REQUESTS)
    assert "mcp-session-id" not in reply.headers, dict(reply.headers)

    # Another identity has its own bucket.
    ops = opened(proxy, "/mock/mcp", http, "ops")
    assert ops.served("ping") == {}
    assert text(ops.served("tools/call", ECHO)) == "within limits"

    time.sleep(after)
    assert dev.served("ping") == {}
    for c in (dev, ops):
        assert c.delete().status_code in (200, 204)


def test_an_identitys_settings_override_the_defaults_field_by_field(proxies, mock_server_bin,
                                                                    http):
    """token:ci lifts the request rate; the default tool-call rate still applies to it. The
    default client (dev) keeps the default request limit."""
    limits = {"requestsPerSecond": SLOW, "requestBurst": 3,
              "toolCallsPerSecond": SLOW, "toolCallBurst": 2,
              "identities": {"token:ci": {"requestsPerSecond": 1000, "requestBurst": 1000}}}
    proxy = proxies.start(limited(mock_server_bin, limits))
    ci = opened(proxy, "/mock/mcp", http, "ci")
    for _ in range(30):
        assert ci.served("ping") == {}
    assert ci.served("tools/call", ECHO)
    assert ci.served("tools/call", call("add", {"a": 2, "b": 40}))["structuredContent"] == \
        {"sum": 42}
    ci.refused("tools/call", ECHO, TOOL_CALLS)
    assert ci.served("tools/list")["tools"]

    dev = opened(proxy, "/mock/mcp", http, "dev")
    pings, _ = ping_until_refused(dev)
    assert 1 + pings == 3, pings
    dev.refused("tools/call", ECHO, REQUESTS)
    for c in (ci, dev):
        assert c.delete().status_code in (200, 204)


# --------------------------------------------------------------------------------------------
# Tool calls: all tools, and tools matching a pattern


def test_tool_calls_over_their_burst_are_refused_while_other_requests_pass(proxies,
                                                                           mock_server_bin, http):
    proxy = proxies.start(limited(mock_server_bin, {"toolCallsPerSecond": SLOW,
                                                    "toolCallBurst": 2}))
    dev = opened(proxy, "/mock/mcp", http, "dev")
    assert text(dev.served("tools/call", ECHO)) == "within limits"
    assert dev.served("tools/call", call("pid"))
    after = dev.refused("tools/call", ECHO, TOOL_CALLS)
    assert after >= 1
    dev.refused("tools/call", call("add", {"a": 1, "b": 2}), TOOL_CALLS)
    assert "echo" in {t["name"] for t in dev.served("tools/list")["tools"]}
    assert dev.served("ping") == {}
    ops = opened(proxy, "/mock/mcp", http, "ops")
    assert ops.served("tools/call", ECHO)
    for c in (dev, ops):
        assert c.delete().status_code in (200, 204)


def test_tools_matching_a_pattern_share_one_bucket_on_the_names_the_route_shows(
        proxies, mock_server_bin, http):
    """`*__echo` on /mcp (mock and other merged): mock__echo and other__echo share a burst of
    2; then both are refused naming the pattern, and those refusals take no token of the
    identity's tool-call bucket (burst 4: two more calls of mock__add pass, then the bucket is
    empty). On /mock/mcp the same tool is shown as `echo`, which the pattern does not match."""
    limits = {"toolCallsPerSecond": SLOW, "toolCallBurst": 4,
              "tools": {"*__echo": {"callsPerSecond": SLOW, "burst": 2}}}
    config = limited(mock_server_bin, limits, mock={"sessionMode": "shared"},
                     other={"sessionMode": "shared"})
    proxy = proxies.start(config)
    dev = opened(proxy, "/mcp", http, "dev")
    pattern = "calls of tools matching *__echo"
    assert text(dev.served("tools/call", call("mock__echo", {"text": "a"}))) == "a"
    assert text(dev.served("tools/call", call("other__echo", {"text": "b"}))) == "b"
    for name in ("mock__echo", "other__echo", "mock__echo"):
        dev.refused("tools/call", call(name, {"text": "c"}), pattern)
    names = {t["name"] for t in dev.served("tools/list")["tools"]}
    assert {"mock__echo", "other__echo", "mock__add"} <= names, names
    for _ in range(2):
        assert dev.served("tools/call", call("mock__add", {"a": 2, "b": 40}))[
            "structuredContent"] == {"sum": 42}
    dev.refused("tools/call", call("mock__add", {"a": 2, "b": 40}), TOOL_CALLS)

    # The pattern's bucket and the tool-call bucket are dev's on every route; another
    # identity's are its own.
    ops = opened(proxy, "/mcp", http, "ops")
    assert ops.served("tools/call", call("other__echo", {"text": "d"}))
    single = opened(proxy, "/mock/mcp", http, "ci")
    for _ in range(3):  # `echo` matches no pattern: only the tool-call burst (4) applies
        assert text(single.served("tools/call", ECHO)) == "within limits"
    for c in (dev, ops, single):
        assert c.delete().status_code in (200, 204)


# --------------------------------------------------------------------------------------------
# Calls in flight


def test_a_call_in_flight_holds_its_slot_until_its_answer_and_refusals_take_no_token(
        proxies, mock_server_bin, http):
    """maxCallsInFlight 1. The fixture's test_sampling asks the client for a completion and
    waits for the answer: while it waits, every request (a tool call, ping, tools/list) is
    refused for "calls in flight"; the client's answer (a response) passes; once the call's
    result is in, calls pass again. requestBurst 5 at a rate that refills nothing counts the
    tokens: initialize, the slow call and three requests after it, then a refusal for the
    request rate, so the refusals in between took no token."""
    limits = {"maxCallsInFlight": 1, "requestsPerSecond": SLOW, "requestBurst": 5}
    proxy = proxies.start(limited(mock_server_bin, limits, fx={
        "args": ["--fixture", "conformance"], "sessionMode": "per-client"}))
    dev = opened(proxy, "/fx/mcp", http, "dev", capabilities={"sampling": {}})

    asked: dict = {}
    got_request = threading.Event()
    outcome: dict = {}

    def on_message(m: Any) -> None:
        if is_request(m) and m.get("method") == "sampling/createMessage":
            asked.update(m)
            got_request.set()

    def slow_call() -> None:
        rid = "slow-call"
        message = {"jsonrpc": "2.0", "id": rid, "method": "tools/call",
                   "params": call("test_sampling", {"prompt": "hold the slot"})}
        try:
            with http.stream("POST", dev.url, content=json.dumps(message).encode(),
                             headers=dev.headers()) as r:
                reply = dev._read(r, rid, on_message)
            outcome["reply"] = reply
            outcome["response"] = reply.response_to(rid)
        except Exception as e:  # noqa: BLE001 (reported by the test thread)
            outcome["error"] = repr(e)
        finally:
            got_request.set()

    worker = threading.Thread(target=slow_call, name="slow-call", daemon=True)
    worker.start()
    try:
        assert got_request.wait(WAIT_S), "no sampling/createMessage from test_sampling"
        assert asked, f"the slow call ended before its sampling request: {outcome}"
        for method, params in (("tools/call", ECHO), ("ping", None), ("tools/list", {}),
                               ("tools/call", call("pid"))):
            assert dev.refused(method, params, IN_FLIGHT) == 1
        answer = {"jsonrpc": "2.0", "id": asked["id"],
                  "result": {"role": "assistant", "content": {"type": "text", "text": "done"},
                             "model": "limits-test", "stopReason": "endTurn"}}
        assert dev.post(answer).status == 202
    finally:
        worker.join(WAIT_S * 2)
    assert not worker.is_alive(), "the slow call got no answer"
    assert "error" not in outcome, outcome
    assert text_of(outcome["response"]) == "LLM response: done", outcome["response"]

    assert text(dev.served("tools/call", ECHO)) == "within limits"
    assert dev.served("ping") == {}
    assert dev.served("tools/list")["tools"]
    dev.refused("ping", None, REQUESTS)
    assert dev.delete().status_code in (200, 204)


# --------------------------------------------------------------------------------------------
# Clients without credentials: keyed by their address


def test_clients_without_credentials_share_the_limits_of_their_address(proxies, mock_server_bin,
                                                                        http):
    """/open/mcp needs no token: its clients are "peer:127.0.0.1", whose limits the identities
    set (the defaults set none). Two clients of that address share one bucket; a token's client
    on /guarded/mcp is not limited."""
    limits = {"identities": {"peer:127.0.0.1": {"requestsPerSecond": SLOW, "requestBurst": 3}}}
    config = limited(mock_server_bin, limits, tokens=("dev",),
                     open={"sessionMode": "shared", "options": {"authTokens": []}},
                     guarded={"sessionMode": "shared"})
    proxy = proxies.start(config)
    first = opened(proxy, "/open/mcp", http, None)  # 1
    assert first.served("ping") == {}  # 2
    second = opened(proxy, "/open/mcp", http, None)  # 3
    second.refused("ping", None, REQUESTS)
    first.refused("tools/call", ECHO, REQUESTS)
    third = Client(proxy, "/open/mcp", http, None)
    assert_refused_reply(third.initialize(request_id="peer-init"), "peer-init", REQUESTS)

    dev = opened(proxy, "/guarded/mcp", http, "dev")
    for _ in range(6):
        assert dev.served("ping") == {}
    for c in (first, second, dev):
        assert c.delete().status_code in (200, 204)


# --------------------------------------------------------------------------------------------
# 2026-07-28 requests and legacy SSE


def modern_post(http: httpx.Client, url: str, who: str, rid: Any, method: str,
                params: Optional[dict] = None) -> McpReply:
    p = dict(params or {})
    p["_meta"] = request_meta()
    message = {"jsonrpc": "2.0", "id": rid, "method": method, "params": p}
    headers = {**modern_headers(message), **SENT.bearer(TOKENS[who])}
    with http.stream("POST", url, content=json.dumps(message).encode(), headers=headers) as r:
        return McpClient(url, http)._read(r, rid)


def test_modern_requests_over_the_limit_get_429(proxies, mock_server_bin, http):
    """2026-07-28: no initialize, no session; each request takes its token. Past the burst a
    request is refused with 429 and Retry-After; another token's requests pass."""
    proxy = proxies.start(limited(mock_server_bin, {"requestsPerSecond": SLOW,
                                                    "requestBurst": 2}))
    url = proxy.url("mock")
    for rid in (1, 2):
        reply = modern_post(http, url, "dev", rid, "tools/list")
        assert reply.status == 200, reply.body[:500]
        assert reply.response_to(rid)["result"]["tools"], reply.body[:500]
    assert_refused_reply(modern_post(http, url, "dev", 3, "tools/list"), 3, REQUESTS)
    assert_refused_reply(modern_post(http, url, "dev", 4, "tools/call", ECHO), 4, REQUESTS)
    reply = modern_post(http, url, "ops", 5, "tools/call", ECHO)
    assert reply.status == 200, reply.body[:500]
    assert text_of(reply.response_to(5)) == "within limits"


def test_legacy_sse_refusals_answer_a_single_post_with_429_and_a_batch_on_the_stream(
        proxies, mock_server_bin, http):
    """HTTP+SSE, protocol 2024-11-05 (which has JSON-RPC batches): initialize and two requests
    pass (their answers on the stream); a POST of one request over the limit is answered 429
    with the error as its body (and nothing about it on the stream); a POST of a batch is
    accepted (202) and each refusal goes on the stream."""
    proxy = proxies.start(limited(mock_server_bin, {"requestsPerSecond": SLOW,
                                                    "requestBurst": 3}))
    token = SENT.bearer(TOKENS["dev"])
    with LegacySseSession(proxy.base_url + "/mock/sse", headers=token) as sse:
        sse.open(version="2024-11-05")
        assert sse.request("ping").get("result") == {}
        assert text_of(sse.call_tool("echo", {"text": "within limits"})) == "within limits"
        endpoint = sse.endpoint_url
        headers = {"Content-Type": "application/json", **token}
        single = {"jsonrpc": "2.0", "id": "single", "method": "tools/call", "params": ECHO}
        r = http.post(endpoint, content=json.dumps(single), headers=headers)
        is_json = r.headers.get("content-type", "").startswith("application/json")
        reply = McpReply(r.status_code, r.headers, r.content, [r.json()] if is_json else [])
        assert_refused_reply(reply, "single", REQUESTS)

        batch = [{"jsonrpc": "2.0", "id": "b1", "method": "ping"},
                 {"jsonrpc": "2.0", "id": "b2", "method": "tools/list"},
                 {"jsonrpc": "2.0", "method": "notifications/cancelled",
                  "params": {"requestId": "nothing", "reason": "no such request"}}]
        r = http.post(endpoint, content=json.dumps(batch), headers=headers)
        assert r.status_code == 202, (r.status_code, r.text[:500])
        for rid in ("b1", "b2"):
            assert_refusal(sse.wait_response(rid, WAIT_S), REQUESTS)
        # Answers come in order on the one stream: the single POST's error would be there by now.
        assert not sse.messages(lambda m: m.get("id") == "single"), sse.messages()


# --------------------------------------------------------------------------------------------
# stdio


def test_stdio_refusals_are_json_rpc_errors(mcp_proxy_bin, mock_server_bin, tmp_path):
    """`mcp-proxy --stdio`: the client is "stdio", whose settings override the defaults
    (burst 1: initialize alone). Initialize and two requests pass, then requests are refused
    with the -32029 error line; notifications still pass; the proxy exits 0 at end of stdin."""
    config = mock_config(mock_server_bin)
    config["mcpProxy"]["limits"] = {
        "requestsPerSecond": SLOW, "requestBurst": 1,
        "identities": {"stdio": {"requestsPerSecond": SLOW, "requestBurst": 3}}}
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    session = StdioSession([str(mcp_proxy_bin), "--stdio", "--config", str(path)],
                           label="mcp-proxy --stdio")
    try:
        session.open()
        assert session.request("ping").get("result") == {}, session.diagnostics()
        assert text_of(session.call_tool("echo", {"text": "within limits"})) == "within limits"
        assert_refusal(session.request("ping"), REQUESTS)
        assert_refusal(session.call_tool("echo", {"text": "over"}), REQUESTS)
        session.notify("notifications/cancelled", {"requestId": 999, "reason": "none"})
        assert_refusal(session.request("tools/list", {}), REQUESTS)
    finally:
        session.close()
    assert session.exited_on_stdin_close, session.diagnostics()
    assert session.returncode == 0, session.diagnostics()
    assert not _SANITIZER_REPORT.search(session.stderr_text()), session.stderr_text()[-4000:]


# --------------------------------------------------------------------------------------------
# Config checks


@pytest.mark.parametrize("limits, path", [
    ({"requestsPerSecond": 0}, "$.mcpProxy.limits.requestsPerSecond"),
    ({"requestsPerSecond": -1}, "$.mcpProxy.limits.requestsPerSecond"),
    ({"requestsPerSecond": "fast"}, "$.mcpProxy.limits.requestsPerSecond"),
    ({"requestsPerSecond": 1, "requestBurst": 0.5}, "$.mcpProxy.limits.requestBurst"),
    ({"toolCallsPerSecond": 0}, "$.mcpProxy.limits.toolCallsPerSecond"),
    ({"maxCallsInFlight": 0}, "$.mcpProxy.limits.maxCallsInFlight"),
    ({"maxCallsInFlight": 1.5}, "$.mcpProxy.limits.maxCallsInFlight"),
    ({"tools": {"x*": {"burst": 2}}}, '$.mcpProxy.limits.tools["x*"]'),
    ({"tools": {"x*": {"callsPerSecond": 0}}}, '$.mcpProxy.limits.tools["x*"].callsPerSecond'),
    ({"identities": {"alice": {"requestsPerSecond": 1}}}, "$.mcpProxy.limits.identities.alice"),
    ({"identities": {"token:": {"requestsPerSecond": 1}}},
     '$.mcpProxy.limits.identities["token:"]'),
    ({"identities": {"token:ci": {"requestsPerSecond": 0}}},
     '$.mcpProxy.limits.identities["token:ci"].requestsPerSecond'),
    ({"identities": {"peer:127.0.0.1": {"maxCallsInFlight": 0}}},
     '$.mcpProxy.limits.identities["peer:127.0.0.1"].maxCallsInFlight'),
    ([], "$.mcpProxy.limits"),
])
def test_bad_limits_are_config_errors_naming_their_path(mcp_proxy_bin, mock_server_bin, tmp_path,
                                                        limits, path):
    config = limited(mock_server_bin, {})
    config["mcpProxy"]["limits"] = limits
    file = tmp_path / "config.json"
    file.write_text(json.dumps(config))
    done = subprocess.run([str(mcp_proxy_bin), "--config", str(file), "--addr", "127.0.0.1:0"],
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, (done.returncode, done.stderr[-2000:])
    assert f"{path}:" in done.stderr, done.stderr[-2000:]
    assert not SENT.leaked_in(done.stdout + done.stderr)
