# Sourced by the ci/ scripts that start servers: start_listening and stop_process, by PID.
# The caller defines `work` (a folder for logs) and `log` (prints one line) before calling them.
# shellcheck shell=bash

declare -gA pid_of=()  # -g: global also when sourced inside a function
exit_status=""

# Stops a process started by start_listening (SIGTERM, then SIGKILL after 10 s); sets
# exit_status to its exit status (0 when it was not running).
stop_process() {
  local pid="${pid_of[$1]:-}"
  exit_status=0
  [ -n "$pid" ] || return 0
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || exit_status=$?
  pid_of[$1]=""
}

# Starts NAME with the command that follows (output in $work/NAME.out and $work/NAME.log) and
# sets `port` to the loopback port it logs "listening on http://127.0.0.1:PORT" for, waiting at
# most 30 s. The process cannot outlive the script by more than an hour, whatever happens to its
# trap; --foreground: stop_process's SIGTERM reaches it once (without it, timeout also signals
# the whole process group: the proxy twice, which means "exit now", and its children directly).
start_listening() {
  local name="$1"; shift
  : >"$work/$name.log"  # exists before the background job opens it: the loop below reads it at once
  timeout --foreground -k 10 3600 "$@" >"$work/$name.out" 2>"$work/$name.log" &
  pid_of[$name]=$!
  port=""
  for _ in $(seq 1 300); do
    port="$(sed -n 's#.*listening on http://127\.0\.0\.1:\([0-9][0-9]*\).*#\1#p' "$work/$name.log" | head -1)"
    [ -n "$port" ] && return 0
    kill -0 "${pid_of[$name]}" 2>/dev/null || break
    sleep 0.1
  done
  log "$name did not start listening within 30 s; its log:"
  cat "$work/$name.log" >&2
  exit 1
}
