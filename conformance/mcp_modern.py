"""The client side of protocol revision 2026-07-28 ("modern") for the conformance suite.

2026-07-28 has no initialize and no session: every request carries its protocol version, the
client's capabilities and (optionally) clientInfo in `params._meta` (basic/index#_meta); over
Streamable HTTP the version, the method and the name are mirrored into headers. The transports
are those of mcp_session.py: `StdioSession` (nothing to add on stdio) and `ModernHttpSession`.

* `ModernClient` wraps such a session: `request()` adds the `_meta` and returns an `Exchange`
  (the response, the HTTP status and headers, and the notifications that came with it: on HTTP
  those on the request's own stream); `start()`/`wait()` keep a request in flight (listen,
  cancellation); every wait is bounded.
* `input_responses()` answers the input requests of an InputRequiredResult the way a client with
  every capability would (basic/patterns/mrtr), and `complete_inputs()` retries until the
  result is complete.
* `probe_modern()` and `probe_legacy()` tell which eras a server speaks
  (basic/versioning#backward-compatibility-with-initialization-based-versions): a
  DiscoverResult listing 2026-07-28 means modern; an InitializeResult means legacy.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import httpx

from mcp_session import (CLIENT_INFO, INITIALIZE_TIMEOUT_S, REQUEST_TIMEOUT_S,
                         UNSUPPORTED_PROTOCOL_VERSION, ModernHttpSession, Session, TransportError,
                         is_notification, is_response, same_id)
from mcp_shapes import (INPUT_REQUEST_CAPABILITY, LEGACY, META_CAPS, META_INFO, META_VERSION,
                        MODERN, SUBSCRIPTION)

# Every client capability whose requests a server may embed in an InputRequiredResult.
ALL_CAPABILITIES = {"elicitation": {"form": {}, "url": {}}, "sampling": {}, "roots": {}}
MAX_INPUT_ROUNDS = 5  # retries of one request before giving up on input_required
OMIT = object()  # meta=OMIT: a request with no _meta at all


def request_meta(version: Any = MODERN, capabilities: Optional[dict] = None,
                 client_info: bool = True, **extra: Any) -> dict:
    """The `_meta` of a 2026-07-28 request (basic/index#_meta, per-request protocol fields)."""
    meta = {META_VERSION: version, META_CAPS: {} if capabilities is None else capabilities}
    if client_info:
        meta[META_INFO] = dict(CLIENT_INFO)
    meta.update(extra)
    return meta


@dataclass
class Pending:
    """A request that was sent; `mark` is where the session's inbox stood before it."""
    request: dict
    mark: int

    @property
    def id(self) -> Any:
        return self.request["id"]


@dataclass
class Exchange:
    """A request and its answer. `status` and `headers` are HTTP's (None on stdio); `related`
    are the notifications that came before the response: on HTTP those on the request's own
    stream, on stdio every notification that arrived while it was in flight."""
    request: dict
    response: dict
    status: Optional[int] = None
    headers: Optional[httpx.Headers] = None
    content_type: str = ""
    related: list = field(default_factory=list)

    def describe(self) -> str:
        http = f"HTTP {self.status}, " if self.status is not None else ""
        return f"{self.request.get('method')}: {http}{self.response!r:.600}"

    @property
    def result(self) -> dict:
        result = self.response.get("result")
        assert isinstance(result, dict), f"not a result: {self.describe()}"
        return result

    @property
    def error(self) -> Optional[dict]:
        error = self.response.get("error")
        return error if isinstance(error, dict) else None

    @property
    def code(self) -> Any:
        return (self.error or {}).get("code")

    def notifications(self, method: str) -> list[dict]:
        return [m for m in self.related if m.get("method") == method]


class ModernClient:
    """A 2026-07-28 client over one transport session (see the module docstring)."""

    def __init__(self, session: Session, capabilities: Optional[dict] = None,
                 version: str = MODERN) -> None:
        self.session = session
        self.capabilities = {} if capabilities is None else capabilities
        self.version = version

    @property
    def over_http(self) -> bool:
        return isinstance(self.session, ModernHttpSession)

    def meta(self, capabilities: Optional[dict] = None, *, version: Any = None,
             client_info: bool = True, **extra: Any) -> dict:
        return request_meta(self.version if version is None else version,
                            self.capabilities if capabilities is None else capabilities,
                            client_info, **extra)

    def start(self, method: str, params: Optional[dict] = None, *,
              capabilities: Optional[dict] = None, version: Any = None, meta: Any = None,
              extra_meta: Optional[dict] = None, request_id: Any = None,
              headers: Optional[dict] = None) -> Pending:
        """Sends a request without waiting. `meta` replaces the whole `_meta` (OMIT: none);
        `extra_meta` adds keys (logLevel, progressToken); `headers` replaces the HTTP headers."""
        p = copy.deepcopy(params) if params else {}
        if meta is None:
            meta = self.meta(capabilities, version=version, **(extra_meta or {}))
        if meta is not OMIT:
            p["_meta"] = meta
        rid = self.session.next_id() if request_id is None else request_id
        message = {"jsonrpc": "2.0", "id": rid, "method": method, "params": p}
        if headers is not None:
            if not self.over_http:
                raise ValueError("headers= is for Streamable HTTP only")
            self.session.set_headers(rid, headers)
        mark = self.session.mark()
        self.session.send(message)
        return Pending(message, mark)

    def wait(self, pending: Pending, timeout_s: float = REQUEST_TIMEOUT_S) -> Exchange:
        rid = pending.id
        if self.over_http:
            reply = self.session.wait_reply(rid, timeout_s)
            if reply is None:
                raise AssertionError(f"{pending.request['method']} (id {rid!r}): its POST did "
                                     f"not end within {timeout_s} s; {self.session.diagnostics()}")
            response = next((m for m in reply.messages
                             if is_response(m) and same_id(m.get("id"), rid)), None)
            if response is None:
                raise AssertionError(f"{pending.request['method']} (id {rid!r}): HTTP "
                                     f"{reply.status} with no response to the request: "
                                     f"{reply.body[:400]!r}")
            return Exchange(pending.request, response, reply.status, reply.headers,
                            reply.content_type,
                            [m for m in reply.messages if m is not response and is_notification(m)])
        response = self.session.wait_response(rid, timeout_s)
        since = self.session.messages(start=pending.mark)
        before = since[:next(i for i, m in enumerate(since) if m is response)]
        return Exchange(pending.request, response,
                        related=[m for m in before if is_notification(m)])

    def request(self, method: str, params: Optional[dict] = None, *,
                timeout_s: float = REQUEST_TIMEOUT_S, **kw: Any) -> Exchange:
        return self.wait(self.start(method, params, **kw), timeout_s)

    def result(self, method: str, params: Optional[dict] = None, **kw: Any) -> dict:
        return self.request(method, params, **kw).result

    def discover(self) -> dict:
        return self.result("server/discover")

    def pages(self, method: str, max_pages: int = 50, **kw: Any) -> list[dict]:
        """The results of every page of a list (server/utilities/pagination), bounded."""
        results, cursor = [], None
        for _ in range(max_pages):
            result = self.result(method, {"cursor": cursor} if cursor else None, **kw)
            results.append(result)
            cursor = result.get("nextCursor")
            if not cursor:
                return results
        raise AssertionError(f"{method}: still a nextCursor after {max_pages} pages")

    def list_all(self, method: str, key: str, **kw: Any) -> list:
        return [item for page in self.pages(method, **kw) for item in page.get(key) or []]

    def http_request(self, verb: str, headers: dict, body: Any = None) -> httpx.Response:
        """One plain HTTP request to the MCP endpoint, outside the session (GET, DELETE, a POST
        whose status alone matters)."""
        if not self.over_http:
            raise ValueError("http_request is for Streamable HTTP only")
        content = None if body is None else json.dumps(body).encode()
        return self.session._http.request(verb, self.session.client.url, headers=headers,
                                          content=content)

    # -- long-lived requests (subscriptions/listen) and cancellation

    def on_stream_of(self, pending: Pending) -> Callable[[dict], bool]:
        """A predicate: the message came on this request's answer stream (HTTP), or may have
        (stdio: one channel for everything; tell them apart by subscriptionId)."""
        if not self.over_http:
            return lambda m: True
        stream_of, own = self.session.stream_of, json.dumps(pending.id)
        return lambda m: stream_of(m) == own

    def wait_frame(self, pending: Pending, predicate: Callable[[dict], bool],
                   timeout_s: float = REQUEST_TIMEOUT_S) -> Optional[dict]:
        on_stream = self.on_stream_of(pending)
        return self.session.wait_for(lambda m: on_stream(m) and predicate(m), timeout_s,
                                     pending.mark)

    def frames(self, pending: Pending,
               predicate: Callable[[dict], bool] = lambda m: True) -> list[dict]:
        on_stream = self.on_stream_of(pending)
        return self.session.messages(lambda m: on_stream(m) and predicate(m), pending.mark)

    def cancel(self, pending: Pending) -> None:
        """basic/patterns/cancellation, transport-specific: close the answer stream (HTTP) or
        send notifications/cancelled (stdio)."""
        if self.over_http:
            self.session.close_stream(pending.id)
        else:
            self.session.notify("notifications/cancelled",
                                {"requestId": pending.id, "reason": "mcp-conformance"})

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> "ModernClient":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def subscription_of(message: dict) -> Any:
    """The io.modelcontextprotocol/subscriptionId a notification is tagged with, or None."""
    meta = (message.get("params") or {}).get("_meta") if isinstance(message, dict) else None
    return meta.get(SUBSCRIPTION) if isinstance(meta, dict) else None


# --------------------------------------------------------------------------------------------
# Input requests (basic/patterns/mrtr)


def sample_value(schema: Any) -> Any:
    """A value that fits a primitive schema of an elicitation form (client/elicitation)."""
    if not isinstance(schema, dict):
        return "conformance"
    for key in ("const", "default"):
        if key in schema:
            return schema[key]
    for key in ("enum", "oneOf", "anyOf"):
        choices = schema.get(key)
        if isinstance(choices, list) and choices:
            first = choices[0]
            return first.get("const", first) if isinstance(first, dict) else first
    kind = schema.get("type")
    if kind == "boolean":
        return True
    if kind in ("integer", "number"):
        return schema.get("minimum", 1)
    if kind == "array":
        items = (schema.get("items") or {})
        return [sample_value(items.get("anyOf", [items])[0] if isinstance(items, dict) else {})]
    fmt = schema.get("format")
    return {"email": "conformance@example.com", "uri": "https://example.com/conformance",
            "date": "2026-07-28", "date-time": "2026-07-28T00:00:00Z"}.get(fmt, "conformance")


def input_response(request: dict) -> dict:
    """What a client with every capability answers to one input request: a form filled in with
    sample values (accept), a text sample, or one root."""
    method, params = request.get("method"), request.get("params") or {}
    if method == "elicitation/create":
        if params.get("mode") == "url":
            return {"action": "accept"}
        schema = params.get("requestedSchema") or {}
        return {"action": "accept",
                "content": {name: sample_value(prop)
                            for name, prop in (schema.get("properties") or {}).items()}}
    if method == "sampling/createMessage":
        return {"role": "assistant", "content": {"type": "text", "text": "conformance answer"},
                "model": "mcp-conformance", "stopReason": "endTurn"}
    if method == "roots/list":
        return {"roots": [{"uri": "file:///conformance/root", "name": "conformance root"}]}
    raise AssertionError(f"an input request of an unknown kind: {request!r:.300}")


def input_responses(result: dict) -> dict:
    return {key: input_response(request)
            for key, request in (result.get("inputRequests") or {}).items()}


def retry_params(params: Optional[dict], result: dict, responses: Optional[dict] = None) -> dict:
    """The original params plus inputResponses and the requestState, echoed byte for byte."""
    retry = copy.deepcopy(params) if params else {}
    retry["inputResponses"] = input_responses(result) if responses is None else responses
    if "requestState" in result:
        retry["requestState"] = result["requestState"]
    return retry


def complete_inputs(client: ModernClient, method: str, params: Optional[dict],
                    first: Exchange, capabilities: dict,
                    timeout_s: float = REQUEST_TIMEOUT_S) -> list[Exchange]:
    """Retries a request that answered input_required, answering each round's input requests,
    until a result of another type (or an error) comes; returns every round, `first`
    included."""
    rounds = [first]
    while rounds[-1].error is None and \
            rounds[-1].result.get("resultType") == "input_required":
        assert len(rounds) <= MAX_INPUT_ROUNDS, (
            f"{method}: still input_required after {MAX_INPUT_ROUNDS} retries")
        rounds.append(client.request(method, retry_params(params, rounds[-1].result),
                                     capabilities=capabilities, timeout_s=timeout_s))
    return rounds


def needed_capabilities(result: dict) -> set:
    """The client capabilities the input requests of a result need."""
    return {INPUT_REQUEST_CAPABILITY.get(r.get("method"))
            for r in (result.get("inputRequests") or {}).values() if isinstance(r, dict)}


# --------------------------------------------------------------------------------------------
# Which era a server speaks


@dataclass(frozen=True)
class Eras:
    """What a server speaks: the modern era (2026-07-28) and the legacy one (initialize), with
    why not (shown in skip reasons)."""
    modern: bool
    legacy: bool
    modern_note: str
    legacy_note: str

    def supports(self, era: str) -> bool:
        return self.modern if era == MODERN else self.legacy

    def note(self, era: str) -> str:
        return self.modern_note if era == MODERN else self.legacy_note


def probe_modern(client: ModernClient, timeout_s: float = INITIALIZE_TIMEOUT_S
                 ) -> tuple[bool, str]:
    """server/discover at 2026-07-28 (basic/transports/stdio#backward-compatibility): a
    DiscoverResult listing the version, or an UnsupportedProtocolVersionError whose `supported`
    lists it, means modern; anything else (another error, silence) does not."""
    try:
        exchange = client.request("server/discover", timeout_s=timeout_s)
    except (AssertionError, TransportError) as e:
        return False, f"server/discover got no answer ({str(e)[:200]})"
    http = f" (HTTP {exchange.status})" if exchange.status is not None else ""
    result = exchange.response.get("result")
    if isinstance(result, dict):
        versions = result.get("supportedVersions")
        if isinstance(versions, list) and MODERN in versions:
            return True, f"server/discover lists supportedVersions {versions}"
        return False, f"server/discover answered supportedVersions {versions!r}{http}"
    error = exchange.error or {}
    data = error.get("data") if isinstance(error.get("data"), dict) else {}
    if error.get("code") == UNSUPPORTED_PROTOCOL_VERSION and MODERN in (data.get("supported") or []):
        return True, f"server/discover: -32022 listing {data.get('supported')}"
    return False, (f"server/discover got error {error.get('code')} "
                   f"{str(error.get('message'))[:120]!r}{http}")


def probe_legacy(session: Session, timeout_s: float = INITIALIZE_TIMEOUT_S) -> tuple[bool, str]:
    """initialize at 2025-11-25: an InitializeResult means the server speaks the legacy era."""
    try:
        response = session.request("initialize", {"protocolVersion": LEGACY, "capabilities": {},
                                                  "clientInfo": CLIENT_INFO},
                                   timeout_s=timeout_s)
    except (AssertionError, TransportError) as e:
        return False, f"initialize got no answer ({str(e)[:200]})"
    result = response.get("result")
    if isinstance(result, dict) and isinstance(result.get("protocolVersion"), str):
        return True, f"initialize answered protocolVersion {result['protocolVersion']}"
    error = response.get("error") or {}
    return False, f"initialize got error {error.get('code')} {str(error.get('message'))[:160]!r}"
