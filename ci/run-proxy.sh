#!/usr/bin/env bash
# Installs what is missing, builds Release and runs mcp-proxy on the bundled default config
# (examples/default.json: this repo's mock servers, no network). Extra arguments go to mcp-proxy.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ci/install-deps.sh --no-npm
ci/build.sh release mcp-proxy mock-mcp-server

addr="${MCP_PROXY_ADDR:-127.0.0.1:9090}"
url="http://${addr}/mcp"
cat <<TXT

mcp-proxy is starting on http://${addr} with examples/default.json. Servers:
  mock        http://${addr}/mock/mcp          (shared backend session)
  mock-own    http://${addr}/mock-own/mcp      (one backend per client session)
  both merged ${url}               (tools named mock__echo, mock-own__echo, ...)

List the tools through the proxy (copy and paste into another terminal):

  SID=\$(curl -s -D - -o /dev/null -H 'Content-Type: application/json' \\
    -H 'Accept: application/json, text/event-stream' \\
    -d '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"curl","version":"1"}}}' \\
    ${url} | tr -d '\r' | sed -n 's/^[Mm]cp-[Ss]ession-[Ii]d: //p')
  curl -s -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \\
    -H "Mcp-Session-Id: \$SID" -H 'MCP-Protocol-Version: 2025-11-25' \\
    -d '{"jsonrpc":"2.0","id":2,"method":"tools/list"}' ${url}

Stop with Ctrl-C.
TXT
exec build/release/proxy/mcp-proxy --config examples/default.json --addr "$addr" "$@"
