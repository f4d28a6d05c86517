// Browser / bundler entry: instantiates the wasm engine once, at import, so
// `import { Model } from "petrichain"` is ready to use. Bundlers (Vite,
// webpack 5, esbuild) resolve the .wasm URL that wasm-bindgen's loader builds
// with `new URL(..., import.meta.url)`.
import init from "../pkg/petrichain.js";

await init();

export * from "../pkg/petrichain.js";
// Sync adapters for CouchDB, S3-compatible stores, REST and WebRTC peers (docs/backends.md).
export * from "./adapters/index.js";
