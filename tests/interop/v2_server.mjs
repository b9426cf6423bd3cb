// A server of protocol version 2026-07-28 for interop tests, written with the v2 TypeScript SDK
// (@modelcontextprotocol/server) and served over stdio with serveStdio (dual-era: a client that
// opens with `initialize` is served the 2025 way; pass --modern-only to refuse that). Its tools
// ask their client for input the 2026-07-28 way, with input_required results (MRTR), which is
// what a proxy must bridge for 2025-era clients:
//
//   echo {text}        -> "echo: TEXT"
//   ask_name {}        -> elicitation (key "name", form {name: string}) -> "hello NAME"
//   ask_model {prompt} -> sampling (key "answer") -> "model said: TEXT"
//   ask_roots {}       -> roots/list (key "roots") -> "roots: URI,URI"
//   count {steps}      -> `steps` notifications/progress (when asked for), then "counted N"
//   touch {}           -> notifications/resources/updated for demo://doc (to its listeners)
// Resource demo://doc (subscribable). The SDK comes from the npm folder (resolve_esm.mjs).
// --http serves Streamable HTTP instead (createMcpHandler: stateless, one instance a request) at
// http://127.0.0.1:PORT/mcp on a free port, and prints "listening on http://127.0.0.1:PORT".
//
//   node v2_server.mjs [--modern-only] [--http] [--name NAME]

import { npmDir, resolveEsm } from "./resolve_esm.mjs";

const args = process.argv.slice(2);
const modernOnly = args.includes("--modern-only");
const overHttp = args.includes("--http");
const nameAt = args.indexOf("--name");
const serverName = nameAt >= 0 ? args[nameAt + 1] : "v2-server";

const sdk = await import(resolveEsm(npmDir(), "@modelcontextprotocol/server", ""));
const { serveStdio } = await import(resolveEsm(npmDir(), "@modelcontextprotocol/server", "stdio"));
const { z } = await import(resolveEsm(npmDir(), "zod", ""));
const { McpServer, inputRequired, acceptedContent, inputResponse } = sdk;

const DOC = "demo://doc";

function text(t) {
  return { content: [{ type: "text", text: t }] };
}

function build() {
  const server = new McpServer(
    { name: serverName, version: "2.0.0" },
    { capabilities: { resources: { subscribe: true } } });

  server.registerTool("echo", { description: "Echoes its text", inputSchema: z.object({ text: z.string() }) },
    async ({ text: t }) => text(`echo: ${t}`));

  server.registerTool("ask_name", { description: "Asks the user for a name", inputSchema: z.object({}) },
    async (_args, ctx) => {
      const got = acceptedContent(ctx.mcpReq.inputResponses, "name", z.object({ name: z.string() }));
      if (got === undefined) {
        return inputRequired({ inputRequests: { name: inputRequired.elicit({
          message: "Your name?",
          requestedSchema: { type: "object", properties: { name: { type: "string" } }, required: ["name"] },
        }) } });
      }
      return text(`hello ${got.name}`);
    });

  server.registerTool("ask_model", { description: "Asks the client's model", inputSchema: z.object({ prompt: z.string() }) },
    async ({ prompt }, ctx) => {
      const view = inputResponse(ctx.mcpReq.inputResponses, "answer");
      if (view.kind !== "sampling") {
        return inputRequired({ inputRequests: { answer: inputRequired.createMessage({
          messages: [{ role: "user", content: { type: "text", text: prompt } }], maxTokens: 50,
        }) } });
      }
      const content = view.result.content;
      return text(`model said: ${Array.isArray(content) ? content[0]?.text : content?.text}`);
    });

  server.registerTool("ask_roots", { description: "Lists the client's roots", inputSchema: z.object({}) },
    async (_args, ctx) => {
      const view = inputResponse(ctx.mcpReq.inputResponses, "roots");
      if (view.kind !== "roots")
        return inputRequired({ inputRequests: { roots: inputRequired.listRoots() } });
      return text(`roots: ${view.roots.map((r) => r.uri).join(",")}`);
    });

  server.registerTool("count", { description: "Reports progress", inputSchema: z.object({ steps: z.number() }) },
    async ({ steps }, ctx) => {
      const token = ctx.mcpReq._meta?.progressToken;
      for (let i = 1; i <= steps; ++i) {
        if (token !== undefined)
          await ctx.mcpReq.notify({ method: "notifications/progress",
                                    params: { progressToken: token, progress: i, total: steps } });
      }
      return text(`counted ${steps}`);
    });

  server.registerTool("touch", { description: "Announces that demo://doc changed", inputSchema: z.object({}) },
    async () => {
      await resourceUpdated(server);
      return text("touched");
    });

  server.registerResource("doc", DOC, { mimeType: "text/plain" },
    async () => ({ contents: [{ uri: DOC, mimeType: "text/plain", text: "the document" }] }));
  return server;
}

// stdio: the instance's own notification reaches the connection's listen streams; HTTP: the
// handler publishes to every open listen stream (its instances live for one request).
let resourceUpdated = (server) => server.server.sendResourceUpdated({ uri: DOC });

if (overHttp) {
  const { createServer } = await import("node:http");
  const { toNodeHandler } = await import(resolveEsm(npmDir(), "@modelcontextprotocol/node", ""));
  const handler = sdk.createMcpHandler(build);
  resourceUpdated = async () => handler.notify.resourceUpdated(DOC);
  const node = toNodeHandler(handler);
  const listener = createServer((req, res) => {
    if (new URL(req.url, "http://x").pathname !== "/mcp") {
      res.writeHead(404).end();
      return;
    }
    void node(req, res);
  });
  listener.listen(0, "127.0.0.1", () => process.stdout.write(`listening on http://127.0.0.1:${listener.address().port}\n`));
} else {
  serveStdio(build, { legacy: modernOnly ? "reject" : "serve" });
}
