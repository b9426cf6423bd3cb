#!/usr/bin/env bash
# Fan-out of the merged endpoint over a matrix, measured side by side in one run: `tools/list`
# round trips (bench/e2e_bench) through the proxy's merged endpoint /mcp over each number of
# stdio mocks in --backends and each backend latency in --latencies, with the list cache off
# (`mB-Lms`, "listCacheTTL": "0": every tools/list asks all B backends) and on (`mB-Lms-cached`,
# the default TTL), against the mock served on its own over Streamable HTTP with the same
# latency (`direct-Lms`). Every mock answers tools/list and tools/call after L ms
# (--list-latency-ms, --latency-ms): a merged tools/list that asks B backends in parallel takes
# about one backend latency plus the merging, where asking them in turn would take B. A routed
# tools/call (`s01__echo` on /mcp, to one backend) is timed on the cached proxies at every B and
# on the uncached one at the largest B, where `route-Lms` is the per-server route /s01/mcp.
#
# The fan-out peer, npm `mcp-hub` (ci/npm/package.json), aggregates the same mocks (`hub-mB-Lms`,
# one hub per cell, its own process group): it serves the legacy HTTP+SSE transport only (GET
# /mcp, POST /messages), names tools `s01__echo` as we do, and answers tools/list from the lists
# it read when each server connected (no uncached mode: those cells say so). So that transport
# is not what differs, our cached proxies are also timed over their legacy SSE endpoint /sse
# (`sse-mB-Lms-cached`); e2e_bench --transport sse times both. A cell mcp-hub cannot do (it fails
# to start a server, lists fewer tools, or its calls fail) says so in words, and the run goes on
# (in --smoke it fails the run). It gets a free port (it refuses port 0), HOME and XDG folders in
# the scratch folder, a seeded marketplace cache (it would fetch its catalog from the network at
# start), and bench/loopback.cjs (it listens on every interface otherwise).
#
# Rounds alternate between all targets (the machine is noisy; every other round runs them in
# reverse order); the tables report, per target and method, the median over rounds of each
# round's p50, p90, p99 and max (max and errors only when e2e_bench reports them, else n/a;
# errors are summed over rounds), and the p50's ratio to `direct` at the same latency, and the
# CPU per request of the proxy process (ours, or mcp-hub's node; not the mocks). Every proxy runs
# from the start (per latency, 1 + 4 + 16 + 64 backends for ours cached and uncached and for
# mcp-hub: 510 mocks in all); the script checks that each merged list holds every backend's
# tools, that no backend was left out of a merged answer, and that no mock or node process is
# left running at the end.
#
# With BASELINE_PROXY_BIN set (bench/compare.sh), every cell of ours is also run by that binary
# (`base-mB-Lms[-cached]`, interleaved in the same rounds); --no-peers leaves mcp-hub out.
#
# Usage: bench/run_fanout.sh [--rounds N] [--calls N] [--backends "1 4 16 64"]
#                            [--latencies "0 10"] [--csv FILE] [--plot] [--write-docs] [--smoke]
#                            [--no-peers]
#   --calls N       timed requests per target, method and round (default 200)
#   --backends L    numbers of stdio backends behind the merged endpoint (default "1 4 16 64")
#   --latencies L   backend latencies in ms for tools/list and tools/call (default "0 10")
#   --csv FILE      where the results go, one row per target and method
#                   (default build/bench-results/fanout.csv)
#   --plot          draw p50 of tools/list and tools/call vs backends, ours and mcp-hub's, into
#                   docs/img/fanout.png (bench/fanout.gp; installs gnuplot-nox with apt-get when
#                   gnuplot is missing)
#   --write-docs    rewrite the fan-out results section of docs/benchmarks.md
#   --no-peers      leave mcp-hub out (a regression check against BASELINE_PROXY_BIN)
#   --smoke         seconds long, nothing written (CI: the benchmark must run, its figures do
#                   not gate anything): --rounds 1 --calls 5 --backends "1 4" --latencies 0
#                   unless given, no CSV, plot or docs; mcp-hub must be installed
# Environment: PRESET (default release), MCP_PROXY_BIN, MOCK_SERVER_BIN, E2E_BENCH_BIN,
# BASELINE_PROXY_BIN, NODE, MCP_PROXY_NPM_DIR.
set -euo pipefail
command_line="bench/run_fanout.sh"
for a in "$@"; do [[ "$a" == *" "* ]] && command_line+=" \"$a\"" || command_line+=" $a"; done
caller_dir="$PWD"
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=bench/lib.sh
source bench/lib.sh

rounds=""; calls=""; backend_counts=""; latencies=""; csv=""
write_docs=0; smoke=0; plot=0; peers=1
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
    --no-peers) peers=0 ;;
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
baseline_bin="${BASELINE_PROXY_BIN:-}"
if [ -n "$baseline_bin" ]; then
  [ -x "$baseline_bin" ] || { log "BASELINE_PROXY_BIN: no executable at $baseline_bin"; exit 1; }
  [ "$write_docs" -eq 0 ] || { log "--write-docs publishes the comparison with mcp-hub: not with BASELINE_PROXY_BIN"; exit 2; }
fi
[ "$peers" -eq 1 ] || [ "$write_docs" -eq 0 ] || { log "--write-docs needs mcp-hub: not with --no-peers"; exit 2; }
hub_version=""
if [ "$peers" -eq 1 ]; then
  hub_js="$npm_dir/node_modules/mcp-hub/dist/cli.js"
  hub_version="$(peer_installed mcp-hub dist/cli.js)" || {
    log "mcp-hub (npm, the fan-out peer) is not installed in $npm_dir, or there is no $node_bin:"
    log "run ci/install-deps.sh (or --no-peers to leave it out)"
    exit 1
  }
fi

# gnuplot before the measurement, not after it.
[ "$plot" -eq 0 ] || require_gnuplot

bench_workdir  # $work, and the process and docs helpers
started=()  # names given to start_listening, in order
hubs=()  # names given to start_peer (the mcp-hub processes), in order

# The pids of every descendant of PID (the proxies' stdio mocks, the HTTP mock's session mocks).
descendants() {
  local child
  for child in $(pgrep -P "$1" || true); do
    echo "$child"
    descendants "$child"
  done
}
# Stops every process this script started, then checks that none of their descendants (the
# mocks) outlived them: a proxy stops its children on SIGTERM, and so does mcp-hub (SIGTERM to
# its node process; then its process group is signalled, and emptied). A leftover mock is killed
# (by pid) and fails the run.
# shellcheck disable=SC2317  # called by the trap
cleanup() {
  local status=$? name pid left=() kids=() hub_kids=0
  for name in "${started[@]}"; do
    [ -n "${pid_of[$name]:-}" ] || continue
    for pid in $(descendants "${pid_of[$name]}"); do
      grep -qs mock-mcp-server "/proc/$pid/cmdline" && kids+=("$pid")
    done
  done
  for name in "${hubs[@]}"; do
    [ -n "${node_of[$name]:-}" ] || continue
    for pid in $(descendants "${node_of[$name]}"); do
      grep -qs mock-mcp-server "/proc/$pid/cmdline" && { kids+=("$pid"); hub_kids=$((hub_kids + 1)); }
    done
  done
  for name in "${hubs[@]}"; do
    [ -n "${group_of[$name]:-}" ] || continue
    kill -CONT -- "-${group_of[$name]}" 2>/dev/null || true  # held while others were timed
    stop_group "$name" --node-first
    [ "$group_lingered" -eq 0 ] ||
      log "$name: mcp-hub and its mocks had not all exited 10 s after its SIGTERM; its group was signalled"
  done
  [ ${#hubs[@]} -eq 0 ] || log "${#hubs[@]} mcp-hub processes stopped (with $hub_kids mocks)"
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
    # shellcheck disable=SC2009  # ps shows what they are
    ps -o pid,ppid,pgid,args -p "$(IFS=,; echo "${left[*]}")" | cut -c1-160 >&2 || true
    kill -KILL "${left[@]}" 2>/dev/null || true
    status=1
  elif [ ${#kids[@]} -gt 0 ]; then
    log "all ${#kids[@]} mocks stopped with their parents"
  fi
  # No node left: every hub's group is empty (stop_group ended with SIGKILL if it had to).
  for name in "${hubs[@]}"; do
    if [ -n "${hub_pgid[$name]:-}" ] && kill -0 -- "-${hub_pgid[$name]}" 2>/dev/null; then
      log "$name: its process group ${hub_pgid[$name]} is still there"; status=1
    fi
  done
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT

# Targets: one line each in $work/targets.tsv, read by the rounds and the summary:
# name, kind (direct, merged, route, hub), side (ours, base, mcp-hub; - for direct), transport
# (streamable-http, sse), backends, latency_ms, cache (uncached, cached, held: mcp-hub's), url,
# tool, methods (comma); no empty field (read would merge the tabs around it): "-" instead.
: >"$work/targets.tsv"
add_target() { printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$work/targets.tsv"; }

# Writes a proxy config with $2 stdio mocks s01.. of $3 ms; $4: the mcpProxy keys to add, or
# "none" for no mcpProxy object (mcp-hub's config).
write_config() {
  local i n="$2" ms="$3"
  {
    if [ "$4" = none ]; then
      printf '{\n  "mcpServers": {\n'
    else
      printf '{\n  "mcpProxy": { "addr": "127.0.0.1:0"%s },\n  "mcpServers": {\n' "$4"
    fi
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
  local name="$1" n="$2" bin="${3:-$proxy_bin}" t0 pid kids
  t0="$(date +%s%N)"
  start_listening "$name" "$bin" --config "$work/$name.json"
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

# mcp-hub: a free port (it refuses port 0), its HOME and XDG folders here (its workspace file,
# logs, caches), and a marketplace cache seeded as fresh so that it does not fetch its catalog
# from the network at start (that catalog serves only its marketplace API).
declare -A hub_pgid=()
hub_home="$work/hub-home"
if [ "$peers" -eq 1 ]; then
  mkdir -p "$hub_home/data/mcp-hub/cache" "$hub_home/state" "$hub_home/config"
  printf '{"registry":{"version":"bench","generatedAt":0,"totalServers":1,"servers":[{"id":"none","name":"none"}]},"lastFetchedAt":%s000,"serverDocumentation":{}}\n' \
    "$(date +%s)" >"$hub_home/data/mcp-hub/cache/registry.json"
fi
# A note on a target: what its cells say instead of figures (mcp-hub could not do them).
note() { echo "$2" >>"$work/runs/$1.note"; log "$1: $2"; }
mkdir -p "$work/runs"
start_hub() {
  local name="$1" n="$2" ms="$3" hub_port t0 line ok kids
  write_config "$work/$name.json" "$n" "$ms" none
  hub_port="$(free_port)"
  t0="$(date +%s%N)"
  start_peer "$name" env HOME="$hub_home" XDG_CONFIG_HOME="$hub_home/config" \
    XDG_DATA_HOME="$hub_home/data" XDG_STATE_HOME="$hub_home/state" \
    NODE_OPTIONS="--require $repo/bench/loopback.cjs" \
    "$node_bin" "$hub_js" --port "$hub_port" --config "$work/$name.json"
  hubs+=("$name")
  hub_pgid[$name]="${group_of[$name]}"
  proxy_pid_of[$name]="$node_pid"
  target_proxy[$name]="$name"
  [ "$port" = "$hub_port" ] || { log "$name listens on $port, not on --port $hub_port"; exit 1; }
  # It logs "K/N servers started successfully" once each server has connected or failed.
  line=""
  for _ in $(seq 1 600); do
    line="$(grep -m1 'servers started' "$work/$name.out" || true)"
    [ -n "$line" ] && break
    kill -0 "$node_pid" 2>/dev/null || break
    sleep 0.1
  done
  startup_s[$name]="$(awk -v ns=$(($(date +%s%N) - t0)) 'BEGIN { printf "%.1f", ns / 1e9 }')"
  ok="$(sed -n 's/.*"successful":\([0-9]*\).*/\1/p' <<<"$line")"
  kids="$(pgrep -P "$node_pid" -f mock-mcp-server | wc -l)"
  if [ -z "$line" ]; then
    note "$name" "did not start its $n servers within 60 s"
  elif [ "$ok" != "$n" ] || [ "$kids" -ne "$n" ]; then
    note "$name" "started ${ok:-?} of $n servers ($kids mocks running)"
  fi
  hub_url="http://127.0.0.1:$port/mcp"
}

for ms in "${latencies[@]}"; do
  start_listening "direct-${ms}ms" "$mock_bin" --http 127.0.0.1:0 --latency-ms "$ms" \
    --list-latency-ms "$ms"
  started+=("direct-${ms}ms")
  direct_url="http://127.0.0.1:$port/mock/mcp"
  add_target "direct-${ms}ms" direct - streamable-http - "$ms" - "$direct_url" echo \
    tools/list,tools/call
done
sides="ours"
[ -z "$baseline_bin" ] || sides+=" base"
log "starting $((${#latencies[@]} * 2)) proxies of $sides$([ "$peers" -eq 0 ] || echo " and ${#latencies[@]} mcp-hub") per backend count (${backend_counts[*]})"
for n in "${backend_counts[@]}"; do
  for ms in "${latencies[@]}"; do
    uncached_methods=tools/list
    [ "$n" -eq "$largest" ] && uncached_methods=tools/list,tools/call
    for side in $sides; do
      name="m$n-${ms}ms"
      bin="$proxy_bin"
      if [ "$side" = base ]; then name="base-$name"; bin="$baseline_bin"; fi
      write_config "$work/$name.json" "$n" "$ms" ', "listCacheTTL": "0"'
      start_proxy "$name" "$n" "$bin"
      add_target "$name" merged "$side" streamable-http "$n" "$ms" uncached "$proxy_url/mcp" \
        s01__echo "$uncached_methods"
      target_proxy[$name]="$name"
      if [ "$n" -eq "$largest" ] && [ "$side" = ours ]; then
        add_target "route-${ms}ms" route ours streamable-http "$n" "$ms" - "$proxy_url/s01/mcp" echo \
          tools/list,tools/call
        target_proxy[route-${ms}ms]="$name"
      fi
      write_config "$work/$name-cached.json" "$n" "$ms" ''
      start_proxy "$name-cached" "$n" "$bin"
      add_target "$name-cached" merged "$side" streamable-http "$n" "$ms" cached "$proxy_url/mcp" \
        s01__echo tools/list,tools/call
      target_proxy[$name-cached]="$name-cached"
      if [ "$side" = ours ] && [ "$peers" -eq 1 ]; then
        add_target "sse-$name-cached" merged ours sse "$n" "$ms" cached "$proxy_url/sse" \
          s01__echo tools/list,tools/call
        target_proxy[sse-$name-cached]="$name-cached"
      fi
    done
    if [ "$peers" -eq 1 ]; then
      start_hub "hub-m$n-${ms}ms" "$n" "$ms"
      add_target "hub-m$n-${ms}ms" hub mcp-hub sse "$n" "$ms" held "$hub_url" s01__echo \
        tools/list,tools/call
    fi
  done
  line=""
  for ms in "${latencies[@]}"; do
    line+=" ${ms} ms: ${startup_s[m$n-${ms}ms]} s uncached, ${startup_s[m$n-${ms}ms-cached]} s cached"
    [ "$peers" -eq 0 ] || line+=", mcp-hub ${startup_s[hub-m$n-${ms}ms]} s"
    line+=";"
  done
  log "start-up with $n backends (ours: until it listens; mcp-hub: until its servers started):${line%;}"
done

# One tools/list per target before timing: the merged ones (ours and mcp-hub's) must list every
# backend's tools, the tool a target's tools/call names among them. count_tools URL TRANSPORT
# TOOL prints the number of tools and "yes" or "no" (TOOL listed); exits 1 with a message when
# the exchange fails. Legacy SSE: GET the URL, POST to the endpoint its first event names, the
# answers come as events on the stream.
count_tools() {
  timeout -k 5 60 /usr/bin/python3 - "$@" <<'PY'
import http.client, json, sys, urllib.parse
url, transport, tool = sys.argv[1:4]
u = urllib.parse.urlsplit(url)
c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
h = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
post_path = u.path
if transport == "sse":
    s = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    s.request("GET", u.path, headers={"Accept": "text/event-stream"})
    stream = s.getresponse()
    if stream.status != 200:
        sys.exit(f"GET {u.path}: HTTP {stream.status}")
    def events():
        kind, data = "message", []
        while True:
            line = stream.readline()
            if not line:
                sys.exit("the event stream ended")
            line = line.decode().rstrip("\r\n")
            if not line:
                if data:
                    yield kind, "\n".join(data)
                kind, data = "message", []
            elif line.startswith("event:"):
                kind = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].removeprefix(" "))
    stream_events = events()
    kind, where = next(stream_events)
    if kind != "endpoint":
        sys.exit(f"the first event is {kind}, not endpoint")
    post_path = urllib.parse.urlsplit(where).path + "?" + urllib.parse.urlsplit(where).query
def post(body):
    c.request("POST", post_path, json.dumps(body), h)
    r = c.getresponse()
    data = r.read().decode()
    if r.status >= 300:
        sys.exit(f"HTTP {r.status}: {data[:200]}")
    if transport == "sse":
        if "id" not in body:
            return r, None
        for kind, data in stream_events:
            m = json.loads(data)
            if kind == "message" and m.get("id") == body["id"]:
                return r, m
    if not data:
        return r, None
    if r.getheader("Content-Type", "").startswith("text/event-stream"):
        data = [l[5:] for l in data.splitlines() if l.startswith("data:")][-1]
    return r, json.loads(data)
r, _ = post({"jsonrpc": "2.0", "id": 0, "method": "initialize",
             "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                        "clientInfo": {"name": "run_fanout", "version": "1"}}})
if transport != "sse":
    h["Mcp-Session-Id"] = r.getheader("Mcp-Session-Id")
    h["MCP-Protocol-Version"] = "2025-11-25"
post({"jsonrpc": "2.0", "method": "notifications/initialized"})
_, answer = post({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
names = [t["name"] for t in answer["result"]["tools"]]
print(len(names), "yes" if tool in names else "no")
if transport != "sse":
    c.request("DELETE", u.path, headers=h)
    c.getresponse().read()
PY
}
read -r direct_tools _ <<<"$(count_tools "$direct_url" streamable-http echo)"
while IFS=$'\t' read -r name kind side transport n _ _ url tool _; do
  [ "$kind" = merged ] || [ "$kind" = hub ] || continue
  [ ! -s "$work/runs/$name.note" ] || continue  # mcp-hub could not start its servers
  got="$(count_tools "$url" "$transport" "$tool" 2>"$work/$name.count.err")" || got=""
  read -r count listed <<<"$got"
  if [ "${count:-0}" -eq "$((n * direct_tools))" ] && [ "$listed" = yes ]; then continue; fi
  if [ -z "$got" ]; then
    problem="tools/list failed: $(tail -1 "$work/$name.count.err" | cut -c1-200)"
  elif [ "$listed" != yes ]; then
    problem="lists $count tools, none named $tool"
  else
    problem="lists $count tools, not $n x $direct_tools: a backend is missing"
  fi
  [ "$side" = mcp-hub ] || { log "$name: $problem"; exit 1; }
  note "$name" "$problem"
done <"$work/targets.tsv"
log "tools/list sizes: direct $direct_tools, merged $direct_tools per backend, each with s01__echo"

# The rounds: every target and method once per round, in reverse order every other round. A
# failed e2e_bench run is reported, left out of the figures, and fails the script at the end;
# one of mcp-hub's is counted in its cell ($out.failed, the first error in $out.first_error)
# instead, and fails only a --smoke run. A target with a note (mcp-hub could not start its
# servers, or list their tools) is not timed.
mapfile -t target_lines <"$work/targets.tsv"
failed=0
# An idle mcp-hub is not idle: node's timers cost each 3-4% of a core, 16 of them about half a
# core of this 2-core machine. Every hub (its node and its mocks: one process group) is held
# stopped (SIGSTOP) while anything else is timed, and continued for its own cells only.
hold_hubs() {
  local name
  for name in "${hubs[@]}"; do kill -"$1" -- "-${hub_pgid[$name]}" 2>/dev/null || true; done
}
hold_hubs STOP
for r in $(seq 1 "$rounds"); do
  order=("${target_lines[@]}")
  if [ $((r % 2)) -eq 0 ]; then
    order=()
    for ((i = ${#target_lines[@]} - 1; i >= 0; i--)); do order+=("${target_lines[i]}"); done
  fi
  for entry in "${order[@]}"; do
    IFS=$'\t' read -r name _ side transport _ _ _ url tool methods <<<"$entry"
    [ ! -s "$work/runs/$name.note" ] || continue
    # The proxy's CPU time over each run (warm-up included), per request: $out.cpu_ns.
    ppid=""
    [ -z "${target_proxy[$name]:-}" ] || ppid="${proxy_pid_of[${target_proxy[$name]}]}"
    [ "$side" != mcp-hub ] || kill -CONT -- "-${hub_pgid[$name]}"
    for m in ${methods//,/ }; do
      out="$work/runs/$name.${m//\//-}"
      [ -z "$ppid" ] || before="$(cpu_sample "$ppid")"
      if ! timeout -k 5 $((120 + calls)) "$bench_bin" --url "$url" --method "$m" --tool "$tool" \
          --calls "$calls" --warmup "$(((calls + 9) / 10))" --transport "$transport" \
          >>"$out.jsonl" 2>"$out.err"; then
        log "round $r: $m on $name failed: $(head -c 300 "$out.err")"
        if [ "$side" = mcp-hub ] && [ "$smoke" -eq 0 ]; then
          echo x >>"$out.failed"
          [ -s "$out.first_error" ] || head -c 200 "$out.err" | tr '\n' ' ' >"$out.first_error"
        else
          failed=$((failed + 1))
        fi
      fi
      [ -z "$ppid" ] || cpu_ns_between "$ppid" "$before" "$(cpu_sample "$ppid")" >>"$out.cpu_ns"
    done
    [ "$side" != mcp-hub ] || kill -STOP -- "-${hub_pgid[$name]}"
  done
  log "round $r of $rounds done (load average $(cut -d' ' -f1-3 /proc/loadavg))"
done
hold_hubs CONT
# A member left out of a merged list (it failed or missed the fan-out deadline) would make the
# merged figures those of fewer backends.
if grep -sH 'left out of' "$work"/m*.log "$work"/base-m*.log; then
  log "a backend was left out of a merged list (above): the figures would not be comparable"
  exit 1
fi

# Each proxy's peak RSS over the whole run.
for name in "${!target_proxy[@]}"; do
  status_kb "${proxy_pid_of[${target_proxy[$name]}]}" VmHWM >"$work/runs/$name.hwm_kb"
done

# Median over rounds of each figure, per target and method; p50 ratio to direct at the same
# latency. Prints the console table; writes the CSV ($1) and the Markdown tables ($2) if named.
summarize() {
  /usr/bin/python3 - "$work" "$rounds" "$calls" "$@" <<'PY'
import csv, json, os, statistics, sys, urllib.parse
work, rounds, calls, csv_out, md_out = sys.argv[1:6]
targets = [l.rstrip("\n").split("\t") for l in open(f"{work}/targets.tsv")]
def read(path):
    return open(path).read().strip() if os.path.exists(path) else ""
rows = []
for name, kind, side, transport, n, ms, cache, url, tool, methods in targets:
    n = "" if n == "-" else n
    target_note = " ".join(read(f"{work}/runs/{name}.note").splitlines())
    for m in methods.split(","):
        base = f"{work}/runs/{name}.{m.replace('/', '-')}"
        runs = [json.loads(l) for l in open(f"{base}.jsonl") if l.strip()] \
            if os.path.exists(f"{base}.jsonl") else []
        def med(key, scale=1000):
            if not runs or any(key not in r for r in runs):
                return None
            return statistics.median(r[key] for r in runs) / scale
        errors = sum(r["errors"] for r in runs) if runs and all("errors" in r for r in runs) else None
        # The proxy's CPU µs per request (median over rounds; warm-up calls count too).
        cpu = None
        if os.path.exists(f"{base}.cpu_ns") and runs:
            per_run = int(calls) + (int(calls) + 9) // 10
            cpu = statistics.median(int(l) for l in open(f"{base}.cpu_ns") if l.strip()) / per_run / 1000
        hwm = read(f"{work}/runs/{name}.hwm_kb")
        hwm = int(hwm) / 1024 if hwm else None
        # What a cell says instead of figures: mcp-hub could not do it.
        note = target_note
        failed_runs = len(read(f"{base}.failed").splitlines())
        if not note and failed_runs:
            note = (f"failed in {failed_runs} of {rounds} rounds: {read(base + '.first_error')}"
                    if not runs else f"failed in {failed_runs} of {rounds} rounds")
        rows.append(dict(target=name, kind=kind, side=side, transport=transport, backends=n,
                         latency_ms=ms, cache=cache, method=m, path=urllib.parse.urlsplit(url).path,
                         rounds=len(runs), calls=calls, p50=med("median_us"), p90=med("p90_us"),
                         p99=med("p99_us"), max=med("max_us"), errors=errors, cpu=cpu, hwm=hwm,
                         cps=med("calls_per_s", 1), note=note))
direct = {(r["latency_ms"], r["method"]): r["p50"] for r in rows if r["kind"] == "direct"}
for r in rows:
    d = direct.get((r["latency_ms"], r["method"]))
    r["ratio"] = r["p50"] / d if r["p50"] is not None and d else None
def ms(v):
    return "n/a" if v is None else f"{v:.2f}" if v >= 1 else f"{v:.3f}"
def num(v, fmt="{}"):
    return "n/a" if v is None else fmt.format(v)
# Grouped so that each plotted line's points are consecutive: method, kind, side, transport,
# latency, cache, backends.
kinds = {"direct": 0, "merged": 1, "route": 2, "hub": 3}
sides = {"-": 0, "ours": 1, "base": 2, "mcp-hub": 3}
rows.sort(key=lambda r: (r["method"], kinds[r["kind"]], sides[r["side"]], r["transport"],
                         int(r["latency_ms"]), r["cache"], int(r["backends"] or 0)))

def by_latency(rs):  # for reading: latency, direct first, backends, ours, base, mcp-hub
    return sorted(rs, key=lambda r: (int(r["latency_ms"]), kinds[r["kind"]] != 0,
                                     int(r["backends"] or 0), sides[r["side"]], r["kind"],
                                     r["transport"] != "streamable-http", r["cache"] != "uncached"))
show = "{:<24} {:<10} {:>8} {:>8} {:>8} {:>8} {:>6} {:>7} {:>7} {:>7}  {}"
print(show.format("target", "method", "p50_ms", "p90_ms", "p99_ms", "max_ms", "errors", "ratio",
                  "cpu_us", "hwm_mb", ""))
for r in by_latency([r for r in rows if r["method"] == "tools/list"]) + \
         by_latency([r for r in rows if r["method"] == "tools/call"]):
    print(show.format(r["target"], r["method"], ms(r["p50"]), ms(r["p90"]), ms(r["p99"]),
                      ms(r["max"]), num(r["errors"]), num(r["ratio"], "{:.2f}"),
                      num(r["cpu"], "{:.0f}"), num(r["hwm"], "{:.1f}"), r["note"]))

if csv_out:
    with open(csv_out, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["target", "kind", "side", "transport", "backends", "latency_ms", "cache",
                    "method", "path", "rounds", "calls", "p50_ms", "p90_ms", "p99_ms", "max_ms",
                    "errors", "p50_vs_direct", "proxy_cpu_us_per_request", "proxy_peak_rss_mb",
                    "calls_per_s", "note"])
        for r in rows:
            f3 = lambda v: "" if v is None else f"{v:.3f}"
            w.writerow([r["target"], r["kind"], r["side"], r["transport"], r["backends"],
                        r["latency_ms"], r["cache"], r["method"], r["path"], r["rounds"],
                        r["calls"], f3(r["p50"]), f3(r["p90"]), f3(r["p99"]), f3(r["max"]),
                        "" if r["errors"] is None else r["errors"], f3(r["ratio"]),
                        f3(r["cpu"]), f3(r["hwm"]), f3(r["cps"]), r["note"]])

if md_out:
    def cell(r):  # p50 (p99) in ms, or what mcp-hub could not do
        if r is None:
            return "—"
        if r["note"] and r["p50"] is None:
            return r["note"]
        text = f"{ms(r['p50'])} ({ms(r['p99'])})"
        return text + (f"; {r['note']}" if r["note"] else "")
    def find(method, **want):
        for r in rows:
            if r["method"] == method and all(r[k] == v for k, v in want.items()):
                return r
        return None
    with open(md_out, "w") as f:
        f.write("Ours and mcp-hub's side by side, p50 (p99) in ms; CPU per request of the proxy "
                "process in µs (ours: the cached proxy over Streamable HTTP; mcp-hub: its node "
                "process). mcp-hub serves legacy HTTP+SSE only, so ours is shown over its `/sse` "
                "too. mcp-hub has no uncached mode: it answers `tools/list` from the lists it read "
                "when each server connected (refreshed on `list_changed`).\n\n")
        cells = sorted({(int(r["latency_ms"]), int(r["backends"])) for r in rows
                        if r["kind"] == "merged" and r["side"] == "ours"})
        ours_mcp = dict(side="ours", kind="merged", transport="streamable-http", cache="cached")
        ours_sse = dict(side="ours", transport="sse")
        hub = dict(side="mcp-hub")
        def side_by_side(method, columns):  # columns: (heading, what to find, or a text)
            f.write("| Latency (ms) | Backends | " + " | ".join(h for h, _ in columns)
                    + " | CPU/request ours (µs) | CPU/request mcp-hub (µs) |\n")
            f.write("|---" * (len(columns) + 4) + "|\n")
            for lat, n in cells:
                k = dict(latency_ms=str(lat), backends=str(n))
                theirs, mine = find(method, **hub, **k), find(method, **ours_mcp, **k)
                texts = [cell(find(method, **what, **k)) if isinstance(what, dict)
                         else (what if theirs else "—") for _, what in columns]
                f.write(f"| {lat} | {n} | " + " | ".join(texts)
                        + f" | {num(mine and mine['cpu'], '{:.0f}')}"
                        + f" | {num(theirs and theirs['cpu'], '{:.0f}')} |\n")
        f.write("Merged `tools/list`:\n\n")
        side_by_side("tools/list", [
            ("ours `/mcp`, list cache off", dict(ours_mcp, cache="uncached")),
            ("ours `/mcp`, cached", ours_mcp), ("ours `/sse`, cached", ours_sse),
            ("mcp-hub `/mcp` (SSE), uncached", "no uncached mode"),
            ("mcp-hub `/mcp` (SSE)", hub)])
        f.write("\nRouted `tools/call` of `s01__echo` (the mock's `echo` on server `s01`; mcp-hub "
                "names it the same way):\n\n")
        side_by_side("tools/call", [("ours `/mcp`", ours_mcp), ("ours `/sse`", ours_sse),
                                    ("mcp-hub `/mcp` (SSE)", hub)])

        label = {"direct": "mock directly", "route": "proxy `/s01/mcp`",
                 "hub": "mcp-hub `/mcp` (legacy SSE)"}
        cache_label = {"uncached": "off (`0`)", "cached": "default (60s)", "-": "—",
                       "held": "none to switch"}
        def table(method):
            f.write("| Target | Path | Backends | Latency (ms) | List cache | p50 (ms) | p90 (ms) "
                    "| p99 (ms) | max (ms) | errors | p50 vs direct | proxy CPU/request (µs) "
                    "| proxy peak RSS (MB) |\n")
            f.write("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
            for r in by_latency([r for r in rows if r["method"] == method]):
                path = label.get(r["kind"]) or (
                    "proxy `/sse` (legacy SSE)" if r["transport"] == "sse" else "proxy `/mcp`")
                if r["note"] and r["p50"] is None:
                    figures = f"{r['note']} | | | | | | |"
                else:
                    figures = (f"{ms(r['p50'])} | {ms(r['p90'])} | {ms(r['p99'])} | {ms(r['max'])} "
                               f"| {num(r['errors'])} | {num(r['ratio'], '{:.2f}×')} "
                               f"| {num(r['cpu'], '{:.0f}')}")
                f.write(f"| `{r['target']}` | {path} | {r['backends'] or '—'} | {r['latency_ms']} "
                        f"| {cache_label[r['cache']]} | {figures} | {num(r['hwm'], '{:.1f}')} |\n")
        f.write("\nEvery target, `tools/list`:\n\n")
        table("tools/list")
        f.write("\nEvery target, `tools/call` of `echo` (`s01__echo` on `/mcp` and `/sse`):\n\n")
        table("tools/call")
    # The issue's target, when the matrix has its row: 64 backends of 10 ms.
    t = {r["cache"]: r["p50"] for r in rows if r["kind"] == "merged" and r["backends"] == "64"
         and r["side"] == "ours" and r["transport"] == "streamable-http"
         and r["latency_ms"] == "10" and r["method"] == "tools/list"}
    with open(md_out + ".target", "w") as f:
        if t.get("uncached") is not None and t.get("cached") is not None:
            u, c = t["uncached"], t["cached"]
            f.write(f"Targets (issue #18): a merged `tools/list` over 64 backends of 10 ms takes "
                    f"p50 ≤ 12 ms uncached and ≤ 0.5 ms cached. Here: {ms(u)} ms uncached "
                    f"({'met' if u <= 12 else 'missed'}), {ms(c)} ms cached "
                    f"({'met' if c <= 0.5 else 'missed'}).\n")
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
if [ "$smoke" -eq 1 ] && compgen -G "$work/runs/*.note" >/dev/null; then
  log "mcp-hub could not do every cell (above): the smoke fails"
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
    startups=""
    for ms in "${latencies[@]}"; do startups+=" ${startup_s[hub-m$largest-${ms}ms]} s at ${ms} ms,"; done
    echo "mcp-hub $hub_version (node $("$node_bin" --version)) started its $largest servers in${startups%,}."
    echo
    cat "$work/tables.md.target"
    [ -s "$work/tables.md.target" ] && echo
    if [ "$plot" -eq 1 ]; then
      echo "![p50 of merged tools/list and routed tools/call vs number of backends, ours and mcp-hub's](img/fanout.png)"
      echo
    fi
    cat "$work/tables.md"
  } >"$section"
  write_marked_section "$doc" fanout-results "$section"
  log "wrote the results into docs/benchmarks.md"
fi
