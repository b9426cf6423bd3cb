"""Proxies a test module starts with credentials in play (test_oauth.py, test_access.py): each
stopped by PID when its scope ends and checked as conftest's start_proxy checks its own (exit 0 on
SIGTERM, no sanitizer report), and for any credential the tests sent showing up in its output."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Iterable

from conftest import _SANITIZER_REPORT, ProxyProcess
from oauth_fixtures import token_parts


class SentCredentials:
    """Every credential a test sent or configured: no proxy's output may hold one, nor a part of
    one (a JWT's signature, say). Shared by the threads of concurrent requests."""

    def __init__(self, initial: Iterable[str] = ()):
        self._lock = threading.Lock()
        self._sent: set[str] = set(initial)

    def add(self, credential: str) -> None:
        with self._lock:
            self._sent.add(credential)

    def bearer(self, token: str) -> dict:
        """The Authorization header for `token`, remembered."""
        self.add(token)
        return {"Authorization": f"Bearer {token}"}

    def leaked_in(self, output: str) -> list[str]:
        with self._lock:
            sent = list(self._sent)
        return sorted({part for t in sent for part in token_parts(t) if part in output})


class ProxyFleet:
    """The proxies of one scope (a module or a test), in `folder`."""

    def __init__(self, binary: Path, folder: Path, sent: SentCredentials):
        self.binary = binary
        self.folder = folder
        self.sent = sent
        self.started: list[ProxyProcess] = []

    def start(self, config: dict) -> ProxyProcess:
        workdir = self.folder / f"proxy{len(self.started)}"
        workdir.mkdir()
        p = ProxyProcess(self.binary, config, workdir)
        self.started.append(p)
        return p

    def stop_all(self) -> list[str]:
        """Stops every proxy; the problems found, one text each."""
        problems = []
        for p in self.started:
            exited_already = p.proc.poll() is not None
            rc = p.stop()
            out = p.output()
            if exited_already:
                problems.append(f"mcp-proxy on port {p.port} had exited ({rc}):\n{out[-6000:]}")
            elif rc != 0:
                problems.append(f"mcp-proxy on port {p.port} exited with {rc} on SIGTERM:\n"
                                f"{out[-6000:]}")
            if _SANITIZER_REPORT.search(out):
                problems.append(f"sanitizer report in mcp-proxy output (port {p.port}):\n"
                                f"{out[-6000:]}")
            if leaked := self.sent.leaked_in(out):
                problems.append(f"credentials in the output of mcp-proxy (port {p.port}): {leaked}")
        return problems
