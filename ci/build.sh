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
# The targets use a precompiled header (-include cmake_pch.hxx): without these, ccache counts
# every such compile as uncacheable (74% of them here), and a fresh clone rebuilds everything.
# The .gch itself is still hashed, so a changed header is a miss.
export CCACHE_SLOPPINESS="${CCACHE_SLOPPINESS:-pch_defines,time_macros,include_file_mtime,include_file_ctime}"
[ -f "build/$preset/build.ninja" ] || cmake --preset "$preset" >/dev/null
cmake --build "build/$preset" -j "${JOBS:-2}" ${1:+--target "$@"}
