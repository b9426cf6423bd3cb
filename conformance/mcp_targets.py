"""The server under test for the generic protocol tests (a pytest plugin, loaded by conftest.py).

One of:

* `--url URL`       Streamable HTTP endpoint (2025-03-26 and later)
* `--sse-url URL`   legacy HTTP+SSE (2024-11-05): the URL of the SSE stream (e.g. .../sse)
* `--cmd "CMD ARGS"` a stdio server, spawned by each test (split like a shell would, no shell)
* none of them:     our mock, `mock-mcp-server --fixture conformance`, over stdio

Fixtures: `mcp_target` (the Target), `connect` (a factory of new, uninitialized Sessions; all
closed after the test), `session` (an initialized Session) and `server_tools` (tools/list of
the target, fetched once per run, through every page). For protocol revision 2026-07-28:
`modern_connect` (a factory of mcp_modern.ModernClient), `modern` (one) and `modern_tools`.

Eras (`--era auto|2025-11-25|2026-07-28`): the tests of the initialize era (2025-11-25 and
earlier) use `connect`, `session`, `server_tools` or, over HTTP, `endpoint`; those of 2026-07-28
use the modern fixtures. Each skips as not applicable when the server does not speak its era. With
`auto` (the default) the era is detected once per run (basic/versioning, backward compatibility):
server/discover listing 2026-07-28 means modern, an InitializeResult means legacy, both mean a
dual-era server, which runs both. The built-in mock runs `--era dual` then (`--era modern` for
2026-07-28, its legacy default for 2025-11-25).

Some tests need a tool with a particular behaviour (echo, progress, slow, logging, structured
output). They are found in tools/list by name and input properties among the recipes below
(our mock, its conformance fixture, and @modelcontextprotocol/server-everything), or named on the
command line (`--echo-tool`, `--progress-tool`, `--slow-tool`, `--log-tool`); a test that finds
none skips and says which option would name one.
"""

from __future__ import annotations

import json
import os
import shlex
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

import pytest

from mcp_shapes import LEGACY, MODERN

HERE = Path(__file__).resolve().parent
MOCK_KNOWN_VIOLATIONS = HERE / "mock-known-violations.txt"
_SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")


def pytest_addoption(parser):
    group = parser.getgroup("mcp")
    group.addoption("--sse-url", default=None, metavar="URL",
                    help="a legacy HTTP+SSE (2024-11-05) server's SSE URL: run the generic "
                         "tests against it (proxy-specific and Streamable HTTP tests skip)")
    group.addoption("--cmd", default=None, metavar="COMMAND",
                    help="a stdio MCP server command line (split like a shell, run without "
                         "one): each generic test spawns it (proxy-specific and HTTP tests skip)")
    group.addoption("--progress-tool", default=None, metavar="NAME:ARGS_JSON",
                    help="a tool that sends progress notifications when given a progressToken")
    group.addoption("--slow-tool", default=None, metavar="NAME:ARGS_JSON:SECONDS",
                    help="a tool that takes about SECONDS (>= 1) to answer (cancellation tests)")
    group.addoption("--log-tool", default=None, metavar="NAME:ARGS_JSON",
                    help="a tool that sends notifications/message while it runs")
    group.addoption("--era", default="auto", choices=("auto", LEGACY, MODERN),
                    help="the protocol era whose tests run: 2025-11-25 (initialize) or "
                         "2026-07-28 (per-request _meta); auto (default): detected, both for a "
                         "dual-era server")


# --------------------------------------------------------------------------------------------
# Targets


@dataclass(frozen=True)
class Target:
    transport: str  # "stdio", "sse" or "streamable-http"
    address: Any  # argv tuple for stdio, else a URL
    description: str
    builtin: bool = False  # our mock server: mock-known-violations.txt applies

    def option_hint(self) -> str:
        if self.builtin:
            return "the default mock server"
        return {"stdio": "--cmd", "sse": "--sse-url", "streamable-http": "--url"}[self.transport]


def selected_target_option(config) -> Optional[tuple[str, str]]:
    """(option, value) of the external target given on the command line, or None."""
    given = [(o, config.getoption(o)) for o in ("--url", "--sse-url", "--cmd")
             if config.getoption(o)]
    if len(given) > 1:
        raise pytest.UsageError("give at most one of --url, --sse-url, --cmd")
    return given[0] if given else None


# The built-in mock's era for each --era: auto runs both eras' tests on it.
BUILTIN_ERA_ARGS = {"auto": ["--era", "dual"], LEGACY: [], MODERN: ["--era", "modern"]}


def _builtin_mock_argv(era: str) -> list[str]:
    from conftest import _binary  # conftest is loaded first; it owns binary lookup
    return [str(_binary("MOCK_SERVER_BIN", "mock-servers/mock-mcp-server")),
            "--fixture", "conformance", *BUILTIN_ERA_ARGS[era]]


def resolve_target(config) -> Target:
    chosen = selected_target_option(config)
    if chosen is None:
        argv = _builtin_mock_argv(config.getoption("--era"))
        return Target("stdio", tuple(argv), "built-in: " + " ".join(argv) + " (stdio)",
                      builtin=True)
    option, value = chosen
    if option == "--url":
        return Target("streamable-http", value, f"{value} (Streamable HTTP, --url)")
    if option == "--sse-url":
        return Target("sse", value, f"{value} (HTTP+SSE 2024-11-05, --sse-url)")
    argv = shlex.split(value)
    if not argv:
        raise pytest.UsageError("--cmd: empty command")
    return Target("stdio", tuple(argv), f"{value} (stdio, --cmd)")


@pytest.hookimpl(trylast=True)
def pytest_configure(config):
    target = resolve_target(config)
    config._mcp_target = target
    report = getattr(config, "_spec_report", None)
    if report is None:
        return
    report.subject_of = lambda item: report_subject(item, target)
    path = config.getoption("--known-violations")
    if path is None and target.builtin:
        path = MOCK_KNOWN_VIOLATIONS
    if path is not None:
        from spec_report import parse_known_violations
        report.known_violations = parse_known_violations(Path(path))
        report.known_violations_source = str(path)


def report_subject(item, target: Target) -> str:
    """Which server a test checks, for the per-rule report."""
    fixtures = getattr(item, "fixturenames", ())
    if "mcp_target" in fixtures:
        return target.description
    if {"endpoint", "mcp_client", "mcp"} & set(fixtures):
        if not target.builtin:  # --url: that server; --sse-url, --cmd: they skip there
            return target.description
        return "mcp-proxy (Streamable HTTP) in front of mock-mcp-server"
    return "mcp-proxy"


@pytest.fixture(scope="session")
def mcp_target(request) -> Target:
    target: Target = request.config._mcp_target
    if target.builtin:
        argv0 = Path(target.address[0])
        if not os.access(argv0, os.X_OK):
            pytest.fail(f"mock-mcp-server not found at {argv0} (build it, or set "
                        "MOCK_SERVER_BIN, or name a server with --url/--sse-url/--cmd)")
    return target


def open_session(target: Target, modern: bool = False, **kw):
    """A new transport session to the target: for the initialize era, or (`modern`) for a
    2026-07-28 client (no initialize; over HTTP the modern headers, no session)."""
    from mcp_session import (LegacySseSession, ModernHttpSession, StdioSession,
                             StreamableHttpSession)
    if target.transport == "stdio":
        return StdioSession(list(target.address), label=target.description)
    if target.transport == "sse":
        assert not modern, "HTTP+SSE has no 2026-07-28 form"
        return LegacySseSession(target.address, label=target.description, **kw)
    if modern:
        return ModernHttpSession(target.address, label=target.description)
    return StreamableHttpSession(target.address, label=target.description)


def close_sessions(target: Target, sessions: list) -> None:
    """Closes sessions of a test; a sanitizer report on a built-in server's stderr fails it."""
    problems = []
    for s in sessions:
        s.close()
        if target.builtin and hasattr(s, "stderr_text"):
            err = s.stderr_text()
            if any(marker in err for marker in _SANITIZER_MARKERS):
                problems.append(f"sanitizer report from pid {s.pid}:\n{err[-6000:]}")
    if problems:
        pytest.fail("\n\n".join(problems))


# --------------------------------------------------------------------------------------------
# Eras


_eras_cache: dict = {}
_eras_lock = threading.Lock()


def detect_eras(target: Target, era_option: str):
    """Which eras the target speaks (mcp_modern.Eras): set by --era, known for the built-in mock
    and for HTTP+SSE, else probed once per run, each probe on a new connection (a stdio server
    may settle on the era of its first request)."""
    from mcp_modern import Eras, ModernClient, probe_legacy, probe_modern
    if era_option != "auto":
        left_out = f"--era {era_option} leaves it out"
        return Eras(era_option == MODERN, era_option == LEGACY, left_out, left_out)
    if target.builtin:
        return Eras(True, True, "the built-in mock runs --era dual", "")
    if target.transport == "sse":
        return Eras(False, True, "the server does not speak it (HTTP+SSE, --sse-url, is a "
                                 "transport of the initialize era)", "")
    with _eras_lock:
        if target not in _eras_cache:
            with ModernClient(open_session(target, modern=True)) as client:
                modern, modern_note = probe_modern(client)
            session = open_session(target)
            try:
                legacy, legacy_note = probe_legacy(session)
            finally:
                session.close()
            _eras_cache[target] = Eras(modern, legacy,
                                       f"the server does not speak it ({modern_note})",
                                       f"the server does not speak it ({legacy_note})")
    return _eras_cache[target]


@pytest.fixture(scope="session")
def target_eras(request, mcp_target: Target):
    eras = detect_eras(mcp_target, request.config.getoption("--era"))
    if not eras.modern and not eras.legacy:
        pytest.fail(f"{mcp_target.description} speaks neither era: {eras.modern_note}; "
                    f"{eras.legacy_note}")
    return eras


def require_era(request, era: str) -> None:
    """Skips (not applicable) a test of `era` when the server under test does not speak it."""
    eras = request.getfixturevalue("target_eras")
    if not eras.supports(era):
        from spec_report import skip_not_applicable
        skip_not_applicable(f"a {era} test: {eras.note(era)}")


@pytest.fixture
def connect(request, mcp_target: Target) -> Iterator[Callable[..., Any]]:
    """Factory: connect(**transport_kw) -> a new, uninitialized Session to the target. All are
    closed after the test; a sanitizer report on a built-in server's stderr fails the test."""
    require_era(request, LEGACY)
    sessions: list = []

    def make(**kw):
        s = open_session(mcp_target, **kw)
        sessions.append(s)
        return s

    yield make
    close_sessions(mcp_target, sessions)


@pytest.fixture
def session(connect):
    """An initialized session (initialize + notifications/initialized, latest version)."""
    s = connect()
    s.open()
    return s


@pytest.fixture
def modern_connect(request, mcp_target: Target) -> Iterator[Callable[..., Any]]:
    """Factory: modern_connect(capabilities=None) -> a new mcp_modern.ModernClient of the
    target (its own process over stdio, its own connections over HTTP). All are closed after
    the test, checked like `connect`'s."""
    require_era(request, MODERN)
    from mcp_modern import ModernClient
    clients: list = []

    def make(capabilities: Optional[dict] = None):
        c = ModernClient(open_session(mcp_target, modern=True), capabilities)
        clients.append(c)
        return c

    yield make
    close_sessions(mcp_target, [c.session for c in clients])


@pytest.fixture
def modern(modern_connect):
    """A 2026-07-28 client of the target (no capabilities declared unless a request says)."""
    return modern_connect()


# --------------------------------------------------------------------------------------------
# Tools the behaviour tests need


@dataclass(frozen=True)
class ToolRecipe:
    """How to call a known tool: its name, arguments, and the input properties that tell this
    tool apart from another of the same name."""
    name: str
    arguments: dict
    needs_properties: tuple = ()
    seconds: float = 0.0  # for slow tools: about how long the call takes
    expect_text: Optional[str] = None  # for echo: exact text of the answer (else: contains)
    echo_text: Optional[str] = None  # for echo: the text sent
    calls: int = 1  # for toggles: calls that make one round (on, then off again)
    # 2026-07-28: the client capability an input-asking tool needs (its input requests' kind)
    capability: Optional[str] = None
    # 2026-07-28: for tools that cause a notification, the subscriptions/listen filter that
    # opts in to it and the notification's method
    listen: Optional[dict] = None
    notification: Optional[str] = None


ECHO_TEXT = "conformance echo: é ✓ \"quoted\""

RECIPES: dict[str, list[ToolRecipe]] = {
    "echo": [
        # mock-mcp-server answers with the text, tests/interop/v2_server.mjs with "echo: TEXT"
        ToolRecipe("echo", {"text": ECHO_TEXT}, ("text",), echo_text=ECHO_TEXT),
        ToolRecipe("echo", {"message": ECHO_TEXT}, ("message",), echo_text=ECHO_TEXT),  # everything
    ],
    "progress": [
        ToolRecipe("test_tool_with_progress", {}),  # mock --fixture conformance
        ToolRecipe("progress", {"steps": 3}, ("steps",)),  # mock-mcp-server
        ToolRecipe("trigger-long-running-operation", {"duration": 1, "steps": 3},
                   ("duration", "steps"), seconds=1),  # server-everything
        ToolRecipe("count", {"steps": 3}, ("steps",)),  # tests/interop/v2_server.mjs
    ],
    "slow": [
        ToolRecipe("sleep", {"ms": 2500}, ("ms",), seconds=2.5),  # mock-mcp-server
        ToolRecipe("trigger-long-running-operation", {"duration": 2.5, "steps": 5},
                   ("duration", "steps"), seconds=2.5),  # server-everything
    ],
    "log": [
        ToolRecipe("test_tool_with_logging", {}),  # mock --fixture conformance
        ToolRecipe("log", {"text": "conformance log line"}, ("text",)),  # mock-mcp-server
        # server-everything: the first call starts random-level messages every 5 s, the first
        # one at once; the second call stops them.
        ToolRecipe("toggle-simulated-logging", {}, calls=2),
    ],
    "structured": [
        ToolRecipe("add", {"a": 2, "b": 40}, ("a", "b")),  # mock-mcp-server
        ToolRecipe("get-structured-content", {"location": "New York"}, ("location",)),
        ToolRecipe("get-sum", {"a": 2, "b": 40}, ("a", "b")),  # server-everything
    ],
    # Tools whose answers show the content block types (text, image, audio, resource).
    "content": [
        ToolRecipe("test_simple_text", {}), ToolRecipe("test_image_content", {}),
        ToolRecipe("test_audio_content", {}), ToolRecipe("test_embedded_resource", {}),
        ToolRecipe("test_multiple_content_types", {}),  # mock --fixture conformance
        ToolRecipe("get-tiny-image", {}), ToolRecipe("get-annotated-message",
                                                     {"messageType": "success",
                                                      "includeImage": True},
                                                     ("messageType",)),
        ToolRecipe("get-resource-links", {"count": 2}, ("count",)),  # server-everything
    ],
    # 2026-07-28: tools that answer input_required (basic/patterns/mrtr) when the client has
    # the capability, and need it.
    "input": [
        ToolRecipe("test_input_required_result_elicitation", {}, capability="elicitation"),
        ToolRecipe("test_missing_capability", {}, capability="sampling"),  # mock, fixture
        ToolRecipe("ask_name", {}, capability="elicitation"),  # tests/interop/v2_server.mjs
        ToolRecipe("ask_model", {"prompt": "conformance"}, ("prompt",), capability="sampling"),
    ],
    # 2026-07-28: a tool whose requestState is integrity-protected (mrtr, server requirements)
    "protected-state": [
        ToolRecipe("test_input_required_result_tampered_state", {},
                   capability="elicitation"),  # mock, fixture
    ],
    # 2026-07-28: tools that cause a notification for subscriptions/listen streams
    "trigger": [
        ToolRecipe("test_trigger_tool_change", {}, listen={"toolsListChanged": True},
                   notification="notifications/tools/list_changed"),  # mock, fixture
        ToolRecipe("change_tools", {}, listen={"toolsListChanged": True},
                   notification="notifications/tools/list_changed"),  # mock-mcp-server
        ToolRecipe("touch", {}, listen={"resourceSubscriptions": ["demo://doc"]},
                   notification="notifications/resources/updated"),  # v2_server.mjs
    ],
}

ROLE_OPTIONS = {"echo": "--echo-tool", "progress": "--progress-tool", "slow": "--slow-tool",
                "log": "--log-tool"}


def _parse_tool_option(option: str, value: str, with_tail: bool) -> tuple[str, dict, str]:
    name, sep, rest = value.partition(":")
    if not sep or not name:
        raise pytest.UsageError(f"{option}: expected NAME:ARGS_JSON{':...' if with_tail else ''}")
    try:
        arguments, end = json.JSONDecoder().raw_decode(rest)
    except ValueError as e:
        raise pytest.UsageError(f"{option}: the arguments are not JSON: {e}")
    tail = rest[end:]
    if with_tail:
        if not tail.startswith(":"):
            raise pytest.UsageError(f"{option}: expected NAME:ARGS_JSON:...")
        tail = tail[1:]
    elif tail:
        raise pytest.UsageError(f"{option}: unexpected text after the arguments: {tail!r}")
    if not isinstance(arguments, dict):
        raise pytest.UsageError(f"{option}: the arguments must be a JSON object")
    return name, arguments, tail


def configured_recipe(config, role: str) -> Optional[ToolRecipe]:
    option = ROLE_OPTIONS.get(role)
    value = config.getoption(option) if option else None
    if not value:
        return None
    if role == "echo":
        name, args, expected = _parse_tool_option(option, value, with_tail=True)
        return ToolRecipe(name, args, expect_text=expected)
    if role == "slow":
        name, args, seconds = _parse_tool_option(option, value, with_tail=True)
        try:
            secs = float(seconds)
        except ValueError:
            raise pytest.UsageError(f"{option}: SECONDS must be a number, got {seconds!r}")
        if secs < 1:
            raise pytest.UsageError(f"{option}: the tool must take at least 1 s")
        return ToolRecipe(name, args, seconds=secs)
    name, args, _ = _parse_tool_option(option, value, with_tail=False)
    return ToolRecipe(name, args)


@dataclass
class ServerTools:
    tools: list = field(default_factory=list)
    capabilities: dict = field(default_factory=dict)
    protocol_version: Optional[str] = None
    error: Optional[str] = None
    discover: Optional[dict] = None  # 2026-07-28: the DiscoverResult

    def by_name(self, name: str) -> Optional[dict]:
        for t in self.tools:
            if t.get("name") == name:
                return t
        return None

    def fits(self, recipe: ToolRecipe) -> bool:
        tool = self.by_name(recipe.name)
        if tool is None:
            return False
        props = ((tool.get("inputSchema") or {}).get("properties") or {})
        return all(p in props for p in recipe.needs_properties)


_tools_cache: dict = {}  # (target, era) -> ServerTools
_tools_lock = threading.Lock()
MAX_LIST_PAGES = 50


def list_all(session, method: str, key: str) -> list:
    """Every item of a paginated list (server/utilities/pagination), bounded in pages."""
    items, cursor = [], None
    for _ in range(MAX_LIST_PAGES):
        result = session.result(method, {"cursor": cursor} if cursor else None)
        items.extend(result.get(key) or [])
        cursor = result.get("nextCursor")
        if not cursor:
            return items
    raise AssertionError(f"{method}: still a nextCursor after {MAX_LIST_PAGES} pages")


def _fetch_tools(target: Target, era: str) -> ServerTools:
    """The target's capabilities and tools, in a session of their own: initialize then
    tools/list (2025-11-25), or server/discover then tools/list with _meta (2026-07-28)."""
    tools = ServerTools()
    try:
        if era == MODERN:
            from mcp_modern import ModernClient
            with ModernClient(open_session(target, modern=True)) as client:
                tools.discover = client.discover()
                tools.capabilities = tools.discover.get("capabilities") or {}
                tools.protocol_version = MODERN
                if "tools" in tools.capabilities:
                    tools.tools = client.list_all("tools/list", "tools")
            return tools
        s = open_session(target)
        try:
            init = s.open()
            tools.capabilities = init.get("capabilities") or {}
            tools.protocol_version = init.get("protocolVersion")
            if "tools" in tools.capabilities:
                tools.tools = list_all(s, "tools/list", "tools")
        finally:
            s.close()
    except Exception as e:  # reported by every test that needs the tools
        tools.error = f"{type(e).__name__}: {e}"
    return tools


def _tools_of(request, target: Target, era: str) -> ServerTools:
    require_era(request, era)
    with _tools_lock:
        cached = _tools_cache.get((target, era))
        if cached is None:
            cached = _tools_cache[(target, era)] = _fetch_tools(target, era)
    if cached.error:
        pytest.fail(f"could not list the target's tools ({era}): {cached.error}")
    return cached


@pytest.fixture
def server_tools(request, mcp_target: Target) -> ServerTools:
    """The target's tools (fetched once per run, in a session of its own)."""
    return _tools_of(request, mcp_target, LEGACY)


@pytest.fixture
def modern_tools(request, mcp_target: Target) -> ServerTools:
    """The target's DiscoverResult (`discover`), capabilities and tools at 2026-07-28 (fetched
    once per run, over a connection of their own)."""
    return _tools_of(request, mcp_target, MODERN)


def find_tool(request, server_tools: ServerTools, role: str) -> ToolRecipe:
    """The tool for a role: from its command-line option, else the first known recipe the
    server has; skips (naming the option) when there is none."""
    recipe = configured_recipe(request.config, role)
    if recipe is not None:
        if server_tools.by_name(recipe.name) is None:
            pytest.fail(f"{ROLE_OPTIONS[role]} names {recipe.name!r}, which tools/list lacks")
        return recipe
    for recipe in RECIPES[role]:
        if server_tools.fits(recipe):
            return recipe
    hint = f" (name one with {ROLE_OPTIONS[role]})" if role in ROLE_OPTIONS else ""
    known = ", ".join(sorted({r.name for r in RECIPES[role]}))
    pytest.skip(f"the server has no known {role} tool{hint}; known: {known}")


def find_tools(server_tools: ServerTools, role: str) -> list[ToolRecipe]:
    return [r for r in RECIPES[role] if server_tools.fits(r)]
