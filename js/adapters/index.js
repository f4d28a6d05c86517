// Sync adapters for backends people already run (docs/backends.md): each is a
// JS transport (`ledger.sync({transport})`) over a create-only store.
export { couchStore, couchTransport } from "./couchdb.js";
export { createOnlyTransport, keys, MAX_PAGE, memoryStore, pollHeads, TransportError } from "./create-only.js";
export { liveSync } from "./live.js";
export { restStore, restTransport } from "./rest.js";
export { s3Store, s3Transport } from "./s3.js";
export { signV4 } from "./sigv4.js";
export { connectPeer, peerStore, peerTransport, servePeerStore } from "./webrtc.js";
