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

# --- the npm peers (ci/npm/package.json, installed by ci/install-deps.sh) -----------------------
# They run on the `node` on PATH (NODE overrides it) from MCP_PROXY_NPM_DIR.
node_bin="${NODE:-node}"
npm_dir="${MCP_PROXY_NPM_DIR:-$HOME/.cache/mcp-proxy/npm}"
# The "version" of a package.json.
package_version() { sed -n 's/^  "version": "\(.*\)",*$/\1/p' "$1" | head -1; }
# peer_installed PACKAGE ENTRY: whether node and the package's ENTRY (a path inside it) are
# there; prints the installed version, and warns when it is not the one ci/npm/package.json pins.
peer_installed() {
  local pkg="$npm_dir/node_modules/$1/package.json" version pinned
  [ -f "$npm_dir/node_modules/$1/$2" ] && [ -f "$pkg" ] && command -v "$node_bin" >/dev/null 2>&1 ||
    return 1
  version="$(package_version "$pkg")"
  pinned="$(sed -n "s/^ *\"$1\": \"\(.*\)\",*\$/\1/p" "$repo/ci/npm/package.json")"
  [ "$version" = "$pinned" ] || log "warning: $1 $version installed, ci/npm/package.json pins $pinned" >&2
  echo "$version"
}
# A TCP port free on 127.0.0.1 now, for a peer that cannot take port 0 (mcp-hub).
free_port() {
  /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The node peers run in a session (and process group) of their own: they spawn the mock as their
# child, and the whole group is signalled at the end. launcher_of: the pid `wait` reaps;
# group_of: the group's id, read from the node process (never this script's own group);
# node_of: the node process. The caller's cleanup calls stop_group for each.
declare -A launcher_of=() group_of=() node_of=()
# stop_group NAME [--node-first]: SIGTERM to the group, SIGKILL to what is left after 10 s.
# --node-first: SIGTERM to the node process alone first, and 10 s for it and its children to
# exit (the peer's own shutdown); sets group_lingered=1 when the group had to be signalled.
stop_group() {
  local pgid="${group_of[$1]:-}" launcher="${launcher_of[$1]:-}" node="${node_of[$1]:-}"
  group_lingered=0
  if [ "${2:-}" = --node-first ] && [ -n "$node" ] && [ -n "$pgid" ]; then
    kill -TERM "$node" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 -- "-$pgid" 2>/dev/null || break; sleep 0.1; done
    # shellcheck disable=SC2034  # read by the callers
    kill -0 -- "-$pgid" 2>/dev/null && group_lingered=1
  fi
  if [ -n "$pgid" ] && kill -0 -- "-$pgid" 2>/dev/null; then
    kill -TERM -- "-$pgid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 -- "-$pgid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$pgid" 2>/dev/null || true
  elif [ -n "$launcher" ]; then
    kill -TERM "$launcher" 2>/dev/null || true
  fi
  [ -z "$launcher" ] || wait "$launcher" 2>/dev/null || true
  group_of[$1]=""; launcher_of[$1]=""; node_of[$1]=""
}
# The first process named COMM among PID and its descendants (PID runs `timeout`, `setsid`...).
descendant_named() {
  local p="$1" want="$2"
  for _ in 1 2 3 4; do
    [ "$(cat "/proc/$p/comm" 2>/dev/null)" = "$want" ] && { echo "$p"; return 0; }
    p="$(pgrep -P "$p" | head -1)" || return 1
  done
  return 1
}
# The TCP port PID listens on (from its socket inodes in /proc/net/tcp*); fails unless it is
# bound to 127.0.0.1 or ::1 only.
listening_port() {
  local pid="$1" fd link inode local_addr state rest inodes=" "
  for fd in /proc/"$pid"/fd/*; do
    link="$(readlink "$fd" 2>/dev/null)" || continue
    [[ "$link" == socket:* ]] && { link="${link#socket:[}"; inodes+="${link%]} "; }
  done
  # shellcheck disable=SC2034  # the fields are named for reading
  while read -r _ local_addr _ state _ _ _ _ _ inode rest; do
    if [ "$state" != 0A ] || [[ "$inodes" != *" $inode "* ]]; then continue; fi
    case "${local_addr%:*}" in
      0100007F|00000000000000000000000001000000) echo "$((16#${local_addr##*:}))"; return 0 ;;
      *) log "pid $pid listens on ${local_addr%:*} (not loopback only): stopping"; return 2 ;;
    esac
  done < <(cat /proc/net/tcp /proc/net/tcp6 2>/dev/null)
  return 1
}
# start_peer NAME COMMAND...: starts a node peer in a new session (setsid), bounded to an hour
# like start_listening, and sets `port` (the port it listens on, waiting at most 30 s), node_pid,
# node_of[NAME] and group_of[NAME]. Its stdout goes to $work/NAME.out, stderr to $work/NAME.log.
start_peer() {
  local name="$1" rc own_group; shift
  own_group="$(stat_field $$ 5)"
  setsid -w timeout -k 10 3600 "$@" >"$work/$name.out" 2>"$work/$name.log" </dev/null &
  launcher_of[$name]=$!
  port=""; node_pid=""
  for _ in $(seq 1 300); do
    node_pid="$(descendant_named "${launcher_of[$name]}" node)" || node_pid=""
    if [ -n "$node_pid" ]; then
      node_of[$name]="$node_pid"
      if [ -z "${group_of[$name]:-}" ]; then
        group_of[$name]="$(stat_field "$node_pid" 5)" || group_of[$name]=""
        if [ "${group_of[$name]}" = "$own_group" ]; then
          group_of[$name]=""; log "$name is in this script's process group (setsid failed?)"; exit 1
        fi
      fi
      rc=0; port="$(listening_port "$node_pid")" || rc=$?
      [ "$rc" -eq 2 ] && exit 1
      [ -n "$port" ] && return 0
    fi
    kill -0 "${launcher_of[$name]}" 2>/dev/null || break
    sleep 0.1
  done
  log "$name did not start listening within 30 s; its output:"
  cat "$work/$name.out" "$work/$name.log" >&2
  exit 1
}
