// A deliberately broken sync backend for the browser tests (scripts/ci/sync.sh):
//   /status500/...  every request answers 500 {"code":"INTERNAL",...}
//   /garbage/...    every request answers 200 with a body that is not JSON
//   /html404/...    every request answers 404 with an HTML page
// Listens on 127.0.0.1 (port 0: a free one), prints "listening on http://..."
// and allows any origin (the test page is served from another port).
import http from "node:http";

const server = http.createServer((req, res) => {
  const cors = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, PUT, POST",
    "Access-Control-Allow-Headers": req.headers["access-control-request-headers"] || "*",
  };
  if (req.method === "OPTIONS") {
    res.writeHead(204, cors);
    res.end();
    return;
  }
  req.resume();
  if (req.url.startsWith("/status500/")) {
    res.writeHead(500, { ...cors, "Content-Type": "application/json" });
    res.end(JSON.stringify({ code: "INTERNAL", message: "database is on fire" }));
  } else if (req.url.startsWith("/garbage/")) {
    res.writeHead(200, { ...cors, "Content-Type": "application/json" });
    res.end('{"stream": "till", "events": [ {"seq": 1, "hash": ');
  } else {
    res.writeHead(404, { ...cors, "Content-Type": "text/html" });
    res.end("<html><body>Not here</body></html>");
  }
});
server.listen(0, "127.0.0.1", () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}`);
});
for (const sig of ["SIGTERM", "SIGINT"]) process.on(sig, () => server.close(() => process.exit(0)));
