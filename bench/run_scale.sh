#!/usr/bin/env bash
# Scale of the proxy in one run: memory per idle client session and the time to establish one
# (bench/e2e_bench --sessions N, against a shared stdio mock), and large tool results (the mock's
# `big` tool) through the proxy and straight from the mock, with the proxy's peak RSS growth:
# from a stdio backend, and from a Streamable HTTP backend that answers with an event stream
# (the mock with --event-stream-answers), whose long answers the proxy passes on as they arrive;
# for those, the time to the answer's header too (e2e_bench's header_p50_us).
# Each case runs on a fresh proxy, so what one case allocated does not hide in the next one's
# figures. Memory is read from /proc/PID/status: VmRSS while the sessions are held open, VmHWM
# (the peak) around the large results.
#
# Usage: bench/run_scale.sh [--sessions "1000 10000"] [--payloads "1048576 10485760"]
#                           [--calls N] [--write-docs] [--smoke]
#   --sessions LIST   idle client sessions to hold open, one case each (default "1000 10000")
#   --payloads LIST   tool result sizes in bytes (default 1 MB and 10 MB)
#   --calls N         timed calls per payload size (default 10)
#   --csv FILE        where the figures go as CSV (default build/bench-results/scale.csv)
#   --smoke           100 sessions and a 64 KB result, nothing written (CI)
#   --write-docs      rewrite the scale section of docs/benchmarks.md
# Environment: PRESET (default release), MCP_PROXY_BIN, MOCK_SERVER_BIN, E2E_BENCH_BIN.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=bench/lib.sh
source bench/lib.sh

session_counts="1000 10000"; payloads="1048576 10485760"; calls=10; write_docs=0; smoke=0
csv="$repo/build/bench-results/scale.csv"
while [ $# -gt 0 ]; do
  case "$1" in
    --sessions) session_counts="${2:?}"; shift ;;
    --payloads) payloads="${2:?}"; shift ;;
    --calls) calls="${2:?}"; shift ;;
    --csv) csv="${2:?}"; shift ;;
    --write-docs) write_docs=1 ;;
    --smoke) smoke=1; session_counts="100"; payloads="65536"; calls=3 ;;
    -h|--help) sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run_scale: unknown argument $1 (see --help)" >&2; exit 2 ;;
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

# A fresh proxy over one shared stdio mock, or (with a URL) over that Streamable HTTP server;
# sets proxy_url and proxy_pid.
start_proxy() {
  stop_process proxy
  local server="\"command\": \"$mock_bin\""
  [ $# -gt 0 ] && server="\"url\": \"$1\", \"transportType\": \"streamable-http\""
  cat >"$work/config.json" <<EOF
{
  "mcpProxy": { "addr": "127.0.0.1:0", "maxSessions": 100000, "maxSessionsPerPeer": 100000,
                "sessionIdleTimeout": "1h" },
  "mcpServers": { "mock": { $server, "timeout": "120s" } }
}
EOF
  start_listening proxy "$proxy_bin" --config "$work/config.json"
  proxy_url="http://127.0.0.1:$port/mock/mcp"
  # The proxy's own pid (start_listening ran it under `timeout`).
  proxy_pid="$(pgrep -P "${pid_of[proxy]}" | head -1)"
}

mkdir -p "$(dirname "$csv")"
echo "case,n,bytes,p50_us,p99_us,max_us,errors,rss_before_kb,rss_kb,per_item_bytes,peak_growth_kb,header_p50_us" >"$csv"

# --- idle sessions ---------------------------------------------------------------------------
for n in $session_counts; do
  start_proxy
  before="$(status_kb "$proxy_pid" VmRSS)"
  # e2e_bench prints its line once all sessions are open, holds them, then DELETEs them.
  "$bench_bin" --url "$proxy_url" --sessions "$n" --hold-ms 2000 >"$work/sessions.json" &
  bench_pid=$!
  for _ in $(seq 1 600); do  # up to 60 s for the sessions to be established
    [ -s "$work/sessions.json" ] && break
    sleep 0.1
  done
  sleep 0.5  # the proxy settles (its last answers written)
  held="$(status_kb "$proxy_pid" VmRSS)"
  wait "$bench_pid" || log "e2e_bench --sessions $n exited non-zero"
  /usr/bin/python3 - "$work/sessions.json" "$n" "$before" "$held" >>"$csv" <<'PY'
import json, sys
r = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
n, before, held = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
# Per session held open: the ones established, not the ones asked for.
per = (held - before) * 1024 // max(int(r['sessions']), 1)
print(f"sessions,{n},,{r['establish_p50_us']},{r['establish_p99_us']},,{r['errors']},{before},{held},{per},,")
PY
  log "sessions $n: $(tail -1 "$csv")"
done

# --- large results -----------------------------------------------------------------------------
# Each payload size: the mock directly, then a fresh proxy in front of it (VmHWM read after).
# $1: the backend kind (stdio, or sse: the HTTP mock answering with event streams).
large_results() {
  local kind=$1 direct_url=$2
  for bytes in $payloads; do
    args="{\"bytes\":$bytes}"
    "$bench_bin" --url "$direct_url" --tool big --arguments "$args" --calls "$calls" --warmup 1 \
      >"$work/direct.json"
    if [ "$kind" = stdio ]; then start_proxy; else start_proxy "$direct_url"; fi
    before="$(status_kb "$proxy_pid" VmRSS)"
    "$bench_bin" --url "$proxy_url" --tool big --arguments "$args" --calls "$calls" --warmup 1 \
      >"$work/proxy.json"
    peak="$(status_kb "$proxy_pid" VmHWM)"
    /usr/bin/python3 - "$work" "$bytes" "$before" "$peak" "$kind" >>"$csv" <<'PY'
import json, sys
work, size, before, peak, kind = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
for case in ("direct", "proxy"):
    r = json.loads(open(f"{work}/{case}.json").read().strip().splitlines()[-1])
    growth = f"{peak - before}" if case == "proxy" else ""
    rss = (f"{before},{peak}" if case == "proxy" else ",")
    print(f"payload-{kind}-{case},,{size},{r['p50_us']},{r['p99_us']},{r['max_us']},{r['errors']},"
          f"{rss},,{growth},{r.get('header_p50_us', '')}")
PY
    log "payload $bytes ($kind): $(tail -2 "$csv" | tr '\n' ' ')"
  done
}
start_listening mock "$mock_bin" --http 127.0.0.1:0
large_results stdio "http://127.0.0.1:$port/mock/mcp"
stop_process mock
start_listening mock "$mock_bin" --http 127.0.0.1:0 --event-stream-answers
large_results sse "http://127.0.0.1:$port/mock/mcp"

summary="$(/usr/bin/python3 - "$csv" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
out = []
for r in rows:
    if r["case"] == "sessions":
        out.append(f"| {int(r['n']):,} idle sessions | {r['p50_us']} | {r['p99_us']} | | "
                   f"{int(r['rss_before_kb']) / 1024:.1f} → {int(r['rss_kb']) / 1024:.1f} MB | "
                   f"{int(r['per_item_bytes']) / 1024:.1f} KB per session | {r['errors']} |")
who = {"payload-stdio-direct": "mock directly (JSON answer)",
       "payload-stdio-proxy": "proxy (stdio backend)",
       "payload-sse-direct": "mock directly (event-stream answer)",
       "payload-sse-proxy": "proxy (HTTP backend, event-stream answer, passed on as it arrives)"}
for r in rows:
    if r["case"].startswith("payload-"):
        size = int(r["bytes"])
        mem = ""
        if r["peak_growth_kb"]:
            g = int(r["peak_growth_kb"]) * 1024
            mem = f"peak RSS +{g / 1048576:.1f} MB ({g / size:.1f}× the payload)"
        header = f"{int(r['header_p50_us']) / 1000:.1f} ms" if r["header_p50_us"] else ""
        out.append(f"| {size / 1048576:g} MB result, {who[r['case']]} | {int(r['p50_us']) / 1000:.1f} ms | "
                   f"{int(r['p99_us']) / 1000:.1f} ms | {header} | | {mem} | {r['errors']} |")
print("\n".join(out))
PY
)"
printf '%s\n' "$summary"

if [ "$write_docs" -eq 1 ] && [ "$smoke" -eq 0 ]; then
  table="$work/table.md"
  {
    echo "Run on $(date -u +%Y-%m-%d) at commit $(commit_label) with"
    echo "\`bench/run_scale.sh --sessions \"$session_counts\" --payloads \"$payloads\" --calls $calls --write-docs\`"
    echo "($(machine_label))."
    echo "Sessions: establish time (initialize + initialized) as p50/p99 in µs, and the proxy's RSS"
    echo "before and while they are all held open. Results: latency of one \`tools/call\` of the"
    echo "mock's \`big\`, its median time to the answer's HTTP header, and the proxy's peak RSS"
    echo "(VmHWM) over its RSS before the calls. CSV: \`$(realpath --relative-to="$repo" "$csv" 2>/dev/null || echo "$csv")\`."
    echo
    echo "| Case | p50 | p99 | Header p50 | Proxy RSS | Per item / peak growth | Errors |"
    echo "|---|---|---|---|---|---|---|"
    printf '%s\n' "$summary"
  } >"$table"
  write_marked_section "$doc" scale-results "$table"
  log "wrote the scale table into docs/benchmarks.md"
fi

# A case with errors measured something else than it says (sessions refused by a limit, say).
failed="$(awk -F, 'NR > 1 && $7 != "" && $7 != 0 { print $1 " " $2 $3 ": " $7 " errors" }' "$csv")"
if [ -n "$failed" ]; then
  log "cases with errors:"$'\n'"$failed"
  exit 1
fi
