"""--help of the mock server (issue #17: it answered "unknown option"): it lists every option the
mock's sources parse, and an unknown option points to it. mcp-proxy's --help is checked against
its man page by ci/check-deploy.py."""

import re
import subprocess
from pathlib import Path

MOCK_SOURCES = Path(__file__).resolve().parent.parent / "mock-servers"


def run(binary, *args):
    return subprocess.run([str(binary), *args], capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL)


def options_in_sources():
    found = set()
    for source in MOCK_SOURCES.glob("*.cpp"):
        found.update(re.findall(r'"(--[a-z][a-z0-9-]*)"', source.read_text()))
    return found


def test_mock_help_lists_every_option_its_sources_parse(mock_server_bin):
    result = run(mock_server_bin, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Usage: mock-mcp-server [OPTIONS]")
    listed = set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", result.stdout))
    parsed = options_in_sources()
    assert len(parsed) > 20  # the scan found the option table, not nothing
    assert parsed - listed == set(), "options parsed but missing from --help"
    assert listed - parsed == set(), "options in --help that no source parses"


def test_mock_short_help_is_the_same(mock_server_bin):
    assert run(mock_server_bin, "-h").stdout == run(mock_server_bin, "--help").stdout


def test_mock_help_wins_over_other_options(mock_server_bin):
    # Without it, --http would start a server and the run would only end at the timeout.
    result = run(mock_server_bin, "--http", "127.0.0.1:0", "--help")
    assert result.returncode == 0
    assert "Usage: mock-mcp-server" in result.stdout


def test_mock_unknown_option_points_to_help(mock_server_bin):
    result = run(mock_server_bin, "--no-such-option")
    assert result.returncode == 2
    assert "unknown option '--no-such-option' (see --help)" in result.stderr
