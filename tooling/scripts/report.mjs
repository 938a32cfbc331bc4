#!/usr/bin/env node
// Make the README's report screenshot from a real run: `pnpm compare --workload all --html
// docs/report.html`, then open it in headless Chromium (Debian's, via playwright-core; network
// blocked) and write docs/report.png. Fails if any chart reports an error or the page logs one.
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const root = join(import.meta.dirname, "..", "..");
const html = join(root, "docs", "report.html");
mkdirSync(join(root, "docs"), { recursive: true });
execFileSync("pnpm", ["compare", "--workload", "all", "--quiet", "--html", html], {
  cwd: root,
  stdio: ["ignore", "ignore", "inherit"],
});
const { chromium } = createRequire(join(root, "apps/compare/package.json"))("playwright-core");
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
    "--disable-quic",
  ],
});
const errors = [];
try {
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.route("**/*", (r) => (r.request().url().startsWith("file:") ? r.continue() : r.abort()));
  await page.goto(pathToFileURL(html).href);
  await page.waitForFunction(() => document.body.getAttribute("data-report-ready") === "true", undefined, {
    timeout: 60_000,
  });
  const failed = await page.evaluate(() =>
    [...document.querySelectorAll("[data-chart][data-error]")].map((e) => e.dataset.chart),
  );
  if (failed.length || errors.length)
    throw new Error(`charts failed: ${failed.join(", ")}; errors: ${errors.join("; ")}`);
  await page.screenshot({ path: join(root, "docs", "report.png"), fullPage: true });
  console.log("docs/report.html and docs/report.png written");
} finally {
  await browser.close();
}
