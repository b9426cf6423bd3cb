"""Generic conformance of protocol revision 2026-07-28 ("modern": no initialize and no session;
the version, the client's capabilities and clientInfo in every request's `_meta`), run over the
transport of the server under test: --cmd (stdio) or --url (Streamable HTTP); the built-in mock
runs `--era dual`. The rules of one transport skip elsewhere as not applicable, and every test
skips as not applicable on a server that does not speak 2026-07-28 (see `--era` in
mcp_targets.py).

One check per server-side rule, each citing the section it comes from with its level: pages of
docs/specification/2026-07-28/ in modelcontextprotocol/modelcontextprotocol, anchors as on
modelcontextprotocol.io. A test that needs a tool of a known behaviour finds it among the recipes
of mcp_targets.py (our mock, tests/interop/v2_server.mjs) or skips and says which.
"""

from __future__ import annotations

import base64
import subprocess
import time

import pytest

from mcp_modern import (ALL_CAPABILITIES, complete_inputs, input_response,
                        needed_capabilities, retry_params, subscription_of)
from mcp_session import (HEADER_MISMATCH, INVALID_PARAMS, METHOD_NOT_FOUND,
                         MISSING_CLIENT_CAPABILITY, REQUEST_TIMEOUT_S, RESOURCE_NOT_FOUND,
                         STOP_TIMEOUT_S, UNSUPPORTED_PROTOCOL_VERSION, TransportError,
                         modern_headers, same_id)
from mcp_shapes import (LEGACY, LOG_LEVELS, META_CAPS, META_LOG, META_VERSION, MODERN,
                        RESULT_TYPES, assert_no_problems, cacheable_problems,
                        call_tool_result_problems, discover_result_problems,
                        error_response_problems, input_required_problems, log_message_problems,
                        server_info_problems)
from mcp_targets import close_sessions, find_tool, open_session
from spec_report import skip_not_applicable

spec = pytest.mark.spec
V = MODERN
HTTP = f"{V} basic/transports/streamable-http"
STDIO = f"{V} basic/transports/stdio"
MRTR = f"{V} basic/patterns/mrtr"
LISTEN = f"{V} basic/patterns/subscriptions"
LOGGING = f"{V} server/utilities/logging"

NO_SUCH_VERSION = "2099-12-31"  # no server implements it
QUIET_S = 1.0  # how long to watch for messages that must not come
# Methods 2026-07-28 removed (changelog: major changes 2, 4, 5), with params they once took.
REMOVED_METHODS = {"initialize": {}, "ping": {}, "logging/setLevel": {"level": "info"},
                   "resources/subscribe": {"uri": "test://conformance"},
                   "resources/unsubscribe": {"uri": "test://conformance"}}
# The list requests, and the server capability each belongs to.
LISTS = {"tools/list": "tools", "prompts/list": "prompts", "resources/list": "resources",
         "resources/templates/list": "resources"}


# ---------------------------------------------------------------------------------------------
# Helpers


def require_http(client) -> None:
    if not client.over_http:
        skip_not_applicable("Streamable HTTP only: the server under test speaks stdio")


def require_stdio(client) -> None:
    if client.over_http:
        skip_not_applicable("stdio only: the server under test speaks Streamable HTTP")


def require_capability(tools, name: str) -> None:
    if name not in tools.capabilities:
        pytest.skip(f"server/discover declares no {name!r} capability")


def assert_error(exchange, code: int, what: str) -> dict:
    """The response is an error with `code` and the request's id (basic/index, Error
    Responses)."""
    assert_no_problems(error_response_problems(exchange.response, exchange.request["id"]),
                       f"{what}: error response")
    assert exchange.code == code, f"{what}: expected error {code}, got {exchange.describe()}"
    return exchange.error


def full_headers(client, method: str, params: dict | None = None) -> dict:
    """The headers a conforming client sends for this request (so that a test can drop or
    change one)."""
    p = dict(params or {})
    p["_meta"] = client.meta()
    return modern_headers({"jsonrpc": "2.0", "id": 0, "method": method, "params": p})


def callable_tool(request, tools):
    """A tool call that succeeds: the echo tool, else a known content tool."""
    for role in ("echo", "content"):
        try:
            return find_tool(request, tools, role)
        except pytest.skip.Exception:
            continue
    pytest.skip("the server has no known tool to call (name one with --echo-tool)")


def first_resource_uri(client, tools):
    if "resources" not in tools.capabilities:
        return None
    resources = client.list_all("resources/list", "resources")
    return resources[0]["uri"] if resources else None


def first_simple_prompt(client, tools):
    if "prompts" not in tools.capabilities:
        return None
    prompts = client.list_all("prompts/list", "prompts")
    simple = [p for p in prompts if not any(a.get("required") for a in p.get("arguments") or [])]
    return simple[0]["name"] if simple else None


def answered_requests(client, request, tools) -> list:
    """(what, exchange) for one request of each kind the server serves: discover, the lists,
    tools/call, resources/read and prompts/get, all declaring every client capability."""
    out = [("server/discover", client.request("server/discover",
                                              capabilities=ALL_CAPABILITIES))]
    for method, capability in LISTS.items():
        if capability in tools.capabilities:
            out.append((method, client.request(method, capabilities=ALL_CAPABILITIES)))
    if "tools" in tools.capabilities:
        recipe = callable_tool(request, tools)
        out.append((f"tools/call {recipe.name}",
                    client.request("tools/call", {"name": recipe.name,
                                                  "arguments": recipe.arguments},
                                   capabilities=ALL_CAPABILITIES)))
    uri = first_resource_uri(client, tools)
    if uri:
        out.append((f"resources/read {uri}", client.request("resources/read", {"uri": uri},
                                                            capabilities=ALL_CAPABILITIES)))
    prompt = first_simple_prompt(client, tools)
    if prompt:
        out.append((f"prompts/get {prompt}", client.request("prompts/get", {"name": prompt},
                                                            capabilities=ALL_CAPABILITIES)))
    return out


def input_tool(request, tools):
    """A tool that answers input_required (and so needs a client capability)."""
    return find_tool(request, tools, "input")


def call_input_tool(client, recipe, capabilities):
    return client.request("tools/call", {"name": recipe.name, "arguments": recipe.arguments},
                          capabilities=capabilities)


def settle(client, recipe, exchange) -> None:
    """Answers the rounds of a call left at input_required, as a polite client would, so that
    no test leaves a call waiting at the server (a proxy may hold its backend's request until a
    retry or a deadline); whether that succeeds is for other tests to judge."""
    try:
        complete_inputs(client, "tools/call", {"name": recipe.name, "arguments": recipe.arguments},
                        exchange, ALL_CAPABILITIES)
    except (AssertionError, TransportError):
        pass


def exercise(client, request, tools) -> None:
    """A little of everything: discover, a list, an input-asking tool with every capability,
    the progress tool with a token."""
    client.request("server/discover")
    if "tools" in tools.capabilities:
        client.request("tools/list")
    for role, kw in (("input", {"capabilities": ALL_CAPABILITIES}),
                     ("progress", {"extra_meta": {"progressToken": "exercise"}})):
        try:
            recipe = find_tool(request, tools, role)
        except pytest.skip.Exception:
            continue
        exchange = client.request("tools/call", {"name": recipe.name,
                                                 "arguments": recipe.arguments}, **kw)
        settle(client, recipe, exchange)


# ---------------------------------------------------------------------------------------------
# Discovery, _meta, versions


@spec(f"{V} basic/versioning#protocol-version-negotiation (server/discover)")
@spec(f"{V} server/discover#response")
def test_discover_answers_versions_capabilities_and_identity(modern):
    """Servers MUST implement server/discover; the DiscoverResult has supportedVersions,
    capabilities and resultType (schema DiscoverResult), and lists the version asked for."""
    exchange = modern.request("server/discover", request_id="discover-1")
    assert same_id(exchange.response.get("id"), "discover-1"), exchange.describe()
    result = exchange.result
    assert_no_problems(discover_result_problems(result), "DiscoverResult")
    assert MODERN in result["supportedVersions"], result["supportedVersions"]


@spec(f"{V} basic/index#_meta (clientInfo is optional)")
def test_a_request_without_client_info_is_served(modern):
    """io.modelcontextprotocol/clientInfo is not a required field (clients SHOULD send it):
    a request without it is not malformed."""
    exchange = modern.request("server/discover", meta=modern.meta(client_info=False))
    assert exchange.result.get("resultType") == "complete", exchange.describe()


@spec(f"{V} basic/index#_meta (required fields)")
@pytest.mark.parametrize("missing", [META_VERSION, META_CAPS],
                         ids=["protocolVersion", "clientCapabilities"])
def test_a_request_missing_a_required_meta_field_is_invalid_params(modern, target_eras,
                                                                   missing):
    """A request missing a required _meta field is malformed: the server MUST reject it with
    -32602 (Invalid params); on HTTP the status MUST be 400. (Over HTTP the
    MCP-Protocol-Version header still says 2026-07-28.)"""
    if missing == META_VERSION and not modern.over_http and target_eras.legacy:
        pytest.skip("over stdio a dual-era server may take a request without a version for one "
                    "of the initialize era (basic/versioning, backward compatibility)")
    meta = modern.meta()
    del meta[missing]
    headers = full_headers(modern, "server/discover") if modern.over_http else None
    exchange = modern.request("server/discover", meta=meta, headers=headers, request_id=102)
    assert_error(exchange, INVALID_PARAMS, f"server/discover without {missing}")
    if modern.over_http:
        assert exchange.status == 400, exchange.describe()


@spec(f"{V} basic/versioning#protocol-version-negotiation")
def test_an_unsupported_version_is_refused_with_the_supported_ones(modern, modern_tools):
    """If the server does not implement the requested version it MUST answer
    UnsupportedProtocolVersionError (-32022) listing the versions it supports (data.supported,
    here checked against DiscoverResult.supportedVersions) and the one requested
    (data.requested, required by the schema)."""
    exchange = modern.request("server/discover", version=NO_SUCH_VERSION, request_id=301)
    error = assert_error(exchange, UNSUPPORTED_PROTOCOL_VERSION, f"version {NO_SUCH_VERSION}")
    data = error.get("data")
    assert isinstance(data, dict), f"no data object: {error}"
    supported = data.get("supported")
    assert isinstance(supported, list) and supported and \
        all(isinstance(v, str) for v in supported), f"data.supported: {supported!r}"
    discovered = modern_tools.discover.get("supportedVersions") or []
    assert set(discovered) <= set(supported), (
        f"data.supported {supported} leaves out versions server/discover lists: {discovered}")
    assert data.get("requested") == NO_SUCH_VERSION, f"data.requested: {data.get('requested')!r}"


@spec(f"{V} changelog#major-changes (removed methods get -32601)")
@pytest.mark.parametrize("method", list(REMOVED_METHODS))
def test_methods_this_revision_removed_are_not_found(modern, method):
    """initialize, ping, logging/setLevel, resources/subscribe and resources/unsubscribe are not
    methods of 2026-07-28: a request of them carrying modern _meta gets -32601 (schema
    MethodNotFoundError: a method the server does not implement)."""
    exchange = modern.request(method, REMOVED_METHODS[method], request_id=f"removed-{method}")
    assert_error(exchange, METHOD_NOT_FOUND, method)


# ---------------------------------------------------------------------------------------------
# Results: resultType, serverInfo, caching


@spec(f"{V} basic/index#result-responses")
@spec(f"{MRTR}#supported-requests")
def test_every_result_has_a_result_type(modern, request, modern_tools):
    """The result MUST include resultType; input_required only on tools/call, prompts/get and
    resources/read (Servers MUST NOT send InputRequiredResult on any other request), so every
    other result is complete even when the client declares every capability."""
    problems = []
    for what, exchange in answered_requests(modern, request, modern_tools):
        result_type = exchange.result.get("resultType")
        if result_type not in RESULT_TYPES:
            problems.append(f"{what}: resultType {result_type!r}")
        elif what.split()[0] not in ("tools/call", "prompts/get", "resources/read") and \
                result_type != "complete":
            problems.append(f"{what}: resultType {result_type!r} (only complete allowed here)")
    assert_no_problems(problems, "results")


@spec(f"{V} basic/index#_meta (serverInfo in every result)", level="SHOULD")
def test_every_result_names_the_server(modern, request, modern_tools):
    """Servers SHOULD include io.modelcontextprotocol/serverInfo (an Implementation) in every
    result's _meta."""
    problems = []
    for what, exchange in answered_requests(modern, request, modern_tools):
        problems += server_info_problems(exchange.result, what)
    assert_no_problems(problems, "results")


@spec(f"{V} server/utilities/caching#cacheable-results")
def test_cacheable_results_carry_ttl_and_scope(modern, modern_tools):
    """Complete results of server/discover, tools/list, prompts/list, resources/list,
    resources/templates/list and resources/read MUST carry ttlMs (an integer >= 0) and
    cacheScope (public or private)."""
    problems = cacheable_problems(modern.discover(), "server/discover")
    for method, capability in LISTS.items():
        if capability in modern_tools.capabilities:
            problems += cacheable_problems(modern.result(method), method)
    uri = first_resource_uri(modern, modern_tools)
    if uri:
        problems += cacheable_problems(modern.result("resources/read", {"uri": uri}),
                                       f"resources/read {uri}")
    assert_no_problems(problems, "cacheable results")


@spec(f"{V} server/utilities/caching#interaction-with-pagination")
def test_every_page_of_a_list_has_the_same_cache_scope(modern, modern_tools):
    """Servers MUST apply the same cacheScope to all response pages for a given list
    request."""
    walked, problems = [], []
    for method, capability in LISTS.items():
        if capability not in modern_tools.capabilities:
            continue
        pages = modern.pages(method)
        if len(pages) > 1:
            walked.append(method)
            scopes = [p.get("cacheScope") for p in pages]
            if len(set(scopes)) != 1:
                problems.append(f"{method}: cacheScope per page {scopes}")
    if not walked:
        pytest.skip("every list fits in one page (no nextCursor to follow)")
    assert_no_problems(problems, "paginated lists")


@spec(f"{V} server/resources#error-handling")
def test_an_unknown_resource_is_invalid_params(modern, modern_tools):
    """If the requested resource does not exist, servers MUST return -32602 (basic/index: -32002
    MUST NOT be emitted any more), and MUST NOT return an empty contents array."""
    require_capability(modern_tools, "resources")
    uri = "test://conformance/no-such-resource"
    exchange = modern.request("resources/read", {"uri": uri}, request_id="no-resource")
    if exchange.error is None:
        raise AssertionError(f"a result for a resource that does not exist: "
                             f"{exchange.describe()}")
    assert exchange.code != RESOURCE_NOT_FOUND, f"-32002 is a code of 2025-11-25: {exchange.error}"
    assert_error(exchange, INVALID_PARAMS, f"resources/read {uri}")


# ---------------------------------------------------------------------------------------------
# Server-to-client requests are gone


@spec(f"{V} basic/patterns (servers initiate no requests)")
def test_the_server_sends_no_requests(modern, request, modern_tools):
    """Servers MUST NOT initiate JSON-RPC requests: sampling, elicitation and roots travel as
    input requests in results. Checked over discover, tools/list, an input-asking tool (every
    capability declared) and the progress tool."""
    exercise(modern, request, modern_tools)
    time.sleep(QUIET_S / 2)
    assert not modern.session.server_requests, (
        f"requests from the server: {modern.session.server_requests[:3]}")


@spec(STDIO)
def test_stdio_stdout_carries_only_mcp_messages(modern, request, modern_tools):
    """The server MUST NOT write anything to its stdout that is not a valid MCP message;
    messages are newline-delimited and MUST NOT contain embedded newlines."""
    require_stdio(modern)
    exercise(modern, request, modern_tools)
    time.sleep(QUIET_S / 2)
    modern.close()
    assert not modern.session.transport_problems, "\n".join(modern.session.transport_problems)
    not_jsonrpc = [m for m in modern.session.received if m.get("jsonrpc") != "2.0"]
    assert not not_jsonrpc, f"stdout messages without jsonrpc 2.0: {not_jsonrpc[:3]}"


@spec(f"{STDIO}#shutdown", level="SHOULD")
def test_stdio_server_exits_when_its_stdin_closes(modern):
    """Servers SHOULD exit promptly when their standard input is closed."""
    require_stdio(modern)
    modern.request("server/discover")
    proc = modern.session.proc
    modern.session.close_stdin()
    try:
        proc.wait(STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        pass  # judged below; the fixture then stops it with SIGTERM
    assert proc.poll() is not None, (f"pid {proc.pid} still runs {STOP_TIMEOUT_S} s after its "
                                     "stdin was closed")


# ---------------------------------------------------------------------------------------------
# Streamable HTTP


@spec(f"{HTTP}#sending-messages")
def test_http_a_request_is_answered_with_json_or_an_event_stream(modern):
    """If the body is a request, the server MUST answer with Content-Type application/json or
    text/event-stream."""
    require_http(modern)
    exchange = modern.request("server/discover")
    assert exchange.status == 200, exchange.describe()
    assert exchange.content_type.lower().startswith(("application/json", "text/event-stream")), \
        exchange.content_type


@spec(f"{HTTP}#security--endpoint")
def test_http_a_foreign_origin_is_refused_with_403(modern):
    """Servers MUST validate the Origin header on all incoming connections; a present and
    invalid Origin MUST get 403 Forbidden (DNS rebinding)."""
    require_http(modern)
    headers = full_headers(modern, "server/discover")
    headers["Origin"] = "https://evil.example"
    r = modern.http_request("POST", headers, {"jsonrpc": "2.0", "id": "origin-1",
                                              "method": "server/discover",
                                              "params": {"_meta": modern.meta()}})
    assert r.status_code == 403, f"Origin https://evil.example got HTTP {r.status_code}"


@spec(f"{HTTP}#protocol-version-header (header matches _meta)")
def test_http_a_version_header_unlike_the_body_is_a_header_mismatch(modern):
    """The MCP-Protocol-Version header MUST match _meta's protocolVersion; otherwise the server
    MUST reject the request with 400 and HeaderMismatch (-32020), before judging the version."""
    require_http(modern)
    exchange = modern.request("server/discover", version=NO_SUCH_VERSION, request_id=302,
                              headers=full_headers(modern, "server/discover"))
    assert_error(exchange, HEADER_MISMATCH, f"header {MODERN}, body {NO_SUCH_VERSION}")
    assert exchange.status == 400, exchange.describe()


@spec(f"{HTTP}#protocol-version-header (unsupported version: 400)")
def test_http_an_unsupported_version_is_400(modern):
    """A version the server does not implement MUST get 400 Bad Request with
    UnsupportedProtocolVersionError."""
    require_http(modern)
    exchange = modern.request("server/discover", version=NO_SUCH_VERSION, request_id=301)
    assert_error(exchange, UNSUPPORTED_PROTOCOL_VERSION, f"version {NO_SUCH_VERSION}")
    assert exchange.status == 400, exchange.describe()


@spec(f"{HTTP}#protocol-version-header (method not implemented: 404)")
def test_http_a_method_not_implemented_is_404(modern):
    """If the server does not implement the requested method it MUST answer 404 Not Found with
    -32601; checked with an unknown method and the methods 2026-07-28 removed."""
    require_http(modern)
    problems = []
    for method, params in {"conformance/no-such-method": {}, **REMOVED_METHODS}.items():
        exchange = modern.request(method, params)
        if exchange.status != 404 or exchange.code != METHOD_NOT_FOUND:
            problems.append(f"{method}: HTTP {exchange.status}, {exchange.response!r:.200}")
    assert_no_problems(problems, "methods not implemented")


HEADER_CASES = {
    # case: (method of the body, header to drop or (header, value) to set)
    "no MCP-Protocol-Version": ("server/discover", "MCP-Protocol-Version"),
    "no Mcp-Method": ("server/discover", "Mcp-Method"),
    "Mcp-Method of another method": ("server/discover", ("Mcp-Method", "tools/list")),
    "Mcp-Method in upper case": ("server/discover", ("Mcp-Method", "SERVER/DISCOVER")),
    "no Mcp-Name": ("tools/call", "Mcp-Name"),
    "Mcp-Name of another tool": ("tools/call", ("Mcp-Name", "conformance-other-tool")),
}


@spec(f"{HTTP}#server-validation")
@pytest.mark.parametrize("case", list(HEADER_CASES))
def test_http_standard_headers_are_required_and_must_match(modern, request, modern_tools,
                                                           case):
    """Servers MUST reject a request whose required standard header (MCP-Protocol-Version,
    Mcp-Method, Mcp-Name) is missing or does not match the body (values are case-sensitive:
    Case Sensitivity), with 400 and HeaderMismatch (-32020)."""
    require_http(modern)
    method, change = HEADER_CASES[case]
    params = None
    if method == "tools/call":
        recipe = callable_tool(request, modern_tools)
        params = {"name": recipe.name, "arguments": recipe.arguments}
    headers = full_headers(modern, method, params)
    if isinstance(change, tuple):
        headers[change[0]] = change[1]
    else:
        del headers[change]
    exchange = modern.request(method, params, headers=headers, request_id=f"headers-{case}")
    assert exchange.status == 400, f"{case}: {exchange.describe()}"
    assert_error(exchange, HEADER_MISMATCH, case)


@spec(f"{HTTP}#case-sensitivity")
def test_http_header_names_are_case_insensitive(modern, request, modern_tools):
    """Header names are case-insensitive: servers MUST compare them so (the same headers in
    lower and upper case are accepted)."""
    require_http(modern)
    recipe = callable_tool(request, modern_tools)
    params = {"name": recipe.name, "arguments": recipe.arguments}
    for spelled in (str.lower, str.upper):
        headers = {spelled(k): v for k, v in full_headers(modern, "tools/call", params).items()}
        exchange = modern.request("tools/call", params, headers=headers)
        assert exchange.error is None, f"headers spelled {spelled.__name__}: {exchange.describe()}"


@spec(f"{HTTP}#server-validation (Base64 sentinel decoded)")
def test_http_a_base64_encoded_mcp_name_is_decoded(modern, request, modern_tools):
    """For Mcp-Name, servers MUST decode a Base64-encoded value (=?base64?...?=, Value Encoding)
    before comparing it with the body."""
    require_http(modern)
    recipe = callable_tool(request, modern_tools)
    params = {"name": recipe.name, "arguments": recipe.arguments}
    headers = full_headers(modern, "tools/call", params)
    headers["Mcp-Name"] = "=?base64?" + base64.b64encode(recipe.name.encode()).decode() + "?="
    exchange = modern.request("tools/call", params, headers=headers)
    assert exchange.error is None, exchange.describe()


@spec(f"{HTTP}#earlier-streamable-http-revisions (GET and DELETE)", level="SHOULD")
@pytest.mark.parametrize("verb", ["GET", "DELETE"])
def test_http_get_and_delete_of_a_modern_client_get_405(modern, verb):
    """This revision has no GET stream and no session: a GET or DELETE to the MCP endpoint
    SHOULD get 405 Method Not Allowed (asked with MCP-Protocol-Version 2026-07-28)."""
    require_http(modern)
    r = modern.http_request(verb, {"Accept": "text/event-stream",
                                   "MCP-Protocol-Version": MODERN})
    assert r.status_code == 405, f"{verb}: HTTP {r.status_code} {r.text[:200]!r}"


@spec(f"{HTTP}#earlier-streamable-http-revisions (no session ids)", level="SHOULD")
def test_http_no_session_id_is_minted_or_echoed(modern):
    """An Mcp-Session-Id header on a request is ignored, and session ids are neither minted nor
    echoed."""
    require_http(modern)
    plain = modern.request("server/discover")
    headers = full_headers(modern, "server/discover")
    headers["Mcp-Session-Id"] = "conformance-session-1"
    with_id = modern.request("server/discover", headers=headers)
    for what, exchange in (("without a session id", plain), ("with one", with_id)):
        assert exchange.result.get("resultType") == "complete", f"{what}: {exchange.describe()}"
        assert "mcp-session-id" not in exchange.headers, (
            f"{what}: Mcp-Session-Id {exchange.headers.get('mcp-session-id')!r}")


# ---------------------------------------------------------------------------------------------
# Logging (per-request log level)


def call_log_tool(client, recipe, level=None):
    extra = {META_LOG: level} if level else None
    exchanges = [client.request("tools/call", {"name": recipe.name, "arguments": recipe.arguments},
                                extra_meta=extra) for _ in range(recipe.calls)]
    return exchanges


@spec(f"{LOGGING}#per-request-log-level")
def test_no_log_messages_without_a_log_level(modern, request, modern_tools):
    """The server MUST NOT emit notifications/message for a request that does not include
    io.modelcontextprotocol/logLevel (checked with the known log tool)."""
    recipe = find_tool(request, modern_tools, "log")
    mark = modern.session.mark()
    for exchange in call_log_tool(modern, recipe):
        assert exchange.result.get("resultType") == "complete", exchange.describe()
    time.sleep(QUIET_S)
    logs = modern.session.notifications("notifications/message", mark)
    assert not logs, f"notifications/message with no logLevel: {logs[:3]}"


@spec(f"{LOGGING}#per-request-log-level (at or above the level, with the response)")
@spec(f"{LOGGING}#capabilities")
def test_log_messages_follow_the_requested_level(modern, request, modern_tools):
    """With logLevel set, notifications/message at or above it MAY come, on the stream of that
    request's response and before it; a server that emits them MUST declare the logging
    capability. At the level above the lowest one seen, nothing below it may come."""
    recipe = find_tool(request, modern_tools, "log")
    exchanges = call_log_tool(modern, recipe, "debug")
    messages = [m for e in exchanges for m in e.notifications("notifications/message")]
    if not messages:
        pytest.skip(f"the log tool {recipe.name} sent no notifications/message at level debug")
    problems = [f"message {i}: {p}" for i, m in enumerate(messages)
                for p in log_message_problems(m.get("params"))]
    assert_no_problems(problems, "notifications/message")
    assert "logging" in modern_tools.capabilities, (
        "the server emits notifications/message but declares no logging capability")
    ranks = [LOG_LEVELS.index(m["params"]["level"]) for m in messages]
    if min(ranks) == len(LOG_LEVELS) - 1:
        return  # emergency only: no level above to filter with
    threshold = LOG_LEVELS[min(ranks) + 1]
    mark = modern.session.mark()
    call_log_tool(modern, recipe, threshold)
    time.sleep(QUIET_S / 2)
    below = [m for m in modern.session.notifications("notifications/message", mark)
             if LOG_LEVELS.index(m.get("params", {}).get("level", "emergency")) <
             LOG_LEVELS.index(threshold)]
    assert not below, f"messages below {threshold}: {below[:3]}"


@spec(f"{LOGGING}#error-handling", level="SHOULD")
def test_an_invalid_log_level_is_invalid_params(modern):
    """A logLevel that is not a recognized log level SHOULD get -32602 (Invalid params)."""
    exchange = modern.request("server/discover", extra_meta={META_LOG: "conformance-loud"},
                              request_id="bad-level")
    assert_error(exchange, INVALID_PARAMS, "logLevel conformance-loud")


# ---------------------------------------------------------------------------------------------
# Progress


@spec(f"{V} basic/patterns/progress#progress-flow")
def test_progress_notifications_carry_the_token_and_increase(modern, request, modern_tools):
    """With _meta.progressToken, notifications/progress carry that token, their progress
    increases with each one, and they stop with the response (Implementation Notes: MUST stop
    after completion)."""
    recipe = find_tool(request, modern_tools, "progress")
    token = "conformance-progress-1"
    mark = modern.session.mark()
    exchange = modern.request("tools/call", {"name": recipe.name, "arguments": recipe.arguments},
                              extra_meta={"progressToken": token},
                              timeout_s=REQUEST_TIMEOUT_S + recipe.seconds)
    assert exchange.result.get("resultType") == "complete", exchange.describe()
    progress = exchange.notifications("notifications/progress")
    assert progress, f"{recipe.name} sent no notifications/progress for a progressToken"
    values = []
    for m in progress:
        params = m.get("params") or {}
        assert same_id(params.get("progressToken"), token), f"token mismatch: {m}"
        assert isinstance(params.get("progress"), (int, float)), m
        values.append(params["progress"])
    assert all(a < b for a, b in zip(values, values[1:])), f"progress does not increase: {values}"
    time.sleep(QUIET_S / 2)
    late = [m for m in modern.session.notifications("notifications/progress", mark)
            if not any(m is p for p in progress)]
    assert not late, f"progress after the response: {late[:3]}"


@spec(f"{V} basic/patterns/progress#behavior-requirements")
def test_no_progress_without_a_progress_token(modern, request, modern_tools):
    """Progress notifications MUST only reference tokens provided in an active request: a call
    without a progressToken gets none."""
    recipe = find_tool(request, modern_tools, "progress")
    mark = modern.session.mark()
    exchange = modern.request("tools/call", {"name": recipe.name, "arguments": recipe.arguments},
                              timeout_s=REQUEST_TIMEOUT_S + recipe.seconds)
    assert exchange.result.get("resultType") == "complete", exchange.describe()
    time.sleep(QUIET_S / 2)
    progress = modern.session.notifications("notifications/progress", mark)
    assert not progress, f"progress without a progressToken: {progress[:3]}"


# ---------------------------------------------------------------------------------------------
# Cancellation (stdio: notifications/cancelled)


@spec(f"{STDIO}#cancellation")
def test_stdio_a_cancelled_request_gets_nothing_more(modern, request, modern_tools):
    """After notifications/cancelled for an in-flight request the server MUST NOT send any
    further messages for it (the slow tool is cancelled while it runs); it still serves."""
    require_stdio(modern)
    recipe = find_tool(request, modern_tools, "slow")
    pending = modern.start("tools/call", {"name": recipe.name, "arguments": recipe.arguments},
                           request_id="to-cancel")
    time.sleep(0.3)  # the request is in flight
    modern.cancel(pending)
    late = modern.session.wait_for(
        lambda m: "method" not in m and same_id(m.get("id"), "to-cancel"),
        recipe.seconds + 2 * QUIET_S, pending.mark)
    assert late is None, f"a response to the cancelled request: {late}"
    assert modern.discover().get("resultType") == "complete"


# ---------------------------------------------------------------------------------------------
# subscriptions/listen


def listen_filter(request, tools) -> dict:
    """A filter the server can honour: the known trigger tool's, else from the capabilities."""
    try:
        return dict(find_tool(request, tools, "trigger").listen)
    except pytest.skip.Exception:
        pass
    caps = tools.capabilities
    wanted = {"toolsListChanged": (caps.get("tools") or {}).get("listChanged"),
              "promptsListChanged": (caps.get("prompts") or {}).get("listChanged"),
              "resourcesListChanged": (caps.get("resources") or {}).get("listChanged")}
    wanted = {k: True for k, v in wanted.items() if v}
    if not wanted:
        pytest.skip("the server declares no listChanged and has no known trigger tool: nothing "
                    "to listen for")
    return wanted


def open_listen(client, filter_: dict, request_id):
    """subscriptions/listen, up to its acknowledgment (the first message of the
    subscription): (pending, ack). A -32601 answer skips when nothing declares listChanged."""
    pending = client.start("subscriptions/listen", {"notifications": filter_},
                           request_id=request_id)
    # Over HTTP the listen has a stream of its own; over stdio only the tag tells.
    first = client.wait_frame(
        pending, lambda m: client.over_http or same_id(subscription_of(m), request_id)
        or ("method" not in m and same_id(m.get("id"), request_id)))
    assert first is not None, (f"nothing for subscriptions/listen {request_id!r} within "
                               f"{REQUEST_TIMEOUT_S} s (over stdio: no message tagged with its "
                               "subscriptionId, nor its response)")
    if "error" in first:
        raise AssertionError(f"subscriptions/listen failed: {first}")
    return pending, first


def other_filter(filter_: dict) -> dict:
    """A filter that leaves out what `filter_` asks for."""
    return {"promptsListChanged": True} if "toolsListChanged" in filter_ else \
        {"toolsListChanged": True}


@spec(f"{LISTEN}#acknowledgment")
@pytest.mark.parametrize("listen_id", [7001, "listen-1"], ids=["integer-id", "string-id"])
def test_listen_is_acknowledged_first(modern, request, modern_tools, listen_id):
    """The server MUST send notifications/subscriptions/acknowledged as the first message of
    the subscription, carrying its id (the listen request's JSON-RPC id, same type) in
    _meta.subscriptionId; its `notifications` is the subset of the filter the server honours."""
    filter_ = listen_filter(request, modern_tools)
    pending, ack = open_listen(modern, filter_, listen_id)
    try:
        assert ack.get("method") == "notifications/subscriptions/acknowledged", (
            f"the first message of the subscription is {ack}")
        assert same_id(subscription_of(ack), listen_id), ack
        honoured = (ack.get("params") or {}).get("notifications")
        assert isinstance(honoured, dict), f"the acknowledgment has no notifications object: {ack}"
        extra = {k: v for k, v in honoured.items()
                 if k not in filter_ or (k == "resourceSubscriptions"
                                         and not set(v or []) <= set(filter_[k]))}
        assert not extra, f"acknowledged what was not asked for: {extra} (asked {filter_})"
    finally:
        modern.cancel(pending)


@spec(f"{LISTEN}#receiving-notifications")
@spec(f"{V} basic/index#_meta (subscriptionId on listen notifications)")
def test_listen_delivers_what_was_asked_tagged_with_its_id(modern, modern_connect, request,
                                                          modern_tools):
    """The notifications a subscription asked for arrive on its stream, each carrying
    io.modelcontextprotocol/subscriptionId = the listen request's id (MUST). The known trigger
    tool is called on another connection over HTTP (on stdio: the same channel)."""
    trigger = find_tool(request, modern_tools, "trigger")
    pending, _ = open_listen(modern, trigger.listen, 7101)
    try:
        caller = modern_connect() if modern.over_http else modern
        done = caller.request("tools/call", {"name": trigger.name, "arguments": trigger.arguments})
        assert done.error is None, done.describe()
        got = modern.wait_frame(pending, lambda m: m.get("method") == trigger.notification)
        assert got is not None, (f"no {trigger.notification} for the subscription within "
                                 f"{REQUEST_TIMEOUT_S} s after {trigger.name}")
        assert same_id(subscription_of(got), 7101), f"not tagged with the listen's id: {got}"
    finally:
        modern.cancel(pending)


@spec(f"{LISTEN}#opening-a-stream")
def test_listen_sends_no_notification_that_was_not_asked(modern, modern_connect, request,
                                                         modern_tools):
    """The server MUST NOT send notification types the client has not requested: a
    subscription that did not ask for what the trigger tool causes hears nothing of it, while a
    second one that did ask gets it (so the notification was sent)."""
    trigger = find_tool(request, modern_tools, "trigger")
    quiet, _ = open_listen(modern, other_filter(trigger.listen), 7201)
    listener = modern_connect() if modern.over_http else modern
    witness, _ = open_listen(listener, trigger.listen, 7202)
    try:
        caller = modern_connect() if modern.over_http else modern
        assert caller.request("tools/call", {"name": trigger.name,
                                             "arguments": trigger.arguments}).error is None
        heard = listener.wait_frame(witness, lambda m: m.get("method") == trigger.notification)
        assert heard is not None, f"no {trigger.notification} even where it was asked for"
        time.sleep(QUIET_S)
        unasked = [m for m in modern.frames(quiet, lambda m: m.get("method") ==
                                            trigger.notification)
                   if modern.over_http or not same_id(subscription_of(m), 7202)]
        assert not unasked, f"sent to a subscription that did not ask: {unasked[:3]}"
    finally:
        modern.cancel(quiet)
        listener.cancel(witness)


@spec(f"{STDIO}#cancellation")
def test_stdio_a_cancelled_listen_gets_nothing_more(modern, request, modern_tools):
    """notifications/cancelled ends a subscription on stdio; the server MUST NOT send any
    further messages for it (notifications/cancelled aside, which cancellation.mdx has a
    server send when it tears a subscription down)."""
    require_stdio(modern)
    trigger = find_tool(request, modern_tools, "trigger")
    pending, _ = open_listen(modern, trigger.listen, 7301)
    modern.cancel(pending)
    mark = modern.session.mark()
    assert modern.request("tools/call", {"name": trigger.name,
                                         "arguments": trigger.arguments}).error is None
    time.sleep(QUIET_S)
    after = [m for m in modern.session.messages(start=mark)
             if m.get("method") != "notifications/cancelled"
             and (same_id(subscription_of(m), 7301) or same_id(m.get("id"), 7301))]
    assert not after, f"messages for the cancelled subscription: {after[:3]}"


# ---------------------------------------------------------------------------------------------
# Multi round-trip requests (input_required)


@spec(f"{MRTR}#server-requirements-basic-workflow")
def test_an_input_required_result_is_well_formed(modern, request, modern_tools):
    """InputRequiredResult: resultType input_required, at least one of inputRequests and
    requestState (MUST), inputRequests values of the three kinds (MUST), none of a capability
    the client did not declare (here: every one is declared)."""
    recipe = input_tool(request, modern_tools)
    exchange = call_input_tool(modern, recipe, ALL_CAPABILITIES)
    settle(modern, recipe, exchange)
    assert_no_problems(input_required_problems(exchange.result), f"{recipe.name}'s first result")


@spec(f"{MRTR}#basic-workflow")
def test_a_retry_with_the_input_responses_completes(modern, request, modern_tools):
    """The client retries the request (a new id) with inputResponses and the requestState
    echoed; the server completes it from what the retry carries."""
    recipe = input_tool(request, modern_tools)
    params = {"name": recipe.name, "arguments": recipe.arguments}
    rounds = complete_inputs(modern, "tools/call", params,
                             call_input_tool(modern, recipe, ALL_CAPABILITIES), ALL_CAPABILITIES)
    final = rounds[-1]
    assert final.error is None, f"round {len(rounds)}: {final.describe()}"
    assert final.result.get("resultType") == "complete", final.describe()
    assert_no_problems(call_tool_result_problems(final.result), "the final CallToolResult")
    assert len(rounds) > 1, f"{recipe.name} completed without asking for input"


@spec(f"{MRTR}#error-handling", level="SHOULD")
def test_missing_input_is_asked_for_again(modern, request, modern_tools):
    """If the retry lacks information the server asked for, the server SHOULD answer a new
    InputRequiredResult rather than an error (and ignore responses it does not know)."""
    recipe = input_tool(request, modern_tools)
    params = {"name": recipe.name, "arguments": recipe.arguments}
    first = call_input_tool(modern, recipe, ALL_CAPABILITIES)
    assert first.result.get("resultType") == "input_required", first.describe()
    unknown = {"conformance-unknown-key": input_response(
        {"method": "elicitation/create", "params": {"requestedSchema": {}}})}
    retry = modern.request("tools/call", retry_params(params, first.result, unknown),
                           capabilities=ALL_CAPABILITIES)
    settle(modern, recipe, retry if retry.error is None else first)
    assert retry.error is None, f"an error instead of asking again: {retry.describe()}"
    assert retry.result.get("resultType") == "input_required", retry.describe()


@spec(f"{MRTR}#server-requirements-basic-workflow (declared capabilities only)")
def test_no_input_request_of_a_capability_the_client_lacks(modern, request, modern_tools):
    """Servers MUST NOT send inputRequests the client has not declared support for: called
    with no capabilities, the input-asking tool may fail or complete, not ask."""
    recipe = input_tool(request, modern_tools)
    exchange = call_input_tool(modern, recipe, {})
    if exchange.error is None and exchange.result.get("resultType") == "input_required":
        asked = needed_capabilities(exchange.result)
        assert not asked, f"asked for {sorted(map(str, asked))} of a client that declared none"


@spec(f"{V} basic/index#_meta (MissingRequiredClientCapability)")
def test_a_capability_the_client_did_not_declare_is_32021(modern, request, modern_tools):
    """If processing a request requires a client capability the request did not declare, the
    server MUST return MissingRequiredClientCapabilityError (-32021) with
    data.requiredCapabilities listing it; on HTTP with status 400."""
    recipe = input_tool(request, modern_tools)
    exchange = call_input_tool(modern, recipe, {})
    if exchange.error is None and exchange.result.get("resultType") == "complete":
        pytest.skip(f"{recipe.name} completed without {recipe.capability}: nothing required it")
    error = assert_error(exchange, MISSING_CLIENT_CAPABILITY, f"{recipe.name} with no "
                                                              "capabilities")
    required = (error.get("data") or {}).get("requiredCapabilities")
    assert isinstance(required, dict) and recipe.capability in required, (
        f"data.requiredCapabilities {required!r} does not name {recipe.capability}")
    if modern.over_http:
        assert exchange.status == 400, exchange.describe()


@spec(f"{V} basic/index#statelessness")
def test_capabilities_come_from_each_request(modern, request, modern_tools):
    """Servers MUST NOT rely on prior requests over the same connection for context such as
    capabilities: after a call declaring every capability, the same call on the same
    connection declaring none gets no input request of them."""
    recipe = input_tool(request, modern_tools)
    first = call_input_tool(modern, recipe, ALL_CAPABILITIES)
    settle(modern, recipe, first)
    assert first.result.get("resultType") == "input_required", first.describe()
    second = call_input_tool(modern, recipe, {})
    if second.error is None and second.result.get("resultType") == "input_required":
        asked = needed_capabilities(second.result)
        assert not asked, f"asked for {sorted(map(str, asked))} on the strength of an earlier " \
                          "request's capabilities"


@spec(f"{MRTR}#server-requirements-basic-workflow (requestState integrity)")
def test_a_tampered_request_state_is_rejected(modern, request, modern_tools):
    """Servers MUST treat requestState as attacker-controlled and, where it matters, protect its
    integrity and reject state that fails verification (checked with a tool known to protect
    it): the retry with an altered state gets an error, not a result."""
    recipe = find_tool(request, modern_tools, "protected-state")
    params = {"name": recipe.name, "arguments": recipe.arguments}
    first = call_input_tool(modern, recipe, ALL_CAPABILITIES)
    state = first.result.get("requestState")
    assert isinstance(state, str), f"no requestState: {first.describe()}"
    tampered = dict(first.result, requestState=state + "-tampered")
    retry = modern.request("tools/call", retry_params(params, tampered,
                                                      retry_params(params, first.result)
                                                      ["inputResponses"]),
                           capabilities=ALL_CAPABILITIES)
    settle(modern, recipe, first)
    assert retry.error is not None, f"a tampered requestState was accepted: {retry.describe()}"


@spec(f"{MRTR}#server-requirements-basic-workflow (clients may never retry)")
def test_a_call_nobody_retries_holds_up_no_other(modern, modern_connect, request, modern_tools):
    """Servers MUST NOT assume that clients will fulfill the inputRequests or retry the
    original request: while one call is left at input_required, the same call from another
    connection is asked for its input too (not failed)."""
    recipe = input_tool(request, modern_tools)
    first = call_input_tool(modern, recipe, ALL_CAPABILITIES)
    assert first.result.get("resultType") == "input_required", first.describe()
    other = modern_connect()
    second = call_input_tool(other, recipe, ALL_CAPABILITIES)
    settle(other, recipe, second)
    settle(modern, recipe, first)
    assert second.error is None and second.result.get("resultType") == "input_required", (
        f"with a call of another connection left unanswered: {second.describe()}")


# ---------------------------------------------------------------------------------------------
# Tools


@spec(f"{V} server/tools#capabilities")
def test_tools_list_does_not_vary_per_connection(modern, modern_connect, modern_tools):
    """The set of tools MUST NOT vary per connection: two connections (over stdio: two
    processes) list the same tools."""
    require_capability(modern_tools, "tools")
    first = sorted(t.get("name") for t in modern.list_all("tools/list", "tools"))
    second = sorted(t.get("name") for t in modern_connect().list_all("tools/list", "tools"))
    assert first == second, f"{first} on one connection, {second} on another"


@spec(f"{V} server/tools#capabilities (deterministic order)", level="SHOULD")
def test_tools_are_listed_in_a_deterministic_order(modern, modern_tools):
    """Servers SHOULD return tools in a deterministic order."""
    require_capability(modern_tools, "tools")
    orders = [[t.get("name") for t in modern.list_all("tools/list", "tools")] for _ in range(3)]
    assert orders[0] == orders[1] == orders[2], f"orders differ: {orders}"


# ---------------------------------------------------------------------------------------------
# Backward compatibility


@spec(f"{V} basic/versioning#backward-compatibility-with-initialization-based-versions",
      level="SHOULD")
def test_a_modern_only_server_names_its_versions_to_initialize(modern_tools, mcp_target):
    """A server that supports only modern versions SHOULD name the versions it supports in any
    error it returns to an initialize request (a 2025-11-25 client's, without _meta)."""
    session = open_session(mcp_target)
    try:
        rid = session.start_request("initialize", {"protocolVersion": LEGACY,
                                                   "capabilities": {},
                                                   "clientInfo": {"name": "legacy-client",
                                                                  "version": "1"}})
        if hasattr(session, "wait_reply"):  # HTTP: the POST's answer, whatever its body
            reply = session.wait_reply(rid, REQUEST_TIMEOUT_S)
            response = next((m for m in (reply.messages if reply else [])
                             if "method" not in m and same_id(m.get("id"), rid)), None)
            assert response is not None, (
                f"no JSON-RPC answer to initialize (HTTP {getattr(reply, 'status', None)}, "
                f"{getattr(reply, 'body', b'')[:200]!r})")
        else:
            response = session.wait_for(
                lambda m: "method" not in m and same_id(m.get("id"), rid), REQUEST_TIMEOUT_S)
        assert response is not None, "no answer to initialize"
        if "result" in response:
            pytest.skip("the server answers initialize (dual-era): the rule is for modern-only "
                        "servers")
        error = response.get("error") or {}
        data = error.get("data") if isinstance(error.get("data"), dict) else {}
        named = MODERN in (data.get("supported") or []) or MODERN in str(error.get("message"))
        assert named, f"the error does not name {MODERN}: {error}"
    finally:
        close_sessions(mcp_target, [session])
