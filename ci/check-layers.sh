#!/usr/bin/env bash
# Checks the layers of proxy/ (docs/architecture.md): a file includes only its own layer and the
# ones below it, and the sans-io layers (jsonrpc, rpc, protocol, config, auth: the mcp_proxy_sansio
# target) include no Asio, Beast or Process, and none of util/'s I/O helpers. Exit 1 names
# every include that breaks a rule.
# Usage: ci/check-layers.sh [ROOT]   (default ROOT: this checkout)
#        ci/check-layers.sh --self-test   (plants an upward include, then an Asio include in the
#                                          sans-io core, each in a copy: both must fail the check)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ "${1:-}" = "--self-test" ]; then
  copy="$(mktemp -d "${TMPDIR:-/tmp}/check-layers.XXXXXX")"
  trap 'rm -rf "$copy"' EXIT
  cp -r "$here/proxy" "$copy/"
  plant() {  # FILE LINE: the check must fail on the copy with LINE added to FILE, naming it
    cp -r "$here/proxy/." "$copy/proxy/"
    printf '%s\n' "$2" >>"$copy/proxy/$1"
    if out="$("$here/ci/check-layers.sh" "$copy")"; then
      echo "check-layers self-test: $1 with '$2' passed the check"; exit 1
    fi
    grep -q "^check-layers: $1:" <<<"$out" || { echo "check-layers self-test: no error names $1: $out"; exit 1; }
  }
  plant protocol/sse.cpp '#include "core/endpoint.hpp"'
  plant transport/sse_link.cpp '#include "frontend/session_dispatch.hpp"'
  plant jsonrpc/message.cpp '#include <boost/asio/io_context.hpp>'
  echo "check-layers self-test: ok (three planted includes each failed the check)"
  exit 0
fi
root="${1:-$here}"
cd "$root/proxy"

# Lowest first. A directory may include its own rank and lower ranks.
declare -A rank=(
  [util]=0 [boost_impl]=0
  [jsonrpc]=1 [rpc]=2 [protocol]=3 [config]=4 [auth]=4
  [transport]=5 [backend]=6 [core]=7 [frontend]=8 [http]=9 [app]=10
)
sansio_max=4  # config and auth share rank 4
# What the sans-io layers may not see.
io_pattern='^#include[[:space:]]*[<"](boost/(asio|beast|process)|util/(async_queue|spawn|process_v2))'

# One awk pass over every file (a shell loop with a sed per include took seconds per run).
ranks=""
for dir in "${!rank[@]}"; do ranks+="$dir=${rank[$dir]} "; done
status=0
awk -v ranks="$ranks" -v sansio_max="$sansio_max" -v io_pattern="$io_pattern" '
  BEGIN { n = split(ranks, pairs, " "); for (i = 1; i <= n; i++) { split(pairs[i], kv, "="); r[kv[1]] = kv[2] } }
  function fail(text) { print "check-layers: " text; bad = 1 }
  FNR == 1 {
    dir = FILENAME; sub(/\/.*/, "", dir)
    mine = (dir in r) ? r[dir] : ""
    if (mine == "") fail(FILENAME ": directory " dir " has no layer (add it to ci/check-layers.sh and docs/architecture.md)")
  }
  mine == "" { next }
  /^#include[[:space:]]*"[a-z_]*\// {
    target = $0; sub(/^#include[[:space:]]*"/, "", target); sub(/\/.*/, "", target)
    if (!(target in r)) fail(FILENAME ":" FNR " includes " target "/, which has no layer")
    else if (r[target] + 0 > mine + 0)
      fail(FILENAME ":" FNR ": " dir " (layer " mine ") includes " target " (layer " r[target] "), a layer above it")
  }
  mine + 0 >= 1 && mine + 0 <= sansio_max + 0 && $0 ~ io_pattern {
    fail(FILENAME ":" FNR ": the sans-io core includes " $0)
  }
  END { exit bad }
' */*.hpp */*.cpp || status=1

if [ "$status" -eq 0 ]; then
  echo "check-layers: ok ($(ls */*.hpp */*.cpp | wc -l) files)"
fi
exit "$status"
