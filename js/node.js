// Node entry: instantiates the wasm engine synchronously from the file next to
// this package's loader. IndexedDB does not exist in Node: use the in-memory
// ledger there.
import { readFileSync } from "node:fs";
import { initSync } from "../pkg/petrichain.js";

initSync({ module: readFileSync(new URL("../pkg/petrichain_bg.wasm", import.meta.url)) });

export * from "../pkg/petrichain.js";
// Sync adapters for CouchDB, S3-compatible stores, REST and WebRTC peers (docs/backends.md).
export * from "./adapters/index.js";
