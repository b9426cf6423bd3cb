"""Authorization by identity (issue #16 item 3: `mcpProxy.access`, docs/security.md "Access by
identity"): which tools, prompts and resources each authenticated caller may see and use.

Identities come from static tokens with names (`authTokens` entries {"name", "token"}) and from
JWTs minted here (oauth_fixtures: an ES256 key made at test time, its JWK set given to the proxy
as `jwksFile`, an extra audience so that one token works on every route). What is checked, each
against real answers of the proxy:

* Lists (tools/list, prompts/list, resources/list, resources/templates/list) show exactly what
  the identity may use, on a server route (`/mock/mcp`, `/other/mcp`), the merged `/mcp` and a
  group, over Streamable HTTP, legacy SSE and 2026-07-28 (stateless) requests. The expected lists
  are the lists of an unrestricted identity, cut down by a small model of the documented rules
  (`model_allows`, over the same JSON rules the proxy is given), with literal spot checks so that
  the model cannot drift unnoticed.
* A call outside (tools/call, prompts/get, resources/read) gets exactly what a call of an item
  that does not exist gets on the same route and session (asked for in the same test), except
  for the name; resources/subscribe of a refused resource is -32002 "Resource not found", and no
  update of that resource reaches the caller. Allowed calls reach the backend.
* Rule semantics: identities by token name, sub, group, scope and a dotted claim; `servers` makes
  patterns apply to the server's own names, without it to the exposed names (prefix `oth` for
  server `other`: a rule on `other__meta` matches nothing), on every route; rules add up and a
  deny wins; an identity no rule matches gets `default` (deny, or allow); `"*"` matches anonymous
  callers of a route that needs no token.
* Composition: a server's `options.toolFilter`, a group's `toolFilter` and `?tools=` narrowing
  on `/mcp` all apply too; an item must pass every one.
* Sessions are bound to the identity that opened them: POST, GET and DELETE with another valid
  identity's credential are answered exactly as for an unknown session id (and do not end the
  session); a fresh token of the same identity keeps working. Legacy SSE: a POST to a session's
  message endpoint by another identity is answered as for an unknown sessionId and does not reach
  the session.
* `sessionMode: per-client`: each identity's session has its own backend process.
* Without `mcpProxy.access`, named static tokens keep every tool, prompt and resource.

The proxy most tests share runs once per module; the others are started by the test. Every proxy
binds 127.0.0.1 port 0, is stopped by PID and must exit 0 on SIGTERM without a sanitizer report
and without any credential sent to it in its output.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

import httpx
import pytest

from conftest import (HTTP_TIMEOUT_S, LATEST_PROTOCOL_VERSION, McpClient, ProxyProcess,
                      mock_config, process_exists, text_of)
from mcp_modern import request_meta
from mcp_session import LegacySseSession, is_notification, modern_headers
from oauth_fixtures import ISSUER, SigningKey, claims, jwks_of, make_key
from proxy_fleet import ProxyFleet, SentCredentials

AUD = "urn:mcp-proxy:access-conformance"  # an extra audience: one JWT works on every route
SEP = "__"
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
RESOURCE_NOT_FOUND = -32002
MAX_PAGES = 50
NOTIFY_TIMEOUT_S = 10.0
QUIET_S = 1.0  # how long a message that must not come is waited for, after one that must
HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}

# Names of nothing: what a call of an item that does not exist gets is asked with these.
NO_TOOL = "no_such_tool_q9z"
NO_PROMPT = "no_such_prompt_q9z"
NO_URI = "test://no-such-resource-q9z"

# --------------------------------------------------------------------------------------------
# Identities

STATIC = {  # static token name -> token
    "root": "access-root_7Hq2xK",
    "alpha": "access-alpha_Vb81mZ",
    "beta": "access-beta_Qo55sW",
    "gamma": "access-gamma_Lt33nP",
}
JWT_CLAIMS = {  # identity -> the claims that make it who it is
    "alice": {"sub": "alice"},
    "admin": {"sub": "carol", "groups": ["staff", "admins"]},
    "admin_no_add": {"sub": "dave", "groups": "admins", "scope": "mcp:read mcp:no-add"},
    "auditor": {"sub": "erin", "org": {"roles": ["dev", "auditor"]}},
    "bob": {"sub": "bob", "groups": ["staff"], "scope": "mcp:read"},
}

# Every credential a test sent: no proxy's output may hold one (checked when proxies stop).
SENT = SentCredentials(STATIC.values())
auth = SENT.bearer
leaked_in = SENT.leaked_in


# --------------------------------------------------------------------------------------------
# The rules of the shared proxy, and a model of their documented meaning

PREFIX = {"mock": "mock", "other": "oth"}  # server -> prefix of its exposed names

MAIN_RULES = [
    {"identity": {"token": "root"}},
    # Exposed names on every route. "other__meta" names nothing: other's prefix is "oth".
    {"identity": {"token": "alpha"},
     "allow": {"tools": ["mock__echo", "mock__add", "mock__touch_resource", "oth__e*", "oth__add",
                         "oth__sleep", "oth__pid", "other__meta"],
               "prompts": ["mock__test_simple_prompt"],
               "resources": ["test://static-*", "test://template/*"]},
     "deny": {"tools": ["oth__sleep"]}},
    # Own names of one server: "echo" is mock's echo only.
    {"identity": {"token": "beta"}, "servers": ["mock"],
     "allow": {"tools": ["echo", "pid"], "prompts": [], "resources": ["test://watched-resource"]}},
    {"identity": {"sub": "alice"},
     "allow": {"tools": ["*__echo"], "prompts": [], "resources": []}},
    {"identity": {"group": "admins"}},
    # Adds nothing, takes away: a deny wins over the allow of the admins' rule.
    {"identity": {"scope": "mcp:no-add"}, "allow": {"tools": [], "prompts": [], "resources": []},
     "deny": {"tools": ["*__add"], "prompts": ["*__test_prompt_with_*"]}},
    {"identity": {"claim": "org.roles", "value": "auditor"}, "servers": ["oth*"],
     "allow": {"tools": ["meta"]}},
]
# gamma and bob match no rule: the default (deny) applies to them.

LISTS = {  # list method -> (result key, item field, kind)
    "tools/list": ("tools", "name", "tools"),
    "prompts/list": ("prompts", "name", "prompts"),
    "resources/list": ("resources", "uri", "resources"),
    "resources/templates/list": ("resourceTemplates", "uriTemplate", "resources"),
}


def glob(pattern: str, name: str) -> bool:
    """The globs of filters and rules: `*` any run of characters, `?` one, the rest itself."""
    rx = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(rx, name, re.S) is not None


def exposed_name(kind: str, server: str, own: str) -> str:
    return own if kind == "resources" else f"{prefix_of(server)}{SEP}{own}"


def _claim_at(claims_: dict, path: str) -> Any:
    node: Any = claims_
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _holds(value: Any, wanted: str) -> bool:
    return value == wanted or (isinstance(value, list) and wanted in value)


def identity_matches(rule_identity: Any, who: dict) -> bool:
    """`who`: {"token": NAME} for a static token, else a JWT's claims."""
    if rule_identity == "*":
        return True
    (key, value), = [(k, v) for k, v in rule_identity.items() if k != "value"]
    if key == "token":
        return who.get("token") == value
    if "token" in who:
        return False  # a static token carries no claims
    if key == "sub":
        return who.get("sub") == value
    if key == "group":
        return _holds(who.get("groups"), value)
    if key == "scope":
        return value in str(who.get("scope", "")).split(" ")
    return _holds(_claim_at(who, value), rule_identity["value"])


def model_allows(rules: list, default: str, who: dict, kind: str, server: str, own: str) -> bool:
    """docs/security.md: the matching rules are gathered; an item is allowed when some matching
    rule about it allows it and none denies it; no matching rule: the default."""
    matched = [r for r in rules if identity_matches(r["identity"], who)]
    if not matched:
        return default == "allow"
    allowed = denied = False
    for r in matched:
        if "servers" in r:
            if not any(glob(s, server) for s in r["servers"]):
                continue
            name = own
        else:
            name = exposed_name(kind, server, own)
        allow, deny = r.get("allow"), r.get("deny") or {}
        if allow is None or kind not in allow or any(glob(p, name) for p in allow[kind]):
            allowed = True
        if kind in deny and any(glob(p, name) for p in deny[kind]):
            denied = True
    return allowed and not denied


def facts_of(identity: str) -> dict:
    return {"token": identity} if identity in STATIC else JWT_CLAIMS[identity]


# --------------------------------------------------------------------------------------------
# Routes: what a shown name means


ROUTES = {  # route -> the servers behind it (one: a server route, names as the server's own)
    "/mock/mcp": ["mock"], "/other/mcp": ["other"], "/mcp": ["mock", "other"],
    "/team/mcp": ["mock", "other"],
}


def servers_of(route: str) -> list[str]:
    """The servers behind a route: a merged one's, or the one of /NAME/mcp and /NAME/sse."""
    if route in ROUTES:
        return ROUTES[route]
    m = re.fullmatch(r"/([^/]+)/(?:mcp|sse)", route)
    assert m, route
    return [m.group(1)]


def prefix_of(server: str) -> str:
    return PREFIX.get(server, server)


def item_of(route: str, kind: str, shown: str) -> tuple[str, str]:
    """(server, own name) of an item shown on a route."""
    servers = servers_of(route)
    if len(servers) == 1:
        return servers[0], shown
    if kind == "resources":
        return "mock", shown  # only the fixture has resources (checked by `universe`)
    for server in servers:
        if shown.startswith(prefix_of(server) + SEP):
            return server, shown[len(prefix_of(server) + SEP):]
    raise AssertionError(f"{shown!r} on {route} has no known prefix")


def shown_name(route: str, kind: str, server: str, own: str) -> str:
    if len(servers_of(route)) == 1 or kind == "resources":
        return own
    return f"{prefix_of(server)}{SEP}{own}"


# --------------------------------------------------------------------------------------------
# Clients


class AuthClient(McpClient):
    """McpClient sending `Authorization: Bearer <token>` with every request."""

    def __init__(self, url: str, http: httpx.Client, token: Optional[str]):
        super().__init__(url, http)
        self.auth = auth(token) if token is not None else {}

    def headers(self, session: Any = None, extra: Optional[dict] = None) -> dict:
        return super().headers(session, {**self.auth, **(extra or {})})


def list_all(request: Callable[[str, dict], dict], method: str) -> Optional[list[str]]:
    """Every item's name (or URI) of a list, every page, bounded; None when the route has no such
    list (-32601: a server without prompts or resources)."""
    key, field, _ = LISTS[method]
    names: list[str] = []
    cursor = None
    for _ in range(MAX_PAGES):
        response = request(method, {"cursor": cursor} if cursor else {})
        if cursor is None and (response.get("error") or {}).get("code") == METHOD_NOT_FOUND:
            return None
        assert "result" in response, f"{method}: {response}"
        result = response["result"]
        names += [item[field] for item in result.get(key) or []]
        cursor = result.get("nextCursor")
        if not cursor:
            return names
    raise AssertionError(f"{method}: still a nextCursor after {MAX_PAGES} pages")


def shown_sorted(names: Optional[set]) -> Optional[list]:
    return None if names is None else sorted(names)


def all_lists(request: Callable[[str, dict], dict]) -> dict[str, Optional[set]]:
    """list method -> the set of names it shows (None: the route has no such list)."""
    out: dict[str, Optional[set]] = {}
    for method in LISTS:
        names = list_all(request, method)
        if names is None:
            out[method] = None
            continue
        assert len(names) == len(set(names)), f"{method} lists a name twice: {names}"
        out[method] = set(names)
    return out


SAFE_TOOLS = {  # own name -> arguments: tools a test may call (nothing slow, nothing that crashes)
    "echo": {"text": "access granted"}, "add": {"a": 2, "b": 40}, "pid": {}, "meta": {},
    "sleep": {"ms": 1}, "env": {"name": "HOME"}, "cwd": {}, "test_simple_text": {},
}
NO_ARG_PROMPTS = {"test_simple_prompt", "test_prompt_with_image"}
TEMPLATE_URI = "test://template/7/data"  # an instance of test://template/{id}/data


def call_params(kind: str, name: str, own: str) -> tuple[str, dict]:
    if kind == "tools":
        return "tools/call", {"name": name, "arguments": SAFE_TOOLS.get(own, {})}
    if kind == "prompts":
        return "prompts/get", {"name": name, "arguments": {}}
    return "resources/read", {"uri": name}


def as_unknown(error: dict, probe_shown: str, probe_own: str, shown: str, own: str) -> dict:
    """An error about the probe's name, made about another name: the full name first, then the
    server's own part of it (a backend's message names its own name)."""
    text = json.dumps(error).replace(probe_shown, shown)
    if probe_own != probe_shown:
        text = text.replace(probe_own, own)
    return json.loads(text)


def probe_names(route: str, kind: str, server: str) -> tuple[str, str]:
    """(shown, own) of a name that exists nowhere, in the namespace of `server` on `route`."""
    own = {"tools": NO_TOOL, "prompts": NO_PROMPT, "resources": NO_URI}[kind]
    return shown_name(route, kind, server, own), own


def assert_refused_like_unknown(request: Callable[[str, dict], dict], route: str, kind: str,
                                server: str, own: str, what: str) -> None:
    """Calls the item and an item that does not exist (same route, session and namespace): the
    errors must be the same but for the name."""
    shown = shown_name(route, kind, server, own)
    probe_shown, probe_own = probe_names(route, kind, server)
    method, params = call_params(kind, probe_shown, probe_own)
    unknown = request(method, params)
    assert "error" in unknown, f"{what}: {method} of {probe_shown!r} (exists nowhere): {unknown}"
    method, params = call_params(kind, shown, own)
    refused = request(method, params)
    assert "error" in refused, f"{what}: {method} of {shown!r} was served: {str(refused)[:400]}"
    expected = as_unknown(unknown["error"], probe_shown, probe_own, shown, own)
    assert refused["error"] == expected, (
        f"{what}: {method} of {shown!r} is answered {refused['error']}, but an item that does not "
        f"exist is answered {unknown['error']}")


def assert_served(request: Callable[[str, dict], dict], route: str, kind: str, server: str,
                  own: str, what: str) -> None:
    shown = shown_name(route, kind, server, own)
    method, params = call_params(kind, shown, own)
    response = request(method, params)
    assert "result" in response, f"{what}: {method} of {shown!r}: {str(response)[:400]}"
    result = response["result"]
    if kind == "tools":
        assert not result.get("isError"), f"{what}: {shown}: {result}"
        if own == "echo":
            assert text_of(response) == "access granted", result
        if own == "add":
            assert result["structuredContent"] == {"sum": 42}, result
    elif kind == "prompts":
        assert result.get("messages"), f"{what}: {shown}: {result}"
    else:
        assert [c.get("uri") for c in result.get("contents", [])] == [own], f"{what}: {result}"


# --------------------------------------------------------------------------------------------
# Proxies


@pytest.fixture(scope="module")
def module_proxies(mcp_proxy_bin, tmp_path_factory) -> Iterator[ProxyFleet]:
    proxies = ProxyFleet(mcp_proxy_bin, tmp_path_factory.mktemp("access-proxies"), SENT)
    yield proxies
    problems = proxies.stop_all()
    if problems:
        pytest.fail("\n\n".join(problems))


@pytest.fixture
def proxies(mcp_proxy_bin, tmp_path) -> Iterator[ProxyFleet]:
    p = ProxyFleet(mcp_proxy_bin, tmp_path, SENT)
    yield p
    problems = p.stop_all()
    if problems:
        pytest.fail("\n\n".join(problems))


@pytest.fixture(scope="module")
def key() -> SigningKey:
    return make_key("ES256")


@pytest.fixture(scope="module")
def jwks_file(tmp_path_factory, key) -> Path:
    path = tmp_path_factory.mktemp("access-jwks") / "jwks.json"
    path.write_text(json.dumps(jwks_of(key)))
    return path


@pytest.fixture(scope="module")
def token_of(key) -> Callable[[str], str]:
    """The credential of an identity: its static token, or a fresh JWT with its claims."""

    def make(identity: str) -> str:
        if identity in STATIC:
            return STATIC[identity]
        body = dict(JWT_CLAIMS[identity])
        token = key.sign(claims(AUD, sub=body.pop("sub"), **body))
        SENT.add(token)
        return token

    return make


@pytest.fixture(scope="module")
def http_m() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=HTTP_TIMEOUT_S, trust_env=False) as c:
        yield c


def static_tokens(*names: str) -> list:
    return [{"name": n, "token": STATIC[n]} for n in names]


def servers_config(mock_server_bin: Path) -> dict:
    return mock_config(
        mock_server_bin,
        mock={"args": ["--fixture", "conformance"], "sessionMode": "shared"},
        other={"sessionMode": "shared", "prefix": "oth",
               "options": {"toolFilter": {"mode": "block", "list": ["add"]}}})


def main_config(mock_server_bin: Path, jwks_file: Path, access: Optional[dict]) -> dict:
    config = servers_config(mock_server_bin)
    config["mcpProxy"]["options"] = {"authTokens": static_tokens(*STATIC)}
    config["mcpProxy"]["oauth"] = {"issuer": ISSUER, "jwksFile": str(jwks_file),
                                   "audiences": [AUD]}
    config["mcpProxy"]["groups"] = {
        "team": {"servers": ["mock", "other"],
                 "toolFilter": {"mode": "block", "list": ["mock__meta"]}}}
    if access is not None:
        config["mcpProxy"]["access"] = access
    return config


@pytest.fixture(scope="module")
def main(module_proxies, mock_server_bin, jwks_file) -> ProxyProcess:
    """The mock (with its conformance fixture: prompts, resources, a template) at /mock, the
    plain mock at /other (prefix oth, its add tool filtered out), both merged at /mcp and in the
    group /team (which filters out mock__meta); MAIN_RULES, default deny."""
    return module_proxies.start(main_config(mock_server_bin, jwks_file,
                                            {"default": "deny", "rules": MAIN_RULES}))


def url_of(proxy: ProxyProcess, route: str) -> str:
    return proxy.base_url + route


def session(proxy: ProxyProcess, http: httpx.Client, route: str, token: Optional[str]) -> AuthClient:
    return AuthClient(url_of(proxy, route), http, token).open_session()


@pytest.fixture(scope="module")
def universe(main, http_m, token_of) -> dict:
    """route -> list method -> every name an unrestricted identity (root) is shown there."""
    out = {}
    for route in ROUTES:
        client = session(main, http_m, route, token_of("root"))
        try:
            out[route] = all_lists(client.request)
        finally:
            client.delete()
    # What the tests below take for granted about the mock, its fixture and the filters.
    mock, other, merged, team = (out[r] for r in ("/mock/mcp", "/other/mcp", "/mcp", "/team/mcp"))
    assert set(SAFE_TOOLS) | {"touch_resource"} <= mock["tools/list"], mock
    assert {"echo", "pid", "meta", "sleep", "env", "cwd"} <= other["tools/list"], other
    assert "add" not in other["tools/list"], "options.toolFilter does not hide other's add"
    assert NO_ARG_PROMPTS <= mock["prompts/list"] and len(mock["prompts/list"]) >= 3, mock
    assert {"test://static-text", "test://static-binary",
            "test://watched-resource"} <= mock["resources/list"], mock
    assert mock["resources/templates/list"] == {"test://template/{id}/data"}, mock
    assert not other["prompts/list"] and not other["resources/list"], other  # none, or no list
    assert {"mock__echo", "oth__echo", "mock__meta"} <= merged["tools/list"], merged
    assert "mock__meta" not in team["tools/list"] and "mock__echo" in team["tools/list"], team
    return out


def expected_lists(universe: dict, route: str, identity: str,
                   rules: list = MAIN_RULES, default: str = "deny") -> dict[str, set]:
    who = facts_of(identity)
    out = {}
    for method, names in universe[route].items():
        kind = LISTS[method][2]
        out[method] = None if names is None else {
            n for n in names if model_allows(rules, default, who, kind, *item_of(route, kind, n))}
    return out


IDENTITIES = ["root", "alpha", "beta", "gamma", "alice", "admin", "admin_no_add", "auditor", "bob"]

# Literal expectations: the model and the universe must agree with these.
SPOT = {
    ("alpha", "/mock/mcp"): {"tools/list": {"echo", "add", "touch_resource"},
                             "prompts/list": {"test_simple_prompt"},
                             "resources/list": {"test://static-text", "test://static-binary"},
                             "resources/templates/list": {"test://template/{id}/data"}},
    ("alpha", "/other/mcp"): {"tools/list": {"echo", "env", "pid"}},
    ("alpha", "/mcp"): {"tools/list": {"mock__echo", "mock__add", "mock__touch_resource",
                                       "oth__echo", "oth__env", "oth__pid"},
                        "prompts/list": {"mock__test_simple_prompt"}},
    ("beta", "/mock/mcp"): {"tools/list": {"echo", "pid"}, "prompts/list": set(),
                            "resources/list": {"test://watched-resource"},
                            "resources/templates/list": set()},
    ("beta", "/other/mcp"): {"tools/list": set()},
    ("beta", "/mcp"): {"tools/list": {"mock__echo", "mock__pid"}},
    ("gamma", "/mcp"): {"tools/list": set(), "prompts/list": set(), "resources/list": set(),
                        "resources/templates/list": set()},
    ("alice", "/mcp"): {"tools/list": {"mock__echo", "oth__echo"}, "prompts/list": set(),
                        "resources/list": set()},
    ("alice", "/team/mcp"): {"tools/list": {"mock__echo", "oth__echo"}},
    ("admin_no_add", "/mock/mcp"): {"prompts/list": {"test_simple_prompt"}},
    ("auditor", "/mcp"): {"tools/list": {"oth__meta"}, "prompts/list": set(),
                          "resources/list": set()},
    ("auditor", "/other/mcp"): {"tools/list": {"meta"}},
    ("bob", "/mock/mcp"): {"tools/list": set(), "prompts/list": set()},
}


def test_the_model_agrees_with_the_literal_expectations(universe):
    for (identity, route), lists in SPOT.items():
        expected = expected_lists(universe, route, identity)
        for method, names in lists.items():
            assert expected[method] == names, (identity, route, method, expected[method])
    everything = expected_lists(universe, "/mcp", "admin")
    assert everything == universe["/mcp"]
    no_add = expected_lists(universe, "/mock/mcp", "admin_no_add")["tools/list"]
    assert no_add == universe["/mock/mcp"]["tools/list"] - {"add"}


# --------------------------------------------------------------------------------------------
# Lists and calls over Streamable HTTP, on server routes, the merged endpoint and a group


@pytest.mark.parametrize("route", list(ROUTES))
@pytest.mark.parametrize("identity", IDENTITIES)
def test_lists_show_exactly_what_the_identity_may_use(main, universe, http, token_of, identity,
                                                      route):
    client = session(main, http, route, token_of(identity))
    try:
        got = all_lists(client.request)
    finally:
        client.delete()
    expected = expected_lists(universe, route, identity)
    for method in LISTS:
        assert got[method] == expected[method], (
            f"{identity} on {route}, {method}: shown {shown_sorted(got[method])}, expected "
            f"{shown_sorted(expected[method])}")


def call_cases(universe: dict, route: str) -> list[tuple[str, str, str]]:
    """(kind, server, own name) of what a test calls on a route: the safe tools, the prompts
    without arguments, every resource and an instance of the template."""
    cases = []
    for shown in sorted(universe[route]["tools/list"] or ()):
        server, own = item_of(route, "tools", shown)
        if own in SAFE_TOOLS:
            cases.append(("tools", server, own))
    for shown in sorted(universe[route]["prompts/list"] or ()):
        server, own = item_of(route, "prompts", shown)
        if own in NO_ARG_PROMPTS:
            cases.append(("prompts", server, own))
    if universe[route]["resources/list"]:
        for uri in sorted(universe[route]["resources/list"]) + [TEMPLATE_URI]:
            cases.append(("resources", "mock", uri))
    return cases


@pytest.mark.parametrize("route", list(ROUTES))
@pytest.mark.parametrize("identity", IDENTITIES)
def test_calls_outside_the_grant_are_answered_as_for_an_unknown_item(main, universe, http,
                                                                      token_of, identity, route):
    who = facts_of(identity)
    client = session(main, http, route, token_of(identity))
    served = refused = 0
    try:
        for kind, server, own in call_cases(universe, route):
            what = f"{identity} on {route}"
            if model_allows(MAIN_RULES, "deny", who, kind, server, own):
                assert_served(client.request, route, kind, server, own, what)
                served += 1
            else:
                assert_refused_like_unknown(client.request, route, kind, server, own, what)
                refused += 1
    finally:
        client.delete()
    assert served + refused >= 4, (served, refused)


def test_an_exposed_name_rule_matches_on_the_server_route_where_the_name_is_shown_bare(
        main, http, token_of):
    """alpha's rule names mock__echo: /mock/mcp shows and serves `echo`; a tool named
    `mock__echo` does not exist there."""
    client = session(main, http, "/mock/mcp", token_of("alpha"))
    try:
        assert "echo" in list_all(client.request, "tools/list")
        assert text_of(client.call_tool("echo", {"text": "access granted"})) == "access granted"
        response = client.call_tool("mock__echo", {"text": "x"})
        assert response.get("error", {}).get("code") == INVALID_PARAMS, response
    finally:
        client.delete()


def test_a_rule_on_the_server_name_instead_of_the_prefix_matches_nothing(main, http, token_of):
    """alpha's `other__meta` is no exposed name (other's prefix is oth): meta stays hidden."""
    for route, name in (("/other/mcp", "meta"), ("/mcp", "oth__meta")):
        client = session(main, http, route, token_of("alpha"))
        try:
            assert name not in list_all(client.request, "tools/list"), route
            assert_refused_like_unknown(client.request, route, "tools", "other", "meta", route)
        finally:
            client.delete()


def test_own_name_rules_are_about_their_servers_only(main, http, token_of):
    """beta may use mock's echo (`servers: [mock]`, own names), not other's echo."""
    client = session(main, http, "/mcp", token_of("beta"))
    try:
        assert text_of(client.call_tool("mock__echo", {"text": "access granted"})) == \
            "access granted"
        assert_refused_like_unknown(client.request, "/mcp", "tools", "other", "echo", "beta")
    finally:
        client.delete()


def test_a_deny_in_one_rule_wins_over_the_allow_of_another(main, http, token_of):
    """admin_no_add: its groups give everything, its scope's rule denies *__add."""
    client = session(main, http, "/mcp", token_of("admin_no_add"))
    try:
        tools = set(list_all(client.request, "tools/list"))
        assert "mock__add" not in tools and {"mock__echo", "mock__meta"} <= tools, tools
        assert_refused_like_unknown(client.request, "/mcp", "tools", "mock", "add", "no-add")
        assert client.call_tool("mock__meta")["result"], "meta"
    finally:
        client.delete()
    client = session(main, http, "/mcp", token_of("admin"))
    try:
        response = client.call_tool("mock__add", {"a": 2, "b": 40})
        assert response["result"]["structuredContent"] == {"sum": 42}, response
    finally:
        client.delete()


def test_access_composes_with_server_and_group_filters(main, http, token_of):
    """options.toolFilter hides other's add from everyone, access or not; the group's filter
    hides mock__meta on /team/mcp from admin, who may use it on /mcp."""
    for identity in ("admin", "alpha"):
        for route, name in (("/other/mcp", "add"), ("/mcp", "oth__add"), ("/team/mcp", "oth__add")):
            client = session(main, http, route, token_of(identity))
            try:
                assert name not in list_all(client.request, "tools/list"), (identity, route)
                response = client.call_tool(name, {"a": 1, "b": 2})
                error = response.get("error") or {}
                # The filter's own answer (older than access): an unknown tool.
                assert error.get("code") == INVALID_PARAMS, (identity, route, response)
                assert error.get("message", "").lower() == f"unknown tool: {name}", response
            finally:
                client.delete()
    client = session(main, http, "/team/mcp", token_of("admin"))
    try:
        assert "mock__meta" not in list_all(client.request, "tools/list")
        assert client.call_tool("mock__meta").get("error", {}).get("code") == INVALID_PARAMS
        assert "result" in client.call_tool("mock__echo", {"text": "x"})
    finally:
        client.delete()


def test_narrowing_on_the_merged_endpoint_can_only_narrow(main, http, token_of):
    """?tools= picks among what access allows: an item must pass both."""
    client = AuthClient(url_of(main, "/mcp?tools=mock__*,oth__sleep,oth__meta"), http,
                        token_of("alpha")).open_session()
    try:
        tools = set(list_all(client.request, "tools/list"))
        assert tools == {"mock__echo", "mock__add", "mock__touch_resource"}, tools
        assert text_of(client.call_tool("mock__echo", {"text": "access granted"})) == \
            "access granted"
        # Narrowed in, denied by access; allowed by access, narrowed out; neither.
        for own in ("sleep", "echo", "meta"):
            assert_refused_like_unknown(client.request, "/mcp", "tools", "other", own, "narrowed")
    finally:
        client.delete()
    client = AuthClient(url_of(main, "/mcp?tools=*"), http, token_of("beta")).open_session()
    try:
        assert set(list_all(client.request, "tools/list")) == {"mock__echo", "mock__pid"}
    finally:
        client.delete()


def test_a_refused_subscription_is_resource_not_found_and_brings_no_updates(main, token_of):
    """beta may read test://watched-resource and subscribes to it; alpha may not: its
    subscribe is -32002, and when alpha's touch_resource changes the resource only beta hears."""
    uri = "test://watched-resource"
    with LegacySseSession(url_of(main, "/mock/sse"), headers=auth(token_of("beta"))) as beta, \
            LegacySseSession(url_of(main, "/mock/sse"), headers=auth(token_of("alpha"))) as alpha:
        beta.open()
        alpha.open()
        assert beta.request("resources/subscribe", {"uri": uri}).get("result") == {}
        refused = alpha.request("resources/subscribe", {"uri": uri})
        assert refused.get("error", {}).get("code") == RESOURCE_NOT_FOUND, refused
        assert refused["error"].get("message") == f"Resource not found: {uri}", refused
        alpha_mark = alpha.mark()
        touched = alpha.call_tool("touch_resource", {"uri": uri})
        assert "result" in touched, touched

        def updated(m: dict) -> bool:
            return is_notification(m) and m.get("method") == "notifications/resources/updated" \
                and (m.get("params") or {}).get("uri") == uri

        assert beta.wait_for(updated, NOTIFY_TIMEOUT_S) is not None, beta.diagnostics()
        assert alpha.request("ping").get("result") == {}
        time.sleep(QUIET_S)  # nothing to wait on: what must not come is given time to come
        assert not [m for m in alpha.messages(start=alpha_mark) if updated(m)]


# --------------------------------------------------------------------------------------------
# Legacy SSE


@pytest.mark.parametrize("sse_route, route", [("/mock/sse", "/mock/mcp"), ("/sse", "/mcp"),
                                              ("/team/sse", "/team/mcp")])
@pytest.mark.parametrize("identity", ["alpha", "beta", "gamma", "alice", "admin_no_add"])
def test_legacy_sse_lists_and_calls_follow_the_grant(main, universe, token_of, identity,
                                                     sse_route, route):
    who = facts_of(identity)
    with LegacySseSession(url_of(main, sse_route), headers=auth(token_of(identity))) as sse:
        sse.open()
        got = all_lists(sse.request)
        expected = expected_lists(universe, route, identity)
        for method in LISTS:
            assert got[method] == expected[method], (identity, sse_route, method, got[method])
        for kind, server, own in call_cases(universe, route):
            what = f"{identity} on {sse_route}"
            if model_allows(MAIN_RULES, "deny", who, kind, server, own):
                assert_served(sse.request, route, kind, server, own, what)
            else:
                assert_refused_like_unknown(sse.request, route, kind, server, own, what)


# --------------------------------------------------------------------------------------------
# 2026-07-28 requests (stateless: the identity is checked on each)


def modern_request(http: httpx.Client, url: str, token: str, method: str,
                   params: Optional[dict] = None, rid: Any = 1) -> tuple[int, dict]:
    p = dict(params or {})
    p["_meta"] = request_meta()
    message = {"jsonrpc": "2.0", "id": rid, "method": method, "params": p}
    headers = {**modern_headers(message), **auth(token)}
    with http.stream("POST", url, content=json.dumps(message).encode(), headers=headers) as r:
        reply = McpClient(url, http)._read(r, rid)
    assert "mcp-session-id" not in reply.headers, reply.headers
    return reply.status, reply.response_to(rid)


@pytest.mark.parametrize("route", ["/mock/mcp", "/other/mcp", "/mcp", "/team/mcp"])
@pytest.mark.parametrize("identity", ["alpha", "beta", "gamma", "alice", "admin_no_add"])
def test_modern_requests_follow_the_grant(main, universe, http, token_of, identity, route):
    who = facts_of(identity)
    url = url_of(main, route)
    statuses: dict[str, int] = {}
    rids = iter(range(1, 10_000))

    def request(method: str, params: dict) -> dict:
        status, response = modern_request(http, url, token_of(identity), method, params,
                                          next(rids))
        statuses[json.dumps([method, params.get("name", params.get("uri"))])] = status
        return response

    got = all_lists(request)
    expected = expected_lists(universe, route, identity)
    for method in LISTS:
        assert got[method] == expected[method], (identity, route, method, got[method])
    for kind, server, own in call_cases(universe, route):
        what = f"{identity} on {route} (2026-07-28)"
        if model_allows(MAIN_RULES, "deny", who, kind, server, own):
            assert_served(request, route, kind, server, own, what)
        else:
            assert_refused_like_unknown(request, route, kind, server, own, what)
            # The HTTP status of the refusal is that of the unknown item's answer too.
            probe_shown, _ = probe_names(route, kind, server)
            method = call_params(kind, probe_shown, probe_shown)[0]
            shown = shown_name(route, kind, server, own)
            assert statuses[json.dumps([method, shown])] == \
                statuses[json.dumps([method, probe_shown])], (what, shown, statuses)


# --------------------------------------------------------------------------------------------
# Sessions are bound to the identity that opened them


def raw_post(http: httpx.Client, url: str, token: str, sid: str, body: dict) -> httpx.Response:
    return http.post(url, content=json.dumps(body),
                     headers={**HEADERS, **auth(token), "Mcp-Session-Id": sid,
                              "MCP-Protocol-Version": LATEST_PROTOCOL_VERSION})


def raw_get(http: httpx.Client, url: str, token: str, sid: str) -> tuple[int, str, bytes]:
    headers = {"Accept": "text/event-stream", **auth(token), "Mcp-Session-Id": sid,
               "MCP-Protocol-Version": LATEST_PROTOCOL_VERSION}
    with http.stream("GET", url, headers=headers) as r:
        # A 200 is a stream that may never end: its body is not read.
        body = r.read() if r.status_code != 200 else b"<an event stream>"
        return r.status_code, r.headers.get("content-type", ""), body


def raw_delete(http: httpx.Client, url: str, token: str, sid: str) -> httpx.Response:
    return http.delete(url, headers={**auth(token), "Mcp-Session-Id": sid,
                                     "MCP-Protocol-Version": LATEST_PROTOCOL_VERSION})


def shape(r: httpx.Response) -> tuple:
    return r.status_code, r.headers.get("content-type", ""), r.content


def unknown_session_id(sid: str) -> str:
    """An id of the same length and alphabet that names no session."""
    flipped = "0" if sid[-1] != "0" else "1"
    return sid[:-1] + flipped


@pytest.mark.parametrize("route", ["/mock/mcp", "/mcp", "/team/mcp"])
@pytest.mark.parametrize("owner, intruder", [("alpha", "beta"), ("alice", "bob"),
                                             ("alpha", "root"), ("alice", "alpha")])
def test_another_identity_is_answered_as_for_an_unknown_session(main, http, token_of, route,
                                                                 owner, intruder):
    url = url_of(main, route)
    client = session(main, http, route, token_of(owner))
    sid = client.session_id
    assert sid, "no session id"
    other = unknown_session_id(sid)
    token = token_of(intruder)
    try:
        for body in ({"jsonrpc": "2.0", "id": 41, "method": "ping"},
                     {"jsonrpc": "2.0", "id": 42, "method": "tools/list"},
                     {"jsonrpc": "2.0", "method": "notifications/initialized"}):
            foreign, unknown = raw_post(http, url, token, sid, body), raw_post(http, url, token,
                                                                               other, body)
            assert unknown.status_code == 404, shape(unknown)
            assert shape(foreign) == shape(unknown), (body, shape(foreign), shape(unknown))
        foreign_get, unknown_get = raw_get(http, url, token, sid), raw_get(http, url, token, other)
        assert unknown_get[0] == 404 and foreign_get == unknown_get, (foreign_get, unknown_get)
        foreign_delete = raw_delete(http, url, token, sid)
        unknown_delete = raw_delete(http, url, token, other)
        assert unknown_delete.status_code == 404
        assert shape(foreign_delete) == shape(unknown_delete), shape(foreign_delete)
        # The session is its owner's still, and alive: the intruder's DELETE ended nothing.
        assert client.request("ping").get("result") == {}
        echo = "mock__echo" if route != "/mock/mcp" else "echo"
        assert text_of(client.call_tool(echo, {"text": "mine"})) == "mine"
        assert raw_get(http, url, token_of(owner), sid)[0] == 200
    finally:
        r = client.delete()
    assert r.status_code in (200, 204), (r.status_code, r.text)


def test_a_fresh_token_of_the_same_identity_keeps_the_session(main, http, token_of):
    """Tokens are refreshed: a new JWT with the same sub is the same identity."""
    first, second = token_of("alice"), token_of("alice")
    assert first != second
    client = session(main, http, "/mcp", first)
    try:
        client.auth = auth(second)
        assert text_of(client.call_tool("mock__echo", {"text": "refreshed"})) == "refreshed"
    finally:
        assert client.delete().status_code in (200, 204)


def test_a_legacy_sse_session_answers_only_its_own_identity(main, http, token_of):
    owner = token_of("alpha")
    with LegacySseSession(url_of(main, "/mock/sse"), headers=auth(owner)) as sse:
        sse.open()
        endpoint = sse.endpoint_url
        assert endpoint and "sessionId=" in endpoint, endpoint
        sid = endpoint.split("sessionId=", 1)[1].split("&", 1)[0]
        unknown_endpoint = endpoint.replace(f"sessionId={sid}",
                                            f"sessionId={unknown_session_id(sid)}")
        intruder = token_of("beta")
        mark = sse.mark()
        for rid in ("intruder-1", "intruder-2"):
            body = {"jsonrpc": "2.0", "id": rid, "method": "tools/call",
                    "params": {"name": "echo", "arguments": {"text": "intruder"}}}
            h = {"Content-Type": "application/json", **auth(intruder)}
            foreign = http.post(endpoint, content=json.dumps(body), headers=h)
            unknown = http.post(unknown_endpoint, content=json.dumps(body), headers=h)
            assert unknown.status_code == 404, shape(unknown)
            assert shape(foreign) == shape(unknown), (shape(foreign), shape(unknown))
        # The owner's session works, and saw nothing of the intruder's calls.
        assert text_of(sse.call_tool("echo", {"text": "owner"})) == "owner"
        time.sleep(QUIET_S)  # nothing to wait on: what must not come is given time to come
        stray = [m for m in sse.messages(start=mark) if m.get("id") in ("intruder-1", "intruder-2")]
        assert not stray, stray


# --------------------------------------------------------------------------------------------
# Per-client backends, defaults, "*" and anonymous callers, no access at all


def test_per_client_mode_gives_each_identity_its_own_backend(proxies, mock_server_bin, http):
    config = mock_config(mock_server_bin, solo={"sessionMode": "per-client"})
    config["mcpProxy"]["options"] = {"authTokens": static_tokens("alpha", "beta")}
    config["mcpProxy"]["access"] = {"rules": [
        {"identity": {"token": "alpha"}, "allow": {"tools": ["solo__pid"]}},
        {"identity": {"token": "beta"}, "servers": ["solo"], "allow": {"tools": ["pid"]}},
    ]}
    proxy = proxies.start(config)
    pids = {}
    clients = []
    try:
        for identity in ("alpha", "beta"):
            client = session(proxy, http, "/solo/mcp", STATIC[identity])
            clients.append(client)
            assert list_all(client.request, "tools/list") == ["pid"], identity
            first = int(text_of(client.call_tool("pid")))
            second = int(text_of(client.call_tool("pid")))
            assert first == second, (identity, first, second)
            assert process_exists(first), first
            assert_refused_like_unknown(client.request, "/solo/mcp", "tools", "solo", "echo",
                                        identity)
            pids[identity] = first
        assert pids["alpha"] != pids["beta"], pids
        assert proxy.proc.pid not in pids.values()
    finally:
        for client in clients:
            client.delete()


def test_default_allow_applies_only_to_identities_no_rule_matches(proxies, mock_server_bin,
                                                                  http):
    config = servers_config(mock_server_bin)
    config["mcpProxy"]["options"] = {"authTokens": static_tokens("alpha", "gamma")}
    rules = [{"identity": {"token": "alpha"},
              "allow": {"tools": ["mock__echo"], "prompts": [], "resources": []}}]
    config["mcpProxy"]["access"] = {"default": "allow", "rules": rules}
    proxy = proxies.start(config)
    seen = {}
    for identity in ("alpha", "gamma"):
        client = session(proxy, http, "/mock/mcp", STATIC[identity])
        try:
            seen[identity] = all_lists(client.request)
            if identity == "alpha":
                assert_refused_like_unknown(client.request, "/mock/mcp", "tools", "mock", "add",
                                            identity)
            else:
                assert client.call_tool("add", {"a": 2, "b": 40})["result"][
                    "structuredContent"] == {"sum": 42}
        finally:
            client.delete()
    assert seen["alpha"] == {"tools/list": {"echo"}, "prompts/list": set(),
                             "resources/list": set(), "resources/templates/list": set()}
    everything = seen["gamma"]
    assert set(SAFE_TOOLS) <= everything["tools/list"], everything
    assert NO_ARG_PROMPTS <= everything["prompts/list"], everything
    assert "test://watched-resource" in everything["resources/list"], everything
    assert everything["resources/templates/list"] == {"test://template/{id}/data"}


def test_everyone_rules_match_anonymous_callers_and_add_to_a_tokens_rules(proxies,
                                                                         mock_server_bin, http):
    """`open` needs no token (its anonymous callers get the "*" rule: echo only); `guarded`
    needs alpha's token, whose rule adds all of guarded to the "*" rule's echo."""
    config = mock_config(mock_server_bin, open={"options": {"authTokens": []}}, guarded={})
    config["mcpProxy"]["options"] = {"authTokens": static_tokens("alpha")}
    config["mcpProxy"]["access"] = {"rules": [
        {"identity": "*", "allow": {"tools": ["*__echo"], "prompts": [], "resources": []}},
        {"identity": {"token": "alpha"}, "servers": ["guarded"]},
    ]}
    proxy = proxies.start(config)
    anonymous = session(proxy, http, "/open/mcp", None)
    try:
        assert list_all(anonymous.request, "tools/list") == ["echo"]
        assert text_of(anonymous.call_tool("echo", {"text": "access granted"})) == \
            "access granted"
        assert_refused_like_unknown(anonymous.request, "/open/mcp", "tools", "open", "pid",
                                    "anonymous")
    finally:
        anonymous.delete()
    assert http.post(url_of(proxy, "/guarded/mcp"), headers=HEADERS,
                     content=json.dumps({"jsonrpc": "2.0", "id": 1, "method": "ping"})
                     ).status_code == 401
    guarded = session(proxy, http, "/guarded/mcp", STATIC["alpha"])
    try:
        tools = set(list_all(guarded.request, "tools/list"))
        assert {"echo", "add", "pid", "meta"} <= tools, tools
    finally:
        guarded.delete()
    merged = session(proxy, http, "/mcp", STATIC["alpha"])
    try:
        tools = set(list_all(merged.request, "tools/list"))
        assert "open__echo" in tools and {"guarded__pid", "guarded__meta"} <= tools, tools
        assert not {t for t in tools if t.startswith("open__")} - {"open__echo"}, tools
    finally:
        merged.delete()


def test_static_tokens_without_access_rules_keep_everything(proxies, mock_server_bin, jwks_file,
                                                            universe, http, token_of):
    """The shared proxy's servers, tokens and filters without `mcpProxy.access`: every identity
    sees what root sees there, and may call it."""
    proxy = proxies.start(main_config(mock_server_bin, jwks_file, None))
    for identity in ("alpha", "gamma", "bob"):
        for route in ("/mock/mcp", "/mcp"):
            client = session(proxy, http, route, token_of(identity))
            try:
                assert all_lists(client.request) == universe[route], (identity, route)
                for kind, server, own in call_cases(universe, route):
                    assert_served(client.request, route, kind, server, own, identity)
            finally:
                client.delete()



def test_sessions_are_bound_to_their_identity_without_access_rules_too(proxies, mock_server_bin,
                                                                       jwks_file, http, token_of):
    """A session id is no credential, access rules or not: another valid token is answered as
    for an unknown session; the owner's works."""
    proxy = proxies.start(main_config(mock_server_bin, jwks_file, None))
    for route in ("/mock/mcp", "/mcp"):
        url = url_of(proxy, route)
        client = session(proxy, http, route, token_of("alpha"))
        try:
            ping = {"jsonrpc": "2.0", "id": 7, "method": "ping"}
            for intruder in ("gamma", "bob"):
                token = token_of(intruder)
                foreign = raw_post(http, url, token, client.session_id, ping)
                unknown = raw_post(http, url, token, unknown_session_id(client.session_id), ping)
                assert unknown.status_code == 404, shape(unknown)
                assert shape(foreign) == shape(unknown), (route, intruder, shape(foreign))
            assert client.request("ping").get("result") == {}
        finally:
            assert client.delete().status_code in (200, 204)


# --------------------------------------------------------------------------------------------
# Config checks


@pytest.mark.parametrize("access, expected", [
    ({"rules": [{"identity": {"sub": "a", "group": "b"}}]},
     '$.mcpProxy.access.rules[0].identity: names "sub" and "group"'),
    ({"default": "maybe", "rules": []}, '$.mcpProxy.access.default: expected "allow" or "deny"'),
    ({"rules": [{"identity": "*", "servers": []}]},
     "$.mcpProxy.access.rules[0].servers: must not be empty"),
    ({"rules": [{"allow": {"tools": ["mock__echo"]}}]},
     '$.mcpProxy.access.rules[0]: missing required key "identity"'),
    ({"rules": [{"identity": "*", "allow": {"tools": [""]}}]},
     "$.mcpProxy.access.rules[0].allow.tools[0]: a pattern must not be empty"),
    ({"rules": [{"identity": {"claim": "org.roles"}}]},
     '$.mcpProxy.access.rules[0].identity: missing required key "value"'),
])
def test_bad_access_rules_are_config_errors_naming_their_path(mcp_proxy_bin, mock_server_bin,
                                                              jwks_file, tmp_path, access,
                                                              expected):
    path = tmp_path / "config.json"
    path.write_text(json.dumps(main_config(mock_server_bin, jwks_file, access)))
    done = subprocess.run([str(mcp_proxy_bin), "--config", str(path), "--addr", "127.0.0.1:0"],
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, (done.returncode, done.stderr[-2000:])
    assert expected in done.stderr, done.stderr[-2000:]


def test_rules_that_match_nothing_are_warned_about(proxies, mock_server_bin, http):
    """A token name no authTokens entry has and a servers glob no server matches are warnings.
    alpha's rule (about no server) still matches alpha: alpha gets nothing, not the default
    (allow) that gamma, whom no rule matches, gets."""
    config = servers_config(mock_server_bin)
    config["mcpProxy"]["options"] = {"authTokens": static_tokens("alpha", "gamma")}
    config["mcpProxy"]["access"] = {"default": "allow", "rules": [
        {"identity": {"token": "nobody"}},
        {"identity": {"token": "alpha"}, "servers": ["mokc"]},
    ]}
    proxy = proxies.start(config)
    out = proxy.output()
    assert '$.mcpProxy.access.rules[0].identity.token: no static token is named "nobody"' in out, \
        out[-3000:]
    assert "$.mcpProxy.access.rules[1].servers[0]: matches no server" in out, out[-3000:]
    assert 'did you mean "mock"' in out, out[-3000:]
    client = session(proxy, http, "/mock/mcp", STATIC["alpha"])
    try:
        assert list_all(client.request, "tools/list") == []
        assert_refused_like_unknown(client.request, "/mock/mcp", "tools", "mock", "echo", "alpha")
    finally:
        client.delete()
    client = session(proxy, http, "/mock/mcp", STATIC["gamma"])
    try:
        assert set(SAFE_TOOLS) <= set(list_all(client.request, "tools/list"))
        assert text_of(client.call_tool("echo", {"text": "access granted"})) == "access granted"
    finally:
        client.delete()
