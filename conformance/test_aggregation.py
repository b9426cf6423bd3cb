"""mcp-proxy's merged endpoint: many backends behind one MCP server.

The proxy serves, besides each server's own `/{name}/mcp` and `/{name}/sse`, a merged endpoint at
`/mcp` (Streamable HTTP) and `/sse` + `/message` (legacy HTTP+SSE), and one per configured group
at `/{group}/mcp` and `/{group}/sse`. Tools and prompts are exposed as `{prefix}{separator}{name}`
(always valid names, mapped back by table), resources keep their URIs, lists are merged with an
opaque composite cursor, calls are routed to the backend that owns the name or URI, and a backend
that fails is left out instead of failing the request. Configuration: mcpProxy.aggregate,
toolNameSeparator, pageSize, listCacheTTL, fanOutTimeout, groups; per server prefix and
options.toolFilter / promptFilter / resourceFilter.

Backends are the mock (mock-servers/mock_mcp_server.cpp, its conformance fixture and synthetic
flags) over stdio, Streamable HTTP and legacy SSE; fault_server.FaultServer where a test must see
what reached a backend (cancellation, caching); and, where neither can serve the tool names or
metadata a test needs (names with the separator inside, titles, annotations, `_meta`), a tiny
stdio backend written by this file (PY_BACKEND) that lists exactly the tools it is given.

Spec citations are to docs/specification/2025-11-25/ of modelcontextprotocol/modelcontextprotocol.
"""

from __future__ import annotations

import concurrent.futures
import json
import re
import subprocess
import sys
import time
from typing import Any, Callable, Iterator, Optional
from urllib.parse import urlsplit

import httpx
import pytest

from conftest import (STARTUP_TIMEOUT_S, McpClient, ProxyProcess, closed_port, process_exists,
                      text_of, wait_until)
from mcp_session import LegacySseSession, StreamableHttpSession, is_notification

INVALID_PARAMS = -32602
RESOURCE_NOT_FOUND = -32002
REQUEST_TIMEOUT = -32001

VALID_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
HASH_SUFFIX = re.compile(r"_[0-9a-fA-F]{8}$")
MAX_PAGES = 100  # every cursor walk ends by here
JOIN_TIMEOUT_S = 45.0  # a backend down at start is retried after 1, 2, 4, 8, 16 s ...
NOTIFY_TIMEOUT_S = 15.0

# The mock's own tools (mock_mcp_server.cpp, tool_list), in its order.
MOCK_TOOLS = ["echo", "add", "sleep", "progress", "log", "big", "stderr_flood", "crash", "pid",
              "env", "cwd", "change_tools", "nested", "meta"]
FIXTURE_PROMPTS = ["test_simple_prompt", "test_prompt_with_arguments",
                   "test_prompt_with_embedded_resource", "test_prompt_with_image"]
FIXTURE_RESOURCES = ["test://static-text", "test://static-binary", "test://watched-resource"]
FIXTURE_TEMPLATE = "test://template/{id}/data"
MOCK_INSTRUCTIONS = "A deterministic mock MCP server for tests."


# ---------------------------------------------------------------------------------------------
# A stdio backend with the exact tools a test needs

PY_BACKEND = r'''
import json
import sys

spec = json.loads(sys.argv[1])
tools = spec.get("tools") or []
VERSIONS = ("2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25")


def send(message):
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def answer(rid, result):
    send({"jsonrpc": "2.0", "id": rid, "result": result})


def fail(rid, code, text):
    send({"jsonrpc": "2.0", "id": rid, "error": {"code": code, "message": text}})


while True:
    line = sys.stdin.readline()
    if not line:
        break
    try:
        message = json.loads(line)
    except ValueError:
        continue
    if not isinstance(message, dict) or "method" not in message or "id" not in message:
        continue
    rid, method = message["id"], message["method"]
    params = message.get("params") or {}
    if method == "initialize":
        requested = params.get("protocolVersion")
        result = {"protocolVersion": requested if requested in VERSIONS else "2025-11-25",
                  "capabilities": {"tools": {"listChanged": True}},
                  "serverInfo": {"name": spec.get("name", "py-backend"), "version": "1.0"}}
        if spec.get("instructions"):
            result["instructions"] = spec["instructions"]
        answer(rid, result)
    elif method == "ping":
        answer(rid, {})
    elif method == "tools/list":
        if spec.get("fail_list"):
            fail(rid, -32603, "tools/list fails on purpose")
        else:
            answer(rid, {"tools": tools})
    elif method == "tools/call":
        name = params.get("name")
        if any(t.get("name") == name for t in tools):
            text = json.dumps({"server": spec.get("name"), "tool": name,
                               "arguments": params.get("arguments")}, sort_keys=True)
            answer(rid, {"content": [{"type": "text", "text": text}]})
        else:
            fail(rid, -32602, "py-backend: no tool " + str(name))
    else:
        fail(rid, -32601, "Method not found: " + str(method))
'''


def py_tool(name: str, description: str = "", **extra: Any) -> dict:
    return {"name": name, "description": description or f"tool {name}",
            "inputSchema": {"type": "object", "properties": {}}, **extra}


# ---------------------------------------------------------------------------------------------
# Fixtures


@pytest.fixture
def launch(start_mock_http, fault_servers, start_proxy) -> Callable[..., ProxyProcess]:
    """start_proxy, set up after the HTTP backends so that proxies are stopped first (pytest
    tears fixtures down in reverse order) while their backends still listen."""
    return start_proxy


@pytest.fixture
def py_backend(tmp_path) -> Callable[..., dict]:
    """py_backend(name, tools, instructions=None, fail_list=False) -> a server config entry."""
    script = tmp_path / "agg_py_backend.py"
    script.write_text(PY_BACKEND)

    def make(name: str, tools: list, instructions: Optional[str] = None,
             fail_list: bool = False, **extra: Any) -> dict:
        spec = {"name": name, "tools": tools, "instructions": instructions,
                "fail_list": fail_list}
        return {"command": sys.executable, "args": [str(script), json.dumps(spec)], **extra}

    return make


# ---------------------------------------------------------------------------------------------
# Helpers


def agg_config(mock_server_bin, servers: dict, **proxy: Any) -> dict:
    """A config: each server entry is a url/command server as given, or else the mock over stdio
    with the entry's extra fields (args, env, prefix, options, ...)."""
    out = {}
    for name, spec in servers.items():
        if "url" in spec or "command" in spec:
            out[name] = {"timeout": "30s", **spec}
        else:
            out[name] = {"command": str(mock_server_bin), "args": [], "timeout": "30s", **spec}
    return {"mcpProxy": {"addr": "127.0.0.1:0", **proxy}, "mcpServers": out}


def open_client(http: httpx.Client, url: str, init_headers: Optional[dict] = None) -> McpClient:
    """A Streamable HTTP session on `url`; `init_headers` go with the initialize POST only."""
    c = McpClient(url, http)
    rid = c.next_id()
    reply = c.post({"jsonrpc": "2.0", "id": rid, "method": "initialize",
                    "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                               "clientInfo": {"name": "agg-test", "version": "0.1"}}},
                   headers=init_headers)
    assert reply.status == 200, f"initialize at {url}: HTTP {reply.status} {reply.body[:500]!r}"
    result = reply.response_to(rid)
    assert "result" in result, result
    c.session_id = reply.headers.get("mcp-session-id")
    c.protocol_version = result["result"]["protocolVersion"]
    c.initialize_result = result["result"]  # type: ignore[attr-defined]
    assert c.notify("notifications/initialized").status == 202
    return c


def merged(proxy: ProxyProcess, http: httpx.Client, route: str = "mcp", query: str = "",
           init_headers: Optional[dict] = None) -> McpClient:
    return open_client(http, f"{proxy.base_url}/{route}{query}", init_headers)


def own_route(proxy: ProxyProcess, http: httpx.Client, server: str) -> McpClient:
    return open_client(http, proxy.url(server))


def walk(client: Any, method: str, key: str) -> tuple[list, list]:
    """Follows nextCursor to the end (bounded): (every item, the pages)."""
    items: list = []
    pages: list = []
    cursor = None
    for _ in range(MAX_PAGES):
        resp = client.request(method, {"cursor": cursor} if cursor else {})
        assert "result" in resp, f"{method}, page {len(pages) + 1}: {resp}"
        page = resp["result"][key]
        pages.append(page)
        items += page
        cursor = resp["result"].get("nextCursor")
        if not cursor:
            return items, pages
    raise AssertionError(f"{method}: still a nextCursor after {MAX_PAGES} pages")


def tool_names(client: Any) -> list:
    return [t["name"] for t in walk(client, "tools/list", "tools")[0]]


def wait_for_tools(client: Any, predicate: Callable[[list], bool],
                   timeout_s: float = NOTIFY_TIMEOUT_S) -> list:
    """tools/list, repeated (bounded) until predicate(names) holds; the last names."""
    names: list = []

    def check() -> bool:
        names[:] = tool_names(client)
        return predicate(names)

    assert wait_until(check, timeout_s=timeout_s, interval_s=0.2), names
    return names


def prompt_names(client: Any) -> list:
    return [p["name"] for p in walk(client, "prompts/list", "prompts")[0]]


def resource_uris(client: Any) -> list:
    return [r["uri"] for r in walk(client, "resources/list", "resources")[0]]


def prefixed(prefix: str, names: list, sep: str = "__") -> set:
    return {f"{prefix}{sep}{n}" for n in names}


def call(client: McpClient, name: str, arguments: Optional[dict] = None,
         meta: Optional[dict] = None) -> tuple[dict, list]:
    """tools/call: (the response, every message of the POST's answer)."""
    rid = client.next_id()
    params: dict = {"name": name, "arguments": arguments or {}}
    if meta is not None:
        params["_meta"] = meta
    reply = client.post({"jsonrpc": "2.0", "id": rid, "method": "tools/call", "params": params})
    assert reply.status == 200, f"{name}: HTTP {reply.status} {reply.body[:500]!r}"
    return reply.response_to(rid), reply.messages


def assert_unknown(response: dict, what: str = "tool") -> None:
    assert "error" in response, f"expected an 'Unknown {what}' error, got {response}"
    assert response["error"]["code"] == INVALID_PARAMS, response
    assert f"Unknown {what}" in response["error"]["message"], response


def assert_error_code(response: dict, code: int) -> None:
    assert "error" in response, f"expected error {code}, got {response}"
    assert response["error"]["code"] == code, response


def py_result(response: dict) -> dict:
    return json.loads(text_of(response))


def get_stream_open(s: StreamableHttpSession) -> bool:
    return wait_until(lambda: s.get_stream_status is not None, 15.0) and \
        s.get_stream_status == 200


def notifications_named(method: str, messages: list) -> list:
    return [m for m in messages if isinstance(m, dict) and m.get("method") == method]


def log_messages(messages: list) -> list:
    return notifications_named("notifications/message", messages)


def progress_messages(messages: list) -> list:
    return notifications_named("notifications/progress", messages)


# ---------------------------------------------------------------------------------------------
# Configuration



def assert_tool_change_announced(s, new_tool: str) -> None:
    """The mock's change_tools adds a tool: the session hears tools/list_changed, and its next
    tools/list has `new_tool` (not there before)."""
    assert new_tool not in tool_names(s)
    mark = s.mark()
    assert text_of(s.call_tool("m__change_tools")) == "changed"
    changed = s.wait_for(lambda msg: is_notification(msg)
                         and msg.get("method") == "notifications/tools/list_changed",
                         NOTIFY_TIMEOUT_S, mark)
    assert changed is not None, s.received[mark:]
    assert new_tool in tool_names(s)


class TestConfiguration:
    def test_group_named_like_a_server_is_a_config_error(self, mcp_proxy_bin, mock_server_bin,
                                                         tmp_path):
        """A group is served at /{group}/mcp, where a server of that name already is: the
        proxy refuses the config at start (exit 2) and names the path."""
        config = agg_config(mock_server_bin, {"mock": {}, "other": {}},
                            groups={"mock": {"servers": ["other"]}})
        path = tmp_path / "clash.json"
        path.write_text(json.dumps(config))
        done = subprocess.run([str(mcp_proxy_bin), "--config", str(path), "--addr", "127.0.0.1:0"],
                              stdin=subprocess.DEVNULL, capture_output=True,
                              timeout=STARTUP_TIMEOUT_S)
        out = (done.stdout + done.stderr).decode("utf-8", "replace")
        assert done.returncode == 2, (done.returncode, out[-3000:])
        assert "mcpProxy.groups.mock" in out, out[-3000:]

    def test_aggregate_false_serves_no_merged_endpoint(self, launch, mock_server_bin, http):
        proxy = launch(agg_config(mock_server_bin, {"a": {}}, aggregate=False))
        assert McpClient(f"{proxy.base_url}/mcp", http).initialize().status == 404
        r = http.get(f"{proxy.base_url}/sse", headers={"Accept": "text/event-stream"})
        assert r.status_code == 404, r.status_code
        assert text_of(own_route(proxy, http, "a").call_tool("echo", {"text": "own"})) == "own"

    def test_merged_endpoint_is_on_by_default_beside_the_server_routes(self, launch,
                                                                       mock_server_bin, http):
        proxy = launch(agg_config(mock_server_bin, {"a": {}}))
        m = merged(proxy, http)
        assert text_of(m.call_tool("a__echo", {"text": "merged"})) == "merged"
        own = own_route(proxy, http, "a")
        assert text_of(own.call_tool("echo", {"text": "own"})) == "own"
        assert set(tool_names(own)) == set(MOCK_TOOLS), "the server route lists original names"


# ---------------------------------------------------------------------------------------------
# initialize


class TestInitialize:
    def test_server_info_is_the_proxys_default_name_and_version(self, launch, mock_server_bin,
                                                                http):
        proxy = launch(agg_config(mock_server_bin, {"a": {}, "b": {}}))
        info = merged(proxy, http).initialize_result["serverInfo"]
        assert info["name"] == "mcp-proxy" and info["version"] == "0.1.0", info

    def test_server_info_is_the_configured_name_and_version(self, launch, mock_server_bin, http):
        proxy = launch(agg_config(mock_server_bin, {"a": {}}, name="my-hub", version="7.3.1"))
        info = merged(proxy, http).initialize_result["serverInfo"]
        assert info["name"] == "my-hub" and info["version"] == "7.3.1", info
        g = launch(agg_config(mock_server_bin, {"a": {}}, name="my-hub", version="7.3.1",
                              groups={"grp": {}}))
        info = merged(g, http, "grp/mcp").initialize_result["serverInfo"]
        assert info["name"] == "my-hub" and info["version"] == "7.3.1", info

    def test_tools_only_backend_gives_tools_with_list_changed_and_nothing_else(
            self, launch, fault_servers, http, mock_server_bin):
        """The fault server declares {"tools": {}} only: the merged endpoint has tools (with
        listChanged: it announces backends joining and changing) and invents nothing else."""
        fault = fault_servers()
        proxy = launch(agg_config(mock_server_bin, {
            "f": {"url": fault.mcp_url, "transportType": "streamable-http"}}))
        caps = merged(proxy, http).initialize_result["capabilities"]
        assert caps.get("tools", {}).get("listChanged") is True, caps
        for absent in ("logging", "completions", "prompts", "resources"):
            assert absent not in caps, caps

    def test_capabilities_are_the_union_of_the_backends(self, launch, mock_server_bin, http):
        """Plain mock: tools + logging; synthetic mock: resources and prompts with listChanged
        false. The union has all four, listChanged true, and no subscribe or completions,
        which no backend has."""
        proxy = launch(agg_config(mock_server_bin, {
            "plain": {}, "gen": {"args": ["--resources", "2", "--prompts", "2"]}}))
        caps = merged(proxy, http).initialize_result["capabilities"]
        assert caps["tools"].get("listChanged") is True, caps
        assert caps["prompts"].get("listChanged") is True, caps
        assert caps["resources"].get("listChanged") is True, caps
        assert not caps["resources"].get("subscribe"), caps
        assert "logging" in caps, caps
        assert "completions" not in caps, caps

    def test_subscribe_and_completions_come_from_any_backend(self, launch, mock_server_bin, http):
        proxy = launch(agg_config(mock_server_bin, {
            "plain": {}, "fx": {"args": ["--fixture", "conformance"]}}))
        caps = merged(proxy, http).initialize_result["capabilities"]
        assert caps["resources"].get("subscribe") is True, caps
        assert caps["resources"].get("listChanged") is True, caps
        assert "completions" in caps and "logging" in caps, caps

    def test_instructions_hold_each_backends_text_under_its_name(self, launch, mock_server_bin,
                                                                 py_backend, http):
        first, second = "Use the first backend for lookups.", "Second backend: writes only."
        proxy = launch(agg_config(mock_server_bin, {
            "alpha": py_backend("alpha", [py_tool("look")], instructions=first),
            "beta": py_backend("beta", [py_tool("write")], instructions=second),
            "plainserver": {}}))
        instructions = merged(proxy, http).initialize_result.get("instructions")
        assert isinstance(instructions, str), instructions
        for name, text in (("alpha", first), ("beta", second), ("plainserver", MOCK_INSTRUCTIONS)):
            assert text in instructions, instructions
            assert 0 <= instructions.find(name) < instructions.find(text), instructions

    def test_instructions_name_no_tool_prefix_that_cannot_exist(self, launch, mock_server_bin,
                                                                  http):
        """my.srv's tools are exposed as my_srv__* ('.' is not allowed in a tool name): the
        instructions name the server and point the model at the prefix its tools really have,
        never at my.srv__*, of which there is none."""
        proxy = launch(agg_config(mock_server_bin, {"my.srv": {}, "b": {}}))
        m = merged(proxy, http)
        instructions = m.initialize_result.get("instructions", "")
        assert "my.srv" in instructions, instructions
        assert not any(n.startswith("my.srv__") for n in tool_names(m))
        assert "my.srv__" not in instructions, instructions
        assert "my_srv__echo" in tool_names(m)
        assert "my_srv__" in instructions, instructions


# ---------------------------------------------------------------------------------------------
# Exposed names


class TestNaming:
    def test_tools_are_exposed_with_the_server_name_as_prefix(self, launch, mock_server_bin,
                                                              http):
        proxy = launch(agg_config(mock_server_bin, {"alpha": {}, "beta": {}}))
        names = tool_names(merged(proxy, http))
        assert sorted(names) == sorted(prefixed("alpha", MOCK_TOOLS) | prefixed("beta", MOCK_TOOLS))

    def test_configured_prefix_and_separator(self, launch, mock_server_bin, http):
        proxy = launch(agg_config(mock_server_bin, {"alpha": {"prefix": "x"}, "beta": {}},
                                  toolNameSeparator="-"))
        m = merged(proxy, http)
        assert set(tool_names(m)) == prefixed("x", MOCK_TOOLS, "-") | prefixed("beta", MOCK_TOOLS,
                                                                                 "-")
        assert text_of(m.call_tool("x-echo", {"text": "via x"})) == "via x"
        assert_unknown(m.call_tool("alpha-echo", {"text": "no"}))

    def test_empty_prefix_exposes_the_original_names(self, launch, mock_server_bin, http):
        proxy = launch(agg_config(mock_server_bin, {"plain": {"prefix": ""}, "beta": {}}))
        m = merged(proxy, http)
        assert set(tool_names(m)) == set(MOCK_TOOLS) | prefixed("beta", MOCK_TOOLS)
        assert text_of(m.call_tool("echo", {"text": "bare"})) == "bare"

    def test_colliding_unprefixed_tools_both_callable(self, launch, mock_server_bin, http):
        """Two servers with prefix "" and the same tools: the one configured first (zeta, not
        first alphabetically) keeps the plain names, the other gets name_XXXXXXXX; each name
        reaches its own backend, and the names are the same in another session and another
        proxy process."""
        servers = {"zeta": {"prefix": "", "env": {"WHO": "zeta"}},
                   "alpha": {"prefix": "", "env": {"WHO": "alpha"}}}
        proxy = launch(agg_config(mock_server_bin, servers))
        m = merged(proxy, http)
        names = tool_names(m)
        assert len(names) == len(set(names)) == 2 * len(MOCK_TOOLS), names
        assert set(MOCK_TOOLS) <= set(names)
        hashed = {}
        for tool in MOCK_TOOLS:
            found = [n for n in names if re.fullmatch(re.escape(tool) + r"_[0-9a-fA-F]{8}", n)]
            assert len(found) == 1, (tool, names)
            hashed[tool] = found[0]
        assert all(VALID_NAME.match(n) for n in names), names
        assert text_of(m.call_tool("env", {"name": "WHO"})) == "zeta"
        assert text_of(m.call_tool(hashed["env"], {"name": "WHO"})) == "alpha"
        assert text_of(m.call_tool("echo", {"text": "one"})) == "one"
        assert text_of(m.call_tool(hashed["echo"], {"text": "two"})) == "two"
        assert sorted(tool_names(merged(proxy, http))) == sorted(names), "another session"
        again = launch(agg_config(mock_server_bin, servers))
        assert sorted(tool_names(merged(again, http))) == sorted(names), "another process"

    def test_colliding_unprefixed_prompts_both_gettable(self, launch, mock_server_bin, http):
        """Prompts follow the tools' naming rules: the first configured server keeps the plain
        name, the second gets name_XXXXXXXX, and each prompts/get reaches its own backend."""
        proxy = launch(agg_config(mock_server_bin, {
            "one": {"prefix": "", "args": ["--prompts", "2"]},
            "two": {"prefix": "", "args": ["--prompts", "1"]}}))
        m = merged(proxy, http)
        names = prompt_names(m)
        assert len(names) == len(set(names)) == 3, names
        assert {"gen_prompt_0001", "gen_prompt_0002"} <= set(names)
        other = next(n for n in names if n not in ("gen_prompt_0001", "gen_prompt_0002"))
        assert re.fullmatch(r"gen_prompt_0001_[0-9a-fA-F]{8}", other), names
        for name in names:
            got = m.request("prompts/get", {"name": name})
            assert got["result"]["messages"][0]["content"]["text"] == \
                "prompt " + name[:len("gen_prompt_0001")], got

    def test_names_stay_with_their_servers_when_a_list_changes(self, launch, mock_server_bin,
                                                               http):
        """zeta (configured first) keeps the plain names also after its own list changed and
        was fetched again: a refresh does not hand its names to alpha."""
        servers = {"zeta": {"prefix": "", "args": ["--tools", "1"], "env": {"WHO": "zeta"}},
                   "alpha": {"prefix": "", "env": {"WHO": "alpha"}}}
        proxy = launch(agg_config(mock_server_bin, servers, listCacheTTL="60s"))
        m = merged(proxy, http)
        before = set(tool_names(m))
        assert text_of(m.call_tool("env", {"name": "WHO"})) == "zeta"
        assert text_of(m.call_tool("change_tools")) == "changed"  # zeta's: gen_tool_0002 added
        after = set(wait_for_tools(m, lambda names: "gen_tool_0002" in names))
        assert after == before | {"gen_tool_0002"}, (before ^ after)
        assert text_of(m.call_tool("env", {"name": "WHO"})) == "zeta"

    def test_a_filtered_tool_takes_no_name(self, launch, mock_server_bin, http):
        """zeta's echo is blocked, so alpha's echo collides with nothing and keeps its name."""
        proxy = launch(agg_config(mock_server_bin, {
            "zeta": {"prefix": "", "options": {"toolFilter": {"mode": "block", "list": ["echo"]}}},
            "alpha": {"prefix": "", "env": {"WHO": "alpha"}}}))
        names = tool_names(merged(proxy, http))
        assert "echo" in names, names
        assert not any(re.fullmatch(r"echo_[0-9a-fA-F]{8}", n) for n in names), names

    def test_names_that_meet_after_prefixing_map_back_by_table(self, launch, mock_server_bin,
                                                               py_backend, http):
        """Server "a" with tool "b__c" and server "a__b" with tool "c" both make "a__b__c": the
        one configured first keeps it, the other gets a hashed name, and each call reaches the
        right backend with its original tool name (no splitting on the separator)."""
        proxy = launch(agg_config(mock_server_bin, {
            "a": py_backend("a", [py_tool("b__c")]),
            "a__b": py_backend("a__b", [py_tool("c")])}))
        m = merged(proxy, http)
        names = tool_names(m)
        assert "a__b__c" in names and len(names) == 2, names
        other = next(n for n in names if n != "a__b__c")
        assert other.startswith("a__b__c") and HASH_SUFFIX.search(other), other
        assert VALID_NAME.match(other), other
        first = py_result(m.call_tool("a__b__c", {"k": 1}))
        assert (first["server"], first["tool"]) == ("a", "b__c"), first
        second = py_result(m.call_tool(other, {"k": 2}))
        assert (second["server"], second["tool"]) == ("a__b", "c"), second

    def test_long_and_invalid_names_are_shortened_and_callable(self, launch, mock_server_bin,
                                                               py_backend, http):
        """A name over 64 characters or with characters outside [a-zA-Z0-9_-] is exposed in a
        valid form ending in _ + 8 hex digits, and still reaches the original tool. A server
        named my.srv (a valid server name, an invalid tool-name prefix) gets the prefix my_srv."""
        long_name = "t" * 70
        proxy = launch(agg_config(mock_server_bin, {
            "p": py_backend("p", [py_tool(long_name, "the long one"),
                                  py_tool("weird name.v2", "the weird one"),
                                  py_tool("ok", "the plain one")]),
            "my.srv": {}}))
        m = merged(proxy, http)
        tools = walk(m, "tools/list", "tools")[0]
        for t in tools:
            assert VALID_NAME.match(t["name"]), t["name"]
        by_description = {t["description"]: t["name"] for t in tools}
        assert by_description["the plain one"] == "p__ok"
        for description, original in (("the long one", long_name),
                                      ("the weird one", "weird name.v2")):
            exposed = by_description[description]
            assert HASH_SUFFIX.search(exposed), exposed
            got = py_result(m.call_tool(exposed, {"x": description}))
            assert (got["tool"], got["arguments"]) == (original, {"x": description}), got
        srv_echo = by_description["Returns its text"]
        assert srv_echo == "my_srv__echo", "the default prefix is the server name made valid"
        assert text_of(m.call_tool(srv_echo, {"text": "dotted"})) == "dotted"
        assert sorted(t["name"] for t in walk(merged(proxy, http), "tools/list", "tools")[0]) == \
            sorted(t["name"] for t in tools), "shortened names are stable"

    def test_tool_metadata_passes_through_untouched(self, launch, mock_server_bin, py_backend,
                                                    http):
        """Everything but the name is the backend's: title, description, annotations, _meta,
        inputSchema, outputSchema, icons (spec server/tools: Tool)."""
        rich = {"name": "rich", "title": "A Rich Tool", "description": "has everything",
                "inputSchema": {"type": "object", "properties": {"q": {"type": "string"}},
                                "required": ["q"], "additionalProperties": False},
                "outputSchema": {"type": "object", "properties": {"n": {"type": "integer"}}},
                "annotations": {"title": "Rich", "readOnlyHint": True, "openWorldHint": False},
                "icons": [{"src": "https://example.com/i.png", "mimeType": "image/png"}],
                "_meta": {"example.com/owner": {"team": "x", "ids": [1, 2, 3]}}}
        proxy = launch(agg_config(mock_server_bin, {"p": py_backend("p", [rich]), "m": {}}))
        m = merged(proxy, http)
        exposed = {t["name"]: t for t in walk(m, "tools/list", "tools")[0]}
        assert {k: v for k, v in exposed["p__rich"].items() if k != "name"} == \
            {k: v for k, v in rich.items() if k != "name"}
        for t in walk(own_route(proxy, http, "m"), "tools/list", "tools")[0]:
            assert {k: v for k, v in exposed[f"m__{t['name']}"].items() if k != "name"} == \
                {k: v for k, v in t.items() if k != "name"}

    def test_prompts_are_prefixed_and_keep_their_arguments(self, launch, mock_server_bin, http):
        proxy = launch(agg_config(mock_server_bin, {"fx": {"args": ["--fixture", "conformance"]},
                                                    "plain": {}}))
        prompts = {p["name"]: p for p in walk(merged(proxy, http), "prompts/list", "prompts")[0]}
        assert set(prompts) == prefixed("fx", FIXTURE_PROMPTS)
        original = {p["name"]: p for p in
                    walk(own_route(proxy, http, "fx"), "prompts/list", "prompts")[0]}
        for name, p in original.items():
            assert {k: v for k, v in prompts[f"fx__{name}"].items() if k != "name"} == \
                {k: v for k, v in p.items() if k != "name"}


# ---------------------------------------------------------------------------------------------
# Routing


class TestRouting:
    def test_tools_call_reaches_the_backend_that_owns_the_tool(self, launch, mock_server_bin,
                                                               http):
        proxy = launch(agg_config(mock_server_bin, {"alpha": {"env": {"WHO": "alpha"}},
                                                    "beta": {"env": {"WHO": "beta"}}}))
        m = merged(proxy, http)
        assert text_of(m.call_tool("alpha__env", {"name": "WHO"})) == "alpha"
        assert text_of(m.call_tool("beta__env", {"name": "WHO"})) == "beta"
        assert m.call_tool("beta__add", {"a": 2, "b": 40})["result"]["structuredContent"] == \
            {"sum": 42}

    def test_arguments_reach_the_backend_untouched(self, launch, mock_server_bin, http):
        """gen_tool_NNNN answers with its own (original) name and the JSON of its arguments."""
        proxy = launch(agg_config(mock_server_bin, {"g": {"args": ["--tools", "2"]}, "b": {}}))
        m = merged(proxy, http)
        args = {"s": "h\u00e9llo \"q\"", "n": [1, {"deep": None, "t": True}], "e": {}}
        got = text_of(m.call_tool("g__gen_tool_0002", args))
        name, _, payload = got.partition(" ")
        assert name == "gen_tool_0002", got
        assert json.loads(payload) == args, got

    def test_unknown_tool_is_invalid_params(self, launch, mock_server_bin, http):
        proxy = launch(agg_config(mock_server_bin, {"alpha": {}, "beta": {}}))
        m = merged(proxy, http)
        for name in ("nope", "echo", "alpha__nope", "gamma__echo", "alpha__"):
            assert_unknown(m.call_tool(name, {"text": "x"}))
        assert text_of(m.call_tool("alpha__echo", {"text": "still"})) == "still"

    def test_prompts_get_is_routed_and_an_unknown_prompt_is_invalid_params(
            self, launch, mock_server_bin, http):
        proxy = launch(agg_config(mock_server_bin, {
            "fx": {"args": ["--fixture", "conformance"]},
            "gen": {"args": ["--prompts", "2"]}}))
        m = merged(proxy, http)
        got = m.request("prompts/get", {"name": "fx__test_prompt_with_arguments",
                                        "arguments": {"arg1": "one", "arg2": "two"}})
        assert got["result"]["messages"][0]["content"]["text"] == \
            "Prompt with arguments: arg1='one', arg2='two'", got
        gen = m.request("prompts/get", {"name": "gen__gen_prompt_0002"})
        assert gen["result"]["messages"][0]["content"]["text"] == "prompt gen_prompt_0002", gen
        for name in ("test_simple_prompt", "fx__nope", "gen__test_simple_prompt"):
            assert_unknown(m.request("prompts/get", {"name": name}), "prompt")

    def test_resources_read_is_routed_by_uri_and_template(self, launch, mock_server_bin, http):
        """Read before any resources/list: the proxy finds the owner itself."""
        proxy = launch(agg_config(mock_server_bin, {
            "fx": {"args": ["--fixture", "conformance"]},
            "gen": {"args": ["--resources", "3"]}}))
        m = merged(proxy, http)

        def read(uri: str) -> dict:
            return m.request("resources/read", {"uri": uri})

        static = read("test://static-text")
        assert static["result"]["contents"][0]["text"] == \
            "This is the content of the static text resource.", static
        gen = read("mock://gen/0002")
        assert gen["result"]["contents"][0]["text"] == "content of mock://gen/0002", gen
        templated = read("test://template/77/data")
        assert json.loads(templated["result"]["contents"][0]["text"]) == \
            {"id": "77", "templateTest": True, "data": "Data for ID: 77"}, templated
        for uri in ("nope://nothing", "mock://gen/0009", "test://elsewhere"):
            assert_error_code(read(uri), RESOURCE_NOT_FOUND)
        assert_error_code(m.request("resources/subscribe", {"uri": "nope://nothing"}),
                          RESOURCE_NOT_FOUND)
        assert set(resource_uris(m)) == set(FIXTURE_RESOURCES) | {
            f"mock://gen/{i:04d}" for i in (1, 2, 3)}

    def test_resource_templates_are_merged(self, launch, mock_server_bin, http):
        proxy = launch(agg_config(mock_server_bin, {
            "fx": {"args": ["--fixture", "conformance"]},
            "gen": {"args": ["--resources", "1"]}, "plain": {}}))
        templates = walk(merged(proxy, http), "resources/templates/list", "resourceTemplates")[0]
        assert [t["uriTemplate"] for t in templates] == [FIXTURE_TEMPLATE], templates
        assert templates[0]["name"] == "template-data", templates

    def test_subscribe_is_routed_and_updates_are_relayed(self, launch, mock_server_bin,
                                                         proxy_url_session):
        proxy = launch(agg_config(mock_server_bin, {
            "plain": {}, "fx": {"args": ["--fixture", "conformance"]}}))
        with proxy_url_session(f"{proxy.base_url}/mcp") as s:
            uri = "test://watched-resource"
            assert s.request("resources/subscribe", {"uri": uri}).get("result") == {}
            mark = s.mark()
            touched = s.call_tool("fx__touch_resource", {"uri": uri})
            assert text_of(touched) == "changed; subscribers notified", touched
            update = s.wait_for(lambda msg: is_notification(msg)
                                and msg.get("method") == "notifications/resources/updated"
                                and (msg.get("params") or {}).get("uri") == uri,
                                NOTIFY_TIMEOUT_S, mark)
            assert update is not None, s.received[mark:]
            assert s.request("resources/unsubscribe", {"uri": uri}).get("result") == {}
            assert text_of(s.call_tool("fx__touch_resource", {"uri": uri})) == \
                "changed; no subscriber"

    def test_updates_reach_only_sessions_still_subscribed(self, launch, mock_server_bin,
                                                          proxy_url_session):
        """Two merged sessions subscribe to one URI of a shared backend; the first unsubscribes:
        the backend stays subscribed for the second, which alone gets the update."""
        proxy = launch(agg_config(mock_server_bin, {"fx": {"args": ["--fixture", "conformance"]},
                                                    "plain": {}}))
        uri = "test://watched-resource"
        first = proxy_url_session(f"{proxy.base_url}/mcp")
        second = proxy_url_session(f"{proxy.base_url}/mcp")
        bystander = proxy_url_session(f"{proxy.base_url}/mcp")
        for s in (first, second, bystander):
            assert get_stream_open(s), s.diagnostics()
        for s in (first, second):
            assert s.request("resources/subscribe", {"uri": uri}).get("result") == {}
        assert first.request("resources/unsubscribe", {"uri": uri}).get("result") == {}
        marks = [s.mark() for s in (first, second, bystander)]
        assert text_of(bystander.call_tool("fx__touch_resource", {"uri": uri})) == \
            "changed; subscribers notified"

        def updated(msg: dict) -> bool:
            return is_notification(msg) and msg.get("method") == "notifications/resources/updated"

        assert second.wait_for(updated, NOTIFY_TIMEOUT_S, marks[1]) is not None, \
            second.received[marks[1]:]
        time.sleep(0.5)  # a wrongly relayed update would have come with the right one
        assert first.messages(updated, marks[0]) == [], "the unsubscribed session got it"
        assert bystander.messages(updated, marks[2]) == [], "a session that never subscribed"

    def test_completion_is_routed_by_prompt_and_template_ref(self, launch, mock_server_bin, http):
        proxy = launch(agg_config(mock_server_bin, {
            "plain": {}, "fx": {"args": ["--fixture", "conformance"]}}))
        m = merged(proxy, http)
        by_prompt = m.request("completion/complete", {
            "ref": {"type": "ref/prompt", "name": "fx__test_prompt_with_arguments"},
            "argument": {"name": "arg1", "value": "pa"}})
        assert by_prompt["result"]["completion"]["values"] == ["paris", "park", "party"], \
            by_prompt
        by_template = m.request("completion/complete", {
            "ref": {"type": "ref/resource", "uri": FIXTURE_TEMPLATE},
            "argument": {"name": "id", "value": "1"}})
        assert by_template["result"]["completion"]["values"] == ["1", "123"], by_template
        unknown = m.request("completion/complete", {
            "ref": {"type": "ref/prompt", "name": "test_prompt_with_arguments"},
            "argument": {"name": "arg1", "value": "pa"}})
        assert "error" in unknown, unknown

    @pytest.mark.spec("2025-11-25 basic/lifecycle#capability-negotiation", level="SHOULD")
    def test_backends_are_asked_only_for_what_they_declared(self, launch, fault_servers,
                                                            mock_server_bin, http):
        """The fault server declares tools only: merged prompts, resources, templates,
        completion and logging requests go to the fixture and never to it."""
        fault = fault_servers()
        proxy = launch(agg_config(mock_server_bin, {
            "f": {"url": fault.mcp_url, "transportType": "streamable-http"},
            "fx": {"args": ["--fixture", "conformance"]}}))
        m = merged(proxy, http)
        assert set(prompt_names(m)) == prefixed("fx", FIXTURE_PROMPTS)
        assert set(resource_uris(m)) == set(FIXTURE_RESOURCES)
        assert len(walk(m, "resources/templates/list", "resourceTemplates")[0]) == 1
        assert "result" in m.request("logging/setLevel", {"level": "info"})
        assert "result" in m.request("completion/complete", {
            "ref": {"type": "ref/resource", "uri": FIXTURE_TEMPLATE},
            "argument": {"name": "id", "value": "1"}})
        assert "error" in m.request("resources/read", {"uri": "nope://x"})
        # server/discover is the era probe before initialize (2026-07-28 basic/versioning,
        # backward compatibility), not a request about a capability.
        asked = sorted({r.rpc_method for r in fault.snapshot() if r.rpc_method} -
                       {"server/discover", "initialize", "notifications/initialized",
                        "tools/list", "ping"})
        assert asked == [], f"the tools-only backend was asked {asked}"

    def test_ping_is_answered(self, launch, mock_server_bin, http):
        proxy = launch(agg_config(mock_server_bin, {"a": {}, "b": {}}))
        m = merged(proxy, http)
        assert m.request("ping", request_id="pp") == {"jsonrpc": "2.0", "id": "pp", "result": {}}
        assert_error_code(m.request("conformance/no-such-method"), -32601)

    def test_concurrent_calls_to_several_backends_get_their_own_answers(self, launch,
                                                                       mock_server_bin, http):
        proxy = launch(agg_config(mock_server_bin, {
            "a": {"args": ["--latency-ms", "20-200"]}, "b": {"args": ["--latency-ms", "20-200"]}}))
        m = merged(proxy, http)
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(
                lambda i: text_of(m.call_tool(f"{'ab'[i % 2]}__echo", {"text": f"c{i}"})),
                range(16)))
        assert answers == [f"c{i}" for i in range(16)]

    def test_a_disabled_server_is_not_merged(self, launch, mock_server_bin, http):
        proxy = launch(agg_config(mock_server_bin, {"a": {}, "off": {"disabled": True}}))
        m = merged(proxy, http)
        assert set(tool_names(m)) == prefixed("a", MOCK_TOOLS)
        assert_unknown(m.call_tool("off__echo", {"text": "x"}))

    def test_set_level_fans_out_and_an_invalid_level_is_refused(self, launch, mock_server_bin,
                                                                http):
        proxy = launch(agg_config(mock_server_bin, {
            "plain": {}, "fx": {"args": ["--fixture", "conformance"]}}))
        m = merged(proxy, http)
        assert m.request("logging/setLevel", {"level": "error"}).get("result") == {}
        response, messages = call(m, "fx__test_tool_with_logging")
        assert "result" in response, response
        assert log_messages(messages) == [], messages
        assert m.request("logging/setLevel", {"level": "debug"}).get("result") == {}
        response, messages = call(m, "fx__test_tool_with_logging")
        assert [x["params"]["level"] for x in log_messages(messages)] == ["info"] * 3, messages
        assert_error_code(m.request("logging/setLevel", {"level": "loud"}), INVALID_PARAMS)


# ---------------------------------------------------------------------------------------------
# Notifications of routed calls


@pytest.fixture
def proxy_url_session() -> Iterator[Callable[[str], StreamableHttpSession]]:
    """Factory for Streamable HTTP sessions (with their GET stream) that are opened now and
    closed at teardown at the latest."""
    made: list[StreamableHttpSession] = []

    def make(url: str) -> StreamableHttpSession:
        s = StreamableHttpSession(url)
        made.append(s)
        s.open()
        return s

    yield make
    for s in made:
        s.close()


class TestNotifications:
    @pytest.mark.parametrize("token", ["tok-1", 4242], ids=["string-token", "int-token"])
    def test_progress_of_a_routed_call_carries_the_clients_token(self, launch, mock_server_bin,
                                                                 http, token):
        proxy = launch(agg_config(mock_server_bin, {"a": {}, "b": {}}))
        response, messages = call(merged(proxy, http), "b__progress", {"steps": 3},
                                  {"progressToken": token})
        progress = progress_messages(messages)
        assert [p["params"]["progress"] for p in progress] == [1, 2, 3], messages
        for p in progress:
            assert p["params"]["progressToken"] == token
            assert type(p["params"]["progressToken"]) is type(token)
        assert text_of(response) == "done 3 steps"
        assert messages[-1].get("id") == response["id"], "the response comes last"

    def test_log_messages_of_a_routed_call_are_relayed(self, launch, mock_server_bin, http):
        proxy = launch(agg_config(mock_server_bin, {"a": {}, "b": {}}))
        response, messages = call(merged(proxy, http), "a__log", {"text": "hello log"})
        assert text_of(response) == "logged"
        assert [x["params"]["data"] for x in log_messages(messages)] == ["hello log"], messages
        # The logger names the server it came from (the mock's own logger after the slash).
        assert [x["params"]["logger"] for x in log_messages(messages)] == \
            ["a/mock-mcp-server"], messages

    @pytest.mark.parametrize("route", ["mcp", "sse"])
    def test_cancellation_reaches_the_backend_of_the_call(self, launch, fault_servers,
                                                          mock_server_bin, proxy_url_session,
                                                          route):
        """2025-11-25 basic/utilities/cancellation: the client cancels a call routed to the
        fault server; that backend gets notifications/cancelled for the id it saw (over the
        merged Streamable HTTP endpoint and the merged legacy SSE one)."""
        fault = fault_servers(slow_max_s=20.0)
        proxy = launch(agg_config(mock_server_bin, {
            "m": {}, "f": {"url": fault.mcp_url, "transportType": "streamable-http"}}))
        if route == "mcp":
            s = proxy_url_session(f"{proxy.base_url}/mcp")
        else:
            s = LegacySseSession(f"{proxy.base_url}/sse")
            s.open()
        try:
            rid = s.start_request("tools/call", {"name": "f__slow", "arguments": {}})
            assert fault.wait_for(lambda: any(r.tool == "slow" for r in fault.rpc("tools/call")),
                                  15.0), "the call did not reach the fault server"
            slow = next(r for r in fault.rpc("tools/call") if r.tool == "slow")
            s.notify("notifications/cancelled", {"requestId": rid, "reason": "agg test"})
            backend_id = json.dumps(slow.body["id"])
            assert fault.wait_for(lambda: backend_id in fault.cancelled_ids(), 10.0), \
                f"no notifications/cancelled for {backend_id}: {fault.cancelled_ids()}"
            assert s.request("ping").get("result") == {}
        finally:
            if route == "sse":
                s.close()

    def test_per_client_servers_give_each_merged_session_its_own_backend(
            self, launch, mock_server_bin, http):
        """A per-client server under /mcp: each merged session gets its own process (its own
        pid), a shared server one for all; ending the merged session (DELETE) stops it."""
        proxy = launch(agg_config(mock_server_bin, {
            "own": {"sessionMode": "per-client"}, "m": {}}))
        a, b = merged(proxy, http), merged(proxy, http)
        pid_a, pid_b = (int(text_of(c.call_tool("own__pid"))) for c in (a, b))
        assert pid_a != pid_b
        assert text_of(a.call_tool("m__pid")) == text_of(b.call_tool("m__pid"))
        assert process_exists(pid_a)
        assert a.delete().status_code == 200
        assert wait_until(lambda: not process_exists(pid_a), 15.0), "its backend outlived it"
        assert process_exists(pid_b)
        assert text_of(b.call_tool("own__echo", {"text": "still here"})) == "still here"

    def test_backend_list_changed_is_relayed_and_the_cached_list_refreshed(
            self, launch, mock_server_bin, proxy_url_session):
        """change_tools adds gen_tool_0003 and announces tools/list_changed: the merged session
        gets list_changed on its GET stream, and its next tools/list (cached for 60 s
        otherwise) has the new tool."""
        proxy = launch(agg_config(mock_server_bin, {"m": {"args": ["--tools", "2"]}, "o": {}},
                                  listCacheTTL="60s"))
        s = proxy_url_session(f"{proxy.base_url}/mcp")
        assert get_stream_open(s), s.diagnostics()
        assert_tool_change_announced(s, "m__gen_tool_0003")


# ---------------------------------------------------------------------------------------------
# Pagination


class TestPagination:
    # Each mock has its own tools (MOCK_TOOLS) besides the generated ones.
    SERVERS = {"a": {"args": ["--tools", "30", "--page-size", "7"]},  # 30 + mock's, 7 a page
               "b": {"args": ["--tools", "5", "--page-size", "2"]},  # 5 + mock's, 2 a page
               "c": {}}  # the mock's, 1 page

    def expected(self, proxy, http) -> dict:
        return {name: tool_names(own_route(proxy, http, name)) for name in self.SERVERS}

    def test_walking_the_cursor_returns_every_tool_once(self, launch, mock_server_bin, http):
        """pageSize unset: a merged page is one page of each backend, so the walk has as many
        pages as the longest backend and the first holds 7 + 2 + the mock's tools."""
        proxy = launch(agg_config(mock_server_bin, self.SERVERS))
        expected = self.expected(proxy, http)
        items, pages = walk(merged(proxy, http), "tools/list", "tools")
        names = [t["name"] for t in items]
        assert len(names) == len(set(names)), "a tool appeared twice"
        assert set(names) == set().union(*(prefixed(k, v) for k, v in expected.items()))
        # b is the longest: 5 generated tools and the mock's, 2 a page.
        assert len(pages) == -(-(5 + len(MOCK_TOOLS)) // 2), [len(p) for p in pages]
        first = {t["name"] for t in pages[0]}
        assert len(pages[0]) == 7 + 2 + len(MOCK_TOOLS), [len(p) for p in pages]
        assert prefixed("a", expected["a"][:7]) | prefixed("b", expected["b"][:2]) | \
            prefixed("c", expected["c"]) == first

    def test_page_size_bounds_every_merged_page(self, launch, mock_server_bin, http):
        proxy = launch(agg_config(mock_server_bin, self.SERVERS, pageSize=7))
        expected = self.expected(proxy, http)
        items, pages = walk(merged(proxy, http), "tools/list", "tools")
        assert all(len(p) <= 7 for p in pages), [len(p) for p in pages]
        names = [t["name"] for t in items]
        assert len(names) == len(set(names)), "a tool appeared twice"
        assert set(names) == set().union(*(prefixed(k, v) for k, v in expected.items()))
        assert len(pages) >= -(-len(names) // 7)

    def test_prompts_and_resources_walks_cover_every_backend(self, launch, mock_server_bin,
                                                            http):
        proxy = launch(agg_config(mock_server_bin, {
            "fx": {"args": ["--fixture", "conformance", "--page-size", "2"]},
            "gen": {"args": ["--resources", "9", "--prompts", "7", "--page-size", "4"]}}))
        m = merged(proxy, http)
        uris = resource_uris(m)
        assert len(uris) == len(set(uris)), uris
        assert set(uris) == set(FIXTURE_RESOURCES) | {f"mock://gen/{i:04d}" for i in range(1, 10)}
        prompts = prompt_names(m)
        assert len(prompts) == len(set(prompts)), prompts
        assert set(prompts) == prefixed("fx", FIXTURE_PROMPTS) | \
            prefixed("gen", [f"gen_prompt_{i:04d}" for i in range(1, 8)])

    def test_garbage_and_tampered_cursors_are_invalid_params(self, launch, mock_server_bin,
                                                            http):
        proxy = launch(agg_config(mock_server_bin, self.SERVERS))
        m = merged(proxy, http)
        first = m.request("tools/list")["result"]
        cursor = first["nextCursor"]
        assert isinstance(cursor, str) and cursor
        i = len(cursor) // 2
        tampered = cursor[:i] + ("A" if cursor[i] != "A" else "B") + cursor[i + 1:]
        for bad in ("not-a-cursor", tampered, cursor[:-2], cursor + "xy", "page:7"):
            assert_error_code(m.request("tools/list", {"cursor": bad}), INVALID_PARAMS)
        assert_error_code(m.request("prompts/list", {"cursor": "not-a-cursor"}), INVALID_PARAMS)
        assert proxy.proc.poll() is None, "the proxy exited"
        again = m.request("tools/list", {"cursor": cursor})
        assert again["result"]["tools"], again
        assert len(tool_names(merged(proxy, http))) == 30 + 5 + 3 * len(MOCK_TOOLS)


    def test_a_cursor_with_a_character_appended_is_invalid_params(self, launch, mock_server_bin,
                                                                  http):
        """A cursor is opaque: any other string than one the proxy issued is invalid, also
        one that decodes to the same bytes (base64url with a dangling character, which no
        encoder produces)."""
        proxy = launch(agg_config(mock_server_bin, self.SERVERS))
        m = merged(proxy, http)
        cursor = m.request("tools/list")["result"]["nextCursor"]
        for suffix in ("x", "A", "="):
            assert_error_code(m.request("tools/list", {"cursor": cursor + suffix}),
                              INVALID_PARAMS)


# ---------------------------------------------------------------------------------------------
# The list cache


class TestListCache:
    def setup_fault(self, launch, fault_servers, mock_server_bin, ttl: str):
        fault = fault_servers()
        proxy = launch(agg_config(mock_server_bin, {
            "f": {"url": fault.mcp_url, "transportType": "streamable-http"}, "m": {}},
            listCacheTTL=ttl))
        return fault, proxy

    def test_tools_list_is_served_from_the_cache_within_the_ttl(self, launch, fault_servers,
                                                                mock_server_bin, http):
        fault, proxy = self.setup_fault(launch, fault_servers, mock_server_bin, "60s")
        m = merged(proxy, http)
        first = tool_names(m)
        assert "f__echo" in first
        asked = fault.count("tools/list")
        for client in (m, m, merged(proxy, http)):
            assert tool_names(client) == first
        assert fault.count("tools/list") == asked, "the backend was asked again within the TTL"

    def test_ttl_zero_asks_the_backend_every_time(self, launch, fault_servers, mock_server_bin,
                                                  http):
        fault, proxy = self.setup_fault(launch, fault_servers, mock_server_bin, "0")
        m = merged(proxy, http)
        tool_names(m)
        asked = fault.count("tools/list")
        for _ in range(3):
            assert "f__echo" in tool_names(m)
        assert fault.count("tools/list") >= asked + 3

    def test_the_cache_expires_after_the_ttl(self, launch, fault_servers, mock_server_bin, http):
        fault, proxy = self.setup_fault(launch, fault_servers, mock_server_bin, "1s")
        m = merged(proxy, http)
        tool_names(m)
        filled = time.monotonic()
        asked = fault.count("tools/list")
        tool_names(m)
        if time.monotonic() - filled < 0.8:  # the second list was well within the TTL
            assert fault.count("tools/list") == asked, "asked again within the TTL"
        assert wait_until(lambda: bool(tool_names(m)) and fault.count("tools/list") > asked,
                          timeout_s=10.0, interval_s=0.2), "the cache never expired"
        assert time.monotonic() - filled >= 0.9


# ---------------------------------------------------------------------------------------------
# Filters


class TestFilters:
    def test_allow_filter_on_the_merged_endpoint_and_the_server_route(self, launch,
                                                                      mock_server_bin, http):
        proxy = launch(agg_config(mock_server_bin, {
            "a": {"options": {"toolFilter": {"mode": "allow", "list": ["echo", "ad?"]}}},
            "b": {}}))
        m = merged(proxy, http)
        assert set(tool_names(m)) == {"a__echo", "a__add"} | prefixed("b", MOCK_TOOLS)
        assert m.call_tool("a__add", {"a": 1, "b": 2})["result"]["structuredContent"] == {"sum": 3}
        assert_unknown(m.call_tool("a__pid"))
        assert text_of(m.call_tool("b__echo", {"text": "b"})) == "b"
        own = own_route(proxy, http, "a")
        assert set(tool_names(own)) == {"echo", "add"}
        assert_unknown(own.call_tool("pid"))
        assert text_of(own.call_tool("echo", {"text": "own"})) == "own"

    def test_block_filter_with_wildcards(self, launch, mock_server_bin, http):
        proxy = launch(agg_config(mock_server_bin, {
            "a": {"options": {"toolFilter": {"mode": "block", "list": ["*_*", "c?ash"]}}}}))
        m = merged(proxy, http)
        kept = [t for t in MOCK_TOOLS if t not in ("stderr_flood", "change_tools", "crash")]
        assert set(tool_names(m)) == prefixed("a", kept)
        pid = text_of(m.call_tool("a__pid"))
        assert_unknown(m.call_tool("a__crash"))
        assert text_of(m.call_tool("a__pid")) == pid, "the blocked crash reached the backend"
        own = own_route(proxy, http, "a")
        assert set(tool_names(own)) == set(kept)
        assert_unknown(own.call_tool("crash"))
        assert_unknown(own.call_tool("change_tools"))

    def test_prompt_and_resource_filters(self, launch, mock_server_bin, http):
        proxy = launch(agg_config(mock_server_bin, {"fx": {
            "args": ["--fixture", "conformance"],
            "options": {"promptFilter": {"mode": "allow", "list": ["test_simple_*", "*_image"]},
                        "resourceFilter": {"mode": "block", "list": ["test://static-*"]}}}}))
        m = merged(proxy, http)
        assert set(prompt_names(m)) == {"fx__test_simple_prompt", "fx__test_prompt_with_image"}
        assert_unknown(m.request("prompts/get", {"name": "fx__test_prompt_with_arguments",
                                                 "arguments": {"arg1": "a", "arg2": "b"}}),
                       "prompt")
        assert "result" in m.request("prompts/get", {"name": "fx__test_simple_prompt"})
        assert resource_uris(m) == ["test://watched-resource"]
        assert_error_code(m.request("resources/read", {"uri": "test://static-text"}),
                          RESOURCE_NOT_FOUND)
        assert "result" in m.request("resources/read", {"uri": "test://watched-resource"})
        own = own_route(proxy, http, "fx")
        assert set(prompt_names(own)) == {"test_simple_prompt", "test_prompt_with_image"}
        assert resource_uris(own) == ["test://watched-resource"]
        assert "error" in own.request("prompts/get", {"name": "test_prompt_with_arguments",
                                                      "arguments": {"arg1": "a", "arg2": "b"}})
        assert "error" in own.request("resources/read", {"uri": "test://static-text"})


# ---------------------------------------------------------------------------------------------
# Groups


class TestGroups:
    def test_group_serves_its_servers_through_its_filter(self, launch, mock_server_bin, http):
        """The group filter matches exposed names; /mcp keeps every server."""
        proxy = launch(agg_config(mock_server_bin, {"a": {}, "b": {}, "c": {}}, groups={
            "g": {"servers": ["a", "b"],
                  "toolFilter": {"mode": "allow", "list": ["a__e*", "b__pid"]}}}))
        g = merged(proxy, http, "g/mcp")
        assert set(tool_names(g)) == {"a__echo", "a__env", "b__pid"}
        assert text_of(g.call_tool("a__echo", {"text": "in g"})) == "in g"
        for outside in ("a__add", "c__echo", "b__echo"):
            assert_unknown(g.call_tool(outside, {"text": "x"}))
        assert len(tool_names(merged(proxy, http))) == 3 * len(MOCK_TOOLS)
        narrowed = merged(proxy, http, "g/mcp", "?servers=a")
        assert set(tool_names(narrowed)) == {"a__echo", "a__env"}

    def test_group_without_a_server_list_covers_every_server(self, launch, mock_server_bin,
                                                             http):
        proxy = launch(agg_config(mock_server_bin, {"a": {}, "b": {}},
                                  groups={"everything": {}}))
        assert set(tool_names(merged(proxy, http, "everything/mcp"))) == \
            prefixed("a", MOCK_TOOLS) | prefixed("b", MOCK_TOOLS)

    def test_group_prompt_and_resource_filters_match_exposed_names_and_uris(
            self, launch, mock_server_bin, http):
        proxy = launch(agg_config(mock_server_bin, {
            "fx": {"args": ["--fixture", "conformance"]},
            "gen": {"args": ["--resources", "3", "--prompts", "2"]}}, groups={
            "p": {"promptFilter": {"mode": "block", "list": ["fx__*"]},
                  "resourceFilter": {"mode": "allow", "list": ["test://*", "mock://gen/0002"]}}}))
        p = merged(proxy, http, "p/mcp")
        assert set(prompt_names(p)) == {"gen__gen_prompt_0001", "gen__gen_prompt_0002"}
        assert set(resource_uris(p)) == set(FIXTURE_RESOURCES) | {"mock://gen/0002"}
        assert_unknown(p.request("prompts/get", {"name": "fx__test_simple_prompt"}), "prompt")
        assert_error_code(p.request("resources/read", {"uri": "mock://gen/0001"}),
                          RESOURCE_NOT_FOUND)

    def test_group_over_legacy_sse(self, launch, mock_server_bin):
        proxy = launch(agg_config(mock_server_bin, {"a": {}, "b": {}}, groups={
            "g": {"servers": ["b"]}}))
        with LegacySseSession(f"{proxy.base_url}/g/sse") as s:
            s.open()
            assert set(tool_names(s)) == prefixed("b", MOCK_TOOLS)
            assert text_of(s.call_tool("b__echo", {"text": "legacy g"})) == "legacy g"
            assert_unknown(s.call_tool("a__echo", {"text": "x"}))


# ---------------------------------------------------------------------------------------------
# Narrowing a session at initialize


class TestNarrowing:
    SERVERS = {"fx": {"args": ["--fixture", "conformance"]},
               "gen": {"args": ["--resources", "3", "--prompts", "2"]},
               "plain": {}}

    def test_servers_query_narrows_tools_prompts_and_resources(self, launch, mock_server_bin,
                                                               http):
        proxy = launch(agg_config(mock_server_bin, self.SERVERS))
        s = merged(proxy, http, query="?servers=fx,plain")
        names = tool_names(s)
        assert names and all(n.startswith(("fx__", "plain__")) for n in names), names
        assert prefixed("plain", MOCK_TOOLS) <= set(names)
        assert set(prompt_names(s)) == prefixed("fx", FIXTURE_PROMPTS)
        assert set(resource_uris(s)) == set(FIXTURE_RESOURCES)
        assert_unknown(s.call_tool("gen__echo", {"text": "x"}))
        assert_error_code(s.request("resources/read", {"uri": "mock://gen/0001"}),
                          RESOURCE_NOT_FOUND)
        assert text_of(s.call_tool("plain__echo", {"text": "in"})) == "in"
        assert any(n.startswith("gen__") for n in tool_names(merged(proxy, http))), \
            "another session is not narrowed"

    def test_tools_query_narrows_by_exposed_name(self, launch, mock_server_bin, http):
        proxy = launch(agg_config(mock_server_bin, {"a": {}, "b": {}}))
        s = merged(proxy, http, query="?tools=a__e*,b__pid")
        assert set(tool_names(s)) == {"a__echo", "a__env", "b__pid"}
        assert_unknown(s.call_tool("b__echo", {"text": "x"}))
        assert text_of(s.call_tool("a__echo", {"text": "ok"})) == "ok"

    def test_headers_narrow_like_the_query(self, launch, mock_server_bin, http):
        proxy = launch(agg_config(mock_server_bin, {"a": {}, "b": {}, "c": {}}))
        by_servers = merged(proxy, http, init_headers={"Mcp-Proxy-Servers": "b,c"})
        assert set(tool_names(by_servers)) == prefixed("b", MOCK_TOOLS) | prefixed("c", MOCK_TOOLS)
        assert_unknown(by_servers.call_tool("a__echo", {"text": "x"}))
        by_tools = merged(proxy, http, init_headers={"Mcp-Proxy-Tools": "a__add,c__*o"})
        assert set(tool_names(by_tools)) == {"a__add", "c__echo"}
        assert_unknown(by_tools.call_tool("c__pid"))

    def test_legacy_sse_get_narrows_the_session(self, launch, mock_server_bin):
        proxy = launch(agg_config(mock_server_bin, {"a": {}, "b": {}}))
        with LegacySseSession(f"{proxy.base_url}/sse?servers=b") as s:
            s.open()
            assert set(tool_names(s)) == prefixed("b", MOCK_TOOLS)
            assert_unknown(s.call_tool("a__echo", {"text": "x"}))
        with LegacySseSession(f"{proxy.base_url}/sse?tools=a__echo") as s:
            s.open()
            assert tool_names(s) == ["a__echo"]


# ---------------------------------------------------------------------------------------------
# Backends that fail


class TestFailingBackends:
    def test_a_backend_that_is_down_is_left_out(self, launch, mock_server_bin, http):
        proxy = launch(agg_config(mock_server_bin, {
            "gone": {"url": f"http://127.0.0.1:{closed_port()}/mcp",
                     "transportType": "streamable-http", "timeout": "5s"},
            "m": {}, "fx": {"args": ["--fixture", "conformance"]}}))
        m = merged(proxy, http)
        started = time.monotonic()
        fx_tools = tool_names(own_route(proxy, http, "fx"))
        assert set(tool_names(m)) == prefixed("m", MOCK_TOOLS) | prefixed("fx", fx_tools)
        assert set(prompt_names(m)) == prefixed("fx", FIXTURE_PROMPTS)
        assert set(resource_uris(m)) == set(FIXTURE_RESOURCES)
        assert time.monotonic() - started < 15
        assert "error" in m.call_tool("gone__echo", {"text": "x"})
        assert text_of(m.call_tool("m__echo", {"text": "alive"})) == "alive"

    def test_a_backend_whose_list_fails_is_left_out(self, launch, mock_server_bin, py_backend,
                                                   http):
        proxy = launch(agg_config(mock_server_bin, {
            "bad": py_backend("bad", [py_tool("t")], fail_list=True), "m": {}}))
        assert set(tool_names(merged(proxy, http))) == prefixed("m", MOCK_TOOLS)

    @pytest.mark.spec("2025-11-25 server/utilities/logging")
    def test_a_session_that_asked_for_warnings_hears_who_was_left_out(
            self, launch, mock_server_bin, py_backend, proxy_url_session):
        """Left out of a merged list: a warning notification to a session whose log level admits
        it (none to a session at "error"), naming the server but no backend detail."""
        proxy = launch(agg_config(mock_server_bin, {
            "bad": py_backend("bad", [py_tool("t")], fail_list=True), "m": {}},
            listCacheTTL="0"))
        quiet = proxy_url_session(f"{proxy.base_url}/mcp")
        loud = proxy_url_session(f"{proxy.base_url}/mcp")
        for s, level in ((quiet, "error"), (loud, "warning")):
            assert get_stream_open(s), s.diagnostics()
            assert "error" not in s.request("logging/setLevel", {"level": level})
        marks = {id(s): s.mark() for s in (quiet, loud)}
        assert set(tool_names(quiet)) == prefixed("m", MOCK_TOOLS)
        assert set(tool_names(loud)) == prefixed("m", MOCK_TOOLS)
        # quiet's list came first: a warning pushed to it would have been queued before loud's.
        warning = loud.wait_for(
            lambda msg: is_notification(msg) and msg.get("method") == "notifications/message"
            and "bad" in str(msg.get("params", {}).get("data")), NOTIFY_TIMEOUT_S,
            marks[id(loud)])
        assert warning is not None, loud.received[marks[id(loud)]:]
        assert warning["params"]["level"] == "warning"
        assert "tools/list" in warning["params"]["data"]
        assert "Method" not in warning["params"]["data"], "backend details stay in the log"
        assert not [m for m in log_messages(quiet.received[marks[id(quiet)]:])
                    if "bad" in str(m.get("params", {}).get("data"))]

    def test_a_hung_backend_is_left_out_after_the_fan_out_timeout(self, launch, mock_server_bin,
                                                                  http):
        """--hang-after 0: the mock stops answering anything after its first tool call."""
        # The backend's own timeout (8 s) is well past the fan-out timeout (2 s, time enough for
        # a loaded machine's first list): a list that ends before the former was cut by the
        # latter.
        proxy = launch(agg_config(mock_server_bin, {
            "h": {"args": ["--hang-after", "0"], "timeout": "8s"}, "m": {}},
            fanOutTimeout="2s", listCacheTTL="0"))
        m = merged(proxy, http)
        assert "h__echo" in tool_names(m)
        assert_error_code(m.call_tool("h__echo", {"text": "hang"}), REQUEST_TIMEOUT)
        started = time.monotonic()
        names = tool_names(m)
        elapsed = time.monotonic() - started
        assert set(names) == prefixed("m", MOCK_TOOLS), names
        assert elapsed < 7.5, f"the merged list took {elapsed:.1f} s: not cut at the fan-out timeout"

    def test_a_backend_down_at_start_joins_when_it_comes_up(self, launch, start_mock_http,
                                                            mock_server_bin, proxy_url_session):
        port = closed_port()
        proxy = launch(agg_config(mock_server_bin, {
            "late": {"url": f"http://127.0.0.1:{port}/mock/mcp",
                     "transportType": "streamable-http", "timeout": "10s"},
            "here": {}}))
        s = proxy_url_session(f"{proxy.base_url}/mcp")
        assert get_stream_open(s), s.diagnostics()
        assert set(tool_names(s)) == prefixed("here", MOCK_TOOLS)
        mark = s.mark()
        start_mock_http("--http", f"127.0.0.1:{port}")
        changed = s.wait_for(lambda msg: is_notification(msg)
                             and msg.get("method") == "notifications/tools/list_changed",
                             JOIN_TIMEOUT_S, mark)
        assert changed is not None, f"no list_changed within {JOIN_TIMEOUT_S} s: " \
                                    f"{s.received[mark:]}\n{proxy.output()[-3000:]}"
        assert set(tool_names(s)) == prefixed("here", MOCK_TOOLS) | prefixed("late", MOCK_TOOLS)
        assert text_of(s.call_tool("late__echo", {"text": "joined"})) == "joined"

    def test_a_late_backend_configured_first_gets_the_plain_names(
            self, launch, start_mock_http, mock_server_bin, proxy_url_session):
        """Collisions are resolved by configuration order, not by who answered first: once the
        late server (configured first, prefix "") is up, "env" is its tool."""
        port = closed_port()
        proxy = launch(agg_config(mock_server_bin, {
            "late": {"url": f"http://127.0.0.1:{port}/mock/mcp", "prefix": "",
                     "transportType": "streamable-http", "timeout": "10s"},
            "here": {"prefix": "", "env": {"WHO": "here"}}}))
        s = proxy_url_session(f"{proxy.base_url}/mcp")
        assert get_stream_open(s), s.diagnostics()
        assert set(tool_names(s)) == set(MOCK_TOOLS)
        mark = s.mark()
        start_mock_http("--http", f"127.0.0.1:{port}")
        assert s.wait_for(lambda msg: is_notification(msg)
                          and msg.get("method") == "notifications/tools/list_changed",
                          JOIN_TIMEOUT_S, mark) is not None, s.received[mark:]
        names = wait_for_tools(s, lambda n: len(n) == 2 * len(MOCK_TOOLS))
        assert set(MOCK_TOOLS) <= set(names), names
        hashed_env = [n for n in names if re.fullmatch(r"env_[0-9a-fA-F]{8}", n)]
        assert len(hashed_env) == 1, names
        assert text_of(s.call_tool("env", {"name": "WHO"})) == "", "env is here's, not late's"
        assert text_of(s.call_tool(hashed_env[0], {"name": "WHO"})) == "here"

    def test_a_backend_dying_mid_walk_does_not_fail_the_list(self, launch, mock_server_bin,
                                                            http):
        """c exits on its first tool call, between two pages of a walk: every later page is
        still a result, and a's tools all come exactly once."""
        proxy = launch(agg_config(mock_server_bin, {
            "a": {"args": ["--tools", "20", "--page-size", "5"]},
            "c": {"args": ["--tools", "20", "--page-size", "5", "--crash-after", "0"]}}))
        m = merged(proxy, http)
        first = m.request("tools/list")["result"]
        names = [t["name"] for t in first["tools"]]
        cursor = first.get("nextCursor")
        assert cursor
        assert "error" in m.call_tool("c__echo", {"text": "die"})
        for _ in range(MAX_PAGES):
            page = m.request("tools/list", {"cursor": cursor})
            assert "result" in page, page
            names += [t["name"] for t in page["result"]["tools"]]
            cursor = page["result"].get("nextCursor")
            if not cursor:
                break
        assert not cursor
        assert len(names) == len(set(names)), names
        own_a = [f"a__{n}" for n in MOCK_TOOLS] + [f"a__gen_tool_{i:04d}" for i in range(1, 21)]
        assert set(own_a) <= set(names)
        assert set(own_a) <= set(tool_names(m))


# ---------------------------------------------------------------------------------------------
# Backend and client transports


class TestTransports:
    def test_three_backends_over_three_transports_in_one_endpoint(self, launch, start_mock_http,
                                                                  mock_server_bin, http):
        remote = start_mock_http()
        proxy = launch(agg_config(mock_server_bin, {
            "s": {},
            "h": {"url": remote.url("mcp"), "transportType": "streamable-http"},
            "l": {"url": remote.url("sse"), "transportType": "sse"}}))
        m = merged(proxy, http)
        assert set(tool_names(m)) == prefixed("s", MOCK_TOOLS) | prefixed("h", MOCK_TOOLS) | \
            prefixed("l", MOCK_TOOLS)
        pids = set()
        for server in ("s", "h", "l"):
            assert text_of(m.call_tool(f"{server}__echo", {"text": f"via {server}"})) == \
                f"via {server}"
            pids.add(text_of(m.call_tool(f"{server}__pid")))
            response, messages = call(m, f"{server}__progress", {"steps": 2},
                                      {"progressToken": f"t-{server}"})
            assert text_of(response) == "done 2 steps"
            assert [(p["params"]["progressToken"], p["params"]["progress"])
                    for p in progress_messages(messages)] == [(f"t-{server}", 1),
                                                             (f"t-{server}", 2)], messages
        assert len(pids) == 3, pids

    def test_the_merged_endpoint_over_legacy_sse(self, launch, mock_server_bin):
        proxy = launch(agg_config(mock_server_bin, {"a": {}, "b": {}}))
        with LegacySseSession(f"{proxy.base_url}/sse") as s:
            assert urlsplit(s.endpoint_url).path == "/message", s.endpoint_url
            result = s.open()
            assert result["serverInfo"]["name"] == "mcp-proxy", result
            assert set(tool_names(s)) == prefixed("a", MOCK_TOOLS) | prefixed("b", MOCK_TOOLS)
            assert text_of(s.call_tool("b__echo", {"text": "legacy"})) == "legacy"
            mark = s.mark()
            response = s.call_tool("a__progress", {"steps": 2}, meta={"progressToken": "lp"})
            assert text_of(response) == "done 2 steps"
            progress = s.notifications("notifications/progress", mark)
            assert [p["params"]["progress"] for p in progress] == [1, 2], progress
            assert_unknown(s.call_tool("nope"))

    def test_list_changed_reaches_a_legacy_sse_session_of_the_merged_endpoint(
            self, launch, mock_server_bin):
        proxy = launch(agg_config(mock_server_bin, {"m": {"args": ["--tools", "1"]}, "o": {}}))
        with LegacySseSession(f"{proxy.base_url}/sse") as s:
            s.open()
            assert_tool_change_announced(s, "m__gen_tool_0002")
