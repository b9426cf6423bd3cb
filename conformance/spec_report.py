"""Per-rule report for the conformance suite (a pytest plugin, loaded by conftest.py).

Tests cite what they check with a marker:

    @pytest.mark.spec("2025-11-25 basic/lifecycle#version-negotiation", level="MUST")

The rule is "<spec version> <page>#<section anchor>" (pages and anchors as on
modelcontextprotocol.io/specification/<version>/...), or an outside reference such as
"jsonrpc-2.0 §5.1 (parse error)"; a qualifier in parentheses tells apart rules of one section.
A test may carry several markers.

At the end of the run one line per rule and server is printed: PASS, FAIL, XFAIL (a known
violation), SKIP (with the reason), followed by the tests that checked it. One run can check two
servers (by default: our mock over stdio for the generic tests, and mcp-proxy over Streamable
HTTP for the HTTP tests), so rules are grouped by the server they were checked on. `--report
PATH` also writes the report as Markdown.

Known violations (`--known-violations PATH`; by default, for our own mock server,
mock-known-violations.txt): one rule (or one test name, such as test_x[param]) per line, then
"# reason". They apply to the generic tests
(those using the `mcp_target` fixture); tests of a listed rule are strict xfails, so when the
server is fixed the run fails until the line goes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

import pytest

LEVELS = ("MUST", "SHOULD", "MAY")
# Skip reasons that mean "this test does not concern this server" (another transport, an mcp-proxy
# feature) rather than "the server lacks what the test needs": such tests are left out of the
# report's lines. Use skip_not_applicable() to skip that way.
NOT_APPLICABLE = "not applicable: "


def skip_not_applicable(reason: str):
    __tracebackhide__ = True  # pytest then reports the caller's line, not this one
    pytest.skip(NOT_APPLICABLE + reason)

# When a test has results from several phases, the worse one counts.
_SEVERITY = {"FAIL": 0, "XPASS": 1, "PASS": 2, "XFAIL": 3, "SKIP": 4, "N/A": 5}
NOTE_CHARS = 240  # a failure message in the report is cut here
_MARKUP = {"PASS": {"green": True}, "FAIL": {"red": True, "bold": True},
           "XFAIL": {"yellow": True}, "SKIP": {"yellow": True}}


@dataclass
class RuleRecord:
    subject: str
    rule: str
    level: str
    tests: dict = field(default_factory=dict)  # test id -> outcome (None: not run)
    notes: dict = field(default_factory=dict)  # test id -> skip, xfail or failure note

    @property
    def outcome(self) -> str:
        ran = [o for o in self.tests.values() if o is not None]
        if not ran:
            return "NOT RUN"
        ran = [o for o in ran if o != "N/A"]
        if not ran:
            return "N/A"
        if "FAIL" in ran or "XPASS" in ran:
            return "FAIL"
        if "XFAIL" in ran:
            return "XFAIL"  # a known violation stays visible even if another test passed
        if "PASS" in ran:
            return "PASS"
        return "SKIP"


def pytest_addoption(parser):
    group = parser.getgroup("mcp")
    group.addoption("--report", default=None, metavar="PATH",
                    help="also write the per-rule report as Markdown to PATH")
    group.addoption("--known-violations", default=None, metavar="PATH",
                    help="rules (or test names) the server under test is known to violate, one "
                         "per line, '# reason' after it; those generic tests are expected to fail")


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "spec(rule, level='MUST'): the specification rule a test checks, e.g. "
                   "'2025-11-25 basic/lifecycle#version-negotiation' (see spec_report.py)")
    config._spec_report = SpecReport(config)
    config.pluginmanager.register(config._spec_report, "spec-report")


def parse_known_violations(path: Path) -> dict:
    """rule -> reason, from a file of 'rule  # reason' lines. The reason starts at a '#' after
    white space (rules contain '#anchor'); lines starting with '#' and blank lines are ignored."""
    known = {}
    for line in path.read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        comment = re.search(r"\s#", line)
        rule = line[:comment.start()] if comment else line
        reason = line[comment.end():] if comment else ""
        known[rule.strip()] = reason.strip() or "known violation"
    return known


def rules_of(item) -> list[tuple[str, str]]:
    out = []
    for mark in item.iter_markers("spec"):
        if not mark.args:
            raise pytest.UsageError(f"{item.nodeid}: @pytest.mark.spec needs a rule")
        level = mark.kwargs.get("level", "MUST")
        if level not in LEVELS:
            raise pytest.UsageError(f"{item.nodeid}: spec level {level!r} is not one of {LEVELS}")
        out.append((mark.args[0], level))
    return out


class SpecReport:
    def __init__(self, config) -> None:
        self.config = config
        self.records: dict[tuple[str, str], RuleRecord] = {}
        self.unmarked: dict[str, Optional[str]] = {}
        self._item_keys: dict[str, list] = {}
        self._outcomes: dict[str, tuple[str, str]] = {}
        # Set by mcp_targets: which server an item checks, and the known violations of the
        # generic tests' server.
        self.subject_of: Callable = lambda item: "server under test"
        self.known_violations: dict = {}
        self.known_violations_source: Optional[str] = None

    # -- collection: attach known violations, remember which test checks which rule

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, config, items):
        for item in items:
            rules = rules_of(item)
            if not rules:
                self.unmarked[item.nodeid] = None
                continue
            subject = self.subject_of(item)
            keys = []
            for rule, level in rules:
                key = (subject, rule)
                record = self.records.setdefault(key, RuleRecord(subject, rule, level))
                record.tests.setdefault(item.nodeid, None)
                if LEVELS.index(level) < LEVELS.index(record.level):
                    record.level = level
                keys.append(key)
            self._item_keys[item.nodeid] = keys
            if "mcp_target" in getattr(item, "fixturenames", ()):
                # A line names a rule (all its tests) or one test, e.g. a single parameter.
                reasons = [self.known_violations.get(rule) for rule, _ in rules]
                reasons.append(self.known_violations.get(item.name))
                reason = next((r for r in reasons if r is not None), None)
                if reason is not None:
                    item.add_marker(pytest.mark.xfail(
                        strict=True, reason=f"known violation "
                                            f"({self.known_violations_source}): {reason}"))

    # -- outcomes

    def pytest_runtest_logreport(self, report):
        outcome, note = None, ""
        if report.when == "call" or (report.when == "setup" and not report.passed):
            if hasattr(report, "wasxfail"):
                outcome = "XFAIL" if report.skipped else "XPASS"
                note = report.wasxfail
            elif report.passed:
                outcome = "PASS"
            elif report.skipped:
                outcome, note = "SKIP", _skip_reason(report)
                if note.startswith(NOT_APPLICABLE):
                    outcome = "N/A"
            else:
                outcome = "FAIL"
                text = str(report.longrepr)
                if text.startswith("[XPASS(strict)]"):  # a known violation that is fixed now
                    outcome, note = "XPASS", text
                else:
                    note = _failure_line(report)
        elif report.when == "teardown" and report.failed:
            outcome, note = "FAIL", "teardown: " + _failure_line(report)
        if outcome is None:
            return
        previous = self._outcomes.get(report.nodeid)
        if previous and _SEVERITY[previous[0]] <= _SEVERITY[outcome]:
            return
        self._outcomes[report.nodeid] = (outcome, note)
        for key in self._item_keys.get(report.nodeid, ()):
            record = self.records[key]
            record.tests[report.nodeid] = outcome
            if note:
                record.notes[report.nodeid] = note
            else:
                record.notes.pop(report.nodeid, None)
        if report.nodeid in self.unmarked:
            self.unmarked[report.nodeid] = outcome

    # -- output

    def by_subject(self) -> dict[str, list[RuleRecord]]:
        """Rules by server, leaving out those not run or not applicable to it."""
        groups: dict[str, list[RuleRecord]] = {}
        for (subject, _), record in sorted(self.records.items()):
            if record.outcome not in ("NOT RUN", "N/A"):
                groups.setdefault(subject, []).append(record)
        return groups

    def not_applicable_count(self) -> int:
        return sum(1 for r in self.records.values() if r.outcome == "N/A")

    def pytest_terminal_summary(self, terminalreporter):
        groups = self.by_subject()
        if not groups:
            return
        tr = terminalreporter
        tr.write_sep("=", "MCP conformance: per-rule report")
        for subject, records in groups.items():
            tr.write_line(f"--- {subject}")
            for r in records:
                tr.write(f"{r.outcome:<5} ", **_MARKUP.get(r.outcome, {}))
                tr.write_line(f"{r.level:<6} {r.rule}: {_tests_text(r)}")
                for tests, note in _notes(r):
                    tr.write_line(f"{'':13}{tests}: {note}")
            tr.write_line(_counts_line(records))
        not_applicable = self.not_applicable_count()
        if not_applicable:
            tr.write_line(f"({not_applicable} rules not applicable here: other transports or "
                          "mcp-proxy features; not listed)")
        ran_unmarked = [t for t, o in self.unmarked.items() if o not in (None, "N/A")]
        if ran_unmarked:
            tr.write_line(f"({len(ran_unmarked)} more tests cite no spec rule: mcp-proxy's own "
                          "behaviour)")
        path = self.config.getoption("--report")
        if path:
            Path(path).write_text(self.markdown(groups))
            tr.write_line(f"per-rule report written to {path}")

    def markdown(self, groups: dict[str, list[RuleRecord]]) -> str:
        lines = ["# MCP conformance report", ""]
        if self.known_violations_source:
            lines += [f"Known violations of the generic tests' server from "
                      f"`{self.known_violations_source}`.", ""]
        for subject, records in groups.items():
            lines += [f"## {subject}", "", _counts_line(records), "",
                      "| Result | Level | Rule | Tests | Notes |",
                      "| --- | --- | --- | --- | --- |"]
            for r in records:
                notes = "; ".join(f"{tests}: {note}" for tests, note in _notes(r))
                lines.append(f"| {r.outcome} | {r.level} | {_md(r.rule)} | "
                             f"{_md(_tests_text(r))} | {_md(notes)} |")
            lines.append("")
        return "\n".join(lines)


def _counts_line(records: list[RuleRecord]) -> str:
    counts: dict[str, int] = {}
    for r in records:
        counts[r.outcome] = counts.get(r.outcome, 0) + 1
    return "rules: " + ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))


def _skip_reason(report) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        reason = str(longrepr[2])
        return reason[len("Skipped: "):] if reason.startswith("Skipped: ") else reason
    return str(longrepr)


def _failure_line(report) -> str:
    """The assertion message on one line, shortened, for the report's notes."""
    crash = getattr(report.longrepr, "reprcrash", None)
    text = crash.message if crash is not None else str(report.longrepr)
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    # pytest's "assert x == y" rewriting says less than a message; keep it only if it is all
    explained = [line for line in lines if not line.startswith(("assert ", "+"))]
    joined = " / ".join(explained or lines) or "failed"
    return joined if len(joined) <= NOTE_CHARS else joined[:NOTE_CHARS - 3] + "..."


def _notes(r: RuleRecord) -> list[tuple[str, str]]:
    """(tests, note) for the tests that did not pass; tests sharing a note share a line."""
    by_note: dict[str, list[str]] = {}
    for test, note in sorted(r.notes.items()):
        if r.tests.get(test) not in ("PASS", "N/A"):
            by_note.setdefault(note, []).append(_short(test))
    out = []
    for note, tests in by_note.items():
        base = {t.partition("[")[0] for t in tests}
        label = tests[0] if len(tests) == 1 else (
            f"{base.pop()}[{len(tests)} cases]" if len(base) == 1 else ", ".join(tests))
        out.append((label, note))
    return out


def _short(nodeid: str) -> str:
    return nodeid.split("::", 1)[-1]


def _tests_text(r: RuleRecord) -> str:
    """Test names, parametrized ones folded: test_x[a, b (SKIP)]; outcomes other than PASS
    in parentheses."""
    groups: dict[str, list[str]] = {}
    for test, outcome in sorted(r.tests.items()):
        if outcome == "N/A":
            continue
        base, bracket, param = _short(test).partition("[")
        label = param[:-1] if bracket else ""
        if outcome != "PASS":
            label = f"{label} ({outcome or 'not run'})".strip()
        groups.setdefault(base, []).append(label)
    parts = []
    for base, labels in groups.items():
        if labels == [""]:
            parts.append(base)
        elif len(labels) == 1 and labels[0].startswith("("):
            parts.append(f"{base} {labels[0]}")
        else:
            parts.append(f"{base}[{', '.join(labels)}]")
    return ", ".join(parts)


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
