#!/usr/bin/python3
"""Runs the conformance suite against @modelcontextprotocol/server-everything, over any transport.

    /usr/bin/python3 conformance/run_server_everything.py sse [PYTEST ARGS...]
    /usr/bin/python3 conformance/run_server_everything.py streamableHttp [PYTEST ARGS...]
    /usr/bin/python3 conformance/run_server_everything.py stdio [PYTEST ARGS...]

For the HTTP modes the server is started here on a free 127.0.0.1 port and stopped by its PID
afterwards; stdio needs no server (each test spawns one through --cmd). server-everything listens
on every interface (`app.listen(PORT)`), so node is started with a preloaded module that binds
servers without a host to 127.0.0.1. The npm package is looked up in MCP_PROXY_NPM_DIR (default
$HOME/.cache/mcp-proxy/npm; ci/install-deps.sh installs it there). Exit status: pytest's.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

HERE = Path(__file__).resolve().parent
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0

# Preloaded into node: server.listen(port) without a host binds 127.0.0.1, not every interface.
LOOPBACK_ONLY = """
import net from "node:net";
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  const first = args[0];
  if (first !== null && typeof first === "object" && !Array.isArray(first) &&
      first.path === undefined) {
    args[0] = { ...first, host: "127.0.0.1" };
  } else if (typeof first === "number" || (typeof first === "string" && /^\\d+$/.test(first))) {
    if (typeof args[1] === "string") args[1] = "127.0.0.1"; else args.splice(1, 0, "127.0.0.1");
  }
  return listen.apply(this, args);
};
"""

ENDPOINTS = {"sse": ("--sse-url", "/sse"), "streamableHttp": ("--url", "/mcp")}
# server-everything's tools for the HTTP-only tests (test_proxy_smoke.py) that need one.
ECHO_TOOL = 'echo:{"message":"hi"}:Echo: hi'


def entry_point() -> Path:
    npm_dir = Path(os.environ.get("MCP_PROXY_NPM_DIR")
                   or Path.home() / ".cache" / "mcp-proxy" / "npm")
    package = npm_dir / "node_modules" / "@modelcontextprotocol" / "server-everything"
    manifest = json.loads((package / "package.json").read_text())
    bins = manifest["bin"]
    return (package / (bins if isinstance(bins, str) else bins["mcp-server-everything"])).resolve()


def free_loopback_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen) -> bool:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.1)
    return False


def stop(proc: subprocess.Popen) -> None:
    """SIGTERM, then SIGKILL, to this PID only."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(STOP_TIMEOUT_S)


def mode_and_node(argv: list[str], modes: tuple, usage: str):
    """(mode, the pytest arguments after it, node's path), or None after saying what is wrong."""
    if not argv or argv[0] not in modes:
        print(usage, file=sys.stderr)
        return None
    node = shutil.which("node")
    if not node:
        print("node is not on PATH", file=sys.stderr)
        return None
    return argv[0], argv[1:], node


def main(argv: list[str]) -> int:
    chosen = mode_and_node(argv, ("sse", "streamableHttp", "stdio"), __doc__)
    if chosen is None:
        return 2
    mode, pytest_args, node = chosen
    entry = entry_point()
    pytest_cmd = [sys.executable, "-m", "pytest", str(HERE)]
    if mode == "stdio":
        return subprocess.call(pytest_cmd + ["--cmd", f"{node} {entry} stdio", *pytest_args])

    port = free_loopback_port()
    env = dict(os.environ, PORT=str(port))
    server = subprocess.Popen(
        [node, "--import", "data:text/javascript," + quote(LOOPBACK_ONLY), str(entry), mode],
        env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    output: list[bytes] = []
    drain = threading.Thread(target=lambda: output.extend(iter(server.stdout.readline, b"")),
                             daemon=True)
    drain.start()
    try:
        if not wait_for_port(port, server):
            print(f"server-everything did not listen on 127.0.0.1:{port}:\n"
                  + b"".join(output).decode(errors="replace"), file=sys.stderr)
            return 2
        option, path = ENDPOINTS[mode]
        extra = ["--echo-tool", ECHO_TOOL] if mode == "streamableHttp" else []
        return subprocess.call(pytest_cmd + [option, f"http://127.0.0.1:{port}{path}", *extra,
                                             *pytest_args])
    finally:
        stop(server)
        drain.join(STOP_TIMEOUT_S)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
