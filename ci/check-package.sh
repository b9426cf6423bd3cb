#!/usr/bin/env bash
# Builds the .deb of a build tree with CPack, installs it with dpkg, runs what it installed (its
# --version, and the proxy on the installed default config until /readyz answers 200), then
# purges it and checks that none of its files is left. CI runs it on the ASan tree (ci/test.sh):
# that package tests the packaging, it is not the one to ship (docs/operations.md, "Packages").
# It installs a package system-wide for the length of the test (root, or sudo), and refuses to
# run when mcp-proxy is installed already. Usage: ci/check-package.sh [BUILD_DIR] (build/asan)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
build="${1:-build/asan}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
say() { printf 'check-package: %s\n' "$*"; }
fail() { say "FAILED: $*" >&2; exit 1; }

if dpkg-query -W -f='${db:Status-Status}' mcp-proxy 2>/dev/null | grep -qv '^not-installed$'; then
  fail "mcp-proxy is installed on this machine already (dpkg -s mcp-proxy); not touching it"
fi
[ -x "$build/proxy/mcp-proxy" ] || fail "$build/proxy/mcp-proxy is not built"

rm -f "$build"/mcp-proxy_*.deb
(cd "$build" && cpack -G DEB >cpack.log 2>&1) || { cat "$build/cpack.log" >&2; fail "cpack"; }
rm -rf "$build/_CPack_Packages"  # the staging copy: 570 MB for the ASan tree
deb=$(ls "$build"/mcp-proxy_*.deb)
say "built $deb ($(du -h "$deb" | cut -f1))"

files=$(dpkg-deb -c "$deb" | awk '{print substr($6, 2)}')
for f in /usr/bin/mcp-proxy /usr/libexec/mcp-proxy/mock-mcp-server /etc/mcp-proxy/config.json \
  /usr/lib/systemd/system/mcp-proxy.service /usr/share/man/man1/mcp-proxy.1 \
  /usr/share/doc/mcp-proxy/LICENSE; do
  grep -qx "$f" <<<"$files" || fail "$deb lacks $f"
done
control=$(mktemp -d)
proxy_pid=""
cleanup() {
  [ -n "$proxy_pid" ] && kill "$proxy_pid" 2>/dev/null
  rm -rf "$control"
  # Whatever happened, the machine is left without the package.
  if dpkg-query -W -f='${db:Status-Status}' mcp-proxy 2>/dev/null | grep -qv '^not-installed$'; then
    $sudo dpkg --purge mcp-proxy >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT
dpkg-deb -e "$deb" "$control"
[ "$(cat "$control/conffiles")" = /etc/mcp-proxy/config.json ] || fail "conffiles: $(cat "$control/conffiles")"
depends=$(dpkg-deb -f "$deb" Depends)
for lib in libboost-json1.81.0 libssl3 libspdlog; do
  grep -q "$lib" <<<"$depends" || fail "Depends lacks $lib (dpkg-shlibdeps): $depends"
done

# The directories that exist now are left alone by the purge; the package's own must go.
existing_dirs=$(for f in $files; do [ -d "$f" ] && echo "$f"; done || true)
$sudo dpkg -i "$deb" >/dev/null
say "installed: $(dpkg-query -W -f='${Package} ${Version}' mcp-proxy)"

want="$("$build/proxy/mcp-proxy" --version)"
got="$(mcp-proxy --version)"
[ "$(command -v mcp-proxy)" = /usr/bin/mcp-proxy ] || fail "mcp-proxy on PATH is $(command -v mcp-proxy)"
[ "$got" = "$want" ] || fail "mcp-proxy --version said '$got', not '$want'"
say "mcp-proxy --version: $got"

if command -v systemd-analyze >/dev/null; then
  # verify loads the unit as systemd would (sandbox settings, ExecStart's binary).
  # It runs man(1) for the unit's Documentation= man page where man is installed.
  man_check=--man=yes
  command -v man >/dev/null || man_check=--man=no
  out=$(systemd-analyze verify "$man_check" /usr/lib/systemd/system/mcp-proxy.service 2>&1) ||
    fail "systemd-analyze verify: $out"
  [ -z "$out" ] || fail "systemd-analyze verify warns: $out"
  say "systemd-analyze verify: no warning"
else
  say "systemd-analyze is not installed: the unit was not verified"
fi

# The installed proxy on the installed default config (its backend is the installed mock),
# on a free loopback port, until /readyz says the mock is ready (at most 60 s under ASan).
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
log="$build/check-package-proxy.log"
mcp-proxy --config /etc/mcp-proxy/config.json --addr "127.0.0.1:$port" >"$log" 2>&1 &
proxy_pid=$!
ready=""
for _ in $(seq 1 120); do
  if ready=$(curl -sf --max-time 2 "http://127.0.0.1:$port/readyz"); then break; fi
  kill -0 "$proxy_pid" 2>/dev/null || { cat "$log" >&2; fail "the installed proxy exited"; }
  sleep 0.5
done
[ -n "$ready" ] || { cat "$log" >&2; fail "/readyz never answered 200"; }
grep -q '"mock"' <<<"$ready" || fail "/readyz does not name the mock: $ready"
kill "$proxy_pid"
status=0
wait "$proxy_pid" || status=$?
proxy_pid=""
[ "$status" -eq 0 ] || { cat "$log" >&2; fail "the installed proxy exited with $status on SIGTERM"; }
say "the installed proxy served the installed config: /readyz 200"

$sudo dpkg --purge mcp-proxy >/dev/null
dpkg-query -W -f='${db:Status-Status}' mcp-proxy 2>/dev/null | grep -qv '^not-installed$' &&
  fail "mcp-proxy is still known to dpkg after the purge"
left=""
for f in $files; do
  if [ -d "$f" ]; then
    grep -qx "$f" <<<"$existing_dirs" || left+=" $f"
  elif [ -e "$f" ] || [ -L "$f" ]; then
    left+=" $f"
  fi
done
[ -z "$left" ] || fail "left behind after the purge:$left"
say "purged: nothing left behind"
