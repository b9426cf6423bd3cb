#!/usr/bin/env bash
# Every end-to-end benchmark in one run, one after the other, each writing its section of
# docs/benchmarks.md (and its plot): the proxy's overhead per call by backend transport
# (run_e2e.sh), overhead against the npm peers at concurrency 1/16/64 and from a Python httpx
# client (run_overhead.sh), the merged endpoint's fan-out over 1-64 backends beside mcp-hub's
# (run_fanout.sh), and idle sessions and large results (run_scale.sh). The sections then all
# come from one commit and one machine. The npm peers (mcp-hub among them) must be installed
# (ci/install-deps.sh), in the smoke too.
#
# The soak (bench/soak.sh, 10 minutes, issue #15) is run on its own; its 60-second version is
# part of the smoke.
#
# Usage: bench/run_all.sh [--smoke]
#   --smoke   each script's seconds-long smoke and a 60 s soak, nothing written (CI)
# Environment: PRESET (default release), and what bench/lib.sh reads.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=bench/lib.sh
source bench/lib.sh

smoke=0
case "${1:-}" in
  --smoke) smoke=1 ;;
  "") ;;
  -h|--help)
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"
    exit 0 ;;
  *) echo "run_all: unknown argument $1 (see --help)" >&2; exit 2 ;;
esac
require_binaries

if [ "$smoke" -eq 1 ]; then
  for b in e2e overhead fanout scale; do bench/run_$b.sh --smoke; done
  bench/soak.sh --seconds 60
  exit 0
fi
if [ -n "$(git status --porcelain --untracked-files=no)" ]; then
  log "uncommitted changes: the figures would not belong to a commit; commit first"
  exit 1
fi
start=$SECONDS
log "commit $(commit_label), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
bench/run_e2e.sh --rounds 5 --calls 2000 --write-docs
bench/run_overhead.sh --rounds 3 --calls 300 --write-docs --plot
bench/run_fanout.sh --rounds 3 --calls 100 --write-docs --plot
bench/run_scale.sh --write-docs
log "all sections written in $((SECONDS - start)) s"
