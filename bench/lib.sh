# Shared by bench/run_*.sh (sourced after `cd` to the repository root): the binaries of $PRESET
# (default release; MCP_PROXY_BIN, MOCK_SERVER_BIN, E2E_BENCH_BIN override them), the results
# document, a log function named after the script, and a check that the binaries exist.
# shellcheck shell=bash
repo="$PWD"
preset="${PRESET:-release}"
proxy_bin="${MCP_PROXY_BIN:-$repo/build/$preset/proxy/mcp-proxy}"
mock_bin="${MOCK_SERVER_BIN:-$repo/build/$preset/mock-servers/mock-mcp-server}"
bench_bin="${E2E_BENCH_BIN:-$repo/build/$preset/bench/e2e_bench}"
# shellcheck disable=SC2034  # used by the scripts that source this
doc="$repo/docs/benchmarks.md"
bench_name="$(basename "${BASH_SOURCE[1]}" .sh)"
log() { printf '%s: %s\n' "$bench_name" "$*"; }
require_binaries() {
  local b
  for b in "$proxy_bin" "$mock_bin" "$bench_bin"; do
    [ -x "$b" ] || { log "no executable at $b (build: ci/build.sh $preset)"; exit 1; }
  done
}
# Installs Debian's gnuplot-nox when gnuplot is missing (for the scripts' --plot).
require_gnuplot() {
  command -v gnuplot >/dev/null 2>&1 && return 0
  log "installing gnuplot-nox (for --plot)"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends gnuplot-nox
}
# A scratch folder in $work (the caller's cleanup removes it), and the helpers every run uses:
# start_listening/stop_process (ci/lib/processes.sh), write_marked_section (ci/lib/docs.sh).
bench_workdir() {
  work="$(mktemp -d "${TMPDIR:-/tmp}/mcp-$bench_name.XXXXXX")"
  # shellcheck source=ci/lib/processes.sh
  source "$repo/ci/lib/processes.sh"
  # shellcheck source=ci/lib/docs.sh
  source "$repo/ci/lib/docs.sh"
}

# --- what a process costs, from /proc ----------------------------------------------------------
# Field N of /proc/PID/stat (N >= 3: the ones after the command name, which may hold spaces).
stat_field() {
  local stat fields
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  read -r -a fields <<<"${stat##*) }"
  echo "${fields[$(($2 - 3))]}"
}
# status_kb PID FIELD: a /proc/PID/status figure in kB (VmRSS, VmHWM); empty when PID is gone.
status_kb() { sed -n "s/^$2:[[:space:]]*\([0-9]*\) kB/\1/p" "/proc/$1/status" 2>/dev/null || true; }
# CPU time of PID so far: "NS TIDS TICKS", NS the sum of its threads' run times (schedstat), TIDS
# those threads, TICKS utime+stime of the whole process (exited threads included) in clock ticks.
cpu_sample() {
  local pid="$1" f ns sum=0 tids=""
  for f in /proc/"$pid"/task/*/schedstat; do
    { read -r ns _ <"$f"; } 2>/dev/null || continue
    sum=$((sum + ns)); f="${f%/schedstat}"; tids+="${f##*/},"
  done
  echo "$sum ${tids:-none} $(($(stat_field "$pid" 14) + $(stat_field "$pid" 15)))"
}
# CPU nanoseconds PID spent between two samples: from schedstat when every thread of the first
# sample is still there, else from the ticks.
cpu_ns_between() {
  local pid="$1" ns0 tids0 ticks0 ns1 ticks1 tid
  read -r ns0 tids0 ticks0 <<<"$2"
  read -r ns1 _ ticks1 <<<"$3"
  for tid in ${tids0//,/ }; do
    [ -d "/proc/$pid/task/$tid" ] || { echo $(((ticks1 - ticks0) * 1000000000 / $(getconf CLK_TCK))); return; }
  done
  echo $((ns1 - ns0))
}

# --- what a results section names ----------------------------------------------------------------
# The commit measured, "(with uncommitted changes)" when files outside docs/ differ from it (the
# sections the scripts write there do not count).
commit_label() {
  local c
  c="$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  [ -z "$(git -C "$repo" status --porcelain -- . ':!docs' 2>/dev/null)" ] || c+=" (with uncommitted changes)"
  echo "$c"
}
# "`release` build, 2 cores: CPU model".
machine_label() {
  echo "\`$preset\` build, $(nproc) cores: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
}
