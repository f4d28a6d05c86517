// The REST adapter against json-server on loopback.
import { after, before } from "node:test";
import { restStore, restTransport } from "../../js/node.js";
import { scenarios } from "./scenarios.mjs";
import { startJsonServer } from "./servers.mjs";

let server;
let used = 0;
before(async () => {
  server = await startJsonServer();
});
after(() => server.stop());

scenarios("rest (json-server)", async () => {
  const url = `${server.url}/${server.collection(used++)}`;
  const headers = { Authorization: `Bearer ${server.token}` };
  return {
    store: restStore({ url, headers }),
    transport: (name) => restTransport({ url, headers, name }),
    overwrite: async (key, value) => {
      const r = await fetch(`${url}/${encodeURIComponent(key)}`, {
        method: "PATCH",
        headers: { ...headers, "Content-Type": "application/json" },
        body: JSON.stringify({ value }),
      });
      if (r.status !== 200) throw new Error(`PATCH ${r.status}`);
    },
    refusals: [
      {
        what: "403 of a wrong token",
        status: 403,
        remoteCode: "FORBIDDEN",
        transport: restTransport({ url, headers: { Authorization: "Bearer stolen" } }),
      },
      {
        what: "404 of a missing collection",
        status: 404,
        transport: restTransport({ url: `${server.url}/nowhere`, headers }),
      },
    ],
  };
});
