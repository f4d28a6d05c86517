//! `Stream`: one hash-chained stream of a ledger, for JavaScript.

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use petrichain::engine::Marking;
use petrichain::store::{
    apply_delta, Action, KeysPage, Ledger, StreamRecord, Subscription, MAX_KEYS_PAGE, MAX_TOP_KEYS,
};
use petrichain::MAX_TOKENS;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::spawn_local;

use crate::error::{bad_argument, js_err};
use crate::js::{
    action_from_js, event_to_js, events_to_js, now, option, roles_from_js, to_js, ts_from_js,
};
use crate::promise::promise;
use crate::store::{AnyStore, Inner};

/// One stream of a ledger. `head`, `marking` and `enabled()` follow the
/// stream: after this handle's appends at once, after any other change (an
/// other handle, a sync, another tab through the ledger's
/// `BroadcastChannel`) as soon as the new head is read back from the store.
#[wasm_bindgen(js_name = Stream)]
pub struct JsStream {
    inner: Inner,
    model: Rc<petrichain::Model>,
    record: Rc<RefCell<StreamRecord>>,
    follow: Rc<Follow>,
    subscription: Subscription,
}

/// What keeps a handle's cached head current: the record, the ledger (weak:
/// the ledger's listeners hold this), and the number of the latest re-read
/// asked for (only the latest one is kept).
struct Follow {
    id: String,
    record: Weak<RefCell<StreamRecord>>,
    ledger: Weak<Ledger<AnyStore>>,
    asked: Cell<u64>,
}

impl Follow {
    /// Re-reads the head from the store, unless the cached one is already
    /// `hash` (this handle's own append, applied when it returned).
    fn reread(self: &Rc<Self>, hash: String) {
        let mine = self.asked.get() + 1;
        self.asked.set(mine);
        let follow = self.clone();
        spawn_local(async move {
            let Some(record) = follow.record.upgrade() else {
                return;
            };
            if record.borrow().hash == hash {
                return;
            }
            let Some(ledger) = follow.ledger.upgrade() else {
                return;
            };
            let fresh = ledger.stream(&follow.id).await;
            // A newer change asked for its own read: that one wins.
            if let (Ok(fresh), true) = (fresh, follow.asked.get() == mine) {
                *record.borrow_mut() = fresh;
            }
        });
    }
}

impl Drop for JsStream {
    fn drop(&mut self) {
        self.inner.unsubscribe(self.subscription);
    }
}

impl JsStream {
    /// The ledger this handle reads and appends through.
    pub(crate) fn inner(&self) -> &Inner {
        &self.inner
    }

    pub(crate) async fn load(inner: Inner, record: StreamRecord) -> Result<JsStream, JsValue> {
        let model = inner.model(&record.model).await.map_err(js_err)?;
        let id = record.id.clone();
        let record = Rc::new(RefCell::new(record));
        let follow = Rc::new(Follow {
            id: id.clone(),
            record: Rc::downgrade(&record),
            ledger: Rc::downgrade(&inner),
            asked: Cell::new(0),
        });
        let listener = follow.clone();
        let subscription = inner.subscribe(Some(&id), move |change| {
            listener.reread(change.hash.clone());
        });
        Ok(JsStream {
            inner,
            model,
            record,
            follow,
            subscription,
        })
    }

    /// Fires and stores `actions`; resolves to the events (or only the last
    /// one when `single`).
    pub(crate) fn fire_actions(
        &self,
        actions: Vec<Action>,
        ts: u64,
        single: bool,
    ) -> js_sys::Promise {
        let (inner, record) = (self.inner.clone(), self.record.clone());
        let model = self.model.clone();
        let follow = self.follow.clone();
        let id = record.borrow().id.clone();
        // Keyed places' appends commit the slow way: nothing to begin.
        if let (AnyStore::IndexedDb(store), false) = (inner.store(), model.has_keyed_places()) {
            store.begin_commit(&id);
        }
        promise(async move {
            let fired = inner.fire_batch(&id, &actions, ts).await;
            if let (Err(_), AnyStore::IndexedDb(store)) = (&fired, inner.store()) {
                // Refused before its commit: the begun transaction is not
                // for the next commit, which may come in a later task.
                store.forget_begun();
            }
            let mut events = fired.map_err(js_err)?;
            if let (Some(first), Some(last)) = (events.first(), events.last()) {
                let mut r = record.borrow_mut();
                if r.hash == first.prev {
                    r.seq = last.seq;
                    r.hash.clone_from(&last.hash);
                    // The marking follows the events' deltas (O(change)).
                    let mut marking = Marking(std::mem::take(&mut r.state));
                    for e in &events {
                        apply_delta(&model, &mut marking, e);
                    }
                    r.state = marking.0;
                } else if r.hash != last.hash {
                    // The cache was behind where these events were chained:
                    // read the whole head back.
                    drop(r);
                    follow.reread(last.hash.clone());
                }
            }
            // From IndexedDB: the lines the commit stored, parsed once.
            if let AnyStore::IndexedDb(store) = inner.store() {
                if let Some(value) = store.committed_js(&events) {
                    let value = value.map_err(js_err)?;
                    return Ok(if single {
                        js_sys::Array::from(&value).pop()
                    } else {
                        value
                    });
                }
            }
            match (single, events.pop()) {
                (true, Some(event)) => event_to_js(&event),
                (_, last) => {
                    events.extend(last);
                    events_to_js(&events, false)
                }
            }
        })
    }
}

#[wasm_bindgen(js_class = Stream)]
impl JsStream {
    /// The stream id.
    #[wasm_bindgen(getter)]
    pub fn id(&self) -> String {
        self.record.borrow().id.clone()
    }

    /// Id of the stream's model.
    #[wasm_bindgen(getter, js_name = modelId)]
    pub fn model_id(&self) -> String {
        self.model.id().to_string()
    }

    /// `{seq, hash}` of the last event (seq 0 and 64 zeros for a new stream).
    #[wasm_bindgen(getter, unchecked_return_type = "Head")]
    pub fn head(&self) -> Result<JsValue, JsValue> {
        let r = self.record.borrow();
        #[derive(serde::Serialize)]
        struct Head<'a> {
            seq: u64,
            hash: &'a str,
        }
        to_js(&Head {
            seq: r.seq,
            hash: &r.hash,
        })
    }

    /// Tokens per place after the last event.
    #[wasm_bindgen(getter, unchecked_return_type = "Marking")]
    pub fn marking(&self) -> Result<JsValue, JsValue> {
        let marking = Marking(self.record.borrow().state.clone());
        to_js(&self.model.marking_map(&marking))
    }

    /// Transitions that may fire now for an actor with `roles`.
    pub fn enabled(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "string[]")] roles: Option<js_sys::Array>,
    ) -> Result<Vec<String>, JsValue> {
        let roles = roles_from_js(&roles.map_or(JsValue::UNDEFINED, Into::into))?;
        let names: Vec<&str> = roles.iter().map(String::as_str).collect();
        let marking = Marking(self.record.borrow().state.clone());
        Ok(self
            .model
            .enabled(&marking, &self.model.roles(&names))
            .into_iter()
            .map(|t| self.model.transitions()[t].id.clone())
            .collect())
    }

    /// Fires `action` and stores the event (validate, hash and write in one
    /// IndexedDB transaction); resolves to the stored event. A refused firing
    /// stores nothing and throws why (`NOT_ENABLED` with `details.place`,
    /// `has`, `needs`; `ROLE_DENIED`; `INHIBITED`; `CAPACITY_EXCEEDED`...).
    #[wasm_bindgen(unchecked_return_type = "Promise<Event>")]
    pub fn fire(
        &self,
        action: String,
        #[wasm_bindgen(unchecked_optional_param_type = "AppendOptions")] options: Option<
            js_sys::Object,
        >,
    ) -> js_sys::Promise {
        let options: JsValue = options.map_or(JsValue::UNDEFINED, Into::into);
        let action = match action_from_js(&action, &options) {
            Ok(a) => a,
            Err(e) => return js_sys::Promise::reject(&e),
        };
        self.fire_actions(vec![action], now(), true)
    }

    /// Fires several actions in order, all in one transaction: all are
    /// stored or none. Resolves to the stored events. Each records its own
    /// `ts`, else `ts` (the batch's), else `Date.now()`.
    #[wasm_bindgen(js_name = fireBatch, unchecked_return_type = "Promise<Event[]>")]
    pub fn fire_batch(
        &self,
        #[wasm_bindgen(unchecked_param_type = "BatchAction[]")] actions: JsValue,
        ts: Option<f64>,
    ) -> js_sys::Promise {
        let prepared = (|| {
            if !js_sys::Array::is_array(&actions) {
                return Err(bad_argument("fireBatch expects an array of {action, ...}"));
            }
            let list = js_sys::Array::from(&actions);
            let mut out = Vec::with_capacity(list.length() as usize);
            for item in list.iter() {
                let name = option(&item, "action")?
                    .as_string()
                    .ok_or_else(|| bad_argument("each batch item needs action: string"))?;
                out.push(action_from_js(&name, &item)?);
            }
            let ts = ts_from_js(&ts.map_or(JsValue::UNDEFINED, JsValue::from_f64))?;
            Ok((out, ts))
        })();
        match prepared {
            Ok((actions, ts)) => self.fire_actions(actions, ts, false),
            Err(e) => js_sys::Promise::reject(&e),
        }
    }

    /// Stored events with seq > `after` (default 0), at most `limit`;
    /// payloads as values, or as their exact stored text with `payloadText:
    /// true`. Typed in `TS_STREAM_EVENTS` (ledger.rs).
    #[wasm_bindgen(skip_typescript)]
    pub fn events(&self, options: Option<js_sys::Object>) -> js_sys::Promise {
        let options: JsValue = options.map_or(JsValue::UNDEFINED, Into::into);
        let parsed = (|| {
            let whole = |key: &str, max: f64| -> Result<Option<f64>, JsValue> {
                let v = option(&options, key)?;
                if v.is_undefined() || v.is_null() {
                    return Ok(None);
                }
                match v.as_f64() {
                    Some(n) if n.is_finite() && n >= 0.0 && n.fract() == 0.0 && n <= max => {
                        Ok(Some(n))
                    }
                    _ => Err(bad_argument(format!(
                        "{key} must be a whole number from 0 to {max}"
                    ))),
                }
            };
            let text = option(&options, "payloadText")?;
            let text = match (text.is_undefined() || text.is_null(), text.as_bool()) {
                (true, _) => false,
                (false, Some(b)) => b,
                (false, None) => return Err(bad_argument("payloadText must be true or false")),
            };
            Ok::<_, JsValue>((
                whole("after", MAX_TOKENS as f64)?.map_or(0, |n| n as u64),
                whole("limit", u32::MAX as f64)?.map(|n| n as u32),
                text,
            ))
        })();
        let (after, limit, text) = match parsed {
            Ok(p) => p,
            Err(e) => return js_sys::Promise::reject(&e),
        };
        let inner = self.inner.clone();
        let id = self.id();
        promise(async move {
            // From IndexedDB, the stored lines go to JS as they are (one
            // parse each, in JS: `IndexedDbStore::events_js`).
            if let AnyStore::IndexedDb(store) = inner.store() {
                return store
                    .events_js(&id, after, limit, text)
                    .await
                    .map_err(js_err);
            }
            events_to_js(
                &inner.events(&id, after, limit).await.map_err(js_err)?,
                text,
            )
        })
    }

    /// Proves the count of `place` after event `seq` (default: the head):
    /// resolves to `{event, proof}`, where `proof` leads from the place's
    /// count to `event.root`, the signed Merkle root of the marking. Anyone
    /// holding only the event (and trusting its signer) checks it with
    /// `verifyPlaceProof(proof, event.root)`. For a keyed place, name the
    /// key: `prove("balance", { key: "alice" })` gives a `KeyProof` of that
    /// key's count (0 and a proof of absence for a key the place does not
    /// hold), checked with `verifyKeyProof`. The second argument is the
    /// options, or `seq` alone. Replays and verifies the stream up to
    /// `seq`; throws `UNKNOWN_PLACE`, `INVALID_INPUT` (seq out of range, a
    /// key for an unkeyed place or none for a keyed one), or what
    /// verification finds.
    // With a `key` the result is a `KeyProofAt`: the overload in
    // TS_LEDGER_TYPES (web/src/ledger.rs) says so.
    #[wasm_bindgen(unchecked_return_type = "Promise<PlaceProofAt>")]
    pub fn prove(
        &self,
        place: String,
        // A number arrives as a plain handle too (no type check on the way
        // in); `prove_options` tells the two apart.
        #[wasm_bindgen(
            unchecked_optional_param_type = "number | (ProveOptions & { key?: undefined })"
        )]
        options: Option<js_sys::Object>,
    ) -> js_sys::Promise {
        let options: JsValue = options.map_or(JsValue::UNDEFINED, Into::into);
        let (seq, key) = match prove_options(&options) {
            Ok(parsed) => parsed,
            Err(e) => return js_sys::Promise::reject(&e),
        };
        let inner = self.inner.clone();
        let id = self.id();
        promise(async move {
            let at = js_sys::Object::new();
            let (event, proof) = match key {
                None => {
                    let (event, proof) = inner.prove(&id, &place, seq).await.map_err(js_err)?;
                    (event, to_js(&proof)?)
                }
                Some(key) => {
                    let (event, proof) = inner
                        .prove_key(&id, &place, &key, seq)
                        .await
                        .map_err(js_err)?;
                    (event, to_js(&proof)?)
                }
            };
            js_sys::Reflect::set(&at, &"event".into(), &event_to_js(&event)?)?;
            js_sys::Reflect::set(&at, &"proof".into(), &proof)?;
            Ok(at.into())
        })
    }

    /// The count of `key` in keyed place `place` (0 for a key never given
    /// tokens). From this tab's tip of the stream when it holds it (O(log
    /// keys)), else one key record read from IndexedDB (schema 3, one
    /// request, whatever the number of keys). Throws `UNKNOWN_PLACE`, or
    /// `INVALID_INPUT` for an unkeyed place.
    #[wasm_bindgen(unchecked_return_type = "Promise<number>")]
    pub fn count(&self, place: String, key: String) -> js_sys::Promise {
        let inner = self.inner.clone();
        let id = self.id();
        promise(async move {
            let n = inner.count(&id, &place, &key).await.map_err(js_err)?;
            Ok(JsValue::from_f64(n as f64))
        })
    }

    /// A page of the keys of keyed place `place`, in byte order of the
    /// keys: those after `options.after` (default: from the first) that
    /// start with `options.prefix` (default: all), at most `options.limit`
    /// (default 100, at most 10,000); with the number of keys and the
    /// place's total. O(log keys + limit), from the tip or the key records.
    #[wasm_bindgen(unchecked_return_type = "Promise<KeysPage>")]
    pub fn keys(
        &self,
        place: String,
        #[wasm_bindgen(unchecked_optional_param_type = "KeysOptions")] options: Option<
            js_sys::Object,
        >,
    ) -> js_sys::Promise {
        let options: JsValue = options.map_or(JsValue::UNDEFINED, Into::into);
        let parsed = (|| {
            let after = text_option(&options, "after")?;
            let prefix = text_option(&options, "prefix")?.unwrap_or_default();
            let limit = limit_option(&options, 100, MAX_KEYS_PAGE)?;
            Ok::<_, JsValue>((after, prefix, limit))
        })();
        let (after, prefix, limit) = match parsed {
            Ok(p) => p,
            Err(e) => return js_sys::Promise::reject(&e),
        };
        let inner = self.inner.clone();
        let id = self.id();
        promise(async move {
            let page = inner
                .find_keys(&id, &place, &prefix, after.as_deref(), limit)
                .await
                .map_err(js_err)?;
            keys_page_to_js(&page)
        })
    }

    /// The keys of keyed place `place` with the highest counts, highest
    /// first, ties by key (byte order): at most `options.limit` (default
    /// 20, at most 1,000); with the number of keys and the place's total,
    /// as a `KeysPage`. From IndexedDB's index of the key records by count
    /// (O(log keys + limit)); a memory ledger ranks its own records.
    #[wasm_bindgen(unchecked_return_type = "Promise<KeysPage>")]
    pub fn top(
        &self,
        place: String,
        #[wasm_bindgen(unchecked_optional_param_type = "TopOptions")] options: Option<
            js_sys::Object,
        >,
    ) -> js_sys::Promise {
        let options: JsValue = options.map_or(JsValue::UNDEFINED, Into::into);
        let limit = match limit_option(&options, 20, MAX_TOP_KEYS) {
            Ok(n) => n,
            Err(e) => return js_sys::Promise::reject(&e),
        };
        let inner = self.inner.clone();
        let id = self.id();
        promise(async move {
            let page = inner.top(&id, &place, limit).await.map_err(js_err)?;
            keys_page_to_js(&page)
        })
    }

    /// Re-reads the head from the store now (`head` and `marking` also follow
    /// changes by themselves, a moment after they are announced).
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn refresh(&self) -> js_sys::Promise {
        let (inner, record) = (self.inner.clone(), self.record.clone());
        let id = self.id();
        promise(async move {
            let fresh = inner.stream(&id).await.map_err(js_err)?;
            *record.borrow_mut() = fresh;
            Ok(JsValue::UNDEFINED)
        })
    }
}

/// `seq` and `key` of `Stream.prove`'s second argument: nothing, a seq, or
/// `{ seq?, key? }`.
fn prove_options(options: &JsValue) -> Result<(Option<u64>, Option<String>), JsValue> {
    let seq_of = |v: &JsValue| -> Result<Option<u64>, JsValue> {
        if v.is_undefined() || v.is_null() {
            return Ok(None);
        }
        match v.as_f64() {
            Some(n) if n.is_finite() && n >= 1.0 && n.fract() == 0.0 && n <= MAX_TOKENS as f64 => {
                Ok(Some(n as u64))
            }
            _ => Err(bad_argument("seq must be a whole number from 1 to 2^53-1")),
        }
    };
    if !options.is_object() {
        return Ok((seq_of(options)?, None));
    }
    let key = text_option(options, "key")?;
    Ok((seq_of(&option(options, "seq")?)?, key))
}

/// An optional string option (`undefined` / `null`: `None`).
fn text_option(options: &JsValue, key: &str) -> Result<Option<String>, JsValue> {
    let v = option(options, key)?;
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    v.as_string()
        .map(Some)
        .ok_or_else(|| bad_argument(format!("{key} must be a string (a key)")))
}

/// The `limit` option: a whole number from 1 to `max`, `default` if absent.
fn limit_option(options: &JsValue, default: usize, max: usize) -> Result<usize, JsValue> {
    let v = option(options, "limit")?;
    if v.is_undefined() || v.is_null() {
        return Ok(default);
    }
    match v.as_f64() {
        Some(n) if n.is_finite() && n >= 1.0 && n.fract() == 0.0 && n <= max as f64 => {
            Ok(n as usize)
        }
        _ => Err(bad_argument(format!(
            "limit must be a whole number from 1 to {max}"
        ))),
    }
}

/// A [`KeysPage`] as the JS API's `{keys: [{key, count}], count, total}`.
fn keys_page_to_js(page: &KeysPage) -> Result<JsValue, JsValue> {
    let keys = js_sys::Array::new();
    for (key, count) in &page.keys {
        let entry = js_sys::Object::new();
        js_sys::Reflect::set(&entry, &"key".into(), &key.into())?;
        js_sys::Reflect::set(&entry, &"count".into(), &JsValue::from_f64(*count as f64))?;
        keys.push(&entry);
    }
    let out = js_sys::Object::new();
    js_sys::Reflect::set(&out, &"keys".into(), &keys)?;
    js_sys::Reflect::set(&out, &"count".into(), &JsValue::from_f64(page.count as f64))?;
    js_sys::Reflect::set(&out, &"total".into(), &JsValue::from_f64(page.total as f64))?;
    Ok(out.into())
}
