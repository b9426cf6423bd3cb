#!/usr/bin/python3
"""Runs the conformance suite against tests/interop/v2_server.mjs, a server of protocol revision
2026-07-28 written with the v2 TypeScript SDK (@modelcontextprotocol/server), dual-era.

    /usr/bin/python3 conformance/run_v2_server.py stdio [PYTEST ARGS...]
    /usr/bin/python3 conformance/run_v2_server.py http [PYTEST ARGS...]

stdio: each test spawns `node tests/interop/v2_server.mjs` (--cmd). http: the server is started
here with --http (it binds 127.0.0.1 on a free port and prints it), the suite gets --url, and the
server is stopped by its PID afterwards. The SDK comes from MCP_PROXY_NPM_DIR (default
$HOME/.cache/mcp-proxy/npm; ci/install-deps.sh installs it there). Exit status: pytest's.
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from pathlib import Path

from run_server_everything import START_TIMEOUT_S, STOP_TIMEOUT_S, mode_and_node, stop

HERE = Path(__file__).resolve().parent
V2_SERVER = HERE.parent / "tests" / "interop" / "v2_server.mjs"
LISTENING = re.compile(rb"listening on (http://127\.0\.0\.1:\d+)")


def main(argv: list[str]) -> int:
    chosen = mode_and_node(argv, ("stdio", "http"), __doc__)
    if chosen is None:
        return 2
    mode, pytest_args, node = chosen
    pytest_cmd = [sys.executable, "-m", "pytest", str(HERE)]
    if mode == "stdio":
        return subprocess.call(pytest_cmd + ["--cmd", f"{node} {V2_SERVER}", *pytest_args])

    server = subprocess.Popen([node, str(V2_SERVER), "--http"], stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    output: list[bytes] = []
    listening = threading.Event()

    def drain() -> None:
        for line in iter(server.stdout.readline, b""):
            output.append(line)
            if LISTENING.search(line):
                listening.set()
        listening.set()  # the output ended: the server is gone

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        found = LISTENING.search(b"".join(output)) if listening.wait(START_TIMEOUT_S) else None
        if found is None:
            print("v2_server.mjs --http did not say where it listens:\n"
                  + b"".join(output).decode(errors="replace"), file=sys.stderr)
            return 2
        return subprocess.call(pytest_cmd + ["--url", found.group(1).decode() + "/mcp",
                                             *pytest_args])
    finally:
        stop(server)
        reader.join(STOP_TIMEOUT_S)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
