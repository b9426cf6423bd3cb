"""A small, deterministic MCP server that misbehaves on demand: the faulty backend that
test_http_backend_faults.py puts behind mcp-proxy.

Standard library only (http.server, socketserver threads). One `FaultServer` listens on
127.0.0.1:<ephemeral port> and speaks both HTTP transports:

* Streamable HTTP (spec 2025-11-25 basic/transports) at `/mcp`: POST (JSON or SSE answers), GET
  (405, or the replay of a stream when `Last-Event-ID` names one, see Resumability), DELETE.
  Sessions are `fault-1`, `fault-2`, ... (`Mcp-Session-Id`), unless `session_ids` is False.
* Legacy HTTP+SSE (spec 2024-11-05 basic/transports) at any path ending in `/sse`: GET opens the
  event stream; its first event is `endpoint`, whose data is `sse_endpoint` with `{sid}`
  replaced by the session id (relative or absolute, as the test chooses); POSTs to any other path
  with `?sessionId=<sid>` are answered 202 and their answers come on the stream.

What goes wrong is chosen per call by the tool name (`TOOLS`, all deterministic) and per server
by attributes a test sets (`expire_after_calls`, `init_failures`, `protocol_version`, ...).

Server-to-client traffic (for the relay tests, test_relay.py), all opt-in so that the defaults stay
a tools-only server without a GET stream: `capabilities` (what initialize declares; with
`logging`, logging/setLevel is accepted and sets `log_level`; with `resources.subscribe`,
resources/subscribe and unsubscribe are accepted), `get_stream` (a GET without
Last-Event-ID opens the session's standalone event stream), `request_client` / `notify_client`
(send on that stream; the answer the client POSTs back is returned), and the tools `ask_client`
(a server request on the call's own POST stream) and `log_levels`. Every response the client
POSTs is kept in `answers` (by JSON id).
Every HTTP request is recorded (`requests`) before it is answered, and a test waits for what it
expects with `wait_for` (a condition variable, bounded in time), never by sleeping.

Every loop here is bounded in time (socket timeouts, stream lifetimes, waits with deadlines) and
`close()` ends them all: it stops the listener, shuts the open sockets down and joins every
handler thread.
"""

from __future__ import annotations

import itertools
import json
import queue
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Optional
from urllib.parse import parse_qs, urlsplit

# What each tool does when called (`tools/call` with params.name).
TOOLS = {
    "echo": "answers arguments.text as text content (JSON answer)",
    "progress_then_answer": "Streamable HTTP: an SSE answer: a progress notification, then the "
                            "response (the well-behaved stream)",
    "drop_after_progress": "Streamable HTTP: an SSE answer that sends a progress notification and "
                           "then drops the connection, no event ids. Legacy: the POST gets 202, "
                           "a progress notification goes on the event stream, then the event "
                           "stream drops",
    "drop_resumable": "Streamable HTTP: an SSE answer with event ids and `retry:` (a priming "
                      "event, a progress notification), dropped before the response; a GET "
                      "with Last-Event-ID then replays what followed, the response included",
    "drop_unresumable": "Streamable HTTP: like drop_resumable, but the server has forgotten the "
                        "stream: the GET with Last-Event-ID is answered 400",
    "slow": "Streamable HTTP: answers only after a notifications/cancelled for this request "
            "arrives (or after `slow_max_s`), then with an error. Legacy: never answered",
    "json_not_jsonrpc": "Streamable HTTP: 200 application/json whose body is JSON but not JSON-RPC",
    "html_500": "Streamable HTTP: 500 with an HTML body",
    "wrong_content_type": "Streamable HTTP: 200 with the right JSON-RPC response as text/plain",
    "not_http": "Streamable HTTP: bytes that are not an HTTP response, then the connection closes",
    "close_without_answer": "Streamable HTTP: the connection closes with no answer at all (a "
                            "server that died while handling the request)",
    "sse_garbage_then_answer": "an SSE answer (legacy: the event stream) whose first message "
                               "events are not JSON-RPC (HTML, a bare object), then the right "
                               "response",
    "post_500": "Legacy: the POST carrying the request is answered 500 (HTML); nothing on the "
                "event stream",
    "ask_client": "Streamable HTTP: an SSE answer: a request arguments.method (params "
                  "arguments.params) to the client on this POST's stream, then, once the client "
                  "has answered it (or after `ask_timeout_s`), the response, whose text is the "
                  "client's JSON-RPC answer as JSON (or 'no answer')",
    "log_levels": "Streamable HTTP: an SSE answer: a notifications/message per level of "
                  "arguments.levels (default all eight, data '<level> message'), those below "
                  "the level set by logging/setLevel left out, then the response",
}

# RFC 5424 severities as MCP names them (2025-11-25 server/utilities/logging), least severe first.
LOG_LEVELS = ("debug", "info", "notice", "warning", "error", "critical", "alert", "emergency")

STREAM_LIFETIME_S = 60.0  # no event stream outlives this
SOCKET_TIMEOUT_S = 30.0  # a silent peer frees its handler thread after this
QUEUE_POLL_S = 0.1  # how often an idle event stream checks whether the server is stopping


@dataclass
class Recorded:
    """One HTTP request as the fault server received it."""
    method: str  # HTTP method
    target: str  # path and query, as sent
    headers: dict  # lower-case names
    body: Any = None  # the parsed JSON body, or None
    at: float = field(default_factory=time.monotonic)

    @property
    def path(self) -> str:
        return urlsplit(self.target).path

    @property
    def rpc_method(self) -> Optional[str]:
        return self.body.get("method") if isinstance(self.body, dict) else None

    @property
    def tool(self) -> Optional[str]:
        if self.rpc_method != "tools/call":
            return None
        return (self.body.get("params") or {}).get("name")


@dataclass
class _Session:
    sid: str
    calls: int = 0
    expired: bool = False


class _Drop:
    """Queued on a legacy event stream: drop the connection there."""


_DROP = _Drop()


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = False  # handler threads are joined by server_close()
    block_on_close = True
    allow_reuse_address = False
    fault: "FaultServer"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, chunked event streams
    timeout = SOCKET_TIMEOUT_S
    server: _HttpServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base's name)
        pass  # tests read `requests`, not stderr

    def setup(self) -> None:
        super().setup()
        self.server.fault._track(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.fault._untrack(self.connection)

    def do_POST(self) -> None:
        self.server.fault._serve(self)

    def do_GET(self) -> None:
        self.server.fault._serve(self)

    def do_DELETE(self) -> None:
        self.server.fault._serve(self)


# ---------------------------------------------------------------------------------------------
# Writing answers


def _send(h: _Handler, status: int, body: bytes, content_type: Optional[str],
          headers: Optional[dict] = None) -> None:
    h.send_response(status)
    if content_type:
        h.send_header("Content-Type", content_type)
    for k, v in (headers or {}).items():
        h.send_header(k, v)
    h.send_header("Content-Length", str(len(body)))
    h.end_headers()
    h.wfile.write(body)
    h.wfile.flush()


def _send_json(h: _Handler, status: int, obj: Any, headers: Optional[dict] = None) -> None:
    _send(h, status, json.dumps(obj).encode(), "application/json", headers)


def _begin_sse(h: _Handler, headers: Optional[dict] = None) -> None:
    h.send_response(200)
    h.send_header("Content-Type", "text/event-stream")
    h.send_header("Cache-Control", "no-cache")
    h.send_header("Transfer-Encoding", "chunked")
    for k, v in (headers or {}).items():
        h.send_header(k, v)
    h.end_headers()
    h.wfile.flush()


def _chunk(h: _Handler, text: str) -> None:
    data = text.encode()
    h.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
    h.wfile.flush()


def _event(data: str, event: Optional[str] = None, event_id: Optional[str] = None,
           retry_ms: Optional[int] = None) -> str:
    out = ""
    if event_id is not None:
        out += f"id: {event_id}\n"
    if retry_ms is not None:
        out += f"retry: {retry_ms}\n"
    if event is not None:
        out += f"event: {event}\n"
    for line in data.split("\n"):
        out += f"data: {line}\n"
    return out + "\n"


def _end_sse(h: _Handler) -> None:
    h.wfile.write(b"0\r\n\r\n")
    h.wfile.flush()


def _drop(h: _Handler) -> None:
    """Ends the connection abruptly: no final chunk, so the body is cut short."""
    h.close_connection = True
    try:
        h.wfile.flush()
        h.connection.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def _result(rid: Any, result: Any) -> dict:
    return {"jsonrpc": "2.0", "id": rid, "result": result}


def _error(rid: Any, code: int, message: str) -> dict:
    return {"jsonrpc": "2.0", "id": rid, "error": {"code": code, "message": message}}


def _text_result(rid: Any, text: str) -> dict:
    return _result(rid, {"content": [{"type": "text", "text": text}], "isError": False})


def _progress(token: Any, progress: int, message: str) -> dict:
    return {"jsonrpc": "2.0", "method": "notifications/progress",
            "params": {"progressToken": token, "progress": progress, "total": 2,
                       "message": message}}


HTML_BODY = b"<!DOCTYPE html><html><body><h1>500 Internal Server Error</h1></body></html>"


class FaultServer:
    """The faulty MCP server; see the module docstring. Use as a context manager or call close()."""

    def __init__(self, *, session_ids: bool = True, protocol_version: Optional[str] = None,
                 sse_endpoint: str = "messages?sessionId={sid}", slow_max_s: float = 10.0):
        # Settings: plain attributes a test may change at any time.
        self.session_ids = session_ids
        self.protocol_version = protocol_version  # None: answer the version requested
        self.sse_endpoint = sse_endpoint
        self.slow_max_s = slow_max_s
        self.expire_after_calls: Optional[int] = None  # then 404 for that session (both transports)
        self.sse_stream_garbage = False  # legacy: GET .../sse answers 200 text/html
        self.init_failures = 0  # this many initialize requests are answered 500
        self.retry_ms = 50  # `retry:` on resumable streams
        self.capabilities: dict = {"tools": {}}  # declared in the InitializeResult
        self.get_stream = False  # Streamable HTTP: offer the standalone GET stream (else 405)
        self.ask_timeout_s = 15.0  # how long ask_client waits for the client's answer
        self.log_level: Optional[str] = None  # set by logging/setLevel (with `logging` declared)
        # Pings get no answer while True (set with ignore_pings()): a server that hangs.
        self.pings_ignored = False

        self.requests: list[Recorded] = []
        self.dropped_at: dict[str, float] = {}  # resumable stream key -> when it was dropped
        self.errors: list[str] = []  # exceptions in handlers: a fault of this server, not the proxy
        self._cond = threading.Condition()
        self._stopping = threading.Event()
        self._sessions: dict[str, _Session] = {}
        self._legacy: dict[str, queue.Queue] = {}
        self._streams: dict[str, list[tuple[int, str]]] = {}  # resumable: key -> [(seq, event)]
        self._cancelled: set = set()
        self.answers: dict[str, dict] = {}  # json.dumps(id) -> a response the client POSTed
        self._get_queues: dict[str, queue.Queue] = {}  # session id -> its standalone stream
        self._sockets: set = set()
        self._ids = itertools.count(1)
        self._closed = False
        self._httpd = _HttpServer(("127.0.0.1", 0), _Handler)
        self._httpd.fault = self
        self.port: int = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.05},
                                        name=f"fault-server-{self.port}", daemon=True)
        self._thread.start()

    # -- for tests ------------------------------------------------------------------------

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def mcp_url(self) -> str:
        return f"{self.origin}/mcp"

    def sse_url(self, prefix: str = "") -> str:
        return f"{self.origin}{prefix}/sse"

    def wait_for(self, predicate: Callable[[], bool], timeout_s: float = 10.0) -> bool:
        """Waits until predicate() (called under the lock) holds; False after timeout_s."""
        with self._cond:
            return self._cond.wait_for(predicate, timeout_s)

    def ignore_pings(self, ignored: bool) -> None:
        """While `ignored`, a ping gets no answer: over Streamable HTTP its POST is held until
        pings are answered again (or the server stops, or slow_max_s passes), then its connection
        is cut; over legacy SSE nothing goes on the stream."""
        with self._cond:
            self.pings_ignored = ignored
            self._cond.notify_all()

    def snapshot(self) -> list[Recorded]:
        with self._cond:
            return list(self.requests)

    def rpc(self, method: str) -> list[Recorded]:
        """The requests whose JSON-RPC method is `method`, in arrival order."""
        with self._cond:
            return [r for r in self.requests if r.rpc_method == method]

    def count(self, method: str) -> int:
        return len(self.rpc(method))

    def cancelled_ids(self) -> set:
        with self._cond:
            return set(self._cancelled)

    def get_streams(self) -> list[str]:
        """Session ids whose standalone GET stream is open (needs `get_stream`)."""
        with self._cond:
            return list(self._get_queues)

    def _stream_queue(self, sid: Optional[str]) -> queue.Queue:
        with self._cond:
            if sid is None:
                if len(self._get_queues) != 1:
                    raise AssertionError(f"not one open GET stream: {list(self._get_queues)}")
                sid = next(iter(self._get_queues))
            if sid not in self._get_queues:
                raise AssertionError(f"no open GET stream for session {sid!r}")
            return self._get_queues[sid]

    def notify_client(self, method: str, params: Optional[dict] = None,
                      sid: Optional[str] = None) -> None:
        """Sends a notification on a session's standalone GET stream (the only one if sid is
        None)."""
        msg: dict = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            msg["params"] = params
        self._stream_queue(sid).put(msg)

    def request_client(self, method: str, params: Optional[dict] = None,
                       sid: Optional[str] = None, timeout_s: float = 10.0) -> Optional[dict]:
        """Sends a request on a session's standalone GET stream (the only one if sid is None) and
        returns the JSON-RPC response the client POSTs back, or None after timeout_s."""
        q = self._stream_queue(sid)
        rid = f"server-request-{next(self._ids)}"
        msg: dict = {"jsonrpc": "2.0", "id": rid, "method": method}
        if params is not None:
            msg["params"] = params
        q.put(msg)
        return self._await_answer(rid, timeout_s)

    def _await_answer(self, rid: Any, timeout_s: float) -> Optional[dict]:
        key = json.dumps(rid)
        self.wait_for(lambda: key in self.answers or self._stopping.is_set(), timeout_s)
        with self._cond:
            return self.answers.get(key)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._stopping.set()
        with self._cond:
            self._cond.notify_all()
        self._httpd.shutdown()  # serve_forever returns within its poll interval
        self._thread.join(5)
        with self._cond:
            open_sockets = list(self._sockets)
        for s in open_sockets:  # wakes handler threads blocked reading a keep-alive connection
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._httpd.server_close()  # closes the listener and joins the handler threads

    def __enter__(self) -> "FaultServer":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- plumbing -------------------------------------------------------------------------

    def _track(self, s: socket.socket) -> None:
        with self._cond:
            self._sockets.add(s)
        if self._stopping.is_set():  # accepted just as close() began: end it now
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _untrack(self, s: socket.socket) -> None:
        with self._cond:
            self._sockets.discard(s)

    def _record(self, h: _Handler) -> Recorded:
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = {"unparsable": raw.decode("utf-8", "replace")}
        rec = Recorded(h.command, h.path, {k.lower(): v for k, v in h.headers.items()}, body)
        with self._cond:
            self.requests.append(rec)
            self._cond.notify_all()
        return rec

    def _serve(self, h: _Handler) -> None:
        try:
            rec = self._record(h)
            path = rec.path
            if path == "/mcp":
                if rec.method == "POST":
                    self._streamable_post(h, rec)
                elif rec.method == "GET":
                    self._streamable_get(h, rec)
                else:
                    self._streamable_delete(h, rec)
            elif path.endswith("/sse") and rec.method == "GET":
                self._legacy_stream(h)
            elif rec.method == "POST" and "sessionId" in parse_qs(urlsplit(rec.target).query):
                self._legacy_post(h, rec)
            else:
                _send_json(h, 404, _error(None, -32600, f"nothing at {path}"))
        except OSError:  # broken pipe, reset, socket timeout: the peer went away
            h.close_connection = True
        except Exception as e:  # a bug of this server: make it visible to the test
            with self._cond:
                self.errors.append(f"{type(e).__name__}: {e}")
            h.close_connection = True

    # -- Streamable HTTP --------------------------------------------------------------------

    def _session_of(self, h: _Handler, rec: Recorded) -> Optional[_Session]:
        """The request's session; None after answering 400 (no id) or 404 (unknown, expired)."""
        if not self.session_ids:
            return _Session("")
        sid = rec.headers.get("mcp-session-id")
        if not sid:
            _send_json(h, 400, _error(None, -32600,
                                      "Bad Request: Mcp-Session-Id header is required"))
            return None
        with self._cond:
            s = self._sessions.get(sid)
        if s is None or s.expired:
            _send_json(h, 404, _error(None, -32600, "Session not found"))
            return None
        return s

    def _streamable_post(self, h: _Handler, rec: Recorded) -> None:
        msg = rec.body
        if not isinstance(msg, dict) or msg.get("jsonrpc") != "2.0":
            _send_json(h, 400, _error(None, -32700, "Parse error"))
            return
        rid, method = msg.get("id"), msg.get("method")
        if method == "initialize":
            with self._cond:
                fail = self.init_failures > 0
                if fail:
                    self.init_failures -= 1
            if fail:
                _send(h, 500, HTML_BODY, "text/html")
                return
            headers = {}
            if self.session_ids:
                sid = f"fault-{next(self._ids)}"
                with self._cond:
                    self._sessions[sid] = _Session(sid)
                headers["Mcp-Session-Id"] = sid
            _send_json(h, 200, self._initialize_result(msg), headers)
            return
        session = self._session_of(h, rec)
        if session is None:
            return
        if method is None or rid is None:  # a notification or a response
            if method == "notifications/cancelled":
                with self._cond:
                    self._cancelled.add(json.dumps((msg.get("params") or {}).get("requestId")))
                    self._cond.notify_all()
            elif method is None and ("result" in msg or "error" in msg):
                with self._cond:
                    self.answers[json.dumps(rid)] = msg
                    self._cond.notify_all()
            _send(h, 202, b"", None)
            return
        if method == "ping" and self.pings_ignored:
            self.wait_for(lambda: not self.pings_ignored or self._stopping.is_set(),
                          self.slow_max_s)
            _drop(h)
        elif method == "ping":
            _send_json(h, 200, _result(rid, {}))
        elif method == "tools/list":
            _send_json(h, 200, _result(rid, {"tools": [
                {"name": name, "description": what, "inputSchema": {"type": "object"}}
                for name, what in TOOLS.items()]}))
        elif method == "tools/call":
            if self._count_call(session):
                _send_json(h, 404, _error(None, -32600, "Session not found"))
                return
            self._call_tool(h, session, msg)
        elif method == "logging/setLevel" and "logging" in self.capabilities:
            level = (msg.get("params") or {}).get("level")
            if level not in LOG_LEVELS:
                _send_json(h, 200, _error(rid, -32602, f"Invalid params: level {level!r}"))
                return
            with self._cond:
                self.log_level = level
            _send_json(h, 200, _result(rid, {}))
        elif method in ("resources/subscribe", "resources/unsubscribe") and \
                (self.capabilities.get("resources") or {}).get("subscribe"):
            _send_json(h, 200, _result(rid, {}))  # recorded above; updates via notify_client
        else:
            _send_json(h, 200, _error(rid, -32601, f"Method not found: {method}"))

    def _initialize_result(self, msg: dict) -> dict:
        requested = (msg.get("params") or {}).get("protocolVersion")
        return _result(msg.get("id"), {
            "protocolVersion": self.protocol_version or requested,
            "capabilities": self.capabilities,
            "serverInfo": {"name": "fault-server", "version": "1.0.0"},
        })

    def _count_call(self, session: _Session) -> bool:
        """Counts a tools/call of the session; True once expire_after_calls is reached (the
        session has expired: answer 404)."""
        with self._cond:
            limit = self.expire_after_calls
            if limit is not None and session.calls >= limit:
                session.expired = True
            else:
                session.calls += 1
            return session.expired

    def _call_tool(self, h: _Handler, session: _Session, msg: dict) -> None:
        rid = msg["id"]
        params = msg.get("params") or {}
        name = params.get("name")
        args = params.get("arguments") or {}
        token = (params.get("_meta") or {}).get("progressToken")
        answer = _text_result(rid, f"{name}: {args.get('text', '')}")
        sid_header = {"Mcp-Session-Id": session.sid} if session.sid else {}
        if name == "echo":
            _send_json(h, 200, answer)
        elif name == "progress_then_answer":
            _begin_sse(h)
            if token is not None:
                _chunk(h, _event(json.dumps(_progress(token, 1, "half way")), "message"))
            _chunk(h, _event(json.dumps(answer), "message"))
            _end_sse(h)
        elif name == "drop_after_progress":
            _begin_sse(h)
            _chunk(h, _event(json.dumps(_progress(token, 1, "about to drop")), "message"))
            _drop(h)
        elif name in ("drop_resumable", "drop_unresumable"):
            key = f"{session.sid or 'nosession'}.{next(self._ids)}"
            _begin_sse(h)
            # Priming event (2025-11-25): an id and an empty data field, with the retry delay.
            _chunk(h, f"id: {key}:0\nretry: {self.retry_ms}\ndata:\n\n")
            _chunk(h, _event(json.dumps(_progress(token, 1, "before the drop")), "message",
                             f"{key}:1"))
            if name == "drop_resumable":
                with self._cond:
                    self._streams[key] = [
                        (2, _event(json.dumps(_progress(token, 2, "after the drop")), "message",
                                   f"{key}:2")),
                        (3, _event(json.dumps(answer), "message", f"{key}:3")),
                    ]
            _drop(h)
            with self._cond:
                self.dropped_at[key] = time.monotonic()
                self._cond.notify_all()
        elif name == "slow":
            wanted = json.dumps(rid)
            self.wait_for(lambda: wanted in self._cancelled or self._stopping.is_set(),
                          self.slow_max_s)
            _send_json(h, 200, _error(rid, -32800, "cancelled"))
        elif name == "json_not_jsonrpc":
            _send_json(h, 200, {"hello": "world", "id": rid})
        elif name == "html_500":
            _send(h, 500, HTML_BODY, "text/html")
        elif name == "wrong_content_type":
            _send(h, 200, json.dumps(answer).encode(), "text/plain")
        elif name == "not_http":
            h.wfile.write(b"garbage \x00\xff not an HTTP status line\r\n\r\n{\"jsonrpc\":")
            _drop(h)
        elif name == "close_without_answer":
            _drop(h)
        elif name == "sse_garbage_then_answer":
            _begin_sse(h, sid_header)
            _chunk(h, _event("<html><body>oops</body></html>", "message"))
            _chunk(h, _event(json.dumps({"hello": "world"}), "message"))
            _chunk(h, _event(json.dumps(answer), "message"))
            _end_sse(h)
        elif name == "ask_client":
            ask: dict = {"jsonrpc": "2.0", "id": f"ask-{next(self._ids)}",
                         "method": args.get("method", "ping")}
            if args.get("params") is not None:
                ask["params"] = args["params"]
            _begin_sse(h, sid_header)
            _chunk(h, _event(json.dumps(ask), "message"))
            got = self._await_answer(ask["id"], self.ask_timeout_s)
            text = json.dumps(got) if got is not None else "no answer"
            _chunk(h, _event(json.dumps(_text_result(rid, text)), "message"))
            _end_sse(h)
        elif name == "log_levels":
            with self._cond:
                floor = LOG_LEVELS.index(self.log_level) if self.log_level in LOG_LEVELS else 0
            _begin_sse(h, sid_header)
            for level in args.get("levels") or LOG_LEVELS:
                if level in LOG_LEVELS and LOG_LEVELS.index(level) >= floor:
                    note = {"jsonrpc": "2.0", "method": "notifications/message",
                            "params": {"level": level, "logger": "fault-server",
                                       "data": f"{level} message"}}
                    _chunk(h, _event(json.dumps(note), "message"))
            _chunk(h, _event(json.dumps(_text_result(rid, "logged")), "message"))
            _end_sse(h)
        else:
            _send_json(h, 200, _error(rid, -32602, f"Unknown tool: {name}"))

    def _streamable_get(self, h: _Handler, rec: Recorded) -> None:
        session = self._session_of(h, rec)
        if session is None:
            return
        last = rec.headers.get("last-event-id")
        if not last:
            if self.get_stream:
                self._standalone_stream(h, session)
            else:  # no standalone stream (the spec allows 405)
                _send(h, 405, b"", None, {"Allow": "POST, DELETE"})
            return
        key, _, seq = last.rpartition(":")
        with self._cond:
            events = self._streams.pop(key, None) if key.startswith(session.sid) else None
        if events is None or not seq.isdigit():
            _send_json(h, 400, _error(None, -32600, f"unknown event id {last}"))
            return
        _begin_sse(h)
        for n, text in events:
            if n > int(seq):
                _chunk(h, text)
        _end_sse(h)

    def _standalone_stream(self, h: _Handler, session: _Session) -> None:
        """The session's GET stream (basic/transports: Listening for Messages from the Server):
        what request_client / notify_client queue, until the session ends, the server stops or
        STREAM_LIFETIME_S passes. A newer GET of the session takes its place."""
        q: queue.Queue = queue.Queue()
        with self._cond:
            self._get_queues[session.sid] = q
            self._cond.notify_all()
        try:
            _begin_sse(h, {"Mcp-Session-Id": session.sid} if session.sid else None)
            deadline = time.monotonic() + STREAM_LIFETIME_S
            while not self._stopping.is_set() and time.monotonic() < deadline:
                with self._cond:
                    current = self._get_queues.get(session.sid) is q
                    alive = not self.session_ids or session.sid in self._sessions
                if not current or not alive:
                    break
                try:
                    item = q.get(timeout=QUEUE_POLL_S)
                except queue.Empty:
                    continue
                _chunk(h, _event(json.dumps(item), "message"))
            _end_sse(h)
            h.close_connection = True
        finally:
            with self._cond:
                if self._get_queues.get(session.sid) is q:
                    del self._get_queues[session.sid]
                self._cond.notify_all()

    def _streamable_delete(self, h: _Handler, rec: Recorded) -> None:
        session = self._session_of(h, rec)
        if session is None:
            return
        with self._cond:
            self._sessions.pop(session.sid, None)
        _send(h, 200, b"", None)

    # -- legacy HTTP+SSE ----------------------------------------------------------------------

    def _legacy_stream(self, h: _Handler) -> None:
        if self.sse_stream_garbage:
            _send(h, 200, HTML_BODY, "text/html")
            return
        sid = f"legacy-{next(self._ids)}"
        q: queue.Queue = queue.Queue()
        with self._cond:
            self._legacy[sid] = q
            self._sessions[sid] = _Session(sid)
        try:
            _begin_sse(h)
            _chunk(h, _event(self.sse_endpoint.format(sid=sid), "endpoint"))
            deadline = time.monotonic() + STREAM_LIFETIME_S
            while not self._stopping.is_set() and time.monotonic() < deadline:
                try:
                    item = q.get(timeout=QUEUE_POLL_S)
                except queue.Empty:
                    continue
                if item is _DROP:
                    _drop(h)
                    return
                data = item if isinstance(item, str) else json.dumps(item)  # str: raw garbage
                _chunk(h, _event(data, "message"))
            _end_sse(h)
            h.close_connection = True
        finally:
            with self._cond:
                self._legacy.pop(sid, None)

    def _legacy_post(self, h: _Handler, rec: Recorded) -> None:
        sid = parse_qs(urlsplit(rec.target).query)["sessionId"][0]
        with self._cond:
            q = self._legacy.get(sid)
            session = self._sessions.get(sid)
        if q is None or session is None or session.expired:
            _send_json(h, 404, _error(None, -32600, "unknown session"))
            return
        msg = rec.body
        if not isinstance(msg, dict):
            _send_json(h, 400, _error(None, -32700, "Parse error"))
            return
        rid, method = msg.get("id"), msg.get("method")
        params = msg.get("params") or {}
        if method == "tools/call":
            if self._count_call(session):
                _send_json(h, 404, _error(None, -32600, "unknown session"))
                return
            if params.get("name") == "post_500":
                _send(h, 500, HTML_BODY, "text/html")
                return
        _send(h, 202, b"", None)
        if method is None or rid is None:
            if method == "notifications/cancelled":
                with self._cond:
                    self._cancelled.add(json.dumps(params.get("requestId")))
                    self._cond.notify_all()
            return
        if method == "initialize":
            q.put(self._initialize_result(msg))
        elif method == "ping":
            if not self.pings_ignored:
                q.put(_result(rid, {}))
        elif method == "tools/call":
            name = params.get("name")
            token = (params.get("_meta") or {}).get("progressToken")
            if name == "echo":
                q.put(_text_result(rid, f"echo: {(params.get('arguments') or {}).get('text', '')}"))
            elif name == "drop_after_progress":
                if token is not None:
                    q.put(_progress(token, 1, "about to drop"))
                q.put(_DROP)
            elif name == "slow":
                pass  # never answered: the proxy's deadline and cancellation are under test
            elif name == "sse_garbage_then_answer":
                q.put("<html><body>oops</body></html>")
                q.put(json.dumps({"hello": "world"}))
                text = (params.get("arguments") or {}).get("text", "")
                q.put(_text_result(rid, f"sse_garbage_then_answer: {text}"))
            else:
                q.put(_error(rid, -32602, f"Unknown tool: {name}"))
        else:
            q.put(_error(rid, -32601, f"Method not found: {method}"))
