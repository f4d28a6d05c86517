/// <reference path="../dispose.d.ts" />
// Types of `petrichain/core`: what its wasm bindings export (the main entry's
// API without `Model.import` / `fromPnml` / `fromPflow` / `toPnml` / `toPflow`
// / `toDot`, `renderSvg` and the analysis methods), already initialised.
export * from "../../pkg/core/petrichain.js";
export * from "../adapters/index.js";
