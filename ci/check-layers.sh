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

status=0
fail() { printf 'check-layers: %s\n' "$*"; status=1; }

for file in */*.hpp */*.cpp; do
  dir="${file%%/*}"
  mine="${rank[$dir]:-}"
  if [ -z "$mine" ]; then
    fail "$file: directory $dir has no layer (add it to ci/check-layers.sh and docs/architecture.md)"
    continue
  fi
  while IFS= read -r line; do
    no="${line%%:*}"
    text="${line#*:}"
    target="$(sed -n 's/^#include[[:space:]]*"\([a-z_]*\)\/.*/\1/p' <<<"$text")"
    [ -n "$target" ] || continue
    theirs="${rank[$target]:-}"
    if [ -z "$theirs" ]; then
      fail "$file:$no includes $target/, which has no layer"
    elif [ "$theirs" -gt "$mine" ]; then
      fail "$file:$no: $dir (layer $mine) includes $target (layer $theirs), a layer above it"
    fi
  done < <(grep -n '^#include[[:space:]]*"' "$file" || true)
  if [ "$mine" -ge 1 ] && [ "$mine" -le "$sansio_max" ]; then
    while IFS= read -r line; do
      fail "$file:${line%%:*}: the sans-io core includes ${line#*:}"
    done < <(grep -nE "$io_pattern" "$file" || true)
  fi
done

if [ "$status" -eq 0 ]; then
  echo "check-layers: ok ($(ls */*.hpp */*.cpp | wc -l) files)"
fi
exit "$status"
