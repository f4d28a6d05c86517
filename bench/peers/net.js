// The net of the peers pages (libs.js, ready/main.js) and of
// scripts/wasm-verify-speed.mjs: a token going back and forth, so every
// append is checked against a net while the net itself costs next to nothing.
export const NET = {
  places: [{ id: "a", initial: 1 }, { id: "b" }],
  transitions: [{ id: "go" }, { id: "back" }],
  arcs: [
    { source: "a", target: "go" },
    { source: "go", target: "b" },
    { source: "b", target: "back" },
    { source: "back", target: "a" },
  ],
};
