// The key records of keyed places in IndexedDB (web/src/idb_keys.rs binds
// these): a batch of records built, or read back, in one call instead of
// several crossings per record. Plain JS on the layout of idb_keys.rs.

const MAX = 2 ** 53 - 1;
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * The records `{stream, place, k, key, count, rank}` of `rows`, the JSON
 * text of `[[place, key, count], ...]` (counts 1 to 2^53-1). `k` is the
 * key's UTF-8 bytes: binary IndexedDB keys compare byte by byte, as the
 * core's keys do. `rank` is 2^53-1 - count: the `top` index, ascending,
 * lists the highest counts first and ties by key.
 */
export function keyRecords(stream, rows) {
  return JSON.parse(rows).map(([place, key, count]) => ({
    stream,
    place,
    k: encoder.encode(key),
    key,
    count,
    rank: MAX - count,
  }));
}

/**
 * The `[[place, key, count], ...]` of stored records, as JSON text. Throws
 * `{corrupt, message}` for a record that is not one `keyRecords` builds
 * (edited by hand): its key bytes, text, count and rank must agree.
 */
export function keyRows(records) {
  const rows = new Array(records.length);
  for (let i = 0; i < records.length; i++) {
    const r = records[i];
    let same = false;
    try {
      same =
        typeof r?.place === "string" &&
        typeof r.key === "string" &&
        Number.isSafeInteger(r.count) &&
        r.count > 0 &&
        r.rank === MAX - r.count &&
        r.k instanceof Uint8Array &&
        decoder.decode(r.k) === r.key;
    } catch {
      same = false;
    }
    if (!same) {
      throw {
        corrupt: `${r?.stream}/${r?.place}`,
        message: `the record of key ${JSON.stringify(r?.key)} is not a key record (bytes, text, count and rank must agree)`,
      };
    }
    rows[i] = [r.place, r.key, r.count];
  }
  return JSON.stringify(rows);
}
