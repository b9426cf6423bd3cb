#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz preset, clang) and runs each one for FUZZ_SECONDS seconds on
# a throwaway copy of its seed corpus, so the checked-in corpus never grows; two targets at a time
# (FUZZ_JOBS). Exits non-zero if any target crashes or fails a property; crash inputs are kept in
# build/fuzz/artifacts/<target>/.
#
#   FUZZ_SECONDS=60 ci/fuzz-smoke.sh            # all targets
#   ci/fuzz-smoke.sh jsonrpc_parse              # only the named targets
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

seconds="${FUZZ_SECONDS:-20}"
build_dir="build/fuzz"

cmake --preset fuzz
cmake --build "$build_dir" -j2

# A target is a fuzz/*.cpp that defines the libFuzzer entry point.
targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
  while IFS= read -r src; do
    targets+=("$(basename "$src" .cpp)")
  done < <(grep -l 'LLVMFuzzerTestOneInput' fuzz/*.cpp | sort)
fi
if [[ ${#targets[@]} -eq 0 ]]; then
  echo "fuzz-smoke: no fuzz targets found in fuzz/" >&2
  exit 1
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/fuzz-smoke.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# One target: its own corpus copy, log and status file (targets run two at a time, one a core).
run_target() {
  local target="$1" binary="$build_dir/fuzz/$1" corpus="$work/$1" artifacts="$build_dir/artifacts/$1"
  if [[ ! -x "$binary" ]]; then
    echo "no binary at $binary" >"$work/$target.log"
    echo 1 >"$work/$target.status"
    return
  fi
  mkdir -p "$corpus" "$artifacts"
  if [[ -d "fuzz/corpus/$target" ]]; then
    cp -R "fuzz/corpus/$target/." "$corpus/"
  fi
  local status=0
  # The outer timeout only guards against a hang that libFuzzer's own limits do not catch.
  timeout --kill-after=10 "$((seconds + 120))" \
    "$binary" -max_total_time="$seconds" -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$artifacts/" "$corpus" >"$work/$target.log" 2>&1 || status=$?
  echo "$status" >"$work/$target.status"
}

jobs_at_once="${FUZZ_JOBS:-2}"
for target in "${targets[@]}"; do
  while [[ $(jobs -rp | wc -l) -ge $jobs_at_once ]]; do wait -n || true; done
  echo "fuzz-smoke: $target for ${seconds}s"
  run_target "$target" &
done
wait

failed=()
for target in "${targets[@]}"; do
  status="$(cat "$work/$target.status" 2>/dev/null || echo 1)"
  echo "fuzz-smoke: $target:"
  grep -E '#[0-9]+[[:space:]]+(INITED|DONE)' "$work/$target.log" || true
  if [[ $status -ne 0 ]]; then
    echo "fuzz-smoke: $target FAILED (exit $status); inputs in $build_dir/artifacts/$target/" >&2
    tail -n 60 "$work/$target.log" >&2
    failed+=("$target")
  fi
done

if [[ ${#failed[@]} -ne 0 ]]; then
  echo "fuzz-smoke: failed: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz-smoke: ${#targets[@]} target(s) ran ${seconds}s each without a crash"
