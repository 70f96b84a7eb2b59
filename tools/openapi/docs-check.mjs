// Opens the reference page (/docs) in headless Chromium, at a desktop and at a phone
// width, and checks what a reader needs: every operation of the contract is there,
// an enum's values and an example are shown, and the page logs no error (a style
// or script the page's Content-Security-Policy refused would be one).
//
//   node docs-check.mjs http://127.0.0.1:8080 [screenshot-dir]
import { chromium } from "playwright-core";
import { readFileSync } from "node:fs";

const base = process.argv[2] ?? "http://127.0.0.1:8080";
const shots = process.argv[3];
const spec = readFileSync(new URL("../../openapi.yaml", import.meta.url), "utf8");
// The operations of /v1 (the others are the binary's own), by operationId.
const operations = [...spec.matchAll(/^ {6}operationId: (\w+)$/gm)].map((m) => m[1]);
const executablePath = process.env.CHROMIUM ?? "/usr/bin/chromium";

const browser = await chromium.launch({
  executablePath,
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync"],
});
let failed = false;
const fail = (msg) => { failed = true; console.error(`docs: ${msg}`); };
try {
  for (const [name, viewport] of [["desktop", { width: 1366, height: 900 }], ["phone", { width: 390, height: 844 }]]) {
    const page = await browser.newPage({ viewport, isMobile: name === "phone", hasTouch: name === "phone" });
    const errors = [];
    page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
    page.on("pageerror", (e) => errors.push(String(e)));
    const outside = [];
    page.on("request", (r) => { if (!r.url().startsWith(base) && !r.url().startsWith("blob:") && !r.url().startsWith("data:")) outside.push(r.url()); });
    await page.goto(`${base}/docs`, { waitUntil: "networkidle" });
    try {
      await page.waitForSelector(".api-content", { timeout: 30000 });
    } catch (e) {
      fail(`${name}: the reference did not render: ${e.message.split("\n")[0]}; console: ${errors.join(" | ")}`);
      if (shots) await page.screenshot({ path: `${shots}/docs-${name}-failed.png` });
      await page.close();
      continue;
    }
    // Redoc names each operation's section after its operationId.
    const ids = await page.$$eval("[id^='operation/']", (els) => els.map((e) => e.id.slice("operation/".length)));
    const missing = operations.filter((op) => !ids.includes(op));
    if (missing.length) fail(`${name}: operations missing from the page: ${missing.join(", ")}`);
    const text = await page.evaluate(() => document.body.innerText);
    // An enum's values (the access routes) and an example (a request sample).
    for (const want of ["continuing_education", "professionalisation_contract", "Request samples"]) {
      if (!text.includes(want)) fail(`${name}: the page does not show "${want}"`);
    }
    if (name === "phone") {
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      if (overflow > 1) fail(`phone: the page is ${overflow}px wider than the screen`);
    }
    if (errors.length) fail(`${name}: console errors:\n  ${errors.join("\n  ")}`);
    if (outside.length) fail(`${name}: loaded from elsewhere: ${outside.join(", ")}`);
    if (shots) await page.screenshot({ path: `${shots}/docs-${name}.png` });
    console.log(`docs: ${name}: ${ids.length} operations, ${errors.length} console errors`);
    await page.close();
  }
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
