#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz preset, clang) and runs each one for FUZZ_SECONDS seconds on
# a throwaway copy of its seed corpus, so the checked-in corpus never grows. Exits non-zero if any
# target crashes or fails a property; crash inputs are kept in build/fuzz/artifacts/<target>/.
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

failed=()
for target in "${targets[@]}"; do
  binary="$build_dir/fuzz/$target"
  if [[ ! -x "$binary" ]]; then
    echo "fuzz-smoke: $target: no binary at $binary" >&2
    failed+=("$target")
    continue
  fi
  corpus="$work/$target"
  mkdir -p "$corpus"
  if [[ -d "fuzz/corpus/$target" ]]; then
    cp -R "fuzz/corpus/$target/." "$corpus/"
  fi
  artifacts="$build_dir/artifacts/$target"
  mkdir -p "$artifacts"

  echo "fuzz-smoke: $target for ${seconds}s on $(find "$corpus" -type f | wc -l) seed inputs"
  status=0
  # The outer timeout only guards against a hang that libFuzzer's own limits do not catch.
  timeout --kill-after=10 "$((seconds + 120))" \
    "$binary" -max_total_time="$seconds" -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$artifacts/" "$corpus" >"$work/$target.log" 2>&1 || status=$?
  grep -E '#[0-9]+[[:space:]]+(INITED|DONE)' "$work/$target.log" || true
  if [[ $status -ne 0 ]]; then
    echo "fuzz-smoke: $target FAILED (exit $status); inputs in $artifacts/" >&2
    tail -n 60 "$work/$target.log" >&2
    failed+=("$target")
  fi
done

if [[ ${#failed[@]} -ne 0 ]]; then
  echo "fuzz-smoke: failed: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz-smoke: ${#targets[@]} target(s) ran ${seconds}s each without a crash"
