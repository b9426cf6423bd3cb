"""CORS from a real browser (issue #16, point 5): headless Chromium runs `fetch` against the proxy.

The test serves one small page itself (http.server on 127.0.0.1, port 0) and Chromium loads it
under two host names that its own resolver maps to 127.0.0.1 (`--host-resolver-rules`), so the
page runs in two origins: `http://app.test:<port>`, listed in `mcpProxy.allowedOrigins`, and
`http://evil.test:<port>`, which is not. (Loopback origins are always allowed, so a refused origin
must not look like loopback.) The page speaks MCP to `http://127.0.0.1:<proxy>/mock/mcp` with a
bearer token and writes what it saw into the DOM, which `--dump-dom` prints once the page's work is
done (`--virtual-time-budget` makes it wait while fetches are pending).

From the allowed origin (spec 2025-11-25, basic/transports, Streamable HTTP; docs/security.md,
"Browsers (CORS)"): the preflighted initialize POST succeeds, the script can read the exposed
Mcp-Session-Id header, `notifications/initialized` gets 202, `tools/list` with the session header
lists the mock's tools, the session's DELETE is allowed, and a request without a token is a 401
whose WWW-Authenticate challenge the script can read.

From the refused origin: the preflight is refused, so `fetch` rejects with a TypeError and nothing
is readable, not even the answer to a simple (non-preflighted) request; the proxy logs the refusal.

Chromium is Debian's `chromium` package (ci/install-deps.sh installs it). If it is missing the test
fails, it does not skip: a skipped browser test would hide a broken CORS implementation.
Set CHROMIUM_BIN to use another binary.
"""

from __future__ import annotations

import html
import json
import os
import shutil
import signal
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator

import pytest

from conftest import mock_config, wait_until

TOKEN = "browser-token_5"
ALLOWED_HOST = "app.test"
REFUSED_HOST = "evil.test"
# Chromium's whole run (start, page load, the page's fetches, DOM dump) is bounded by this.
BROWSER_TIMEOUT_S = 120.0
# Virtual time the page may use; pending fetches hold virtual time, so this is not a wall-clock
# wait: --dump-dom returns as soon as the page is idle.
VIRTUAL_TIME_BUDGET_MS = 30000

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>pending</title></head>
<body><pre id="result">pending</pre>
<script>
const PROXY = __PROXY__;
const TOKEN = __TOKEN__;
const JSON_OR_SSE = "application/json, text/event-stream";

// The JSON-RPC messages of an answer, whether the proxy chose JSON or an event stream.
async function messages(response) {
  const text = await response.text();
  const type = (response.headers.get("content-type") || "").toLowerCase();
  if (type.startsWith("application/json")) return [].concat(JSON.parse(text));
  const out = [];
  for (const event of text.split(/\\r\\n\\r\\n|\\n\\n|\\r\\r/)) {
    const data = event.split(/\\r\\n|\\n|\\r/).filter(l => l.startsWith("data:"))
      .map(l => l.slice(5).replace(/^ /, "")).join("\\n");
    if (data) out.push(...[].concat(JSON.parse(data)));
  }
  return out;
}

async function step(out, name, work) {
  try {
    out[name] = await work();
  } catch (e) {
    out[name] = {error: e.name, message: String(e.message)};
  }
}

async function run() {
  const out = {origin: location.origin};
  let session = null, version = null;
  await step(out, "initialize", async () => {
    const r = await fetch(PROXY, {method: "POST", headers: {
      "Authorization": "Bearer " + TOKEN, "Content-Type": "application/json",
      "Accept": JSON_OR_SSE}, body: JSON.stringify({jsonrpc: "2.0", id: 1, method: "initialize",
      params: {protocolVersion: "2025-11-25", capabilities: {},
               clientInfo: {name: "chromium-cors-test", version: "1"}}})});
    session = r.headers.get("mcp-session-id");
    const answer = (await messages(r)).find(m => m.id === 1) || null;
    version = answer && answer.result ? answer.result.protocolVersion : null;
    return {status: r.status, type: r.type, sessionId: session, protocolVersion: version,
            serverName: answer && answer.result ? answer.result.serverInfo.name : null};
  });
  if (session) {
    const headers = {"Authorization": "Bearer " + TOKEN, "Content-Type": "application/json",
                     "Accept": JSON_OR_SSE, "Mcp-Session-Id": session,
                     "MCP-Protocol-Version": version};
    await step(out, "initialized", async () => {
      const r = await fetch(PROXY, {method: "POST", headers,
        body: JSON.stringify({jsonrpc: "2.0", method: "notifications/initialized"})});
      return {status: r.status};
    });
    await step(out, "toolsList", async () => {
      const r = await fetch(PROXY, {method: "POST", headers,
        body: JSON.stringify({jsonrpc: "2.0", id: 2, method: "tools/list", params: {}})});
      const answer = (await messages(r)).find(m => m.id === 2) || {};
      return {status: r.status,
              tools: answer.result ? answer.result.tools.map(t => t.name) : null,
              error: answer.error || null};
    });
    await step(out, "delete", async () => {
      const r = await fetch(PROXY, {method: "DELETE", headers});
      return {status: r.status};
    });
  }
  // A simple request (no preflight: text/plain, no custom header) and no token: the 401 and its
  // challenge are readable by an allowed origin, nothing is by a refused one.
  await step(out, "simpleWithoutToken", async () => {
    const r = await fetch(PROXY, {method: "POST", headers: {"Content-Type": "text/plain"},
      body: JSON.stringify({jsonrpc: "2.0", id: 3, method: "ping"})});
    return {status: r.status, wwwAuthenticate: r.headers.get("www-authenticate")};
  });
  const text = JSON.stringify(out);
  console.log("cors-test-result " + text);
  document.getElementById("result").textContent = text;
  document.title = "done";
}
run();
</script></body></html>
"""


def chromium_binary() -> str:
    path = os.environ.get("CHROMIUM_BIN") or shutil.which("chromium")
    if not path or not os.access(path, os.X_OK):
        pytest.fail("chromium not found (set CHROMIUM_BIN, or install Debian's `chromium` "
                    "package: ci/install-deps.sh does): the browser CORS test cannot run")
    return path


class PageServer:
    """Serves PAGE at /page.html on 127.0.0.1:<port 0>, under whatever Host the browser sends;
    remembers the Host of each page load."""

    def __init__(self) -> None:
        self.page = b""
        self.loads: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.split("?")[0] != "/page.html":
                    self.send_error(404)
                    return
                outer.loads.append(self.headers.get("Host", ""))
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(outer.page)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(outer.page)

            def log_message(self, *args) -> None:  # quiet: pytest shows failures, not traffic
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={"poll_interval": 0.1}, name="page-server",
                                       daemon=True)
        self.thread.start()

    def set_page(self, proxy_url: str) -> None:
        self.page = (PAGE.replace("__PROXY__", json.dumps(proxy_url))
                     .replace("__TOKEN__", json.dumps(TOKEN))).encode()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def page_server() -> Iterator[PageServer]:
    s = PageServer()
    yield s
    s.close()


class BrowserRun:
    def __init__(self, dom: str, log: str, returncode: int):
        self.dom = dom
        self.log = log
        self.returncode = returncode

    def console(self) -> list[str]:
        """The page's console messages, as Chromium logs them (--enable-logging=stderr):
        `[...:INFO:CONSOLE:76] "text", source: URL (76)`; CORS failures are reported there."""
        out = []
        for line in self.log.splitlines():
            _, mark, rest = line.partition(":CONSOLE")
            if mark:
                out.append(rest.partition('] ')[2])
        return out

    def context(self, got: object) -> str:
        """What a failed assertion shows: the page's result and its console."""
        return (f"page result: {json.dumps(got, indent=1)}\nconsole:\n" + "\n".join(self.console()))

    def result(self) -> dict:
        """What the page wrote into <pre id="result">."""
        start = self.dom.find('<pre id="result">')
        end = self.dom.find("</pre>", start)
        assert start >= 0 and end > start, (
            f"no result element in chromium's DOM (exit {self.returncode}):\n{self.dom[-3000:]}\n"
            f"--- chromium log ---\n{self.log[-6000:]}")
        text = html.unescape(self.dom[start + len('<pre id="result">'):end])
        assert text != "pending", (
            f"the page's script did not finish within the virtual time budget:\n{self.log[-6000:]}")
        return json.loads(text)


def _stop_group(proc: subprocess.Popen) -> None:
    """Chromium runs in a process group of its own (its renderer, GPU and network processes are
    its children): end that group, named by the PID of the process we started, waits bounded."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return  # the whole group is gone
        if wait_until(lambda: proc.poll() is not None and not _group_alive(proc.pid),
                      timeout_s=5.0, interval_s=0.05):
            return


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False


def load_in_chromium(url: str, profile: Path) -> BrowserRun:
    """Headless Chromium loads `url` and prints the DOM once the page's work is done."""
    profile.mkdir()
    argv = [chromium_binary(), "--headless=new", "--no-sandbox", "--disable-gpu",
            "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--no-first-run",
            "--no-default-browser-check", "--disable-extensions", "--disable-sync",
            "--disable-background-networking", "--disable-component-update",
            "--disable-breakpad", "--no-proxy-server",
            f"--host-resolver-rules=MAP {ALLOWED_HOST} 127.0.0.1, MAP {REFUSED_HOST} 127.0.0.1",
            "--enable-logging=stderr", "--v=0",
            f"--virtual-time-budget={VIRTUAL_TIME_BUDGET_MS}", "--dump-dom", url]
    # Nothing outside the test's folder: the profile, caches and crash reports live under it.
    env = {k: v for k, v in os.environ.items()
           if k.lower() not in ("http_proxy", "https_proxy", "all_proxy", "no_proxy")}
    env.update(HOME=str(profile), XDG_CONFIG_HOME=str(profile / "config"),
               XDG_CACHE_HOME=str(profile / "cache"))
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=BROWSER_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        _stop_group(proc)
        out, err = proc.communicate(timeout=10)
        pytest.fail(f"chromium did not finish loading {url} within {BROWSER_TIMEOUT_S} s:\n"
                    f"{err.decode('utf-8', 'replace')[-6000:]}")
    finally:
        _stop_group(proc)
    return BrowserRun(out.decode("utf-8", "replace"), err.decode("utf-8", "replace"),
                      proc.returncode)


@pytest.fixture
def cors_setup(start_proxy, mock_server_bin, page_server):
    chromium_binary()  # fails at once, before starting anything, when there is no browser
    config = mock_config(mock_server_bin, mock={})
    config["mcpProxy"]["allowedOrigins"] = [f"http://{ALLOWED_HOST}:{page_server.port}"]
    config["mcpProxy"]["options"] = {"authTokens": [TOKEN]}
    proxy = start_proxy(config)
    page_server.set_page(proxy.url("mock"))
    return proxy, page_server


def _mock_tools(mock_server_bin: Path) -> set:
    """The mock's tool names, straight from the mock over stdio (no proxy, no browser)."""
    lines = [{"jsonrpc": "2.0", "id": 1, "method": "initialize",
              "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                         "clientInfo": {"name": "t", "version": "1"}}},
             {"jsonrpc": "2.0", "method": "notifications/initialized"},
             {"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}}]
    proc = subprocess.Popen([str(mock_server_bin)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write("".join(json.dumps(m) + "\n" for m in lines).encode())
        proc.stdin.flush()
        for _ in range(100):  # bounded: a few notifications at most before the answer
            line = proc.stdout.readline()
            if not line:
                break
            msg = json.loads(line)
            if msg.get("id") == 2:
                return {t["name"] for t in msg["result"]["tools"]}
        raise AssertionError("the mock did not answer tools/list")
    finally:
        proc.stdin.close()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def test_an_allowed_origin_speaks_mcp_from_the_browser(cors_setup, mock_server_bin, tmp_path):
    proxy, pages = cors_setup
    origin = f"http://{ALLOWED_HOST}:{pages.port}"
    run = load_in_chromium(f"{origin}/page.html", tmp_path / "chromium-allowed")
    assert pages.loads == [f"{ALLOWED_HOST}:{pages.port}"], pages.loads
    got = run.result()
    context = run.context(got)
    assert got["origin"] == origin, context

    init = got["initialize"]
    assert "error" not in init, context
    assert init["status"] == 200 and init["type"] == "cors", context
    # The session header is readable from JS only because the proxy exposes it.
    assert init["sessionId"], context
    assert init["protocolVersion"] == "2025-11-25", context
    assert init["serverName"], context

    assert got["initialized"] == {"status": 202}, context
    tools = got["toolsList"]
    assert tools["status"] == 200 and tools["error"] is None, context
    assert tools["tools"] and set(tools["tools"]) == _mock_tools(mock_server_bin), context
    # DELETE is not a simple method: it passed its own preflight.
    assert got["delete"]["status"] in (200, 202, 204), context

    # A refusal is readable too, challenge included (Access-Control-Expose-Headers).
    simple = got["simpleWithoutToken"]
    assert simple.get("status") == 401, context
    assert (simple.get("wwwAuthenticate") or "").lower().startswith("bearer"), context
    assert not [m for m in run.console() if "CORS" in m], context
    assert "refused a CORS preflight" not in proxy.output(), proxy.output()[-4000:]


def test_a_refused_origin_cannot_read_anything(cors_setup, tmp_path):
    proxy, pages = cors_setup
    origin = f"http://{REFUSED_HOST}:{pages.port}"
    run = load_in_chromium(f"{origin}/page.html", tmp_path / "chromium-refused")
    assert pages.loads == [f"{REFUSED_HOST}:{pages.port}"], pages.loads
    got = run.result()
    context = run.context(got)
    assert got["origin"] == origin, context

    # The preflight got 403 without CORS headers: fetch rejects, the script sees no status at all.
    assert got["initialize"]["error"] == "TypeError", context
    assert "initialized" not in got and "toolsList" not in got, context
    # A simple request needs no preflight, but its answer carries no Access-Control-Allow-Origin
    # for this origin: unreadable as well.
    assert got["simpleWithoutToken"]["error"] == "TypeError", context
    # Chromium says why: the preflight's answer failed the access check.
    blocked = [m for m in run.console() if "blocked by CORS policy" in m and origin in m]
    assert any("preflight" in m for m in blocked), context

    assert wait_until(lambda: f"refused a CORS preflight from origin {origin}" in proxy.output(),
                      timeout_s=10), proxy.output()[-4000:]
