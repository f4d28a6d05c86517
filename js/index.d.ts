// Types of both entries: everything the wasm bindings export, already initialised.
export * from "../pkg/petrichain.js";
