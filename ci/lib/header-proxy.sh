# Sourced by ci/ scripts that need a client that cannot send headers (the official conformance
# suite has no option for them) to reach a proxy that requires a bearer token: nginx from Debian
# on a free loopback port, adding `Authorization: Bearer TOKEN` to every request it passes on.
# Everything else goes through as it came (Host, Origin, the MCP headers, bodies, event streams).
# Nothing is installed system-wide and no service is started: when no nginx is on the machine,
# Debian's package is downloaded with apt-get and unpacked into the cache folder (its maintainer
# scripts never run). nginx runs as one process (no master, no daemon) with every path inside the
# caller's work folder, started and stopped by PID with start_header_proxy / stop_process.
# The caller sources ci/lib/processes.sh first and defines `work`, `log` and `cache_root`.
# shellcheck shell=bash

# Sets nginx_bin to a usable nginx: $NGINX_BIN, the one on PATH or in /usr/sbin, or Debian's
# package unpacked into $cache_root/nginx (downloaded on first use).
find_nginx() {
  local c
  for c in "${NGINX_BIN:-}" "$(command -v nginx 2>/dev/null || true)" /usr/sbin/nginx \
           "$cache_root/nginx/root/usr/sbin/nginx"; do
    if [ -n "$c" ] && [ -x "$c" ] && "$c" -v >/dev/null 2>&1; then nginx_bin="$c"; return 0; fi
  done
  local dir="$cache_root/nginx"
  log "no nginx on this machine: unpacking Debian's package into $dir (nothing is installed)"
  rm -rf "$dir" && mkdir -p "$dir/deb"
  if ! (cd "$dir/deb" && apt-get download -q -o APT::Sandbox::User=root nginx >/dev/null 2>&1); then
    # A fresh machine may have no package lists yet.
    if [ "$(id -u)" -eq 0 ]; then apt-get update -qq >/dev/null 2>&1 || true; fi
    (cd "$dir/deb" && apt-get download -q -o APT::Sandbox::User=root nginx >/dev/null) ||
      { log "could not download Debian's nginx package (install it, or set NGINX_BIN)"; return 1; }
  fi
  dpkg-deb -x "$dir"/deb/nginx_*.deb "$dir/root"
  nginx_bin="$dir/root/usr/sbin/nginx"
  "$nginx_bin" -v >/dev/null 2>&1 || { log "the unpacked nginx does not run: $nginx_bin"; return 1; }
}

# start_header_proxy NAME UPSTREAM_PORT TOKEN: starts nginx in $work/NAME/ in front of
# 127.0.0.1:UPSTREAM_PORT, adding the bearer TOKEN, and sets `port` to the port it listens on.
# The token is written only into that folder's nginx.conf (mode 600), never to output.
start_header_proxy() {
  local name="$1" upstream="$2" token="$3" dir="$work/$1" try p rc
  mkdir -p "$dir/tmp"
  for try in 1 2 3 4 5 6 7 8 9 10; do
    p=$(( 20000 + RANDOM % 12000 ))  # below Linux's ephemeral range
    (umask 077 && cat >"$dir/nginx.conf") <<EOF
daemon off;
master_process off;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 1024; }
http {
  access_log $dir/access.log;
  client_body_temp_path $dir/tmp/body;
  proxy_temp_path $dir/tmp/proxy;
  fastcgi_temp_path $dir/tmp/fastcgi;
  uwsgi_temp_path $dir/tmp/uwsgi;
  scgi_temp_path $dir/tmp/scgi;
  # Pass every header field as it came, whatever its name.
  ignore_invalid_headers off;
  underscores_in_headers on;
  client_max_body_size 0;
  upstream mcp_proxy {
    server 127.0.0.1:$upstream;
    keepalive 16;
    keepalive_timeout 30s;  # under the proxy's 120 s for an idle kept-alive connection
  }
  server {
    listen 127.0.0.1:$p;
    location = /__header-proxy-ready { return 204; }
    location / {
      proxy_pass http://mcp_proxy;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host \$http_host;
      proxy_set_header Authorization "Bearer $token";
      proxy_buffering off;
      proxy_request_buffering off;
      proxy_read_timeout 3600s;
      proxy_send_timeout 3600s;
      proxy_next_upstream off;
    }
  }
}
EOF
    : >"$dir/error.log"
    timeout --foreground -k 10 3600 "$nginx_bin" -p "$dir" -e "$dir/error.log" -c "$dir/nginx.conf" \
      >"$dir/nginx.out" 2>&1 &
    pid_of[$name]=$!
    for _ in $(seq 1 100); do
      if grep -q 'bind() .* failed' "$dir/error.log" "$dir/nginx.out" 2>/dev/null; then break; fi
      rc="$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$p/__header-proxy-ready" || true)"
      if [ "$rc" = 204 ] && kill -0 "${pid_of[$name]}" 2>/dev/null; then port="$p"; return 0; fi
      kill -0 "${pid_of[$name]}" 2>/dev/null || break
      sleep 0.1
    done
    stop_process "$name"
    grep -q 'bind() .* failed' "$dir/error.log" "$dir/nginx.out" 2>/dev/null || break
  done
  log "nginx did not start in front of the proxy; its log:"
  cat "$dir/error.log" "$dir/nginx.out" >&2
  return 1
}
