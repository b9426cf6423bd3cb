#!/usr/bin/env bash
# End-to-end overhead of the proxy, measured side by side in one run: tools/call round trips
# (bench/e2e_bench) against the mock served on its own over Streamable HTTP (`direct`), and
# through mcp-proxy with the mock behind it over stdio, legacy SSE and Streamable HTTP. Rounds
# alternate between the targets (the machine is noisy); the table reports, per target, the median
# over rounds of each round's median latency, p99 and calls/s, and the ratio to `direct`. Also
# the proxy's resident memory, idle and after the run.
#
# Usage: bench/run_e2e.sh [--rounds N] [--calls N] [--concurrency N] [--write-docs] [--smoke]
#   --smoke         a few calls per target, nothing written (CI: the benchmark must run, its
#                   figures do not gate anything)
#   --write-docs    rewrite the results table in docs/benchmarks.md
# Environment: PRESET (default release), MCP_PROXY_BIN, MOCK_SERVER_BIN, E2E_BENCH_BIN.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=bench/lib.sh
source bench/lib.sh

rounds=5; calls=2000; concurrency=1; write_docs=0; smoke=0
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds="${2:?}"; shift ;;
    --calls) calls="${2:?}"; shift ;;
    --concurrency) concurrency="${2:?}"; shift ;;
    --write-docs) write_docs=1 ;;
    --smoke) smoke=1; rounds=1; calls=20 ;;
    -h|--help) sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run_e2e: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
require_binaries

bench_workdir  # $work, and the process and docs helpers
# shellcheck disable=SC2317  # called by the trap
cleanup() {
  stop_process proxy
  stop_process mock
  rm -rf "$work"
}
trap cleanup EXIT

start_listening mock "$mock_bin" --http 127.0.0.1:0
mock_url="http://127.0.0.1:$port/mock"
cat >"$work/config.json" <<EOF
{
  "mcpProxy": { "addr": "127.0.0.1:0" },
  "mcpServers": {
    "stdio": { "command": "$mock_bin" },
    "sse": { "url": "$mock_url/sse", "transportType": "sse" },
    "http": { "url": "$mock_url/mcp", "transportType": "streamable-http" }
  }
}
EOF
start_listening proxy "$proxy_bin" --config "$work/config.json"
proxy_url="http://127.0.0.1:$port"
# The proxy's own pid (start_listening ran it under `timeout`), for its memory.
proxy_pid="$(pgrep -P "${pid_of[proxy]}" | head -1)"
rss_kb() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$proxy_pid/status" 2>/dev/null || echo 0; }
idle_rss="$(rss_kb)"

targets=(direct stdio sse http)
declare -A url_of=([direct]="$mock_url/mcp" [stdio]="$proxy_url/stdio/mcp"
                   [sse]="$proxy_url/sse/mcp" [http]="$proxy_url/http/mcp")
declare -A label=([direct]="mock directly (Streamable HTTP)" [stdio]="proxy, stdio backend"
                  [sse]="proxy, legacy SSE backend" [http]="proxy, Streamable HTTP backend")
for r in $(seq 1 "$rounds"); do
  for t in "${targets[@]}"; do
    "$bench_bin" --url "${url_of[$t]}" --calls "$calls" --warmup "$((calls / 10))" \
      --concurrency "$concurrency" >>"$work/$t.jsonl"
  done
  log "round $r of $rounds done"
done
after_rss="$(rss_kb)"

# Median over rounds of each figure, per target.
summary="$(/usr/bin/python3 - "$work" "${targets[@]}" <<'PY'
import json, statistics, sys
work, targets = sys.argv[1], sys.argv[2:]
rows = {}
for t in targets:
    runs = [json.loads(l) for l in open(f"{work}/{t}.jsonl")]
    rows[t] = {k: statistics.median(r[k] for r in runs) for k in ("median_us", "p99_us", "calls_per_s")}
base = rows["direct"]["median_us"]
for t in targets:
    r = rows[t]
    print(t, int(r["median_us"]), int(r["p99_us"]), int(r["calls_per_s"]), f"{r['median_us'] / base:.2f}")
PY
)"
printf '%-8s %10s %8s %10s %6s\n' target median_us p99_us calls/s ratio
while read -r t med p99 cps ratio; do
  printf '%-8s %10s %8s %10s %6s\n' "$t" "$med" "$p99" "$cps" "$ratio"
done <<<"$summary"
log "proxy RSS: ${idle_rss} kB idle, ${after_rss} kB after the run"

if [ "$write_docs" -eq 1 ] && [ "$smoke" -eq 0 ]; then
  table="$work/table.md"
  {
    echo "Run on $(date -u +%Y-%m-%d) at commit $(commit_label) with \`bench/run_e2e.sh --rounds $rounds --calls $calls --concurrency $concurrency --write-docs\`"
    echo "($(machine_label))."
    echo "Latency of one \`tools/call\` of the mock's \`echo\`, median of $rounds rounds of $calls calls each."
    echo
    echo "| Path | Median (µs) | p99 (µs) | Calls/s | Median vs direct |"
    echo "|---|---|---|---|---|"
    while read -r t med p99 cps ratio; do
      echo "| ${label[$t]} | $med | $p99 | $cps | ${ratio}× |"
    done <<<"$summary"
    echo
    echo "Proxy resident memory: ${idle_rss} kB idle (three backends configured), ${after_rss} kB after the run."
  } >"$table"
  write_marked_section "$doc" e2e-results "$table"
  log "wrote the results table into docs/benchmarks.md"
fi
