"""Interop: the official TypeScript SDK client (@modelcontextprotocol/sdk) through mcp-proxy.

The client is tests/interop/sdk_client.mjs (Client + StreamableHTTPClientTransport). Backends: the
npm server-everything over stdio, and this repo's mock server. The npm packages live outside the
repo, in env MCP_PROXY_NPM_DIR (default $HOME/.cache/mcp-proxy/npm; ci/install-deps.sh fills it).
Without node or the packages these tests skip, except under CI (env CI set), where they fail.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import LATEST_PROTOCOL_VERSION, REPO_ROOT, mock_config

SDK_CLIENT = REPO_ROOT / "tests" / "interop" / "sdk_client.mjs"
CLIENT_TIMEOUT_S = 45  # the script's own hard limit is 30 s
MIN_NODE_MAJOR = 18  # the SDK's engines field


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


@pytest.fixture(scope="module")
def peers() -> NodePeers:
    node = shutil.which("node")
    if not node:
        _unavailable("no `node` on PATH")
    try:
        version = subprocess.run([node, "--version"], capture_output=True, text=True,
                                 timeout=20).stdout.strip()
        major = int(version.lstrip("v").split(".")[0])
    except (subprocess.SubprocessError, ValueError) as e:
        _unavailable(f"`node --version` failed: {e}")
    if major < MIN_NODE_MAJOR:
        _unavailable(f"node {version} is older than {MIN_NODE_MAJOR}")
    npm_dir = Path(os.environ.get("MCP_PROXY_NPM_DIR")
                   or Path.home() / ".cache" / "mcp-proxy" / "npm")
    modules = npm_dir / "node_modules" / "@modelcontextprotocol"
    for pkg in ("sdk", "server-everything"):
        if not (modules / pkg / "package.json").is_file():
            _unavailable(f"@modelcontextprotocol/{pkg} is not installed in {npm_dir}")
    entry = _bin_entry(modules / "server-everything", "mcp-server-everything")
    return NodePeers(node, npm_dir, entry)


def run_sdk_client(peers: NodePeers, url: str, tool: str, arguments: dict) -> dict:
    env = dict(os.environ, MCP_PROXY_NPM_DIR=str(peers.npm_dir))
    try:
        done = subprocess.run([peers.node, str(SDK_CLIENT), url, tool, json.dumps(arguments)],
                              capture_output=True, text=True, timeout=CLIENT_TIMEOUT_S, env=env,
                              cwd=str(peers.npm_dir), stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:  # run() has killed the child
        raise AssertionError(f"sdk_client.mjs did not finish in {CLIENT_TIMEOUT_S} s: {e.stderr!r}")
    assert done.returncode == 0, f"sdk_client.mjs exited {done.returncode}:\n{done.stderr}"
    lines = done.stdout.strip().splitlines()
    assert lines, f"sdk_client.mjs printed nothing; stderr:\n{done.stderr}"
    return json.loads(lines[-1])


def test_sdk_client_through_proxy_to_server_everything(peers, start_proxy):
    """2025-11-25 basic/transports: Streamable HTTP and basic/lifecycle: Initialization, as the
    official SDK client does them (initialize, initialized, GET stream, tools/list, tools/call,
    DELETE) against the proxy in front of a real stdio server (basic/transports: stdio)."""
    proxy = start_proxy({
        "mcpProxy": {"addr": "127.0.0.1:0"},
        "mcpServers": {"everything": {"command": peers.node,
                                      "args": [str(peers.everything_entry), "stdio"],
                                      "timeout": "30s"}},
    })
    out = run_sdk_client(peers, proxy.url("everything"), "echo", {"message": "hello via the SDK"})
    assert out["protocolVersion"] == LATEST_PROTOCOL_VERSION
    assert out["serverName"] == "mcp-servers/everything"
    assert "echo" in out["tools"]
    assert out["callResult"]["content"][0] == {"type": "text", "text": "Echo: hello via the SDK"}
    assert not out["callResult"].get("isError", False)


@pytest.mark.parametrize("mode", ["shared", "per-client"])
def test_sdk_client_through_proxy_to_mock(peers, start_proxy, mock_server_bin, mode):
    """2025-11-25 server/tools: Calling Tools and Structured Content, read by the official SDK
    client (which validates structuredContent against the tool's outputSchema when one is
    declared) through the proxy in front of the mock server."""
    proxy = start_proxy(mock_config(mock_server_bin, mock={"sessionMode": mode}))
    out = run_sdk_client(peers, proxy.url("mock"), "add", {"a": 2, "b": 40})
    assert out["protocolVersion"] == LATEST_PROTOCOL_VERSION
    assert out["serverName"] == "mock-mcp-server"
    assert {"echo", "add"} <= set(out["tools"])
    assert out["callResult"]["structuredContent"] == {"sum": 42}
    assert not out["callResult"].get("isError", False)
