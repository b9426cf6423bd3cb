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
// --scenario server-requests is a second mode, for a server like @modelcontextprotocol/server-everything
// that makes requests of its client while a tool runs:
//
//   node sdk_client.mjs [--transport http|sse] --scenario server-requests [--nonce N] URL [TOOL_PREFIX]
//   -> {"scenario":"server-requests", "nonce":N, "serverName":..., "protocolVersion":..., "sessionId":...,
//       "transport":..., "messageEndpoint":..., "tools":[...],
//       "progress":{"tool":..., "steps":S, "notifications":[{"progress":..,"total":..}...], "result":{...}},
//       "sampling":{"tool":..., "requests":[params...], "answer":"answer-from-sdk-N", "result":{...}},
//       "elicitation":{"tool":..., "requests":[params...], "answer":{...}, "result":{...}}}
//
// The client declares the capabilities `sampling` and `elicitation` (form) and answers
// sampling/createMessage with the text "answer-from-sdk-N" and elicitation/create with
// action "accept" and content that fits server-everything's form (name "answer-from-sdk-N").
// It calls, in turn, TOOL_PREFIX + trigger-long-running-operation with a progress handler
// (onprogress, so the SDK sends a progressToken), trigger-sampling-request (prompt "prompt-N")
// and trigger-elicitation-request. TOOL_PREFIX is "" on a server's own route and e.g. "ev__" on a
// merged endpoint. N is --nonce, else random. What the handlers received and what the tools
// returned is printed for the caller to judge; a tool that fails (isError or a JSON-RPC error)
// fails the run, since the result is what must show the answers.
//
// With env MCP_TEST_BEARER set, every request carries `Authorization: Bearer <it>`, as an
// application would configure it: `requestInit.headers` for Streamable HTTP, and a `fetch` that
// adds the header for the SSE transport (its GET and its POSTs).
//
// The SDK is loaded from the npm folder in env MCP_PROXY_NPM_DIR (default
// $HOME/.cache/mcp-proxy/npm), not from beside this file: ESM ignores NODE_PATH, so the package is
// located with require's search paths and its ESM entry taken from its package.json "exports".

import { npmDir, resolveEsm } from "./resolve_esm.mjs";

const HARD_TIMEOUT_MS = 30_000;
const REQUEST_TIMEOUT_MS = 10_000;  // per request, so one stuck request is reported as such
const MAX_PAGES = 100;  // bounded: a cursor loop must end
const TEXT_LIMIT = 300;

function fail(message, code = 1) {
  process.stderr.write(`sdk_client: ${message}\n`);
  process.exit(code);
}

const hardTimeout = setTimeout(() => fail(`no result within ${HARD_TIMEOUT_MS} ms`, 3), HARD_TIMEOUT_MS);

function parseArgs(argv) {
  const positional = [];
  const flags = { "--transport": "http", "--scenario": "basic", "--nonce": null };
  for (let i = 0; i < argv.length; ++i) {
    const eq = argv[i].indexOf("=");
    const flag = eq > 0 ? argv[i].slice(0, eq) : argv[i];
    if (!(flag in flags)) {
      positional.push(argv[i]);
    } else if (eq > 0) {
      flags[flag] = argv[i].slice(eq + 1);
    } else if (i + 1 < argv.length) {
      flags[flag] = argv[++i];
    } else {
      fail(`${flag} needs a value`, 2);
    }
  }
  const { "--transport": transport, "--scenario": scenario, "--nonce": nonce } = flags;
  if (transport !== "http" && transport !== "sse") fail(`--transport must be http or sse, not ${transport}`, 2);
  if (scenario === "server-requests") {
    const [url, toolPrefix = ""] = positional;
    if (!url) {
      fail("usage: node sdk_client.mjs [--transport http|sse] --scenario server-requests " +
           "[--nonce N] URL [TOOL_PREFIX]", 2);
    }
    return { transport, scenario, url, toolPrefix,
             nonce: nonce ?? Math.random().toString(36).slice(2, 12) };
  }
  if (scenario !== "basic") fail(`--scenario must be basic or server-requests, not ${scenario}`, 2);
  const [url, toolName, argsJson = "{}"] = positional;
  if (!url || !toolName) fail("usage: node sdk_client.mjs [--transport http|sse] URL TOOL_NAME [JSON_ARGS]", 2);
  let toolArgs;
  try {
    toolArgs = JSON.parse(argsJson);
  } catch (e) {
    fail(`JSON_ARGS is not JSON: ${e.message}`, 2);
  }
  return { transport, scenario, url, toolName, toolArgs };
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

const SDK = "@modelcontextprotocol/sdk";


// The SDK client transport for `kind`, with the proxy's SSE message endpoint (as the SSE transport
// POSTs to it) and the negotiated protocol version (as the Client hands it to the transport after
// initialize) recorded in `seen`.
async function makeTransport(kind, url) {
  const seen = { messageEndpoint: null, protocolVersion: null };
  const bearer = process.env.MCP_TEST_BEARER;
  let transport;
  if (kind === "sse") {
    const { SSEClientTransport } = await import(resolveEsm(npmDir(), SDK, "client/sse.js"));
    const recordingFetch = (input, init) => {
      if ((init?.method ?? "GET").toUpperCase() === "POST" && seen.messageEndpoint === null) {
        const u = new URL(input instanceof Request ? input.url : String(input));
        seen.messageEndpoint = u.pathname + u.search;
      }
      if (bearer) {
        const headers = new Headers(init?.headers);
        headers.set("Authorization", `Bearer ${bearer}`);
        init = { ...init, headers };
      }
      return fetch(input, init);
    };
    transport = new SSEClientTransport(new URL(url), { fetch: recordingFetch });
  } else {
    const { StreamableHTTPClientTransport } = await import(
      resolveEsm(npmDir(), SDK, "client/streamableHttp.js"));
    const requestInit = bearer ? { headers: { Authorization: `Bearer ${bearer}` } } : undefined;
    transport = new StreamableHTTPClientTransport(new URL(url), { requestInit });
  }
  const setProtocolVersion = transport.setProtocolVersion?.bind(transport);
  transport.setProtocolVersion = (version) => {
    seen.protocolVersion = version;
    setProtocolVersion?.(version);
  };
  return { transport, seen };
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (args.scenario === "server-requests") return serverRequests(args);
  const { transport: kind, url, toolName, toolArgs } = args;

  const { Client } = await import(resolveEsm(npmDir(), SDK, "client/index.js"));
  const { transport, seen } = await makeTransport(kind, url);

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
    protocolVersion: transport.protocolVersion ?? seen.protocolVersion,
    sessionId: transport.sessionId ?? null,
    tools,
    callResult,
    transport: kind,
    messageEndpoint: seen.messageEndpoint,
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

// --scenario server-requests: progress, sampling and elicitation, answered by this client.
const LONG_RUNNING = { name: "trigger-long-running-operation", args: { duration: 2, steps: 4 } };
const SAMPLING_TOOL = "trigger-sampling-request";
const ELICITATION_TOOL = "trigger-elicitation-request";
const CALL_TIMEOUT_MS = 15_000;

async function serverRequests({ transport: kind, url, toolPrefix, nonce }) {
  const { Client } = await import(resolveEsm(npmDir(), SDK, "client/index.js"));
  const { CreateMessageRequestSchema, ElicitRequestSchema } = await import(
    resolveEsm(npmDir(), SDK, "types.js"));
  const { transport, seen } = await makeTransport(kind, url);

  const client = new Client({ name: "mcp-proxy-interop", version: "1.0.0" },
                            { capabilities: { sampling: {}, elicitation: { form: {} } } });
  let closing = false;
  client.onerror = (e) => {
    if (!closing) process.stderr.write(`sdk_client: transport error: ${e?.message ?? e}\n`);
  };

  const answer = `answer-from-sdk-${nonce}`;
  const samplingRequests = [];
  client.setRequestHandler(CreateMessageRequestSchema, async (request) => {
    samplingRequests.push(request.params);
    return {
      role: "assistant",
      content: { type: "text", text: answer },
      model: `sdk-model-${nonce}`,
      stopReason: "endTurn",
    };
  });
  // Fits server-everything's form: "name" is required, the rest are optional (a few given, each
  // of the type the schema asks for, so the server shows them back).
  const elicitAnswer = {
    action: "accept",
    content: { name: answer, check: true, email: `sdk-${nonce}@example.com`, integer: 7 },
  };
  const elicitationRequests = [];
  client.setRequestHandler(ElicitRequestSchema, async (request) => {
    elicitationRequests.push(request.params);
    return elicitAnswer;
  });

  await client.connect(transport, { timeout: REQUEST_TIMEOUT_MS });
  const tools = (await listAll((p, o) => client.listTools(p, o), "tools")).map((t) => t.name);

  const call = async (name, args, extraOptions = {}) => {
    let result;
    try {
      result = await client.callTool({ name, arguments: args }, undefined,
                                     { timeout: CALL_TIMEOUT_MS, ...extraOptions });
    } catch (e) {
      throw new Error(`tools/call ${name}: ${e?.message ?? e}`);
    }
    if (result.isError) throw new Error(`tools/call ${name}: isError: ${JSON.stringify(result)}`);
    return result;
  };

  const notifications = [];
  const longName = toolPrefix + LONG_RUNNING.name;
  const longResult = await call(longName, LONG_RUNNING.args, {
    onprogress: (p) => notifications.push({ progress: p.progress, total: p.total, message: p.message }),
  });

  const samplingName = toolPrefix + SAMPLING_TOOL;
  const samplingResult = await call(samplingName, { prompt: `prompt-${nonce}`, maxTokens: 50 });

  const elicitationName = toolPrefix + ELICITATION_TOOL;
  const elicitationResult = await call(elicitationName, {});

  const out = {
    scenario: "server-requests",
    nonce,
    serverName: client.getServerVersion()?.name,
    protocolVersion: transport.protocolVersion ?? seen.protocolVersion,
    sessionId: transport.sessionId ?? null,
    transport: kind,
    messageEndpoint: seen.messageEndpoint,
    tools,
    progress: { tool: longName, steps: LONG_RUNNING.args.steps, notifications, result: longResult },
    sampling: { tool: samplingName, requests: samplingRequests, answer, result: samplingResult },
    elicitation: { tool: elicitationName, requests: elicitationRequests, answer: elicitAnswer,
                   result: elicitationResult },
  };
  closing = true;
  if (kind === "http") await transport.terminateSession();
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
