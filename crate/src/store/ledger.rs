//! The ledger: every rule of the chain, written once above the [`Store`]
//! trait. Validates with the engine, chains and hashes, commits atomically,
//! verifies by replay, exports and imports JSON lines, tells subscribers.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use super::keys::{page_of, tip_from_records, top_of, KeyQuery, MAX_TOP_KEYS};
use super::{Change, ChangeSink, Commit, ModelRecord, Store, StreamRecord};
use crate::chain::{
    check_signature, jsonl, sign_runs, sign_unsigned, v1, ChainError, Chainer, Device, Draft,
    Event, Head, KeyProof, PlaceProof, Policy, TipState, Verified, Verifier, GENESIS_PREV,
};
use crate::engine::{FireError, KeyedMarking, Marking};
use crate::formats::json::import_json;
use crate::model::{Model, MAX_TOKENS};

/// Events read per request when a ledger walks a whole stream.
const PAGE: u32 = 10_000;

/// Most keys one [`Ledger::keys`] page returns.
pub const MAX_KEYS_PAGE: usize = 10_000;

/// A page of a keyed place's keys ([`Ledger::keys`]).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct KeysPage {
    /// `(key, count)` in byte order of the keys.
    pub keys: Vec<(String, u64)>,
    /// How many keys the place holds in all.
    pub count: u64,
    /// The place's total over all keys.
    pub total: u64,
}

/// The index of keyed place `place`, or why not.
fn keyed_place(model: &Model, place: &str) -> Result<usize, ChainError> {
    let p = model
        .place_index(place)
        .ok_or_else(|| FireError::UnknownPlace {
            place: place.to_string(),
        })?;
    if !model.is_keyed(p) {
        return Err(ChainError::InvalidInput {
            field: "place".into(),
            message: format!("'{place}' is not a keyed place"),
        });
    }
    Ok(p)
}

/// Appends tried before giving up when other connections keep moving the
/// head between an append's signing and its commit.
const APPEND_ATTEMPTS: u32 = 16;

/// An action to fire on a stream: the transition and who fires it how.
///
/// ```
/// use petrichain::store::Action;
/// let a = Action::new("pay").multiple(30).actor("alice").roles(["clerk"]).payload(r#"{"ref":"inv-7"}"#);
/// assert_eq!(a.multiple, 30);
/// let t = Action::new("transfer").arg("from", "alice").arg("to", "bob").multiple(30);
/// assert_eq!(t.args.len(), 2);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Action {
    /// Transition id.
    pub action: String,
    /// Fire this many times at once (>= 1).
    pub multiple: u64,
    /// Who fires it (free text; may be empty).
    pub actor: String,
    /// Roles the actor holds (`*` holds every role).
    pub roles: Vec<String>,
    /// Exact JSON text of the payload; `None` stores `null`.
    pub payload: Option<String>,
    /// Time to record for this action (ms since the epoch); `None` takes
    /// the `ts` given to [`Ledger::fire_batch`].
    pub ts: Option<u64>,
    /// Arguments for the transition's parameters, `(param, key)`, in any
    /// order (recorded sorted by param).
    pub args: Vec<(String, String)>,
}

impl Action {
    /// Fire `action` once, by nobody in particular, with no payload.
    pub fn new(action: impl Into<String>) -> Self {
        Action {
            action: action.into(),
            multiple: 1,
            actor: String::new(),
            roles: Vec::new(),
            payload: None,
            ts: None,
            args: Vec::new(),
        }
    }
    /// Binds parameter `param` of the transition to `key`.
    pub fn arg(mut self, param: impl Into<String>, key: impl Into<String>) -> Self {
        self.args.push((param.into(), key.into()));
        self
    }
    /// Sets how many times to fire at once.
    pub fn multiple(mut self, multiple: u64) -> Self {
        self.multiple = multiple;
        self
    }
    /// Sets the actor.
    pub fn actor(mut self, actor: impl Into<String>) -> Self {
        self.actor = actor.into();
        self
    }
    /// Sets the roles the actor holds.
    pub fn roles<I: IntoIterator<Item = R>, R: Into<String>>(mut self, roles: I) -> Self {
        self.roles = roles.into_iter().map(Into::into).collect();
        self
    }
    /// Sets the payload (exact JSON text).
    pub fn payload(mut self, json: impl Into<String>) -> Self {
        self.payload = Some(json.into());
        self
    }
    /// Sets this action's own time (ms since the epoch), over the batch's.
    pub fn ts(mut self, ms: u64) -> Self {
        self.ts = Some(ms);
        self
    }

    /// Checks everything that does not depend on the net; sorts the roles.
    fn prepared(&self) -> Result<Action, ChainError> {
        chain_check_id("action", &self.action, false)?;
        chain_check_id("actor", &self.actor, true)?;
        for r in &self.roles {
            chain_check_id("role", r, false)?;
        }
        if self.multiple == 0 {
            return Err(FireError::InvalidMultiple {
                transition: self.action.clone(),
            }
            .into());
        }
        if self.multiple > MAX_TOKENS {
            return Err(ChainError::InvalidInput {
                field: "multiple".into(),
                message: "must be at most 2^53-1".into(),
            });
        }
        if self.ts.is_some_and(|ts| ts > MAX_TOKENS) {
            return Err(ChainError::InvalidInput {
                field: "ts".into(),
                message: "must be at most 2^53-1".into(),
            });
        }
        if let Some(p) = &self.payload {
            crate::chain::check_payload(p)
                .map_err(|message| ChainError::InvalidPayload { message })?;
        }
        let mut roles = self.roles.clone();
        roles.sort();
        roles.dedup();
        if self.args.len() > crate::model::MAX_PARAMS {
            return Err(ChainError::InvalidInput {
                field: "args".into(),
                message: format!("more than {} arguments", crate::model::MAX_PARAMS),
            });
        }
        let mut args = self.args.clone();
        // Stable: a parameter given twice stays twice, for the net to refuse.
        args.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(Action {
            roles,
            args,
            ..self.clone()
        })
    }
}

fn chain_check_id(field: &'static str, value: &str, allow_empty: bool) -> Result<(), ChainError> {
    crate::chain::check_id(field, value, allow_empty)
}

/// What [`Ledger::import_jsonl`] did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ImportReport {
    /// The stream.
    pub stream: String,
    /// Its model id.
    pub model: String,
    /// Events in the file (all verified).
    pub events: u64,
    /// Events that were new and got stored.
    pub added: u64,
    /// Head hash after the import.
    pub head: String,
    /// The file's chain format version: 1 when its events were upgraded
    /// (re-chained as version 2, signed by this ledger's device).
    pub version: u8,
}

/// A handle returned by [`Ledger::subscribe`]; pass it to
/// [`Ledger::unsubscribe`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subscription(u64);

type Listener = (u64, Option<String>, ChangeSink);

#[derive(Default)]
struct Listeners {
    next: u64,
    list: Vec<Listener>,
}

fn dispatch(listeners: &RefCell<Listeners>, change: &Change) {
    let targets: Vec<ChangeSink> = listeners
        .borrow()
        .list
        .iter()
        .filter(|(_, s, _)| s.as_deref().is_none_or(|s| s == change.stream))
        .map(|(_, _, f)| f.clone())
        .collect();
    for f in targets {
        f(change);
    }
}

/// A set of streams kept in a [`Store`], each validated by its net,
/// hash-chained and signed by the ledger's [`Device`].
///
/// ```
/// use petrichain::store::{Action, Ledger};
/// # fn block_on<F: std::future::Future>(f: F) -> F::Output { petrichain::store::block_on(f) }
/// let (model, _) = petrichain::formats::json::import_json(r#"{
///   "places": [{"id": "stock", "initial": 2}],
///   "transitions": [{"id": "sell"}],
///   "arcs": [{"source": "stock", "target": "sell"}]
/// }"#).unwrap();
/// block_on(async {
///     let ledger = Ledger::memory();
///     let id = ledger.put_model(&model).await.unwrap();
///     ledger.create_stream("shop", &id).await.unwrap();
///     let e = ledger.fire("shop", &Action::new("sell").payload(r#"{"sku":1}"#), 1_700_000_000_000).await.unwrap();
///     assert_eq!((e.seq, e.delta.as_slice()), (1, &[("stock".to_string(), 1)][..]));
///     assert_eq!(e.signer, ledger.device_key());
///     let err = ledger.fire("shop", &Action::new("sell").multiple(2), 0).await.unwrap_err();
///     assert_eq!(err.code(), "NOT_ENABLED");
///     assert_eq!(ledger.verify(None).await.unwrap()[0].events, 1);
/// });
/// ```
pub struct Ledger<S: Store> {
    store: S,
    models: RefCell<HashMap<String, Rc<Model>>>,
    /// Stream id -> model id. A stream's model never changes, so appends
    /// need not read the head twice (the commit re-reads and re-checks it).
    stream_models: RefCell<HashMap<String, String>>,
    listeners: Rc<RefCell<Listeners>>,
    device: Rc<dyn Device>,
    /// Stream id -> where its chain ended at this ledger's last commit, with
    /// the marking's tree, so an append costs O(change) and not
    /// O(places). Checked against the stored head in every commit.
    tips: RefCell<HashMap<String, (Head, TipState)>>,
    /// The state at the last sync point of each stream (the sync client's
    /// common head with a backend), so the next round resumes from it
    /// without a replay while local events pile up on top. One per stream,
    /// used only when its seq AND hash match, evicted with the tip.
    sync_points: RefCell<HashMap<String, (Head, TipState)>>,
}

#[cfg(feature = "os-rng")]
impl Ledger<super::MemoryStore> {
    /// A ledger in memory (nothing persisted), signing with a new random
    /// [`SoftwareKey`](crate::chain::SoftwareKey).
    pub fn memory() -> Self {
        let key = crate::chain::SoftwareKey::generate()
            .unwrap_or_else(|_| crate::chain::SoftwareKey::from_seed(&[0; 32]));
        Ledger::new(super::MemoryStore::new(), Rc::new(key))
    }
}

impl<S: Store> Ledger<S> {
    /// A ledger over `store`, signing its events with `device`.
    pub fn new(store: S, device: Rc<dyn Device>) -> Self {
        let listeners: Rc<RefCell<Listeners>> = Rc::default();
        let sink = listeners.clone();
        store.on_remote_change(Rc::new(move |change: &Change| dispatch(&sink, change)));
        Ledger {
            store,
            models: RefCell::default(),
            stream_models: RefCell::default(),
            listeners,
            device,
            tips: RefCell::default(),
            sync_points: RefCell::default(),
        }
    }

    /// The device public key (lowercase hex) this ledger signs with: the
    /// `signer` of every event it writes.
    pub fn device_key(&self) -> String {
        hex::encode(self.device.public_key())
    }

    /// The device this ledger signs with.
    pub fn device(&self) -> &Rc<dyn Device> {
        &self.device
    }

    /// The store underneath.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// Stores a model (idempotent) and returns its id.
    pub async fn put_model(&self, model: &Model) -> Result<String, ChainError> {
        let record = ModelRecord {
            id: model.id().to_string(),
            json: model.canonical_json(),
        };
        self.store.put_model(&record).await?;
        self.models
            .borrow_mut()
            .insert(record.id.clone(), Rc::new(model.clone()));
        Ok(record.id)
    }

    /// A model by id (cached after the first read).
    pub async fn model(&self, id: &str) -> Result<Rc<Model>, ChainError> {
        if let Some(m) = self.models.borrow().get(id) {
            return Ok(m.clone());
        }
        let record = self
            .store
            .model(id)
            .await?
            .ok_or_else(|| ChainError::UnknownModel { model: id.into() })?;
        let corrupt = |message: String| ChainError::CorruptRecord {
            store: "models".into(),
            key: id.into(),
            message,
        };
        let (model, _) = import_json(&record.json).map_err(|e| corrupt(e.to_string()))?;
        if model.id() != id {
            return Err(corrupt(format!("its JSON has id {}", model.id())));
        }
        let model = Rc::new(model);
        self.models
            .borrow_mut()
            .insert(id.to_string(), model.clone());
        Ok(model)
    }

    /// Creates an empty stream of a stored model, in its initial marking.
    pub async fn create_stream(&self, id: &str, model: &str) -> Result<StreamRecord, ChainError> {
        chain_check_id("stream", id, false)?;
        let model = self.model(model).await?;
        let record = StreamRecord {
            id: id.to_string(),
            model: model.id().to_string(),
            seq: 0,
            hash: GENESIS_PREV.to_string(),
            state: model.initial_marking().0,
            policy: Some(Policy::default()),
        };
        let commit = self
            .store
            .commit(id, &mut |head| match head {
                Some(_) => Err(ChainError::StreamExists { stream: id.into() }),
                None => Ok(Commit {
                    record: record.clone(),
                    events: Vec::new(),
                }),
            })
            .await?;
        self.announce(&commit);
        Ok(commit.record)
    }

    /// Deletes stream `id` from this store: its head, events, sync record
    /// and conflicts, in one atomic step (export it first to keep a copy).
    /// Subscribers and other connections hear of it as a [`Change`] with
    /// seq 0, the genesis hash and nothing added. Only this store forgets
    /// the stream: a sync backend keeps its copy. Unknown: `UNKNOWN_STREAM`.
    pub async fn delete_stream(&self, id: &str) -> Result<(), ChainError> {
        if !self.store.delete_stream(id).await? {
            return Err(ChainError::UnknownStream { stream: id.into() });
        }
        self.forget_tip(id);
        self.stream_models.borrow_mut().remove(id);
        let change = Change {
            stream: id.to_string(),
            seq: 0,
            hash: GENESIS_PREV.to_string(),
            added: 0,
        };
        self.store.broadcast(&change);
        dispatch(&self.listeners, &change);
        Ok(())
    }

    /// A stream's head (seq, hash, marking).
    pub async fn stream(&self, id: &str) -> Result<StreamRecord, ChainError> {
        self.store
            .stream(id)
            .await?
            .ok_or_else(|| ChainError::UnknownStream { stream: id.into() })
    }

    /// Every stream's head, sorted by id.
    pub async fn streams(&self) -> Result<Vec<StreamRecord>, ChainError> {
        self.store.streams().await
    }

    /// Fires one action on a stream and stores the event; returns it.
    /// `ts` is the time to record (milliseconds since the epoch; the core
    /// has no clock). A refused firing stores nothing and says why.
    pub async fn fire(&self, stream: &str, action: &Action, ts: u64) -> Result<Event, ChainError> {
        let mut events = self
            .fire_batch(stream, std::slice::from_ref(action), ts)
            .await?;
        events.pop().ok_or_else(|| ChainError::Storage {
            message: "commit returned no event".into(),
        })
    }

    /// Fires actions in order and stores all their events in one atomic
    /// commit, or none of them if any is refused. Each event records its
    /// action's own [`Action::ts`], or `ts`.
    ///
    /// The events form signature runs (docs/chain-format.md): the last one
    /// and every [`MAX_RUN`](crate::chain::MAX_RUN)-th carry `sig`, so a
    /// batch of up to 1,000 costs one signature. The batch never builds on
    /// a stored head event without `sig` (`CORRUPT_RECORD`): a ledger only
    /// ever leaves signed heads, and a signature on top of unsigned events
    /// written by someone else would vouch for them.
    pub async fn fire_batch(
        &self,
        stream: &str,
        actions: &[Action],
        ts: u64,
    ) -> Result<Vec<Event>, ChainError> {
        if ts > MAX_TOKENS {
            return Err(ChainError::InvalidInput {
                field: "ts".into(),
                message: "must be at most 2^53-1".into(),
            });
        }
        let actions = actions
            .iter()
            .map(Action::prepared)
            .collect::<Result<Vec<_>, _>>()?;
        let model = self.stream_model(stream).await?;
        for _ in 0..APPEND_ATTEMPTS {
            // Chain on the tip this ledger last saw (or the stored head),
            // sign outside the store's transaction (signing may wait on the
            // platform), then commit only if the head has not moved.
            // Taken out of the cache (not cloned: the tree is O(places));
            // put back only when the commit succeeds.
            let cached = self.tips.borrow_mut().remove(stream);
            let tip = match cached {
                Some(tip) => tip,
                None => self.stored_tip(&model, stream).await?,
            };
            let (head, state) = tip;
            let mut chainer = Chainer::new(&model, stream, &*self.device, head.clone(), state);
            let mut events = Vec::with_capacity(actions.len());
            for a in &actions {
                let appended = chainer.append(Draft {
                    action: &a.action,
                    multiple: a.multiple,
                    actor: &a.actor,
                    roles: &a.roles,
                    payload: a.payload.as_deref().unwrap_or("null"),
                    args: &a.args,
                    ts: a.ts.unwrap_or(ts),
                    nonce: None,
                });
                match appended {
                    Ok(e) => events.push(e),
                    Err(refused) => {
                        if events.is_empty() {
                            // Nothing moved: keep the tip for the next append.
                            self.tips
                                .borrow_mut()
                                .insert(stream.to_string(), chainer.finish());
                        }
                        return Err(refused);
                    }
                }
            }
            // One signature per run (the batch's last event and every
            // MAX_RUN-th): the chained hashes let it cover the rest.
            sign_runs(&*self.device, &mut events).await?;
            let (end, state) = chainer.finish();
            let record = StreamRecord {
                id: stream.to_string(),
                model: model.id().to_string(),
                seq: end.seq,
                hash: end.hash.clone(),
                state: state.marking().0.clone(),
                policy: Some(state.policy().clone()),
            };
            let mut moved = false;
            let committed = self
                .store
                .commit(stream, &mut |current| {
                    let current = current.ok_or_else(|| ChainError::UnknownStream {
                        stream: stream.into(),
                    })?;
                    if current.model != record.model {
                        // Deleted and created again with another net (by
                        // another connection): forget the cached model id.
                        self.stream_models.borrow_mut().remove(stream);
                        return Err(ChainError::WrongModel {
                            stream: stream.into(),
                            seq: current.seq.saturating_add(1),
                            expected: current.model.clone(),
                            found: record.model.clone(),
                        });
                    }
                    if current.seq != head.seq || current.hash != head.hash {
                        moved = true;
                        return Err(ChainError::Storage {
                            message: "the head moved during the append".into(),
                        });
                    }
                    Ok(Commit {
                        record: record.clone(),
                        events: std::mem::take(&mut events),
                    })
                })
                .await;
            match committed {
                Ok(commit) => {
                    self.tips
                        .borrow_mut()
                        .insert(stream.to_string(), (end, state));
                    self.announce(&commit);
                    return Ok(commit.events);
                }
                Err(_) if moved => {}
                Err(e) => return Err(e),
            }
        }
        Err(ChainError::Storage {
            message: format!(
                "stream '{stream}' kept changing under {APPEND_ATTEMPTS} attempts to append"
            ),
        })
    }

    /// The stored head of `stream` and its state (O(places): builds the tree).
    async fn stored_tip(
        &self,
        model: &Model,
        stream: &str,
    ) -> Result<(Head, TipState), ChainError> {
        let head = self.stream(stream).await?;
        if head.model != model.id() {
            return Err(ChainError::CorruptRecord {
                store: "streams".into(),
                key: stream.into(),
                message: format!("model changed to {}", head.model),
            });
        }
        if head.state.len() != model.places().len() {
            return Err(ChainError::CorruptRecord {
                store: "streams".into(),
                key: stream.into(),
                message: format!(
                    "marking has {} counts, the net has {} places",
                    head.state.len(),
                    model.places().len()
                ),
            });
        }
        self.check_signed_head(stream, head.seq, &head.hash).await?;
        let at = Head {
            seq: head.seq,
            hash: head.hash,
        };
        let policy = match head.policy {
            Some(p) => p,
            None if head.seq == 0 => Policy::default(),
            // Not recorded (a head written before grants existed, or after
            // an import): rebuilt from the events, like keyed places' keys.
            None => return Ok((at, self.state_at(model, stream, head.seq).await?)),
        };
        if model.has_keyed_places() {
            // The head record keeps keyed places' totals, not their keys:
            // those are in the store's key records (O(keys)), or else the
            // sum of the events' `keys` (O(events)).
            return match self.store.stream_keys(stream).await? {
                Some(stored) => match tip_of_records(model, stream, stored)? {
                    Some(tip) => Ok(tip),
                    // (A head read again with the keys that has no policy.)
                    None => Ok((at, self.state_at(model, stream, head.seq).await?)),
                },
                None => Ok((at, self.state_at(model, stream, head.seq).await?)),
            };
        }
        Ok((
            at,
            TipState::new(model, Marking(head.state)).with_policy(policy),
        ))
    }

    /// Refuses to build on a stored head whose event does not carry its own
    /// valid signature (or is not the head's event; one signature check,
    /// only when the tip is read from the store): the ledger's own appends
    /// always end signed, so an unsigned head was written by someone else,
    /// and this device's next signature would cover it (its hash is in the
    /// next `prev`). `CORRUPT_RECORD`, store `events`.
    async fn check_signed_head(
        &self,
        stream: &str,
        seq: u64,
        hash: &str,
    ) -> Result<(), ChainError> {
        if seq == 0 {
            return Ok(());
        }
        let corrupt = |message: String| ChainError::CorruptRecord {
            store: "events".into(),
            key: format!("{stream}/{seq}"),
            message,
        };
        let page = self.store.events(stream, seq - 1, Some(1)).await?;
        match page.first() {
            Some(e) if e.seq == seq && e.hash == hash => {
                if e.sig.is_empty() {
                    return Err(corrupt(format!(
                        "the head event (seq {seq}) carries no signature: this ledger never leaves one so, and will not sign on top of it"
                    )));
                }
                // (Its hash is not recomputed: the new event's prev is this
                // hash, and a signature of it covers only what it hashes.)
                check_signature(e).map_err(|bad| corrupt(format!("the head event: {bad}")))
            }
            _ => Err(corrupt(format!(
                "the head's event (seq {seq}, hash {hash}) is not stored"
            ))),
        }
    }

    /// The state (marking, keys and tree) of `stream` after event `seq`,
    /// from the counts its stored events say they changed (they were
    /// verified when written); the root reached is checked against the
    /// event's. O(seq).
    pub(crate) async fn state_at(
        &self,
        model: &Model,
        stream: &str,
        seq: u64,
    ) -> Result<TipState, ChainError> {
        let mut marking = model.initial_marking();
        let mut keyed = KeyedMarking::empty(model.places().len());
        let mut at = 0;
        let mut root = None;
        let mut policy = Policy::default();
        while at < seq {
            let limit = PAGE.min(u32::try_from(seq - at).unwrap_or(PAGE));
            let page = self.store.events(stream, at, Some(limit)).await?;
            if page.is_empty() {
                break;
            }
            for e in &page {
                apply_delta(model, &mut marking, e);
                apply_keys(model, &mut keyed, e);
                policy
                    .follow(model, e)
                    .map_err(|err| ChainError::CorruptRecord {
                        store: "events".into(),
                        key: format!("{stream}/{}", e.seq),
                        message: format!("a stored event breaks the stream's policy: {err}"),
                    })?;
                at = e.seq;
                root = Some(e.root.clone());
            }
        }
        let state = TipState::with_keys(model, marking, keyed).with_policy(policy);
        if let Some(root) = root {
            if root != state.root_hex() {
                return Err(ChainError::CorruptRecord {
                    store: "events".into(),
                    key: format!("{stream}/{at}"),
                    message: "the counts of the stored events do not reach the event's root".into(),
                });
            }
        }
        Ok(state)
    }

    /// The policy of `stream` at its head: owner, grants, revocations and
    /// display names (docs/chain-format.md, "Grants, revocations and
    /// profiles").
    pub async fn policy(&self, stream: &str) -> Result<Policy, ChainError> {
        self.with_tip(stream, |_, state| state.policy().clone())
            .await
    }

    /// [`Ledger::state_at`] for the model of `stream`.
    pub(crate) async fn state_at_seq(
        &self,
        stream: &str,
        seq: u64,
    ) -> Result<TipState, ChainError> {
        let model = self.stream_model(stream).await?;
        if model.has_keyed_places() && self.stream(stream).await?.seq == seq {
            // At the head: from the key records (O(keys), root checked)
            // when the store keeps them, not a replay of every event.
            let (at, state) = self.stored_tip(&model, stream).await?;
            // (Unless the head moved in between.)
            if at.seq == seq {
                return Ok(state);
            }
        }
        self.state_at(&model, stream, seq).await
    }

    /// The state of `stream` after its event `at` (a head of the local
    /// chain the caller has checked): a copy of the cached sync point or
    /// tip when one is at exactly `at` (seq and hash; no hashing), else
    /// [`Ledger::state_at_seq`].
    pub(crate) async fn state_at_head(
        &self,
        stream: &str,
        at: &Head,
    ) -> Result<TipState, ChainError> {
        for cache in [&self.sync_points, &self.tips] {
            if let Some((head, state)) = cache.borrow().get(stream) {
                if head == at {
                    return Ok(state.clone());
                }
            }
        }
        self.state_at_seq(stream, at.seq).await
    }

    /// Remembers `state` as the state after event `at` of `stream`, the
    /// new sync point (replacing the previous one).
    pub(crate) fn remember_sync_point(&self, stream: &str, at: Head, state: TipState) {
        self.sync_points
            .borrow_mut()
            .insert(stream.to_string(), (at, state));
    }

    /// Makes a copy of the cached tip the sync point if the tip is at
    /// exactly `at` (a memory copy, no hashing); nothing otherwise, or if
    /// the sync point already is `at`.
    pub(crate) fn remember_sync_point_from_tip(&self, stream: &str, at: &Head) {
        if self
            .sync_points
            .borrow()
            .get(stream)
            .is_some_and(|(head, _)| head == at)
        {
            return;
        }
        let copy = self
            .tips
            .borrow()
            .get(stream)
            .filter(|(head, _)| head == at)
            .map(|(_, state)| state.clone());
        match copy {
            Some(state) => self.remember_sync_point(stream, at.clone(), state),
            // Keep no sync point that is not the current one.
            None => {
                self.sync_points.borrow_mut().remove(stream);
            }
        }
    }

    /// Sets this ledger's tip of `stream` (after a commit that moved the
    /// head to `at`, whose state is `state`).
    pub(crate) fn set_tip(&self, stream: &str, at: Head, state: TipState) {
        self.tips
            .borrow_mut()
            .insert(stream.to_string(), (at, state));
    }

    /// The tip of `stream` (from this ledger's cache, or rebuilt from the
    /// store), to read from.
    async fn with_tip<R>(
        &self,
        stream: &str,
        read: impl FnOnce(&Model, &TipState) -> R,
    ) -> Result<R, ChainError> {
        let model = self.stream_model(stream).await?;
        let head = self.stream(stream).await?;
        {
            let tips = self.tips.borrow();
            if let Some((at, state)) = tips.get(stream) {
                if at.seq == head.seq && at.hash == head.hash {
                    return Ok(read(&model, state));
                }
            }
        }
        let tip = self.stored_tip(&model, stream).await?;
        let out = read(&model, &tip.1);
        self.tips.borrow_mut().insert(stream.to_string(), tip);
        Ok(out)
    }

    /// Reads from this ledger's tip of `stream` if it holds one that is the
    /// stored head (`None` otherwise: the caller asks the store).
    async fn current_tip<R>(
        &self,
        stream: &str,
        read: impl FnOnce(&TipState) -> R,
    ) -> Result<Option<R>, ChainError> {
        if !self.tips.borrow().contains_key(stream) {
            return Ok(None);
        }
        let head = self.stream(stream).await?;
        let tips = self.tips.borrow();
        Ok(tips
            .get(stream)
            .filter(|(at, _)| at.seq == head.seq && at.hash == head.hash)
            .map(|(_, state)| read(state)))
    }

    /// The count of `key` in keyed place `place` of `stream` (0 if the key
    /// holds nothing). O(log keys) from the tip this ledger holds; else one
    /// key record read from the store; else (a store without key records)
    /// the tip rebuilt once.
    pub async fn count(&self, stream: &str, place: &str, key: &str) -> Result<u64, ChainError> {
        let model = self.stream_model(stream).await?;
        let p = keyed_place(&model, place)?;
        if let Some(n) = self
            .current_tip(stream, |tip| tip.keyed().get(p, key))
            .await?
        {
            return Ok(n);
        }
        if let Some(n) = self.store.key_count(stream, place, key).await? {
            return Ok(n);
        }
        self.with_tip(stream, |_, tip| tip.keyed().get(p, key))
            .await
    }

    /// The keys of keyed place `place` of `stream` with their counts, in
    /// byte order, from the first after `after`, at most `limit` (capped at
    /// [`MAX_KEYS_PAGE`]); also the number of keys and the place's total.
    pub async fn keys(
        &self,
        stream: &str,
        place: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<KeysPage, ChainError> {
        self.find_keys(stream, place, "", after, limit).await
    }

    /// [`Ledger::keys`] of only the keys that start with `prefix` (a
    /// search box): O(log keys + limit) whatever the number of keys, from
    /// the tip this ledger holds or from the store's key records.
    pub async fn find_keys(
        &self,
        stream: &str,
        place: &str,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<KeysPage, ChainError> {
        let model = self.stream_model(stream).await?;
        let p = keyed_place(&model, place)?;
        let limit = limit.min(MAX_KEYS_PAGE);
        let from_tip = |tip: &TipState| KeysPage {
            keys: page_of(tip.keyed(), p, prefix, after, limit),
            count: tip.keyed().len(p) as u64,
            total: tip.marking().0[p],
        };
        if let Some(page) = self.current_tip(stream, from_tip).await? {
            return Ok(page);
        }
        let query = KeyQuery {
            place,
            index: p,
            after,
            prefix,
            limit,
        };
        if let Some(page) = self.store.key_page(stream, &query).await? {
            return Ok(page);
        }
        self.with_tip(stream, |_, tip| from_tip(tip)).await
    }

    /// The `limit` keys of keyed place `place` of `stream` with the highest
    /// counts, highest first, ties by key (byte order); `limit` is capped
    /// at [`MAX_TOP_KEYS`]. With the number of keys and the place's total.
    /// From the store's key records (IndexedDB ranks them by count:
    /// O(log keys + limit); the memory store scans them: O(keys)); a store
    /// without them works it out from the tip (O(keys)).
    pub async fn top(
        &self,
        stream: &str,
        place: &str,
        limit: usize,
    ) -> Result<KeysPage, ChainError> {
        let model = self.stream_model(stream).await?;
        let p = keyed_place(&model, place)?;
        let limit = limit.min(MAX_TOP_KEYS);
        let query = KeyQuery {
            place,
            index: p,
            after: None,
            prefix: "",
            limit,
        };
        if let Some(page) = self.store.key_top(stream, &query).await? {
            return Ok(page);
        }
        self.with_tip(stream, |_, tip| KeysPage {
            keys: top_of(tip.keyed(), p, limit),
            count: tip.keyed().len(p) as u64,
            total: tip.marking().0[p],
        })
        .await
    }

    /// Forgets what this ledger knows of a stream's tip (another writer,
    /// e.g. sync, changed it).
    pub(crate) fn forget_tip(&self, stream: &str) {
        self.tips.borrow_mut().remove(stream);
        self.sync_points.borrow_mut().remove(stream);
    }

    /// The model of a stream (its id cached: it never changes).
    async fn stream_model(&self, stream: &str) -> Result<Rc<Model>, ChainError> {
        let cached = self.stream_models.borrow().get(stream).cloned();
        let model_id = match cached {
            Some(id) => id,
            None => {
                let id = self.stream(stream).await?.model;
                self.stream_models
                    .borrow_mut()
                    .insert(stream.to_string(), id.clone());
                id
            }
        };
        self.model(&model_id).await
    }

    /// Transitions of a stream's net that may fire now for an actor with `roles`.
    pub async fn enabled(&self, stream: &str, roles: &[&str]) -> Result<Vec<String>, ChainError> {
        let head = self.stream(stream).await?;
        let model = self.model(&head.model).await?;
        let marking = Marking(head.state);
        Ok(model
            .enabled(&marking, &model.roles(roles))
            .into_iter()
            .map(|t| model.transitions()[t].id.clone())
            .collect())
    }

    /// Events of a stream with seq > `after`, at most `limit`.
    pub async fn events(
        &self,
        stream: &str,
        after: u64,
        limit: Option<u32>,
    ) -> Result<Vec<Event>, ChainError> {
        if self.store.stream(stream).await?.is_none() {
            return Err(ChainError::UnknownStream {
                stream: stream.into(),
            });
        }
        self.store.events(stream, after, limit).await
    }

    /// The event with this hash, if stored.
    pub async fn event_by_hash(&self, hash: &str) -> Result<Option<Event>, ChainError> {
        self.store.event_by_hash(hash).await
    }

    /// Verifies one stream, or every stream: replays each through its net
    /// from the initial marking, recomputes every hash, and checks that the
    /// stored head matches. The first problem is the error (with its seq).
    pub async fn verify(&self, stream: Option<&str>) -> Result<Vec<Verified>, ChainError> {
        let heads = match stream {
            Some(id) => vec![self.stream(id).await?],
            None => self.streams().await?,
        };
        let mut out = Vec::with_capacity(heads.len());
        for head in heads {
            let model = self.model(&head.model).await?;
            let mut verifier = Verifier::new(&model, &head.id).accept_runs();
            loop {
                let page = self
                    .store
                    .events(&head.id, verifier.seq(), Some(PAGE))
                    .await?;
                for e in &page {
                    verifier.push(e)?;
                }
                if page.len() < PAGE as usize {
                    break;
                }
            }
            verifier.flush()?;
            let policy = verifier.state().policy().clone();
            let verified = verifier.finish()?;
            if verified.events != head.seq || verified.head != head.hash {
                return Err(ChainError::HeadMismatch {
                    stream: head.id,
                    head_seq: head.seq,
                    head_hash: head.hash,
                    last_seq: verified.events,
                    last_hash: verified.head,
                });
            }
            if verified.marking != head.state {
                return Err(ChainError::StateMismatch {
                    stream: head.id,
                    seq: head.seq,
                    place: model
                        .places()
                        .iter()
                        .zip(head.state.iter().zip(&verified.marking))
                        .find(|(_, (a, b))| a != b)
                        .map(|(p, _)| p.id.clone())
                        .unwrap_or_default(),
                    stored: head.state,
                    computed: verified.marking,
                });
            }
            if head.policy.as_ref().is_some_and(|stored| *stored != policy) {
                // The append path trusts the stored policy: one edited by
                // hand would let this device write events no one accepts.
                return Err(ChainError::CorruptRecord {
                    store: "streams".into(),
                    key: head.id,
                    message: "the head's policy (grants, names) is not the one its events reach"
                        .into(),
                });
            }
            out.push(verified);
        }
        Ok(out)
    }

    /// All events of a stream, loaded in pages.
    pub async fn all_events(&self, stream: &str) -> Result<Vec<Event>, ChainError> {
        let mut all = Vec::new();
        loop {
            let after = all.last().map_or(0, |e: &Event| e.seq);
            let page = self.events(stream, after, Some(PAGE)).await?;
            let done = page.len() < PAGE as usize;
            all.extend(page);
            if done {
                return Ok(all);
            }
        }
    }

    /// The stream as JSON lines (see [`crate::chain::jsonl`]): a header with its net,
    /// then one event per line.
    ///
    /// Every event goes out with its own signature: the events of this
    /// device's signature runs are signed on the way out (one request to the
    /// device; their hashes, and so the chain, stay the same), so a file
    /// leaves no run for its reader to close, and a ledger that imports it
    /// can push it to a remote. An unsigned event that no signature of this
    /// device covers is refused (`CORRUPT_RECORD` / `BAD_SIGNATURE`).
    pub async fn export_jsonl(&self, stream: &str) -> Result<String, ChainError> {
        let head = self.stream(stream).await?;
        let model = self.model(&head.model).await?;
        let mut events = self.all_events(stream).await?;
        sign_unsigned(&*self.device, &mut events).await?;
        let mut out = String::new();
        jsonl::write(&model, stream, &events, &mut out);
        Ok(out)
    }

    /// Imports a JSON-lines export. Every event is verified by replay first;
    /// then, in one commit, the stream is created, or extended if the stored
    /// chain is a prefix of the file's. Anything wrong: nothing is written.
    pub async fn import_jsonl(&self, text: &str) -> Result<ImportReport, ChainError> {
        let parsed = jsonl::parse(text)?;
        let stream = parsed.stream.clone();
        let (events, verified, version) = match parsed.chain {
            jsonl::Chain::V2 { events, verified } => (events, verified, 2),
            jsonl::Chain::V1(old) => {
                let (events, verified) =
                    v1::upgrade(&parsed.model, &stream, &*self.device, &old).await?;
                (events, verified, 1)
            }
        };
        let model = parsed.model;
        let n = events.len() as u64;
        if let Some(head) = self.store.stream(&stream).await? {
            check_same_chain(self, &head, model.id(), &events).await?;
        }
        self.put_model(&model).await?;
        let mut added = 0;
        let commit = self
            .store
            .commit(&stream, &mut |head| {
                let from = match head {
                    None => 0,
                    Some(h) => {
                        if h.model != model.id() {
                            return Err(ChainError::Diverged {
                                stream: stream.clone(),
                                seq: 1,
                            });
                        }
                        let same = h.seq <= n
                            && (h.seq == 0 || events[(h.seq - 1) as usize].hash == h.hash);
                        if !same && h.seq <= n {
                            return Err(ChainError::Diverged {
                                stream: stream.clone(),
                                seq: h.seq,
                            });
                        }
                        if h.seq >= n {
                            // Already has all of it (checked outside the commit).
                            added = 0;
                            return Ok(Commit {
                                record: h.clone(),
                                events: Vec::new(),
                            });
                        }
                        h.seq
                    }
                };
                let new = events[from as usize..].to_vec();
                added = new.len() as u64;
                Ok(Commit {
                    record: StreamRecord {
                        id: stream.clone(),
                        model: model.id().to_string(),
                        seq: verified.events,
                        hash: verified.head.clone(),
                        state: verified.marking.clone(),
                        // Rebuilt from the events when next needed.
                        policy: None,
                    },
                    events: new,
                })
            })
            .await?;
        if added > 0 {
            self.forget_tip(&stream);
            self.announce(&commit);
        }
        Ok(ImportReport {
            stream,
            model: model.id().to_string(),
            events: n,
            added,
            head: commit.record.hash,
            version,
        })
    }

    /// The marking of `stream` after event `seq` (0: the initial marking),
    /// by replaying its events with the net (O(seq); the head's marking is
    /// kept in the stream record, see [`Ledger::stream`]).
    pub async fn marking_at(&self, stream: &str, seq: u64) -> Result<Marking, ChainError> {
        let head = self.stream(stream).await?;
        let model = self.model(&head.model).await?;
        if seq == head.seq {
            return Ok(Marking(head.state));
        }
        if seq > head.seq {
            return Err(ChainError::InvalidInput {
                field: "seq".into(),
                message: format!("is {seq}, the stream ends at {}", head.seq),
            });
        }
        let mut marking = model.initial_marking();
        let mut at = 0;
        while at < seq {
            let limit = PAGE.min(u32::try_from(seq - at).unwrap_or(PAGE));
            let page = self.store.events(stream, at, Some(limit)).await?;
            if page.is_empty() {
                break;
            }
            for e in &page {
                apply_delta(&model, &mut marking, e);
                at = e.seq;
            }
        }
        Ok(marking)
    }

    /// Proves the count of `place` after event `seq` of `stream` (the head
    /// if `None`): the event (whose signed `root` the proof leads to) and a
    /// [`PlaceProof`]. Replays and verifies the stream up to `seq`. A keyed
    /// place is proven one key at a time ([`Ledger::prove_key`]).
    pub async fn prove(
        &self,
        stream: &str,
        place: &str,
        seq: Option<u64>,
    ) -> Result<(Event, PlaceProof), ChainError> {
        self.proven(stream, place, seq, |model, index, state| {
            if model.is_keyed(index) {
                return Err(ChainError::InvalidInput {
                    field: "place".into(),
                    message: format!("'{place}' is keyed: prove one of its keys (with a key)"),
                });
            }
            let count = state.marking().0[index];
            state
                .tree()
                .prove(index, place, count)
                .ok_or_else(|| ChainError::InvalidInput {
                    field: "place".into(),
                    message: format!("'{place}' is not in the tree"),
                })
        })
        .await
    }

    /// Proves the count of `key` in keyed place `place` after event `seq`
    /// of `stream` (the head if `None`), 0 for a key the place does not
    /// hold: the event and a [`KeyProof`] leading to its signed `root`.
    /// Replays and verifies the stream up to `seq`.
    ///
    /// ```
    /// # use petrichain::store::{block_on, Action, Ledger};
    /// # block_on(async {
    /// let (bank, _) = petrichain::formats::json::import_json(
    ///     include_str!("../../../www/examples/bank.json")).unwrap();
    /// let ledger = Ledger::memory();
    /// let id = ledger.put_model(&bank).await.unwrap();
    /// ledger.create_stream("bank", &id).await.unwrap();
    /// ledger.fire("bank", &Action::new("open").arg("user", "alice"), 1).await.unwrap();
    /// let (event, proof) = ledger.prove_key("bank", "balance", "alice", None).await.unwrap();
    /// assert_eq!(proof.count, 100);
    /// assert!(proof.verify(&event.root));
    /// let (_, absent) = ledger.prove_key("bank", "balance", "bob", None).await.unwrap();
    /// assert_eq!(absent.count, 0);
    /// assert!(absent.verify(&event.root));
    /// # });
    /// ```
    pub async fn prove_key(
        &self,
        stream: &str,
        place: &str,
        key: &str,
        seq: Option<u64>,
    ) -> Result<(Event, KeyProof), ChainError> {
        if key.is_empty() || key.len() > crate::model::MAX_KEY_BYTES {
            return Err(ChainError::InvalidInput {
                field: "key".into(),
                message: format!("must be 1 to {} bytes", crate::model::MAX_KEY_BYTES),
            });
        }
        self.proven(stream, place, seq, |model, index, state| {
            if !model.is_keyed(index) {
                return Err(ChainError::InvalidInput {
                    field: "place".into(),
                    message: format!("'{place}' is not keyed: prove it without a key"),
                });
            }
            state
                .prove_key(model, index, key)
                .ok_or_else(|| ChainError::InvalidInput {
                    field: "place".into(),
                    message: format!("'{place}' is not in the tree"),
                })
        })
        .await
    }

    /// Replays and verifies `stream` up to `seq` (the head if `None`) and
    /// gives the event there with what `prove` makes of the state reached
    /// (for the place `place`, by index).
    async fn proven<T>(
        &self,
        stream: &str,
        place: &str,
        seq: Option<u64>,
        prove: impl FnOnce(&Model, usize, &TipState) -> Result<T, ChainError>,
    ) -> Result<(Event, T), ChainError> {
        let head = self.stream(stream).await?;
        let model = self.model(&head.model).await?;
        let seq = seq.unwrap_or(head.seq);
        if seq == 0 || seq > head.seq {
            return Err(ChainError::InvalidInput {
                field: "seq".into(),
                message: format!("must be 1 to {} (the stream's events)", head.seq),
            });
        }
        let index = model
            .place_index(place)
            .ok_or_else(|| FireError::UnknownPlace {
                place: place.to_string(),
            })?;
        let mut verifier = Verifier::new(&model, stream).accept_runs();
        let mut last = None;
        while verifier.seq() < seq {
            let limit = PAGE.min(u32::try_from(seq - verifier.seq()).unwrap_or(PAGE));
            let page = self
                .store
                .events(stream, verifier.seq(), Some(limit))
                .await?;
            if page.is_empty() {
                break;
            }
            for e in page {
                verifier.push(&e)?;
                last = Some(e);
            }
        }
        if verifier.in_run() && verifier.seq() == seq {
            // A proof rests on the event's own signature of its root.
            return Err(ChainError::InvalidInput {
                field: "seq".into(),
                message: format!(
                    "event {seq} carries no signature of its own (a later event of its signature run signs it): prove at a signed event, such as the head"
                ),
            });
        }
        verifier.flush()?;
        let event = last.ok_or_else(|| ChainError::UnknownStream {
            stream: stream.into(),
        })?;
        let proof = prove(&model, index, verifier.state())?;
        Ok((event, proof))
    }

    /// Calls `f` after every change to `stream` (or to any stream if `None`),
    /// made through this ledger or, for stores that share data between
    /// connections (IndexedDB tabs), through another one.
    pub fn subscribe(&self, stream: Option<&str>, f: impl Fn(&Change) + 'static) -> Subscription {
        let mut l = self.listeners.borrow_mut();
        l.next += 1;
        let id = l.next;
        l.list.push((id, stream.map(str::to_string), Rc::new(f)));
        Subscription(id)
    }

    /// Stops a subscription.
    pub fn unsubscribe(&self, subscription: Subscription) {
        self.listeners
            .borrow_mut()
            .list
            .retain(|(id, _, _)| *id != subscription.0);
    }

    /// Closes the ledger; later calls fail with [`ChainError::Closed`].
    pub fn close(&self) {
        self.listeners.borrow_mut().list.clear();
        self.store.close();
    }

    /// Tells subscribers and other connections about a commit.
    pub(crate) fn announce(&self, commit: &Commit) {
        let change = Change {
            stream: commit.record.id.clone(),
            seq: commit.record.seq,
            hash: commit.record.hash.clone(),
            added: commit.events.len() as u64,
        };
        self.store.broadcast(&change);
        dispatch(&self.listeners, &change);
    }
}

/// When the store already has more of the stream than the file, the file
/// must be a prefix of it.
async fn check_same_chain<S: Store>(
    ledger: &Ledger<S>,
    head: &StreamRecord,
    model: &str,
    events: &[Event],
) -> Result<(), ChainError> {
    let n = events.len() as u64;
    if head.model != model {
        return Err(ChainError::Diverged {
            stream: head.id.clone(),
            seq: 1,
        });
    }
    if head.seq > n && n > 0 {
        let stored = ledger.store.events(&head.id, n - 1, Some(1)).await?;
        if stored.first().map(|e| &e.hash) != events.last().map(|e| &e.hash) {
            return Err(ChainError::Diverged {
                stream: head.id.clone(),
                seq: n,
            });
        }
    }
    Ok(())
}

/// The tip of a keyed stream from its key records and the head read with
/// them: checked against the head (the net, the number of places, each keyed
/// place's total) and against the signed `root` of the head's event (else
/// `CORRUPT_RECORD`).
/// The head and its state from the key records read with it, with the
/// head's recorded policy; `None` if the head records no policy (the
/// caller replays the events).
fn tip_of_records(
    model: &Model,
    stream: &str,
    stored: super::StoredKeys,
) -> Result<Option<(Head, TipState)>, ChainError> {
    let corrupt = |message: String| ChainError::CorruptRecord {
        store: "keys".into(),
        key: stream.into(),
        message,
    };
    let head = stored.head;
    if head.model != model.id() || head.state.len() != model.places().len() {
        return Err(corrupt(format!(
            "the head read with the key records is of another net ({})",
            head.model
        )));
    }
    let policy = match head.policy {
        Some(p) => p,
        None if head.seq == 0 => Policy::default(),
        None => return Ok(None),
    };
    let at = Head {
        seq: head.seq,
        hash: head.hash,
    };
    let state =
        tip_from_records(model, stream, Marking(head.state), stored.keys)?.with_policy(policy);
    if at.seq > 0 && stored.root.as_deref() != Some(state.root_hex().as_str()) {
        return Err(corrupt(format!(
            "the key records do not reach the root of event {}",
            at.seq
        )));
    }
    Ok(Some((at, state)))
}

/// Moves `marking` forward by the counts an event says it changed (events
/// from the store, already verified when they were written). Unknown
/// places are skipped.
pub fn apply_delta(model: &Model, marking: &mut Marking, event: &Event) {
    for (place, n) in &event.delta {
        if let Some(i) = model.place_index(place) {
            if let Some(slot) = marking.0.get_mut(i) {
                *slot = *n;
            }
        }
    }
}

/// Moves `keyed` forward by the keys an event says it changed (events from
/// the store, already verified). Unknown places are skipped.
pub fn apply_keys(model: &Model, keyed: &mut KeyedMarking, event: &Event) {
    for (place, key, n) in &event.keys {
        if let Some(i) = model.place_index(place) {
            keyed.set(i, key, *n);
        }
    }
}

/// Runs a future to completion on the current thread. The memory store's
/// futures never wait, so this is all native code needs; IndexedDB code runs
/// on the browser's event loop instead.
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    use std::task::{Context, Poll, Waker};
    let mut cx = Context::from_waker(Waker::noop());
    let mut future = std::pin::pin!(future);
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
        std::thread::yield_now();
    }
}
