#!/usr/bin/env bash
# Fan-out of the merged endpoint, measured side by side in one run: round trips (bench/e2e_bench)
# against one mock served on its own over Streamable HTTP (`direct`), and through the proxy's
# merged endpoint /mcp over 32 stdio mocks, with the list cache off (`merged-32`, listCacheTTL
# "0": every tools/list asks all 32) and on (`merged-32-cached`, the default TTL), and through
# the per-server route /s01/mcp (`route`). Every mock answers tools/list and tools/call after
# 20 ms (--list-latency-ms, --latency-ms): a merged tools/list that asks 32 backends in parallel
# takes about one backend latency, where asking them in turn would take 32; tools/call
# (`s01__echo` on /mcp, routed to one backend) shows the routing cost. Rounds alternate
# between the targets (the machine is noisy); the table reports, per target and method, the
# median over rounds of each round's median and p90 latency, and the ratio to `direct`.
#
# Usage: bench/run_fanout.sh [--rounds N] [--calls N] [--write-docs] [--smoke]
#   --calls N       timed requests per target, method and round (default 200)
#   --smoke         a few calls per target, nothing written (CI: the benchmark must run, its
#                   figures do not gate anything)
#   --write-docs    rewrite the fan-out results table in docs/benchmarks.md
# Environment: PRESET (default release), MCP_PROXY_BIN, MOCK_SERVER_BIN, E2E_BENCH_BIN.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=bench/lib.sh
source bench/lib.sh
backends=32
latency_ms=20

rounds=5; calls=200; write_docs=0; smoke=0
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds="${2:?}"; shift ;;
    --calls) calls="${2:?}"; shift ;;
    --write-docs) write_docs=1 ;;
    --smoke) smoke=1; rounds=1; calls=5 ;;
    -h|--help) sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run_fanout: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
require_binaries

work="$(mktemp -d "${TMPDIR:-/tmp}/mcp-fanout-bench.XXXXXX")"
# shellcheck source=ci/lib/processes.sh
source "$repo/ci/lib/processes.sh"
# shellcheck source=ci/lib/docs.sh
source "$repo/ci/lib/docs.sh"
# shellcheck disable=SC2317  # called by the trap
cleanup() {
  stop_process cached
  stop_process uncached
  stop_process mock
  rm -rf "$work"
}
trap cleanup EXIT

start_listening mock "$mock_bin" --http 127.0.0.1:0 --latency-ms "$latency_ms" \
  --list-latency-ms "$latency_ms"
mock_url="http://127.0.0.1:$port/mock"

# Writes a proxy config with $backends stdio mocks s01..sNN; $2: the mcpProxy keys to add.
write_config() {
  {
    printf '{\n  "mcpProxy": { "addr": "127.0.0.1:0"%s },\n  "mcpServers": {\n' "$2"
    for i in $(seq -w 1 "$backends"); do
      printf '    "s%s": { "command": "%s", "args": ["--latency-ms", "%s", "--list-latency-ms", "%s"] }' \
        "$i" "$mock_bin" "$latency_ms" "$latency_ms"
      [ "$i" -eq "$backends" ] && echo || echo ,
    done
    printf '  }\n}\n'
  } >"$1"
}
write_config "$work/uncached.json" ', "listCacheTTL": "0"'
write_config "$work/cached.json" ''
start_listening uncached "$proxy_bin" --config "$work/uncached.json"
uncached_url="http://127.0.0.1:$port"
start_listening cached "$proxy_bin" --config "$work/cached.json"
cached_url="http://127.0.0.1:$port"

merged="merged-$backends"
targets=(direct "$merged" "$merged-cached" route)
declare -A url_of=([direct]="$mock_url/mcp" [$merged]="$uncached_url/mcp"
                   [$merged-cached]="$cached_url/mcp" [route]="$uncached_url/s01/mcp")
declare -A tool_of=([direct]=echo [$merged]=s01__echo [$merged-cached]=s01__echo [route]=echo)
declare -A label=([direct]="mock directly (Streamable HTTP)"
                  [$merged]="proxy /mcp, $backends backends, listCacheTTL 0"
                  [$merged-cached]="proxy /mcp, $backends backends, default cache (60s)"
                  [route]="proxy /s01/mcp (one of the $backends)")

# One tools/list per target before timing: the merged ones must list every backend's tools.
count_tools() {
  /usr/bin/python3 - "$1" <<'PY'
import http.client, json, sys, urllib.parse
u = urllib.parse.urlsplit(sys.argv[1])
c = http.client.HTTPConnection(u.hostname, u.port)
h = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
def post(body):
    c.request("POST", u.path, json.dumps(body), h)
    r = c.getresponse()
    data = r.read().decode()
    if r.status >= 300:
        sys.exit(f"HTTP {r.status}: {data[:200]}")
    if not data:
        return r, None
    if r.getheader("Content-Type", "").startswith("text/event-stream"):
        data = [l[5:] for l in data.splitlines() if l.startswith("data:")][-1]
    return r, json.loads(data)
r, _ = post({"jsonrpc": "2.0", "id": 0, "method": "initialize",
             "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                        "clientInfo": {"name": "run_fanout", "version": "1"}}})
h["Mcp-Session-Id"] = r.getheader("Mcp-Session-Id")
h["MCP-Protocol-Version"] = "2025-11-25"
post({"jsonrpc": "2.0", "method": "notifications/initialized"})
_, answer = post({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
print(len(answer["result"]["tools"]))
c.request("DELETE", u.path, headers=h)
c.getresponse().read()
PY
}
declare -A tools_of=()
for t in "${targets[@]}"; do tools_of[$t]="$(count_tools "${url_of[$t]}")"; done
for t in "$merged" "$merged-cached"; do
  if [ "${tools_of[$t]}" -ne "$((backends * tools_of[direct]))" ]; then
    log "$t lists ${tools_of[$t]} tools, not $backends x ${tools_of[direct]}: a backend is missing"
    exit 1
  fi
done
log "tools/list sizes: direct ${tools_of[direct]}, merged ${tools_of[$merged]} tools"

methods=(tools/list tools/call)
for r in $(seq 1 "$rounds"); do
  for t in "${targets[@]}"; do
    for m in "${methods[@]}"; do
      "$bench_bin" --url "${url_of[$t]}" --method "$m" --tool "${tool_of[$t]}" \
        --calls "$calls" --warmup "$(((calls + 9) / 10))" >>"$work/$t.${m//\//-}.jsonl"
    done
  done
  log "round $r of $rounds done"
done
# A member left out of a merged list (it failed or missed the fan-out deadline) would make the
# merged figures those of fewer backends.
if grep -h 'left out of' "$work/uncached.log" "$work/cached.log"; then
  log "a backend was left out of a merged list (above): the figures would not be comparable"
  exit 1
fi

# Median over rounds of each figure, per target and method; ratios to direct per method.
summary="$(/usr/bin/python3 - "$work" "${targets[@]}" <<'PY'
import json, statistics, sys
work, targets = sys.argv[1], sys.argv[2:]
def figures(t, m):
    runs = [json.loads(l) for l in open(f"{work}/{t}.{m}.jsonl")]
    return [statistics.median(r[k] for r in runs) / 1000 for k in ("median_us", "p90_us")]
rows = {t: figures(t, "tools-list") + figures(t, "tools-call") for t in targets}
d = rows["direct"]
for t in targets:
    r = rows[t]
    print(t, f"{r[0]:.2f} {r[1]:.2f} {r[0] / d[0]:.2f} {r[2]:.2f} {r[3]:.2f} {r[2] / d[2]:.2f}")
PY
)"
show() { printf '%-16s %12s %9s %6s %12s %9s %6s\n' "$@"; }
show target list_med_ms p90_ms ratio call_med_ms p90_ms ratio
while read -r t lmed lp90 lratio cmed cp90 cratio; do
  show "$t" "$lmed" "$lp90" "$lratio" "$cmed" "$cp90" "$cratio"
done <<<"$summary"

if [ "$write_docs" -eq 1 ] && [ "$smoke" -eq 0 ]; then
  table="$work/table.md"
  {
    cpu="$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
    echo "Run on $(date -u +%Y-%m-%d) with"
    echo "\`bench/run_fanout.sh --rounds $rounds --calls $calls --write-docs\`"
    echo "(\`$preset\` build, $(nproc) cores: $cpu)."
    echo "Median over $rounds rounds of each round's median and p90 of $calls sequential requests;"
    echo "every mock answers \`tools/list\` and \`tools/call\` after $latency_ms ms"
    echo "(\`--list-latency-ms $latency_ms --latency-ms $latency_ms\`)."
    echo "\`tools/list\` answers ${tools_of[direct]} tools directly and ${tools_of[$merged]} merged."
    echo
    printf '| Target | Path | tools/list median (ms) | p90 (ms) | vs direct '
    printf '| tools/call median (ms) | p90 (ms) | vs direct |\n'
    echo "|---|---|---|---|---|---|---|---|"
    while read -r t lmed lp90 lratio cmed cp90 cratio; do
      echo "| \`$t\` | ${label[$t]} | $lmed | $lp90 | $lratio× | $cmed | $cp90 | $cratio× |"
    done <<<"$summary"
  } >"$table"
  write_marked_section "$doc" fanout-results "$table"
  log "wrote the results table into docs/benchmarks.md"
fi
