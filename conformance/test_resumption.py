"""Resumable SSE streams on the proxy's Streamable HTTP endpoints (spec 2025-11-25
basic/transports: sending messages to the server, resumability and redelivery).

The proxy gives every event of a session's SSE streams an id "{stream}-{seq}", primes each stream
with an id and empty data, keeps the last events of each stream, and on a GET with Last-Event-ID
replays what followed on that stream only; when the POST's client went away mid-call, the rest
of the call (progress, then the response) continues on the resuming GET. A disconnect is not a
cancellation. Proxy-specific: the mock's paced `progress` tool makes a stream last long enough to
cut it.
"""

from __future__ import annotations

import json
from typing import Iterator, Optional

import httpx
import pytest

from conftest import LATEST_PROTOCOL_VERSION, McpClient, SseEvent, SseParser, mock_config

READ_TIMEOUT_S = 20.0


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=READ_TIMEOUT_S, trust_env=False) as c:
        yield c


class EventReader:
    """Reads a streaming SSE response in steps."""

    def __init__(self, r: httpx.Response) -> None:
        self._chunks = r.iter_text()
        self._parser = SseParser()

    def until(self, done, limit: int = 50) -> list[SseEvent]:
        """The next events, up to the first point where `done(events)` holds (bounded)."""
        events: list[SseEvent] = []
        for text in self._chunks:
            events.extend(self._parser.feed(text))
            if done(events) or len(events) >= limit:
                break
        return events


def read_events(r: httpx.Response, done, limit: int = 50) -> list[SseEvent]:
    return EventReader(r).until(done, limit)


def messages(events: list[SseEvent]) -> list[dict]:
    return [json.loads(e.data) for e in events if e.data]


def has_response(events: list[SseEvent]) -> bool:
    return any("result" in m or "error" in m for m in messages(events))


def progress_call(rid: int, steps: int, interval_ms: int, route_tool: str = "progress") -> dict:
    return {"jsonrpc": "2.0", "id": rid, "method": "tools/call",
            "params": {"name": route_tool, "arguments": {"steps": steps, "interval_ms": interval_ms},
                       "_meta": {"progressToken": f"tok-{rid}"}}}


def get_stream(http: httpx.Client, c: McpClient, last_event_id: Optional[str]):
    headers = c.headers(extra={"Accept": "text/event-stream"})
    headers.pop("Content-Type", None)
    if last_event_id is not None:
        headers["Last-Event-ID"] = last_event_id
    return http.stream("GET", c.url, headers=headers)


@pytest.fixture
def session(start_proxy, mock_server_bin, http):
    proxy = start_proxy(mock_config(mock_server_bin))
    c = McpClient(proxy.url("mock"), http)
    c.initialize()
    assert c.protocol_version == LATEST_PROTOCOL_VERSION
    return c


@pytest.mark.spec("2025-11-25 basic/transports#resumability-and-redelivery")
def test_a_cut_post_stream_resumes_on_get_with_the_rest_of_the_call(session, http):
    """The client reads the priming event and the first progress event, then drops the
    connection; a GET with that event's id gets the later progress and the response, each once,
    on the same stream (same stream part of the ids), and the stream then ends."""
    c = session
    with http.stream("POST", c.url, json=progress_call(7, 3, 400), headers=c.headers()) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        first = read_events(r, lambda evs: len(messages(evs)) >= 1)
    priming, seen = first[0], first[-1]
    assert priming.data == "" and priming.id and priming.id.endswith("-0"), first
    assert priming.retry == 1000, "retry tells the client when to reconnect"
    stream_no = priming.id.split("-")[0]
    assert seen.id and seen.id.startswith(stream_no + "-") and seen.id != priming.id, first
    assert messages(first)[0]["params"]["progress"] == 1

    with get_stream(http, c, seen.id) as r:
        assert r.status_code == 200
        rest = read_events(r, has_response)
    got = messages(rest)
    assert [m["params"]["progress"] for m in got if m.get("method") == "notifications/progress"] \
        == [2, 3], got
    assert got[-1]["id"] == 7 and got[-1]["result"]["content"][0]["text"] == "done 3 steps", got
    ids = [e.id for e in rest]
    assert all(i and i.startswith(stream_no + "-") for i in ids), ids
    assert len(set(ids)) == len(ids) and seen.id not in ids, ids
    assert c.request("ping")["result"] == {}, "the session goes on"


@pytest.mark.spec("2025-11-25 basic/transports#resumability-and-redelivery")
def test_replay_after_the_priming_event_repeats_that_stream_only(session, http):
    """Two calls stream at once; resuming the first from its priming id replays its own events
    (from the first), never the other call's."""
    c = session
    with http.stream("POST", c.url, json=progress_call(1, 2, 300), headers=c.headers()) as a, \
            http.stream("POST", c.url, json=progress_call(2, 2, 300), headers=c.headers()) as b:
        a_events = read_events(a, lambda evs: len(messages(evs)) >= 1)
        b_events = read_events(b, has_response)
    assert a_events[0].id.split("-")[0] != b_events[0].id.split("-")[0], "one stream per POST"
    with get_stream(http, c, a_events[0].id) as r:
        replayed = read_events(r, has_response)
    got = messages(replayed)
    assert all(m.get("params", {}).get("progressToken", "tok-1") == "tok-1" for m in got), got
    assert [m["params"]["progress"] for m in got if "params" in m] == [1, 2], got
    assert got[-1]["id"] == 1, got


@pytest.mark.spec("2025-11-25 basic/transports#resumability-and-redelivery")
def test_the_get_stream_replays_what_followed_the_last_event_id(session, http):
    """Messages the server sends on its own (tools/list_changed here) carry ids on the GET
    stream; a new GET with an earlier id gets them again."""
    c = session
    with get_stream(http, c, None) as r:
        assert r.status_code == 200
        reader = EventReader(r)
        primed = reader.until(lambda evs: len(evs) >= 1)
        assert primed[0].data == "" and primed[0].id.endswith("-0"), primed
        assert c.call_tool("change_tools")["result"]["content"][0]["text"] == "changed"
        changed = reader.until(lambda evs: any(m.get("method") ==
                                               "notifications/tools/list_changed"
                                               for m in messages(evs)))
    assert changed[-1].id.split("-")[0] == primed[0].id.split("-")[0]
    with get_stream(http, c, primed[0].id) as r:
        again = read_events(r, lambda evs: len(messages(evs)) >= 1)
    assert messages(again)[0]["method"] == "notifications/tools/list_changed"
    assert again[0].id == changed[-1].id


def test_an_unknown_last_event_id_gets_a_fresh_get_stream(session, http):
    """An id the session never issued (or no longer keeps) cannot be replayed: the client gets
    an ordinary GET stream (primed, nothing replayed), not an error."""
    c = session
    with get_stream(http, c, "999-5") as r:
        assert r.status_code == 200
        events = read_events(r, lambda evs: len(evs) >= 1)
    assert events[0].data == "" and events[0].id.endswith("-0")


# ---------------------------------------------------------------------------------------------
# Polling: mcpProxy.closeStreamAfter


@pytest.fixture
def polling(start_proxy, mock_server_bin):
    """A proxy that ends a call's stream once it has run 300 ms (mcpProxy.closeStreamAfter)."""
    config = mock_config(mock_server_bin)
    config["mcpProxy"]["closeStreamAfter"] = "300ms"
    return start_proxy(config)


def sleep_call(rid: int, ms: int) -> dict:
    return {"jsonrpc": "2.0", "id": rid, "method": "tools/call",
            "params": {"name": "sleep", "arguments": {"ms": ms}}}


@pytest.mark.spec("2025-11-25 basic/transports#sending-messages-to-the-server (polling)")
def test_a_long_call_has_its_stream_closed_and_resumed_by_get(polling, http):
    """2025-11-25 basic/transports: the server MAY close the connection after the priming
    event without terminating the stream, and the client then polls with GET and Last-Event-ID.
    The call's stream is primed, ended cleanly before the response, the call is not cancelled,
    and a GET with the last id gets the response (with the client's id)."""
    c = McpClient(polling.url("mock"), http)
    c.initialize()
    with http.stream("POST", c.url, json=sleep_call(41, 1500), headers=c.headers()) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        events = read_events(r, lambda evs: False)  # to the end of the stream
    assert len(events) == 1 and events[0].data == "" and events[0].id.endswith("-0"), events
    assert events[0].retry == 1000, "retry tells the client when to poll"
    with get_stream(http, c, events[0].id) as r:
        assert r.status_code == 200
        rest = read_events(r, has_response)
    got = messages(rest)
    assert got[-1]["id"] == 41 and got[-1]["result"]["content"][0]["text"] == "slept 1500 ms", got
    assert all(e.id.split("-")[0] == events[0].id.split("-")[0] for e in rest if e.data), rest


@pytest.mark.spec("2025-11-25 basic/transports#sending-messages-to-the-server (polling)")
def test_polling_keeps_short_calls_and_older_clients_on_one_answer(polling, http):
    """A call answered before closeStreamAfter is answered as usual (plain JSON); a client of
    2025-06-18 gets no priming event, so it could not resume: its stream is never closed early."""
    c = McpClient(polling.url("mock"), http)
    c.initialize()
    quick = c.call_tool("echo", {"text": "quick"})
    assert quick["result"]["content"][0]["text"] == "quick", quick
    old = McpClient(polling.url("mock"), http)
    old.initialize(version="2025-06-18")
    reply = old.post(sleep_call(5, 800))
    assert reply.status == 200, reply
    assert reply.response_to(5)["result"]["content"][0]["text"] == "slept 800 ms", reply.messages
