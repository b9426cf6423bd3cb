// Shared by the interop clients (sdk_client.mjs, v2_client.mjs): the ESM entry of an npm package
// installed outside the repo. ESM ignores NODE_PATH, so the package is located with require's
// search paths from `npmDir` and its entry taken from its package.json "exports".

import { createRequire } from "node:module";
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";

// Resolves `pkg/subpath` to a file URL through the package's "exports" with the "import"
// condition (exact keys and one-"*" patterns, which is what the SDK uses).
export function resolveEsm(npmDir, pkg, subpath) {
  const require = createRequire(path.join(npmDir, "package.json"));
  const roots = (require.resolve.paths(pkg) ?? []).map((d) => path.join(d, pkg));
  const root = roots.find((r) => existsSync(path.join(r, "package.json")));
  if (!root) throw new Error(`${pkg} not found under ${npmDir} (run ci/install-deps.sh)`);
  const manifest = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8"));
  const key = subpath ? `./${subpath}` : ".";
  const exportsMap = manifest.exports ?? {};
  // Conditions may nest ({"import": {"types": ..., "default": ...}}).
  const pick = (target) =>
    typeof target === "string" ? target : target && pick(target.import ?? target.default);
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

// Where ci/install-deps.sh puts the npm peers: env MCP_PROXY_NPM_DIR, default
// $HOME/.cache/mcp-proxy/npm.
export function npmDir() {
  return process.env.MCP_PROXY_NPM_DIR || path.join(homedir(), ".cache", "mcp-proxy", "npm");
}
