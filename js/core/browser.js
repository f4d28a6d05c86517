// Browser / bundler entry of `petrichain/core`: the store, the chain, sync
// and the adapters without the file formats, SVG rendering and analysis (a
// smaller wasm, BENCHMARKS.md "Bundle"). Instantiates the wasm once, at import.
import init from "../../pkg/core/petrichain.js";

await init();

export * from "../../pkg/core/petrichain.js";
export * from "../adapters/index.js";
