// A client of protocol version 2026-07-28 for interop tests: the v2 TypeScript SDK
// (@modelcontextprotocol/client) with version negotiation on, against a server that makes
// requests of its client while a tool runs (@modelcontextprotocol/server-everything, a 2025-era
// server, behind the proxy). Prints one JSON line and exits 0 (non-zero with a message on stderr
// otherwise).
//
//   node v2_client.mjs [--mode auto|pin] [--nonce N] [--update-wait-ms MS] URL [TOOL_PREFIX]
//   -> {"nonce":N, "protocolVersion":..., "tools":[...],
//       "progress":{"notifications":[...], "result":{...}},
//       "sampling":{"requests":[params...], "result":{...}},
//       "elicitation":{"requests":[params...], "result":{...}},
//       "listen":{"honored":{...}, "updates":[uri...]}}
//
// --mode auto probes with server/discover and falls back to initialize on a legacy server; pin
// (the default) speaks 2026-07-28 only. The client declares sampling and elicitation; the SDK
// answers the server's input_required results with its handlers and retries (MRTR). It calls
// TOOL_PREFIX + trigger-long-running-operation (with onprogress), trigger-sampling-request
// (prompt "prompt-N", answered "answer-from-v2-N"), trigger-elicitation-request (answered with
// name "answer-from-v2-N"), then opens subscriptions/listen for a resource and calls
// toggle-subscriber-updates, and waits (--update-wait-ms, default 15000) for a
// notifications/resources/updated.
// The SDK comes from the npm folder (resolve_esm.mjs).

import { npmDir, resolveEsm } from "./resolve_esm.mjs";

const HARD_TIMEOUT_MS = 40_000;
const REQUEST_TIMEOUT_MS = 15_000;
const SUBSCRIBED_URI = "demo://resource/static/document/architecture.md";

function fail(message, code = 1) {
  process.stderr.write(`v2_client: ${message}\n`);
  process.exit(code);
}
const hardTimeout = setTimeout(() => fail(`no result within ${HARD_TIMEOUT_MS} ms`, 3), HARD_TIMEOUT_MS);

const args = process.argv.slice(2);
let mode = "pin";
let nonce = String(Math.floor(Math.random() * 1e9));
let updateWaitMs = 15_000;  // server-everything sends updates every 5 s once toggled
const positional = [];
for (let i = 0; i < args.length; ++i) {
  if (args[i] === "--mode") mode = args[++i];
  else if (args[i] === "--nonce") nonce = args[++i];
  else if (args[i] === "--update-wait-ms") updateWaitMs = Number(args[++i]);
  else positional.push(args[i]);
}
const [url, prefix = ""] = positional;
if (!url) fail("usage: v2_client.mjs [--mode auto|pin] [--nonce N] URL [TOOL_PREFIX]", 2);

const { Client, StreamableHTTPClientTransport } = await import(
  resolveEsm(npmDir(), "@modelcontextprotocol/client", ""));

const client = new Client(
  { name: "v2-interop", version: "1.0.0" },
  {
    capabilities: { sampling: {}, elicitation: {} },
    versionNegotiation: { mode: mode === "auto" ? "auto" : { pin: "2026-07-28" } },
  });
const out = { nonce, sampling: { requests: [] }, elicitation: { requests: [] } };
client.setRequestHandler("sampling/createMessage", async (request) => {
  out.sampling.requests.push(request.params);
  return { role: "assistant", content: { type: "text", text: `answer-from-v2-${nonce}` },
           model: "v2-interop", stopReason: "endTurn" };
});
client.setRequestHandler("elicitation/create", async (request) => {
  out.elicitation.requests.push(request.params);
  return { action: "accept", content: { name: `answer-from-v2-${nonce}` } };
});
const updates = [];
client.setNotificationHandler("notifications/resources/updated", (n) => updates.push(n.params.uri));

const opts = { timeout: REQUEST_TIMEOUT_MS };
try {
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  out.protocolVersion = client.getNegotiatedProtocolVersion();
  out.tools = (await client.listTools(undefined, opts)).tools.map((t) => t.name);
  const notifications = [];
  const progressResult = await client.callTool(
    { name: `${prefix}trigger-long-running-operation`, arguments: { duration: 1, steps: 3 } },
    { ...opts, onprogress: (p) => notifications.push({ progress: p.progress, total: p.total }) });
  out.progress = { notifications, result: progressResult };
  out.sampling.result = await client.callTool(
    { name: `${prefix}trigger-sampling-request`, arguments: { prompt: `prompt-${nonce}` } }, opts);
  out.elicitation.result = await client.callTool(
    { name: `${prefix}trigger-elicitation-request`, arguments: {} }, opts);
  const subscription = await client.listen({ resourceSubscriptions: [SUBSCRIBED_URI] }, opts);
  await client.callTool({ name: `${prefix}toggle-subscriber-updates`, arguments: {} }, opts);
  const until = Date.now() + updateWaitMs;
  while (!updates.length && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
  out.listen = { honored: subscription.honoredFilter, updates };
  await subscription.close();
  await client.close();
} catch (e) {
  fail(`${e?.name ?? "error"}: ${e?.message ?? e}`);
}
clearTimeout(hardTimeout);
process.stdout.write(JSON.stringify(out) + "\n");
process.exit(0);
