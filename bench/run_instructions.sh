#!/usr/bin/env bash
# Instructions per tools/call of the proxy, counted by callgrind (valgrind): deterministic where
# CPU time on a shared 2-core machine varies from round to round by 0.5x to 1.6x. The proxy runs
# under callgrind with the mock behind it over Streamable HTTP (mock-mcp-server --http), and
# bench/e2e_bench makes N1 and then, on a fresh proxy, N2 calls at concurrency 1; the difference
# of the two totals over N2 - N1 is the cost of one call, start-up and shutdown cancelled out.
# With BASELINE_PROXY_BIN (a proxy built from another commit) both are measured, side by side.
# stdio backends are not measured: under valgrind the proxy cannot start its children.
#
# Usage: bench/run_instructions.sh [--calls N1,N2]   (default 400,2000)
# Environment: PRESET (default release), MCP_PROXY_BIN, MOCK_SERVER_BIN, E2E_BENCH_BIN,
# BASELINE_PROXY_BIN.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=bench/lib.sh
source bench/lib.sh

n1=400; n2=2000
while [ $# -gt 0 ]; do
  case "$1" in
    --calls) IFS=, read -r n1 n2 <<<"${2:?}"; shift ;;
    -h|--help) sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) log "unknown argument $1 (see --help)"; exit 2 ;;
  esac
  shift
done
for n in "$n1" "$n2"; do [[ "$n" =~ ^[1-9][0-9]*$ ]] || { log "not a positive number: $n"; exit 2; }; done
[ "$n2" -gt "$n1" ] || { log "--calls N1,N2 needs N2 > N1"; exit 2; }
require_binaries
command -v valgrind >/dev/null || { log "valgrind is not installed (apt-get install valgrind)"; exit 1; }
baseline="${BASELINE_PROXY_BIN:-}"
[ -z "$baseline" ] || [ -x "$baseline" ] || { log "BASELINE_PROXY_BIN: no executable at $baseline"; exit 1; }

bench_workdir  # $work, start_listening/stop_process
trap 'stop_process proxy; stop_process mock; rm -rf "$work"' EXIT
start_listening mock "$mock_bin" --http 127.0.0.1:0
cat >"$work/proxy.json" <<EOF
{ "mcpProxy": { "addr": "127.0.0.1:0" },
  "mcpServers": { "mock": { "url": "http://127.0.0.1:$port/mock/mcp", "transportType": "streamable-http" } } }
EOF

# Total instructions of one proxy run of $2 calls with binary $1.
instructions() {
  local out="$work/callgrind.out"
  rm -f "$out"
  start_listening proxy valgrind --tool=callgrind --callgrind-out-file="$out" "$1" \
    --config "$work/proxy.json"
  timeout 600 "$bench_bin" --url "http://127.0.0.1:$port/mock/mcp" --calls "$2" --warmup 0 \
    --concurrency 1 >/dev/null
  stop_process proxy
  awk '/^summary:/ { print $2 }' "$out"
}
per_call() {
  local a b
  a="$(instructions "$1" "$n1")"
  b="$(instructions "$1" "$n2")"
  echo $(((b - a) / (n2 - n1)))
}
head_count="$(per_call "$proxy_bin")"
log "instructions per tools/call (Streamable HTTP backend, concurrency 1): $head_count ($proxy_bin)"
if [ -n "$baseline" ]; then
  base_count="$(per_call "$baseline")"
  log "instructions per tools/call (Streamable HTTP backend, concurrency 1): $base_count ($baseline)"
  awk -v h="$head_count" -v b="$base_count" \
    'BEGIN { printf "run_instructions: %.3fx the baseline\n", h / b }'
fi
