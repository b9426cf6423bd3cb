"""Generic MCP protocol conformance, written once, run over the transport of the server under test.

The server is the one mcp_targets.py selects: --url (Streamable HTTP), --sse-url (HTTP+SSE),
--cmd (stdio), or by default our mock (`mock-mcp-server --fixture conformance`) over stdio. Each
test names the rule it checks with @pytest.mark.spec (see spec_report.py); citations are to
modelcontextprotocol/modelcontextprotocol, docs/specification/<version>/ and schema/<version>/.
A test that needs a capability or a tool the server lacks skips and says which.
"""

from __future__ import annotations

import json
import time

import pytest

from mcp_session import (INVALID_PARAMS, INVALID_REQUEST, METHOD_NOT_FOUND, PARSE_ERROR,
                         REQUEST_TIMEOUT_S, RESOURCE_NOT_FOUND, is_notification, is_response,
                         same_id)
from mcp_shapes import (LOG_LEVELS, assert_no_problems, call_tool_result_problems,
                        error_response_problems, initialize_result_problems, log_message_problems,
                        prompt_message_problems, prompt_problems, resource_contents_problems,
                        resource_problems, resource_template_problems, schema_problems,
                        tool_problems)
from mcp_targets import find_tool, find_tools, list_all

spec = pytest.mark.spec

# Versions that use the initialize handshake (2026-07-28 replaced it with server/discover).
KNOWN_VERSIONS = ("2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25")
NO_SUCH_VERSION = "1999-01-01"  # predates MCP: no server supports it
# How long to keep listening for messages that must not come (a response to a cancelled
# request, progress after the response, a reply to a notification).
QUIET_WINDOW_S = 1.0
# An error for bad input needs no work: a server that has not answered within this has not
# answered at all (kept short: servers that never answer would otherwise cost a full timeout).
MALFORMED_REPLY_TIMEOUT_S = 8.0


def require_capability(session, name: str) -> None:
    if name not in session.server_capabilities:
        pytest.skip(f"the server does not declare the {name!r} capability")


def negotiated_version(connect, requested: str) -> str:
    """A fresh session's answer to initialize(requested); the session is closed again."""
    with connect() as s:
        response = s.initialize(requested)
        assert "result" in response, (f"initialize asking for {requested!r} failed: {response}; "
                                      "the server must answer with a version it supports")
        version = response["result"].get("protocolVersion")
        assert isinstance(version, str), response
        return version


# ---------------------------------------------------------------------------------------------
# Lifecycle


@spec("2025-11-25 basic/lifecycle#initialization")
@spec("2025-11-25 basic#responses")
def test_initialize_result_has_version_capabilities_and_server_info(connect):
    """The server MUST respond with its own capabilities and information: InitializeResult has
    protocolVersion, capabilities and serverInfo {name, version}; the response has the
    request's id."""
    s = connect()
    response = s.initialize(request_id="init-1")
    assert same_id(response.get("id"), "init-1"), response
    assert response.get("jsonrpc") == "2.0", response
    assert "result" in response, f"initialize failed: {response}"
    assert_no_problems(initialize_result_problems(response["result"]), "InitializeResult")


@spec("2025-11-25 basic/lifecycle#version-negotiation")
@pytest.mark.parametrize("requested", KNOWN_VERSIONS + (NO_SUCH_VERSION,))
def test_version_negotiation_answers_a_supported_version(connect, requested):
    """If the server supports the requested version it MUST answer with it; otherwise it MUST
    answer with another version it supports. Checked by asking again for the version it
    answered: a version it supports comes back unchanged."""
    answered = negotiated_version(connect, requested)
    if requested == NO_SUCH_VERSION:
        assert answered != requested, "the server claims to support a version that never existed"
    if answered == requested:
        return
    again = negotiated_version(connect, answered)
    assert again == answered, (f"asked for {requested}, the server offered {answered}; asked "
                               f"for {answered}, it offered {again}: so it does not support "
                               "the version it offered")


@spec("2025-11-25 basic/lifecycle#version-negotiation (latest)", level="SHOULD")
def test_unsupported_version_is_answered_with_the_latest_supported(connect):
    """Otherwise the server answers with another version it supports, which SHOULD be the
    latest version it supports."""
    supported = [v for v in KNOWN_VERSIONS if negotiated_version(connect, v) == v]
    assert supported, f"the server echoes none of {KNOWN_VERSIONS}"
    answered = negotiated_version(connect, NO_SUCH_VERSION)
    assert answered >= max(supported), (f"answered {answered}, but it supports {supported}; the "
                                        "answer should be the latest")


@spec("2025-11-25 basic/utilities/ping#behavior-requirements")
def test_ping_gets_an_empty_result(session):
    """The receiver MUST respond promptly with an empty response."""
    response = session.request("ping", request_id="ping-1")
    assert response.get("result") is not None, response
    assert set(response["result"]) <= {"_meta"}, f"not an empty result: {response}"
    assert same_id(response["id"], "ping-1")


@spec("2025-11-25 basic#responses")
def test_response_ids_keep_their_value_and_type(session):
    """Responses MUST include the same ID as the request they correspond to: "7" and 7 are
    different ids. Several requests are in flight at once; each is answered exactly once."""
    ids = ["7", 7, "id-x", 2**31 + 5]
    for rid in ids:
        session.start_request("ping", request_id=rid)
    for rid in ids:
        response = session.wait_response(rid)
        assert "result" in response, response
    time.sleep(QUIET_WINDOW_S / 2)
    responses = session.messages(is_response)
    for rid in ids:
        answers = [m for m in responses if same_id(m.get("id"), rid)]
        assert len(answers) == 1, f"request id {rid!r} got {len(answers)} responses: {answers}"
    strays = [m for m in responses if not any(same_id(m.get("id"), rid) for rid in ids)
              and not same_id(m.get("id"), session.initialize_request_id)]
    assert not strays, f"responses to no request of ours: {strays}"


@spec("jsonrpc-2.0 §5.1 (method not found)")
@spec("2025-11-25 basic#error-responses")
def test_unknown_method_gets_method_not_found(session):
    """JSON-RPC 2.0: -32601 when the method does not exist; the error response has the
    request's id, an integer code and a string message."""
    response = session.request("conformance/no-such-method", {}, request_id="unknown-1")
    assert_no_problems(error_response_problems(response, "unknown-1"), "error response")
    assert response["error"]["code"] == METHOD_NOT_FOUND, response


# Requests of each server capability, to send when the capability is not declared.
CAPABILITY_PROBES = {
    "tools": ("tools/list", None),
    "prompts": ("prompts/list", None),
    "resources": ("resources/list", None),
    "logging": ("logging/setLevel", {"level": "info"}),
    "completions": ("completion/complete",
                    {"ref": {"type": "ref/prompt", "name": "conformance"},
                     "argument": {"name": "a", "value": ""}}),
    "tasks": ("tasks/list", None),
}


@spec("2025-11-25 basic/lifecycle#operation", level="SHOULD")
@pytest.mark.parametrize("capability", list(CAPABILITY_PROBES))
def test_undeclared_capability_gets_method_not_found(session, capability):
    """Both parties MUST only use capabilities that were successfully negotiated; a request of
    a capability the server did not declare is a method it does not offer: -32601
    (server/utilities/completion, Error Handling: "Method not found: -32601 (Capability not
    supported)")."""
    if capability in session.server_capabilities:
        pytest.skip(f"the server declares {capability!r}, so there is no undeclared method "
                    "to probe there")
    method, params = CAPABILITY_PROBES[capability]
    response = session.request(method, params, request_id=f"probe-{capability}")
    assert "error" in response, (f"{method} answered although {capability!r} is not declared: "
                                 f"{response}")
    assert response["error"].get("code") == METHOD_NOT_FOUND, response


# ---------------------------------------------------------------------------------------------
# Malformed input (JSON-RPC 2.0: the server MUST reply, except to notifications)


def expect_rejection(session, data: bytes, code: int, request_id=None) -> None:
    """Sends data and checks the rejection: over HTTP a 4xx status is the transport's refusal
    (a JSON-RPC error in its body, when present, must carry `code`); otherwise a JSON-RPC error
    with `code` and the request's id or null must arrive. Then the session must still work."""
    mark = session.mark()
    status = session.send_raw(data)
    refused_by_http = status is not None and 400 <= status < 500
    error = session.wait_for(
        lambda m: is_response(m) and "error" in m
        and (m.get("id") is None or same_id(m.get("id"), request_id)),
        timeout_s=2.0 if refused_by_http else MALFORMED_REPLY_TIMEOUT_S, start=mark)
    if error is None:
        assert refused_by_http, (f"no JSON-RPC error in answer to {data[:80]!r} (transport "
                                 f"status {status}); {session.diagnostics()}")
    else:
        assert_no_problems(error_response_problems(error, request_id, id_may_be_null=True),
                           "error response")
        assert error["error"]["code"] == code, error
    ping = session.request("ping", request_id="after-bad-input")
    assert "result" in ping, f"the session broke after bad input: {ping}"


@spec("jsonrpc-2.0 §5.1 (parse error)")
def test_unparseable_message_gets_parse_error(session):
    """JSON-RPC 2.0 sections 4.2 and 5.1: invalid JSON gets -32700 with id null. (MCP clients
    MUST NOT send such input: this checks the server's robustness.)"""
    expect_rejection(session, b'{"jsonrpc": "2.0", "id": 1, "method": ', PARSE_ERROR)


@spec("jsonrpc-2.0 §5.1 (invalid request)")
@pytest.mark.parametrize("message,request_id", [
    (b'{"jsonrpc": "2.0", "id": "bad-1", "method": 42}', "bad-1"),
    (b'{"jsonrpc": "1.0", "id": "bad-2", "method": "ping"}', "bad-2"),
    (b'{"jsonrpc": "2.0", "id": {"an": "object"}, "method": "ping"}', None),
], ids=["method-not-string", "jsonrpc-1.0", "id-object"])
def test_invalid_request_gets_invalid_request(session, message, request_id):
    """JSON-RPC 2.0 section 4: jsonrpc MUST be exactly "2.0", method a string, id a string,
    number or null; otherwise -32600 Invalid Request (id null when it cannot be read)."""
    expect_rejection(session, message, INVALID_REQUEST, request_id)


@spec("2025-11-25 basic#notifications")
@spec("2025-11-25 basic/utilities/cancellation#error-handling", level="SHOULD")
def test_notifications_get_no_response(session):
    """The receiver of a notification MUST NOT send a response; invalid cancellation
    notifications (unknown id, already completed, malformed) SHOULD be ignored."""
    done = session.request("ping", request_id="done-1")
    assert "result" in done
    mark = session.mark()
    session.notify("notifications/cancelled", {"requestId": "done-1", "reason": "completed"})
    session.notify("notifications/cancelled", {"requestId": "never-sent", "reason": "unknown"})
    session.notify("notifications/cancelled", {"reason": "no requestId"})
    session.notify("notifications/conformance/unknown", {"x": 1})
    time.sleep(QUIET_WINDOW_S)
    ping = session.request("ping", request_id="after-notifications")
    assert "result" in ping, ping
    replies = [m for m in session.messages(is_response, mark)
               if not same_id(m.get("id"), "after-notifications")]
    assert not replies, f"responses to notifications: {replies}"


# ---------------------------------------------------------------------------------------------
# Tools


@spec("2025-11-25 server/tools#listing-tools")
@spec("2025-11-25 server/tools#tool")
def test_tools_list_result_shape(session):
    """tools/list: result.tools, each a Tool with name and an inputSchema of type object
    (outputSchema likewise when present)."""
    require_capability(session, "tools")
    result = session.result("tools/list")
    assert isinstance(result.get("tools"), list), result
    problems = []
    for i, tool in enumerate(result["tools"]):
        problems += tool_problems(tool, f"tools[{i}]")
    if "nextCursor" in result:
        assert isinstance(result["nextCursor"], str), result["nextCursor"]
    assert_no_problems(problems, "tools/list")


@spec("2025-11-25 server/tools#tool-names", level="SHOULD")
def test_tool_names_follow_the_naming_guidance(server_tools):
    """Tool names SHOULD be 1 to 128 characters of A-Z a-z 0-9 _ - . and unique."""
    if not server_tools.tools:
        pytest.skip("the server lists no tools")
    allowed = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.")
    names = [t.get("name", "") for t in server_tools.tools]
    bad = [n for n in names if not (1 <= len(n) <= 128 and set(n) <= allowed)]
    assert not bad, f"tool names outside the guidance: {bad}"
    duplicates = sorted({n for n in names if names.count(n) > 1})
    assert not duplicates, f"duplicate tool names: {duplicates}"


@spec("2025-11-25 server/tools#calling-tools")
def test_tools_call_returns_content(session, request, server_tools):
    """tools/call answers with a CallToolResult whose content carries the tool's output."""
    recipe = find_tool(request, server_tools, "echo")
    response = session.call_tool(recipe.name, recipe.arguments, request_id="echo-1")
    assert same_id(response.get("id"), "echo-1")
    assert "result" in response, response
    assert_no_problems(call_tool_result_problems(response["result"]), "CallToolResult")
    assert response["result"].get("isError", False) is False, response
    texts = [b.get("text") for b in response["result"]["content"] if b.get("type") == "text"]
    if recipe.expect_text is not None:
        assert recipe.expect_text in texts, texts
    else:
        assert any(recipe.echo_text in t for t in texts), texts


@spec("2025-11-25 server/tools#tool-result")
def test_tool_results_are_well_formed_content(session, server_tools):
    """Every content block is a TextContent, ImageContent, AudioContent (base64 data and a
    mimeType), ResourceLink or EmbeddedResource; checked on the known content tools."""
    recipes = find_tools(server_tools, "content")
    if not recipes:
        pytest.skip("the server has none of the known content tools "
                    "(test_image_content, get-tiny-image, ...)")
    problems = []
    for recipe in recipes:
        response = session.call_tool(recipe.name, recipe.arguments)
        assert "result" in response, f"{recipe.name}: {response}"
        problems += [f"{recipe.name}: {p}" for p in call_tool_result_problems(response["result"])]
    assert_no_problems(problems, "tool results")


@spec("2025-11-25 server/tools#error-handling", level="SHOULD")
def test_unknown_tool_is_a_protocol_error(session):
    """Unknown tools are reported as protocol errors (a JSON-RPC error, the example: -32602),
    not as tool execution errors (isError)."""
    require_capability(session, "tools")
    response = session.call_tool("conformance-no-such-tool", {}, request_id="no-tool")
    assert "result" not in response, ("an unknown tool was answered with a result (a tool "
                                      f"execution error?), not a JSON-RPC error: {response}")
    assert_no_problems(error_response_problems(response, "no-tool"),
                       "answer to an unknown tool")


@spec("2025-11-25 server/tools#output-schema")
def test_structured_content_conforms_to_the_output_schema(session, server_tools):
    """If a tool declares an outputSchema, the server MUST provide structured results that
    conform to it."""
    recipes = [r for r in find_tools(server_tools, "structured")
               if "outputSchema" in server_tools.by_name(r.name)]
    if not recipes:
        pytest.skip("no known tool of this server declares an outputSchema")
    for recipe in recipes:
        response = session.call_tool(recipe.name, recipe.arguments)
        assert "result" in response, response
        result = response["result"]
        assert "structuredContent" in result, f"{recipe.name}: no structuredContent: {result}"
        schema = server_tools.by_name(recipe.name)["outputSchema"]
        assert_no_problems(schema_problems(result["structuredContent"], schema),
                           f"{recipe.name}: structuredContent against outputSchema")


@spec("2025-11-25 server/tools#structured-content (also as JSON text)", level="SHOULD")
def test_structured_content_is_also_serialized_as_text(session, server_tools):
    """A tool that returns structured content SHOULD also return the serialized JSON in a
    TextContent block (backwards compatibility)."""
    recipes = find_tools(server_tools, "structured")
    if not recipes:
        pytest.skip("the server has none of the known structured-output tools (add, "
                    "get-structured-content, get-sum)")
    checked = 0
    for recipe in recipes:
        result = session.call_tool(recipe.name, recipe.arguments).get("result") or {}
        if "structuredContent" not in result:
            continue
        checked += 1
        decoded = []
        for block in result.get("content") or []:
            if block.get("type") == "text":
                try:
                    decoded.append(json.loads(block["text"]))
                except ValueError:
                    pass
        assert result["structuredContent"] in decoded, (
            f"{recipe.name}: no text block holds the structuredContent as JSON: {result}")
    if not checked:
        pytest.skip("none of the known structured-output tools returned structuredContent")


# ---------------------------------------------------------------------------------------------
# Pagination


LISTS = {  # method -> (capability, result key)
    "tools/list": ("tools", "tools"),
    "resources/list": ("resources", "resources"),
    "resources/templates/list": ("resources", "resourceTemplates"),
    "prompts/list": ("prompts", "prompts"),
}


@spec("2025-11-25 server/utilities/pagination#response-format")
@pytest.mark.parametrize("method", list(LISTS))
def test_pagination_round_trip(session, method):
    """A nextCursor, sent back as params.cursor, gets the next page; pages do not repeat
    items; the loop ends (bounded here at 50 pages)."""
    capability, key = LISTS[method]
    require_capability(session, capability)
    first = session.result(method)
    if not first.get("nextCursor"):
        pytest.skip(f"{method} returned everything in one page (no nextCursor to follow)")
    seen = [repr(item) for item in first.get(key) or []]
    cursor = first["nextCursor"]
    for _ in range(50):
        assert isinstance(cursor, str), f"nextCursor {cursor!r} is not a string"
        page = session.result(method, {"cursor": cursor})
        assert isinstance(page.get(key), list), page
        for item in page[key]:
            assert repr(item) not in seen, f"{method}: an item repeats across pages: {item}"
            seen.append(repr(item))
        cursor = page.get("nextCursor")
        if not cursor:
            return
    pytest.fail(f"{method}: still a nextCursor after 50 pages")


@spec("2025-11-25 server/utilities/pagination#error-handling", level="SHOULD")
@pytest.mark.parametrize("method", list(LISTS))
def test_invalid_cursor_gets_invalid_params(session, method):
    """Invalid cursors SHOULD result in an error with code -32602 (Invalid params)."""
    capability, _ = LISTS[method]
    require_capability(session, capability)
    response = session.request(method, {"cursor": "conformance-invalid-cursor-\u00e9%%"},
                               request_id="bad-cursor")
    assert "error" in response, f"{method} accepted an invalid cursor: {str(response)[:300]}"
    assert_no_problems(error_response_problems(response, "bad-cursor"), "error response")
    assert response["error"]["code"] == INVALID_PARAMS, response


# ---------------------------------------------------------------------------------------------
# Resources


@spec("2025-11-25 server/resources#listing-resources")
@spec("2025-11-25 server/resources#resource")
def test_resources_list_result_shape(session):
    require_capability(session, "resources")
    resources = list_all(session, "resources/list", "resources")
    problems = []
    for i, r in enumerate(resources):
        problems += resource_problems(r, f"resources[{i}]")
    assert_no_problems(problems, "resources/list")


@spec("2025-11-25 server/resources#reading-resources")
@spec("2025-11-25 server/resources#resource-contents")
def test_resources_read_returns_contents(session):
    """resources/read of a listed resource: contents, each with uri and text or base64 blob."""
    require_capability(session, "resources")
    resources = list_all(session, "resources/list", "resources")
    if not resources:
        pytest.skip("the server lists no resources")
    uri = resources[0]["uri"]
    result = session.result("resources/read", {"uri": uri})
    contents = result.get("contents")
    assert isinstance(contents, list) and contents, f"no contents for {uri}: {result}"
    problems = []
    for i, c in enumerate(contents):
        problems += resource_contents_problems(c, f"contents[{i}]")
    assert_no_problems(problems, f"resources/read {uri}")


@spec("2025-11-25 server/resources#resource-templates")
def test_resource_templates_list_result_shape(session):
    require_capability(session, "resources")
    templates = list_all(session, "resources/templates/list", "resourceTemplates")
    problems = []
    for i, t in enumerate(templates):
        problems += resource_template_problems(t, f"resourceTemplates[{i}]")
    assert_no_problems(problems, "resources/templates/list")


@spec("2025-11-25 server/resources#error-handling", level="SHOULD")
def test_unknown_resource_gets_an_error(session):
    """Resource not found: -32002 (2025-11-25, SHOULD); 2026-07-28 requires -32602 and tells
    clients to accept -32002 too, so either passes here. Never an empty success."""
    require_capability(session, "resources")
    response = session.request("resources/read",
                               {"uri": "conformance-test://no/such/resource"},
                               request_id="no-resource")
    assert "error" in response, f"an unknown resource was answered: {str(response)[:300]}"
    assert_no_problems(error_response_problems(response, "no-resource"), "error response")
    assert response["error"]["code"] in (RESOURCE_NOT_FOUND, INVALID_PARAMS), response


# ---------------------------------------------------------------------------------------------
# Prompts


@spec("2025-11-25 server/prompts#listing-prompts")
@spec("2025-11-25 server/prompts#prompt")
def test_prompts_list_result_shape(session):
    require_capability(session, "prompts")
    prompts = list_all(session, "prompts/list", "prompts")
    problems = []
    for i, p in enumerate(prompts):
        problems += prompt_problems(p, f"prompts[{i}]")
    assert_no_problems(problems, "prompts/list")


@spec("2025-11-25 server/prompts#getting-a-prompt")
@spec("2025-11-25 server/prompts#promptmessage")
def test_prompts_get_returns_messages(session):
    """prompts/get of a prompt without required arguments: messages with a role (user or
    assistant) and one content block each."""
    require_capability(session, "prompts")
    prompts = list_all(session, "prompts/list", "prompts")
    simple = [p for p in prompts
              if not any(a.get("required") for a in p.get("arguments") or [])]
    if not simple:
        pytest.skip("every prompt of the server has required arguments")
    name = simple[0]["name"]
    result = session.result("prompts/get", {"name": name})
    messages = result.get("messages")
    assert isinstance(messages, list), result
    problems = []
    for i, m in enumerate(messages):
        problems += prompt_message_problems(m, f"messages[{i}]")
    assert_no_problems(problems, f"prompts/get {name}")


@spec("2025-11-25 server/prompts#error-handling", level="SHOULD")
def test_unknown_prompt_gets_invalid_params(session):
    """Invalid prompt name: -32602 (Invalid params)."""
    require_capability(session, "prompts")
    response = session.request("prompts/get", {"name": "conformance-no-such-prompt"},
                               request_id="no-prompt")
    assert_no_problems(error_response_problems(response, "no-prompt"), "error response")
    assert response["error"]["code"] == INVALID_PARAMS, response


# ---------------------------------------------------------------------------------------------
# Logging


@spec("2025-11-25 server/utilities/logging#setting-log-level")
def test_set_level_gets_an_empty_result(session):
    require_capability(session, "logging")
    result = session.result("logging/setLevel", {"level": "warning"})
    assert set(result) <= {"_meta"}, f"not an empty result: {result}"


@spec("2025-11-25 server/utilities/logging#error-handling", level="SHOULD")
def test_invalid_log_level_gets_invalid_params(session):
    require_capability(session, "logging")
    response = session.request("logging/setLevel", {"level": "conformance-loud"},
                               request_id="bad-level")
    assert_no_problems(error_response_problems(response, "bad-level"), "error response")
    assert response["error"]["code"] == INVALID_PARAMS, response


def run_log_tool(session, recipe, level: str) -> list[dict]:
    """setLevel(level), call the log tool, and return the log notifications that followed."""
    assert "result" in session.request("logging/setLevel", {"level": level})
    mark = session.mark()
    for _ in range(recipe.calls):
        response = session.call_tool(recipe.name, recipe.arguments)
        assert "result" in response, response
        time.sleep(QUIET_WINDOW_S / 2)  # messages not tied to the request may trail it
    return session.notifications("notifications/message", mark)


@spec("2025-11-25 server/utilities/logging#log-message-notifications")
def test_log_messages_are_well_formed(session, request, server_tools):
    """After logging/setLevel, the log tool's notifications/message carry a LoggingLevel, data,
    and optionally a logger name."""
    require_capability(session, "logging")
    recipe = find_tool(request, server_tools, "log")
    messages = run_log_tool(session, recipe, "debug")
    assert messages, f"the log tool {recipe.name} sent no notifications/message at level debug"
    problems = []
    for i, m in enumerate(messages):
        problems += [f"message {i}: {p}" for p in log_message_problems(m.get("params"))]
    assert_no_problems(problems, "notifications/message")


@spec("2025-11-25 server/utilities/logging#message-flow", level="SHOULD")
def test_log_messages_below_the_set_level_are_not_sent(session, request, server_tools):
    """schema SetLevelRequestParams.level: the server should send all logs at this level and
    higher (more severe). The tool logs at some level L at debug; at the next level up, nothing
    below that may arrive."""
    require_capability(session, "logging")
    recipe = find_tool(request, server_tools, "log")
    first = run_log_tool(session, recipe, "debug")
    ranks = [LOG_LEVELS.index(m["params"]["level"]) for m in first
             if m.get("params", {}).get("level") in LOG_LEVELS]
    assert ranks, f"the log tool {recipe.name} sent no notifications/message at level debug"
    if min(ranks) == len(LOG_LEVELS) - 1:
        pytest.skip(f"the log tool {recipe.name} logged at emergency only this time: no "
                    "level above it to filter with")
    threshold = min(ranks) + 1
    later = run_log_tool(session, recipe, LOG_LEVELS[threshold])
    below = [m for m in later if m.get("params", {}).get("level") in LOG_LEVELS
             and LOG_LEVELS.index(m["params"]["level"]) < threshold]
    assert not below, f"messages below {LOG_LEVELS[threshold]} after setLevel: {below}"


# ---------------------------------------------------------------------------------------------
# Progress


@spec("2025-11-25 basic/utilities/progress#progress-flow")
@pytest.mark.parametrize("token", ["conformance-progress-1", 4242], ids=["string-token",
                                                                          "integer-token"])
def test_progress_notifications_carry_the_token_and_increase(session, request, server_tools,
                                                             token):
    """With _meta.progressToken, the known progress tool sends notifications/progress carrying
    that token (same type), with a progress value that increases with each notification, and
    no progress after the response (Behavior Requirements: progress MUST stop after
    completion)."""
    recipe = find_tool(request, server_tools, "progress")
    mark = session.mark()
    rid = session.start_request("tools/call", {"name": recipe.name, "arguments": recipe.arguments,
                                               "_meta": {"progressToken": token}})
    response = session.wait_response(rid, REQUEST_TIMEOUT_S + recipe.seconds)
    assert "result" in response, response
    time.sleep(QUIET_WINDOW_S / 2)
    received = session.messages(start=mark)
    progress = [(i, m) for i, m in enumerate(received)
                if is_notification(m) and m.get("method") == "notifications/progress"]
    assert progress, f"{recipe.name} sent no notifications/progress for a progressToken"
    response_at = next(i for i, m in enumerate(received)
                       if is_response(m) and same_id(m.get("id"), rid))
    values = []
    for i, m in progress:
        params = m.get("params") or {}
        assert same_id(params.get("progressToken"), token), f"token mismatch: {m}"
        assert i < response_at, f"progress after the response: {m}"
        assert isinstance(params.get("progress"), (int, float)), m
        if "total" in params:
            assert isinstance(params["total"], (int, float)), m
        if "message" in params:
            assert isinstance(params["message"], str), m
        values.append(params["progress"])
    assert all(a < b for a, b in zip(values, values[1:])), f"progress does not increase: {values}"


@spec("2025-11-25 basic/utilities/progress#behavior-requirements")
def test_no_progress_without_a_progress_token(session, request, server_tools):
    """Progress notifications MUST only reference tokens provided in an active request: a call
    without a progressToken gets none."""
    recipe = find_tool(request, server_tools, "progress")
    mark = session.mark()
    response = session.call_tool(recipe.name, recipe.arguments,
                                 timeout_s=REQUEST_TIMEOUT_S + recipe.seconds)
    assert "result" in response, response
    time.sleep(QUIET_WINDOW_S / 2)
    progress = session.notifications("notifications/progress", mark)
    assert not progress, f"progress without a progressToken: {progress}"


# ---------------------------------------------------------------------------------------------
# Cancellation


@spec("2025-11-25 basic/utilities/cancellation#behavior-requirements", level="SHOULD")
def test_cancelled_request_gets_no_response(session, request, server_tools):
    """Receivers of notifications/cancelled SHOULD stop processing the request and not send a
    response for it. The slow tool is cancelled while it runs; nothing may answer it up to its
    run time and a margin later."""
    recipe = find_tool(request, server_tools, "slow")
    rid = session.start_request("tools/call", {"name": recipe.name,
                                               "arguments": recipe.arguments},
                                request_id="to-cancel")
    time.sleep(0.3)  # the request is in flight
    session.notify("notifications/cancelled", {"requestId": rid,
                                               "reason": "mcp-conformance: cancellation test"})
    late = session.wait_for(lambda m: is_response(m) and same_id(m.get("id"), rid),
                            recipe.seconds + 2 * QUIET_WINDOW_S)
    assert late is None, f"a response to the cancelled request: {late}"
    # Silence from a server that died proves nothing: it must still answer.
    assert "result" in session.request("ping", request_id="alive-after-cancel")


@spec("2025-11-25 basic/utilities/cancellation#timing-considerations")
def test_server_keeps_working_after_a_cancellation(session, request, server_tools):
    """Both parties MUST handle cancellation races gracefully: after cancelling a running
    request, the server still answers (ping, and the same tool again)."""
    recipe = find_tool(request, server_tools, "slow")
    rid = session.start_request("tools/call", {"name": recipe.name,
                                               "arguments": recipe.arguments})
    time.sleep(0.3)
    session.notify("notifications/cancelled", {"requestId": rid, "reason": "mcp-conformance"})
    ping = session.request("ping", request_id="after-cancel")
    assert "result" in ping, ping
    again = session.call_tool(recipe.name, recipe.arguments,
                              timeout_s=REQUEST_TIMEOUT_S + recipe.seconds)
    assert "result" in again, again
