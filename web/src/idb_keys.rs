//! The key records of keyed places in IndexedDB (object store `keys`,
//! schema version 3; docs/storage.md).
//!
//! One record per key: `{stream, place, k, key, count, rank}` under the key
//! `[stream, place, k]`, where `k` is the key's UTF-8 bytes (binary
//! IndexedDB keys compare byte by byte, so pages come in the core's byte
//! order) and `rank` is 2^53-1 - count, so that the index `top` on
//! `[stream, place, rank]` lists the highest counts first, ties by key.
//! A commit writes only the keys its events changed, in its own
//! transaction (a count of 0 deletes the record); deleting a stream deletes
//! its records. The number of keys of each place is kept in `meta`
//! (`{id: "keys\0<stream>", sizes}`, `sizes` the JSON text of
//! `{place: keys}`), moved by the commits that add or remove a key, so a
//! page or a top list says how many keys there are without counting them.
//!
//! Every function here runs inside the caller's transaction and awaits only
//! IndexedDB requests, so the transaction stays alive.

use std::collections::BTreeMap;

use js_sys::{Array, Uint8Array};
use petrichain::chain::{ChainError, Event};
use petrichain::store::{key_changes, KeyCount, KeyQuery};
use petrichain::MAX_TOKENS;
use rexie::{Index, KeyRange, ObjectStore, Transaction};
use wasm_bindgen::prelude::*;

use crate::indexeddb::storage;

#[wasm_bindgen(module = "/src/keys.js")]
extern "C" {
    #[wasm_bindgen(js_name = keyRecords)]
    fn key_records(stream: &str, rows: &str) -> Array;
    #[wasm_bindgen(js_name = keyRows, catch)]
    fn key_rows(records: &Array) -> Result<String, JsValue>;
}

/// The object store's name.
pub(crate) const STORE: &str = "keys";
/// The index of the records by `[stream, place, rank]`.
const TOP: &str = "top";
/// Records written per request batch (the fill of an upgrade writes a
/// stream's keys in batches of this many, in one transaction).
const BATCH: usize = 1_000;

/// The `keys` object store and its `top` index, for the schema.
pub(crate) fn object_store() -> ObjectStore {
    ObjectStore::new(STORE)
        .key_path_array(["stream", "place", "k"])
        .add_index(Index::new_array(TOP, ["stream", "place", "rank"]))
}

fn bytes(key: &[u8]) -> JsValue {
    Uint8Array::from(key).into()
}

fn id(stream: &str, place: &str, k: JsValue) -> JsValue {
    Array::of3(&stream.into(), &place.into(), &k).into()
}

fn range(
    lower: &JsValue,
    upper: &JsValue,
    lower_open: bool,
    upper_open: bool,
) -> Result<KeyRange, ChainError> {
    KeyRange::bound(lower, upper, Some(lower_open), Some(upper_open)).map_err(|e| storage(e.into()))
}

/// Every record of `stream`: from `[stream]` (below any of its ids) to
/// `[stream, []]` (an array sorts above every string).
fn stream_range(stream: &str) -> Result<KeyRange, ChainError> {
    let lower: JsValue = Array::of1(&stream.into()).into();
    let upper: JsValue = Array::of2(&stream.into(), &Array::new()).into();
    range(&lower, &upper, false, true)
}

/// The records of `place` whose keys come after `after` (exclusive) and
/// start with `prefix`: the bytes of a UTF-8 key with that prefix sort from
/// the prefix (inclusive) to the prefix followed by 0xFF (exclusive; no
/// UTF-8 text holds that byte). An array sorts above every binary key.
fn page_range(
    stream: &str,
    place: &str,
    prefix: &str,
    after: Option<&str>,
) -> Result<KeyRange, ChainError> {
    let from_prefix = !prefix.is_empty() && after.is_none_or(|a| a < prefix);
    let (lower, open) = match after {
        _ if from_prefix => (prefix.as_bytes(), false),
        Some(a) => (a.as_bytes(), true),
        None => (&b""[..], false),
    };
    let upper = if prefix.is_empty() {
        id(stream, place, Array::new().into())
    } else {
        let mut end = prefix.as_bytes().to_vec();
        end.push(0xFF);
        id(stream, place, bytes(&end))
    };
    range(&id(stream, place, bytes(lower)), &upper, open, true)
}

/// The `meta` id of a stream's numbers of keys.
fn sizes_id(stream: &str) -> String {
    format!("keys\u{0}{stream}")
}

/// The number of keys of each keyed place of `stream` (none: 0).
async fn read_sizes(tx: &Transaction, stream: &str) -> Result<BTreeMap<String, u64>, ChainError> {
    let meta = tx.store("meta").map_err(storage)?;
    let Some(record) = meta
        .get(JsValue::from_str(&sizes_id(stream)))
        .await
        .map_err(storage)?
        .filter(|v| !v.is_undefined())
    else {
        return Ok(BTreeMap::new());
    };
    let text = js_sys::Reflect::get(&record, &"sizes".into())
        .ok()
        .and_then(|t| t.as_string());
    text.and_then(|t| serde_json::from_str(&t).ok())
        .ok_or_else(|| ChainError::CorruptRecord {
            store: "meta".into(),
            key: format!("keys/{stream}"),
            message: "the numbers of keys are not a JSON object of counts".into(),
        })
}

async fn write_sizes(
    tx: &Transaction,
    stream: &str,
    sizes: &BTreeMap<String, u64>,
) -> Result<(), ChainError> {
    let text = serde_json::to_string(sizes).map_err(|e| ChainError::Storage {
        message: format!("cannot encode the numbers of keys: {e}"),
    })?;
    let record = js_sys::Object::new();
    for (k, v) in [
        ("id", JsValue::from_str(&sizes_id(stream))),
        ("sizes", text.into()),
    ] {
        js_sys::Reflect::set(&record, &k.into(), &v).map_err(|_| ChainError::Storage {
            message: "cannot build the numbers of keys".into(),
        })?;
    }
    let meta = tx.store("meta").map_err(storage)?;
    meta.put(&record.into(), None).await.map_err(storage)?;
    Ok(())
}

/// What `keys.js` threw, as a [`ChainError`].
fn corrupt(stream: &str, e: JsValue) -> ChainError {
    let get = |k: &str| js_sys::Reflect::get(&e, &k.into()).unwrap_or(JsValue::UNDEFINED);
    ChainError::CorruptRecord {
        store: STORE.into(),
        key: get("corrupt").as_string().unwrap_or_else(|| stream.into()),
        message: get("message")
            .as_string()
            .unwrap_or_else(|| "unreadable key record".into()),
    }
}

/// The `(place, key, count)` of stored records, checked by `keys.js`.
fn rows(stream: &str, records: Vec<JsValue>) -> Result<Vec<KeyCount>, ChainError> {
    let array: Array = records.into_iter().collect();
    let text = key_rows(&array).map_err(|e| corrupt(stream, e))?;
    serde_json::from_str(&text).map_err(|e| ChainError::CorruptRecord {
        store: STORE.into(),
        key: stream.into(),
        message: e.to_string(),
    })
}

/// Writes the counts `changes` gives, `(place, key) -> count`: a record
/// per key with a count, a delete per key at 0, and the numbers of keys
/// moved by the keys that came or went. The requests of each step are
/// issued together (one round trip per step, whatever the number of keys).
pub(crate) async fn write(
    tx: &Transaction,
    stream: &str,
    changes: &BTreeMap<(&str, &str), u64>,
) -> Result<(), ChainError> {
    write_checked(tx, stream, changes, true).await
}

/// [`write`]; `check: false` when the stream is known to have no records
/// (the fill, after [`remove_stream`]): no key is asked about.
async fn write_checked(
    tx: &Transaction,
    stream: &str,
    changes: &BTreeMap<(&str, &str), u64>,
    check: bool,
) -> Result<(), ChainError> {
    use futures_util::future::try_join_all;
    if changes.is_empty() {
        return Ok(());
    }
    let keys = tx.store(STORE).map_err(storage)?;
    let ids: Vec<JsValue> = changes
        .keys()
        .map(|(place, key)| id(stream, place, bytes(key.as_bytes())))
        .collect();
    let existed = if check {
        try_join_all(ids.iter().map(|i| keys.key_exists(i.clone())))
            .await
            .map_err(storage)?
    } else {
        vec![false; ids.len()]
    };
    let mut moved: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    let mut puts: Vec<(&str, &str, u64)> = Vec::new();
    let mut deletes = Vec::new();
    for (((&(place, key), &n), had), i) in changes.iter().zip(&existed).zip(&ids) {
        let (came, went) = moved.entry(place).or_default();
        match (*had, n > 0) {
            (false, true) => *came += 1,
            (true, false) => *went += 1,
            _ => {}
        }
        if n == 0 {
            if *had {
                deletes.push(keys.delete(i.clone()));
            }
        } else {
            puts.push((place, key, n));
        }
    }
    if moved.values().any(|(came, went)| came != went) {
        let mut sizes = read_sizes(tx, stream).await?;
        for (place, (came, went)) in moved {
            let n = sizes.entry(place.to_string()).or_default();
            *n = n.saturating_add(came).saturating_sub(went);
            if *n == 0 {
                sizes.remove(place);
            }
        }
        write_sizes(tx, stream, &sizes).await?;
    }
    try_join_all(deletes).await.map_err(storage)?;
    for batch in puts.chunks(BATCH) {
        let text = serde_json::to_string(batch).map_err(|e| ChainError::Storage {
            message: format!("cannot encode key records: {e}"),
        })?;
        let records = key_records(stream, &text);
        keys.put_all(records.iter().map(|r| (r, None)))
            .await
            .map_err(storage)?;
    }
    Ok(())
}

/// Writes the keys `events` (in order) changed.
pub(crate) async fn write_events(
    tx: &Transaction,
    stream: &str,
    events: &[Event],
) -> Result<(), ChainError> {
    write(tx, stream, &key_changes(events)).await
}

/// Writes `(place, key, count)` counts as they are (a sync's restored keys).
pub(crate) async fn write_counts(
    tx: &Transaction,
    stream: &str,
    counts: &[KeyCount],
) -> Result<(), ChainError> {
    let changes = counts
        .iter()
        .map(|(p, k, n)| ((p.as_str(), k.as_str()), *n))
        .collect();
    write(tx, stream, &changes).await
}

/// Replaces every record of `stream` by `changes` (counts above 0): the
/// fill of a database written before the key records.
pub(crate) async fn replace_stream(
    tx: &Transaction,
    stream: &str,
    changes: &BTreeMap<(&str, &str), u64>,
) -> Result<(), ChainError> {
    remove_stream(tx, stream).await?;
    write_checked(tx, stream, changes, false).await
}

/// Deletes every record of `stream` and its numbers of keys.
pub(crate) async fn remove_stream(tx: &Transaction, stream: &str) -> Result<(), ChainError> {
    let keys = tx.store(STORE).map_err(storage)?;
    keys.delete(stream_range(stream)?.into())
        .await
        .map_err(storage)?;
    let meta = tx.store("meta").map_err(storage)?;
    meta.delete(JsValue::from_str(&sizes_id(stream)))
        .await
        .map_err(storage)
}

/// Every record of `stream`, as `(place, key, count)`.
pub(crate) async fn all(tx: &Transaction, stream: &str) -> Result<Vec<KeyCount>, ChainError> {
    let keys = tx.store(STORE).map_err(storage)?;
    let records = keys
        .get_all(Some(stream_range(stream)?), None)
        .await
        .map_err(storage)?;
    rows(stream, records)
}

/// The count of one key (0 without a record): one `get`.
pub(crate) async fn count(
    tx: &Transaction,
    stream: &str,
    place: &str,
    key: &str,
) -> Result<u64, ChainError> {
    let keys = tx.store(STORE).map_err(storage)?;
    let record = keys
        .get(id(stream, place, bytes(key.as_bytes())))
        .await
        .map_err(storage)?
        .filter(|v| !v.is_undefined());
    let Some(record) = record else {
        return Ok(0);
    };
    let found = rows(stream, vec![record])?;
    match found.first() {
        Some((p, k, n)) if p == place && k == key && *n <= MAX_TOKENS => Ok(*n),
        _ => Err(ChainError::CorruptRecord {
            store: STORE.into(),
            key: format!("{stream}/{place}"),
            message: format!("the record under key '{key}' names another key"),
        }),
    }
}

/// How many keys `place` holds (one `meta` record).
async fn size(tx: &Transaction, stream: &str, place: &str) -> Result<u64, ChainError> {
    Ok(read_sizes(tx, stream)
        .await?
        .get(place)
        .copied()
        .unwrap_or(0))
}

fn of_place(
    stream: &str,
    place: &str,
    found: Vec<KeyCount>,
) -> Result<Vec<(String, u64)>, ChainError> {
    found
        .into_iter()
        .map(|(p, k, n)| {
            if p == place {
                Ok((k, n))
            } else {
                Err(ChainError::CorruptRecord {
                    store: STORE.into(),
                    key: format!("{stream}/{place}"),
                    message: format!("a record of place '{p}' is filed under '{place}'"),
                })
            }
        })
        .collect()
}

/// A page of `query.place`'s keys (after, prefix, limit) and its number of
/// keys.
pub(crate) async fn page(
    tx: &Transaction,
    stream: &str,
    q: &KeyQuery<'_>,
) -> Result<(Vec<(String, u64)>, u64), ChainError> {
    let keys = tx.store(STORE).map_err(storage)?;
    let limit = u32::try_from(q.limit).unwrap_or(u32::MAX);
    let found = if limit == 0 {
        Vec::new()
    } else {
        keys.get_all(
            Some(page_range(stream, q.place, q.prefix, q.after)?),
            Some(limit),
        )
        .await
        .map_err(storage)?
    };
    let found = of_place(stream, q.place, rows(stream, found)?)?;
    Ok((found, size(tx, stream, q.place).await?))
}

/// The `query.limit` keys of `query.place` with the highest counts (ties by
/// key) from the `top` index, and its number of keys.
pub(crate) async fn top(
    tx: &Transaction,
    stream: &str,
    q: &KeyQuery<'_>,
) -> Result<(Vec<(String, u64)>, u64), ChainError> {
    let index = tx
        .store(STORE)
        .and_then(|s| s.index(TOP))
        .map_err(storage)?;
    let limit = u32::try_from(q.limit).unwrap_or(u32::MAX);
    let found = if limit == 0 {
        Vec::new()
    } else {
        let lower: JsValue =
            Array::of3(&stream.into(), &q.place.into(), &JsValue::from_f64(0.0)).into();
        let upper: JsValue = Array::of3(
            &stream.into(),
            &q.place.into(),
            &JsValue::from_f64(MAX_TOKENS as f64),
        )
        .into();
        index
            .get_all(Some(range(&lower, &upper, false, false)?), Some(limit))
            .await
            .map_err(storage)?
    };
    let found = of_place(stream, q.place, rows(stream, found)?)?;
    Ok((found, size(tx, stream, q.place).await?))
}
