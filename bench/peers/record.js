// The application record every contender of the peers benchmark stores
// (libs.js), and that bench/peers/ready.mjs --appends writes (ready/calls.js).

/** The one stream the records belong to. */
export const STREAM = "s1";
/** Target size of one record's JSON text (the application data). */
export const RECORD_BYTES = 400;

const base = (i, note) => ({
  stream: STREAM,
  seq: i + 1,
  action: i % 2 === 0 ? "go" : "back",
  actor: "bench",
  ts: 1_700_000_000_000 + i,
  payload: { i, sku: `sku-${i % 97}`, qty: (i % 7) + 1, note },
});
const pad = RECORD_BYTES - JSON.stringify(base(5000, "")).length;

/** Record i: the application data every library stores (about RECORD_BYTES of JSON). */
export function record(i) {
  return base(i, "x".repeat(Math.max(0, pad)));
}
