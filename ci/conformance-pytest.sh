#!/usr/bin/env bash
# Runs the pytest conformance suite (conformance/) as an outside user would, pointed at a server
# by option, against nine targets: the mock server (`--fixture conformance --page-size 2`) over
# stdio (--cmd), over Streamable HTTP (--url) and over legacy HTTP+SSE (--sse-url), mcp-proxy
# serving that fixture from a stdio backend (shared session mode) over Streamable HTTP (--url)
# and legacy SSE (--sse-url), and the proxy's merged endpoint /mcp over that fixture (empty
# prefix), a second paged mock and the modern one below (`proxy-merged`: lists are walked across
# all three); for protocol revision 2026-07-28, the mock's `--era modern` over stdio
# (`modern-stdio`) and Streamable HTTP (`modern-http`), and the proxy's route to it as a stdio
# backend (`proxy-modern`). The era of each target is detected (--era auto): the 2026-07-28 tests
# run on the modern mock and on the proxy's /fixture/mcp and /modern/mcp (a dual-era server: a
# 2026-07-28 client in front of either mock), and are not applicable to the legacy mock; the
# 2025-11-25 ones are not applicable to the modern mock. Each run writes its per-rule report
# (--report) into a work folder.
# Fails if a run fails or collects no test (pytest exit 5), if a run passes no test at all, if a
# sanitizer report appears, or if a mock or the proxy does not exit 0 on SIGTERM.
#
# Usage: ci/conformance-pytest.sh [--write-docs] [--keep] [--target T]... [--jobs N]
#   --write-docs  rewrite the results table in docs/conformance.md (needs every target)
#   --keep        keep the work folder (reports, pytest output, logs, config)
#   --target T    run only target T: mock-stdio, mock-http, mock-sse, proxy-http, proxy-sse,
#                 proxy-merged, modern-stdio, modern-http, proxy-modern (repeatable)
#   --jobs N      pytest runs at a time (default: all targets at once; the runs mostly wait)
# Environment: PRESET (default release), MCP_PROXY_BIN, MOCK_SERVER_BIN, PYTEST_TIMEOUT (seconds
# per run, default 300).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo="$PWD"
started=$(date +%s)

preset="${PRESET:-release}"
proxy_bin="${MCP_PROXY_BIN:-$repo/build/$preset/proxy/mcp-proxy}"
mock_bin="${MOCK_SERVER_BIN:-$repo/build/$preset/mock-servers/mock-mcp-server}"
doc="$repo/docs/conformance.md"
pytest_timeout="${PYTEST_TIMEOUT:-300}"
python=/usr/bin/python3  # Debian's, with python3-pytest and python3-httpx
fixture_args=(--fixture conformance --page-size 2)
modern_args=(--era modern "${fixture_args[@]}")
echo_tool='echo:{"text":"conformance echo"}:conformance echo'  # the mock's echo tool
progress_tool='progress:{"steps":3}'  # the mock's progress tool

write_docs=0
keep=0
jobs=0
all_targets=(mock-stdio mock-http mock-sse proxy-http proxy-sse proxy-merged modern-stdio modern-http
             proxy-modern)
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --write-docs) write_docs=1 ;;
    --keep) keep=1 ;;
    --target)
      if [[ " ${all_targets[*]} " == *" ${2:-} "* ]] && [ -n "${2:-}" ]; then targets+=("$2")
      else echo "conformance-pytest: --target is one of ${all_targets[*]}" >&2; exit 2; fi
      shift ;;
    --jobs)
      [[ "${2:-}" =~ ^[1-9][0-9]*$ ]] || { echo "conformance-pytest: --jobs needs a positive number" >&2; exit 2; }
      jobs="$2"; shift ;;
    -h|--help) sed -n '2,23p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "conformance-pytest: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")
[ "$jobs" -gt 0 ] || jobs=${#targets[@]}
log() { printf 'conformance-pytest: %s\n' "$*"; }
# The build a binary comes from: "asan" for build/asan/..., else its path.
build_of() {
  case "$1" in
    "$repo"/build/*/*|build/*/*) local p="${1#"$repo"/}"; p="${p#build/}"; echo "${p%%/*}" ;;
    *) echo "$1" ;;
  esac
}

for b in "$proxy_bin" "$mock_bin"; do
  [ -x "$b" ] || { log "no executable at $b (build it: ci/build.sh $preset mcp-proxy mock-mcp-server, or set MCP_PROXY_BIN and MOCK_SERVER_BIN)"; exit 1; }
done
"$python" -c 'import pytest, httpx' 2>/dev/null || { log "$python lacks pytest or httpx (apt-get install python3-pytest python3-httpx)"; exit 1; }

work="$(mktemp -d "${TMPDIR:-/tmp}/mcp-conformance-pytest.XXXXXX")"
mkdir -p "$work/sanitizer"
# Sanitizer reports of every process started from here on (the servers, and the mock processes
# each --cmd test spawns) go to files named after their PID: one file is a failure. Release
# builds ignore these variables.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$work/sanitizer/asan"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}log_path=$work/sanitizer/ubsan"

# shellcheck source=ci/lib/processes.sh
source "$repo/ci/lib/processes.sh"
# shellcheck source=ci/lib/docs.sh
source "$repo/ci/lib/docs.sh"
# shellcheck disable=SC2317  # called by the trap
cleanup() {
  for t in "${all_targets[@]}"; do stop_process "run-$t"; done
  stop_process proxy
  stop_process mock
  stop_process mock-modern
  if [ "$keep" -eq 1 ]; then log "work folder kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

# --- the servers (loopback, port 0) ---------------------------------------------------------------
need_mock=0; need_modern=0; need_proxy=0
for t in "${targets[@]}"; do
  case "$t" in mock-http|mock-sse) need_mock=1 ;; modern-http) need_modern=1 ;; proxy-*) need_proxy=1 ;; esac
done
if [ "$need_mock" -eq 1 ]; then
  start_listening mock "$mock_bin" "${fixture_args[@]}" --http 127.0.0.1:0
  mock_url="http://127.0.0.1:$port/mock"
fi
if [ "$need_modern" -eq 1 ]; then
  start_listening mock-modern "$mock_bin" "${modern_args[@]}" --http 127.0.0.1:0
  modern_url="http://127.0.0.1:$port/mock"
fi
if [ "$need_proxy" -eq 1 ]; then
  cat >"$work/config.json" <<EOF
{
  "mcpProxy": { "addr": "127.0.0.1:0" },
  "mcpServers": {
    "fixture": {
      "command": "$mock_bin",
      "args": ["--fixture", "conformance", "--page-size", "2"],
      "sessionMode": "shared",
      "timeout": "60s",
      "prefix": ""
    },
    "paged": { "command": "$mock_bin", "args": ["--tools", "5", "--page-size", "3"] },
    "modern": {
      "command": "$mock_bin",
      "args": ["--era", "modern", "--fixture", "conformance", "--page-size", "2"],
      "sessionMode": "shared",
      "timeout": "60s"
    }
  }
}
EOF
  start_listening proxy "$proxy_bin" --config "$work/config.json" --addr 127.0.0.1:0
  proxy_url="http://127.0.0.1:$port"
fi

# --- one pytest run per target --------------------------------------------------------------------
declare -A option_of=() files_of=() heading=(
  [mock-stdio]="Mock, stdio" [mock-http]="Mock, Streamable HTTP" [mock-sse]="Mock, legacy SSE"
  [proxy-http]="Proxy, Streamable HTTP" [proxy-sse]="Proxy, legacy SSE"
  [proxy-merged]="Proxy, merged /mcp" [modern-stdio]="Mock --era modern, stdio"
  [modern-http]="Mock --era modern, Streamable HTTP" [proxy-modern]="Proxy, modern backend")
legacy_files="conformance/test_protocol.py conformance/test_transports.py"
# test_modern_protocol.py holds the 2026-07-28 rules; on a server of the initialize era only
# they are not applicable (and the 2025-11-25 ones on a 2026-07-28-only server).
protocol_files="$legacy_files conformance/test_modern_protocol.py"
# test_proxy_smoke.py holds the Streamable HTTP rules: with --url it checks that URL (its
# proxy-only tests skip); with --sse-url or --cmd it would only skip.
http_files="$protocol_files conformance/test_proxy_smoke.py"
# proxy-merged reaches the same shared backend session as proxy-http, at the same time: two
# runs' tools/call that need the client's input would be in flight there together, and the
# proxy cannot tell which client a stdio backend's sampling or elicitation request is for. So
# the 2026-07-28 rules run on /fixture/mcp only.
merged_files="$legacy_files conformance/test_proxy_smoke.py"
known=(--known-violations conformance/mock-known-violations.txt)
for t in "${targets[@]}"; do
  case "$t" in
    mock-stdio) option_of[$t]="--cmd"; files_of[$t]="$protocol_files" ;;
    mock-http) option_of[$t]="--url"; files_of[$t]="$http_files" ;;
    mock-sse) option_of[$t]="--sse-url"; files_of[$t]="$protocol_files" ;;
    proxy-http) option_of[$t]="--url"; files_of[$t]="$http_files" ;;
    proxy-sse) option_of[$t]="--sse-url"; files_of[$t]="$protocol_files" ;;
    proxy-merged) option_of[$t]="--url"; files_of[$t]="$merged_files" ;;
    modern-stdio) option_of[$t]="--cmd"; files_of[$t]="$protocol_files" ;;
    modern-http) option_of[$t]="--url"; files_of[$t]="$http_files" ;;
    proxy-modern) option_of[$t]="--url"; files_of[$t]="$http_files" ;;
  esac
done
# The arguments of target $1's run, one per line.
run_args() {
  local t="$1"
  # shellcheck disable=SC2086  # the file lists split on purpose
  printf '%s\n' -m pytest ${files_of[$t]} -q -p no:cacheprovider --report "$work/$t.md"
  case "$t" in
    mock-stdio) printf '%s\n' --cmd "$mock_bin ${fixture_args[*]}" "${known[@]}" ;;
    mock-http) printf '%s\n' --url "$mock_url/mcp" --echo-tool "$echo_tool" --progress-tool "$progress_tool" "${known[@]}" ;;
    mock-sse) printf '%s\n' --sse-url "$mock_url/sse" "${known[@]}" ;;
    proxy-http) printf '%s\n' --url "$proxy_url/fixture/mcp" --echo-tool "$echo_tool" --progress-tool "$progress_tool" --known-violations conformance/proxy-known-violations.txt ;;
    proxy-sse) printf '%s\n' --sse-url "$proxy_url/fixture/sse" ;;
    proxy-merged) printf '%s\n' --url "$proxy_url/mcp" --echo-tool "$echo_tool" --progress-tool "$progress_tool" ;;
    modern-stdio) printf '%s\n' --cmd "$mock_bin ${modern_args[*]}" "${known[@]}" ;;
    modern-http) printf '%s\n' --url "$modern_url/mcp" --echo-tool "$echo_tool" --progress-tool "$progress_tool" "${known[@]}" ;;
    proxy-modern) printf '%s\n' --url "$proxy_url/modern/mcp" --echo-tool "$echo_tool" --progress-tool "$progress_tool" ;;
  esac
}

log "${#targets[@]} target(s), $jobs at a time: ${targets[*]}"
declare -A rc_of=() target_of=()
running=0
finish_one() {  # waits for any run to end and records its exit status
  local done_pid="" rc=0 t
  local pids=()
  for t in "${targets[@]}"; do [ -z "${pid_of[run-$t]:-}" ] || pids+=("${pid_of[run-$t]}"); done
  wait -n -p done_pid "${pids[@]}" || rc=$?
  [ -n "$done_pid" ] || return 0
  t="${target_of[$done_pid]}"
  rc_of[$t]=$rc
  pid_of[run-$t]=""
  running=$((running - 1))
}
for t in "${targets[@]}"; do
  while [ "$running" -ge "$jobs" ]; do finish_one; done
  mapfile -t args < <(run_args "$t")
  # Not --foreground: on a timeout, timeout signals its process group, which holds the
  # servers a --cmd run spawned.
  timeout -k 10 "$pytest_timeout" "$python" "${args[@]}" >"$work/$t.out" 2>&1 &
  pid_of[run-$t]=$!
  target_of[$!]="$t"
  running=$((running + 1))
done
while [ "$running" -gt 0 ]; do finish_one; done

# --- results ---------------------------------------------------------------------------------------
status=0
# count FILE WORD: N from "N WORD" in pytest's last line ("3 failed, 40 passed, 2 skipped in 9s").
count() { tail -n 1 "$1" | grep -oE "[0-9]+ $2\b" | grep -oE '^[0-9]+' || echo 0; }
# rules FILE OUTCOME: rows of the per-rule report with that result.
rules() { if [ -f "$1" ]; then grep -c "^| $2 |" "$1" || true; else echo 0; fi; }
declare -A tp=() tf=() ts=() tna=() tx=() rp=() rf=() rx=() rs=() secs=()
for t in "${targets[@]}"; do
  out="$work/$t.out"; rc="${rc_of[$t]}"
  tp[$t]=$(count "$out" passed)
  tf[$t]=$(( $(count "$out" failed) + $(count "$out" errors) + $(count "$out" error) ))
  tx[$t]=$(( $(count "$out" xfailed) + $(count "$out" xpassed) ))
  # Skips that mean "this rule is for another transport or for mcp-proxy", apart from the rest.
  tna[$t]=$(awk '/^SKIPPED \[[0-9]+\] [^ ]+: not applicable: / { gsub(/[^0-9]/, "", $2); n += $2 }
                 END { print n + 0 }' "$out")
  ts[$t]=$(( $(count "$out" skipped) - tna[$t] ))
  secs[$t]=$(tail -n 1 "$out" | sed -nE 's/.* in ([0-9.]+)s.*/\1/p' | cut -d. -f1)
  rp[$t]=$(rules "$work/$t.md" PASS); rf[$t]=$(rules "$work/$t.md" FAIL)
  rx[$t]=$(rules "$work/$t.md" XFAIL); rs[$t]=$(rules "$work/$t.md" SKIP)
  verdict=ok
  if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    verdict="FAILED: timed out after ${pytest_timeout}s"
  elif [ "$rc" -eq 5 ]; then
    verdict="FAILED: no test collected (pytest exit 5)"
  elif [ "$rc" -ne 0 ]; then
    verdict="FAILED: pytest exit $rc"
  elif [ "${tp[$t]}" -eq 0 ]; then
    verdict="FAILED: no test passed"
  fi
  [ "$verdict" = ok ] || status=1
  printf 'conformance-pytest: %-12s %-9s tests %3s passed, %s failed, %s skipped, %s not applicable%s; rules %s PASS, %s FAIL, %s SKIP%s; %ss: %s\n' \
    "$t" "${option_of[$t]}" "${tp[$t]}" "${tf[$t]}" "${ts[$t]}" "${tna[$t]}" \
    "$([ "${tx[$t]}" -eq 0 ] || echo ", ${tx[$t]} xfail/xpass")" \
    "${rp[$t]}" "${rf[$t]}" "${rs[$t]}" "$([ "${rx[$t]}" -eq 0 ] || echo ", ${rx[$t]} XFAIL")" \
    "${secs[$t]:-?}" "$verdict"
done
for t in "${targets[@]}"; do
  if [ "${rc_of[$t]}" -ne 0 ] || [ "${tp[$t]}" -eq 0 ]; then
    log "--- pytest output of $t (${option_of[$t]}):"
    cat "$work/$t.out"
    [ -z "$(tail -c 1 "$work/$t.out")" ] || echo  # a cut-off run ends without a newline
  fi
done

# A clean shutdown is part of the run: the proxy and the mock must exit 0 on SIGTERM.
for p in proxy mock mock-modern; do
  [ -n "${pid_of[$p]:-}" ] || continue
  stop_process "$p"
  if [ "$exit_status" -ne 0 ]; then
    log "ERROR: $p exited with status $exit_status on SIGTERM (over 128: killed by signal $((exit_status - 128)))"
    status=1
  fi
done
if [ -n "$(ls -A "$work/sanitizer")" ]; then
  log "ERROR: sanitizer report(s):"
  for f in "$work/sanitizer"/*; do log "--- $(basename "$f")"; cat "$f"; done
  status=1
fi
if [ "$status" -ne 0 ]; then
  for p in proxy mock mock-modern; do
    [ -f "$work/$p.log" ] || continue
    log "$p log (last 30 lines):"
    tail -30 "$work/$p.log" | sed 's/^/    /'
  done
fi
elapsed=$(( $(date +%s) - started ))
log "$([ "$status" -eq 0 ] && echo "all ${#targets[@]} target(s) passed" || echo FAILED); ${elapsed}s"

# --- docs -----------------------------------------------------------------------------------------
if [ "$write_docs" -eq 1 ]; then
  if [ ${#targets[@]} -ne ${#all_targets[@]} ]; then
    log "--write-docs needs every target (no --target); docs unchanged"
  elif ! grep -q '^<!-- pytest-results:begin -->$' "$doc" || ! grep -q '^<!-- pytest-results:end -->$' "$doc"; then
    log "$doc has no pytest-results markers; docs unchanged"; status=1
  else
    table="$work/table.md"
    {
      echo "Run on $(date -u +%Y-%m-%d) with \`ci/conformance-pytest.sh --write-docs\` (\`$(build_of "$proxy_bin")\` build, pytest"
      echo "$("$python" -c 'import pytest; print(pytest.__version__)'), $("$python" --version))."
      echo "Rules: those cited by the tests that apply to the target's transport and protocol era (PASS:"
      echo "at least one of its tests passed and none failed; SKIP: none could run, see below). Tests:"
      echo "\"not applicable\" counts the tests of other transports, of the era the target does not speak,"
      echo "and mcp-proxy's own tests, which skip by design."
      echo
      echo "| Target | Option | Rules PASS | Rules FAIL | Rules SKIP | Tests passed | Tests failed | Tests skipped | Not applicable |"
      echo "|---|---|---|---|---|---|---|---|---|"
      for t in "${targets[@]}"; do
        fail_cell="${rf[$t]}"; [ "${rx[$t]}" -eq 0 ] || fail_cell="$fail_cell (+${rx[$t]} known)"
        echo "| ${heading[$t]} | \`${option_of[$t]}\` | ${rp[$t]} | $fail_cell | ${rs[$t]} | ${tp[$t]} | ${tf[$t]} | ${ts[$t]} | ${tna[$t]} |"
      done
      echo
      # Each skipped or failed rule once, with the targets it concerns and the report's note.
      problems="$(for t in "${targets[@]}"; do
                    awk -F' [|] ' -v t="${heading[$t]}" '
                      /^[|] (SKIP|FAIL|XFAIL) [|]/ { sub(/^[|] /, "", $1); sub(/ [|]$/, "", $5);
                                                     print $1 "\t" $3 "\t" $5 "\t" t }' "$work/$t.md"
                  done)"
      if [ -n "$problems" ]; then
        echo "Rules not passed:"
        echo
        cut -f1-3 <<<"$problems" | sort -u | while IFS=$'\t' read -r result rule note; do
          where="$(awk -F'\t' -v r="$result" -v u="$rule" -v n="$note" \
                     '$1 == r && $2 == u && $3 == n { print $4 }' <<<"$problems")"
          if [ "$(wc -l <<<"$where")" -eq ${#targets[@]} ]; then where="every target"
          else where="$(paste -sd';' - <<<"$where" | sed 's/;/; /g')"; fi
          echo "- $result \`$rule\` ($where): $note"
        done
      fi
    } >"$table"
    write_marked_section "$doc" pytest-results "$table"
    log "wrote the results table into ${doc#"$repo"/}"
  fi
fi
exit "$status"
