// The v1 SDK client (@modelcontextprotocol/sdk, a 2025-era client) against v2_server.mjs (a
// 2026-07-28 server) through the proxy, which bridges the eras: prints one JSON line and exits 0
// (non-zero with a message on stderr otherwise).
//
//   node v1_client_modern.mjs [--nonce N] URL [TOOL_PREFIX]
//   -> {"nonce":N, "serverName":..., "protocolVersion":..., "tools":[...],
//       "echo":"...", "progress":{"notifications":[...], "text":"..."},
//       "elicitation":{"requests":[params...], "text":"..."},
//       "sampling":{"requests":[params...], "text":"..."},
//       "roots":{"requests":N, "text":"..."}, "updated":[uri...]}
//
// The client declares sampling, elicitation and roots, and answers sampling/createMessage with
// "answer-N", elicitation/create with name "name-N" and roots/list with file:///root-N. The server
// asks for these with input_required results; the proxy must turn them into these requests and
// the answers into the server's retry. It then subscribes to demo://doc, calls touch, and waits
// for notifications/resources/updated (the proxy's subscriptions/listen at the server).

import { npmDir, resolveEsm } from "./resolve_esm.mjs";

const HARD_TIMEOUT_MS = 40_000;
const REQUEST_TIMEOUT_MS = 15_000;
const UPDATE_WAIT_MS = 10_000;
const DOC = "demo://doc";

function fail(message, code = 1) {
  process.stderr.write(`v1_client_modern: ${message}\n`);
  process.exit(code);
}
const hardTimeout = setTimeout(() => fail(`no result within ${HARD_TIMEOUT_MS} ms`, 3), HARD_TIMEOUT_MS);

const args = process.argv.slice(2);
let nonce = String(Math.floor(Math.random() * 1e9));
const positional = [];
for (let i = 0; i < args.length; ++i) {
  if (args[i] === "--nonce") nonce = args[++i];
  else positional.push(args[i]);
}
const [url, prefix = ""] = positional;
if (!url) fail("usage: v1_client_modern.mjs [--nonce N] URL [TOOL_PREFIX]", 2);

const SDK = "@modelcontextprotocol/sdk";
const { Client } = await import(resolveEsm(npmDir(), SDK, "client/index.js"));
const { StreamableHTTPClientTransport } = await import(
  resolveEsm(npmDir(), SDK, "client/streamableHttp.js"));
const types = await import(resolveEsm(npmDir(), SDK, "types.js"));

const client = new Client({ name: "v1-client", version: "1.0.0" },
                          { capabilities: { sampling: {}, elicitation: { form: {} }, roots: {} } });
const seen = { sampling: [], elicitation: [], roots: 0, updated: [] };
client.setRequestHandler(types.CreateMessageRequestSchema, async (request) => {
  seen.sampling.push(request.params);
  return { role: "assistant", content: { type: "text", text: `answer-${nonce}` },
           model: "v1-model", stopReason: "endTurn" };
});
client.setRequestHandler(types.ElicitRequestSchema, async (request) => {
  seen.elicitation.push(request.params);
  return { action: "accept", content: { name: `name-${nonce}` } };
});
client.setRequestHandler(types.ListRootsRequestSchema, async () => {
  seen.roots += 1;
  return { roots: [{ uri: `file:///root-${nonce}`, name: "root" }] };
});
let onUpdated = () => {};
client.setNotificationHandler(types.ResourceUpdatedNotificationSchema, (n) => {
  seen.updated.push(n.params.uri);
  onUpdated();
});

const transport = new StreamableHTTPClientTransport(new URL(url));
await client.connect(transport, { timeout: REQUEST_TIMEOUT_MS });
const tools = (await client.listTools({}, { timeout: REQUEST_TIMEOUT_MS })).tools.map((t) => t.name);

async function call(name, toolArgs = {}, options = {}) {
  const result = await client.callTool({ name: prefix + name, arguments: toolArgs }, undefined,
                                       { timeout: REQUEST_TIMEOUT_MS, ...options });
  if (result.isError) throw new Error(`tools/call ${name}: ${JSON.stringify(result)}`);
  return result.content?.[0]?.text;
}

const echo = await call("echo", { text: `hi-${nonce}` });
const notifications = [];
const counted = await call("count", { steps: 3 }, {
  onprogress: (p) => notifications.push({ progress: p.progress, total: p.total }),
});
const named = await call("ask_name");
const sampled = await call("ask_model", { prompt: `prompt-${nonce}` });
const rooted = await call("ask_roots");

await client.subscribeResource({ uri: DOC }, { timeout: REQUEST_TIMEOUT_MS });
const updated = new Promise((resolve) => {
  onUpdated = resolve;
  setTimeout(resolve, UPDATE_WAIT_MS);
});
await call("touch");
await updated;

const out = {
  nonce,
  serverName: client.getServerVersion()?.name,
  protocolVersion: transport.protocolVersion ?? null,
  tools,
  echo,
  progress: { notifications, text: counted },
  elicitation: { requests: seen.elicitation, text: named },
  sampling: { requests: seen.sampling, text: sampled },
  roots: { requests: seen.roots, text: rooted },
  updated: seen.updated,
};
await transport.terminateSession();
await client.close();
clearTimeout(hardTimeout);
process.stdout.write(JSON.stringify(out) + "\n");
process.exit(0);
