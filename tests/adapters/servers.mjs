// Real servers of each kind, started on loopback by the tests and stopped
// after them: json-server (plain REST), PouchDB-server (CouchDB's HTTP API),
// moto's S3 server (from the project-local venv scripts/ci/adapters.sh
// installs; MOTO_SERVER overrides the path).
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer } from "node:net";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const repo = new URL("../../", import.meta.url).pathname;

/** A free TCP port on 127.0.0.1 (for servers that cannot report the one they bound). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function waitHttp(url, child, log, ms = 60000) {
  const end = Date.now() + ms;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited (${child.exitCode}): ${log.join("")}`);
    try {
      await fetch(url, { signal: AbortSignal.timeout(2000) });
      return;
    } catch {
      if (Date.now() > end) throw new Error(`no answer from ${url}: ${log.join("")}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

function spawnServer(command, args, env = {}) {
  // A folder of its own: PouchDB-server writes config.json and log.txt where it runs.
  const cwd = mkdtempSync(join(tmpdir(), "petrichain-backend-"));
  const child = spawn(command, args, { cwd, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
  const log = [];
  child.stdout.on("data", (c) => log.push(String(c)));
  child.stderr.on("data", (c) => log.push(String(c)));
  const stop = async () => {
    if (child.exitCode !== null) return rmSync(cwd, { recursive: true, force: true });
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    await exited;
    rmSync(cwd, { recursive: true, force: true });
  };
  return { child, log, stop };
}

/**
 * json-server (in this process, memory only) behind a bearer-token check, as
 * a REST API in front of a collection usually is. `token` is the good one.
 */
export async function startJsonServer(token = "good-token") {
  const jsonServer = require("json-server");
  const app = jsonServer.create();
  // json-server routes the collections it starts with: one per test.
  const collections = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`log${i}`, []]));
  const router = jsonServer.router(collections);
  app.use((req, res, next) => {
    if (req.headers.authorization !== `Bearer ${token}`) res.status(403).json({ error: "FORBIDDEN" });
    else next();
  });
  // json-server refuses a taken id by throwing: a 500, and its router logs
  // "Error: Insert failed, duplicate id" (expected in the test output: the
  // adapter reads the key back and sees it taken).
  app.use(router);
  const server = await new Promise((resolve) => {
    const s = app.listen(0, "127.0.0.1", () => resolve(s));
  });
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    token,
    collection: (i) => `log${i}`,
    stop: () => new Promise((resolve) => server.close(resolve)),
  };
}

/** PouchDB-server, in memory, as a child process on a free loopback port. */
export async function startPouchServer() {
  const port = await freePort();
  const bin = require.resolve("pouchdb-server/bin/pouchdb-server");
  const server = spawnServer(
    process.execPath,
    [bin, "--in-memory", "--host", "127.0.0.1", "--port", String(port), "--no-color"],
    {},
  );
  const url = `http://127.0.0.1:${port}`;
  await waitHttp(url, server.child, server.log);
  return { url, stop: server.stop };
}

/**
 * moto's S3 server as a child process on a free loopback port. With
 * `{auth: true}` it checks credentials against its (empty) IAM: every
 * request is refused, 403 InvalidAccessKeyId.
 */
export async function startMoto({ auth = false } = {}) {
  const bin = process.env.MOTO_SERVER ?? `${repo}.tools/adapters-venv/bin/moto_server`;
  if (!existsSync(bin)) throw new Error(`${bin} missing: bash scripts/ci/adapters.sh installs it`);
  const port = await freePort();
  const server = spawnServer(
    bin,
    ["-H", "127.0.0.1", "-p", String(port)],
    auth ? { INITIAL_NO_AUTH_ACTION_COUNT: "0" } : {},
  );
  const url = `http://127.0.0.1:${port}`;
  await waitHttp(url, server.child, server.log);
  return { url, stop: server.stop };
}
