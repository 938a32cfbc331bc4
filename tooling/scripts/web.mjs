#!/usr/bin/env node
// `pnpm web`: build apps/web and what it depends on (turbo, cached; silent unless it fails), then serve
// apps/web/dist on localhost with the headers WASM threads need (COOP same-origin + COEP require-corp
// make the page cross-origin isolated, so workers can share memory), printing the URL.
// Options: --port N (default 5180; 0 picks a free port), --no-build, --no-isolation (serve without
// COOP/COEP: the page then runs the model on one thread).
import { createReadStream, existsSync, statSync } from "node:fs";
import { createServer } from "node:http";
import { extname, join, normalize, sep } from "node:path";
import { silentBuild } from "./silent-build.mjs";

const root = join(import.meta.dirname, "..", "..");
const dist = join(root, "apps", "web", "dist");
const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const portAt = args.indexOf("--port");
const port = portAt >= 0 ? Number(args[portAt + 1]) : 5180;
if (!(Number.isInteger(port) && port >= 0 && port < 65536)) {
  process.stderr.write(`web: --port ${args[portAt + 1]} is not a port number (0-65535)\n`);
  process.exit(2);
}
const unknown = args.filter(
  (a, i) =>
    a.startsWith("--") && !["--port", "--no-build", "--no-isolation"].includes(a) && args[i - 1] !== "--port",
);
if (unknown.length > 0) {
  process.stderr.write(
    `web: unknown option ${unknown.join(", ")}; options: --port N, --no-build, --no-isolation\n`,
  );
  process.exit(2);
}

if (!flag("--no-build")) {
  silentBuild("@tradeoffs/web...", "web", "nothing is served");
}
if (!existsSync(join(dist, "index.html"))) {
  process.stderr.write(`web: ${dist} has no index.html; run without --no-build\n`);
  process.exit(1);
}

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".map": "application/json",
  ".wasm": "application/wasm",
  ".safetensors": "application/octet-stream",
};
const isolation = flag("--no-isolation")
  ? {}
  : { "Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp" };

const server = createServer((req, res) => {
  const path = decodeURIComponent(new URL(req.url ?? "/", "http://localhost").pathname);
  const file = normalize(join(dist, path.endsWith("/") ? `${path}index.html` : path));
  if (!file.startsWith(dist + sep) || !existsSync(file) || !statSync(file).isFile()) {
    res.writeHead(404, { "Content-Type": "text/plain" }).end(`not found: ${path}\n`);
    return;
  }
  res.writeHead(200, {
    "Content-Type": TYPES[extname(file)] ?? "application/octet-stream",
    "Content-Length": statSync(file).size,
    "Cross-Origin-Resource-Policy": "same-origin",
    "Cache-Control": "no-cache",
    ...isolation,
  });
  createReadStream(file).pipe(res);
});
server.on("error", (e) => {
  process.stderr.write(
    `web: cannot listen on port ${port}: ${e.code === "EADDRINUSE" ? "in use; pass --port N (0: any free port)" : e.message}\n`,
  );
  process.exit(1);
});
server.listen(port, "127.0.0.1", () => {
  const { port: bound } = server.address();
  process.stdout.write(
    `tradeoffs web: http://localhost:${bound}/${flag("--no-isolation") ? " (not cross-origin isolated: one thread)" : ""}\n`,
  );
});
