"""Shape checks for MCP results, after schema/2025-11-25/schema.ts and, for protocol revision
2026-07-28 (at the end), schema/2026-07-28/schema.ts (the sources of truth).

Each `*_problems` function returns a list of readable problems (empty: the value conforms), so a
test can report every deviation at once. Only what the schema requires is checked; optional
fields are checked for their type when present.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

LOG_LEVELS = ("debug", "info", "notice", "warning", "error", "critical", "alert", "emergency")
CONTENT_TYPES = ("text", "image", "audio", "resource_link", "resource")

# 2026-07-28 (basic/index): the version and the reserved _meta keys of requests and results.
MODERN = "2026-07-28"
LEGACY = "2025-11-25"  # the last revision of the initialize era (basic/versioning, terminology)
META_VERSION = "io.modelcontextprotocol/protocolVersion"
META_CAPS = "io.modelcontextprotocol/clientCapabilities"
META_INFO = "io.modelcontextprotocol/clientInfo"
META_LOG = "io.modelcontextprotocol/logLevel"
META_SERVER = "io.modelcontextprotocol/serverInfo"
SUBSCRIPTION = "io.modelcontextprotocol/subscriptionId"


def assert_no_problems(problems: list, what: str) -> None:
    assert not problems, f"{what}:\n  " + "\n  ".join(problems)


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _optional(obj: dict, key: str, kind: type, where: str, out: list) -> None:
    if key in obj and not isinstance(obj[key], kind):
        out.append(f"{where}.{key} is {type(obj[key]).__name__}, not {kind.__name__}")


def _base64_problem(value: Any, where: str) -> list[str]:
    if not isinstance(value, str):
        return [f"{where} is not a string"]
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return [f"{where} is not valid base64"]
    return []


def error_response_problems(response: dict, request_id: Any = None, *,
                            id_may_be_null: bool = False) -> list[str]:
    """2025-11-25 basic, Error Responses: same id as the request (null only when it could not be
    read), an `error` with an integer code and a string message."""
    out = []
    if response.get("jsonrpc") != "2.0":
        out.append(f"jsonrpc is {response.get('jsonrpc')!r}")
    if "result" in response:
        out.append("an error response must not carry a result")
    err = response.get("error")
    if not isinstance(err, dict):
        return out + [f"no error object: {response!r:.300}"]
    if not _is_int(err.get("code")):
        out.append(f"error.code {err.get('code')!r} is not an integer")
    if not isinstance(err.get("message"), str):
        out.append(f"error.message {err.get('message')!r} is not a string")
    rid = response.get("id")
    if not (rid is None and id_may_be_null) and not (
            type(rid) is type(request_id) and rid == request_id):
        out.append(f"id {rid!r} is not the request's {request_id!r}")
    return out


def implementation_problems(info: Any, where: str = "serverInfo") -> list[str]:
    if not isinstance(info, dict):
        return [f"{where} is not an object"]
    out = []
    if not isinstance(info.get("name"), str) or not info.get("name"):
        out.append(f"{where}.name is missing or not a non-empty string")
    if not isinstance(info.get("version"), str):
        out.append(f"{where}.version is missing or not a string")
    for key in ("title", "description", "websiteUrl"):
        _optional(info, key, str, where, out)
    _optional(info, "icons", list, where, out)
    return out


def initialize_result_problems(result: Any) -> list[str]:
    """InitializeResult: protocolVersion, capabilities, serverInfo; instructions optional."""
    if not isinstance(result, dict):
        return ["the result is not an object"]
    out = []
    if not isinstance(result.get("protocolVersion"), str) or not result.get("protocolVersion"):
        out.append(f"protocolVersion {result.get('protocolVersion')!r} is not a string")
    caps = result.get("capabilities")
    if not isinstance(caps, dict):
        out.append("capabilities is missing or not an object")
    else:
        for name in ("prompts", "resources", "tools", "logging", "completions", "tasks",
                     "experimental"):
            if name in caps and not isinstance(caps[name], dict):
                out.append(f"capabilities.{name} is not an object")
        for name in ("prompts", "resources", "tools"):
            sub = caps.get(name)
            if isinstance(sub, dict) and "listChanged" in sub and \
                    not isinstance(sub["listChanged"], bool):
                out.append(f"capabilities.{name}.listChanged is not a boolean")
    out += implementation_problems(result.get("serverInfo"))
    _optional(result, "instructions", str, "result", out)
    return out


def content_block_problems(block: Any, where: str) -> list[str]:
    """ContentBlock: TextContent | ImageContent | AudioContent | ResourceLink | EmbeddedResource."""
    if not isinstance(block, dict):
        return [f"{where} is not an object"]
    kind = block.get("type")
    out: list[str] = []
    if kind == "text":
        if not isinstance(block.get("text"), str):
            out.append(f"{where}: text content without a string `text`")
    elif kind in ("image", "audio"):
        out += _base64_problem(block.get("data"), f"{where}.data")
        if not isinstance(block.get("mimeType"), str) or not block.get("mimeType"):
            out.append(f"{where}: {kind} content without a mimeType")
    elif kind == "resource_link":
        if not isinstance(block.get("uri"), str):
            out.append(f"{where}: resource_link without a string uri")
        if not isinstance(block.get("name"), str):
            out.append(f"{where}: resource_link without a string name")
    elif kind == "resource":
        out += resource_contents_problems(block.get("resource"), f"{where}.resource")
    else:
        out.append(f"{where}: unknown content type {kind!r} (known: {', '.join(CONTENT_TYPES)})")
    if "annotations" in block and not isinstance(block["annotations"], dict):
        out.append(f"{where}.annotations is not an object")
    return out


def resource_contents_problems(contents: Any, where: str) -> list[str]:
    """TextResourceContents | BlobResourceContents: uri, and exactly one of text / blob."""
    if not isinstance(contents, dict):
        return [f"{where} is not an object"]
    out = []
    if not isinstance(contents.get("uri"), str):
        out.append(f"{where}.uri is missing or not a string")
    has_text, has_blob = "text" in contents, "blob" in contents
    if has_text == has_blob:
        out.append(f"{where} must have exactly one of text and blob")
    elif has_text and not isinstance(contents["text"], str):
        out.append(f"{where}.text is not a string")
    elif has_blob:
        out += _base64_problem(contents["blob"], f"{where}.blob")
    _optional(contents, "mimeType", str, where, out)
    return out


def call_tool_result_problems(result: Any) -> list[str]:
    """CallToolResult: content (ContentBlock[]), structuredContent (object), isError (bool)."""
    if not isinstance(result, dict):
        return ["the result is not an object"]
    out = []
    content = result.get("content")
    if not isinstance(content, list):
        out.append("content is missing or not an array")
    else:
        for i, block in enumerate(content):
            out += content_block_problems(block, f"content[{i}]")
    if "structuredContent" in result and not isinstance(result["structuredContent"], dict):
        out.append("structuredContent is not an object")
    _optional(result, "isError", bool, "result", out)
    return out


def tool_problems(tool: Any, where: str) -> list[str]:
    """Tool: name, inputSchema {type: "object"}; outputSchema likewise when present."""
    if not isinstance(tool, dict):
        return [f"{where} is not an object"]
    out = []
    if not isinstance(tool.get("name"), str) or not tool.get("name"):
        out.append(f"{where}.name is missing or empty")
    for key in ("inputSchema", "outputSchema"):
        if key == "outputSchema" and key not in tool:
            continue
        schema = tool.get(key)
        if not isinstance(schema, dict):
            out.append(f"{where}.{key} is missing or not an object")
        elif schema.get("type") != "object":
            out.append(f"{where}.{key}.type is {schema.get('type')!r}, not 'object'")
    for key in ("title", "description"):
        _optional(tool, key, str, where, out)
    _optional(tool, "annotations", dict, where, out)
    return out


def schema_problems(value: Any, schema: Any, where: str = "structuredContent",
                    depth: int = 0) -> list[str]:
    """A small JSON Schema check (type, enum, const, required, properties, items): enough to
    tell whether structured output conforms to a tool's outputSchema; $ref and combinators
    are not followed (a schema using them is only checked for what is listed)."""
    if not isinstance(schema, dict) or depth > 20:
        return []
    out: list[str] = []
    expected = schema.get("type")
    if expected is not None:
        kinds = expected if isinstance(expected, list) else [expected]
        checks = {"object": lambda v: isinstance(v, dict), "array": lambda v: isinstance(v, list),
                  "string": lambda v: isinstance(v, str), "integer": _is_int,
                  "number": _is_number, "boolean": lambda v: isinstance(v, bool),
                  "null": lambda v: v is None}
        if not any(checks.get(k, lambda v: True)(value) for k in kinds):
            return [f"{where} is {type(value).__name__}, the schema says {expected}"]
    if "enum" in schema and value not in schema["enum"]:
        out.append(f"{where} = {value!r} is not one of {schema['enum']}")
    if "const" in schema and value != schema["const"]:
        out.append(f"{where} = {value!r} is not {schema['const']!r}")
    if isinstance(value, dict):
        for key in schema.get("required") or []:
            if key not in value:
                out.append(f"{where} lacks the required {key!r}")
        for key, sub in (schema.get("properties") or {}).items():
            if key in value:
                out += schema_problems(value[key], sub, f"{where}.{key}", depth + 1)
        if schema.get("additionalProperties") is False:
            extra = set(value) - set(schema.get("properties") or {})
            if extra:
                out.append(f"{where} has properties the schema forbids: {sorted(extra)}")
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, item in enumerate(value):
            out += schema_problems(item, schema["items"], f"{where}[{i}]", depth + 1)
    return out


def resource_problems(resource: Any, where: str) -> list[str]:
    if not isinstance(resource, dict):
        return [f"{where} is not an object"]
    out = []
    for key in ("uri", "name"):
        if not isinstance(resource.get(key), str):
            out.append(f"{where}.{key} is missing or not a string")
    for key in ("title", "description", "mimeType"):
        _optional(resource, key, str, where, out)
    if "size" in resource and not _is_number(resource["size"]):
        out.append(f"{where}.size is not a number")
    return out


def resource_template_problems(template: Any, where: str) -> list[str]:
    if not isinstance(template, dict):
        return [f"{where} is not an object"]
    out = []
    for key in ("uriTemplate", "name"):
        if not isinstance(template.get(key), str):
            out.append(f"{where}.{key} is missing or not a string")
    for key in ("title", "description", "mimeType"):
        _optional(template, key, str, where, out)
    return out


def prompt_problems(prompt: Any, where: str) -> list[str]:
    if not isinstance(prompt, dict):
        return [f"{where} is not an object"]
    out = []
    if not isinstance(prompt.get("name"), str):
        out.append(f"{where}.name is missing or not a string")
    for key in ("title", "description"):
        _optional(prompt, key, str, where, out)
    args = prompt.get("arguments")
    if args is not None:
        if not isinstance(args, list):
            out.append(f"{where}.arguments is not an array")
        else:
            for i, a in enumerate(args):
                w = f"{where}.arguments[{i}]"
                if not isinstance(a, dict) or not isinstance(a.get("name"), str):
                    out.append(f"{w} has no string name")
                elif "required" in a and not isinstance(a["required"], bool):
                    out.append(f"{w}.required is not a boolean")
    return out


def prompt_message_problems(message: Any, where: str) -> list[str]:
    if not isinstance(message, dict):
        return [f"{where} is not an object"]
    out = []
    if message.get("role") not in ("user", "assistant"):
        out.append(f"{where}.role {message.get('role')!r} is not user or assistant")
    out += content_block_problems(message.get("content"), f"{where}.content")
    return out


def log_message_problems(params: Any) -> list[str]:
    """LoggingMessageNotificationParams: level (LoggingLevel), data (any), logger (string)."""
    if not isinstance(params, dict):
        return ["params is not an object"]
    out = []
    if params.get("level") not in LOG_LEVELS:
        out.append(f"level {params.get('level')!r} is not a LoggingLevel")
    if "data" not in params:
        out.append("no data")
    _optional(params, "logger", str, "params", out)
    return out


# --------------------------------------------------------------------------------------------
# 2026-07-28 (schema/2026-07-28/schema.ts)

RESULT_TYPES = ("complete", "input_required")
CACHE_SCOPES = ("public", "private")
# basic/patterns/mrtr, InputRequests: the kinds of input request, and the client capability each
# needs.
INPUT_REQUEST_CAPABILITY = {"elicitation/create": "elicitation",
                            "sampling/createMessage": "sampling", "roots/list": "roots"}


def discover_result_problems(result: Any) -> list[str]:
    """DiscoverResult: resultType, supportedVersions (non-empty string[]), capabilities (object of
    objects), instructions (string) when present."""
    if not isinstance(result, dict):
        return ["the result is not an object"]
    out = []
    if result.get("resultType") != "complete":
        out.append(f"resultType is {result.get('resultType')!r}, not 'complete'")
    versions = result.get("supportedVersions")
    if not isinstance(versions, list) or not versions or \
            not all(isinstance(v, str) and v for v in versions):
        out.append(f"supportedVersions {versions!r} is not a non-empty array of strings")
    caps = result.get("capabilities")
    if not isinstance(caps, dict):
        out.append("capabilities is missing or not an object")
    else:
        out += [f"capabilities.{k} is not an object" for k, v in caps.items()
                if not isinstance(v, dict)]
    _optional(result, "instructions", str, "result", out)
    return out


def cacheable_problems(result: Any, where: str) -> list[str]:
    """CacheableResult (server/utilities/caching): ttlMs an integer >= 0, cacheScope public or
    private."""
    if not isinstance(result, dict):
        return [f"{where}: the result is not an object"]
    out = []
    ttl = result.get("ttlMs")
    if not _is_int(ttl) or ttl < 0:
        out.append(f"{where}: ttlMs {ttl!r} is not an integer >= 0")
    if result.get("cacheScope") not in CACHE_SCOPES:
        out.append(f"{where}: cacheScope {result.get('cacheScope')!r} is not one of "
                   f"{CACHE_SCOPES}")
    return out


def server_info_problems(result: Any, where: str) -> list[str]:
    """basic/index, per-response protocol fields: _meta[io.modelcontextprotocol/serverInfo] is
    an Implementation."""
    meta = result.get("_meta") if isinstance(result, dict) else None
    if not isinstance(meta, dict) or META_SERVER not in meta:
        return [f"{where}: no _meta[{META_SERVER!r}]"]
    return implementation_problems(meta[META_SERVER], f"{where}: serverInfo")


def input_required_problems(result: Any) -> list[str]:
    """InputRequiredResult (basic/patterns/mrtr): resultType input_required, at least one of
    inputRequests (an object of {method, params} requests of the three kinds, no jsonrpc or id)
    and requestState (a string)."""
    if not isinstance(result, dict):
        return ["the result is not an object"]
    out = []
    if result.get("resultType") != "input_required":
        out.append(f"resultType is {result.get('resultType')!r}, not 'input_required'")
    requests, state = result.get("inputRequests"), result.get("requestState")
    if requests is None and state is None:
        out.append("neither inputRequests nor requestState")
    if state is not None and not isinstance(state, str):
        out.append(f"requestState is {type(state).__name__}, not a string")
    if requests is not None and not isinstance(requests, dict):
        return out + [f"inputRequests is {type(requests).__name__}, not an object"]
    for key, request in (requests or {}).items():
        where = f"inputRequests[{key!r}]"
        if not isinstance(request, dict):
            out.append(f"{where} is not an object")
            continue
        if request.get("method") not in INPUT_REQUEST_CAPABILITY:
            out.append(f"{where}.method {request.get('method')!r} is not one of "
                       f"{list(INPUT_REQUEST_CAPABILITY)}")
        params = request.get("params")
        if not (params is None and request.get("method") == "roots/list") and \
                not isinstance(params, dict):
            out.append(f"{where}.params is missing or not an object")
        out += [f"{where} has a JSON-RPC {k!r} (input requests are not messages)"
                for k in ("jsonrpc", "id") if k in request]
    return out
