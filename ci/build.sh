#!/usr/bin/env bash
# Configures and builds one CMake preset (release, asan, debug) with Ninja and ccache.
# Usage: ci/build.sh PRESET [ninja targets...]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
preset="${1:?usage: ci/build.sh PRESET [targets...]}"
shift
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/mcp-proxy/ccache}"
export CCACHE_MAXSIZE="${CCACHE_MAXSIZE:-2G}"
# Paths relative to the checkout, so a fresh clone elsewhere (CI) hits the same cache.
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PWD}"
export CCACHE_NOHASHDIR="${CCACHE_NOHASHDIR:-1}"
[ -f "build/$preset/build.ninja" ] || cmake --preset "$preset" >/dev/null
cmake --build "build/$preset" -j "${JOBS:-2}" ${1:+--target "$@"}
