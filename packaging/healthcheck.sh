#!/bin/bash
# The container image's HEALTHCHECK: GET /healthz on the proxy's port over bash's /dev/tcp, as
# debian:12-slim has no curl. Usage: mcp-proxy-healthcheck [PORT] (default: $MCP_PROXY_PORT, else
# 9090). Exit 0 when the answer is 200, else 1.
port="${1:-${MCP_PROXY_PORT:-9090}}"
{ exec 3<>"/dev/tcp/127.0.0.1/${port}"; } 2>/dev/null || exit 1
printf 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nConnection: close\r\n\r\n' "$port" >&3
IFS= read -r -t 5 status <&3 || exit 1
[[ "$status" == "HTTP/1.1 200 "* ]] || exit 1
