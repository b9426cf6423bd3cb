// An official-SDK MCP client for interop tests: connects over Streamable HTTP, lists the tools,
// calls one, prints one JSON line and exits 0 (non-zero with a message on stderr otherwise).
//
//   node sdk_client.mjs URL TOOL_NAME 'JSON_ARGS'
//   -> {"serverName":..., "protocolVersion":..., "sessionId":..., "tools":[...], "callResult":{...}}
//
// The SDK is loaded from the npm folder in env MCP_PROXY_NPM_DIR (default
// $HOME/.cache/mcp-proxy/npm), not from beside this file: ESM ignores NODE_PATH, so the package is
// located with require's search paths and its ESM entry taken from its package.json "exports".

import { createRequire } from "node:module";
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";

const HARD_TIMEOUT_MS = 30_000;

function fail(message, code = 1) {
  process.stderr.write(`sdk_client: ${message}\n`);
  process.exit(code);
}

const hardTimeout = setTimeout(() => fail(`no result within ${HARD_TIMEOUT_MS} ms`, 3), HARD_TIMEOUT_MS);

// Resolves `pkg/subpath` to a file URL through the package's "exports" with the "import"
// condition (exact keys and one-"*" patterns, which is what the SDK uses).
function resolveEsm(npmDir, pkg, subpath) {
  const require = createRequire(path.join(npmDir, "package.json"));
  const roots = (require.resolve.paths(pkg) ?? []).map((d) => path.join(d, pkg));
  const root = roots.find((r) => existsSync(path.join(r, "package.json")));
  if (!root) throw new Error(`${pkg} not found under ${npmDir} (run ci/install-deps.sh)`);
  const manifest = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8"));
  const key = `./${subpath}`;
  const exportsMap = manifest.exports ?? {};
  const pick = (target) =>
    typeof target === "string" ? target : target && (target.import ?? target.default);
  let target = exportsMap[key] !== undefined ? pick(exportsMap[key]) : undefined;
  if (target === undefined) {
    for (const [pattern, value] of Object.entries(exportsMap)) {
      const star = pattern.indexOf("*");
      if (star < 0) continue;
      const [prefix, suffix] = [pattern.slice(0, star), pattern.slice(star + 1)];
      if (key.startsWith(prefix) && key.endsWith(suffix) && key.length >= pattern.length - 1) {
        const t = pick(value);
        if (t) target = t.replace("*", key.slice(prefix.length, key.length - suffix.length));
        break;
      }
    }
  }
  if (!target) throw new Error(`${pkg} exports no ESM entry for ${key}`);
  return pathToFileURL(path.join(root, target)).href;
}

async function main() {
  const [url, toolName, argsJson = "{}"] = process.argv.slice(2);
  if (!url || !toolName) fail("usage: node sdk_client.mjs URL TOOL_NAME [JSON_ARGS]", 2);
  let toolArgs;
  try {
    toolArgs = JSON.parse(argsJson);
  } catch (e) {
    fail(`JSON_ARGS is not JSON: ${e.message}`, 2);
  }

  const npmDir = process.env.MCP_PROXY_NPM_DIR || path.join(homedir(), ".cache", "mcp-proxy", "npm");
  const sdk = "@modelcontextprotocol/sdk";
  const { Client } = await import(resolveEsm(npmDir, sdk, "client/index.js"));
  const { StreamableHTTPClientTransport } = await import(
    resolveEsm(npmDir, sdk, "client/streamableHttp.js"));

  const client = new Client({ name: "mcp-proxy-interop", version: "1.0.0" });
  const transport = new StreamableHTTPClientTransport(new URL(url));
  client.onerror = (e) => process.stderr.write(`sdk_client: transport error: ${e?.message ?? e}\n`);
  await client.connect(transport);

  const tools = [];
  let cursor;
  for (let page = 0; page < 100; ++page) {  // bounded: a cursor loop must end
    const res = await client.listTools(cursor ? { cursor } : {});
    tools.push(...res.tools.map((t) => t.name));
    cursor = res.nextCursor;
    if (!cursor) break;
  }
  const callResult = await client.callTool({ name: toolName, arguments: toolArgs });
  const out = {
    serverName: client.getServerVersion()?.name,
    protocolVersion: transport.protocolVersion,
    sessionId: transport.sessionId,
    tools,
    callResult,
  };
  await transport.terminateSession();  // DELETE (spec: Session Management)
  await client.close();
  process.stdout.write(JSON.stringify(out) + "\n");
}

main().then(
  () => {
    clearTimeout(hardTimeout);
    process.exit(0);
  },
  (e) => fail(e?.stack ?? String(e)),
);
