// An official-SDK MCP client for interop tests: connects over Streamable HTTP (default) or the
// legacy HTTP+SSE transport, lists the tools and calls one, lists the resources (and reads the
// first) and the prompts (and gets the first without required arguments) when the server
// advertises them, prints one JSON line and exits 0 (non-zero with a message on stderr otherwise).
//
//   node sdk_client.mjs [--transport http|sse] URL TOOL_NAME 'JSON_ARGS'
//   -> {"serverName":..., "protocolVersion":..., "sessionId":..., "tools":[...], "callResult":{...},
//       "transport":"http"|"sse", "messageEndpoint":..., "capabilities":{...},
//       "resources":[uri...]|null, "resourceRead":{"uri":..., "contents":[...]}|null,
//       "prompts":[name...]|null, "promptGet":{"name":..., "messages":[...]}|null,
//       "errors":{"resources/list": "...", ...}}
//
// --transport sse uses the SDK's SSEClientTransport (spec 2024-11-05: GET the URL, POST to the
// `endpoint` event's URL; "messageEndpoint" is that URL's path and query). "sessionId" is the
// Streamable HTTP session (null over SSE). "resources"/"prompts" are null when the server does not
// advertise the capability. A failing tools/list or tools/call fails the run; a failing resources
// or prompts request is recorded under "errors" (method -> message) and the run goes on, so a test
// can say exactly what went wrong. Long texts in "resourceRead" are cut to TEXT_LIMIT characters.
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
const REQUEST_TIMEOUT_MS = 10_000;  // per request, so one stuck request is reported as such
const MAX_PAGES = 100;  // bounded: a cursor loop must end
const TEXT_LIMIT = 300;

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

function parseArgs(argv) {
  const positional = [];
  let transport = "http";
  for (let i = 0; i < argv.length; ++i) {
    if (argv[i] === "--transport") {
      transport = argv[++i];
    } else if (argv[i].startsWith("--transport=")) {
      transport = argv[i].slice("--transport=".length);
    } else {
      positional.push(argv[i]);
    }
  }
  if (transport !== "http" && transport !== "sse") fail(`--transport must be http or sse, not ${transport}`, 2);
  const [url, toolName, argsJson = "{}"] = positional;
  if (!url || !toolName) fail("usage: node sdk_client.mjs [--transport http|sse] URL TOOL_NAME [JSON_ARGS]", 2);
  let toolArgs;
  try {
    toolArgs = JSON.parse(argsJson);
  } catch (e) {
    fail(`JSON_ARGS is not JSON: ${e.message}`, 2);
  }
  return { transport, url, toolName, toolArgs };
}

// Every page of a list method, bounded in count.
async function listAll(list, key) {
  const items = [];
  let cursor;
  for (let page = 0; page < MAX_PAGES; ++page) {
    const res = await list(cursor ? { cursor } : {}, { timeout: REQUEST_TIMEOUT_MS });
    items.push(...res[key]);
    cursor = res.nextCursor;
    if (!cursor) return items;
  }
  throw new Error(`${key}: still a nextCursor after ${MAX_PAGES} pages`);
}

function trimContents(contents) {
  return (contents ?? []).map((c) => {
    const out = { ...c };
    if (typeof out.text === "string" && out.text.length > TEXT_LIMIT) {
      out.textLength = out.text.length;
      out.text = out.text.slice(0, TEXT_LIMIT);
    }
    if (typeof out.blob === "string") {
      out.blobLength = out.blob.length;
      delete out.blob;
    }
    return out;
  });
}

async function main() {
  const { transport: kind, url, toolName, toolArgs } = parseArgs(process.argv.slice(2));

  const npmDir = process.env.MCP_PROXY_NPM_DIR || path.join(homedir(), ".cache", "mcp-proxy", "npm");
  const sdk = "@modelcontextprotocol/sdk";
  const { Client } = await import(resolveEsm(npmDir, sdk, "client/index.js"));

  // The URL the SSE transport POSTs to (the proxy's `endpoint` event), seen through its fetch.
  let messageEndpoint = null;
  let transport;
  if (kind === "sse") {
    const { SSEClientTransport } = await import(resolveEsm(npmDir, sdk, "client/sse.js"));
    const recordingFetch = (input, init) => {
      if ((init?.method ?? "GET").toUpperCase() === "POST" && messageEndpoint === null) {
        const u = new URL(input instanceof Request ? input.url : String(input));
        messageEndpoint = u.pathname + u.search;
      }
      return fetch(input, init);
    };
    transport = new SSEClientTransport(new URL(url), { fetch: recordingFetch });
  } else {
    const { StreamableHTTPClientTransport } = await import(
      resolveEsm(npmDir, sdk, "client/streamableHttp.js"));
    transport = new StreamableHTTPClientTransport(new URL(url));
  }
  // The negotiated version, as the Client hands it to either transport after initialize.
  let protocolVersion = null;
  const setProtocolVersion = transport.setProtocolVersion?.bind(transport);
  transport.setProtocolVersion = (version) => {
    protocolVersion = version;
    setProtocolVersion?.(version);
  };

  const client = new Client({ name: "mcp-proxy-interop", version: "1.0.0" });
  let closing = false;  // closing the SSE stream aborts its fetch: not an error worth a line
  client.onerror = (e) => {
    if (!closing) process.stderr.write(`sdk_client: transport error: ${e?.message ?? e}\n`);
  };
  await client.connect(transport, { timeout: REQUEST_TIMEOUT_MS });
  const capabilities = client.getServerCapabilities() ?? {};

  const tools = (await listAll((p, o) => client.listTools(p, o), "tools")).map((t) => t.name);
  const callResult = await client.callTool({ name: toolName, arguments: toolArgs }, undefined,
                                           { timeout: REQUEST_TIMEOUT_MS });

  const errors = {};
  const attempt = async (method, fn) => {
    try {
      return await fn();
    } catch (e) {
      errors[method] = e?.message ?? String(e);
      return null;
    }
  };
  let resources = null;
  let resourceRead = null;
  if (capabilities.resources) {
    const listed = await attempt("resources/list",
                                 () => listAll((p, o) => client.listResources(p, o), "resources"));
    resources = listed ? listed.map((r) => r.uri) : null;
    if (resources?.length) {
      const uri = resources[0];
      const read = await attempt("resources/read",
                                 () => client.readResource({ uri }, { timeout: REQUEST_TIMEOUT_MS }));
      if (read) resourceRead = { uri, contents: trimContents(read.contents) };
    }
  }
  let prompts = null;
  let promptGet = null;
  if (capabilities.prompts) {
    const listed = await attempt("prompts/list",
                                 () => listAll((p, o) => client.listPrompts(p, o), "prompts"));
    prompts = listed ? listed.map((p) => p.name) : null;
    const simple = listed?.find((p) => !(p.arguments ?? []).some((a) => a.required));
    if (simple) {
      const got = await attempt("prompts/get", () => client.getPrompt(
          { name: simple.name, arguments: {} }, { timeout: REQUEST_TIMEOUT_MS }));
      if (got) promptGet = { name: simple.name, messages: got.messages };
    }
  }

  const out = {
    serverName: client.getServerVersion()?.name,
    protocolVersion: transport.protocolVersion ?? protocolVersion,
    sessionId: transport.sessionId ?? null,
    tools,
    callResult,
    transport: kind,
    messageEndpoint,
    capabilities,
    resources,
    resourceRead,
    prompts,
    promptGet,
    errors,
  };
  closing = true;
  if (kind === "http") await transport.terminateSession();  // DELETE (spec: Session Management)
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
