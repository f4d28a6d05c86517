// The single-append experiment (bench/layouts/run.mjs --page single): what
// one append's round trip is made of, on plain IndexedDB and WebCrypto.
// Each variant appends one ~900-byte record per transaction, 300 times;
// p50 / p95 in ms:
//   sign       an Ed25519 signature (WebCrypto) alone, awaited
//   put        a readwrite transaction adding the record and putting the head (the raw loop)
//   checked    the same with the head's get and a count first, all sent at once
//              (petrichain's one-round-trip commit, web/src/hot.js `commitOnHead`)
//   signed     sign, then `checked` (what an append does today, wasm aside)
//   overlap    `checked`'s reads sent first, the signature made meanwhile, the
//              writes sent once it is ready inside the same transaction
//              (kept alive by re-reading the head while it waits)
import { done, openLayout, request } from "./idb.js";
const N = 300;
const line = "x".repeat(880);
const rec = (i) => ({ stream: "s1", seq: i + 1, hash: String(i).padStart(64, "0"), json: line });
const head = (i) => ({ id: "s1", model: "m", seq: i + 1, hash: String(i).padStart(64, "0"), state: "[0,1]" });

function put(db, i) {
  const tx = db.transaction(["events", "streams"], "readwrite");
  tx.objectStore("events").add(rec(i));
  tx.objectStore("streams").put(head(i));
  return done(tx);
}
function checked(db, i) {
  const tx = db.transaction(["events", "streams"], "readwrite");
  const streams = tx.objectStore("streams");
  const events = tx.objectStore("events");
  streams.get("s1");
  events.count(IDBKeyRange.bound(["s1", i], ["s1", Number.MAX_SAFE_INTEGER], true));
  events.add(rec(i));
  streams.put(head(i));
  return done(tx);
}
// `checked` as commitOnHead does it: three stores in scope, the head
// compared in the count's success callback, then an explicit commit().
function commitOnHead(db, i, commit) {
  const tx = db.transaction(["events", "streams", "meta"], "readwrite");
  const streams = tx.objectStore("streams");
  const events = tx.objectStore("events");
  const read = streams.get("s1");
  const past = events.count(IDBKeyRange.bound(["s1", i], ["s1", Number.MAX_SAFE_INTEGER], true));
  events.add(rec(i));
  streams.put(head(i));
  past.onsuccess = () => {
    const same = i === 0 || (read.result?.seq === i && past.result === 0);
    if (!same) tx.abort();
    else if (commit) tx.commit();
  };
  return done(tx);
}
function overlap(db, i, sign) {
  const tx = db.transaction(["events", "streams"], "readwrite");
  const streams = tx.objectStore("streams");
  const events = tx.objectStore("events");
  let ready = false;
  const signed = sign().then(() => {
    ready = true;
  });
  const read = streams.get("s1");
  events.count(IDBKeyRange.bound(["s1", i], ["s1", Number.MAX_SAFE_INTEGER], true));
  const wait = () => {
    if (ready) {
      events.add(rec(i));
      streams.put(head(i));
    } else streams.get("s1").onsuccess = wait;
  };
  read.onsuccess = wait;
  return Promise.all([signed, done(tx)]);
}
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
window.runSingles = async (rounds = 3) => {
  const key = await crypto.subtle.generateKey({ name: "Ed25519" }, false, ["sign", "verify"]);
  const msg = new Uint8Array(32);
  const sign = () => crypto.subtle.sign({ name: "Ed25519" }, key.privateKey, msg);
  const variants = {
    sign: async () => sign(),
    put: (db, i) => put(db, i),
    checked: (db, i) => checked(db, i),
    onhead: (db, i) => commitOnHead(db, i, false),
    onheadCommit: (db, i) => commitOnHead(db, i, true),
    signed: async (db, i) => {
      await sign();
      await checked(db, i);
    },
    overlap: (db, i) => overlap(db, i, sign),
  };
  const out = {};
  for (let round = 0; round < rounds; round++) {
    const names = Object.keys(variants);
    for (const name of names.map((_, k) => names[(k + round) % names.length])) {
      const db = await openLayout(`single-${name}-${round}`, { meta: true });
      const times = [];
      for (let i = 0; i < N; i++) {
        const t0 = performance.now();
        await variants[name](db, i);
        times.push(performance.now() - t0);
      }
      db.close();
      await request(indexedDB.deleteDatabase(`single-${name}-${round}`));
      if (!out[name]) out[name] = [];
      out[name].push({ p50: pct(times, 50), p95: pct(times, 95), mean: times.reduce((a, b) => a + b, 0) / N });
    }
  }
  return out;
};
document.body.dataset.ready = "true";
