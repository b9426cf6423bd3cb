"""Who may call: static bearer tokens, CORS and safe exposure (issue #16, points 1, 5 and 7).

* Tokens (TBXark's semantics): mcpProxy.options.authTokens apply to every server without its own
  and to the merged endpoint and groups; a server's options.authTokens replace them (an explicit
  [] opens that server). The token is read from `Authorization: Bearer` only, scheme in any case
  (RFC 6750 section 2.1, RFC 9110 section 11.1), never from the query string (the spec's
  authorization section: tokens MUST NOT be in the URI query string).
* Refusals follow RFC 6750 section 3: 401 with a `WWW-Authenticate: Bearer` challenge, no error
  code when no credential was sent (3.1: SHOULD NOT), `invalid_token` for a wrong one, 400
  `invalid_request` for a malformed one. A refusal looks the same whether the route, the server
  or the session exists.
* Tokens come from the config, `${ENV}` or authTokensFile, and never appear in the log.
* CORS: a preflight from an allowed origin gets the methods and the MCP headers, a refused origin
  gets 403 without CORS headers, answers expose Mcp-Session-Id.
* Binding beyond loopback with a route that needs no token is refused unless allowed.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
from pathlib import Path

import httpx
import pytest

from conftest import HTTP_TIMEOUT_S, McpClient, mock_config, wait_until

GLOBAL = "global-token_1.x"
OWN = "own~token+2/="
FROM_ENV = "env-token-3"
FROM_FILE = "file-token-4"

INITIALIZE = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
              "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                         "clientInfo": {"name": "auth-test", "version": "1"}}}
# auth-param = token BWS "=" BWS ( token / quoted-string ), RFC 9110 section 11.2.
AUTH_PARAM = re.compile(r'([!#$%&\'*+.^_`|~0-9A-Za-z-]+)="((?:[^"\\]|\\.)*)"')
HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


def bearer(token: str, scheme: str = "Bearer") -> dict:
    return {**HEADERS, "Authorization": f"{scheme} {token}"}


@pytest.fixture
def http():
    with httpx.Client(timeout=HTTP_TIMEOUT_S) as client:
        yield client


@pytest.fixture
def proxy(start_proxy, mock_server_bin, tmp_path):
    token_file = tmp_path / "tokens"
    token_file.write_text(f"# the CI bot\nci-bot:{FROM_FILE}\n\n")
    token_file.chmod(0o600)
    config = mock_config(mock_server_bin, inherits={}, own={"options": {"authTokens": [OWN]}},
                         open={"options": {"authTokens": []}},
                         named={"options": {"authTokens": [{"name": "deployer", "token": "${AUTH_TEST_TOKEN}"}],
                                            "authTokensFile": str(token_file)}})
    config["mcpProxy"]["options"] = {"authTokens": [GLOBAL]}
    config["mcpProxy"]["groups"] = {"team": {"servers": ["inherits", "own"]}}
    os.environ["AUTH_TEST_TOKEN"] = FROM_ENV
    try:
        return start_proxy(config)
    finally:
        del os.environ["AUTH_TEST_TOKEN"]


def post(http, url: str, headers: dict, body: dict = INITIALIZE) -> httpx.Response:
    return http.post(url, content=json.dumps(body), headers=headers)


def challenge_params(header: str) -> dict:
    """The auth-params of one Bearer challenge (RFC 9110 section 11.2), unquoted."""
    assert header.startswith("Bearer "), header
    rest = header[len("Bearer "):]
    params = dict(AUTH_PARAM.findall(rest))
    # Nothing but comma-separated auth-params: the whole header is accounted for.
    assert AUTH_PARAM.sub("", rest).replace(",", "").strip() == "", header
    return params


def test_a_route_without_a_token_gets_401_with_a_bearer_challenge_and_no_error_code(proxy, http):
    r = post(http, proxy.url("inherits"), HEADERS)
    assert r.status_code == 401
    params = challenge_params(r.headers["www-authenticate"])
    # RFC 6750 section 3.1: no error code when the request had no authentication information.
    assert "error" not in params and params["realm"] == "mcp-proxy"
    assert r.json()["error"]["code"] == -32600 and r.json()["id"] == 1


def test_a_wrong_token_gets_invalid_token(proxy, http):
    r = post(http, proxy.url("inherits"), bearer("not-the-token"))
    assert r.status_code == 401
    assert challenge_params(r.headers["www-authenticate"])["error"] == "invalid_token"


@pytest.mark.parametrize("header", ["Bearer", "Bearer =", "Bearer two tokens", "Bearer t\u00e9"])
def test_a_malformed_bearer_credential_gets_400_invalid_request(proxy, http, header):
    r = http.post(proxy.url("inherits"), content=json.dumps(INITIALIZE).encode(),
                  headers={**HEADERS, "Authorization": header.encode("utf-8")})
    assert r.status_code == 400
    assert challenge_params(r.headers["www-authenticate"])["error"] == "invalid_request"


def test_two_authorization_fields_are_refused(proxy, http):
    raw = httpx.Headers([("Accept", HEADERS["Accept"]), ("Content-Type", "application/json"),
                         ("Authorization", f"Bearer {GLOBAL}"), ("Authorization", f"Bearer {GLOBAL}")])
    r = http.post(proxy.url("inherits"), content=json.dumps(INITIALIZE), headers=raw)
    assert r.status_code == 400


def test_another_scheme_counts_as_no_credential(proxy, http):
    r = post(http, proxy.url("inherits"), {**HEADERS, "Authorization": "Basic dXNlcjpwYXNz"})
    assert r.status_code == 401
    assert "error" not in challenge_params(r.headers["www-authenticate"])


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER", "bEaReR"])
def test_the_scheme_is_case_insensitive(proxy, http, scheme):
    assert post(http, proxy.url("inherits"), bearer(GLOBAL, scheme)).status_code == 200


def test_a_token_in_the_query_string_is_never_accepted(proxy, http):
    # Spec 2025-11-25 basic/authorization, Token Requirements: MUST NOT be in the query string.
    for name in ("access_token", "token", "authToken"):
        r = post(http, proxy.url("inherits") + f"?{name}={GLOBAL}", HEADERS)
        assert r.status_code == 401, name


def test_global_tokens_apply_to_servers_without_their_own_and_to_merged_routes(proxy, http):
    for route in ("inherits", "team"):
        assert post(http, proxy.url(route), bearer(GLOBAL)).status_code == 200, route
        assert post(http, proxy.url(route), bearer(OWN)).status_code == 401, route
    merged = f"{proxy.base_url}/mcp"
    assert post(http, merged, bearer(GLOBAL)).status_code == 200
    assert post(http, merged, bearer(OWN)).status_code == 401


def test_a_servers_own_tokens_replace_the_global_ones(proxy, http):
    assert post(http, proxy.url("own"), bearer(OWN)).status_code == 200
    assert post(http, proxy.url("own"), bearer(GLOBAL)).status_code == 401
    # An explicit empty list: that server needs no token (TBXark's nil-versus-empty rule).
    assert post(http, proxy.url("open"), HEADERS).status_code == 200


def test_tokens_from_env_and_from_a_file(proxy, http):
    for token in (FROM_ENV, FROM_FILE):
        assert post(http, proxy.url("named"), bearer(token)).status_code == 200, token
    assert post(http, proxy.url("named"), bearer(GLOBAL)).status_code == 401


def _refusal(r: httpx.Response) -> tuple:
    return r.status_code, r.headers.get("www-authenticate"), r.content


def test_a_refusal_is_the_same_whether_route_server_or_session_exist(proxy, http):
    """Without a valid token nothing tells which servers, routes or sessions exist."""
    client = McpClient(proxy.url("inherits"), http)
    reply = client.post(INITIALIZE, headers={"Authorization": f"Bearer {GLOBAL}"})
    assert reply.status == 200
    session = reply.headers["mcp-session-id"]
    ping = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
    for credential in ({}, {"Authorization": "Bearer wrong"}):
        headers = {**HEADERS, **credential, "MCP-Protocol-Version": "2025-11-25"}
        answers = {
            "existing session": post(http, proxy.url("inherits"),
                                     {**headers, "Mcp-Session-Id": session}, ping),
            "unknown session": post(http, proxy.url("inherits"),
                                    {**headers, "Mcp-Session-Id": "f" * 32}, ping),
            "unknown server": post(http, proxy.url("no-such-server"), headers, ping),
            "no route at all": post(http, f"{proxy.base_url}/x/y/z", headers, ping),
            "legacy message endpoint": post(http, f"{proxy.base_url}/inherits/message?sessionId=abc",
                                            headers, ping),
        }
        shapes = {what: _refusal(r) for what, r in answers.items()}
        assert len(set(shapes.values())) == 1, shapes
        assert next(iter(shapes.values()))[0] == 401
    # With a valid token, what does not exist is a plain 404.
    assert post(http, proxy.url("no-such-server"), bearer(GLOBAL), ping).status_code == 404


def test_the_legacy_sse_stream_needs_the_token_too(proxy, http):
    url = f"{proxy.base_url}/inherits/sse"
    with http.stream("GET", url, headers={"Accept": "text/event-stream"}) as r:
        assert r.status_code == 401
    with http.stream("GET", url, headers={"Accept": "text/event-stream",
                                          "Authorization": f"Bearer {GLOBAL}"}) as r:
        assert r.status_code == 200
        first = next(r.iter_lines())
        assert first.startswith("event: endpoint"), first


def test_health_needs_no_token(proxy, http):
    assert http.get(f"{proxy.base_url}/health").status_code == 200


def test_tokens_never_reach_the_log(proxy, http):
    for token in (GLOBAL, OWN, FROM_ENV, FROM_FILE):
        post(http, proxy.url("inherits"), bearer(token))
        post(http, proxy.url("named"), bearer(token))
    post(http, proxy.url("inherits"), bearer("a-wrong-token-xyz"))
    out = proxy.output()
    for token in (GLOBAL, OWN, FROM_ENV, FROM_FILE, "a-wrong-token-xyz"):
        assert token not in out


def test_the_banner_says_which_routes_need_a_token(proxy):
    # The lines after "listening on" may still be on their way through the output pipe.
    assert wait_until(lambda: "group team:" in proxy.output(), 10), proxy.output()
    out = proxy.output()
    line = next(l for l in out.splitlines() if "server open:" in l)
    assert "no token needed" in line
    line = next(l for l in out.splitlines() if "server named:" in l)
    assert "2 token(s)" in line


# --------------------------------------------------------------------------------------------
# Config errors


def run_proxy(mcp_proxy_bin: Path, tmp_path: Path, config: dict, *args: str,
              timeout: float = 60) -> subprocess.CompletedProcess:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    return subprocess.run([str(mcp_proxy_bin), "--config", str(path), *args],
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize("tokens, expected", [
    (["has space"], "$.mcpProxy.options.authTokens[0]: a token may hold only"),
    ([""], "$.mcpProxy.options.authTokens[0]: a token must not be empty"),
    ([{"name": "x"}], "$.mcpProxy.options.authTokens[0]: missing required key \"token\""),
    ("one-token", "$.mcpProxy.options.authTokens: expected an array of tokens"),
])
def test_bad_tokens_are_config_errors(mcp_proxy_bin, mock_server_bin, tmp_path, tokens, expected):
    config = mock_config(mock_server_bin)
    config["mcpProxy"]["options"] = {"authTokens": tokens}
    done = run_proxy(mcp_proxy_bin, tmp_path, config)
    assert done.returncode == 2, done.stderr
    assert expected in done.stderr


def test_an_unreadable_token_file_is_a_config_error(mcp_proxy_bin, mock_server_bin, tmp_path):
    config = mock_config(mock_server_bin)
    config["mcpProxy"]["options"] = {"authTokensFile": str(tmp_path / "missing")}
    done = run_proxy(mcp_proxy_bin, tmp_path, config)
    assert done.returncode == 2
    assert "$.mcpProxy.options.authTokensFile: cannot read" in done.stderr


def test_credentials_with_any_origin_is_a_config_error(mcp_proxy_bin, mock_server_bin, tmp_path):
    config = mock_config(mock_server_bin)
    config["mcpProxy"]["allowedOrigins"] = ["*"]
    config["mcpProxy"]["cors"] = {"allowCredentials": True}
    done = run_proxy(mcp_proxy_bin, tmp_path, config)
    assert done.returncode == 2
    assert "$.mcpProxy.cors.allowCredentials" in done.stderr


# --------------------------------------------------------------------------------------------
# Safe exposure (point 7). No test binds beyond loopback: the refusal comes before the bind, and
# the accepted cases are shown by a bind that fails on a port a loopback socket of the test holds
# (Linux refuses 0.0.0.0:P while 127.0.0.1:P listens).


@pytest.fixture
def held_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    yield s.getsockname()[1]
    s.close()


def test_serving_beyond_loopback_without_tokens_is_refused(mcp_proxy_bin, mock_server_bin, tmp_path,
                                                           held_port):
    config = mock_config(mock_server_bin, a={}, b={"options": {"authTokens": [OWN]}})
    done = run_proxy(mcp_proxy_bin, tmp_path, config, "--addr", f"0.0.0.0:{held_port}")
    assert done.returncode == 2
    assert "need no token: /mcp, /a/mcp." in done.stderr, done.stderr
    assert "--allow-unauthenticated" in done.stderr
    assert "cannot listen" not in done.stderr  # refused before binding


@pytest.mark.parametrize("how", ["flag", "config", "tokens"])
def test_serving_beyond_loopback_is_allowed_when_asked_or_authenticated(
        mcp_proxy_bin, mock_server_bin, tmp_path, held_port, how):
    config = mock_config(mock_server_bin)
    args = ["--addr", f"0.0.0.0:{held_port}"]
    if how == "flag":
        args.append("--allow-unauthenticated")
    elif how == "config":
        config["mcpProxy"]["allowUnauthenticated"] = True
    else:
        config["mcpProxy"]["options"] = {"authTokens": [GLOBAL]}
    done = run_proxy(mcp_proxy_bin, tmp_path, config, *args)
    assert done.returncode == 2
    assert "need no token" not in done.stderr
    assert f"cannot listen on 0.0.0.0:{held_port}" in done.stderr, done.stderr


# --------------------------------------------------------------------------------------------
# CORS (point 5); the browser itself is test_cors_browser.py


@pytest.fixture
def cors_proxy(start_proxy, mock_server_bin):
    config = mock_config(mock_server_bin, mock={})
    config["mcpProxy"]["allowedOrigins"] = ["https://app.example"]
    config["mcpProxy"]["options"] = {"authTokens": [GLOBAL]}
    return start_proxy(config)


def test_a_preflight_from_an_allowed_origin(cors_proxy, http):
    r = http.options(cors_proxy.url("mock"), headers={
        "Origin": "https://app.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type, mcp-session-id, "
                                          "mcp-param-region, x-unknown"})
    assert r.status_code == 204
    assert r.headers["access-control-allow-origin"] == "https://app.example"
    assert "access-control-allow-credentials" not in r.headers
    methods = {m.strip() for m in r.headers["access-control-allow-methods"].split(",")}
    assert {"GET", "POST", "DELETE"} <= methods
    allowed = {h.strip().lower() for h in r.headers["access-control-allow-headers"].split(",")}
    assert {"authorization", "content-type", "mcp-session-id", "mcp-protocol-version",
            "last-event-id", "mcp-method", "mcp-name", "mcp-param-region"} <= allowed
    assert "x-unknown" not in allowed
    assert int(r.headers["access-control-max-age"]) > 0
    assert "origin" in r.headers["vary"].lower()


def test_a_preflight_from_a_refused_origin(cors_proxy, http):
    r = http.options(cors_proxy.url("mock"), headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert r.status_code == 403
    assert not any(k.lower().startswith("access-control-") for k in r.headers)


def test_answers_to_an_allowed_origin_expose_the_session_header(cors_proxy, http):
    r = post(http, cors_proxy.url("mock"), {**bearer(GLOBAL), "Origin": "https://app.example"})
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == "https://app.example"
    exposed = {h.strip().lower() for h in r.headers["access-control-expose-headers"].split(",")}
    assert "mcp-session-id" in exposed and "www-authenticate" in exposed
    # A refusal is readable by the page too (it must see the challenge).
    r = post(http, cors_proxy.url("mock"), {**HEADERS, "Origin": "https://app.example"})
    assert r.status_code == 401
    assert r.headers["access-control-allow-origin"] == "https://app.example"
