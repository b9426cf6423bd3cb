"""Liveness and readiness probes (issue #17, "Supervision and readiness").

* GET /healthz (and TBXark's /health): 200 {"status": "ok"} while the process serves.
* GET /readyz: 200 when mcpProxy.readiness holds ("all" enabled backends ready, the default;
  "any"; or {"servers": [...]}), else 503; the body lists every backend with its state, since,
  last error, restarts, era and transport.
* Both need no token, also on a proxy that requires tokens, and the body says nothing beyond
  backend names, states and the error texts clients get anyway (no command, path, URL or token).
"""

from __future__ import annotations

import json
import re
import subprocess
from typing import Callable, Iterator

import httpx
import pytest

from conftest import HTTP_TIMEOUT_S, closed_port, mock_config, wait_until

# A backend down at start is retried after 1, 2, 4, 8 s ...: it joins within this once it is up.
JOIN_TIMEOUT_S = 45.0
ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
BACKEND_KEYS = {"state", "since", "lastError", "restarts", "era", "transport"}


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=HTTP_TIMEOUT_S) as client:
        yield client


def failing() -> dict:
    """A stdio backend that exits at once: it never initializes."""
    return {"command": "/bin/false", "timeout": "5s"}


def readyz(http: httpx.Client, proxy, prefix: str = "") -> httpx.Response:
    return http.get(f"{proxy.base_url}{prefix}/readyz")


def poll_readyz(http: httpx.Client, proxy, done: Callable[[httpx.Response], bool],
                timeout_s: float) -> httpx.Response:
    """Polls /readyz every 0.25 s, bounded in time (and so in count); the last answer."""
    last: list = []

    def check() -> bool:
        last[:] = [readyz(http, proxy)]
        return done(last[0])

    wait_until(check, timeout_s, 0.25)
    return last[0]


def state_of(r: httpx.Response, name: str) -> str:
    return r.json()["backends"][name]["state"]


def test_healthz_and_health_answer_ok_while_the_process_serves(start_proxy, mock_server_bin, http):
    """Liveness says nothing of backends: a backend that cannot start does not change it."""
    proxy = start_proxy(mock_config(mock_server_bin, mock={}, broken=failing()))
    for path in ("/healthz", "/health"):
        r = http.get(proxy.base_url + path)
        assert r.status_code == 200, (path, r.text)
        assert r.json() == {"status": "ok"}
        assert r.headers["content-type"].startswith("application/json")
        head = http.head(proxy.base_url + path)
        assert head.status_code == 200 and head.content == b""
        refused = http.post(proxy.base_url + path, json={})
        assert refused.status_code == 405
        assert refused.headers["allow"] == "GET, HEAD"
    assert readyz(http, proxy).status_code == 503


def test_readyz_is_200_with_every_backend_up_and_lists_each(start_proxy, mock_server_bin, http):
    config = mock_config(mock_server_bin, shared={"sessionMode": "shared"},
                         legacy={"protocol": "2025-11-25"},
                         own={"sessionMode": "per-client"})
    config["mcpServers"]["off"] = {"url": "http://127.0.0.1:9/mcp", "transportType": "sse",
                                   "options": {"disabled": True}}
    proxy = start_proxy(config)
    r = readyz(http, proxy)
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store"
    body = r.json()
    assert set(body) == {"ready", "rule", "backends"}
    assert body["ready"] is True and body["rule"] == "all"
    backends = body["backends"]
    assert set(backends) == {"shared", "legacy", "own", "off"}
    for name, b in backends.items():
        assert set(b) == BACKEND_KEYS, (name, b)
        assert ISO_UTC.match(b["since"]), b
        assert b["lastError"] is None and b["restarts"] == 0, (name, b)
    for name in ("shared", "legacy", "own"):
        assert backends[name]["state"] == "ready", backends
        assert backends[name]["transport"] == "stdio"
    # "protocol": "auto": the era its link detected (the mock speaks 2025-11-25 by default); a
    # per-client server has no backend of its own to ask until a session starts one.
    assert backends["shared"]["era"] == "2025-11-25", backends
    assert backends["own"]["era"] is None, backends
    assert backends["legacy"]["era"] == "2025-11-25"
    assert backends["off"] == {**backends["off"], "state": "disabled", "transport": "sse",
                               "era": None}
    head = http.head(proxy.base_url + "/readyz")
    assert head.status_code == 200 and head.content == b""


def test_a_backend_that_fails_to_start_makes_readyz_503_under_all(start_proxy, mock_server_bin,
                                                                  http):
    proxy = start_proxy(mock_config(mock_server_bin, good={}, broken=failing()))
    r = readyz(http, proxy)
    assert r.status_code == 503, r.text
    body = r.json()
    assert body["ready"] is False and body["rule"] == "all"
    assert body["backends"]["good"]["state"] == "ready"
    broken = body["backends"]["broken"]
    assert broken["state"] == "backing-off", broken
    assert "broken" in broken["lastError"], broken
    assert "/bin/false" not in r.text
    # It is started again with a growing delay (1 s, 2 s, ...): the count goes up.
    r = poll_readyz(http, proxy, lambda r: r.json()["backends"]["broken"]["restarts"] >= 1, 15)
    assert r.json()["backends"]["broken"]["restarts"] >= 1, r.text
    assert r.status_code == 503


@pytest.mark.parametrize("rule", ["any", {"servers": ["good"]}])
def test_a_rule_that_does_not_need_the_broken_backend_is_200(start_proxy, mock_server_bin, http,
                                                             rule):
    config = mock_config(mock_server_bin, good={}, broken=failing())
    config["mcpProxy"]["readiness"] = rule
    proxy = start_proxy(config)
    r = readyz(http, proxy)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["ready"] is True
    assert body["rule"] == ("any" if rule == "any" else "servers:good")
    assert body["backends"]["broken"]["state"] == "backing-off"


def test_a_rule_naming_the_broken_backend_is_503(start_proxy, mock_server_bin, http):
    config = mock_config(mock_server_bin, good={}, broken=failing())
    config["mcpProxy"]["readiness"] = {"servers": ["good", "broken"]}
    proxy = start_proxy(config)
    assert readyz(http, proxy).status_code == 503


def test_a_slow_backend_goes_from_starting_to_ready(start_proxy, mock_server_bin, http):
    """The listener opens after fanOutTimeout without the slow backend (issue #17: it joins as
    it comes up); /readyz says "starting" until it does."""
    config = mock_config(mock_server_bin, here={},
                         slow={"command": "bash", "args": ["-c", f"sleep 8; exec {mock_server_bin}"],
                               "timeout": "30s"})
    config["mcpProxy"]["fanOutTimeout"] = "1s"
    proxy = start_proxy(config)
    first = readyz(http, proxy)
    assert first.status_code == 503, first.text
    assert state_of(first, "slow") == "starting", first.text
    # "here" is up or on its way (an ASan build on a busy machine may take longer than 1 s).
    assert state_of(first, "here") in ("starting", "ready"), first.text
    r = poll_readyz(http, proxy, lambda r: r.status_code == 200, JOIN_TIMEOUT_S)
    assert r.status_code == 200, f"{r.text}\n{proxy.output()[-3000:]}"
    slow = r.json()["backends"]["slow"]
    assert slow["state"] == "ready" and slow["restarts"] == 0 and slow["lastError"] is None
    assert slow["since"] > first.json()["backends"]["slow"]["since"]


def test_a_backend_down_at_start_goes_from_backing_off_to_ready(start_proxy, start_mock_http,
                                                                mock_server_bin, http):
    port = closed_port()
    url = f"http://127.0.0.1:{port}/mock/mcp"
    config = mock_config(mock_server_bin, here={})
    config["mcpServers"]["late"] = {"url": url, "transportType": "streamable-http",
                                    "timeout": "10s"}
    proxy = start_proxy(config)
    first = readyz(http, proxy)
    assert first.status_code == 503, first.text
    late = first.json()["backends"]["late"]
    assert late["state"] == "backing-off" and late["transport"] == "streamable-http", late
    assert late["lastError"] and str(port) not in late["lastError"], late
    start_mock_http("--http", f"127.0.0.1:{port}")
    r = poll_readyz(http, proxy, lambda r: r.status_code == 200, JOIN_TIMEOUT_S)
    assert r.status_code == 200, f"{r.text}\n{proxy.output()[-3000:]}"
    late = r.json()["backends"]["late"]
    assert late["state"] == "ready" and late["restarts"] >= 1, late
    assert late["lastError"], "the last error stays for the operator"
    assert url not in r.text


def test_probes_need_no_token_and_reveal_no_secret(start_proxy, mock_server_bin, http):
    token = "probe-secret-token-1234"
    config = mock_config(mock_server_bin, good={"env": {"SECRET": "env-secret-5678"}},
                         broken=failing())
    config["mcpProxy"]["options"] = {"authTokens": [token]}
    config["mcpProxy"]["baseURL"] = "http://127.0.0.1:9/api"
    proxy = start_proxy(config)
    # The MCP routes need the token ...
    refused = http.post(proxy.base_url + "/api/good/mcp", json={})
    assert refused.status_code == 401, refused.text
    # ... the probes do not, at the root and under baseURL's path.
    for prefix in ("", "/api"):
        assert http.get(f"{proxy.base_url}{prefix}/healthz").status_code == 200
        r = readyz(http, proxy, prefix)
        assert r.status_code == 503, r.text
        assert set(r.json()["backends"]) == {"good", "broken"}
        for secret in (token, "env-secret-5678", str(mock_server_bin), "/bin/false"):
            assert secret not in r.text, secret
    # A token is not needed, and a wrong one is not refused: the probes do not look.
    r = http.get(proxy.base_url + "/readyz", headers={"Authorization": "Bearer wrong"})
    assert r.status_code == 503


def test_readyz_checks_host_as_the_mcp_routes_do(start_proxy, mock_server_bin, http):
    """A page that rebinds its name to the loopback listener learns no server names; liveness
    stays open to any Host."""
    proxy = start_proxy(mock_config(mock_server_bin, good={}))
    rebound = {"Host": "attacker.example"}
    r = http.get(proxy.base_url + "/readyz", headers=rebound)
    assert r.status_code == 403, r.text
    assert "good" not in r.text
    assert http.get(proxy.base_url + "/healthz", headers=rebound).status_code == 200
    assert http.get(proxy.base_url + "/readyz", headers={"Host": "localhost:1"}).status_code == 200


def test_an_unknown_server_in_the_rule_is_a_config_error(mock_server_bin, mcp_proxy_bin,
                                                         tmp_path):
    config = mock_config(mock_server_bin, good={})
    config["mcpProxy"]["readiness"] = {"servers": ["good", "nope"]}
    path = tmp_path / "proxy.json"
    path.write_text(json.dumps(config))
    done = subprocess.run([str(mcp_proxy_bin), "--config", str(path), "--addr", "127.0.0.1:0"],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 2, done.stderr
    assert "$.mcpProxy.readiness.servers[1]: no server is named \"nope\"" in done.stderr
