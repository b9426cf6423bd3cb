#!/usr/bin/env bash
# Soak of the proxy (issue #15): for DURATION seconds (default 600), short sessions opened and
# closed in waves (10000 per 600 s), continuous calls from long-lived clients, a backend killed
# with SIGKILL every 30 s, and the proxy's RSS sampled every second; then the verdict: RSS flat
# within 10% after warm-up, no zombie child, no backend left once the sessions are closed, no
# orphan once the proxy is stopped, no failed call except on the killed backend. bench/soak.py
# does the work (its docstring says how); this script finds the binaries.
#
# Usage: bench/soak.sh [--seconds N] [--sessions N] [--kill-every S] [--json FILE] [--keep] ...
#   --seconds N   duration (default 600; 60 is the CI smoke, with 1000 sessions and a kill
#                 every 10 s)
#   --help        every option (bench/soak.py --help)
# Exit status 1 when a criterion fails. Environment: PRESET (default release), MCP_PROXY_BIN,
# MOCK_SERVER_BIN (bench/lib.sh).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=bench/lib.sh
source bench/lib.sh

for b in "$proxy_bin" "$mock_bin"; do
  [ -x "$b" ] || { log "no executable at $b (build: ci/build.sh $preset)"; exit 1; }
done
python=/usr/bin/python3  # Debian's, with python3-httpx (ci/install-deps.sh); not a pyenv shim
"$python" -c 'import httpx' 2>/dev/null || { log "$python has no httpx (apt-get install python3-httpx)"; exit 1; }
# An ASan build (CI's smoke) holds freed memory in its quarantine and shadow memory and runs the
# waves several times slower, so its RSS says little about the proxy's own: the figures are
# printed, not judged. Everything else is judged, and LeakSanitizer checks the proxy's exit.
extra=()
if grep -qa __asan_init "$proxy_bin"; then
  extra+=(--rss-report-only)
  log "ASan build: RSS reported, not judged (the release build's figure is in docs/benchmarks.md)"
fi
exec "$python" bench/soak.py --proxy "$proxy_bin" --mock "$mock_bin" "${extra[@]}" "$@"
