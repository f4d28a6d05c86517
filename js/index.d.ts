/// <reference path="./dispose.d.ts" />
// Types of both entries: everything the wasm bindings export, already initialised.
export * from "../pkg/petrichain.js";
// Sync adapters for CouchDB, S3-compatible stores, REST and WebRTC peers (docs/backends.md).
export * from "./adapters/index.js";
