// The CouchDB adapter against PouchDB-server (CouchDB's HTTP API) on loopback.
import { after, before } from "node:test";
import { couchStore, couchTransport } from "../../js/node.js";
import { scenarios } from "./scenarios.mjs";
import { startPouchServer } from "./servers.mjs";

let server;
let used = 0;
before(async () => {
  server = await startPouchServer();
});
after(() => server.stop());

scenarios("couchdb (pouchdb-server)", async () => {
  const url = `${server.url}/ledger${used++}`;
  const made = await fetch(url, { method: "PUT" });
  if (made.status !== 201) throw new Error(`PUT database: ${made.status}`);
  return {
    store: couchStore({ url }),
    transport: (name) => couchTransport({ url, name }),
    overwrite: async (key, value) => {
      const doc = `${url}/${encodeURIComponent(key)}`;
      const { _rev } = await (await fetch(doc)).json();
      const r = await fetch(doc, {
        method: "PUT",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ _rev, value }),
      });
      if (r.status !== 201) throw new Error(`PUT ${r.status}`);
    },
    refusals: [
      {
        what: "404 of a missing database",
        status: 404,
        remoteCode: "NO_DATABASE",
        transport: couchTransport({ url: `${server.url}/missing` }),
      },
    ],
  };
});
