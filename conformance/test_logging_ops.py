"""Logs people can use (issue #17, "Logs"), read from the proxy's stderr.

* --log-format json (or mcpProxy.logFormat): every line is one JSON object with time, level,
  message, and the backend / session / route the line names; text lines start with the time.
  Both formats write UTC times with a "Z".
* debug: one line per proxied request (route, method, target, backend, outcome, ms, id).
* trace: the bodies to and from clients and backends, cut at 2 KiB with the whole length.
* Session ids are shortened everywhere, at every level; tokens and headers never appear.
* mcpProxy.logLevel: an unknown name is refused (exit 2) with the valid names; the command line
  wins over mcpProxy.logLevel and logFormat.
* options.logEnabled (TBXark's): that server's request lines at info.
"""

from __future__ import annotations

import json
import re
import subprocess
from typing import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from conftest import HTTP_TIMEOUT_S, McpClient, mock_config, text_of
from mcp_session import LegacySseSession

ISO_UTC = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"
TEXT_LINE = re.compile(rf"^{ISO_UTC} (trace|debug|info|warning|error|critical) .")
LEVELS = {"trace", "debug", "info", "warning", "error", "critical"}
TOKEN = "tok-never-logged-0123456789"


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=HTTP_TIMEOUT_S, trust_env=False) as client:
        yield client


def stopped_output(proxy) -> list[str]:
    """Stops the proxy (so its shutdown lines are in too) and returns its output lines."""
    assert proxy.stop() == 0, proxy.output()[-4000:]
    return proxy.output().splitlines()


def json_lines(lines: list[str]) -> list[dict]:
    out = []
    for line in lines:
        try:
            v = json.loads(line)
        except ValueError:
            pytest.fail(f"a log line that is not JSON: {line!r}")
        assert isinstance(v, dict), line
        out.append(v)
    return out


def request_lines(lines: list[str]) -> list[str]:
    return [x for x in lines if " request route=" in x]


def some_traffic(http: httpx.Client, proxy, server: str = "mock") -> McpClient:
    """A Streamable HTTP session with a tools/list and an echo call (id "call-7")."""
    c = McpClient(proxy.url(server), http).open_session()
    assert "result" in c.request("tools/list")
    assert text_of(c.call_tool("echo", {"text": "hi"}, request_id="call-7")) == "hi"
    return c


def test_json_format_every_line_is_an_object_with_utc_time_level_and_message(
        start_proxy, mock_server_bin, http):
    proxy = start_proxy(mock_config(mock_server_bin, mock={}), "--log-format", "json",
                        "--log-level", "trace")
    c = some_traffic(http, proxy)
    assert c.delete().status_code < 300
    records = json_lines(stopped_output(proxy))
    assert len(records) > 10
    for r in records:
        assert re.fullmatch(ISO_UTC, r["time"]), r
        assert r["level"] in LEVELS, r
        assert isinstance(r["message"], str) and r["message"], r
    messages = [r["message"] for r in records]
    assert any(m.startswith("mcp-proxy ") and "listening on" in m for m in messages), messages
    # The fields a line names: the backend, the session (shortened) and its route.
    started = [r for r in records if r["message"].startswith("backend mock: ")]
    assert started and all(r["backend"] == "mock" for r in started), started
    initialized = [r for r in records if "initialized (client protocol" in r["message"]]
    assert len(initialized) == 1, initialized
    assert initialized[0]["route"] == "mock"
    assert initialized[0]["session"] == c.session_id[:8] + "...", initialized
    # The request line, with its fields as fields.
    calls = [r for r in records if r.get("method") == "tools/call"]
    assert len(calls) == 1, calls
    call = calls[0]
    assert call["level"] == "debug"
    assert {k: call[k] for k in ("route", "target", "backend", "outcome", "id")} == {
        "route": "mock", "target": "echo", "backend": "mock", "outcome": "ok", "id": "call-7"}
    assert isinstance(call["ms"], (int, float)) and call["ms"] >= 0
    assert call["message"].startswith("request route=mock method=tools/call target=echo ")


def test_text_lines_start_with_a_utc_time_and_the_level(start_proxy, mock_server_bin, http):
    proxy = start_proxy(mock_config(mock_server_bin, mock={}), "--log-level", "trace")
    some_traffic(http, proxy)
    lines = stopped_output(proxy)
    assert len(lines) > 10
    for line in lines:
        assert TEXT_LINE.match(line), line


def test_debug_logs_one_line_per_proxied_request(start_proxy, mock_server_bin, http):
    proxy = start_proxy(mock_config(mock_server_bin, mock={}), "--log-level", "debug")
    some_traffic(http, proxy)
    merged = McpClient(proxy.base_url + "/mcp", http).open_session()
    unknown = merged.call_tool("mock__no_such_tool", {}, request_id=99)
    assert "error" in unknown or unknown["result"].get("isError"), unknown
    assert text_of(merged.call_tool("mock__echo", {"text": "x"}, request_id=100)) == "x"
    lines = request_lines(stopped_output(proxy))
    echo = [x for x in lines if "route=mock method=tools/call target=echo " in x]
    assert len(echo) == 1, lines
    assert re.search(r" debug request route=mock method=tools/call target=echo backend=mock "
                     r"outcome=ok ms=\d+\.\d id=call-7 identity=peer:127\.0\.0\.1$", echo[0]), echo
    listed = [x for x in lines if "route=mock method=tools/list " in x]
    assert len(listed) == 1 and " outcome=ok " in listed[0], lines
    # The merged endpoint: route "", the backend that answered, the name the client used.
    via = [x for x in lines if "target=mock__echo" in x]
    assert len(via) == 1, lines
    assert 'route="" method=tools/call target=mock__echo backend=mock outcome=ok' in via[0]
    assert " id=100 " in via[0]
    refused = [x for x in lines if "target=mock__no_such_tool" in x]
    assert len(refused) == 1 and " id=99 " in refused[0], lines
    # initialize too: every request a client sent has its line.
    assert sum(" method=initialize " in x for x in lines) == 2, lines


def test_info_logs_no_request_lines(start_proxy, mock_server_bin, http):
    proxy = start_proxy(mock_config(mock_server_bin, mock={}))
    some_traffic(http, proxy)
    lines = stopped_output(proxy)
    assert request_lines(lines) == [], lines
    assert not any(" debug " in x or " trace " in x for x in lines)


def test_trace_shows_bodies_cut_at_2_kib_and_never_headers_or_tokens(start_proxy, mock_server_bin,
                                                                     http):
    config = mock_config(mock_server_bin, mock={})
    config["mcpProxy"]["options"] = {"authTokens": [TOKEN]}
    proxy = start_proxy(config, "--log-level", "trace")
    c = McpClient(proxy.url("mock"), http)
    auth = {"Authorization": f"Bearer {TOKEN}", "X-Custom-Header": "header-value-never-logged"}
    assert c.initialize().status == 401  # no token: refused
    reply = c.post({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                    "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                               "clientInfo": {"name": "t", "version": "1"}}}, headers=auth)
    assert reply.status == 200
    c.session_id = reply.headers["mcp-session-id"]
    assert c.notify("notifications/initialized", headers=auth).status == 202
    text = "x" * 5000
    body = json.dumps({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                       "params": {"name": "echo", "arguments": {"text": text}}}).encode()
    answer = c.post({"jsonrpc": "2.0", "id": 2, "method": "tools/call"}, raw=body, headers=auth)
    assert text_of(answer.response_to(2)) == text
    out = "\n".join(stopped_output(proxy))
    assert TOKEN not in out
    assert "header-value-never-logged" not in out and "X-Custom-Header" not in out
    lines = out.splitlines()

    def one(prefix: str) -> str:
        found = [x for x in lines if prefix in x and "x" * 100 in x]
        assert len(found) == 1, (prefix, [x[:200] for x in lines if prefix in x])
        return found[0]

    # The client's POST, as it came (cut at 2048 bytes, the whole length after).
    into = one(" trace client -> proxy POST /mock/mcp: ")
    assert into.endswith(f"... ({len(body)} bytes)"), into[-100:]
    excerpt = into.split("/mock/mcp: ", 1)[1]
    assert len(excerpt) == 2048 + len(f"... ({len(body)} bytes)")
    # To the backend and back, and to the client: each cut, each with its whole length.
    for prefix in (" trace backend mock: proxy -> backend: ", " trace backend mock: backend -> proxy: ",
                   " trace proxy -> client: "):
        line = one(prefix)
        m = re.search(r"\.\.\. \((\d+) bytes\)$", line)
        assert m and int(m.group(1)) > 5000, line[-100:]
        assert len(line.split(prefix, 1)[1]) < 2048 + 32


def test_a_session_id_never_appears_whole_in_the_logs(start_proxy, mock_server_bin, http):
    proxy = start_proxy(mock_config(mock_server_bin, mock={}, own={"sessionMode": "per-client"}),
                        "--log-level", "trace")
    ids = []
    for server in ("mock", "own"):
        c = some_traffic(http, proxy, server)
        ids.append(c.session_id)
        c.request("ping")
        assert c.delete().status_code < 300
    merged = McpClient(proxy.base_url + "/mcp", http).open_session()
    assert text_of(merged.call_tool("mock__echo", {"text": "m"})) == "m"
    ids.append(merged.session_id)
    with LegacySseSession(proxy.base_url + "/mock/sse") as legacy:
        legacy.initialize()
        legacy.notify("notifications/initialized")
        assert legacy.call_tool("echo", {"text": "legacy"})["result"]["content"][0]["text"] == \
            "legacy"
        ids.append(parse_qs(urlsplit(legacy.endpoint_url).query)["sessionId"][0])
    out = "\n".join(stopped_output(proxy))
    assert all(ids) and len(set(ids)) == 4, ids
    for sid in ids:
        assert len(sid) >= 16, sid
        assert sid not in out, sid
        assert sid[8:] not in out, sid  # nor its tail
    # Shortened, they are there: the lines still tell sessions apart.
    for sid in ids[:3]:
        assert f"session {sid[:8]}... on " in out, sid
    assert f"sessionId={ids[3][:8]}..." in out  # the legacy endpoint event, at trace


def run_proxy_once(mcp_proxy_bin, tmp_path, config: dict, *args: str) -> subprocess.CompletedProcess:
    file = tmp_path / "config.json"
    file.write_text(json.dumps(config))
    return subprocess.run([str(mcp_proxy_bin), "--config", str(file), "--addr", "127.0.0.1:0",
                           *args], stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=60)


@pytest.mark.parametrize("key,value,said", [
    ("logLevel", "verbose", 'unknown log level "verbose"; use one of trace, debug, info, warn, '
                            'warning, error, critical, off'),
    ("logLevel", "INFO", 'unknown log level "INFO"; use one of trace, debug, info'),
    ("logFormat", "xml", 'unknown log format "xml"; use "text" or "json"'),
])
def test_an_unknown_log_level_or_format_in_the_config_exits_2_with_the_names(
        mcp_proxy_bin, mock_server_bin, tmp_path, key, value, said):
    config = mock_config(mock_server_bin)
    config["mcpProxy"][key] = value
    done = run_proxy_once(mcp_proxy_bin, tmp_path, config)
    assert done.returncode == 2, (done.returncode, done.stderr[-2000:])
    assert f"$.mcpProxy.{key}: {said}" in done.stderr, done.stderr[-2000:]
    assert "listening on" not in done.stderr


def test_an_unknown_log_format_flag_is_refused(mcp_proxy_bin, mock_server_bin, tmp_path):
    done = run_proxy_once(mcp_proxy_bin, tmp_path, mock_config(mock_server_bin),
                          "--log-format", "xml")
    assert done.returncode != 0
    assert "--log-format" in done.stderr and "json" in done.stderr, done.stderr[-2000:]
    assert "listening on" not in done.stderr


def test_the_config_sets_level_and_format(start_proxy, mock_server_bin, http):
    config = mock_config(mock_server_bin, mock={})
    config["mcpProxy"].update({"logLevel": "debug", "logFormat": "json"})
    proxy = start_proxy(config)
    some_traffic(http, proxy)
    records = json_lines(stopped_output(proxy))
    assert any(r.get("method") == "tools/call" and r["level"] == "debug" for r in records)


def test_the_command_line_wins_over_the_config(start_proxy, mock_server_bin, http):
    config = mock_config(mock_server_bin, mock={})
    config["mcpProxy"].update({"logLevel": "debug", "logFormat": "json"})
    proxy = start_proxy(config, "--log-level", "info", "--log-format", "text")
    some_traffic(http, proxy)
    lines = stopped_output(proxy)
    for line in lines:
        assert TEXT_LINE.match(line), line
    assert request_lines(lines) == []


def test_log_enabled_logs_that_servers_requests_at_info(start_proxy, mock_server_bin, http):
    config = mock_config(mock_server_bin, loud={"options": {"logEnabled": True}}, quiet={})
    proxy = start_proxy(config)
    some_traffic(http, proxy, "loud")
    some_traffic(http, proxy, "quiet")
    lines = request_lines(stopped_output(proxy))
    loud = [x for x in lines if " route=loud " in x]
    assert any(" info request route=loud method=tools/call target=echo backend=loud " in x
               for x in loud), lines
    assert not any(" route=quiet " in x for x in lines), lines


def test_log_enabled_in_mcp_proxy_options_is_every_servers_default(start_proxy, mock_server_bin,
                                                                   http):
    config = mock_config(mock_server_bin, a={}, b={"options": {"logEnabled": False}})
    config["mcpProxy"]["options"] = {"logEnabled": True}
    proxy = start_proxy(config)
    some_traffic(http, proxy, "a")
    some_traffic(http, proxy, "b")
    lines = request_lines(stopped_output(proxy))
    assert any(" info request route=a method=tools/call " in x for x in lines), lines
    assert not any(" route=b " in x for x in lines), lines
