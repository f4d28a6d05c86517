// Node entry of `petrichain/core` (see browser.js): instantiates the smaller
// wasm synchronously from the file next to its loader.
import { readFileSync } from "node:fs";
import { initSync } from "../../pkg/core/petrichain.js";

initSync({ module: readFileSync(new URL("../../pkg/core/petrichain_bg.wasm", import.meta.url)) });

export * from "../../pkg/core/petrichain.js";
export * from "../adapters/index.js";
