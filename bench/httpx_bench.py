#!/usr/bin/python3
"""Times MCP requests from a Python httpx client, as the official Python SDK sends them.

httpx (Debian's python3-httpx) writes a request's headers and its body in two writes, with
Nagle's algorithm on; a server that delays its ACK of the headers makes every request wait for
the delayed-ACK timer (about 40 ms on Linux). bench/e2e_bench writes each request at once, so
the two side by side show what a server costs such a client (bench/run_overhead.sh, issue #18).

One httpx.Client, one keep-alive connection, one session: initialize and
notifications/initialized, then --warmup untimed and --calls timed sequential requests
(tools/call of --tool with {"text": "benchmark"}, or --method without params). Prints one JSON
line with the fields of e2e_bench's: calls, errors, concurrency (1), median_us = p50_us,
p90_us, p99_us, max_us (of the successful timed calls), calls_per_s; the session is deleted at
the end. Exit status 1 when no timed call succeeded, 2 for a bad option.

  /usr/bin/python3 bench/httpx_bench.py --url http://127.0.0.1:PORT/NAME/mcp [--calls 500]
      [--warmup 50] [--method tools/call] [--tool echo] [--timeout-s 60]
"""

import argparse
import json
import sys
import time

import httpx

PROTOCOL_VERSION = "2025-11-25"


def response_to(answer: httpx.Response, request_id: int) -> str:
    """What went wrong with the answer to request_id: empty when it is a result."""
    if answer.status_code != 200:
        return f"HTTP {answer.status_code}: {answer.text[:200]}"
    if answer.headers.get("content-type", "").startswith("text/event-stream"):
        messages = [line[5:].strip() for line in answer.text.splitlines() if line.startswith("data:")]
    else:
        messages = [answer.text]
    for text in messages:
        if not text:
            continue
        try:
            message = json.loads(text)
        except ValueError:
            return f"not JSON: {text[:200]}"
        if message.get("id") != request_id:
            continue
        if "result" in message:
            return ""
        return f"error {json.dumps(message.get('error'))}"
    return f"no response in the answer: {answer.text[:200]}"


def percentile(sorted_us: list, p: float) -> int:
    return sorted_us[int(p * (len(sorted_us) - 1))]  # as e2e_bench picks it


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--method", default="tools/call")
    parser.add_argument("--tool", default="echo")
    parser.add_argument("--timeout-s", type=float, default=60)
    opt = parser.parse_args()
    if opt.calls < 1 or opt.warmup < 0 or opt.timeout_s <= 0:
        parser.error("--calls must be positive, --warmup not negative, --timeout-s positive")

    headers = {"Accept": "application/json, text/event-stream"}
    with httpx.Client(timeout=opt.timeout_s, headers=headers) as client:
        init = client.post(opt.url, json={
            "jsonrpc": "2.0", "id": 0, "method": "initialize",
            "params": {"protocolVersion": PROTOCOL_VERSION, "capabilities": {},
                       "clientInfo": {"name": "httpx_bench", "version": "1"}}})
        problem = response_to(init, 0)
        session = init.headers.get("mcp-session-id")
        if problem or not session:
            print(f"httpx_bench: initialize: {problem or 'no Mcp-Session-Id'}", file=sys.stderr)
            return 1
        client.headers.update({"Mcp-Session-Id": session, "MCP-Protocol-Version": PROTOCOL_VERSION})
        ack = client.post(opt.url, json={"jsonrpc": "2.0", "method": "notifications/initialized"})
        if ack.status_code // 100 != 2:
            print(f"httpx_bench: notifications/initialized: HTTP {ack.status_code}", file=sys.stderr)
            return 1

        latencies, errors, first_error = [], 0, ""
        started = time.perf_counter_ns()
        for i in range(1, opt.warmup + opt.calls + 1):
            request = {"jsonrpc": "2.0", "id": i, "method": opt.method}
            if opt.method == "tools/call":
                request["params"] = {"name": opt.tool, "arguments": {"text": "benchmark"}}
            if i == opt.warmup + 1:
                started = time.perf_counter_ns()
            t0 = time.perf_counter_ns()
            try:
                answer = client.post(opt.url, json=request)
                us = (time.perf_counter_ns() - t0) // 1000
                problem = response_to(answer, i)
            except httpx.HTTPError as e:
                us, problem = 0, f"connection: {e!r}"
            if i <= opt.warmup:
                continue
            if problem:
                errors += 1
                first_error = first_error or problem
            else:
                latencies.append(us)
        seconds = (time.perf_counter_ns() - started) / 1e9
        client.request("DELETE", opt.url)

    if errors:
        print(f"httpx_bench: {errors} timed calls failed, the first: {first_error}", file=sys.stderr)
    if not latencies:
        print("httpx_bench: no timed call succeeded", file=sys.stderr)
        return 1
    latencies.sort()
    p50 = percentile(latencies, 0.5)
    print(json.dumps({"url": opt.url, "client": f"httpx {httpx.__version__}", "calls": opt.calls,
                      "errors": errors, "concurrency": 1, "median_us": p50, "p50_us": p50,
                      "p90_us": percentile(latencies, 0.9), "p99_us": percentile(latencies, 0.99),
                      "max_us": latencies[-1], "calls_per_s": int(len(latencies) / seconds)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
