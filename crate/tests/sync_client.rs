//! The sync client natively, against the in-memory backend (same protocol
//! semantics as the reference server: conditional append, idempotency by
//! hash, 409 with the head, every pushed event verified), with a transport
//! wrapper that injects the faults a real remote can produce.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use petrichain::chain::{hash, Event};
use petrichain::formats::json::import_json;
use petrichain::store::{block_on, Action, Ledger, MemoryStore, Store, SyncStore};
use petrichain::sync::protocol::{AppendRequest, EventPage, Head, ModelDoc, StreamList};
use petrichain::sync::{
    conflicts, pending, sync, sync_local_and, sync_stream, MemoryBackend, PushOutcome, SyncError,
    SyncEvent, SyncOptions, Transport,
};
use petrichain::Model;

const SHOP: &str = r#"{"places":[{"id":"stock","initial":3},{"id":"sold"}],
  "transitions":[{"id":"sell","roles":["clerk"]},{"id":"restock","roles":["manager"]}],
  "arcs":[{"source":"stock","target":"sell"},{"source":"sell","target":"sold"},
          {"source":"restock","target":"stock"}]}"#;

const COIN: &str = r#"{"places":[{"id":"coin","initial":1},{"id":"spent"}],
  "transitions":[{"id":"spend"}],
  "arcs":[{"source":"coin","target":"spend"},{"source":"spend","target":"spent"}]}"#;

fn model(json: &str) -> Model {
    import_json(json).unwrap().0
}

type L = Ledger<MemoryStore>;

async fn ledger_with(net: &str, stream: &str) -> L {
    let ledger = Ledger::memory();
    let id = ledger.put_model(&model(net)).await.unwrap();
    ledger.create_stream(stream, &id).await.unwrap();
    ledger
}

fn sell(actor: &str) -> Action {
    Action::new("sell")
        .actor(actor)
        .roles(["clerk"])
        .payload(format!(r#"{{"by":"{actor}"}}"#))
}

/// `owner` grants `roles` to `to`'s device key on `stream`: a role another
/// device claims must be granted to it (docs/chain-format.md, "Grants,
/// revocations and profiles").
async fn grant(owner: &L, stream: &str, to: &str, roles: &[&str]) {
    for role in roles {
        let payload = format!(r#"{{"key":"{to}","role":"{role}"}}"#);
        owner
            .fire(stream, &Action::new("$grant").payload(payload), 0)
            .await
            .unwrap();
    }
}

fn opts() -> SyncOptions {
    SyncOptions {
        now: 42,
        ..SyncOptions::default()
    }
}

async fn run<T: Transport>(
    ledger: &L,
    t: &T,
    stream: &str,
) -> Result<petrichain::sync::StreamReport, SyncError> {
    sync_stream(ledger, t, stream, &opts(), &|_| {}).await
}

/// The events as (seq, hash): the same events on both sides, whether or
/// not a copy carries the signatures its signature run left out.
fn ids(events: &[Event]) -> Vec<(u64, String)> {
    events.iter().map(|e| (e.seq, e.hash.clone())).collect()
}

async fn chain(ledger: &L, stream: &str) -> Vec<Event> {
    ledger.all_events(stream).await.unwrap()
}

/// Everything a ledger holds about a stream, to check "untouched".
async fn snapshot(ledger: &L, stream: &str) -> String {
    match ledger.store().stream(stream).await.unwrap() {
        None => "absent".into(),
        Some(head) => format!(
            "{head:?}|{:?}|{:?}|{:?}",
            chain(ledger, stream).await,
            ledger.store().sync_record(stream).await.unwrap(),
            ledger.store().conflicts(stream).await.unwrap()
        ),
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Fault {
    None,
    /// Pages carry event seq 2 with another payload (hash left as it was).
    TamperPayload,
    /// Pages carry event seq 2 with a well-formed but wrong hash.
    WrongHash,
    /// Pull answers a body that is not JSON.
    Garbage,
    /// Every request answers 500.
    ServerError,
    /// Pushes are stored, then the answer is lost.
    DropAck,
    /// The second page of a pull fails (network).
    FailSecondPage,
    /// Every push answers 409.
    AlwaysConflict,
    /// Pages claim another model.
    WrongModel,
    /// Pull answers "unknown stream" (a replica that lags behind).
    StalePull,
}

/// Wraps the in-memory backend; the bodies go through JSON text like HTTP.
struct Faulty {
    inner: MemoryBackend,
    fault: Cell<Fault>,
    pulls: Cell<u32>,
    /// Called before every push (e.g. another client appends meanwhile).
    before_push: RefCell<Option<Box<dyn Fn()>>>,
    /// Called after every pull (e.g. the user fires locally meanwhile).
    after_pull: RefCell<Option<Box<dyn Fn()>>>,
}

impl Faulty {
    fn new(inner: &MemoryBackend) -> Self {
        Faulty {
            inner: inner.clone(),
            fault: Cell::new(Fault::None),
            pulls: Cell::new(0),
            before_push: RefCell::new(None),
            after_pull: RefCell::new(None),
        }
    }
    fn with(inner: &MemoryBackend, fault: Fault) -> Self {
        let f = Faulty::new(inner);
        f.fault.set(fault);
        f
    }
    fn server_error(&self) -> SyncError {
        SyncError::RemoteError {
            backend: self.backend().into(),
            status: 500,
            remote_code: "INTERNAL".into(),
            message: "boom".into(),
        }
    }
}

impl Transport for Faulty {
    fn backend(&self) -> &str {
        self.inner.backend()
    }
    async fn list_streams(&self) -> Result<Option<StreamList>, SyncError> {
        if self.fault.get() == Fault::ServerError {
            return Err(self.server_error());
        }
        self.inner.list_streams().await
    }
    async fn get_model(&self, id: &str) -> Result<Option<ModelDoc>, SyncError> {
        self.inner.get_model(id).await
    }
    async fn put_model(&self, doc: &ModelDoc) -> Result<(), SyncError> {
        self.inner.put_model(doc).await
    }
    async fn pull(
        &self,
        stream: &str,
        after: u64,
        limit: u64,
    ) -> Result<Option<EventPage>, SyncError> {
        self.pulls.set(self.pulls.get() + 1);
        let fault = self.fault.get();
        if fault == Fault::ServerError {
            return Err(self.server_error());
        }
        if fault == Fault::FailSecondPage && self.pulls.get() == 2 {
            return Err(SyncError::Network {
                backend: self.backend().into(),
                message: "connection reset".into(),
            });
        }
        if fault == Fault::StalePull {
            return Ok(None);
        }
        let page = self.inner.pull(stream, after, limit).await?;
        if let Some(f) = self.after_pull.borrow().as_ref() {
            f();
        }
        let Some(page) = page else { return Ok(None) };
        let mut text = serde_json::to_string(&page).unwrap();
        if fault == Fault::Garbage {
            text = "<html>502 Bad Gateway</html>".into();
        }
        let mut page: EventPage =
            serde_json::from_str(&text).map_err(|e| SyncError::BadResponse {
                backend: self.backend().into(),
                what: "pull".into(),
                message: e.to_string(),
            })?;
        for e in &mut page.events {
            if e.seq == 2 && fault == Fault::TamperPayload {
                e.payload = r#"{"by":"mallory"}"#.into();
            }
            if e.seq == 2 && fault == Fault::WrongHash {
                e.hash = "ab".repeat(32);
            }
        }
        if fault == Fault::WrongModel {
            page.model = "cd".repeat(32);
        }
        Ok(Some(page))
    }
    async fn push(&self, stream: &str, request: &AppendRequest) -> Result<PushOutcome, SyncError> {
        if let Some(f) = self.before_push.borrow().as_ref() {
            f();
        }
        match self.fault.get() {
            Fault::ServerError => Err(self.server_error()),
            Fault::AlwaysConflict => Ok(PushOutcome::Conflict(self.inner.head(stream))),
            Fault::DropAck => {
                self.inner.push(stream, request).await?;
                Err(SyncError::Network {
                    backend: self.backend().into(),
                    message: "connection lost before the answer".into(),
                })
            }
            _ => self.inner.push(stream, request).await,
        }
    }
}

#[test]
fn push_then_fast_forward_a_fresh_ledger() {
    block_on(async {
        let backend = MemoryBackend::new("mem://a");
        let a = ledger_with(SHOP, "till").await;
        a.fire_batch("till", &[sell("ann"), sell("ann")], 10)
            .await
            .unwrap();
        let r = run(&a, &backend, "till").await.unwrap();
        assert_eq!((r.pushed, r.pulled, r.pending, r.rounds), (2, 0, 0, 1));
        assert_eq!(ids(&backend.events("till")), ids(&chain(&a, "till").await));

        // A ledger that has never seen the stream (nor its model) gets both
        // through the backend's stream list and model endpoint.
        let b = Ledger::memory();
        let report = sync(&b, &backend, None, &opts(), &|_| {}).await.unwrap();
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        assert_eq!(report.streams[0].pulled, 2);
        assert_eq!(ids(&chain(&b, "till").await), ids(&chain(&a, "till").await));
        assert_eq!(b.verify(Some("till")).await.unwrap()[0].events, 2);

        // a fires more; b fast-forwards onto it.
        a.fire("till", &sell("ann"), 11).await.unwrap();
        run(&a, &backend, "till").await.unwrap();
        let r = run(&b, &backend, "till").await.unwrap();
        assert_eq!((r.pulled, r.pushed, r.rebased), (1, 0, 0));
        assert_eq!(ids(&chain(&b, "till").await), ids(&chain(&a, "till").await));
        assert_eq!(b.stream("till").await.unwrap().state, vec![3, 0]); // sold, stock
    });
}

#[test]
fn both_moved_offline_rebase_keeps_allowed_actions_and_chains_converge() {
    block_on(async {
        let backend = MemoryBackend::new("mem://b");
        let a = ledger_with(SHOP, "till").await;
        let b = ledger_with(SHOP, "till").await;
        grant(&a, "till", &b.device_key(), &["clerk"]).await;
        a.fire("till", &sell("ann"), 100).await.unwrap();
        let offline = b.fire("till", &sell("bob"), 200).await.unwrap();
        run(&a, &backend, "till").await.unwrap();
        let r = run(&b, &backend, "till").await.unwrap();
        assert_eq!((r.pulled, r.rebased, r.conflicts, r.pushed), (2, 1, 0, 1));
        run(&a, &backend, "till").await.unwrap();
        let (ca, cb) = (chain(&a, "till").await, chain(&b, "till").await);
        assert_eq!(ca, cb);
        assert_eq!(ca, backend.events("till"));
        // bob's action kept: same action, actor, roles, payload, ts; new seq, prev, hash.
        let moved = &cb[2];
        assert_eq!((moved.seq, moved.ts, moved.actor.as_str()), (3, 200, "bob"));
        assert_eq!(moved.payload, offline.payload);
        assert_eq!(moved.prev, ca[1].hash);
        assert_ne!(moved.hash, offline.hash);
        assert_eq!(moved.hash, hash::event_hash(moved));
        assert!(b.event_by_hash(&offline.hash).await.unwrap().is_none());
        assert_eq!(b.verify(None).await.unwrap()[0].events, 3);
        assert!(conflicts(&b, "till").await.unwrap().is_empty());
    });
}

#[test]
fn conflicting_spend_of_one_token_keeps_one_event_and_records_one_conflict() {
    block_on(async {
        let backend = MemoryBackend::new("mem://coin");
        let a = ledger_with(COIN, "wallet").await;
        let b = ledger_with(COIN, "wallet").await;
        a.fire("wallet", &Action::new("spend").actor("ann"), 1)
            .await
            .unwrap();
        let theirs = b
            .fire(
                "wallet",
                &Action::new("spend").actor("bob").payload(r#"{"to":"x"}"#),
                2,
            )
            .await
            .unwrap();
        run(&a, &backend, "wallet").await.unwrap();
        let seen = RefCell::new(Vec::new());
        let r = sync_stream(&b, &backend, "wallet", &opts(), &|e| {
            if let SyncEvent::Conflict { conflict } = e {
                seen.borrow_mut().push((**conflict).clone());
            }
        })
        .await
        .unwrap();
        assert_eq!(
            (r.pulled, r.rebased, r.conflicts, r.pushed, r.pending),
            (1, 0, 1, 0, 0)
        );
        run(&a, &backend, "wallet").await.unwrap();
        let (ca, cb) = (chain(&a, "wallet").await, chain(&b, "wallet").await);
        assert_eq!(ca, cb);
        assert_eq!(ca.len(), 1);
        assert_eq!(ca[0].actor, "ann");
        let recorded = conflicts(&b, "wallet").await.unwrap();
        assert_eq!(recorded, seen.into_inner());
        assert_eq!(recorded.len(), 1);
        let c = &recorded[0];
        assert_eq!(
            (c.code.as_str(), c.backend.as_str()),
            ("NOT_ENABLED", "mem://coin")
        );
        assert_eq!(c.event, theirs);
        assert_eq!(c.remote.seq, 1);
        assert_eq!(c.detected, 42);
        let reason: serde_json::Value = serde_json::from_str(&c.reason).unwrap();
        assert_eq!(reason["place"], "coin");
        assert_eq!(
            (reason["has"].as_u64(), reason["needs"].as_u64()),
            (Some(0), Some(1))
        );
        assert!(c.message.contains("coin"), "{}", c.message);
        // Conflicts stay until cleared.
        run(&b, &backend, "wallet").await.unwrap();
        assert_eq!(conflicts(&b, "wallet").await.unwrap().len(), 1);
        // One by its event's hash; another stream's or an unknown hash: none.
        let hash = c.event.hash.clone();
        assert_eq!(b.store().discard_conflict("other", &hash).await.unwrap(), 0);
        assert_eq!(b.store().discard_conflict("wallet", "ab").await.unwrap(), 0);
        assert_eq!(conflicts(&b, "wallet").await.unwrap().len(), 1);
        assert_eq!(
            b.store().discard_conflict("wallet", &hash).await.unwrap(),
            1
        );
        assert!(conflicts(&b, "wallet").await.unwrap().is_empty());
        assert_eq!(b.store().clear_conflicts("wallet").await.unwrap(), 0);
        assert!(conflicts(&b, "wallet").await.unwrap().is_empty());
    });
}

#[test]
fn rebase_keeps_what_still_fits_and_records_the_rest_in_order() {
    block_on(async {
        let backend = MemoryBackend::new("mem://c");
        let a = ledger_with(SHOP, "till").await;
        let b = ledger_with(SHOP, "till").await;
        grant(&a, "till", &b.device_key(), &["clerk", "manager"]).await;
        a.fire_batch("till", &[sell("ann"), sell("ann")], 1)
            .await
            .unwrap();
        // bob: sell, a manager-only restock without the role, sell.
        b.fire("till", &sell("bob"), 2).await.unwrap();
        b.fire("till", &Action::new("restock").roles(["manager"]), 3)
            .await
            .unwrap();
        b.fire("till", &sell("bob"), 4).await.unwrap();
        b.fire("till", &sell("bob"), 5).await.unwrap();
        run(&a, &backend, "till").await.unwrap();
        let r = run(&b, &backend, "till").await.unwrap();
        // stock 3 - 2 (ann) = 1: bob's sell fits, restock fits (+1), then one
        // more sell fits and the last does not.
        assert_eq!((r.rebased, r.conflicts), (3, 1));
        let cb = chain(&b, "till").await;
        let actions: Vec<(&str, u64)> = cb.iter().map(|e| (e.action.as_str(), e.ts)).collect();
        assert_eq!(
            actions,
            [
                ("$grant", 0),
                ("$grant", 0),
                ("sell", 1),
                ("sell", 1),
                ("sell", 2),
                ("restock", 3),
                ("sell", 4)
            ]
        );
        let c = conflicts(&b, "till").await.unwrap();
        assert_eq!((c[0].event.ts, c[0].code.as_str()), (5, "NOT_ENABLED"));
        assert_eq!(ids(&backend.events("till")), ids(&cb));
    });
}

#[test]
fn a_remote_that_sends_a_broken_chain_is_refused_and_nothing_changes() {
    block_on(async {
        let backend = MemoryBackend::new("mem://d");
        let a = ledger_with(SHOP, "till").await;
        a.fire_batch("till", &[sell("ann"), sell("ann"), sell("ann")], 1)
            .await
            .unwrap();
        run(&a, &backend, "till").await.unwrap();

        for (fault, code, inner) in [
            (
                Fault::TamperPayload,
                "REMOTE_CHAIN_INVALID",
                Some("HASH_MISMATCH"),
            ),
            (
                Fault::WrongHash,
                "REMOTE_CHAIN_INVALID",
                Some("HASH_MISMATCH"),
            ),
            (
                Fault::WrongModel,
                "REMOTE_CHAIN_INVALID",
                Some("WRONG_MODEL"),
            ),
            (Fault::Garbage, "BAD_RESPONSE", None),
            (Fault::ServerError, "REMOTE_ERROR", None),
        ] {
            // A fresh ledger (no stream), and one with local offline work.
            let fresh: L = Ledger::memory();
            let busy = ledger_with(SHOP, "till").await;
            busy.fire("till", &sell("bob"), 9).await.unwrap();
            for ledger in [&fresh, &busy] {
                let before = snapshot(ledger, "till").await;
                let t = Faulty::with(&backend, fault);
                let err = run(ledger, &t, "till").await.unwrap_err();
                if fault == Fault::WrongModel && std::ptr::eq(ledger, &fresh) {
                    // Nothing local to compare with: the claimed model is fetched, and is unknown.
                    assert_eq!(err.code(), "MODEL_UNAVAILABLE", "{err}");
                    assert_eq!(snapshot(ledger, "till").await, before);
                    continue;
                }
                assert_eq!(err.code(), code, "{fault:?}: {err}");
                if let (Some(inner), SyncError::RemoteChainInvalid { error, .. }) = (inner, &err) {
                    assert_eq!(error.code(), inner, "{fault:?}");
                    if fault != Fault::WrongModel {
                        assert_eq!(error.seq(), Some(2));
                    }
                }
                assert_eq!(err.retryable(), fault == Fault::ServerError);
                assert_eq!(
                    snapshot(ledger, "till").await,
                    before,
                    "{fault:?} changed the store"
                );
            }
        }
        // The backend itself was never touched by the failed syncs.
        assert_eq!(ids(&backend.events("till")), ids(&chain(&a, "till").await));
    });
}

/// An event the net refuses, correctly hashed and chained: only replay finds it.
#[test]
fn a_remote_event_the_net_refuses_is_refused_even_with_a_correct_hash() {
    block_on(async {
        let backend = MemoryBackend::new("mem://e");
        let a = ledger_with(SHOP, "till").await;
        a.fire("till", &sell("ann"), 1).await.unwrap();
        run(&a, &backend, "till").await.unwrap();
        let mut page = backend.pull("till", 0, 10).await.unwrap().unwrap();
        let mut forged = page.events[0].clone();
        forged.seq = 2;
        forged.prev = page.events[0].hash.clone();
        forged.roles = vec![]; // sell needs the clerk role
        forged.hash = hash::event_hash(&forged);
        page.events.push(forged);
        struct Fixed(MemoryBackend, EventPage);
        impl Transport for Fixed {
            fn backend(&self) -> &str {
                self.0.backend()
            }
            async fn list_streams(&self) -> Result<Option<StreamList>, SyncError> {
                Ok(None)
            }
            async fn get_model(&self, id: &str) -> Result<Option<ModelDoc>, SyncError> {
                self.0.get_model(id).await
            }
            async fn put_model(&self, _: &ModelDoc) -> Result<(), SyncError> {
                Ok(())
            }
            async fn pull(&self, _: &str, _: u64, _: u64) -> Result<Option<EventPage>, SyncError> {
                Ok(Some(self.1.clone()))
            }
            async fn push(&self, s: &str, r: &AppendRequest) -> Result<PushOutcome, SyncError> {
                self.0.push(s, r).await
            }
        }
        let b: L = Ledger::memory();
        let err = run(&b, &Fixed(backend.clone(), page), "till")
            .await
            .unwrap_err();
        let SyncError::RemoteChainInvalid { error, .. } = &err else {
            panic!("{err}")
        };
        assert_eq!((error.code(), error.seq()), ("ACTION_REJECTED", Some(2)));
        assert_eq!(snapshot(&b, "till").await, "absent");
    });
}

#[test]
fn a_remote_that_rewrote_or_lost_agreed_history_is_a_fork() {
    block_on(async {
        let backend = MemoryBackend::new("mem://f");
        let a = ledger_with(SHOP, "till").await;
        a.fire_batch("till", &[sell("ann"), sell("ann")], 1)
            .await
            .unwrap();
        run(&a, &backend, "till").await.unwrap();
        a.fire("till", &sell("ann"), 2).await.unwrap();
        let before = snapshot(&a, "till").await;

        // Same backend name, other history: another chain of the same net.
        let rewritten = MemoryBackend::new("mem://f");
        let other = ledger_with(SHOP, "till").await;
        other
            .fire_batch("till", &[sell("eve"), sell("eve"), sell("eve")], 7)
            .await
            .unwrap();
        run(&other, &rewritten, "till").await.unwrap();
        let err = run(&a, &rewritten, "till").await.unwrap_err();
        assert_eq!(err.code(), "REMOTE_FORKED", "{err}");
        assert_eq!(snapshot(&a, "till").await, before);

        // A backend that lost the stream.
        let empty = MemoryBackend::new("mem://f");
        let err = run(&a, &empty, "till").await.unwrap_err();
        let SyncError::RemoteForked { seq, remote, .. } = &err else {
            panic!("{err}")
        };
        assert_eq!((*seq, remote.is_none()), (2, true));
        // A backend that is behind the agreed head.
        let behind = MemoryBackend::new("mem://f");
        let short = ledger_with(SHOP, "till").await;
        short.fire("till", &sell("ann"), 1).await.unwrap();
        run(&short, &behind, "till").await.unwrap();
        assert_eq!(
            run(&a, &behind, "till").await.unwrap_err().code(),
            "REMOTE_FORKED"
        );
        assert_eq!(snapshot(&a, "till").await, before);
        assert!(a.verify(None).await.is_ok());
    });
}

#[test]
fn a_push_whose_answer_was_lost_resumes_without_duplicating_anything() {
    block_on(async {
        let backend = MemoryBackend::new("mem://g");
        let a = ledger_with(SHOP, "till").await;
        a.fire_batch("till", &[sell("ann"), sell("ann")], 1)
            .await
            .unwrap();
        let err = run(&a, &Faulty::with(&backend, Fault::DropAck), "till")
            .await
            .unwrap_err();
        assert!(err.retryable());
        assert_eq!(
            backend.events("till").len(),
            2,
            "the backend stored the push"
        );
        assert_eq!(
            pending(&a, "mem://g", "till").await.unwrap(),
            2,
            "but we never heard"
        );
        let r = run(&a, &backend, "till").await.unwrap();
        assert_eq!((r.pulled, r.pushed, r.pending), (0, 0, 0));
        assert_eq!(ids(&backend.events("till")), ids(&chain(&a, "till").await));
        assert_eq!(
            a.store()
                .sync_record("till")
                .await
                .unwrap()
                .unwrap()
                .common("mem://g")
                .seq,
            2
        );
    });
}

#[test]
fn a_pull_interrupted_between_pages_stores_nothing_and_resumes() {
    block_on(async {
        let backend = MemoryBackend::new("mem://h").page_cap(2);
        let a = ledger_with(SHOP, "till").await;
        let restock = Action::new("restock").roles(["manager"]);
        a.fire_batch(
            "till",
            &[sell("a"), sell("a"), sell("a"), restock.clone(), sell("a")],
            1,
        )
        .await
        .unwrap();
        run(&a, &backend, "till").await.unwrap();
        let b = ledger_with(SHOP, "till").await;
        let before = snapshot(&b, "till").await;
        let t = Faulty::with(&backend, Fault::FailSecondPage);
        assert_eq!(run(&b, &t, "till").await.unwrap_err().code(), "NETWORK");
        assert_eq!(snapshot(&b, "till").await, before);
        let r = run(&b, &backend, "till").await.unwrap();
        assert_eq!(r.pulled, 5);
        assert_eq!(ids(&chain(&b, "till").await), ids(&chain(&a, "till").await));
    });
}

#[test]
fn re_pushing_an_acknowledged_batch_is_idempotent() {
    block_on(async {
        let backend = MemoryBackend::new("mem://i");
        let a = ledger_with(SHOP, "till").await;
        // Two single appends: each signed (a remote takes no signature run).
        let events = vec![
            a.fire("till", &sell("a"), 1).await.unwrap(),
            a.fire("till", &sell("a"), 1).await.unwrap(),
        ];
        let m = a.model(&events[0].model).await.unwrap();
        backend
            .put_model(&ModelDoc {
                id: m.id().into(),
                json: m.canonical_json(),
            })
            .await
            .unwrap();
        let req = AppendRequest {
            model: m.id().into(),
            expected: Head::zero(),
            events,
        };
        let first = backend.push("till", &req).await.unwrap();
        let again = backend.push("till", &req).await.unwrap();
        let (PushOutcome::Appended(first), PushOutcome::Appended(again)) = (first, again) else {
            panic!("expected two acknowledgements")
        };
        assert_eq!((first.stored, first.duplicates), (2, 0));
        assert_eq!((again.stored, again.duplicates), (0, 2));
        assert_eq!(first.head, again.head);
        assert_eq!(backend.events("till").len(), 2);

        // Through the client: a push that was stored but never acknowledged,
        // then a pull that does not show it yet (a lagging replica): the
        // client re-sends the same events, the backend counts duplicates.
        let backend = MemoryBackend::new("mem://i2");
        let c = ledger_with(SHOP, "till").await;
        c.fire_batch("till", &[sell("c"), sell("c")], 1)
            .await
            .unwrap();
        run(&c, &Faulty::with(&backend, Fault::DropAck), "till")
            .await
            .unwrap_err();
        let r = run(&c, &Faulty::with(&backend, Fault::StalePull), "till")
            .await
            .unwrap();
        assert_eq!((r.pushed, r.duplicates, r.pending), (0, 2, 0));
        assert_eq!(ids(&backend.events("till")), ids(&chain(&c, "till").await));
        // Same again after someone else appended: the backend is ahead of the
        // re-sent batch, which is still recognised.
        let copy = c.export_jsonl("till").await.unwrap();
        let d = Ledger::memory();
        grant(&c, "till", &d.device_key(), &["clerk"]).await;
        run(&c, &backend, "till").await.unwrap();
        run(&d, &backend, "till").await.unwrap();
        d.fire("till", &sell("d"), 3).await.unwrap();
        run(&d, &backend, "till").await.unwrap();
        // e holds a copy of c's two events (restored from c's export) and
        // sees a stale pull, so it re-sends them.
        let e = Ledger::memory();
        e.import_jsonl(&copy).await.unwrap();
        assert_eq!(
            ids(&chain(&e, "till").await),
            ids(&chain(&c, "till").await[..2])
        );
        let r = run(&e, &Faulty::with(&backend, Fault::StalePull), "till")
            .await
            .unwrap();
        assert_eq!((r.pushed, r.duplicates), (0, 2));
        let r = run(&e, &backend, "till").await.unwrap();
        assert_eq!(r.pulled, 2);
        assert_eq!(ids(&chain(&e, "till").await), ids(&backend.events("till")));
    });
}

/// Two devices, offline, record the same action by the same actor with the
/// same payload and ts on the same head (or with every default, in the same
/// millisecond). Before chain format v2 the second was taken for a
/// duplicate of the first and silently dropped; now both are kept.
#[test]
fn the_same_offline_action_on_two_devices_is_kept_twice() {
    block_on(async {
        for action in [sell("ann"), Action::new("sell").roles(["clerk"])] {
            let backend = MemoryBackend::new("mem://twins");
            let a = ledger_with(SHOP, "till").await;
            let b = Ledger::memory();
            a.fire("till", &sell("first"), 1).await.unwrap();
            grant(&a, "till", &b.device_key(), &["clerk"]).await;
            run(&a, &backend, "till").await.unwrap();
            run(&b, &backend, "till").await.unwrap();
            a.fire("till", &action, 1_700_000_000_000).await.unwrap();
            b.fire("till", &action, 1_700_000_000_000).await.unwrap();
            run(&a, &backend, "till").await.unwrap();
            let r = run(&b, &backend, "till").await.unwrap();
            assert_eq!((r.rebased, r.conflicts, r.duplicates), (1, 0, 0));
            run(&a, &backend, "till").await.unwrap();
            for ledger in [&a, &b] {
                let head = ledger.stream("till").await.unwrap();
                assert_eq!(head.seq, 4);
                assert_eq!(head.state, vec![3, 0], "sold 3 of 3 (places sold, stock)");
            }
            assert_eq!(ids(&chain(&a, "till").await), ids(&chain(&b, "till").await));
            assert_eq!(backend.events("till").len(), 4);
            let signers: Vec<String> = chain(&a, "till")
                .await
                .into_iter()
                .map(|e| e.signer)
                .collect();
            assert_eq!(
                signers,
                vec![
                    a.device_key(),
                    a.device_key(),
                    a.device_key(),
                    b.device_key()
                ]
            );
        }
    });
}

/// The same history upgraded on two devices (each re-signs it, so the
/// chains differ from seq 1) or restored from a copy: the nonces say the
/// events are the same firings, so the second device takes the first's
/// chain instead of re-firing its whole history on top of it.
#[test]
fn the_same_firings_chained_on_two_devices_are_not_recorded_twice() {
    block_on(async {
        let backend = MemoryBackend::new("mem://copies");
        let origin = ledger_with(SHOP, "till").await;
        origin
            .fire_batch("till", &[sell("a"), sell("b")], 1)
            .await
            .unwrap();
        let export = origin.export_jsonl("till").await.unwrap();
        // Two devices import the same file: the same events (same hashes).
        // Re-chained (as a v1 upgrade does), they differ but keep nonces.
        let a = Ledger::memory();
        a.import_jsonl(&export).await.unwrap();
        run(&a, &backend, "till").await.unwrap();
        let b = Ledger::memory();
        let events = origin.all_events("till").await.unwrap();
        let m = model(SHOP);
        let rechained = petrichain::sync::rebase::rebase(
            &m,
            "till",
            &**b.device(),
            &Head::zero(),
            &petrichain::chain::TipState::new(&m, m.initial_marking()),
            &events,
        )
        .await
        .unwrap();
        assert_ne!(rechained.kept[0].hash, events[0].hash);
        let mut text = String::new();
        petrichain::chain::jsonl::write(&m, "till", &rechained.kept, &mut text);
        b.import_jsonl(&text).await.unwrap();
        let r = run(&b, &backend, "till").await.unwrap();
        assert_eq!(
            (r.rebased, r.conflicts, r.duplicates, r.pulled),
            (0, 0, 2, 2)
        );
        assert_eq!(ids(&chain(&b, "till").await), ids(&backend.events("till")));
        assert_eq!(b.stream("till").await.unwrap().state, vec![2, 1]);
    });
}

#[test]
fn a_409_pulls_rebases_and_retries_and_retries_are_bounded() {
    block_on(async {
        let backend = MemoryBackend::new("mem://j");
        let a = Rc::new(ledger_with(SHOP, "till").await);
        let b = ledger_with(SHOP, "till").await;
        b.fire("till", &sell("bob"), 2).await.unwrap();
        let bob = b.device_key();
        // Just before b's first push, a appends to the backend (granting b
        // its role first).
        let t = Faulty::new(&backend);
        let (a2, inner, done) = (a.clone(), backend.clone(), Rc::new(Cell::new(false)));
        let once = done.clone();
        *t.before_push.borrow_mut() = Some(Box::new(move || {
            if !once.replace(true) {
                block_on(async {
                    grant(&a2, "till", &bob, &["clerk"]).await;
                    a2.fire("till", &sell("ann"), 1).await.unwrap();
                    run(&a2, &inner, "till").await.unwrap();
                });
            }
        }));
        let r = run(&b, &t, "till").await.unwrap();
        assert_eq!((r.rounds, r.rebased, r.pushed), (2, 1, 1));
        run(&a, &backend, "till").await.unwrap();
        assert_eq!(ids(&chain(&a, "till").await), ids(&chain(&b, "till").await));
        assert_eq!(chain(&b, "till").await[1].actor, "ann");

        b.fire("till", &sell("bob"), 3).await.unwrap();
        let stuck = Faulty::with(&backend, Fault::AlwaysConflict);
        let err = run(&b, &stuck, "till").await.unwrap_err();
        assert_eq!(err.code(), "SYNC_CONTENDED");
        assert!(err.retryable());
        assert_eq!(pending(&b, "mem://j", "till").await.unwrap(), 1);
    });
}

#[test]
fn a_local_append_during_the_sync_is_not_lost() {
    block_on(async {
        let backend = MemoryBackend::new("mem://k");
        let a = ledger_with(SHOP, "till").await;
        let b = Rc::new(ledger_with(SHOP, "till").await);
        grant(&a, "till", &b.device_key(), &["clerk"]).await;
        a.fire("till", &sell("ann"), 1).await.unwrap();
        run(&a, &backend, "till").await.unwrap();
        b.fire("till", &sell("bob"), 2).await.unwrap();
        // After b pulls (before it commits the rebase), b's user fires again.
        let t = Faulty::new(&backend);
        let (b2, fired) = (b.clone(), Rc::new(Cell::new(false)));
        let once = fired.clone();
        *t.after_pull.borrow_mut() = Some(Box::new(move || {
            if !once.replace(true) {
                block_on(b2.fire("till", &sell("bob-later"), 3)).unwrap();
            }
        }));
        let r = run(&b, &t, "till").await.unwrap();
        assert!(r.rounds >= 2, "the commit must notice the local change");
        let cb = chain(&b, "till").await;
        let actors: Vec<&str> = cb.iter().map(|e| e.actor.as_str()).collect();
        assert_eq!(actors, ["", "ann", "bob", "bob-later"]);
        assert_eq!(ids(&backend.events("till")), ids(&cb));
        assert_eq!(b.verify(None).await.unwrap()[0].events, 4);
    });
}

#[test]
fn streams_are_synced_independently_and_failures_are_reported_per_stream() {
    block_on(async {
        let backend = MemoryBackend::new("mem://l");
        let a = ledger_with(SHOP, "one").await;
        let shop = a.stream("one").await.unwrap().model;
        a.create_stream("two", &shop).await.unwrap();
        a.fire("one", &sell("a"), 1).await.unwrap();
        a.fire("two", &sell("a"), 1).await.unwrap();
        let events = RefCell::new(0);
        let report = sync(&a, &backend, None, &opts(), &|e| {
            if matches!(e, SyncEvent::Pushed { .. }) {
                *events.borrow_mut() += 1;
            }
        })
        .await
        .unwrap();
        assert_eq!(report.streams.len(), 2);
        assert_eq!(events.into_inner(), 2);
        let asked = ["one".to_string(), "ghost".to_string()];
        let report = sync(&a, &backend, Some(&asked), &opts(), &|_| {})
            .await
            .unwrap();
        assert_eq!(report.streams.len(), 1);
        assert_eq!(report.errors[0].stream, "ghost");
        assert_eq!(report.errors[0].error.code(), "UNKNOWN_STREAM");
        let err = sync(
            &a,
            &Faulty::with(&backend, Fault::ServerError),
            None,
            &opts(),
            &|_| {},
        )
        .await
        .unwrap_err();
        assert_eq!(err.code(), "REMOTE_ERROR");
    });
}

#[test]
fn pages_smaller_than_the_chain_are_followed_to_the_end() {
    block_on(async {
        let backend = MemoryBackend::new("mem://m").page_cap(3);
        let a = ledger_with(COIN, "w").await;
        a.fire("w", &Action::new("spend"), 1).await.unwrap();
        let a2 = ledger_with(SHOP, "big").await;
        let batch: Vec<Action> = (0..3)
            .flat_map(|_| [sell("x"), Action::new("restock").roles(["manager"])])
            .collect();
        a2.fire_batch("big", &batch, 5).await.unwrap();
        let opts = SyncOptions {
            push_batch: 2,
            page: 2,
            ..opts()
        };
        let r = sync_stream(&a2, &backend, "big", &opts, &|_| {})
            .await
            .unwrap();
        assert_eq!(r.pushed, 6);
        let b: L = Ledger::memory();
        let r = sync_stream(&b, &backend, "big", &opts, &|_| {})
            .await
            .unwrap();
        assert_eq!(r.pulled, 6);
        assert_eq!(ids(&chain(&b, "big").await), ids(&chain(&a2, "big").await));
    });
}

/// An empty local stream is created on the backend (an append with no
/// events on the zero head); a followed empty remote stream is created
/// locally; the scope of `sync_local_and` is the local streams and the
/// followed ones, never the backend's others.
#[test]
fn empty_streams_sync_and_the_local_scope_leaves_other_remote_streams_alone() {
    block_on(async {
        let backend = MemoryBackend::new("mem://e");
        let a = ledger_with(SHOP, "empty").await;
        let r = sync_local_and(&a, &backend, &[], &opts(), &|_| {})
            .await
            .unwrap();
        assert!(r.errors.is_empty(), "{:?}", r.errors);
        let listed = |b: &MemoryBackend| {
            let l = block_on(b.list_streams()).unwrap().unwrap();
            l.streams.into_iter().map(|s| s.id).collect::<Vec<_>>()
        };
        assert_eq!(
            listed(&backend),
            ["empty"],
            "the empty stream reached the backend"
        );

        let b = ledger_with(COIN, "mine").await;
        let r = sync_local_and(&b, &backend, &[], &opts(), &|_| {})
            .await
            .unwrap();
        let synced: Vec<_> = r.streams.iter().map(|s| s.stream.as_str()).collect();
        assert_eq!(synced, ["mine"], "only the local stream");
        assert!(
            b.store().stream("empty").await.unwrap().is_none(),
            "not downloaded"
        );
        assert_eq!(listed(&backend), ["empty", "mine"]);

        let follow = ["empty".to_string()];
        let r = sync_local_and(&b, &backend, &follow, &opts(), &|_| {})
            .await
            .unwrap();
        assert!(r.errors.is_empty(), "{:?}", r.errors);
        let got = b.stream("empty").await.unwrap();
        assert_eq!(
            (got.seq, got.model),
            (0, a.stream("empty").await.unwrap().model)
        );
        // It is a real stream here: it fires and syncs back.
        b.fire("empty", &sell("b"), 1).await.unwrap();
        let r = sync_local_and(&b, &backend, &[], &opts(), &|_| {})
            .await
            .unwrap();
        let pushed: u64 = r.streams.iter().map(|s| s.pushed).sum();
        assert_eq!(pushed, 1);
        sync_local_and(&a, &backend, &[], &opts(), &|_| {})
            .await
            .unwrap();
        assert_eq!(
            ids(&chain(&a, "empty").await),
            ids(&chain(&b, "empty").await)
        );
    });
}

/// Issue 13: b fires offline with a role the owner revoked meanwhile
/// upstream. At rebase b's event is refused by the new tip's policy: a
/// recorded conflict `ROLE_REVOKED` (who revoked, at which seq), in the
/// chain on neither side, still listed.
#[test]
fn an_offline_event_after_an_upstream_revocation_is_a_role_revoked_conflict() {
    block_on(async {
        let backend = MemoryBackend::new("mem://revoked");
        let a = ledger_with(SHOP, "till").await;
        let b = Ledger::memory();
        grant(&a, "till", &b.device_key(), &["clerk"]).await;
        run(&a, &backend, "till").await.unwrap();
        run(&b, &backend, "till").await.unwrap();
        b.fire("till", &sell("bob"), 10).await.unwrap();
        run(&b, &backend, "till").await.unwrap();
        run(&a, &backend, "till").await.unwrap();
        let revoke = format!(r#"{{"key":"{}","role":"clerk"}}"#, b.device_key());
        let at = a
            .fire("till", &Action::new("$revoke").payload(revoke), 20)
            .await
            .unwrap()
            .seq;
        run(&a, &backend, "till").await.unwrap();
        // b, offline, still sees its grant and fires.
        let offline = b.fire("till", &sell("bob"), 30).await.unwrap();
        let r = run(&b, &backend, "till").await.unwrap();
        assert_eq!((r.pulled, r.rebased, r.conflicts, r.pushed), (1, 0, 1, 0));
        let c = conflicts(&b, "till").await.unwrap();
        assert_eq!(c.len(), 1);
        assert_eq!(
            (c[0].code.as_str(), c[0].event.hash.as_str()),
            ("ROLE_REVOKED", offline.hash.as_str())
        );
        let reason: serde_json::Value = serde_json::from_str(&c[0].reason).unwrap();
        assert_eq!(reason["role"], "clerk");
        assert_eq!(reason["key"], b.device_key());
        assert_eq!(reason["by"], a.device_key());
        assert_eq!(reason["at"], at);
        assert_eq!(reason["seq"], at + 1);
        for events in [
            chain(&b, "till").await,
            backend.events("till"),
            chain(&a, "till").await,
        ] {
            assert_eq!(events.len() as u64, at);
            assert!(events.iter().all(|e| e.nonce != offline.nonce));
        }
        assert_eq!(b.verify(None).await.unwrap()[0].events, at);
        // Refused locally too now, with the same reason.
        let err = b.fire("till", &sell("bob"), 40).await.unwrap_err();
        assert_eq!(err.code(), "ROLE_REVOKED");
    });
}
