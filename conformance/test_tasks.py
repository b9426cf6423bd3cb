"""Tasks (2025-11-25, experimental) relayed by mcp-proxy.

Spec: docs/specification/2025-11-25/basic/utilities/tasks.mdx and schema/2025-11-25/schema.ts of
modelcontextprotocol/modelcontextprotocol. A request with `params.task` is task-augmented: the
receiver answers a CreateTaskResult `{task: {taskId, status, ...}}` at once and runs the work in
the background; the requestor polls `tasks/get`, fetches the outcome with `tasks/result` (the
tool's CallToolResult, with `_meta["io.modelcontextprotocol/related-task"]`), may `tasks/list`
and `tasks/cancel`, and may hear `notifications/tasks/status`.

Backend: @modelcontextprotocol/server-everything 2026.8.31 over stdio (located and started as in
test_sdk_interop.py, whose `peers` fixture this file reuses: without node or the npm packages
these tests skip, except under CI). It declares `tasks: {list, cancel, requests.tools.call}` and,
once initialized, the tool `simulate-research-query` (`execution.taskSupport: "required"`),
which walks 4 stages of 1 s each (updateTaskStatus -> notifications/tasks/status) and then stores
its report (storeTaskResult -> a `completed` notifications/tasks/status). Its task store is the
SDK's InMemoryTaskStore: over stdio it has no session of its own, so every task of a shared
backend is visible to every proxy session unless the proxy binds tasks to the session that
created them (tasks#task-isolation-and-access-control), which is what these tests check.
"""

from __future__ import annotations

import time
import uuid
from contextlib import contextmanager
from typing import Iterator, Optional

import pytest

from conftest import McpClient, wait_until
from mcp_session import StreamableHttpSession
from test_sdk_interop import _everything_stdio, peers  # noqa: F401  (peers is a fixture)

INVALID_PARAMS = -32602
TOOL = "simulate-research-query"
RELATED_TASK = "io.modelcontextprotocol/related-task"
TERMINAL = ("completed", "failed", "cancelled")
# What server-everything declares (dist/server/index.js).
EVERYTHING_TASKS = {"list": {}, "cancel": {}, "requests": {"tools": {"call": {}}}}
TASK_DEADLINE_S = 30.0  # the tool itself takes ~4 s
MAX_POLL_SLEEP_S = 2.0
NOTIFY_TIMEOUT_S = 10.0
GRACE_S = 0.5  # after the creator heard the last notification, anything misrouted is here too

spec = pytest.mark.spec


# --------------------------------------------------------------------------------------------
# Helpers


def _proxy_with_everything(start_proxy, peers, *, mode: str = "shared", with_mock: bool = False,
                           mock_server_bin=None):
    """mcp-proxy with server-everything (stdio) as server `ev`; optionally the mock beside it
    (it declares no tasks) so that the merged capabilities are a union."""
    servers = {"ev": {**_everything_stdio(None, peers, None), "timeout": "30s",
                      "sessionMode": mode}}
    if with_mock:
        servers["mock"] = {"command": str(mock_server_bin), "args": [], "timeout": "30s"}
    return start_proxy({"mcpProxy": {"addr": "127.0.0.1:0"}, "mcpServers": servers})


def _route_url(proxy, route: str) -> str:
    return f"{proxy.base_url}/mcp" if route == "merged" else proxy.url("ev")


def _tool_name(route: str) -> str:
    return f"ev__{TOOL}" if route == "merged" else TOOL


def _topic() -> str:
    return f"proxy tasks {uuid.uuid4().hex[:10]}"


def _task_call_params(route: str, topic: str) -> dict:
    return {"name": _tool_name(route), "arguments": {"topic": topic}, "task": {"ttl": 60000}}


def _with_log(proxy, e: AssertionError) -> AssertionError:
    return AssertionError(f"{e}\n--- mcp-proxy output (tail):\n{proxy.output()[-4000:]}")


@contextmanager
def _logged(proxy) -> Iterator[None]:
    """Failures carry the tail of the proxy's log (which includes server-everything's stderr)."""
    try:
        yield
    except AssertionError as e:
        raise _with_log(proxy, e) from None


def assert_invalid_params(response: dict, what: str) -> None:
    assert "error" in response, f"{what}: expected error -32602, got {response}"
    assert response["error"]["code"] == INVALID_PARAMS, f"{what}: {response}"


def assert_task_shape(task: dict, task_id: Optional[str] = None) -> None:
    """schema.ts Task: taskId, status, createdAt, lastUpdatedAt, ttl (number or null)."""
    assert isinstance(task.get("taskId"), str) and task["taskId"], task
    if task_id is not None:
        assert task["taskId"] == task_id, task
    assert task.get("status") in ("working", "input_required", *TERMINAL), task
    assert isinstance(task.get("createdAt"), str), task
    assert isinstance(task.get("lastUpdatedAt"), str), task
    assert "ttl" in task, task


def create_task(c: McpClient, route: str, topic: str) -> dict:
    """A task-augmented tools/call; returns the CreateTaskResult's task."""
    response = c.request("tools/call", _task_call_params(route, topic))
    assert "result" in response, f"task-augmented tools/call failed: {response}"
    task = response["result"].get("task")
    assert isinstance(task, dict), f"not a CreateTaskResult: {response}"
    assert_task_shape(task)
    assert task["status"] == "working", task  # tasks#task-status-lifecycle: begins working
    assert "content" not in response["result"], response  # not the tool's result itself
    return task


def poll_until_terminal(get, task_id: str, deadline_s: float = TASK_DEADLINE_S) -> dict:
    """tasks/get (through `get(params) -> response`) until a terminal status, honouring the
    task's pollInterval, bounded in time; returns the last Task."""
    deadline = time.monotonic() + deadline_s
    seen = []
    while True:
        response = get({"taskId": task_id})
        assert "result" in response, f"tasks/get failed: {response}"
        task = response["result"]
        assert_task_shape(task, task_id)
        assert RELATED_TASK not in (task.get("_meta") or {}), task  # tasks: SHOULD NOT
        seen.append(task["status"])
        if task["status"] in TERMINAL:
            return task
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"task {task_id} not terminal after {deadline_s} s: {seen}"
        interval = (task.get("pollInterval") or 500) / 1000.0
        time.sleep(max(0.05, min(interval, MAX_POLL_SLEEP_S, remaining)))


def assert_research_result(response: dict, task_id: str, topic: str) -> None:
    """tasks/result: the tool's CallToolResult, related to the task."""
    assert "result" in response, f"tasks/result failed: {response}"
    result = response["result"]
    assert not result.get("isError", False), result
    content = result.get("content") or []
    assert content and content[0].get("type") == "text", result
    assert content[0]["text"].startswith(f"# Research Report: {topic}"), content[0]["text"][:200]
    assert (result.get("_meta") or {}).get(RELATED_TASK) == {"taskId": task_id}, result.get("_meta")


def listed_ids(response: dict) -> list:
    assert "result" in response, f"tasks/list failed: {response}"
    tasks = response["result"].get("tasks")
    assert isinstance(tasks, list), response
    return [t.get("taskId") for t in tasks]


def assert_foreign(other: McpClient, task_id: str) -> None:
    """Another session can neither see nor touch the task (tasks#task-isolation-and-access-
    control: MUST reject tasks/get, tasks/result, tasks/cancel; tasks/list only its own)."""
    for method in ("tasks/get", "tasks/result", "tasks/cancel"):
        assert_invalid_params(other.request(method, {"taskId": task_id}),
                              f"{method} of another session's task")
    assert task_id not in listed_ids(other.request("tasks/list", {})), "another session lists it"


# --------------------------------------------------------------------------------------------
# The server's own route, both session modes


@spec("2025-11-25 basic/utilities/tasks#task-isolation-and-access-control")
@spec("2025-11-25 basic/utilities/tasks#creating-tasks")
@spec("2025-11-25 basic/utilities/tasks#getting-tasks")
@spec("2025-11-25 basic/utilities/tasks#retrieving-task-results")
@spec("2025-11-25 basic/utilities/tasks#listing-tasks")
@spec("2025-11-25 basic/utilities/tasks#protocol-errors")
@pytest.mark.parametrize("mode", ["shared", "per-client"])
def test_a_task_runs_to_completion_and_belongs_to_its_session(start_proxy, peers, http, mode):
    """2025-11-25 basic/utilities/tasks: Creating Tasks, Getting Tasks, Retrieving Task Results,
    Listing Tasks, Protocol Errors and Security Considerations (Task Isolation and Access
    Control) through /{name}/mcp. Client A's task-augmented tools/call answers a CreateTaskResult
    in status working; A's tasks/list has it; A's tasks/get reaches `completed`; A's tasks/result
    is the tool's result with the related-task _meta. Client B, another session (on the same
    backend in shared mode, its own backend per-client), gets -32602 for tasks/get, tasks/result
    and tasks/cancel of A's task while it runs and does not list it; had B's cancel reached the
    backend, A's task would end `cancelled`. An unknown taskId gets -32602."""
    proxy = _proxy_with_everything(start_proxy, peers, mode=mode)
    url = proxy.url("ev")
    with _logged(proxy):
        a = McpClient(url, http).open_session()
        b = McpClient(url, http).open_session()
        topic = _topic()
        task = create_task(a, "server", topic)
        task_id = task["taskId"]

        assert task_id in listed_ids(a.request("tasks/list", {})), "A does not list its task"
        assert_foreign(b, task_id)
        assert_invalid_params(a.request("tasks/get", {"taskId": f"no-such-{uuid.uuid4()}"}),
                              "tasks/get of an unknown taskId")

        done = poll_until_terminal(lambda p: a.request("tasks/get", p), task_id)
        assert done["status"] == "completed", done
        assert_research_result(a.request("tasks/result", {"taskId": task_id}), task_id, topic)

        # Still A's alone once it is done.
        assert task_id in listed_ids(a.request("tasks/list", {}))
        assert_foreign(b, task_id)


# --------------------------------------------------------------------------------------------
# The merged endpoint


@spec("2025-11-25 basic/utilities/tasks#server-capabilities")
@spec("2025-11-25 basic/utilities/tasks#task-isolation-and-access-control")
@spec("2025-11-25 basic/utilities/tasks#retrieving-task-results")
@spec("2025-11-25 basic/utilities/tasks#listing-tasks")
@spec("2025-11-25 basic/utilities/tasks#protocol-errors")
def test_tasks_on_the_merged_endpoint(start_proxy, peers, mock_server_bin, http):
    """2025-11-25 basic/utilities/tasks: Server Capabilities, Listing Tasks (an unknown cursor
    is -32602, Protocol Errors), Retrieving Task Results and Task Isolation on /mcp, merging
    server-everything (prefix ev) and the mock (no tasks): initialize declares the union of the
    members' `tasks` (server-everything's list, cancel, requests.tools.call); a task-augmented
    call of ev__simulate-research-query creates a task; tasks/get and tasks/result reach the
    member that created it; tasks/list is one page of the session's tasks (no nextCursor), and
    a cursor gets -32602; an unknown taskId gets -32602; another merged session neither lists
    nor reaches the task."""
    proxy = _proxy_with_everything(start_proxy, peers, with_mock=True,
                                   mock_server_bin=mock_server_bin)
    url = f"{proxy.base_url}/mcp"
    with _logged(proxy):
        a = McpClient(url, http)
        init = a.initialize()
        assert init.status == 200, init
        caps = init.response_to(1)["result"]["capabilities"]
        assert caps.get("tasks") == EVERYTHING_TASKS, caps
        assert a.notify("notifications/initialized").status == 202
        b = McpClient(url, http).open_session()

        assert listed_ids(a.request("tasks/list", {})) == [], "a new session lists tasks"
        topic = _topic()
        task_id = create_task(a, "merged", topic)["taskId"]

        listing = a.request("tasks/list", {})
        assert listed_ids(listing) == [task_id], listing
        assert "nextCursor" not in listing["result"], listing
        assert_invalid_params(a.request("tasks/list", {"cursor": "anything"}),
                              "tasks/list with a cursor the merged endpoint never gave")
        assert_invalid_params(a.request("tasks/get", {"taskId": f"no-such-{uuid.uuid4()}"}),
                              "tasks/get of an unknown taskId")
        assert_invalid_params(a.request("tasks/get", {}), "tasks/get without a taskId")
        assert_foreign(b, task_id)

        done = poll_until_terminal(lambda p: a.request("tasks/get", p), task_id)
        assert done["status"] == "completed", done
        assert_research_result(a.request("tasks/result", {"taskId": task_id}), task_id, topic)
        assert_foreign(b, task_id)


# --------------------------------------------------------------------------------------------
# Cancellation


@spec("2025-11-25 basic/utilities/tasks#cancelling-tasks")
@spec("2025-11-25 basic/utilities/tasks#task-cancellation")
@pytest.mark.parametrize("route,mode", [("server", "shared"), ("server", "per-client"),
                                        ("merged", "shared")],
                         ids=["shared", "per-client", "merged"])
def test_cancelling_a_running_task(start_proxy, peers, http, route, mode):
    """2025-11-25 basic/utilities/tasks: Cancelling Tasks and Task Cancellation. tasks/cancel of
    a running task reaches the backend that runs it, which answers the Task in status cancelled;
    tasks/get then shows `cancelled` (and still does once the tool's next stage would have run:
    a cancelled task MUST remain cancelled); a second tasks/cancel, of a task now terminal, gets
    -32602 from the backend (MUST reject)."""
    proxy = _proxy_with_everything(start_proxy, peers, mode=mode)
    with _logged(proxy):
        a = McpClient(_route_url(proxy, route), http).open_session()
        task_id = create_task(a, route, _topic())["taskId"]

        cancelled = a.request("tasks/cancel", {"taskId": task_id})
        assert "result" in cancelled, f"tasks/cancel failed: {cancelled}"
        assert_task_shape(cancelled["result"], task_id)
        assert cancelled["result"]["status"] == "cancelled", cancelled

        got = a.request("tasks/get", {"taskId": task_id})
        assert got.get("result", {}).get("status") == "cancelled", got
        time.sleep(1.5)  # one stage of the tool (1 s) later
        got = a.request("tasks/get", {"taskId": task_id})
        assert got.get("result", {}).get("status") == "cancelled", got
        assert_invalid_params(a.request("tasks/cancel", {"taskId": task_id}),
                              "tasks/cancel of a cancelled task")


# --------------------------------------------------------------------------------------------
# Status notifications


def _open_streamable(url: str, label: str) -> StreamableHttpSession:
    s = StreamableHttpSession(url, label)
    s.open()
    assert wait_until(lambda: s.get_stream_status is not None, 15.0), f"{label}: no GET stream"
    assert s.get_stream_status == 200, f"{label}: GET stream HTTP {s.get_stream_status}"
    return s


def _status_notes(s: StreamableHttpSession, task_id: Optional[str] = None) -> list:
    return [n for n in s.notifications("notifications/tasks/status")
            if task_id is None or (n.get("params") or {}).get("taskId") == task_id]


@spec("2025-11-25 basic/utilities/tasks#task-status-notification", level="MAY")
@spec("2025-11-25 basic/utilities/tasks#task-isolation-and-access-control")
@pytest.mark.parametrize("route", ["server", "merged"])
def test_status_notifications_reach_only_the_creating_session(start_proxy, peers, route):
    """2025-11-25 basic/utilities/tasks: Task Status Notification and Task Isolation. The SDK
    behind server-everything sends notifications/tasks/status (the full Task) at every status
    update and when the result is stored; these are tied to no request, so the proxy relays them
    on a GET (or POST) stream of the session that created the task and of no other session of
    the shared backend (on /ev/mcp, and on /mcp through the merged endpoint). The creator hears
    the task's `completed` status, and each notification is a Task of its task."""
    proxy = _proxy_with_everything(start_proxy, peers)
    url = _route_url(proxy, route)
    a = b = None
    try:
        with _logged(proxy):
            a = _open_streamable(url, "A")
            b = _open_streamable(url, "B")
            response = a.request("tools/call", _task_call_params(route, _topic()))
            assert "result" in response and isinstance(response["result"].get("task"), dict), \
                response
            task_id = response["result"]["task"]["taskId"]

            done = poll_until_terminal(lambda p: a.request("tasks/get", p), task_id)
            assert done["status"] == "completed", done
            completed = a.wait_for(
                lambda m: m.get("method") == "notifications/tasks/status"
                and (m.get("params") or {}).get("taskId") == task_id
                and m["params"].get("status") == "completed", NOTIFY_TIMEOUT_S)
            assert completed is not None, (
                f"no `completed` notifications/tasks/status reached the creator; it got "
                f"{_status_notes(a)}; {a.diagnostics()}")
            notes = _status_notes(a)
            assert notes and all(n["params"]["taskId"] == task_id for n in notes), notes
            for n in notes:
                assert_task_shape(n["params"], task_id)
                assert RELATED_TASK not in (n["params"].get("_meta") or {}), n  # SHOULD NOT
            # Every working stage was announced, the first one included: server-everything sends
            # it before the CreateTaskResult, when no session is known to own the task yet (the
            # proxy keeps it for the session the answer names).
            stages = [n["params"].get("statusMessage") or "" for n in notes
                      if n["params"]["status"] == "working"]
            assert any(m.startswith("Gathering sources") for m in stages), stages
            assert len(stages) >= 4, stages

            time.sleep(GRACE_S)
            assert _status_notes(b) == [], f"another session heard of the task: {_status_notes(b)}"
            assert not a.transport_problems and not b.transport_problems, \
                (a.transport_problems, b.transport_problems)
    finally:
        for s in (a, b):
            if s is not None:
                s.close()
