// Runs petrichain-server under a supervisor that the browser tests can ask to
// kill it (SIGKILL, like a crash or a redeploy) and start it again on the same
// port and SQLite file, so a test can restart the server in the middle of a sync.
//   node scripts/ci/restartable-server.mjs <server binary> <sqlite file>
// Prints "listening on http://127.0.0.1:<control port> server http://127.0.0.1:<server port>".
// Control endpoints (any origin): POST /kill, POST /start.
import http from "node:http";
import net from "node:net";
import { spawn } from "node:child_process";

const [bin, db] = process.argv.slice(2);
if (!bin || !db) {
  console.error("usage: restartable-server.mjs <server binary> <sqlite file>");
  process.exit(2);
}

const port = await new Promise((resolve) => {
  const probe = net.createServer().listen(0, "127.0.0.1", () => {
    const { port } = probe.address();
    probe.close(() => resolve(port));
  });
});

let child = null;
function start() {
  return new Promise((resolve, reject) => {
    child = spawn(bin, ["--addr", `127.0.0.1:${port}`, "--db", db, "--cors-origin", "*"], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.on("data", (chunk) => {
      out += chunk;
      if (out.includes("listening on")) resolve();
    });
    child.once("exit", (code, signal) =>
      reject(new Error(`petrichain-server exited (${code ?? signal}) before listening`)),
    );
  });
}
function kill() {
  return new Promise((resolve) => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once("exit", () => resolve());
    child.kill("SIGKILL");
  });
}

await start();
const control = http.createServer(async (req, res) => {
  const cors = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "POST",
    "Access-Control-Allow-Headers": "*",
  };
  if (req.method === "OPTIONS") {
    res.writeHead(204, cors);
    res.end();
    return;
  }
  req.resume();
  try {
    if (req.method === "POST" && req.url === "/kill") await kill();
    else if (req.method === "POST" && req.url === "/start") await start();
    else {
      res.writeHead(404, cors);
      res.end("unknown control");
      return;
    }
    res.writeHead(200, cors);
    res.end("ok");
  } catch (err) {
    res.writeHead(500, cors);
    res.end(String(err));
  }
});
control.listen(0, "127.0.0.1", () => {
  console.log(`listening on http://127.0.0.1:${control.address().port} server http://127.0.0.1:${port}`);
});
for (const sig of ["SIGTERM", "SIGINT"]) {
  process.on(sig, async () => {
    await kill();
    control.close(() => process.exit(0));
  });
}
