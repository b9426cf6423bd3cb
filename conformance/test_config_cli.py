"""The config on the command line (issue #17 item 5): `mcp-proxy --check`, JSONC, TBXark's
remote config (`--config URL` with -http-headers, -insecure, -http-timeout), -expand-env, the
older V1 format, panicIfInvalid, and --help against the docs.

Every server these tests start binds 127.0.0.1 on port 0 and is stopped by the test; every wait
is bounded.
"""

from __future__ import annotations

import http.server
import json
import os
import re
import ssl
import subprocess
import threading
import urllib.parse
from pathlib import Path
from typing import Callable, Iterator, Optional

import httpx
import pytest

from conftest import HTTP_TIMEOUT_S, ListeningProcess, _SANITIZER_REPORT, mock_config, wait_until

RUN_TIMEOUT_S = 60
DOCS = Path(__file__).resolve().parent.parent / "docs"


def run(binary: Path, *args: str, env: Optional[dict] = None,
        cwd: Optional[Path] = None) -> subprocess.CompletedProcess:
    result = subprocess.run([str(binary), *map(str, args)], capture_output=True, text=True,
                            timeout=RUN_TIMEOUT_S, env=env, cwd=cwd)
    assert not _SANITIZER_REPORT.search(result.stderr), result.stderr[-6000:]
    return result


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


# --------------------------------------------------------------------------------------------
# A config served over HTTP(S)


class ConfigServer:
    """Serves `body` at /cfg.json on 127.0.0.1 (port 0), /moved redirects there, /missing is 404
    and /hang never answers (until stop()); records the headers of each request."""

    def __init__(self, body: str, tls: Optional[tuple[Path, Path]] = None):
        self.body = body
        self.requests: list[tuple[str, dict]] = []
        self.release = threading.Event()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (the stdlib's name)
                outer.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
                route = urllib.parse.urlsplit(self.path).path
                if route == "/cfg.json":
                    data = outer.body.encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                elif route == "/moved":
                    self.send_response(302)
                    self.send_header("Location", "/cfg.json")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                elif route == "/hang":
                    outer.release.wait(RUN_TIMEOUT_S)
                else:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.scheme = "http"
        if tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(str(tls[0]), str(tls[1]))
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
            self.scheme = "https"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str = "/cfg.json") -> str:
        return f"{self.scheme}://127.0.0.1:{self.server.server_address[1]}{path}"

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(10)


@pytest.fixture
def config_server() -> Iterator[Callable[..., ConfigServer]]:
    servers: list[ConfigServer] = []

    def start(body: str, tls: Optional[tuple[Path, Path]] = None) -> ConfigServer:
        servers.append(ConfigServer(body, tls))
        return servers[-1]

    yield start
    for s in servers:
        s.stop()


def make_certificate(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "cfg.pem", folder / "cfg.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)
    return cert, key


# --------------------------------------------------------------------------------------------
# --check


def marker_server(tmp_path: Path) -> tuple[dict, Path]:
    """A stdio server that leaves a file behind if it is ever started."""
    marker = tmp_path / "started"
    script = write(tmp_path / "server.sh", f"#!/bin/sh\ntouch {marker}\nexec cat\n")
    script.chmod(0o755)
    return {"command": str(script)}, marker


def test_check_prints_the_resolved_view_with_secrets_redacted_and_starts_nothing(
        mcp_proxy_bin, tmp_path):
    server, marker = marker_server(tmp_path)
    server.update({"args": ["--api-key", "arg-secret-1"],
                   "env": {"SERVICE_TOKEN": "env-secret-2", "LANG": "C"}})
    config = write(tmp_path / "proxy.json", json.dumps({
        "mcpProxy": {"addr": ":0", "options": {"authTokens": ["tok-secret-3"],
                                               "logEnabled": True}},
        "mcpServers": {
            "local": server,
            "remote": {"url": "https://example.com/mcp?key=url-secret-4",
                       "headers": {"Authorization": "Bearer header-secret-5"},
                       "options": {"panicIfInvalid": True}},
        }}))
    result = run(mcp_proxy_bin, "--check", "--config", config)
    assert result.returncode == 0, result.stderr
    assert "proxy.json: valid (2 server(s), 2 enabled)" in result.stderr
    for secret in ("arg-secret-1", "env-secret-2", "tok-secret-3", "url-secret-4",
                   "header-secret-5"):
        assert secret not in result.stdout + result.stderr
    view = json.loads(result.stdout)
    assert view["mcpProxy"]["addr"] == "127.0.0.1:0"
    local, remote = view["mcpServers"]["local"], view["mcpServers"]["remote"]
    assert local["args"] == ["--api-key", "REDACTED"]
    assert local["env"] == {"SERVICE_TOKEN": "REDACTED", "LANG": "C"}
    assert local["options"]["logEnabled"] is True and local["options"]["authTokens"] == ["REDACTED"]
    assert remote["url"] == "https://example.com/mcp?key=REDACTED"
    assert remote["headers"] == {"Authorization": "REDACTED"}
    assert remote["options"]["panicIfInvalid"] is True
    assert remote["transportType"] == "streamable-http" and remote["timeout"] == "60s"
    # Defaults filled in for the keys of supervision, shutdown and metrics too.
    assert local["pingInterval"] == "30s" and local["pingMisses"] == 3
    assert view["mcpProxy"]["shutdownGrace"] == "10s"
    assert view["mcpProxy"]["metrics"] == {"enabled": True, "endpointPath": "/metrics", "addr": ""}
    assert not marker.exists(), "--check started a backend"


def test_check_reports_every_problem_at_once_with_suggestions(mcp_proxy_bin, tmp_path):
    config = write(tmp_path / "bad.json", """{
  // JSONC: comments are fine
  "mcpProxy": {"addr": "127.0.0.1:99999", "fanOutTimout": "1s"},
  "mcpServers": {
    "a": {"comand": "cat"},
    "b": {"command": "cat", "timeout": "soon"},
    "c": {"url": "not a url"},
  },
}""")
    result = run(mcp_proxy_bin, "--check", config)
    assert result.returncode == 2, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert [re.sub(r"^error: [^:]*: ([^:]*):.*", r"\1", line) for line in errors] == [
        "$.mcpProxy.addr", "$.mcpServers.a", "$.mcpServers.b.timeout", "$.mcpServers.c.url"], \
        result.stderr
    assert ('warning: ' + str(config) + ': $.mcpProxy.fanOutTimout: unknown key, ignored; did you '
            'mean "fanOutTimeout"?') in result.stderr
    assert 'did you mean "command"?' in result.stderr
    assert "bad.json: invalid (4 error(s))" in result.stderr
    assert result.stdout == ""  # no view of a config that did not load


def test_check_finds_what_only_starting_would(mcp_proxy_bin, tmp_path):
    server, marker = marker_server(tmp_path)
    config = write(tmp_path / "proxy.json", json.dumps({"mcpServers": {
        "ok": server,
        "gone": {"command": "no-such-command-for-mcp-proxy"},
        "where": {"command": "cat", "cwd": str(tmp_path / "nowhere")},
        "off": {"command": "no-such-command-for-mcp-proxy", "disabled": True},
    }}))
    result = run(mcp_proxy_bin, "--check", "-c", config, "--addr", "0.0.0.0:0")
    assert result.returncode == 2
    assert 'proxy.json: $.mcpServers.gone.command: command "no-such-command-for-mcp-proxy" not ' \
           'found on PATH' in result.stderr
    assert "proxy.json: $.mcpServers.where.cwd: no such directory" in result.stderr
    # Beyond loopback every route needs a token (as at start).
    assert "0.0.0.0:0 is reachable from other machines" in result.stderr
    assert "invalid (3 error(s))" in result.stderr
    # The view is printed all the same: the file itself loaded.
    assert set(json.loads(result.stdout)["mcpServers"]) == {"ok", "gone", "where", "off"}
    assert not marker.exists()


def test_check_takes_the_config_either_way_but_once(mcp_proxy_bin, tmp_path):
    config = write(tmp_path / "a.json", '{"mcpServers": {}}')
    other = write(tmp_path / "b.json", '{"mcpServers": {}}')
    for args in (["--check", config], ["--check", "--config", config], ["-check", "-config", config],
                 ["--config", config, "--check"]):
        result = run(mcp_proxy_bin, *args)
        assert result.returncode == 0, (args, result.stderr)
        assert "a.json: valid (0 server(s), 0 enabled)" in result.stderr
    result = run(mcp_proxy_bin, "--check", other, "--config", config)
    assert result.returncode == 2 and "name the config once" in result.stderr
    result = run(mcp_proxy_bin, "--check", tmp_path / "missing.json")
    assert result.returncode == 2 and "missing.json: cannot read" in result.stderr


def test_a_claude_desktop_config_checks_and_serves_as_it_is(mcp_proxy_bin, mock_server_bin, tmp_path):
    config = write(tmp_path / "claude_desktop_config.json", json.dumps({
        "mcpServers": {"mock": {"command": str(mock_server_bin), "args": []}}}))
    assert run(mcp_proxy_bin, "--check", config).returncode == 0
    proxy = ListeningProcess("mcp-proxy", [mcp_proxy_bin, "--config", config,
                                           "--addr", "127.0.0.1:0"])
    try:
        assert wait_until(lambda: "server mock:" in proxy.output()), proxy.output()[-4000:]
        with httpx.Client(timeout=HTTP_TIMEOUT_S) as client:
            assert client.get(f"{proxy.base_url}/readyz").status_code == 200
    finally:
        assert proxy.stop() == 0, proxy.output()[-4000:]


# --------------------------------------------------------------------------------------------
# TBXark's remote config and flags


def test_a_config_url_is_fetched_with_the_given_headers(mcp_proxy_bin, mock_server_bin,
                                                        config_server):
    body = "// served\n" + json.dumps(mock_config(mock_server_bin, fromurl={}))
    server = config_server(body)
    url = server.url() + "?key=url-secret"
    result = run(mcp_proxy_bin, "--check", "--config", url,
                 "-http-headers", "X-Config-Key: k1 ; Authorization:Bearer hdr;junk;Empty:")
    assert result.returncode == 0, result.stderr
    assert "fromurl" in json.loads(result.stdout)["mcpServers"]
    path, headers = server.requests[-1]
    assert path == "/cfg.json?key=url-secret"
    assert headers["x-config-key"] == "k1" and headers["authorization"] == "Bearer hdr"
    assert "empty" not in headers and "junk" not in headers
    # Messages name the URL without its query.
    assert "url-secret" not in result.stderr
    assert f"{server.url()}: valid (1 server(s), 1 enabled)" in result.stderr

    # And the proxy serves what it fetched.
    proxy = ListeningProcess("mcp-proxy", [mcp_proxy_bin, "-config", server.url(),
                                           "--addr", "127.0.0.1:0"])
    try:
        assert wait_until(lambda: "server fromurl:" in proxy.output()), proxy.output()[-4000:]
    finally:
        assert proxy.stop() == 0, proxy.output()[-4000:]


def test_a_config_url_follows_redirects_and_reports_failures(mcp_proxy_bin, config_server):
    server = config_server('{"mcpServers": {}}')
    result = run(mcp_proxy_bin, "--check", server.url("/moved"))
    assert result.returncode == 0, result.stderr
    assert [p for p, _ in server.requests] == ["/moved", "/cfg.json"]

    result = run(mcp_proxy_bin, "--check", server.url("/missing"))
    assert result.returncode == 2
    assert "answered HTTP 404" in result.stderr

    result = run(mcp_proxy_bin, "--check", server.url("/hang"), "-http-timeout", "1")
    assert result.returncode == 2
    assert "cannot fetch" in result.stderr


def test_insecure_accepts_a_certificate_nobody_vouches_for(mcp_proxy_bin, config_server, tmp_path):
    server = config_server('{"mcpServers": {}}', tls=make_certificate(tmp_path))
    refused = run(mcp_proxy_bin, "--check", server.url())
    assert refused.returncode == 2
    assert "cannot fetch" in refused.stderr and "certificate" in refused.stderr
    accepted = run(mcp_proxy_bin, "--check", server.url(), "-insecure")
    assert accepted.returncode == 0, accepted.stderr


def test_expand_env_works_as_tbxark_and_the_default_stays_strict(mcp_proxy_bin, tmp_path):
    config = write(tmp_path / "env.json", json.dumps({
        "mcpProxy": {"addr": "127.0.0.1:$CFG_CLI_PORT", "name": "n${CFG_CLI_UNSET}"},
        "mcpServers": {"a": {"command": "cat", "args": ["${CFG_CLI_PORT}"]}}}))
    env = {**os.environ, "CFG_CLI_PORT": "0"}
    env.pop("CFG_CLI_UNSET", None)

    tbxark = run(mcp_proxy_bin, "--check", config, "-expand-env", env=env)
    assert tbxark.returncode == 0, tbxark.stderr
    view = json.loads(tbxark.stdout)
    assert view["mcpProxy"]["name"] == "n" and view["mcpServers"]["a"]["args"] == ["0"]

    for args in ([], ["-expand-env=false"]):
        strict = run(mcp_proxy_bin, "--check", config, *args, env=env)
        assert strict.returncode == 2, (args, strict.stderr)
        assert '$.mcpProxy.addr: port must be a number from 0 to 65535, got "$CFG_CLI_PORT"' \
            in strict.stderr

    literal = write(tmp_path / "literal.json", json.dumps({
        "mcpServers": {"a": {"command": "cat", "args": ["${CFG_CLI_PORT}", "$CFG_CLI_PORT"]}}}))
    off = run(mcp_proxy_bin, "--check", literal, "--expand-env=false", env=env)
    assert off.returncode == 0, off.stderr
    assert json.loads(off.stdout)["mcpServers"]["a"]["args"] == ["${CFG_CLI_PORT}", "$CFG_CLI_PORT"]


def test_the_v1_format_checks_as_tbxark_adapts_it(mcp_proxy_bin, tmp_path):
    config = write(tmp_path / "v1.json", json.dumps({
        "server": {"addr": "127.0.0.1:0", "name": "old", "globalAuthTokens": ["g"]},
        "clients": {"c": {"type": "stdio", "config": {"command": "cat"}, "authTokens": ["own"]},
                    "s": {"type": "sse", "config": {"url": "https://example.com/x"}}}}))
    result = run(mcp_proxy_bin, "--check", config)
    assert result.returncode == 0, result.stderr
    view = json.loads(result.stdout)
    assert view["mcpProxy"]["name"] == "old"
    assert view["mcpServers"]["c"]["options"]["authTokens"] == ["REDACTED", "REDACTED"]
    assert view["mcpServers"]["s"]["transportType"] == "sse"


# --------------------------------------------------------------------------------------------
# panicIfInvalid


def test_panic_if_invalid_ends_the_proxy_when_its_server_cannot_start(mcp_proxy_bin, tmp_path):
    config = write(tmp_path / "panic.json", json.dumps({
        "mcpProxy": {"addr": "127.0.0.1:0"},
        "mcpServers": {"broken": {"command": "/bin/false", "timeout": "5s",
                                  "options": {"panicIfInvalid": True}}}}))
    proc = subprocess.run([str(mcp_proxy_bin), "--config", str(config)], capture_output=True,
                          text=True, timeout=RUN_TIMEOUT_S)
    assert proc.returncode == 1, proc.stderr[-4000:]
    assert "backend broken: failed to start, and options.panicIfInvalid is true: exiting" \
        in proc.stderr
    assert not _SANITIZER_REPORT.search(proc.stderr), proc.stderr[-6000:]


def test_without_panic_if_invalid_the_proxy_serves_on(mcp_proxy_bin, tmp_path):
    config = write(tmp_path / "calm.json", json.dumps({
        "mcpProxy": {"addr": "127.0.0.1:0", "options": {"panicIfInvalid": True}},
        "mcpServers": {"broken": {"command": "/bin/false", "timeout": "5s",
                                  "options": {"panicIfInvalid": False}}}}))
    proxy = ListeningProcess("mcp-proxy", [mcp_proxy_bin, "--config", config])
    try:
        with httpx.Client(timeout=HTTP_TIMEOUT_S) as client:
            assert client.get(f"{proxy.base_url}/healthz").status_code == 200
        assert proxy.proc.poll() is None
    finally:
        assert proxy.stop() == 0, proxy.output()[-4000:]


# --------------------------------------------------------------------------------------------
# --help


def test_help_says_what_the_docs_say_of_stdio_and_server(mcp_proxy_bin):
    result = run(mcp_proxy_bin, "--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    # docs/configuration.md: without --server, the only enabled server, else all merged.
    assert "else the only enabled server, else all of them merged" in text
    assert "else every server merged as /mcp" in text
    assert "needed when several" not in text
    docs = " ".join((DOCS / "configuration.md").read_text().split())
    assert "Left out: the only enabled server, or with several, all of them merged" in docs
    for flag in ("--check", "--expand-env", "--http-headers", "--insecure", "--http-timeout"):
        assert flag in text, flag
        assert f"`{flag}" in docs, flag
