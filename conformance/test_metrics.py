"""GET /metrics (issue #17 item 2; docs/operations.md "Metrics", docs/configuration.md
"Metrics"): the Prometheus text exposition format 0.0.4, parsed here by the parser of
Debian's python3-prometheus-client (`text_string_to_metric_families`), after real traffic:

* a tools/call through the proxy to the mock, a call that fails, a member of the merged endpoint
  left out of a list (a backend whose tools/list fails), and a call refused by mcpProxy.limits
  move the counters, histograms and gauges they should, by the amounts they should;
* /metrics needs no token, has its Host checked as /readyz has, answers GET and HEAD only;
* mcpProxy.metrics.addr serves it on a listener of its own (and the main listener no longer
  does); mcpProxy.metrics.enabled false turns it off;
* TBXark's mcpProxy.options.metrics keys mean what TBXark's code reads: `enabled` (false when the
  object leaves it out), `endpointPath`, `disableEndpoint`.

Every proxy binds 127.0.0.1 port 0 (its metrics listener too, whose port its log tells), is
stopped by PID and must exit 0 on SIGTERM without a sanitizer report.
"""

from __future__ import annotations

import re
import sys
from typing import Iterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from conftest import HTTP_TIMEOUT_S, McpClient, mock_config, text_of

SLOW = 0.001  # a rate under which nothing refills during a test
TOOL_CALL_BURST = 3

# A stdio MCP server whose tools/list always fails: a merged endpoint leaves it out.
FAILING_LIST_BACKEND = r'''
import json, sys
for line in sys.stdin:
    msg = json.loads(line)
    if "id" not in msg or "method" not in msg:
        continue
    if msg["method"] == "initialize":
        out = {"result": {"protocolVersion": msg["params"]["protocolVersion"],
                          "capabilities": {"tools": {}},
                          "serverInfo": {"name": "failing-list", "version": "1"}}}
    elif msg["method"] == "ping":
        out = {"result": {}}
    else:
        out = {"error": {"code": -32603, "message": "this backend fails every list"}}
    out.update({"jsonrpc": "2.0", "id": msg["id"]})
    sys.stdout.write(json.dumps(out) + "\n")
    sys.stdout.flush()
'''


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=HTTP_TIMEOUT_S) as client:
        yield client


def scrape(http: httpx.Client, url: str) -> dict:
    """Scrapes `url` and parses it: {(sample name, frozenset of labels): value}. The parser
    raises on anything the format does not allow; a series twice is an error here too."""
    r = http.get(url)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain; version=0.0.4"), r.headers
    assert r.headers["cache-control"] == "no-store"
    samples: dict = {}
    names = set()
    for family in text_string_to_metric_families(r.text):
        assert family.name not in names, f"family {family.name} twice"
        names.add(family.name)
        assert family.documentation, family.name
        for s in family.samples:
            key = (s.name, frozenset(s.labels.items()))
            assert key not in samples, f"series {key} twice"
            samples[key] = s.value
    return samples


def value(samples: dict, name: str, **labels) -> float:
    """One series' value; 0 when it is not there yet (a counter that never moved)."""
    return samples.get((name, frozenset(labels.items())), 0.0)


def total(samples: dict, name: str, **labels) -> float:
    """The sum over every series of `name` whose labels include `labels`."""
    want = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and want <= set(ls))


def metrics_config(mock_server_bin, tmp_path, **metrics) -> dict:
    script = tmp_path / "failing_list_backend.py"
    script.write_text(FAILING_LIST_BACKEND)
    config = mock_config(mock_server_bin, m={"sessionMode": "shared"})
    config["mcpServers"]["bad"] = {"command": sys.executable, "args": [str(script)],
                                   "timeout": "10s"}
    config["mcpProxy"]["limits"] = {"toolCallsPerSecond": SLOW, "toolCallBurst": TOOL_CALL_BURST}
    if metrics:
        config["mcpProxy"]["metrics"] = metrics
    return config


def test_metrics_move_with_real_traffic(start_proxy, mock_server_bin, tmp_path, http):
    proxy = start_proxy(metrics_config(mock_server_bin, tmp_path))
    url = proxy.base_url + "/metrics"
    before = scrape(http, url)
    build = [(dict(ls), v) for (n, ls), v in before.items() if n == "mcp_proxy_build_info"]
    assert len(build) == 1 and build[0][0]["version"] and build[0][1] == 1, build
    assert value(before, "mcp_proxy_backend_state", backend="m", state="ready") == 1
    assert value(before, "mcp_proxy_backend_state", backend="m", state="backing-off") == 0
    assert value(before, "mcp_proxy_backend_restarts_total", backend="m") == 0

    m = McpClient(proxy.url("m"), http).open_session()
    assert text_of(m.call_tool("echo", {"text": "metered"})) == "metered"
    failed = m.call_tool("no_such_tool", {})
    assert "error" in failed or failed["result"].get("isError"), failed
    assert text_of(m.call_tool("echo", {"text": "again"})) == "again"
    over = m.post({"jsonrpc": "2.0", "id": "over", "method": "tools/call",
                   "params": {"name": "echo", "arguments": {"text": "over the burst"}}})
    assert over.status == 429, over
    assert over.response_to("over")["error"]["code"] == -32029, over

    merged = McpClient(proxy.base_url + "/mcp", http).open_session()
    # With warnings asked for, the member left out of the list is told to the session on its
    # GET stream; none is open, so the message waits in the session's queue.
    assert "result" in merged.request("logging/setLevel", {"level": "warning"})
    listed = merged.request("tools/list")
    assert "m__echo" in [t["name"] for t in listed["result"]["tools"]], listed

    after = scrape(http, url)
    calls = dict(name="mcp_proxy_requests_total", route="m", method="tools/call")
    ok_before = value(before, **calls, backend="m", outcome="ok")
    assert value(after, **calls, backend="m", outcome="ok") - ok_before == 2
    # The unknown tool: an error, by the backend or by the proxy (its filters) alike.
    assert total(after, **calls, outcome="error") - total(before, **calls, outcome="error") == 1
    assert value(after, **calls, backend="", outcome="refused") == 1
    assert value(after, "mcp_proxy_rate_limited_total", limit="toolCallsPerSecond") == 1
    assert value(after, "mcp_proxy_rate_limited_total", limit="requestsPerSecond") == 0
    assert total(after, "mcp_proxy_requests_total", route="*", method="tools/list",
                 outcome="ok") >= 1
    assert value(after, "mcp_proxy_fanout_left_out_total", route="*", member="bad") >= 1
    assert value(after, "mcp_proxy_fanout_left_out_total", route="*", member="m") == 0

    # Latency: every answered request is observed once, in the client histogram; the calls the
    # backend answered, in the backend histogram.
    lat = dict(route="m", method="tools/call")
    count = value(after, "mcp_proxy_request_duration_seconds_count", **lat)
    assert count - value(before, "mcp_proxy_request_duration_seconds_count", **lat) == 4
    assert value(after, "mcp_proxy_request_duration_seconds_bucket", **lat, le="+Inf") == count
    assert value(after, "mcp_proxy_request_duration_seconds_sum", **lat) > 0
    assert value(after, "mcp_proxy_backend_request_duration_seconds_count", backend="m",
                 method="tools/call") >= 2
    assert value(after, "mcp_proxy_calls_in_flight", route="m") == 0
    assert value(after, "mcp_proxy_session_queue_messages", route="*") >= 1
    assert ("mcp_proxy_session_queue_messages", frozenset({("route", "m")})) in after

    assert value(after, "mcp_proxy_sessions", era="legacy", mode="shared") >= 1
    assert value(after, "mcp_proxy_sessions", era="legacy", mode="merged") == 1
    for name in ("mcp_proxy_client_received_bytes_total", "mcp_proxy_client_sent_bytes_total"):
        assert value(after, name) > value(before, name), name
    for name in ("mcp_proxy_backend_sent_bytes_total", "mcp_proxy_backend_received_bytes_total"):
        assert value(after, name, backend="m") > value(before, name, backend="m"), name

    assert m.delete().status_code in (200, 204)
    ended = scrape(http, url)
    assert value(ended, "mcp_proxy_sessions", era="legacy", mode="shared") == \
        value(after, "mcp_proxy_sessions", era="legacy", mode="shared") - 1


def test_metrics_need_no_token_and_have_their_host_checked(start_proxy, mock_server_bin, http):
    config = mock_config(mock_server_bin, m={})
    config["mcpProxy"]["options"] = {"authTokens": ["metrics-test-token_Qx7"]}
    proxy = start_proxy(config)
    url = proxy.base_url + "/metrics"
    assert http.post(proxy.url("m"), json={}).status_code == 401  # the routes need the token
    samples = scrape(http, url)
    assert value(samples, "mcp_proxy_backend_state", backend="m", state="ready") == 1
    head = http.head(url)
    assert head.status_code == 200 and head.content == b""
    refused = http.post(url, content=b"")
    assert refused.status_code == 405 and refused.headers["allow"] == "GET, HEAD"
    rebound = http.get(url, headers={"Host": "attacker.example"})
    assert rebound.status_code == 403, rebound.text
    assert "metrics-test-token" not in http.get(url).text


def test_metrics_on_their_own_listener(start_proxy, mock_server_bin, tmp_path, http):
    proxy = start_proxy(metrics_config(mock_server_bin, tmp_path, addr="127.0.0.1:0"))
    # Logged when it is bound, before the MCP listener's "listening on".
    bound = re.search(r"metrics served at http://127\.0\.0\.1:(\d+)/metrics", proxy.output())
    assert bound, proxy.output()[-3000:]
    own = f"http://127.0.0.1:{bound.group(1)}"
    assert http.get(proxy.base_url + "/metrics").status_code == 404  # not on the MCP listener
    m = McpClient(proxy.url("m"), http).open_session()
    assert text_of(m.call_tool("echo", {"text": "x"})) == "x"
    samples = scrape(http, own + "/metrics")
    assert value(samples, "mcp_proxy_requests_total", route="m", method="tools/call",
                 backend="m", outcome="ok") == 1
    assert http.get(own + "/m/mcp").status_code == 404
    assert http.post(own + "/metrics", content=b"").status_code == 405
    assert http.get(own + "/metrics", headers={"Host": "attacker.example"}).status_code == 403


def test_metrics_can_be_turned_off_and_moved(start_proxy, mock_server_bin, http):
    config = mock_config(mock_server_bin, m={})
    config["mcpProxy"]["metrics"] = {"enabled": False}
    off = start_proxy(config)
    assert http.get(off.base_url + "/metrics").status_code == 404
    config["mcpProxy"]["metrics"] = {"endpointPath": "/internal/prom"}
    moved = start_proxy(config)
    assert http.get(moved.base_url + "/metrics").status_code == 404
    scrape(http, moved.base_url + "/internal/prom")


@pytest.mark.parametrize("options_metrics, served_at", [
    ({"enabled": True}, "/metrics"),
    ({"enabled": True, "endpointPath": "/prom", "collectInterval": "15s"}, "/prom"),
    ({"endpointPath": "/prom"}, None),  # "enabled" left out reads as false in TBXark
    ({"enabled": True, "disableEndpoint": True}, None),
])
def test_tbxark_options_metrics(start_proxy, mock_server_bin, http, options_metrics, served_at):
    config = mock_config(mock_server_bin, m={})
    config["mcpProxy"]["options"] = {"metrics": options_metrics}
    proxy = start_proxy(config)
    for path in ("/metrics", "/prom"):
        r = http.get(proxy.base_url + path)
        if path == served_at:
            assert r.status_code == 200, r.text
            scrape(http, proxy.base_url + path)
        else:
            assert r.status_code == 404, (path, r.status_code)
