"""mcp-proxy as an OAuth 2.1 resource server (issue #16 item 2, docs/security.md).

The authorization server is played by the tests (oauth_fixtures.py): keys of each alg made at
test time, a JWK set served over https with a CA made at test time (or from a file), tokens
minted with PyJWT or by hand when PyJWT refuses to make them, and an RFC 7662 introspection
endpoint. What is checked, each against real answers of the proxy:

* JWTs of RS256, PS256, ES256 and EdDSA list tools on a server route and on the merged endpoint;
  from `jwksUri` (https with `caFile`, or http on loopback) and from `jwksFile`.
* Every bad token is refused with 401 and `error="invalid_token"` (RFC 6750 section 3.1): expired
  beyond the clock skew, nbf in the future, wrong aud or iss, no exp, alg none, HS256 keyed with
  the RSA key's PEM, kid confusion, a bad signature, an unknown key, garbage.
* The JWK set is fetched again for an unknown kid (rotation without a restart), at most once per
  `jwksMinRefresh`; a withdrawn key is refused once the set is older than `jwksMaxAge`; tokens
  are refused until a fetch succeeds; the JWKS server's certificate is verified.
* Challenges (RFC 6750 section 3, RFC 9728 section 5.1, MCP 2025-11-25 authorization): no
  credential gives `Bearer realm=..., resource_metadata=...` and no error; a malformed one 400
  `invalid_request`; the body is a JSON-RPC error with the request's id. Unknown and known routes
  are refused alike. The protected resource metadata (RFC 9728 section 3) of every route shape.
* Audiences (RFC 8707): a route's own resource URLs or an `audiences` entry.
* Scopes: a route's required scopes (403 `insufficient_scope` with `scope`), tool scopes on
  tools/call, on server routes, groups and the merged endpoint.
* Introspection (RFC 7662): Basic client credentials and the form, active and inactive tokens,
  the cache, aud/iss/exp of the answer.
* Static `authTokens` keep working beside oauth; no token reaches a backend or the log; config
  errors.

Proxies whose config many tests share run once per module (`fleet`); tests that change a server's
state (rotation, failures) start their own. Every proxy is stopped by PID and must exit 0 on
SIGTERM without a sanitizer report and without any token sent to it in its output.
"""

from __future__ import annotations

import json
import re
import secrets
import subprocess
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

import httpx
import pytest

from conftest import (_SANITIZER_REPORT, HTTP_TIMEOUT_S, McpClient, ProxyProcess, mock_config,
                      text_of)
from mcp_session import LegacySseSession
from oauth_fixtures import (ISSUER, IntrospectionServer, JwksServer, Pki, SigningKey, b64url_json,
                            bearer_params, claims, hs256_token, jwks_of, make_key, make_pki,
                            tamper, token_parts, unsigned_token)
from proxy_fleet import ProxyFleet, SentCredentials

ALGS = ("RS256", "PS256", "ES256", "EdDSA")
SECOND_AS = "https://as2.conformance.example"
EXTRA_AUD = "urn:mcp-proxy:conformance"
SCOPES_SUPPORTED = ["mcp:read", "mcp:tools"]
RESOURCE_NAME = "mcp-proxy conformance"
STATIC = "static-token-beside-oauth_1"
ALLOWED_ORIGIN = "https://app.example"
WELL_KNOWN = "/.well-known/oauth-protected-resource"
INVALID_REQUEST = -32600
RID = "oauth-req-7"  # a string id: it must come back as sent
HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
ACCEPT_WAIT_S = 20.0  # how long a token may take to be accepted after a JWK set change
POLL_S = 0.1
# RFC 6750 section 3: error and error_description are NQSCHARs, scope a list of NQCHAR tokens.
NQSCHAR = re.compile(r"[\x20\x21\x23-\x5b\x5d-\x7e]*")
SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+")

# Every credential a test sent: no proxy's output may hold one (checked when proxies stop).
SENT = SentCredentials()
bearer = SENT.bearer
leaked_in = SENT.leaked_in


def initialize_message(rid: Any = RID) -> dict:
    return {"jsonrpc": "2.0", "id": rid, "method": "initialize",
            "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                       "clientInfo": {"name": "oauth-conformance", "version": "1"}}}


def post_rpc(http: httpx.Client, url: str, token: Optional[str] = None, *,
             message: Optional[dict] = None, headers: Optional[dict] = None) -> httpx.Response:
    """POSTs one JSON-RPC message (initialize by default) with `Bearer token` if given."""
    h = {**HEADERS, **(bearer(token) if token is not None else {}), **(headers or {})}
    return http.post(url, content=json.dumps(message or initialize_message()), headers=h)


def get_sse(http: httpx.Client, url: str,
            token: Optional[str] = None) -> tuple[int, httpx.Headers, bytes]:
    """GET of a legacy SSE endpoint: (status, headers, body read if it is not the stream)."""
    h = {"Accept": "text/event-stream", **(bearer(token) if token is not None else {})}
    with http.stream("GET", url, headers=h) as r:
        body = r.read() if r.status_code != 200 else b""
        return r.status_code, r.headers, body


class TokenClient(McpClient):
    """McpClient that sends `Authorization: Bearer <token>` with every request."""

    def __init__(self, url: str, http: httpx.Client, token: str):
        super().__init__(url, http)
        self.auth = bearer(token)

    def headers(self, session: Any = None, extra: Optional[dict] = None) -> dict:
        return super().headers(session, {**self.auth, **(extra or {})})


def tool_names(client: McpClient) -> list[str]:
    names: list[str] = []
    cursor = None
    for _ in range(50):
        response = client.request("tools/list", {"cursor": cursor} if cursor else {})
        result = response["result"]
        names += [t["name"] for t in result["tools"]]
        cursor = result.get("nextCursor")
        if not cursor:
            return names
    raise AssertionError(f"tools/list of {client.url} has more than 50 pages")


def listed_tools(http: httpx.Client, url: str, token: str) -> list[str]:
    """initialize, notifications/initialized and tools/list with the token; the tool names."""
    client = TokenClient(url, http, token).open_session()
    try:
        return tool_names(client)
    finally:
        client.delete()


def resource(proxy: ProxyProcess, path: str) -> str:
    return f"{proxy.base_url}{path}"


def metadata_url(proxy: ProxyProcess, path: str) -> str:
    return f"{proxy.base_url}{WELL_KNOWN}{path}"


def wait_accepted(http: httpx.Client, url: str, make_token: Callable[[], str],
                  timeout_s: float = ACCEPT_WAIT_S) -> httpx.Response:
    """POSTs initialize with a fresh token until it is not refused with 401 (a JWK set fetched
    in the background, or fetched again after a change), bounded in time; the last answer."""
    deadline = time.monotonic() + timeout_s
    for _ in range(int(timeout_s / POLL_S) + 1):
        r = post_rpc(http, url, make_token())
        if r.status_code != 401 or time.monotonic() >= deadline:
            return r
        time.sleep(POLL_S)
    return r


def assert_challenge(r: httpx.Response, status: int, *, error: Optional[str] = None,
                     metadata: Optional[str] = None, scope: Optional[set] = None,
                     scope_includes: Optional[set] = None, rid: Any = RID,
                     token: Optional[str] = None) -> dict:
    """The answer is `status` with one Bearer challenge (RFC 6750 section 3) holding realm, the
    error (or none), resource_metadata and scope as given, and a JSON-RPC error body with the
    request's id; no part of the token appears in it. Returns the challenge's parameters."""
    what = f"HTTP {r.status_code} {dict(r.headers)} {r.text[:400]!r}"
    assert r.status_code == status, what
    params = bearer_params(r.headers.get("www-authenticate"))
    assert params.get("realm") == "mcp-proxy", params
    if error is None:
        # RFC 6750 section 3.1: no error code when the request had no authentication information.
        assert "error" not in params and "error_description" not in params, params
    else:
        assert params.get("error") == error, params
        if error != "invalid_request":
            assert params.get("error_description"), params
    for name in ("error", "error_description"):
        if name in params:
            assert NQSCHAR.fullmatch(params[name]), params
    if metadata is not None:
        assert params.get("resource_metadata") == metadata, params
    if scope is not None or scope_includes is not None:
        assert "scope" in params, params
        scopes = params["scope"].split(" ")
        assert all(SCOPE_TOKEN.fullmatch(s) for s in scopes), params
        if scope is not None:
            assert set(scopes) == scope, params
        if scope_includes is not None:
            assert scope_includes <= set(scopes), params
    if rid is not None:
        body = r.json()
        assert body.get("jsonrpc") == "2.0" and body.get("id") == rid, body
        assert body["error"]["code"] == INVALID_REQUEST, body
    if token is not None:
        for part in token_parts(token):
            assert part not in r.text and part not in str(r.headers), f"the token is echoed: {what}"
    return params


# --------------------------------------------------------------------------------------------
# Proxies shared by a module's tests


@pytest.fixture(scope="module")
def keys() -> dict[str, SigningKey]:
    """The keys of the authorization server: one per alg, all in its JWK set."""
    return {alg: make_key(alg) for alg in ALGS}


@pytest.fixture(scope="module")
def outsiders() -> dict[str, SigningKey]:
    """Keys in no JWK set the proxy is given."""
    return {alg: make_key(alg, kid=f"outsider-{alg.lower()}") for alg in ALGS}


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def jwks_file(tmp_path_factory, keys) -> Path:
    path = tmp_path_factory.mktemp("jwks") / "jwks.json"
    path.write_text(json.dumps(jwks_of(*keys.values())))
    return path


@pytest.fixture(scope="module")
def shared_jwks(pki, keys) -> Iterator[JwksServer]:
    server = JwksServer(jwks_of(*keys.values()), pki.server_context())
    yield server
    server.close()


@pytest.fixture(scope="module")
def module_http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=HTTP_TIMEOUT_S, trust_env=False) as c:
        yield c


@pytest.fixture(scope="module")
def fleet(mcp_proxy_bin, tmp_path_factory) -> Iterator[ProxyFleet]:
    f = ProxyFleet(mcp_proxy_bin, tmp_path_factory.mktemp("oauth-proxies"), SENT)
    yield f
    problems = f.stop_all()
    if problems:
        pytest.fail("\n\n".join(problems))


def oauth_config(mock_server_bin: Path, oauth: dict, servers: Optional[dict] = None,
                 **proxy_keys: Any) -> dict:
    config = mock_config(mock_server_bin, **(servers or {"mock": {"sessionMode": "shared"}}))
    config["mcpProxy"]["oauth"] = oauth
    config["mcpProxy"].update(proxy_keys)
    return config


def jwks_uri_oauth(jwks: JwksServer, pki: Optional[Pki], **extra: Any) -> dict:
    oauth = {"issuer": ISSUER, "jwksUri": jwks.url, **extra}
    if pki is not None:
        oauth["caFile"] = str(pki.ca_file)
    return oauth


@pytest.fixture(scope="module")
def shared(shared_jwks, pki, keys, fleet, mock_server_bin, module_http) -> ProxyProcess:
    """The proxy most tests share: the mock at /mock, merged at /mcp; JWTs from an https JWKS
    URL (the test CA), an extra audience, no required scopes."""
    oauth = jwks_uri_oauth(shared_jwks, pki, authorizationServers=[ISSUER, SECOND_AS],
                           audiences=[EXTRA_AUD], clockSkew="60s", jwksMinRefresh="1s",
                           scopesSupported=SCOPES_SUPPORTED, resourceName=RESOURCE_NAME)
    proxy = fleet.start(oauth_config(mock_server_bin, oauth, allowedOrigins=[ALLOWED_ORIGIN]))
    # The set is fetched at start, maybe after "listening": wait until a token is accepted (the
    # tests then see its answers; an error here shows in every test's assertions).
    aud = resource(proxy, "/mock/mcp")
    wait_accepted(module_http, proxy.url("mock"), lambda: keys["RS256"].sign(claims(aud)))
    return proxy


SCOPED_SERVERS = {
    "mock": {"sessionMode": "shared",
             "options": {"requiredScopes": ["mock:use"], "toolScopes": {"add": ["mock:add"]}}},
    "plain": {"sessionMode": "shared"},
}


@pytest.fixture(scope="module")
def scoped(jwks_file, fleet, mock_server_bin) -> ProxyProcess:
    """Scopes: every route needs mcp:read, /mock also mock:use and its add tool mock:add,
    the group /team team:use; on exposed names mock__echo needs mcp:echo and *__big mcp:big.
    A static token beside oauth. JWTs from a JWKS file; default metadata."""
    oauth = {"issuer": ISSUER, "jwksFile": str(jwks_file), "requiredScopes": ["mcp:read"],
             "toolScopes": {"mock__echo": ["mcp:echo"], "*__big": ["mcp:big"]}}
    config = oauth_config(mock_server_bin, oauth, SCOPED_SERVERS,
                          groups={"team": {"servers": ["plain"], "requiredScopes": ["team:use"]}})
    config["mcpProxy"]["options"] = {"authTokens": [STATIC]}
    return fleet.start(config)


INTROSPECTION_CLIENT = ("mcp-proxy-rs", "intro-secret-9Xq")
SENT.add(INTROSPECTION_CLIENT[1])  # a secret of the config: never in the log either


@pytest.fixture(scope="module")
def introspection() -> Iterator[IntrospectionServer]:
    server = IntrospectionServer(*INTROSPECTION_CLIENT)
    yield server
    server.close()
    assert not server.errors, f"introspection requests that broke RFC 7662: {server.errors}"


@pytest.fixture(scope="module")
def introspecting(introspection, fleet, mock_server_bin) -> ProxyProcess:
    """Opaque tokens checked at the introspection endpoint (plain http on loopback)."""
    oauth = {"issuer": ISSUER,
             "introspection": {"endpoint": introspection.url, "clientId": INTROSPECTION_CLIENT[0],
                               "clientSecret": INTROSPECTION_CLIENT[1], "cacheTTL": "100s"}}
    return fleet.start(oauth_config(mock_server_bin, oauth))


# --------------------------------------------------------------------------------------------
# Servers a single test starts, closed after its proxies stopped


class Aux:
    def __init__(self) -> None:
        self.jwks_servers: list[JwksServer] = []
        self.introspection_servers: list[IntrospectionServer] = []

    def jwks(self, jwks: dict, pki: Optional[Pki]) -> JwksServer:
        s = JwksServer(jwks, pki.server_context() if pki else None)
        self.jwks_servers.append(s)
        return s

    def introspection(self, client_id: str, secret: str) -> IntrospectionServer:
        s = IntrospectionServer(client_id, secret)
        self.introspection_servers.append(s)
        return s


@pytest.fixture
def aux() -> Iterator[Aux]:
    a = Aux()
    yield a
    for s in a.jwks_servers + a.introspection_servers:
        s.close()
    errors = [e for s in a.introspection_servers for e in s.errors]
    if errors:
        pytest.fail(f"introspection requests that broke RFC 7662: {errors}")


@pytest.fixture
def launch(aux, fault_servers, start_proxy) -> Callable[..., ProxyProcess]:
    """conftest's start_proxy, torn down before the servers of aux and fault_servers."""
    return start_proxy


def stop_checked(proxy: ProxyProcess) -> str:
    """Stops a test's own proxy (exit 0 expected) and returns its whole output."""
    rc = proxy.stop()
    out = proxy.output()
    assert rc == 0, f"mcp-proxy exited with {rc} on SIGTERM:\n{out[-4000:]}"
    assert not _SANITIZER_REPORT.search(out), out[-6000:]
    return out


# --------------------------------------------------------------------------------------------
# Valid tokens


@pytest.mark.parametrize("alg", ALGS)
def test_a_valid_token_lists_tools_on_a_server_route(shared, keys, http, alg):
    token = keys[alg].sign(claims(resource(shared, "/mock/mcp")))
    names = listed_tools(http, shared.url("mock"), token)
    assert {"echo", "add"} <= set(names), names


@pytest.mark.parametrize("alg", ALGS)
def test_a_valid_token_lists_tools_on_the_merged_endpoint(shared, keys, http, alg):
    token = keys[alg].sign(claims(resource(shared, "/mcp")))
    names = listed_tools(http, resource(shared, "/mcp"), token)
    assert {"mock__echo", "mock__add"} <= set(names), names


def test_a_tool_call_with_a_valid_token_reaches_the_backend(shared, keys, http):
    token = keys["EdDSA"].sign(claims(resource(shared, "/mock/mcp")))
    client = TokenClient(shared.url("mock"), http, token).open_session()
    assert text_of(client.call_tool("echo", {"text": "through oauth"})) == "through oauth"
    client.delete()


@pytest.mark.parametrize("variant", ["aud array holding the resource", "expired within the skew",
                                     "aud of the route's sse resource", "scope and extra claims"])
def test_valid_token_variants_are_accepted(shared, keys, http, variant):
    aud = resource(shared, "/mock/mcp")
    now = int(time.time())
    payload = {
        "aud array holding the resource": claims(["https://other.example/mcp", aud]),
        # clockSkew 60s: 15 s past exp is still within it (RFC 7519 section 4.1.4 leeway).
        "expired within the skew": claims(aud, exp=now - 15, iat=now - 600),
        # /mock/mcp and /mock/sse are the two resource URLs of the same route.
        "aud of the route's sse resource": claims(resource(shared, "/mock/sse")),
        "scope and extra claims": claims(aud, scope="mcp:read other", nbf=now - 5,
                                         groups=["a", "b"], azp="client-x"),
    }[variant]
    r = post_rpc(http, shared.url("mock"), keys["RS256"].sign(payload))
    assert r.status_code == 200, (r.status_code, r.headers.get("www-authenticate"), r.text[:300])


# --------------------------------------------------------------------------------------------
# Refused tokens

BAD_TOKENS = [
    "expired beyond the clock skew",
    "nbf in the future",
    "wrong aud",
    "aud of another route",
    "aud of the same path on another origin",
    "wrong iss",
    "iss with a trailing slash",
    "no exp",
    "no aud",
    "alg none",
    "alg none without kid",
    "HS256 keyed with the RSA public key PEM",
    "HS256 keyed with the RSA public key PEM, no kid",
    "RS256 under an EC key's kid, signed by an RSA key not in the set",
    "kid of an RSA key in the set, signed by another RSA key",
    "kid of the EC key in the set, signed by another EC key",
    "kid of the Ed25519 key in the set, signed by another Ed25519 key",
    "PS256 signed by the key whose JWK says RS256",
    "claims changed after signing",
    "signature removed",
    "unknown kid, key not in the set",
    "garbage",
    "three parts of garbage",
    "header and payload that are no JWS",
]


def bad_token(name: str, keys: dict, outsiders: dict, proxy: ProxyProcess, route: str) -> str:
    aud = resource(proxy, route)
    rs, es, ed = keys["RS256"], keys["ES256"], keys["EdDSA"]
    now = int(time.time())
    make: dict[str, Callable[[], str]] = {
        "expired beyond the clock skew": lambda: rs.sign(
            claims(aud, exp=now - 600, iat=now - 1200)),
        "nbf in the future": lambda: rs.sign(claims(aud, nbf=now + 600)),
        "wrong aud": lambda: rs.sign(claims("https://other.example/mcp")),
        "aud of another route": lambda: rs.sign(claims(resource(proxy, "/nosuch/mcp"))),
        "aud of the same path on another origin": lambda: rs.sign(
            claims(f"http://127.0.0.2:{proxy.port}{route}")),
        "wrong iss": lambda: rs.sign(claims(aud, iss="https://evil.example")),
        "iss with a trailing slash": lambda: rs.sign(claims(aud, iss=ISSUER + "/")),
        "no exp": lambda: rs.sign(claims(aud, exp=None)),
        "no aud": lambda: rs.sign(claims(None)),
        "alg none": lambda: unsigned_token(claims(aud), {"kid": rs.kid}),
        "alg none without kid": lambda: unsigned_token(claims(aud)),
        "HS256 keyed with the RSA public key PEM": lambda: hs256_token(
            rs.public_pem(), claims(aud), {"kid": rs.kid}),
        "HS256 keyed with the RSA public key PEM, no kid": lambda: hs256_token(
            rs.public_pem(), claims(aud)),
        "RS256 under an EC key's kid, signed by an RSA key not in the set": lambda: outsiders[
            "RS256"].sign(claims(aud), kid=es.kid),
        "kid of an RSA key in the set, signed by another RSA key": lambda: outsiders[
            "RS256"].sign(claims(aud), kid=rs.kid),
        "kid of the EC key in the set, signed by another EC key": lambda: outsiders[
            "ES256"].sign(claims(aud), kid=es.kid),
        "kid of the Ed25519 key in the set, signed by another Ed25519 key": lambda: outsiders[
            "EdDSA"].sign(claims(aud), kid=ed.kid),
        "PS256 signed by the key whose JWK says RS256": lambda: rs.sign(claims(aud), alg="PS256"),
        "claims changed after signing": lambda: tamper(rs.sign(claims(aud)), sub="mallory"),
        "signature removed": lambda: ed.sign(claims(aud)).rsplit(".", 1)[0] + ".",
        "unknown kid, key not in the set": lambda: outsiders["RS256"].sign(
            claims(aud), kid=f"unknown-{uuid.uuid4().hex}"),
        "garbage": lambda: "garbage-token-5a1c",
        "three parts of garbage": lambda: "abc.defgh.ijk",
        "header and payload that are no JWS": lambda: (
            f"{b64url_json({'typ': 'JWT'})}.{b64url_json(['not', 'claims'])}.c2ln"),
    }
    return make[name]()


@pytest.mark.parametrize("route", ["/mock/mcp", "/mcp"])
@pytest.mark.parametrize("name", BAD_TOKENS)
def test_a_bad_token_is_refused_with_invalid_token(shared, keys, outsiders, http, route, name):
    token = bad_token(name, keys, outsiders, shared, route)
    r = post_rpc(http, resource(shared, route), token)
    assert_challenge(r, 401, error="invalid_token", metadata=metadata_url(shared, route),
                     token=token)


def test_a_bad_token_is_refused_on_the_legacy_sse_endpoint_too(shared, keys, outsiders, http):
    token = bad_token("HS256 keyed with the RSA public key PEM", keys, outsiders, shared,
                      "/mock/sse")
    status, headers, _ = get_sse(http, resource(shared, "/mock/sse"), token)
    assert status == 401
    params = bearer_params(headers.get("www-authenticate"))
    assert params.get("error") == "invalid_token", params
    assert params.get("resource_metadata") == metadata_url(shared, "/mock/sse"), params


# --------------------------------------------------------------------------------------------
# Challenges (RFC 6750 section 3, RFC 9728 section 5.1)

ROUTE_SHAPES = [
    # (method, path as requested, the resource whose metadata the challenge names)
    ("POST", "/mock/mcp", "/mock/mcp"),
    ("POST", "/mcp", "/mcp"),
    ("GET", "/mock/sse", "/mock/sse"),
    ("POST", "/mock/message?sessionId=abc", "/mock/sse"),
    ("GET", "/sse", "/sse"),
    ("POST", "/message?sessionId=abc", "/sse"),
]


@pytest.mark.parametrize("method, path, owner", ROUTE_SHAPES)
def test_no_credential_gets_a_challenge_with_resource_metadata_and_no_error(
        shared, http, method, path, owner):
    if method == "GET":
        status, headers, _ = get_sse(http, resource(shared, path))
        assert status == 401
        params = bearer_params(headers.get("www-authenticate"))
        assert params.get("realm") == "mcp-proxy" and "error" not in params, params
    else:
        params = assert_challenge(post_rpc(http, resource(shared, path)), 401)
    assert "scope" not in params, params  # no route of this proxy needs scopes
    # RFC 9728 section 5.1: the URL of the metadata of the resource the client asked for. A
    # message endpoint belongs to its SSE resource (the design names .../X/sse; a URL whose
    # document says so is as good for a client).
    url = params.get("resource_metadata")
    if "/message" not in path:
        assert url == metadata_url(shared, owner), params
    assert url and url.startswith(resource(shared, WELL_KNOWN + "/")), params
    doc = http.get(url)
    assert doc.status_code == 200 and doc.json()["resource"] == resource(shared, owner), doc.text


def test_the_challenges_metadata_url_describes_the_route(shared, http):
    r = post_rpc(http, shared.url("mock"))
    url = bearer_params(r.headers.get("www-authenticate"))["resource_metadata"]
    doc = http.get(url)
    assert doc.status_code == 200
    assert doc.json()["resource"] == resource(shared, "/mock/mcp")


def test_another_scheme_counts_as_no_credential(shared, http):
    r = post_rpc(http, shared.url("mock"), headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert_challenge(r, 401, metadata=metadata_url(shared, "/mock/mcp"))


def test_two_authorization_fields_get_400_invalid_request(shared, keys, http):
    token = keys["RS256"].sign(claims(resource(shared, "/mock/mcp")))
    raw = httpx.Headers([*HEADERS.items(), ("Authorization", bearer(token)["Authorization"]),
                         ("Authorization", bearer(token)["Authorization"])])
    r = http.post(shared.url("mock"), content=json.dumps(initialize_message()), headers=raw)
    assert_challenge(r, 400, error="invalid_request", token=token)


@pytest.mark.parametrize("value", ["Bearer", "Bearer two parts", "Bearer t\u00e9",
                                   "Bearer a,b"])
def test_a_malformed_bearer_credential_gets_400_invalid_request(shared, http, value):
    r = http.post(shared.url("mock"), content=json.dumps(initialize_message()),
                  headers={**HEADERS, "Authorization": value.encode("utf-8")})
    assert_challenge(r, 400, error="invalid_request")


def _shape(r: httpx.Response) -> tuple:
    params = bearer_params(r.headers.get("www-authenticate"))
    params.pop("resource_metadata", None)  # names the path asked for, by design
    params.pop("error_description", None)
    return r.status_code, tuple(sorted(params.items())), r.content


def test_unknown_and_known_routes_are_refused_alike(shared, keys, outsiders, http):
    """Without a valid token nothing tells which routes exist (the route is resolved after the
    token checks); the challenge names the metadata of the path asked for, known or not."""
    ping = {"jsonrpc": "2.0", "id": RID, "method": "ping"}
    # A token that fails the same way wherever it goes (a bad signature: no refetch involved).
    forged = bad_token("kid of an RSA key in the set, signed by another RSA key", keys, outsiders,
                       shared, "/mock/mcp")
    for token in (None, forged):
        known = post_rpc(http, shared.url("mock"), token, message=ping)
        unknown = post_rpc(http, resource(shared, "/nosuch/mcp"), token, message=ping)
        assert _shape(known) == _shape(unknown)
        assert known.status_code == 401
        assert bearer_params(unknown.headers["www-authenticate"])["resource_metadata"] == \
            metadata_url(shared, "/nosuch/mcp")
    # With a token valid everywhere, what does not exist is a plain 404.
    r = post_rpc(http, resource(shared, "/nosuch/mcp"), keys["ES256"].sign(claims(EXTRA_AUD)),
                 message=ping)
    assert r.status_code == 404


# --------------------------------------------------------------------------------------------
# Protected resource metadata (RFC 9728 section 3)

METADATA_PATHS = [
    ("/mock/mcp", "/mock/mcp"),
    ("/mock/sse", "/mock/sse"),
    ("/mock/message", "/mock/sse"),
    ("/mcp", "/mcp"),
    ("/sse", "/sse"),
    ("/message", "/sse"),
    ("/nosuch/mcp", "/nosuch/mcp"),  # no route: the same kind of document
]


@pytest.mark.parametrize("path, owner", METADATA_PATHS)
def test_resource_metadata_of_each_route_shape(shared, http, path, owner):
    r = http.get(metadata_url(shared, path))  # no token needed
    assert r.status_code == 200, (r.status_code, r.text[:300])
    assert r.headers["content-type"].split(";")[0].strip() == "application/json"
    doc = r.json()
    assert doc["resource"] == resource(shared, owner), doc
    assert doc["authorization_servers"] == [ISSUER, SECOND_AS], doc
    assert doc["bearer_methods_supported"] == ["header"], doc
    assert doc["scopes_supported"] == SCOPES_SUPPORTED, doc
    assert doc["resource_name"] == RESOURCE_NAME, doc


def test_the_bare_well_known_path_is_404(shared, http):
    assert http.get(resource(shared, WELL_KNOWN)).status_code == 404


def test_resource_metadata_is_readable_from_an_allowed_origin(shared, http):
    r = http.get(metadata_url(shared, "/mock/mcp"), headers={"Origin": ALLOWED_ORIGIN})
    assert r.status_code == 200
    assert r.headers.get("access-control-allow-origin") == ALLOWED_ORIGIN


def test_metadata_defaults_to_the_issuer_and_the_required_scopes(scoped, http):
    doc = http.get(metadata_url(scoped, "/plain/mcp")).json()
    assert doc["resource"] == resource(scoped, "/plain/mcp")
    assert doc["authorization_servers"] == [ISSUER], doc
    assert "mcp:read" in doc["scopes_supported"], doc
    assert "resource_name" not in doc, doc


# --------------------------------------------------------------------------------------------
# Audiences (RFC 8707)


def test_a_token_for_a_server_route_works_on_its_mcp_and_sse_endpoints_only(shared, keys, http):
    token = keys["PS256"].sign(claims(resource(shared, "/mock/mcp")))
    assert "echo" in listed_tools(http, shared.url("mock"), token)
    with LegacySseSession(resource(shared, "/mock/sse"), headers=bearer(token)) as sse:
        sse.open()
        names = [t["name"] for t in sse.result("tools/list")["tools"]]
        assert "echo" in names
    r = post_rpc(http, resource(shared, "/mcp"), token)
    assert_challenge(r, 401, error="invalid_token", metadata=metadata_url(shared, "/mcp"),
                     token=token)
    status, headers, _ = get_sse(http, resource(shared, "/sse"), token)
    assert status == 401
    assert bearer_params(headers.get("www-authenticate")).get("error") == "invalid_token"


def test_an_extra_audience_works_everywhere(shared, keys, http):
    token = keys["ES256"].sign(claims(EXTRA_AUD))
    assert "echo" in listed_tools(http, shared.url("mock"), token)
    assert "mock__echo" in listed_tools(http, resource(shared, "/mcp"), token)
    for path in ("/mock/sse", "/sse"):
        with LegacySseSession(resource(shared, path), headers=bearer(token)) as sse:
            sse.open()
            assert sse.result("tools/list")["tools"], path


# --------------------------------------------------------------------------------------------
# The JWK set: file, URL, rotation, refetch limits, failures


def test_a_jwks_file_verifies_tokens_of_each_alg(launch, jwks_file, keys, outsiders,
                                                 mock_server_bin, http):
    proxy = launch(oauth_config(mock_server_bin, {"issuer": ISSUER, "jwksFile": str(jwks_file)}))
    aud = resource(proxy, "/mock/mcp")
    for alg in ALGS:
        assert "echo" in listed_tools(http, proxy.url("mock"), keys[alg].sign(claims(aud))), alg
        forged = outsiders[alg].sign(claims(aud), kid=keys[alg].kid)
        assert_challenge(post_rpc(http, proxy.url("mock"), forged), 401, error="invalid_token")
    # No scopes configured: the metadata leaves scopes_supported out.
    doc = http.get(metadata_url(proxy, "/mock/mcp")).json()
    assert "scopes_supported" not in doc and doc["authorization_servers"] == [ISSUER], doc


def test_a_jwks_uri_over_plain_http_on_loopback_is_allowed(launch, aux, keys, mock_server_bin,
                                                           http):
    jwks = aux.jwks(jwks_of(keys["ES256"]), None)
    proxy = launch(oauth_config(mock_server_bin, jwks_uri_oauth(jwks, None)))
    aud = resource(proxy, "/mock/mcp")
    r = wait_accepted(http, proxy.url("mock"), lambda: keys["ES256"].sign(claims(aud)))
    assert r.status_code == 200, (r.status_code, r.headers.get("www-authenticate"))
    assert jwks.fetch_count() >= 1


def test_a_new_key_served_at_the_jwks_uri_is_used_without_a_restart(launch, aux, pki, keys,
                                                                    mock_server_bin, http):
    old = keys["ES256"]
    new = make_key("ES256", kid=f"rotated-{uuid.uuid4().hex[:8]}")
    jwks = aux.jwks(jwks_of(old), pki)
    proxy = launch(oauth_config(mock_server_bin, jwks_uri_oauth(jwks, pki, jwksMinRefresh="1s")))
    url, aud = proxy.url("mock"), resource(proxy, "/mock/mcp")
    r = wait_accepted(http, url, lambda: old.sign(claims(aud)))
    assert r.status_code == 200, (r.status_code, r.headers.get("www-authenticate"))
    pid = proxy.proc.pid

    jwks.serve(jwks_of(new))
    before = jwks.fetch_count()
    # The new kid is unknown: the proxy fetches the set again (at most once a second here).
    r = wait_accepted(http, url, lambda: new.sign(claims(aud)))
    assert r.status_code == 200, (r.status_code, r.headers.get("www-authenticate"))
    assert jwks.fetch_count() > before
    assert proxy.proc.pid == pid and proxy.proc.poll() is None
    assert "echo" in listed_tools(http, url, new.sign(claims(aud)))
    # The old key left the set: its tokens are refused now.
    stale = old.sign(claims(aud))
    assert_challenge(post_rpc(http, url, stale), 401, error="invalid_token", token=stale)


def test_a_key_removed_from_the_set_is_refused_once_the_set_is_older_than_max_age(
        launch, aux, pki, keys, mock_server_bin, http):
    kept, removed = keys["RS256"], keys["EdDSA"]
    jwks = aux.jwks(jwks_of(kept, removed), pki)
    proxy = launch(oauth_config(mock_server_bin, jwks_uri_oauth(
        jwks, pki, jwksMinRefresh="1s", jwksMaxAge="2s")))
    url, aud = proxy.url("mock"), resource(proxy, "/mock/mcp")
    r = wait_accepted(http, url, lambda: removed.sign(claims(aud)))
    assert r.status_code == 200, (r.status_code, r.headers.get("www-authenticate"))
    jwks.serve(jwks_of(kept))  # the key is withdrawn; its kid stays known to the proxy for now
    deadline = time.monotonic() + ACCEPT_WAIT_S
    for _ in range(int(ACCEPT_WAIT_S / POLL_S) + 1):
        r = post_rpc(http, url, removed.sign(claims(aud)))
        if r.status_code == 401 or time.monotonic() >= deadline:
            break
        time.sleep(POLL_S)
    assert_challenge(r, 401, error="invalid_token")
    assert post_rpc(http, url, kept.sign(claims(aud))).status_code == 200


def test_unknown_kids_fetch_the_jwks_at_most_once_per_min_refresh(launch, aux, pki, keys,
                                                                  outsiders, mock_server_bin):
    min_refresh_s = 60
    jwks = aux.jwks(jwks_of(keys["RS256"]), pki)
    proxy = launch(oauth_config(mock_server_bin, jwks_uri_oauth(
        jwks, pki, jwksMinRefresh=f"{min_refresh_s}s")))
    started = time.monotonic()
    url, aud = proxy.url("mock"), resource(proxy, "/mock/mcp")
    with httpx.Client(timeout=HTTP_TIMEOUT_S, trust_env=False) as http:
        r = wait_accepted(http, url, lambda: keys["RS256"].sign(claims(aud)))
        assert r.status_code == 200, (r.status_code, r.headers.get("www-authenticate"))
        tokens = [outsiders["RS256"].sign(claims(aud), kid=f"random-{uuid.uuid4().hex}")
                  for _ in range(24)]
        with ThreadPoolExecutor(max_workers=6) as pool:
            statuses = list(pool.map(lambda t: post_rpc(http, url, t).status_code, tokens))
    elapsed = time.monotonic() - started
    assert statuses == [401] * len(tokens), statuses
    assert elapsed < min_refresh_s, f"took {elapsed:.1f} s: the bound below does not apply"
    # The fetch at start and at most one more for all the unknown kids within jwksMinRefresh.
    assert jwks.fetch_count() <= 2, f"{jwks.fetch_count()} fetches for {len(tokens)} unknown kids"


def test_tokens_are_refused_until_the_jwks_can_be_fetched(launch, aux, pki, keys,
                                                          mock_server_bin, http):
    jwks = aux.jwks(jwks_of(keys["EdDSA"]), pki)
    jwks.fail_with(503)
    proxy = launch(oauth_config(mock_server_bin, jwks_uri_oauth(jwks, pki, jwksMinRefresh="1s")))
    url, aud = proxy.url("mock"), resource(proxy, "/mock/mcp")
    assert jwks.wait_for(lambda: len(jwks.fetches) >= 1, 20), "no JWKS fetch at start"
    token = keys["EdDSA"].sign(claims(aud))
    assert_challenge(post_rpc(http, url, token), 401, error="invalid_token", token=token)
    assert proxy.proc.poll() is None  # a failed fetch is no reason to stop
    jwks.serve(jwks_of(keys["EdDSA"]))
    r = wait_accepted(http, url, lambda: keys["EdDSA"].sign(claims(aud)))
    assert r.status_code == 200, (r.status_code, r.headers.get("www-authenticate"))


def test_the_jwks_servers_certificate_is_verified(launch, aux, pki, keys, mock_server_bin, http):
    """Without caFile the test CA is not trusted: no set is fetched, every JWT is refused."""
    jwks = aux.jwks(jwks_of(keys["RS256"]), pki)
    proxy = launch(oauth_config(mock_server_bin, jwks_uri_oauth(jwks, None, jwksMinRefresh="1s")))
    assert jwks.wait_for(lambda: len(jwks.tls_failures) >= 1, 20), "no TLS handshake at start"
    token = keys["RS256"].sign(claims(resource(proxy, "/mock/mcp")))
    assert_challenge(post_rpc(http, proxy.url("mock"), token), 401, error="invalid_token")
    assert jwks.fetch_count() == 0


# --------------------------------------------------------------------------------------------
# Scopes


@pytest.mark.parametrize("route, needed", [
    ("/mock/mcp", {"mcp:read", "mock:use"}),
    ("/plain/mcp", {"mcp:read"}),
    ("/team/mcp", {"mcp:read", "team:use"}),
])
def test_no_credential_on_a_route_with_scopes_names_them_in_the_challenge(scoped, http, route,
                                                                           needed):
    r = post_rpc(http, resource(scoped, route))
    assert_challenge(r, 401, metadata=metadata_url(scoped, route), scope=needed)


@pytest.mark.parametrize("route, granted, needed", [
    ("/plain/mcp", None, {"mcp:read"}),
    ("/plain/mcp", "mock:use team:use", {"mcp:read"}),
    ("/mock/mcp", "mcp:read", {"mcp:read", "mock:use"}),
    ("/mock/mcp", "mock:use", {"mcp:read", "mock:use"}),
    ("/team/mcp", "mcp:read", {"mcp:read", "team:use"}),
    ("/mcp", "mcp:tools", None),  # at least mcp:read: see the test below
])
def test_a_token_without_the_routes_scopes_gets_403_insufficient_scope(scoped, keys, http, route,
                                                                       granted, needed):
    token = keys["ES256"].sign(claims(resource(scoped, route), scope=granted))
    r = post_rpc(http, resource(scoped, route), token)
    assert_challenge(r, 403, error="insufficient_scope", metadata=metadata_url(scoped, route),
                     scope=needed, scope_includes={"mcp:read"}, token=token)


@pytest.mark.parametrize("route, granted", [
    ("/plain/mcp", "mcp:read"),
    ("/mock/mcp", "mock:use mcp:read"),
    ("/team/mcp", "mcp:read team:use extra:scope"),
])
def test_a_token_with_the_routes_scopes_is_served(scoped, keys, http, route, granted):
    token = keys["RS256"].sign(claims(resource(scoped, route), scope=granted))
    assert listed_tools(http, resource(scoped, route), token)


def _call(client: McpClient, rid: Any, name: str, arguments: dict):
    return client.post({"jsonrpc": "2.0", "id": rid, "method": "tools/call",
                        "params": {"name": name, "arguments": arguments}})


def test_a_servers_scoped_tool_without_its_scope_gets_403_with_the_request_id(scoped, keys, http):
    token = keys["RS256"].sign(claims(resource(scoped, "/mock/mcp"), scope="mcp:read mock:use"))
    client = TokenClient(scoped.url("mock"), http, token).open_session()
    reply = _call(client, "call-add-1", "add", {"a": 1, "b": 2})
    assert reply.status == 403, reply
    params = bearer_params(reply.headers.get("www-authenticate"))
    assert params.get("error") == "insufficient_scope" and params.get("error_description"), params
    assert set(params["scope"].split(" ")) == {"mcp:read", "mock:use", "mock:add"}, params
    assert params.get("resource_metadata") == metadata_url(scoped, "/mock/mcp"), params
    body = reply.json()
    assert body["id"] == "call-add-1" and body["error"]["code"] == INVALID_REQUEST, body
    # An unscoped tool needs only the route's scopes, in the same session.
    assert text_of(client.call_tool("pid")).isdigit()
    client.delete()


def test_a_servers_scoped_tool_with_its_scope_succeeds(scoped, keys, http):
    token = keys["PS256"].sign(claims(resource(scoped, "/mock/mcp"),
                                      scope="mcp:read mock:use mock:add"))
    client = TokenClient(scoped.url("mock"), http, token).open_session()
    response = client.call_tool("add", {"a": 2, "b": 40})
    assert response["result"]["structuredContent"] == {"sum": 42}, response
    client.delete()


@pytest.mark.parametrize("tool, arguments, tool_scope", [
    ("mock__echo", {"text": "x"}, "mcp:echo"),  # oauth.toolScopes, an exposed name
    ("plain__big", {"bytes": 3}, "mcp:big"),  # oauth.toolScopes, a glob
    ("mock__add", {"a": 1, "b": 1}, "mock:add"),  # the server's own toolScopes, prefixed
])
def test_tool_scopes_on_the_merged_endpoint(scoped, keys, http, tool, arguments, tool_scope):
    merged = resource(scoped, "/mcp")
    # mock:use too: whether the merged endpoint needs the servers' own scopes is not asked here.
    base_scopes = "mcp:read mock:use"
    token = keys["EdDSA"].sign(claims(merged, scope=base_scopes))
    client = TokenClient(merged, http, token).open_session()
    reply = _call(client, 41, tool, arguments)
    assert reply.status == 403, reply
    params = bearer_params(reply.headers.get("www-authenticate"))
    assert params.get("error") == "insufficient_scope", params
    assert {"mcp:read", tool_scope} <= set(params["scope"].split(" ")), params
    assert reply.json()["id"] == 41, reply.body
    assert "error" not in client.call_tool("plain__echo", {"text": "free"}), "unscoped tool"
    client.delete()

    token = keys["EdDSA"].sign(claims(merged, scope=f"{base_scopes} {tool_scope}"))
    client = TokenClient(merged, http, token).open_session()
    response = client.call_tool(tool, arguments)
    assert "result" in response and not response["result"].get("isError"), response
    client.delete()


def test_a_static_token_is_accepted_beside_oauth_and_passes_scope_checks(scoped, http):
    for route in ("/mock/mcp", "/team/mcp", "/mcp"):
        assert listed_tools(http, resource(scoped, route), STATIC), route
    client = TokenClient(scoped.url("mock"), http, STATIC).open_session()
    assert client.call_tool("add", {"a": 1, "b": 2})["result"]["structuredContent"] == {"sum": 3}
    client.delete()
    # Anything else is checked as a JWT.
    r = post_rpc(http, scoped.url("mock"), STATIC + "x")
    assert_challenge(r, 401, error="invalid_token", metadata=metadata_url(scoped, "/mock/mcp"))


# --------------------------------------------------------------------------------------------
# Introspection (RFC 7662)


def opaque() -> str:
    return "opaque_" + secrets.token_urlsafe(24)


def active(scope: str = "mcp:read", **extra: Any) -> dict:
    now = int(time.time())
    return {"active": True, "scope": scope, "client_id": "c1", "sub": "alice",
            "token_type": "Bearer", "iss": ISSUER, "exp": now + 600, "iat": now, **extra}


def test_an_active_opaque_token_is_accepted(introspecting, introspection, http):
    token = opaque()
    introspection.answer(token, active())
    assert "echo" in listed_tools(http, introspecting.url("mock"), token)
    calls = introspection.calls_of(token)
    assert calls, "the token was not introspected"
    assert calls[0].form.get("token_type_hint", ["access_token"]) == ["access_token"]
    assert not introspection.errors, introspection.errors


def test_an_active_token_for_the_routes_resource_is_accepted(introspecting, introspection, http):
    token = opaque()
    introspection.answer(token, active(aud=[resource(introspecting, "/mock/mcp"), "x"]))
    assert post_rpc(http, introspecting.url("mock"), token).status_code == 200


@pytest.mark.parametrize("answer", ["inactive", "unknown to the server", "wrong aud", "wrong iss",
                                    "exp in the past", "nbf in the future"])
def test_a_token_the_introspection_does_not_vouch_for_is_refused(introspecting, introspection,
                                                                 http, answer):
    token = opaque()
    now = int(time.time())
    response = {
        "inactive": {"active": False},
        "unknown to the server": None,
        "wrong aud": active(aud="https://other.example/mcp"),
        "wrong iss": active(iss="https://evil.example"),
        "exp in the past": active(exp=now - 600),
        "nbf in the future": active(nbf=now + 600),
    }[answer]
    if response is not None:
        introspection.answer(token, response)
    r = post_rpc(http, introspecting.url("mock"), token)
    assert_challenge(r, 401, error="invalid_token",
                     metadata=metadata_url(introspecting, "/mock/mcp"), token=token)
    assert introspection.count(token) == 1


def test_introspection_answers_are_cached(introspecting, introspection, http):
    token = opaque()
    introspection.answer(token, active())
    client = TokenClient(introspecting.url("mock"), http, token).open_session()
    assert text_of(client.call_tool("echo", {"text": "cached"})) == "cached"
    assert post_rpc(http, introspecting.url("mock"), token).status_code == 200
    client.delete()
    assert introspection.count(token) == 1  # four requests, one introspection (cacheTTL 100s)


def test_an_inactive_answer_is_cached_too(introspecting, introspection, http):
    token = opaque()  # inactive: cached for a tenth of cacheTTL (10 s)
    for _ in range(3):
        assert post_rpc(http, introspecting.url("mock"), token).status_code == 401
    assert introspection.count(token) == 1


def test_the_client_secret_can_come_from_a_file(launch, aux, mock_server_bin, http, tmp_path):
    intro = aux.introspection("from-file-client", "s3cret-from-file")
    secret_file = tmp_path / "client-secret"
    secret_file.write_text("s3cret-from-file\n")
    secret_file.chmod(0o600)
    oauth = {"issuer": ISSUER,
             "introspection": {"endpoint": intro.url, "clientId": "from-file-client",
                               "clientSecretFile": str(secret_file)}}
    proxy = launch(oauth_config(mock_server_bin, oauth))
    token = opaque()
    intro.answer(token, active())
    assert post_rpc(http, proxy.url("mock"), token).status_code == 200
    assert intro.count(token) == 1 and not intro.errors
    out = stop_checked(proxy)
    assert "s3cret-from-file" not in out and token not in out


# --------------------------------------------------------------------------------------------
# Where tokens must never go


def test_the_clients_token_never_reaches_the_backend(launch, fault_servers, jwks_file, keys,
                                                     http):
    fault = fault_servers()
    config = {"mcpProxy": {"addr": "127.0.0.1:0",
                           "oauth": {"issuer": ISSUER, "jwksFile": str(jwks_file),
                                     "audiences": [EXTRA_AUD]}},
              "mcpServers": {"f": {"url": fault.mcp_url, "transportType": "streamable-http",
                                   "timeout": "20s"}}}
    proxy = launch(config)
    tokens = []
    for url in (proxy.url("f"), resource(proxy, "/mcp")):
        token = keys["RS256"].sign(claims(EXTRA_AUD))
        tokens.append(token)
        client = TokenClient(url, http, token).open_session()
        tool = "echo" if url == proxy.url("f") else "f__echo"
        assert text_of(client.call_tool(tool, {"text": "hi"})) == "echo: hi"
        client.delete()
    recorded = fault.snapshot()
    assert sum(1 for rec in recorded if rec.tool == "echo") == 2, [r.rpc_method for r in recorded]
    for rec in recorded:
        assert "authorization" not in rec.headers, rec
        seen = json.dumps(rec.headers) + json.dumps(rec.body) + rec.target
        for token in tokens:
            assert not any(part in seen for part in token_parts(token)), rec
    out = stop_checked(proxy)
    assert not leaked_in(out)


# --------------------------------------------------------------------------------------------
# Base URL


def test_base_url_names_the_resources(launch, jwks_file, keys, mock_server_bin, http):
    public = "https://mcp.example.com/pfx"
    proxy = launch(oauth_config(mock_server_bin, {"issuer": ISSUER, "jwksFile": str(jwks_file)},
                                baseURL=public))
    url = resource(proxy, "/pfx/mock/mcp")
    meta = f"https://mcp.example.com{WELL_KNOWN}/pfx/mock/mcp"
    assert_challenge(post_rpc(http, url), 401, metadata=meta)
    doc = http.get(resource(proxy, f"{WELL_KNOWN}/pfx/mock/mcp"))
    assert doc.status_code == 200 and doc.json()["resource"] == f"{public}/mock/mcp", doc.text
    assert post_rpc(http, url, keys["RS256"].sign(claims(f"{public}/mock/mcp"))).status_code == 200
    local = keys["RS256"].sign(claims(url))  # the listener's URL is not the resource
    assert_challenge(post_rpc(http, url, local), 401, error="invalid_token", metadata=meta)


# --------------------------------------------------------------------------------------------
# Config errors


def run_config(mcp_proxy_bin: Path, tmp_path: Path, config: dict) -> subprocess.CompletedProcess:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    return subprocess.run([str(mcp_proxy_bin), "--config", str(path)], stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=30)


@pytest.mark.parametrize("where", ["server requiredScopes", "server toolScopes",
                                   "group requiredScopes"])
def test_scopes_without_oauth_are_a_config_error(mcp_proxy_bin, mock_server_bin, tmp_path, where):
    config = mock_config(mock_server_bin)
    key = where.split()[1]
    if where.startswith("server"):
        value = ["s"] if key == "requiredScopes" else {"echo": ["s"]}
        config["mcpServers"]["mock"]["options"] = {key: value}
    else:
        config["mcpProxy"]["groups"] = {"g": {"servers": ["mock"], key: ["s"]}}
    done = run_config(mcp_proxy_bin, tmp_path, config)
    assert done.returncode == 2, done.stderr
    assert key in done.stderr


@pytest.mark.parametrize("oauth, key", [
    ({"issuer": ISSUER, "jwksUri": "http://jwks.example/jwks.json"}, "jwksUri"),
    ({"jwksFile": "JWKS"}, "issuer"),
    ({"issuer": ISSUER, "jwksFile": "MISSING"}, "jwksFile"),
    ({"issuer": ISSUER, "jwksFile": "BAD"}, "jwksFile"),
])
def test_bad_oauth_settings_are_config_errors(mcp_proxy_bin, mock_server_bin, tmp_path, jwks_file,
                                              oauth, key):
    bad = tmp_path / "bad-jwks.json"
    bad.write_text('{"keys": [{"kty": "RSA", "kid": "k"}]}')
    files = {"JWKS": str(jwks_file), "MISSING": str(tmp_path / "missing.json"), "BAD": str(bad)}
    oauth = {k: files.get(v, v) if isinstance(v, str) else v for k, v in oauth.items()}
    done = run_config(mcp_proxy_bin, tmp_path, oauth_config(mock_server_bin, oauth))
    assert done.returncode == 2, done.stderr
    assert "$.mcpProxy.oauth" in done.stderr and key in done.stderr, done.stderr
