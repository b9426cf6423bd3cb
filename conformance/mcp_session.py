"""A transport-neutral MCP client session for the conformance suite, over three transports.

`Session` is what the generic protocol tests use: initialize / open, request, notify, call_tool,
and a bounded wait for any received message. Every message from the server lands in one inbox
(`Session.received`); server requests are answered on the spot (ping -> {}, anything else ->
-32601, since this client declares no capabilities) and kept in `Session.server_requests`.

Implementations (spec 2025-11-25 basic/transports, 2024-11-05 basic/transports):

* `StdioSession`: spawns the server, one JSON-RPC message per line on stdin/stdout; stdout is
  read by a thread, stderr drained by another; stopped by PID (close stdin, SIGTERM, SIGKILL).
* `LegacySseSession`: HTTP+SSE (2024-11-05): GET the SSE URL, the first event names the URI to
  POST to; everything from the server arrives on that one stream, read by a thread.
* `StreamableHttpSession`: Streamable HTTP, built on conftest's `McpClient` (headers, session id,
  SSE-or-JSON reply parsing). A request is POSTed from a worker thread so that a test can act
  while it is in flight (cancellation); after initialization a GET stream is held open when the
  server offers one, for messages not tied to a request. The answer to each request's POST is
  kept (`replies`, `wait_reply`); with `incremental` its messages are delivered as they arrive.
* `ModernHttpSession`: the same for a client of revision 2026-07-28 (no initialize, no session,
  no GET stream): each POST carries MCP-Protocol-Version (the body's `_meta` version), Mcp-Method
  and Mcp-Name (`modern_headers`), or headers a test sets for one request; `close_stream` closes
  one request's answer, which is how such a client cancels it (mcp_modern.py builds on this).

Every wait is bounded in time, every reader thread ends when its stream ends, and `close()` ends
the streams by shutting their sockets down (closing an httpx response from another thread does
not wake a reader blocked in recv).
"""

from __future__ import annotations

import base64
import itertools
import json
import socket
import subprocess
import threading
import time
from typing import Any, Callable, Optional
from urllib.parse import urljoin, urlsplit

import httpx

from conftest import (HTTP_TIMEOUT_S, LATEST_PROTOCOL_VERSION, McpClient, McpReply, SseParser,
                      terminate)
from mcp_shapes import META_VERSION

# JSON-RPC 2.0 section 5.1 error codes, and MCP's own.
PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
RESOURCE_NOT_FOUND = -32002  # 2025-11-25 server/resources: Error Handling
# 2026-07-28 basic/index, Error Codes.
HEADER_MISMATCH = -32020
MISSING_CLIENT_CAPABILITY = -32021
UNSUPPORTED_PROTOCOL_VERSION = -32022

REQUEST_TIMEOUT_S = 20.0  # an ASan build on a busy 2-core machine answers slowly
INITIALIZE_TIMEOUT_S = 30.0  # includes starting a stdio server (node, npx, ASan)
STOP_TIMEOUT_S = 10.0
EOF_EXIT_TIMEOUT_S = 5.0  # how long a stdio server gets to exit after its stdin closes
STDERR_KEEP_BYTES = 1 << 20  # the tail of a stdio server's stderr kept for diagnostics
ENDPOINT_EVENT_TIMEOUT_S = 15.0

CLIENT_INFO = {"name": "mcp-conformance", "version": "0.2"}


def is_response(m: Any) -> bool:
    return isinstance(m, dict) and "method" not in m and ("result" in m or "error" in m)


def is_request(m: Any) -> bool:
    return isinstance(m, dict) and "method" in m and "id" in m


def is_notification(m: Any) -> bool:
    return isinstance(m, dict) and "method" in m and "id" not in m


def same_id(a: Any, b: Any) -> bool:
    """JSON-RPC ids compare by value and type: the string "7" is not the number 7 (and True is
    not 1, which Python's == would say)."""
    return type(a) is type(b) and a == b


class TransportError(RuntimeError):
    """The transport could not carry a message (process gone, connection refused, ...)."""


class _SocketStreams:
    """Sockets of open streaming HTTP responses, so that close() can end the reads on them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sockets: set = set()
        self.closed = False

    def add(self, response: httpx.Response) -> None:
        stream = response.extensions.get("network_stream")
        sock = stream.get_extra_info("socket") if stream is not None else None
        if sock is None:
            return
        with self._lock:
            if self.closed:
                _shutdown(sock)
            else:
                self._sockets.add(sock)

    def discard(self, response: httpx.Response) -> None:
        stream = response.extensions.get("network_stream")
        sock = stream.get_extra_info("socket") if stream is not None else None
        with self._lock:
            self._sockets.discard(sock)

    def shutdown_one(self, response: httpx.Response) -> None:
        stream = response.extensions.get("network_stream")
        sock = stream.get_extra_info("socket") if stream is not None else None
        if sock is not None:
            _shutdown(sock)

    def shutdown_all(self) -> None:
        with self._lock:
            self.closed = True
            sockets, self._sockets = list(self._sockets), set()
        for sock in sockets:
            _shutdown(sock)


def _shutdown(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed by the peer


def _check_http_url(url: str) -> None:
    """URLs come from the command line (the user's choice of server); only http(s) is used."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise TransportError(f"not an http(s) URL: {url!r}")


# --------------------------------------------------------------------------------------------
# The transport-neutral session


class Session:
    """One MCP session with one server. Subclasses implement `_send_bytes` and `_close`."""

    transport = "abstract"

    def __init__(self, label: str) -> None:
        self.label = label
        self._cond = threading.Condition()
        self.received: list[dict] = []  # every message from the server, in arrival order
        self.server_requests: list[dict] = []
        self.transport_problems: list[str] = []  # bytes on the wire that are no MCP message
        self._ids = itertools.count(1)
        self.initialize_result: Optional[dict] = None
        self.initialize_request_id: Any = None
        self.closed = False
        # Set when nothing more can arrive (stdio: stdout closed; SSE: the stream ended), so
        # that waits end at once instead of at their timeout.
        self.input_ended = False

    # -- what a transport provides

    def _send_bytes(self, data: bytes, message: Any) -> Optional[int]:
        """Sends one serialized message; returns the HTTP status for HTTP transports (for a
        request over Streamable HTTP: None, the POST runs in a worker), else None."""
        raise NotImplementedError

    def _close(self) -> None:
        raise NotImplementedError

    def _after_initialized(self) -> None:
        """Hook: Streamable HTTP opens its GET stream here."""

    def diagnostics(self) -> str:
        """Transport state worth printing when a wait fails."""
        return ""

    # -- inbox

    def _deliver(self, message: Any) -> None:
        """Called by reader threads with each parsed message (batches are split)."""
        batch = message if isinstance(message, list) else [message]
        for m in batch:
            if not isinstance(m, dict):
                self._problem(f"a message that is not a JSON object: {m!r:.200}")
                continue
            if is_request(m):
                with self._cond:
                    self.server_requests.append(m)
                self._answer_server_request(m)
            with self._cond:
                self.received.append(m)
                self._cond.notify_all()

    def _end_of_input(self) -> None:
        with self._cond:
            self.input_ended = True
            self._cond.notify_all()

    def _problem(self, text: str) -> None:
        with self._cond:
            self.transport_problems.append(text)
            self._cond.notify_all()

    def _answer_server_request(self, request: dict) -> None:
        # This client declares no capabilities (no roots, sampling, elicitation), so only ping
        # (basic/utilities/ping: either side may ping) gets a result.
        if request.get("method") == "ping":
            reply = {"jsonrpc": "2.0", "id": request["id"], "result": {}}
        else:
            reply = {"jsonrpc": "2.0", "id": request["id"],
                     "error": {"code": METHOD_NOT_FOUND,
                               "message": f"mcp-conformance client: {request['method']} "
                                          "is not supported"}}
        try:
            self.send(reply)
        except TransportError as e:
            self._problem(f"could not answer the server's {request.get('method')}: {e}")

    def wait_for(self, predicate: Callable[[dict], bool], timeout_s: float,
                 start: int = 0) -> Optional[dict]:
        """The first received message (from index `start`) matching predicate, waiting up to
        timeout_s; None if none came."""
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while True:
                for m in self.received[start:]:
                    if predicate(m):
                        return m
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self.closed or self.input_ended:
                    return None
                self._cond.wait(min(remaining, 0.5))

    def messages(self, predicate: Callable[[dict], bool] = lambda m: True,
                 start: int = 0) -> list[dict]:
        with self._cond:
            return [m for m in self.received[start:] if predicate(m)]

    def mark(self) -> int:
        """An index into `received`: pass it as `start` to see only later messages."""
        with self._cond:
            return len(self.received)

    def notifications(self, method: Optional[str] = None, start: int = 0) -> list[dict]:
        return self.messages(lambda m: is_notification(m)
                             and (method is None or m.get("method") == method), start)

    # -- sending

    def next_id(self) -> int:
        return next(self._ids)

    def send(self, message: Any) -> Optional[int]:
        return self._send_bytes(json.dumps(message).encode(), message)

    def send_raw(self, data: bytes) -> Optional[int]:
        """Sends bytes that may not be a valid message (a line on stdio, a POST body on HTTP)."""
        return self._send_bytes(data, None)

    def start_request(self, method: str, params: Optional[dict] = None,
                      request_id: Any = None) -> Any:
        """Sends a request without waiting; returns its id."""
        rid = self.next_id() if request_id is None else request_id
        msg: dict = {"jsonrpc": "2.0", "id": rid, "method": method}
        if params is not None:
            msg["params"] = params
        self.send(msg)
        return rid

    def wait_response(self, request_id: Any, timeout_s: float = REQUEST_TIMEOUT_S) -> dict:
        found = self.wait_for(lambda m: is_response(m) and same_id(m.get("id"), request_id),
                              timeout_s)
        if found is None:
            raise AssertionError(f"no response to request id {request_id!r} within {timeout_s} s "
                                 f"from {self.label}; {self.diagnostics()}")
        return found

    def request(self, method: str, params: Optional[dict] = None, request_id: Any = None,
                timeout_s: float = REQUEST_TIMEOUT_S) -> dict:
        """Sends a request and returns its JSON-RPC response (result or error)."""
        return self.wait_response(self.start_request(method, params, request_id), timeout_s)

    def result(self, method: str, params: Optional[dict] = None, **kw) -> dict:
        """Like request(), but the response must be a result; returns the result object."""
        response = self.request(method, params, **kw)
        assert "result" in response, f"{method} failed: {response}"
        assert isinstance(response["result"], dict), f"{method}: result is not an object"
        return response["result"]

    def notify(self, method: str, params: Optional[dict] = None) -> Optional[int]:
        msg: dict = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            msg["params"] = params
        return self.send(msg)

    def call_tool(self, name: str, arguments: Optional[dict] = None, meta: Optional[dict] = None,
                  request_id: Any = None, timeout_s: float = REQUEST_TIMEOUT_S) -> dict:
        params: dict = {"name": name, "arguments": arguments or {}}
        if meta is not None:
            params["_meta"] = meta
        return self.request("tools/call", params, request_id, timeout_s)

    # -- lifecycle (2025-11-25 basic/lifecycle)

    def initialize(self, version: str = LATEST_PROTOCOL_VERSION,
                   capabilities: Optional[dict] = None, request_id: Any = None) -> dict:
        """Sends initialize; returns the response (result or error)."""
        self.initialize_request_id = self.next_id() if request_id is None else request_id
        response = self.request("initialize", {"protocolVersion": version,
                                               "capabilities": capabilities or {},
                                               "clientInfo": CLIENT_INFO},
                                self.initialize_request_id, INITIALIZE_TIMEOUT_S)
        if isinstance(response.get("result"), dict):
            self.initialize_result = response["result"]
        return response

    def open(self, version: str = LATEST_PROTOCOL_VERSION,
             capabilities: Optional[dict] = None) -> dict:
        """initialize + notifications/initialized; returns the InitializeResult."""
        response = self.initialize(version, capabilities)
        assert "result" in response, f"initialize failed: {response}"
        self.notify("notifications/initialized")
        self._after_initialized()
        return response["result"]

    @property
    def protocol_version(self) -> Optional[str]:
        return (self.initialize_result or {}).get("protocolVersion")

    @property
    def server_capabilities(self) -> dict:
        caps = (self.initialize_result or {}).get("capabilities")
        return caps if isinstance(caps, dict) else {}

    def close(self) -> None:
        if self.closed:
            return
        self._close()
        with self._cond:
            self.closed = True
            self._cond.notify_all()

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# --------------------------------------------------------------------------------------------
# stdio


class StdioSession(Session):
    """A server spawned as a child process (2025-11-25 basic/transports: stdio)."""

    transport = "stdio"

    def __init__(self, argv: list[str], label: str = "", env: Optional[dict] = None,
                 cwd: Optional[str] = None) -> None:
        super().__init__(label or " ".join(argv))
        self.argv = argv
        self._write_lock = threading.Lock()
        self._stderr = bytearray()
        self._stderr_lock = threading.Lock()
        self.exited_on_stdin_close: Optional[bool] = None
        self.returncode: Optional[int] = None
        try:
            self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE, env=env, cwd=cwd)
        except OSError as e:
            raise TransportError(f"cannot start {argv!r}: {e}") from e
        self._stdout_reader = threading.Thread(target=self._read_stdout, daemon=True,
                                               name=f"stdio-out-{self.proc.pid}")
        self._stderr_reader = threading.Thread(target=self._read_stderr, daemon=True,
                                               name=f"stdio-err-{self.proc.pid}")
        self._stdout_reader.start()
        self._stderr_reader.start()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def _read_stdout(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:  # ends at end of file: the server closed stdout or exited
            line = raw.rstrip(b"\n")
            if line.endswith(b"\r"):
                line = line[:-1]  # tolerate CRLF; the JSON text itself cannot end in CR
            try:
                message = json.loads(line.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                self._problem(f"stdout line that is not a JSON message: {raw[:300]!r}")
                continue
            self._deliver(message)
        self._end_of_input()

    def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        for chunk in iter(lambda: self.proc.stderr.read1(65536), b""):
            with self._stderr_lock:
                self._stderr += chunk
                del self._stderr[:-STDERR_KEEP_BYTES]

    def stderr_text(self) -> str:
        with self._stderr_lock:
            return self._stderr.decode("utf-8", "replace")

    def _send_bytes(self, data: bytes, message: Any) -> Optional[int]:
        if b"\n" in data:
            raise ValueError("a stdio message must not contain a newline")
        with self._write_lock:
            try:
                assert self.proc.stdin is not None
                self.proc.stdin.write(data + b"\n")
                self.proc.stdin.flush()
            except (BrokenPipeError, ValueError, OSError) as e:
                raise TransportError(f"cannot write to {self.label} (pid {self.pid}, "
                                     f"exit {self.proc.poll()}): {e}") from e
        return None

    def close_stdin(self) -> None:
        with self._write_lock:
            try:
                assert self.proc.stdin is not None
                self.proc.stdin.close()
            except OSError:
                pass

    def _close(self) -> None:
        """2025-11-25 basic/lifecycle, Shutdown (stdio): close stdin, wait, SIGTERM, wait,
        SIGKILL; each step bounded, always by this child's PID."""
        self.close_stdin()
        try:
            self.proc.wait(EOF_EXIT_TIMEOUT_S)
            self.exited_on_stdin_close = True
        except subprocess.TimeoutExpired:
            self.exited_on_stdin_close = False
            terminate(self.proc, STOP_TIMEOUT_S)
        self.returncode = self.proc.returncode
        self._stdout_reader.join(STOP_TIMEOUT_S)
        self._stderr_reader.join(STOP_TIMEOUT_S)

    def diagnostics(self) -> str:
        tail = self.stderr_text()[-2000:]
        return (f"pid {self.pid} exit status {self.proc.poll()}; transport problems "
                f"{self.transport_problems[-5:]}; stderr tail:\n{tail}")


# --------------------------------------------------------------------------------------------
# HTTP+SSE (2024-11-05)


class LegacySseSession(Session):
    """The 2024-11-05 HTTP+SSE transport: one GET stream for everything the server sends, and
    POSTs to the URI named by the stream's first event."""

    transport = "sse"

    def __init__(self, sse_url: str, label: str = "", headers: Optional[dict] = None) -> None:
        super().__init__(label or sse_url)
        _check_http_url(sse_url)
        self.sse_url = sse_url
        self.extra_headers = dict(headers or {})
        self.stream_status: Optional[int] = None
        self.stream_content_type: Optional[str] = None
        self.events: list = []  # every SSE event, the endpoint event included
        self.endpoint_url: Optional[str] = None
        self.post_statuses: list[int] = []
        self.stream_ended = threading.Event()
        self._endpoint_known = threading.Event()
        self._streams = _SocketStreams()
        # No read timeout on the stream: it idles between messages; close() shuts it down.
        self._stream_http = httpx.Client(timeout=httpx.Timeout(HTTP_TIMEOUT_S, read=None),
                                         trust_env=False)
        self._post_http = httpx.Client(timeout=HTTP_TIMEOUT_S, trust_env=False)
        self._reader = threading.Thread(target=self._read_stream, daemon=True, name="sse-stream")
        self._reader.start()
        if not self._endpoint_known.wait(ENDPOINT_EVENT_TIMEOUT_S):
            self.close()
            raise TransportError(f"no endpoint event from {sse_url} within "
                                 f"{ENDPOINT_EVENT_TIMEOUT_S} s (HTTP {self.stream_status}, "
                                 f"{self.stream_content_type}, events {self.events[:3]!r}, "
                                 f"problems {self.transport_problems[:3]})")
        if self.endpoint_url is None:
            self.close()
            raise TransportError(f"{sse_url}: {self.transport_problems[-1:]}")

    def _read_stream(self) -> None:
        headers = {"Accept": "text/event-stream", **self.extra_headers}
        try:
            with self._stream_http.stream("GET", self.sse_url, headers=headers) as r:
                self._streams.add(r)
                self.stream_status = r.status_code
                self.stream_content_type = r.headers.get("content-type", "")
                if r.status_code != 200:
                    self._problem(f"GET {self.sse_url}: HTTP {r.status_code} {r.read()[:300]!r}")
                    return
                parser = SseParser()
                for text in r.iter_text():
                    for event in parser.feed(text):
                        self._on_event(event)
        except httpx.HTTPError as e:
            if not self._streams.closed:
                self._problem(f"SSE stream from {self.sse_url} broke: {e}")
        finally:
            self.stream_ended.set()
            self._endpoint_known.set()  # wakes the constructor if the stream never got there
            self._end_of_input()

    def _on_event(self, event) -> None:
        self.events.append(event)
        if self.endpoint_url is None:
            # 2024-11-05 basic/transports, HTTP with SSE: the first event MUST be `endpoint`.
            if event.event != "endpoint":
                self._problem(f"first SSE event is {event.event!r}, not 'endpoint'")
            else:
                url = urljoin(self.sse_url, event.data.strip())
                if urlsplit(url)[:2] != urlsplit(self.sse_url)[:2]:
                    # Never POST somewhere the user did not point us at.
                    self._problem(f"endpoint {url!r} is not on the SSE URL's origin; not used")
                else:
                    self.endpoint_url = url
            self._endpoint_known.set()
            return
        if event.event != "message":
            self._problem(f"SSE event of type {event.event!r} after the endpoint event")
            return
        try:
            message = json.loads(event.data)
        except ValueError:
            self._problem(f"SSE message event whose data is not JSON: {event.data[:300]!r}")
            return
        self._deliver(message)

    def _send_bytes(self, data: bytes, message: Any) -> Optional[int]:
        if self.endpoint_url is None:
            raise TransportError("no endpoint to POST to")
        try:
            r = self._post_http.post(self.endpoint_url, content=data,
                                     headers={"Content-Type": "application/json",
                                              **self.extra_headers})
        except httpx.HTTPError as e:
            raise TransportError(f"POST {self.endpoint_url}: {e}") from e
        self.post_statuses.append(r.status_code)
        return r.status_code

    def _close(self) -> None:
        self._streams.shutdown_all()
        self._reader.join(STOP_TIMEOUT_S)
        self._stream_http.close()
        self._post_http.close()

    def diagnostics(self) -> str:
        return (f"POST statuses {self.post_statuses[-5:]}, stream ended "
                f"{self.stream_ended.is_set()}, transport problems {self.transport_problems[-5:]}")


# --------------------------------------------------------------------------------------------
# Streamable HTTP (2025-03-26 and later)


class StreamableHttpSession(Session):
    """Streamable HTTP via conftest's McpClient, with requests in flight concurrently.

    With `incremental`, each message of a POST's answer is delivered as it arrives (server
    requests mid-stream, a subscriptions/listen stream that stays open); otherwise when the
    answer ends. The whole answer to each request's POST is kept in `replies`."""

    transport = "streamable-http"

    def __init__(self, url: str, label: str = "", *, incremental: bool = False,
                 read_timeout_s: Optional[float] = HTTP_TIMEOUT_S) -> None:
        super().__init__(label or url)
        _check_http_url(url)
        self.incremental = incremental
        self._http = httpx.Client(timeout=httpx.Timeout(HTTP_TIMEOUT_S, read=read_timeout_s),
                                  trust_env=False)
        self._get_http = httpx.Client(timeout=httpx.Timeout(HTTP_TIMEOUT_S, read=None),
                                      trust_env=False)
        self.client = McpClient(url, self._http)
        self._streams = _SocketStreams()
        self._workers: list[threading.Thread] = []
        self.post_statuses: dict[Any, int] = {}  # request id -> HTTP status of its POST
        self.replies: dict[str, McpReply] = {}  # request id (as JSON) -> the answer to its POST
        self._open_posts: dict[str, httpx.Response] = {}  # request id (as JSON) -> its answer
        self._stream_of: dict[int, str] = {}  # id() of a delivered message -> its request's key
        self.get_stream_status: Optional[int] = None
        self._get_reader: Optional[threading.Thread] = None

    def _request_headers(self, message: Any) -> dict:
        return self.client.headers()

    def _post(self, data: bytes, want_id: Any, message: Any = None) -> int:
        key = None if want_id is None else json.dumps(want_id)
        headers = self._request_headers(message)
        with self.client.http.stream("POST", self.client.url, content=data, headers=headers) as r:
            self._streams.add(r)

            def deliver_now(m: Any) -> None:
                if key is not None:
                    with self._cond:
                        self._stream_of[id(m)] = key
                    if r.status_code == 200:
                        self._note_initialize(McpReply(r.status_code, r.headers, b"", [m]),
                                              want_id)
                self._deliver(m)

            if key is not None:
                with self._cond:
                    self._open_posts[key] = r
            try:
                reply = self.client._read(r, want_id, deliver_now if self.incremental else None)
            finally:
                self._streams.discard(r)
                if key is not None:
                    with self._cond:
                        self._open_posts.pop(key, None)
        if not self.incremental:
            if want_id is not None and reply.status == 200 and isinstance(want_id, (str, int)):
                self._note_initialize(reply, want_id)
            for m in reply.messages:
                self._deliver(m)
        if reply.status >= 400 and not reply.messages and reply.body:
            self._problem(f"HTTP {reply.status}: {reply.body[:300]!r}")
        if key is not None:
            self._finish(key, reply)
        return reply.status

    def _finish(self, key: str, reply: McpReply) -> None:
        with self._cond:
            self.replies[key] = reply
            self._cond.notify_all()

    def wait_reply(self, request_id: Any, timeout_s: float) -> Optional[McpReply]:
        """The answer to a request's POST once it has ended (the response arrived or the stream
        closed without it), waiting up to timeout_s; None if it did not end in time. A POST
        that failed outright ends with status 0 and the error as its body."""
        key = json.dumps(request_id)
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while key not in self.replies:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self.closed:
                    return None
                self._cond.wait(min(remaining, 0.5))
            return self.replies[key]

    def stream_of(self, message: dict) -> Optional[str]:
        """Which request's POST answer carried a message (its id as JSON), with `incremental`."""
        with self._cond:
            return self._stream_of.get(id(message))

    def close_stream(self, request_id: Any) -> None:
        """Closes the answer stream of one request (2026-07-28: that is how a client cancels
        it, subscriptions/listen included)."""
        with self._cond:
            r = self._open_posts.get(json.dumps(request_id))
        if r is not None:
            self._streams.shutdown_one(r)

    def _note_initialize(self, reply, want_id) -> None:
        # The session id comes in the header of the response carrying the InitializeResult
        # (basic/transports: Session Management); later requests carry it and the version.
        for m in reply.messages:
            if is_response(m) and same_id(m.get("id"), want_id) and \
                    isinstance(m.get("result"), dict) and "protocolVersion" in m["result"] \
                    and "capabilities" in m["result"]:
                self.client.session_id = reply.headers.get("mcp-session-id")
                self.client.protocol_version = m["result"]["protocolVersion"]

    def _send_bytes(self, data: bytes, message: Any) -> Optional[int]:
        if is_request(message):
            rid = message["id"]

            def run() -> None:
                try:
                    self.post_statuses[json.dumps(rid)] = self._post(data, rid, message)
                except (httpx.HTTPError, ValueError) as e:  # ValueError: a body that is no JSON
                    self._finish(json.dumps(rid), McpReply(0, httpx.Headers(), str(e).encode()))
                    if not self._streams.closed:
                        self._problem(f"POST for request {rid!r}: {e}")

            worker = threading.Thread(target=run, daemon=True, name=f"post-{rid}")
            self._workers.append(worker)
            worker.start()
            return None
        try:
            return self._post(data, None, message)
        except ValueError as e:
            self._problem(f"a reply body that is not JSON: {e}")
            return None
        except httpx.HTTPError as e:
            raise TransportError(f"POST {self.client.url}: {e}") from e

    def _after_initialized(self) -> None:
        self._get_reader = threading.Thread(target=self._read_get_stream, daemon=True,
                                            name="http-get-stream")
        self._get_reader.start()

    def _read_get_stream(self) -> None:
        """One attempt at the GET stream (basic/transports: Listening for Messages from the
        Server); a 405 means the server offers none, which is allowed."""
        headers = self.client.headers(extra={"Accept": "text/event-stream"})
        headers.pop("Content-Type", None)
        try:
            with self._get_http.stream("GET", self.client.url, headers=headers) as r:
                self._streams.add(r)
                self.get_stream_status = r.status_code
                if r.status_code != 200:
                    return
                parser = SseParser()
                for text in r.iter_text():
                    for event in parser.feed(text):
                        if event.data:
                            try:
                                self._deliver(json.loads(event.data))
                            except ValueError:
                                self._problem(f"GET stream event that is not JSON: "
                                              f"{event.data[:300]!r}")
        except httpx.HTTPError as e:
            if not self._streams.closed:
                self._problem(f"GET stream broke: {e}")

    def _close(self) -> None:
        self._streams.shutdown_all()
        if self.client.session_id:
            try:  # end the session politely; a 405 is allowed
                self._http.delete(self.client.url, headers=self.client.headers(), timeout=5.0)
            except httpx.HTTPError:
                pass
        for worker in self._workers:
            worker.join(STOP_TIMEOUT_S)
        if self._get_reader is not None:
            self._get_reader.join(STOP_TIMEOUT_S)
        self._http.close()
        self._get_http.close()

    def diagnostics(self) -> str:
        return (f"POST statuses {dict(list(self.post_statuses.items())[-5:])}, GET stream "
                f"{self.get_stream_status}, transport problems {self.transport_problems[-5:]}")


# --------------------------------------------------------------------------------------------
# Streamable HTTP of 2026-07-28 ("modern": no initialize, no session)

# basic/transports/streamable-http, Standard Request Headers: where Mcp-Name comes from.
MCP_NAME_SOURCE = {"tools/call": "name", "prompts/get": "name", "resources/read": "uri"}
_BASE64_SENTINEL = ("=?base64?", "?=")


def encode_header_value(value: str) -> str:
    """streamable-http, Value Encoding: a value that is not plain visible ASCII (or has white
    space at an end, or looks like the sentinel itself) goes as =?base64?...?=."""
    plain = (all(0x20 <= ord(c) <= 0x7E for c in value) and value == value.strip()
             and not (value.startswith(_BASE64_SENTINEL[0]) and value.endswith(_BASE64_SENTINEL[1])))
    if plain:
        return value
    return _BASE64_SENTINEL[0] + base64.b64encode(value.encode()).decode() + _BASE64_SENTINEL[1]


def modern_headers(message: Any) -> dict:
    """The headers a 2026-07-28 client sends with a message: MCP-Protocol-Version (the body's
    _meta version), Mcp-Method and, where the spec asks for it, Mcp-Name."""
    headers = {"Accept": McpClient.ACCEPT, "Content-Type": "application/json"}
    if not isinstance(message, dict):
        return headers
    params = message.get("params") if isinstance(message.get("params"), dict) else {}
    meta = params.get("_meta") if isinstance(params.get("_meta"), dict) else {}
    if isinstance(meta.get(META_VERSION), str):
        headers["MCP-Protocol-Version"] = meta[META_VERSION]
    method = message.get("method")
    if is_request(message) and isinstance(method, str):
        headers["Mcp-Method"] = method
        name = params.get(MCP_NAME_SOURCE.get(method, ""))
        if isinstance(name, str):
            headers["Mcp-Name"] = encode_header_value(name)
    return headers


class ModernHttpSession(StreamableHttpSession):
    """A 2026-07-28 client over Streamable HTTP: every POST carries the headers of
    `modern_headers` (or those set with `set_headers` for one request), answers are read
    incrementally with no read timeout (a subscriptions/listen stream idles; close() ends it),
    and nothing opens a GET stream or a session."""

    def __init__(self, url: str, label: str = "") -> None:
        super().__init__(url, label, incremental=True, read_timeout_s=None)
        self._header_overrides: dict[str, dict] = {}

    def set_headers(self, request_id: Any, headers: dict) -> None:
        """The exact headers of the next POST of this request id (for header-validation
        tests)."""
        with self._cond:
            self._header_overrides[json.dumps(request_id)] = dict(headers)

    def _request_headers(self, message: Any) -> dict:
        if is_request(message):
            with self._cond:
                override = self._header_overrides.pop(json.dumps(message["id"]), None)
            if override is not None:
                return override
        return modern_headers(message)

    def _after_initialized(self) -> None:
        """No GET stream in this revision (streamable-http: Earlier Streamable HTTP Revisions)."""
