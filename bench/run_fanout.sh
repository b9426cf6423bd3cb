#!/usr/bin/env bash
# Fan-out of the merged endpoint over a matrix, measured side by side in one run: `tools/list`
# round trips (bench/e2e_bench) through the proxy's merged endpoint /mcp over each number of
# stdio mocks in --backends and each backend latency in --latencies, with the list cache off
# (`mB-Lms`, "listCacheTTL": "0": every tools/list asks all B backends) and on (`mB-Lms-cached`,
# the default TTL), against the mock served on its own over Streamable HTTP with the same
# latency (`direct-Lms`). Every mock answers tools/list and tools/call after L ms
# (--list-latency-ms, --latency-ms): a merged tools/list that asks B backends in parallel takes
# about one backend latency plus the merging, where asking them in turn would take B. For the
# largest B, tools/call (`s01__echo` on /mcp, routed to one backend) shows the routing cost, and
# `route-Lms` is the per-server route /s01/mcp. Rounds alternate between all targets (the
# machine is noisy; every other round runs them in reverse order); the tables report, per target
# and method, the median over rounds of each round's p50, p90, p99 and max (max and errors only
# when e2e_bench reports them, else n/a; errors are summed over rounds), and the p50's ratio to
# `direct` at the same latency. Every proxy runs from the start (1 + 4 + 16 + 64 backends,
# cached and uncached, per latency: 340 mocks); the script checks that each merged list holds
# every backend's tools, that no backend was left out of a merged answer, and that no mock is
# left running at the end.
#
# Usage: bench/run_fanout.sh [--rounds N] [--calls N] [--backends "1 4 16 64"]
#                            [--latencies "0 10"] [--csv FILE] [--plot] [--write-docs] [--smoke]
#   --calls N       timed requests per target, method and round (default 200)
#   --backends L    numbers of stdio backends behind the merged endpoint (default "1 4 16 64")
#   --latencies L   backend latencies in ms for tools/list and tools/call (default "0 10")
#   --csv FILE      where the results go, one row per target and method
#                   (default build/bench-results/fanout.csv)
#   --plot          draw p50 of tools/list vs backends into docs/img/fanout.png (bench/fanout.gp;
#                   installs gnuplot-nox with apt-get when gnuplot is missing)
#   --write-docs    rewrite the fan-out results section of docs/benchmarks.md
#   --smoke         seconds long, nothing written (CI: the benchmark must run, its figures do
#                   not gate anything): --rounds 1 --calls 5 --backends "1 4" --latencies 0
#                   unless given, no CSV, plot or docs
# Environment: PRESET (default release), MCP_PROXY_BIN, MOCK_SERVER_BIN, E2E_BENCH_BIN.
set -euo pipefail
command_line="bench/run_fanout.sh"
for a in "$@"; do [[ "$a" == *" "* ]] && command_line+=" \"$a\"" || command_line+=" $a"; done
caller_dir="$PWD"
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=bench/lib.sh
source bench/lib.sh

rounds=""; calls=""; backend_counts=""; latencies=""; csv=""
write_docs=0; smoke=0; plot=0
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds="${2:?}"; shift ;;
    --calls) calls="${2:?}"; shift ;;
    --backends) backend_counts="${2:?}"; shift ;;
    --latencies) latencies="${2:?}"; shift ;;
    --csv) csv="${2:?}"; shift ;;
    --plot) plot=1 ;;
    --write-docs) write_docs=1 ;;
    --smoke) smoke=1 ;;
    -h|--help)
      awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"
      exit 0 ;;
    *) echo "run_fanout: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
if [ "$smoke" -eq 1 ]; then
  : "${rounds:=1}" "${calls:=5}" "${backend_counts:=1 4}" "${latencies:=0}"
  if [ "$write_docs" -eq 1 ] || [ "$plot" -eq 1 ] || [ -n "$csv" ]; then
    log "--smoke writes nothing: --csv, --plot and --write-docs are ignored"
  fi
  write_docs=0; plot=0; csv=""
else
  : "${rounds:=5}" "${calls:=200}" "${backend_counts:=1 4 16 64}" "${latencies:=0 10}"
  : "${csv:=$repo/build/bench-results/fanout.csv}"
  case "$csv" in /*) ;; *) csv="$caller_dir/$csv" ;; esac
fi
for n in $rounds $calls $backend_counts $latencies; do
  [[ "$n" =~ ^[0-9]+$ ]] || { log "not a number: $n (see --help)"; exit 2; }
done
for n in $rounds $calls $backend_counts; do
  [ "$n" -gt 0 ] || { log "--rounds, --calls and --backends must be positive"; exit 2; }
done
# Sorted, without repeats.
read -r -a backend_counts <<<"$(tr ' ' '\n' <<<"$backend_counts" | sed '/^$/d' | sort -nu | xargs)"
read -r -a latencies <<<"$(tr ' ' '\n' <<<"$latencies" | sed '/^$/d' | sort -nu | xargs)"
largest="${backend_counts[-1]}"
require_binaries

# gnuplot before the measurement, not after it.
[ "$plot" -eq 0 ] || require_gnuplot

bench_workdir  # $work, and the process and docs helpers
started=()  # names given to start_listening, in order

# The pids of every descendant of PID (the proxies' stdio mocks, the HTTP mock's session mocks).
descendants() {
  local child
  for child in $(pgrep -P "$1" || true); do
    echo "$child"
    descendants "$child"
  done
}
# Stops every process this script started, then checks that none of their descendants (the
# mocks) outlived them: a proxy stops its children on SIGTERM. A leftover is killed (by pid)
# and fails the run.
# shellcheck disable=SC2317  # called by the trap
cleanup() {
  local status=$? name pid left=() kids=()
  for name in "${started[@]}"; do
    [ -n "${pid_of[$name]:-}" ] || continue
    for pid in $(descendants "${pid_of[$name]}"); do
      grep -qs mock-mcp-server "/proc/$pid/cmdline" && kids+=("$pid")
    done
  done
  # One SIGTERM each (stop_process): a second one would tell a proxy to exit at once.
  for name in "${started[@]}"; do stop_process "$name"; done
  for _ in $(seq 1 50); do
    left=()
    for pid in "${kids[@]}"; do
      grep -qs mock-mcp-server "/proc/$pid/cmdline" && left+=("$pid")
    done
    [ ${#left[@]} -eq 0 ] && break
    sleep 0.1
  done
  if [ ${#left[@]} -gt 0 ]; then
    log "${#left[@]} of ${#kids[@]} mocks still running 5 s after their parents stopped: ${left[*]}"
    kill -KILL "${left[@]}" 2>/dev/null || true
    status=1
  elif [ ${#kids[@]} -gt 0 ]; then
    log "all ${#kids[@]} mocks stopped with their parents"
  fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT

# Targets: one line each in $work/targets.tsv, read by the rounds and the summary:
# name, kind (direct, merged, route), backends, latency_ms, cache, url, tool, methods (comma);
# no empty field (read would merge the tabs around it): "-" instead.
: >"$work/targets.tsv"
add_target() { printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$work/targets.tsv"; }

# Writes a proxy config with $2 stdio mocks s01.. of $3 ms; $4: the mcpProxy keys to add.
write_config() {
  local i n="$2" ms="$3"
  {
    printf '{\n  "mcpProxy": { "addr": "127.0.0.1:0"%s },\n  "mcpServers": {\n' "$4"
    for i in $(seq 1 "$n"); do
      printf '    "s%02d": { "command": "%s", "args": ["--latency-ms", "%s", "--list-latency-ms", "%s"] }' \
        "$i" "$mock_bin" "$ms" "$ms"
      [ "$i" -eq "$n" ] && echo || echo ,
    done
    printf '  }\n}\n'
  } >"$1"
}

# Starts a proxy, timing its start-up (it logs "listening" once its backends have started, or
# after fanOutTimeout, 10 s), and checks that it runs one mock per backend.
declare -A startup_s=() proxy_pid_of=() target_proxy=()
start_proxy() {
  local name="$1" n="$2" t0 pid kids
  t0="$(date +%s%N)"
  start_listening "$name" "$proxy_bin" --config "$work/$name.json"
  started+=("$name")
  startup_s[$name]="$(awk -v ns=$(($(date +%s%N) - t0)) 'BEGIN { printf "%.1f", ns / 1e9 }')"
  pid="$(pgrep -P "${pid_of[$name]}" | head -1)"  # start_listening ran it under `timeout`
  proxy_pid_of[$name]="$pid"
  kids="$(pgrep -P "$pid" -f mock-mcp-server | wc -l)"
  if [ "$kids" -ne "$n" ]; then
    log "$name runs $kids mocks, not $n"
    exit 1
  fi
  proxy_url="http://127.0.0.1:$port"
}

for ms in "${latencies[@]}"; do
  start_listening "direct-${ms}ms" "$mock_bin" --http 127.0.0.1:0 --latency-ms "$ms" \
    --list-latency-ms "$ms"
  started+=("direct-${ms}ms")
  direct_url="http://127.0.0.1:$port/mock/mcp"
  add_target "direct-${ms}ms" direct - "$ms" - "http://127.0.0.1:$port/mock/mcp" echo \
    tools/list,tools/call
done
log "starting $((${#latencies[@]} * 2)) proxies per backend count (${backend_counts[*]})"
for n in "${backend_counts[@]}"; do
  for ms in "${latencies[@]}"; do
    methods=tools/list
    [ "$n" -eq "$largest" ] && methods=tools/list,tools/call
    name="m$n-${ms}ms"
    write_config "$work/$name.json" "$n" "$ms" ', "listCacheTTL": "0"'
    start_proxy "$name" "$n"
    add_target "$name" merged "$n" "$ms" uncached "$proxy_url/mcp" s01__echo "$methods"
    target_proxy[$name]="$name"
    if [ "$n" -eq "$largest" ]; then
      add_target "route-${ms}ms" route "$n" "$ms" - "$proxy_url/s01/mcp" echo tools/list,tools/call
      target_proxy[route-${ms}ms]="$name"
    fi
    write_config "$work/$name-cached.json" "$n" "$ms" ''
    start_proxy "$name-cached" "$n"
    add_target "$name-cached" merged "$n" "$ms" cached "$proxy_url/mcp" s01__echo "$methods"
    target_proxy[$name-cached]="$name-cached"
  done
  line=""
  for ms in "${latencies[@]}"; do
    line+=" ${ms} ms: ${startup_s[m$n-${ms}ms]} s uncached, ${startup_s[m$n-${ms}ms-cached]} s cached;"
  done
  log "proxy start-up with $n backends (until it listens):${line%;}"
done

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
direct_tools="$(count_tools "$direct_url")"
while IFS=$'\t' read -r name kind n _ _ url _ _; do
  [ "$kind" = merged ] || continue
  got="$(count_tools "$url")"
  if [ "$got" -ne "$((n * direct_tools))" ]; then
    log "$name lists $got tools, not $n x $direct_tools: a backend is missing"
    exit 1
  fi
done <"$work/targets.tsv"
log "tools/list sizes: direct $direct_tools, merged $direct_tools per backend"

# The rounds: every target and method once per round, in reverse order every other round. A
# failed e2e_bench run is reported, left out of the figures, and fails the script at the end.
mapfile -t target_lines <"$work/targets.tsv"
failed=0
mkdir -p "$work/runs"
for r in $(seq 1 "$rounds"); do
  order=("${target_lines[@]}")
  if [ $((r % 2)) -eq 0 ]; then
    order=()
    for ((i = ${#target_lines[@]} - 1; i >= 0; i--)); do order+=("${target_lines[i]}"); done
  fi
  for entry in "${order[@]}"; do
    IFS=$'\t' read -r name _ _ _ _ url tool methods <<<"$entry"
    # The proxy's CPU time over each run (warm-up included), per request: $out.cpu_ns.
    ppid=""
    [ -z "${target_proxy[$name]:-}" ] || ppid="${proxy_pid_of[${target_proxy[$name]}]}"
    for m in ${methods//,/ }; do
      out="$work/runs/$name.${m//\//-}"
      [ -z "$ppid" ] || before="$(cpu_sample "$ppid")"
      if ! "$bench_bin" --url "$url" --method "$m" --tool "$tool" --calls "$calls" \
          --warmup "$(((calls + 9) / 10))" >>"$out.jsonl" 2>"$out.err"; then
        log "round $r: $m on $name failed: $(head -c 300 "$out.err")"
        failed=$((failed + 1))
      fi
      [ -z "$ppid" ] || cpu_ns_between "$ppid" "$before" "$(cpu_sample "$ppid")" >>"$out.cpu_ns"
    done
  done
  log "round $r of $rounds done (load average $(cut -d' ' -f1-3 /proc/loadavg))"
done
# A member left out of a merged list (it failed or missed the fan-out deadline) would make the
# merged figures those of fewer backends.
if grep -H 'left out of' "$work"/m*.log; then
  log "a backend was left out of a merged list (above): the figures would not be comparable"
  exit 1
fi

# Each proxy's peak RSS over the whole run.
for name in "${!target_proxy[@]}"; do
  status_kb "${proxy_pid_of[${target_proxy[$name]}]}" VmHWM >"$work/runs/$name.hwm_kb"
done

# Median over rounds of each figure, per target and method; p50 ratio to direct at the same
# latency. Prints the console table; writes the CSV ($3) and the Markdown tables ($4) if named.
summarize() {
  /usr/bin/python3 - "$work" "$rounds" "$calls" "$@" <<'PY'
import csv, json, os, statistics, sys, urllib.parse
work, rounds, calls, csv_out, md_out = sys.argv[1:6]
targets = [l.rstrip("\n").split("\t") for l in open(f"{work}/targets.tsv")]
rows = []
for name, kind, n, ms, cache, url, tool, methods in targets:
    n = "" if n == "-" else n
    for m in methods.split(","):
        path = f"{work}/runs/{name}.{m.replace('/', '-')}.jsonl"
        runs = [json.loads(l) for l in open(path)] if os.path.exists(path) else []
        def med(key):
            if not runs or any(key not in r for r in runs):
                return None
            return statistics.median(r[key] for r in runs) / 1000
        errors = sum(r["errors"] for r in runs) if runs and all("errors" in r for r in runs) else None
        # The proxy's CPU µs per request (median over rounds; warm-up calls count too).
        cpu_path = f"{work}/runs/{name}.{m.replace('/', '-')}.cpu_ns"
        cpu = None
        if os.path.exists(cpu_path):
            per_run = int(calls) + (int(calls) + 9) // 10
            cpu = statistics.median(int(l) for l in open(cpu_path) if l.strip()) / per_run / 1000
        hwm_path = f"{work}/runs/{name}.hwm_kb"
        hwm = None
        if os.path.exists(hwm_path) and open(hwm_path).read().strip():
            hwm = int(open(hwm_path).read()) / 1024
        rows.append(dict(target=name, kind=kind, backends=n, latency_ms=ms, cache=cache, method=m,
                         path=urllib.parse.urlsplit(url).path,
                         rounds=len(runs), calls=calls, p50=med("median_us"), p90=med("p90_us"),
                         p99=med("p99_us"), max=med("max_us"), errors=errors, cpu=cpu, hwm=hwm))
direct = {(r["latency_ms"], r["method"]): r["p50"] for r in rows if r["kind"] == "direct"}
for r in rows:
    d = direct.get((r["latency_ms"], r["method"]))
    r["ratio"] = r["p50"] / d if r["p50"] is not None and d else None
def ms(v):
    return "n/a" if v is None else f"{v:.2f}" if v >= 1 else f"{v:.3f}"
def num(v, fmt="{}"):
    return "n/a" if v is None else fmt.format(v)
# Grouped so that each plotted line's points are consecutive: method, kind, latency, cache, backends.
kinds = {"direct": 0, "merged": 1, "route": 2}
rows.sort(key=lambda r: (r["method"], kinds[r["kind"]], int(r["latency_ms"]), r["cache"],
                         int(r["backends"] or 0)))

def by_latency(rs):  # for reading: latency, direct first, backends, uncached before cached
    return sorted(rs, key=lambda r: (int(r["latency_ms"]), kinds[r["kind"]] != 0,
                                     int(r["backends"] or 0), r["kind"], r["cache"] != "uncached"))
show = "{:<22} {:<10} {:>8} {:>8} {:>8} {:>8} {:>6} {:>7} {:>7} {:>7}"
print(show.format("target", "method", "p50_ms", "p90_ms", "p99_ms", "max_ms", "errors", "ratio",
                  "cpu_us", "hwm_mb"))
for r in by_latency([r for r in rows if r["method"] == "tools/list"]) + \
         by_latency([r for r in rows if r["method"] == "tools/call"]):
    print(show.format(r["target"], r["method"], ms(r["p50"]), ms(r["p90"]), ms(r["p99"]),
                      ms(r["max"]), num(r["errors"]), num(r["ratio"], "{:.2f}"),
                      num(r["cpu"], "{:.0f}"), num(r["hwm"], "{:.1f}")))

if csv_out:
    with open(csv_out, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["target", "kind", "backends", "latency_ms", "cache", "method", "path", "rounds",
                    "calls", "p50_ms", "p90_ms", "p99_ms", "max_ms", "errors", "p50_vs_direct",
                    "proxy_cpu_us_per_request", "proxy_peak_rss_mb"])
        for r in rows:
            f3 = lambda v: "" if v is None else f"{v:.3f}"
            w.writerow([r["target"], r["kind"], r["backends"], r["latency_ms"], r["cache"],
                        r["method"], r["path"], r["rounds"], r["calls"], f3(r["p50"]),
                        f3(r["p90"]), f3(r["p99"]), f3(r["max"]),
                        "" if r["errors"] is None else r["errors"], f3(r["ratio"]),
                        f3(r["cpu"]), f3(r["hwm"])])

if md_out:
    label = {"direct": "mock directly", "route": "proxy `/s01/mcp`"}
    cache = {"uncached": "off (`0`)", "cached": "default (60s)", "-": "—"}
    def table(method, f):
        f.write("| Target | Path | Backends | Latency (ms) | List cache | p50 (ms) | p90 (ms) "
                "| p99 (ms) | max (ms) | errors | p50 vs direct | proxy CPU/request (µs) "
                "| proxy peak RSS (MB) |\n")
        f.write("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
        for r in by_latency([r for r in rows if r["method"] == method]):
            path = label.get(r["kind"], "proxy `/mcp`")
            f.write(f"| `{r['target']}` | {path} | {r['backends'] or '—'} | {r['latency_ms']} "
                    f"| {cache[r['cache']]} | {ms(r['p50'])} | {ms(r['p90'])} | {ms(r['p99'])} "
                    f"| {ms(r['max'])} | {num(r['errors'])} | {num(r['ratio'], '{:.2f}×')} "
                    f"| {num(r['cpu'], '{:.0f}')} | {num(r['hwm'], '{:.1f}')} |\n")
    with open(md_out, "w") as f:
        f.write("`tools/list`:\n\n")
        table("tools/list", f)
        f.write("\n`tools/call` of `echo` (`s01__echo` on `/mcp`):\n\n")
        table("tools/call", f)
    # The issue's target, when the matrix has its row: 64 backends of 10 ms.
    t = {r["cache"]: r["p50"] for r in rows if r["kind"] == "merged" and r["backends"] == "64"
         and r["latency_ms"] == "10" and r["method"] == "tools/list"}
    with open(md_out + ".target", "w") as f:
        if t.get("uncached") is not None and t.get("cached") is not None:
            u, c = t["uncached"], t["cached"]
            f.write(f"Target (issue #7): a merged `tools/list` over 64 backends of 10 ms takes "
                    f"p50 ≤ 12 ms uncached and ≤ 1 ms cached. Here: {ms(u)} ms uncached "
                    f"({'met' if u <= 12 else 'missed'}), {ms(c)} ms cached "
                    f"({'met' if c <= 1 else 'missed'}).\n")
PY
}
csv_file=""
if [ -n "$csv" ]; then
  mkdir -p "$(dirname "$csv")"
  csv_file="$csv"
fi
md_file=""
[ "$write_docs" -eq 1 ] && md_file="$work/tables.md"
summarize "$csv_file" "$md_file"
[ -n "$csv_file" ] && log "wrote $csv_file"

if [ "$failed" -gt 0 ]; then
  log "$failed e2e_bench runs failed (above); their figures are left out, nothing drawn or written into docs"
  exit 1
fi

if [ "$plot" -eq 1 ]; then
  mkdir -p "$repo/docs/img"
  gnuplot -e "csv='$csv_file'; out='$repo/docs/img/fanout.png'; latencies='${latencies[*]}'" \
    bench/fanout.gp
  log "drew docs/img/fanout.png"
fi

if [ "$write_docs" -eq 1 ]; then
  section="$work/section.md"
  commit="$(commit_label)"
  startups=""
  for ms in "${latencies[@]}"; do
    startups+=" ${startup_s[m$largest-${ms}ms]} s and ${startup_s[m$largest-${ms}ms-cached]} s at ${ms} ms,"
  done
  {
    echo "Run on $(date -u +%Y-%m-%d) at commit \`$commit\` with"
    echo "\`$command_line\`"
    echo "($(machine_label);"
    echo "load average $(cut -d' ' -f1 /proc/loadavg) at the end, shared with other jobs)."
    echo "Medians over $rounds rounds of each round's p50, p90, p99 and max of $calls sequential"
    echo "requests (errors: summed over rounds; n/a: not reported by this \`e2e_bench\`);"
    echo "backends: ${backend_counts[*]}; every mock answers \`tools/list\` and \`tools/call\` after"
    echo "the latency shown. Each merged list held $direct_tools tools per backend. A proxy with"
    echo "$largest backends started (logged \"listening\") in${startups%,}."
    echo
    cat "$work/tables.md.target"
    [ -s "$work/tables.md.target" ] && echo
    if [ "$plot" -eq 1 ]; then
      echo "![p50 of merged tools/list vs number of backends](img/fanout.png)"
      echo
    fi
    cat "$work/tables.md"
  } >"$section"
  write_marked_section "$doc" fanout-results "$section"
  log "wrote the results into docs/benchmarks.md"
fi
