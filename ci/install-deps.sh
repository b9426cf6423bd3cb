#!/usr/bin/env bash
# Installs everything the build and the tests need on Debian 12: Debian packages (apt-get) and the
# npm peers the interop tests use (into a cache folder outside the repo). Idempotent and quick
# when everything is present. Usage: ci/install-deps.sh [--no-npm]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

with_npm=1
[ "${1:-}" = "--no-npm" ] && with_npm=0

packages=(g++ cmake ninja-build clang-14 libclang-rt-14-dev libboost1.81-dev libboost-json1.81-dev
  libboost-url1.81-dev libgtest-dev libgmock-dev libbenchmark-dev libssl-dev libcli11-dev
  libspdlog-dev python3-pytest python3-pytest-xdist python3-httpx ccache curl openssl ca-certificates
  python3-jwt python3-cryptography  # tokens and keys for the OAuth tests (conformance/test_oauth.py)
  python3-prometheus-client  # parses /metrics in conformance/test_metrics.py
  chromium  # headless, for the browser CORS test (conformance/test_cors_browser.py)
  dpkg-dev file  # CPack's .deb (dpkg-shlibdeps), installed and removed by ci/check-package.sh
  python3-yaml)  # ci/check-deploy.py parses deploy/kubernetes
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [ "$with_npm" -eq 1 ]; then
  npm_dir="${MCP_PROXY_NPM_DIR:-$HOME/.cache/mcp-proxy/npm}"
  mkdir -p "$npm_dir"
  if ! cmp -s ci/npm/package.json "$npm_dir/package.json" || [ ! -d "$npm_dir/node_modules" ]; then
    echo "install-deps: installing npm peers into $npm_dir"
    cp ci/npm/package.json "$npm_dir/package.json"
    [ -f ci/npm/package-lock.json ] && cp ci/npm/package-lock.json "$npm_dir/package-lock.json"
    (cd "$npm_dir" && npm install --no-audit --no-fund --loglevel=error)
  fi
fi
echo "install-deps: ok"
