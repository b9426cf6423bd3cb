#!/usr/bin/env bash
# A regression guard (issue #18 item 9): builds the proxy at two commits and runs the overhead and
# fan-out scenarios with both binaries side by side, interleaved round by round in one run, then
# prints, per figure, BASE, HEAD, the ratio HEAD/BASE and WORSE where HEAD is more than 5% worse.
#
#   bench/compare.sh [--rounds N] [--calls N] [--keep] BASE HEAD
#
# BASE and HEAD are any commits git knows (a hash, a branch, HEAD~1). Each is checked out in a
# detached worktree under build/compare/ and built there with its own ci/build.sh (release
# preset, target mcp-proxy; the same ccache as every ci/build.sh, so a second build of the same
# sources is mostly cache hits). The load client and the mock (bench/e2e_bench,
# mock-mcp-server) and the scripts are this checkout's (ci/build.sh release builds them when
# needed): only the proxy differs between the two sides.
#
# Scenarios, with BASELINE_PROXY_BIN = BASE's mcp-proxy and MCP_PROXY_BIN = HEAD's (the scripts
# then run both in every round, alternating their order):
#   overhead  bench/run_overhead.sh --no-peers --no-httpx --concurrency "1 64": tools/call of the
#             mock's echo through the proxy over a stdio backend and a Streamable HTTP backend,
#             at 1 and 64 concurrent connections
#   fan-out   bench/run_fanout.sh --no-peers --backends "16 64" --latencies 0: merged tools/list
#             over 16 and 64 stdio mocks with the list cache off and on, and a routed tools/call
# Figures, each the median over rounds: p50 and p99 latency, calls/s, and the proxy's CPU time per
# call (lower is better but for calls/s). WORSE marks a HEAD/BASE ratio above 1.05 (below 0.95
# for calls/s). The machine's noise is often larger than 5% (see docs/benchmarks.md): re-run, or
# count instructions (bench/run_instructions.sh), before believing one WORSE.
#
# Options:
#   --rounds N   rounds of each scenario (default 5)
#   --calls N    timed calls per run (default 300; the fan-out scenario takes a third of them)
#   --keep       keep the worktrees (and their builds) under build/compare/ for the next run;
#                by default they are removed at the end (the ccache keeps the objects)
# Exit status: 0 whatever the figures (it never gates on time); 1 when a build or a scenario
# failed, 2 for bad arguments. Environment: MCP_BUILD_LOCK, a file to `flock` around each build
# (for machines where builds must not run side by side); what ci/build.sh reads (JOBS, CCACHE_*).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=bench/lib.sh
source bench/lib.sh

rounds=5; calls=300; keep=0; revs=()
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds="${2:?}"; shift ;;
    --calls) calls="${2:?}"; shift ;;
    --keep) keep=1 ;;
    -h|--help)
      awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"
      exit 0 ;;
    -*) echo "compare: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) revs+=("$1") ;;
  esac
  shift
done
[ ${#revs[@]} -eq 2 ] || { echo "compare: give two commits, BASE and HEAD (see --help)" >&2; exit 2; }
for n in "$rounds" "$calls"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || { log "not a positive number: $n"; exit 2; }
done
[ "$preset" = release ] || { log "compares release builds: unset PRESET"; exit 2; }
declare -A sha=()
for side in base head; do
  rev="${revs[0]}"
  [ "$side" = base ] || rev="${revs[1]}"
  sha[$side]="$(git rev-parse --verify --quiet "$rev^{commit}")" || { log "not a commit: $rev"; exit 2; }
done

build() {  # DIR TARGETS...: ci/build.sh release in DIR, under MCP_BUILD_LOCK when set
  local dir="$1"; shift
  if [ -n "${MCP_BUILD_LOCK:-}" ]; then
    (cd "$dir" && nice -n 5 flock "$MCP_BUILD_LOCK" ci/build.sh release "$@")
  else
    (cd "$dir" && nice -n 5 ci/build.sh release "$@")
  fi
}

compare_dir="$repo/build/compare"
out="$(mktemp -d "${TMPDIR:-/tmp}/mcp-compare.XXXXXX")"
added=()  # worktrees this run added, removed at the end unless --keep
# shellcheck disable=SC2317  # called by the trap
cleanup() {
  local wt
  if [ "$keep" -eq 0 ]; then
    for wt in "${added[@]}"; do git worktree remove --force "$wt" 2>/dev/null || rm -rf "$wt"; done
    git worktree prune
  fi
  rm -rf "$out"
}
trap cleanup EXIT

declare -A bin=()
start=$SECONDS
for side in base head; do
  wt="$compare_dir/${sha[$side]:0:12}"
  if [ ! -d "$wt" ]; then
    mkdir -p "$compare_dir"
    git worktree add --detach --quiet "$wt" "${sha[$side]}"
    added+=("$wt")
  fi
  log "building $side ${sha[$side]:0:12} in ${wt#"$repo"/}"
  t0=$SECONDS
  build "$wt" mcp-proxy >"$out/build-$side.log" 2>&1 || {
    log "the build of $side failed:"; tail -30 "$out/build-$side.log" >&2; exit 1; }
  log "built $side in $((SECONDS - t0)) s ($(grep -c 'Building' "$out/build-$side.log" || true) compiles)"
  bin[$side]="$wt/build/release/proxy/mcp-proxy"
done
# The client and the mock: this checkout's.
build "$repo" mock-mcp-server e2e_bench >"$out/build-client.log" 2>&1 || {
  log "the build of the client and mock failed:"; tail -30 "$out/build-client.log" >&2; exit 1; }

export MCP_PROXY_BIN="${bin[head]}" BASELINE_PROXY_BIN="${bin[base]}"
unset MOCK_SERVER_BIN E2E_BENCH_BIN
log "overhead scenario: $rounds rounds of $calls calls"
bench/run_overhead.sh --no-peers --no-httpx --concurrency "1 64" --rounds "$rounds" \
  --calls "$calls" --csv "$out/overhead.csv" >"$out/overhead.log" 2>&1 || {
  log "the overhead scenario failed:"; tail -30 "$out/overhead.log" >&2; exit 1; }
fanout_calls=$(((calls + 2) / 3))
log "fan-out scenario: $rounds rounds of $fanout_calls calls"
bench/run_fanout.sh --no-peers --backends "16 64" --latencies 0 --rounds "$rounds" \
  --calls "$fanout_calls" --csv "$out/fanout.csv" >"$out/fanout.log" 2>&1 || {
  log "the fan-out scenario failed:"; tail -30 "$out/fanout.log" >&2; exit 1; }

/usr/bin/python3 - "$out" "${sha[base]:0:12}" "${sha[head]:0:12}" <<'PY'
import csv, sys
out, base_sha, head_sha = sys.argv[1:4]
def rows(name):
    with open(f"{out}/{name}.csv") as f:
        return list(csv.DictReader(f))
def number(v):
    return float(v) if v not in ("", None) else None
lines = []  # scenario, figure, base, head, lower_is_better
over = {(r["target"], r["concurrency"]): r for r in rows("overhead")}
for ours, base, label in (("proxy-stdio", "base-stdio", "stdio backend"),
                          ("proxy-http", "base-http", "Streamable HTTP backend")):
    for c in ("1", "64"):
        h, b = over.get((ours, c)), over.get((base, c))
        if not h or not b:
            continue
        for key, figure, lower in (("p50_us", "p50 (µs)", True), ("p99_us", "p99 (µs)", True),
                                   ("calls_per_s", "calls/s", False),
                                   ("cpu_us_per_call", "CPU/call (µs)", True)):
            lines.append((f"overhead, {label}, c={c}", figure, number(b[key]), number(h[key]), lower))
fan = {(r["target"], r["method"]): r for r in rows("fanout")}
for (target, method), h in sorted(fan.items(), key=lambda kv: (kv[0][1] != "tools/list",
                                                               int(kv[1]["backends"] or 0),
                                                               kv[1]["cache"] != "uncached")):
    if h["side"] != "ours" or h["kind"] != "merged":
        continue
    b = fan.get(("base-" + target, method))
    if not b:
        continue
    what = (f"fan-out {method}, {h['backends']} backends, "
            f"{'list cache off' if h['cache'] == 'uncached' else 'cached'}")
    for key, figure, lower in (("p50_ms", "p50 (ms)", True), ("p99_ms", "p99 (ms)", True),
                               ("calls_per_s", "calls/s", False),
                               ("proxy_cpu_us_per_request", "CPU/call (µs)", True)):
        lines.append((what, figure, number(b[key]), number(h[key]), lower))

def show(v):
    return "n/a" if v is None else f"{v:.3f}" if v < 10 else f"{v:.1f}" if v < 1000 else f"{v:.0f}"
print(f"BASE {base_sha}, HEAD {head_sha}: medians over rounds, both in the same rounds")
fmt = "{:<48} {:<14} {:>10} {:>10} {:>9}  {}"
print(fmt.format("scenario", "figure", "BASE", "HEAD", "HEAD/BASE", ""))
worse = 0
for what, figure, b, h, lower in lines:
    ratio = h / b if b and h is not None else None
    flag = ""
    if ratio is not None and (ratio > 1.05 if lower else ratio < 0.95):
        flag, worse = "WORSE", worse + 1
    print(fmt.format(what, figure, show(b), show(h), "n/a" if ratio is None else f"{ratio:.3f}", flag))
print(f"{worse} of {len(lines)} figures more than 5% worse (lower is better, but for calls/s); "
      "the machine's noise is often larger: re-run before believing one")
PY
log "done in $((SECONDS - start)) s"
