"""Backend credentials: a server's clientCredentials (OAuth 2.1 client credentials grant, RFC 6749
section 4.4) give mcp-proxy a bearer token for an HTTP backend.

The backend is the mock over HTTP with `--bearer-token-file`: every request must carry
`Authorization: Bearer <the file's content>`, read per request, else 401. The token endpoint is
played here (`TokenServer`, http or https with a throw-away CA): it checks the HTTP Basic client
credentials (RFC 6749 section 2.3.1) and the form (grant_type, scope, resource), issues tokens
tok-1-..., tok-2-..., each with a short expires_in, and writes the one valid token into the
mock's file; when a token expires the file is emptied, so a request with an expired token would
be refused (the mock logs each refusal). The tests check that calls through the proxy work, that
a token near expiry is replaced before it is used, that a revoked token costs one fetch and one
retried POST, that a refusing token endpoint fails the call with an error naming the backend
while the proxy keeps running, that bad configs are refused at start with the path named, and
that neither the secret nor a token ever shows up in the proxy's output.

Proxy-specific (mcp-proxy's config): skipped against an external server.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

import httpx
import pytest

from conftest import STARTUP_TIMEOUT_S, McpClient, ProxyProcess, text_of, wait_until
from oauth_fixtures import Pki, _Handler, _TestServer, make_pki, read_client_form

BACKEND_UNAVAILABLE = -32000
CLIENT_ID = "mcp-proxy client"  # a space: the Basic credentials are form-encoded first
CALL_TIMEOUT = "20s"


@pytest.fixture(autouse=True)
def _proxy_only(request) -> None:
    from conftest import _skip_if_external
    _skip_if_external(request)


# ---------------------------------------------------------------------------------------------
# The token endpoint


class TokenServer(_TestServer):
    """POST /oauth/token: the client credentials grant. Checks the request (a broken rule is
    answered 400/401 and recorded in `errors`), then issues `tok-N-<random>` with `expires_in`
    and writes it into `token_file`; a timer empties the file when the token expires. With
    `refuse` set, answers that status and OAuth error instead."""

    PATH = "/oauth/token"

    def __init__(self, token_file: Path, *, secret: str, expires_in: float = 300,
                 scope: Optional[str] = None, resource: Optional[str] = None,
                 context: Any = None):
        self.token_file = token_file
        self.secret = secret
        self.expires_in = expires_in
        self.scope = scope
        self.resource = resource
        self.refuse: Optional[tuple[int, str]] = None
        self.errors: list[str] = []
        self.issued: list[tuple[str, float]] = []  # (token, monotonic time issued)
        self.forms: list[dict] = []
        self._timers: list[threading.Timer] = []
        token_file.write_text("")
        super().__init__("token-endpoint", context)

    @property
    def url(self) -> str:
        return f"{self.origin}{self.PATH}"

    @property
    def fetches(self) -> int:
        with self._cond:
            return len(self.forms)

    def tokens(self) -> list[str]:
        with self._cond:
            return [t for t, _ in self.issued]

    def last_issued_at(self) -> float:
        with self._cond:
            return self.issued[-1][1]

    def _refuse(self, h: _Handler, status: int, why: str, error: str) -> None:
        with self._cond:
            self.errors.append(why)
            self._cond.notify_all()
        h.reply(status, {"error": error, "error_description": why})

    def _expire(self, token: str) -> None:
        with self._cond:
            if self.issued and self.issued[-1][0] == token:
                self.token_file.write_text("")

    def _serve(self, h: _Handler, method: str) -> None:
        if method != "POST" or h.path.split("?", 1)[0] != self.PATH:
            h.reply(404, {"error": "not_found"})
            return
        form = read_client_form(h, CLIENT_ID, self.secret, self._refuse)
        if form is None:
            return
        if "application/json" not in h.headers.get("Accept", ""):
            self._refuse(h, 400, "no Accept: application/json", "invalid_request")
            return
        with self._cond:
            self.forms.append(form)
        expected = {"grant_type": ["client_credentials"]}
        if self.scope is not None:
            expected["scope"] = [self.scope]
        if self.resource is not None:
            expected["resource"] = [self.resource]
        if form != expected:
            self._refuse(h, 400, f"form {form}, expected {expected}", "invalid_request")
            return
        if self.refuse is not None:
            status, error = self.refuse
            h.reply(status, {"error": error, "error_description": "refused by the test"})
            return
        with self._cond:
            token = f"tok-{len(self.issued) + 1}-{secrets.token_hex(12)}"
            self.issued.append((token, time.monotonic()))
            self.token_file.write_text(token + "\n")  # the mock trims it
            timer = threading.Timer(self.expires_in, self._expire, args=(token,))
            timer.daemon = True
            self._timers.append(timer)
            timer.start()
            self._cond.notify_all()
        h.reply(200, {"access_token": token, "token_type": "Bearer",
                      "expires_in": self.expires_in, "scope": self.scope or ""})

    def close(self) -> None:
        with self._cond:
            timers = list(self._timers)
        for t in timers:
            t.cancel()
        super().close()


# ---------------------------------------------------------------------------------------------
# Fixtures and helpers


class Setup:
    """A token endpoint, the mock behind --bearer-token-file, and the proxies of one test."""

    def __init__(self, folder: Path, start_mock_http: Callable, start_proxy: Callable):
        self.folder = folder
        self.secret = "s3cret-" + secrets.token_hex(16)
        self.token_file = folder / "backend-token"
        self._start_mock_http = start_mock_http
        self._start_proxy = start_proxy
        self.tokens: Optional[TokenServer] = None
        self.mock = None
        self.proxies: list[ProxyProcess] = []

    def token_server(self, **kw: Any) -> TokenServer:
        self.tokens = TokenServer(self.token_file, secret=self.secret, **kw)
        return self.tokens

    def start_mock(self) -> Any:
        self.mock = self._start_mock_http("--bearer-token-file", str(self.token_file))
        return self.mock

    def credentials(self, **extra: Any) -> dict:
        assert self.tokens is not None
        c = {"tokenEndpoint": self.tokens.url, "clientId": CLIENT_ID,
             "clientSecret": self.secret}
        if self.tokens.scope is not None:
            c["scope"] = self.tokens.scope
        if self.tokens.resource is not None:
            c["resource"] = self.tokens.resource
        c.update(extra)
        return c

    def proxy(self, transport: str = "streamable-http", session_mode: str = "shared",
              **credentials: Any) -> ProxyProcess:
        kind = "sse" if transport == "sse" else "mcp"
        server = {"url": self.mock.url(kind), "transportType": transport,
                  "timeout": CALL_TIMEOUT, "sessionMode": session_mode,
                  "clientCredentials": self.credentials(**credentials)}
        p = self._start_proxy({"mcpProxy": {"addr": "127.0.0.1:0"}, "mcpServers": {"api": server}})
        self.proxies.append(p)
        return p

    def refusals(self) -> int:
        """Requests the mock refused for want of the right token."""
        return self.mock.output().count("refused: no or wrong bearer token")

    def leaked(self) -> list[str]:
        """The secret or tokens in any proxy's output."""
        issued = self.tokens.tokens() if self.tokens else []
        out = "".join(p.output() for p in self.proxies)
        return [c for c in [self.secret, *issued] if c in out]


@pytest.fixture
def env(tmp_path, start_mock_http, start_proxy) -> Iterator[Setup]:
    s = Setup(tmp_path, start_mock_http, start_proxy)
    yield s
    for p in s.proxies:  # stopped first, so their last words are in the output checked
        p.stop()
    leaked = s.leaked()
    if s.tokens is not None:
        s.tokens.close()
    assert not leaked, f"credentials in the proxy's output: {leaked}"


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30.0, trust_env=False) as c:
        yield c


def client(proxy: ProxyProcess, http: httpx.Client) -> McpClient:
    return McpClient(proxy.url("api"), http).open_session()


def echo(c: McpClient, text: str) -> dict:
    return c.call_tool("echo", {"text": text})


def error_of_a_call(proxy: ProxyProcess, http: httpx.Client) -> str:
    """The error message a client gets when the backend cannot be used: initialize's (the proxy
    starts the backend for it), else the echo call's."""
    c = McpClient(proxy.url("api"), http)
    reply = c.initialize()
    if reply.status == 200 and reply.messages and "result" in reply.response_to(1):
        c.notify("notifications/initialized")
        response = echo(c, "x")
        assert "error" in response, response
        return response["error"]["message"]
    if reply.messages:
        return json.dumps(reply.response_to(1).get("error"))
    return f"HTTP {reply.status}: " + reply.body.decode("utf-8", "replace")


def assert_echo(c: McpClient, text: str) -> None:
    response = echo(c, text)
    assert text_of(response) == text, response


# ---------------------------------------------------------------------------------------------
# Tests


@pytest.mark.parametrize("transport", ["streamable-http", "sse"])
def test_calls_carry_a_token_from_the_token_endpoint(env, http, transport):
    tokens = env.token_server(scope="mcp:read mcp:call", resource="https://api.example/mcp")
    env.start_mock()
    proxy = env.proxy(transport)
    c = client(proxy, http)
    for i in range(3):
        assert_echo(c, f"hello {i}")
    assert tokens.errors == []
    # One token served every request (the GET stream and DELETE included): no refusal, one fetch.
    assert tokens.fetches == 1, tokens.forms
    assert env.refusals() == 0, env.mock.output()[-3000:]


def test_per_client_sessions_share_one_token(env, http):
    tokens = env.token_server(expires_in=600)
    env.start_mock()
    proxy = env.proxy(session_mode="per-client")
    clients = [client(proxy, http) for _ in range(3)]  # a backend connection each
    for i, c in enumerate(clients):
        assert_echo(c, f"client {i}")
    assert tokens.fetches == 1, "every connection with the same credentials shares the token"
    assert env.refusals() == 0


def test_an_https_token_endpoint_is_trusted_through_ca_file(env, http, tmp_path):
    pki: Pki = make_pki(tmp_path / "pki", "token-endpoint")
    tokens = env.token_server(scope="mcp", context=pki.server_context())
    env.start_mock()
    proxy = env.proxy(caFile=str(pki.ca_file))
    assert_echo(client(proxy, http), "over https")
    assert tokens.errors == [] and tokens.tls_failures == []
    assert tokens.fetches == 1


def test_an_https_token_endpoint_without_its_ca_fails_the_call(env, http, tmp_path):
    pki: Pki = make_pki(tmp_path / "pki", "token-endpoint")
    tokens = env.token_server(context=pki.server_context())
    env.start_mock()
    proxy = env.proxy()  # no caFile: the test CA is not trusted
    message = error_of_a_call(proxy, http)
    assert "access token" in message and "api" in message, message
    assert tokens.fetches == 0  # the handshake failed: nothing was asked
    assert wait_until(lambda: tokens.tls_failures != [], 10)
    assert proxy.proc.poll() is None


@pytest.mark.parametrize("transport", ["streamable-http", "sse"])
def test_a_token_near_expiry_is_replaced_before_use(env, http, transport):
    # 4 s tokens: reused for half their life (2 s), then replaced before the next request.
    tokens = env.token_server(expires_in=4)
    env.start_mock()
    proxy = env.proxy(transport)
    c = client(proxy, http)
    assert_echo(c, "first")
    for round_no in range(3):
        before = tokens.fetches
        # Past half the current token's life: the next request must not go with it.
        wait_s = tokens.last_issued_at() + 2.5 - time.monotonic()
        if wait_s > 0:
            time.sleep(wait_s)
        assert_echo(c, f"round {round_no}")
        assert tokens.fetches > before, f"round {round_no}: the old token was used"
    assert tokens.errors == []
    # Never a request with a token the backend no longer takes (each would be refused and logged).
    assert env.refusals() == 0, env.mock.output()[-3000:]


@pytest.mark.parametrize("transport", ["streamable-http", "sse"])
def test_a_revoked_token_is_replaced_and_the_post_sent_again(env, http, transport):
    tokens = env.token_server(expires_in=600)
    env.start_mock()
    proxy = env.proxy(transport)
    c = client(proxy, http)
    assert_echo(c, "before")
    before, refused_before = tokens.fetches, env.refusals()
    # The backend stops taking the token without the proxy being told.
    env.token_file.write_text("revoked-" + secrets.token_hex(8))
    assert_echo(c, "after revocation")
    assert tokens.fetches == before + 1, "one fetch for the refused token"
    assert env.refusals() >= refused_before + 1
    assert_echo(c, "and later")  # the new token stays in use
    assert tokens.fetches == before + 1
    assert tokens.errors == []


def test_a_second_401_is_passed_on(env, http):
    tokens = env.token_server(expires_in=600)
    env.start_mock()
    proxy = env.proxy()
    c = client(proxy, http)
    assert_echo(c, "before")
    before = tokens.fetches
    # The backend takes no token at all now: the endpoint's tokens no longer reach its file, so
    # the POST and its one retry with a new token are both refused.
    tokens.token_file = env.folder / "elsewhere"
    env.token_file.write_text("")
    response = echo(c, "refused twice")
    assert "error" in response, response
    assert "401" in response["error"]["message"], response
    assert tokens.fetches == before + 1, "one retry, not a loop"
    assert proxy.proc.poll() is None


def test_a_refusing_token_endpoint_fails_the_call_naming_the_backend(env, http):
    tokens = env.token_server()
    tokens.refuse = (400, "invalid_client")
    env.start_mock()
    proxy = env.proxy()
    message = error_of_a_call(proxy, http)
    assert "api" in message, message
    assert "access token" in message and "invalid_client" in message, message
    assert env.secret not in message
    # No tight loop: a failed fetch is not repeated within a second.
    start, fetched = time.monotonic(), tokens.fetches
    for _ in range(5):
        c2 = McpClient(proxy.url("api"), http)
        c2.initialize()
    elapsed, more = time.monotonic() - start, tokens.fetches - fetched
    assert more <= elapsed + 2, f"{more} fetches in {elapsed:.1f} s"
    assert proxy.proc.poll() is None
    assert http.get(f"{proxy.base_url}/health").status_code == 200
    # The endpoint comes back: the next request gets a token and works.
    tokens.refuse = None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        c3 = McpClient(proxy.url("api"), http)
        r = c3.initialize()
        if r.status == 200 and r.messages and "result" in r.response_to(1):
            c3.notify("notifications/initialized")
            assert_echo(c3, "recovered")
            break
        time.sleep(0.5)
    else:
        pytest.fail("the backend never recovered once the token endpoint answered again")


BAD_CONFIGS = [
    ({"clientId": "p", "clientSecret": "s"},
     "$.mcpServers.api.clientCredentials: missing required key \"tokenEndpoint\""),
    ({"tokenEndpoint": "http://auth.example/token", "clientId": "p", "clientSecret": "s"},
     "$.mcpServers.api.clientCredentials.tokenEndpoint: must be https"),
    ({"tokenEndpoint": "https://auth.example/token", "clientId": "p", "clientSecret": "s",
      "clientSecretFile": "/nonexistent/secret"},
     "not both"),
    ({"tokenEndpoint": "https://auth.example/token", "clientSecret": "s"},
     "$.mcpServers.api.clientCredentials: missing required key \"clientId\""),
    ({"tokenEndpoint": "https://auth.example/token", "clientId": "p"},
     "$.mcpServers.api.clientCredentials: missing \"clientSecret\" or \"clientSecretFile\""),
]


@pytest.mark.parametrize("credentials,expected", BAD_CONFIGS,
                         ids=["no-endpoint", "plain-http", "two-secrets", "no-id", "no-secret"])
def test_a_bad_config_is_refused_at_start_naming_the_path(mcp_proxy_bin, tmp_path, credentials,
                                                          expected):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"mcpServers": {"api": {
        "url": "http://127.0.0.1:9/mcp", "clientCredentials": credentials}}}))
    done = subprocess.run([str(mcp_proxy_bin), "--config", str(path), "--addr", "127.0.0.1:0"],
                          capture_output=True, text=True, timeout=STARTUP_TIMEOUT_S,
                          stdin=subprocess.DEVNULL)
    out = done.stdout + done.stderr
    assert done.returncode != 0, out
    assert expected in out, out
    assert "listening on" not in out
