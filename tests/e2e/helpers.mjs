// Shared set-up for page tests: build the app, serve it on loopback, and
// launch the system's Chromium through playwright-core (never a download).
import { build, preview } from "vite";
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";

const config = new URL("../../www/vite.config.js", import.meta.url).pathname;
export const artifacts = new URL("../artifacts/", import.meta.url).pathname;
mkdirSync(artifacts, { recursive: true });

/** Builds www/ and serves the result on 127.0.0.1 at a free port. */
export async function serveApp() {
  await build({ configFile: config, logLevel: "warn" });
  const server = await preview({ configFile: config, preview: { host: "127.0.0.1", port: 0, strictPort: false } });
  const address = server.httpServer.address();
  return { url: `http://127.0.0.1:${address.port}/`, close: () => server.close() };
}

/** Headless Chromium with the flags this closed network needs. */
export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
  });
}

/** Collects console errors and page errors; a clean page has none. */
export function watchErrors(page) {
  const errors = [];
  page.on("console", (msg) => msg.type() === "error" && errors.push(msg.text()));
  page.on("pageerror", (err) => errors.push(String(err)));
  return errors;
}
