//! The sync client: pull, verify, fast-forward or rebase, push. Generic over
//! a [`Transport`] (HTTP through fetch, a JS object, or the in-memory
//! [`MemoryBackend`](super::MemoryBackend) in native tests) and over the
//! ledger's [`SyncStore`].
//!
//! One round for one stream (docs/sync-protocol.md, "Client algorithm"):
//! 1. Read the local head and the last common head with this backend (the
//!    sync point is trusted only if the local chain still has that event).
//! 2. Pull every remote event after the common seq, page by page, verifying
//!    each (fields, link, hash, replay through the net, state) before anything
//!    is stored. A remote whose chain no longer contains the common event is
//!    a fork and is refused.
//! 3. Skip the events both sides already share (a push whose answer was lost).
//! 4. Remote moved, local did not: fast-forward. Both moved: rebase the local
//!    pending actions on the remote head; the net's refusals become recorded
//!    conflicts. Either way ONE store commit replaces the stream's tail, moves
//!    the sync point and records the conflicts, and only if the local head is
//!    still the one read in step 1 (else the round starts again).
//! 5. Push what is pending with the conditional append, in batches, moving
//!    the sync point after each acknowledged batch. A 409 starts a new round;
//!    rounds are bounded.

use std::collections::HashSet;
use std::rc::Rc;

use serde::Serialize;

use super::error::SyncError;
use super::protocol::{AppendOk, AppendRequest, EventPage, Head, ModelDoc, StreamList};
use super::rebase::rebase;
use super::state::{common_head, pending};
use crate::chain::{sign_unsigned, ChainError, Event, TipState, Verifier};
use crate::formats::json::import_json;
use crate::model::Model;
use crate::store::{
    key_changes, Commit, Conflict, KeyCount, Ledger, StreamRecord, SyncCommit, SyncRecord,
    SyncStore,
};

/// The answer to a conditional append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushOutcome {
    /// Stored (`200`).
    Appended(AppendOk),
    /// The remote head was not the expected one (`409 HEAD_MISMATCH`).
    Conflict(Head),
}

/// How the client reaches a backend: the protocol's requests as calls.
/// Errors are [`SyncError`]s: `Network` for unreachable, `RemoteError` for
/// error statuses, `BadResponse` for answers that are not the protocol's.
#[allow(async_fn_in_trait)]
pub trait Transport {
    /// A stable name for the backend (its URL): sync state is kept per name.
    fn backend(&self) -> &str;
    /// `GET /v1/streams`; `None` if this transport cannot list streams.
    async fn list_streams(&self) -> Result<Option<StreamList>, SyncError>;
    /// `GET /v1/models/{id}`; `None` if unknown (or not supported).
    async fn get_model(&self, id: &str) -> Result<Option<ModelDoc>, SyncError>;
    /// `PUT /v1/models/{id}` (a transport whose backend needs no models may do nothing).
    async fn put_model(&self, doc: &ModelDoc) -> Result<(), SyncError>;
    /// `GET /v1/streams/{stream}/events?after=&limit=`; `None` for `404 STREAM_NOT_FOUND`.
    async fn pull(
        &self,
        stream: &str,
        after: u64,
        limit: u64,
    ) -> Result<Option<EventPage>, SyncError>;
    /// `POST /v1/streams/{stream}/events`.
    async fn push(&self, stream: &str, request: &AppendRequest) -> Result<PushOutcome, SyncError>;
}

/// Knobs of a sync.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncOptions {
    /// Events asked per pull (the server may send fewer).
    pub page: u64,
    /// Events sent per append.
    pub push_batch: usize,
    /// Rounds (pull, rebase, push) before giving up when the remote keeps moving.
    pub max_rounds: u32,
    /// Time recorded on conflicts (ms since the epoch; the core has no clock).
    pub now: u64,
}

impl Default for SyncOptions {
    fn default() -> Self {
        SyncOptions {
            page: 1000,
            push_batch: 500,
            max_rounds: 5,
            now: 0,
        }
    }
}

/// What syncing one stream did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StreamReport {
    /// The stream.
    pub stream: String,
    /// Remote events verified and stored locally.
    pub pulled: u64,
    /// Events the remote stored from this push.
    pub pushed: u64,
    /// Pushed events the remote already had.
    pub duplicates: u64,
    /// Local events re-fired on a newer remote head and kept.
    pub rebased: u64,
    /// Local events the net refused after the rebase (now conflicts).
    pub conflicts: u64,
    /// Rounds used (more than 1 after a 409 or a concurrent local change).
    pub rounds: u32,
    /// The local head at the end.
    pub head: Head,
    /// Local events the remote does not have yet (0 after a full sync).
    pub pending: u64,
}

/// What [`sync`] did for every stream.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncReport {
    /// The backend.
    pub backend: String,
    /// Streams synced.
    pub streams: Vec<StreamReport>,
    /// Streams that failed, with why (the others were still synced).
    pub errors: Vec<StreamFailure>,
}

/// One stream's failure in a [`SyncReport`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StreamFailure {
    /// The stream.
    pub stream: String,
    /// Why.
    pub error: SyncError,
}

/// Progress reported while syncing.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum SyncEvent {
    /// Remote events were verified and stored.
    Pulled {
        /// The stream.
        stream: String,
        /// How many.
        events: u64,
        /// Local head after.
        head: Head,
    },
    /// A batch was acknowledged by the remote.
    Pushed {
        /// The stream.
        stream: String,
        /// Events stored by the remote.
        events: u64,
        /// The remote head after.
        head: Head,
    },
    /// A local action was refused after a rebase and recorded.
    Conflict {
        /// The conflict.
        conflict: Box<Conflict>,
    },
    /// A stream finished.
    Stream {
        /// Its report.
        report: StreamReport,
    },
    /// A stream failed.
    Error {
        /// The stream.
        stream: String,
        /// Why.
        error: SyncError,
    },
}

/// Syncs `streams` (or, if `None`, every local stream and every stream the
/// backend lists) with the backend. A failing stream does not stop the others;
/// its error is in the report. Fails as a whole only if listing fails.
pub async fn sync<S: SyncStore, T: Transport>(
    ledger: &Ledger<S>,
    transport: &T,
    streams: Option<&[String]>,
    options: &SyncOptions,
    on_event: &dyn Fn(&SyncEvent),
) -> Result<SyncReport, SyncError> {
    let scope = match streams {
        Some(list) => Scope::Only(list),
        None => Scope::All,
    };
    sync_scope(ledger, transport, scope, options, on_event).await
}

/// Syncs every local stream and those of `follow` (pulled even before this
/// ledger has them), but none of the backend's other streams; otherwise as
/// [`sync`] with `None`.
pub async fn sync_local_and<S: SyncStore, T: Transport>(
    ledger: &Ledger<S>,
    transport: &T,
    follow: &[String],
    options: &SyncOptions,
    on_event: &dyn Fn(&SyncEvent),
) -> Result<SyncReport, SyncError> {
    sync_scope(
        ledger,
        transport,
        Scope::LocalAnd(follow),
        options,
        on_event,
    )
    .await
}

/// Which streams a sync covers.
enum Scope<'a> {
    /// Exactly these.
    Only(&'a [String]),
    /// Every local stream and every remote one.
    All,
    /// Every local stream and these.
    LocalAnd(&'a [String]),
}

async fn sync_scope<S: SyncStore, T: Transport>(
    ledger: &Ledger<S>,
    transport: &T,
    scope: Scope<'_>,
    options: &SyncOptions,
    on_event: &dyn Fn(&SyncEvent),
) -> Result<SyncReport, SyncError> {
    // What the remote has, so that a stream it lacks is not pulled first (a
    // pull would be a 404, which browsers log as a console error). With
    // explicit streams a failed listing is not fatal: those are pulled as usual.
    let (ids, remote): (Vec<String>, Option<HashSet<String>>) = match scope {
        Scope::Only(list) => {
            let remote = transport.list_streams().await.ok().flatten();
            (
                list.to_vec(),
                remote.map(|l| l.streams.into_iter().map(|s| s.id).collect()),
            )
        }
        Scope::All | Scope::LocalAnd(_) => {
            let mut ids: Vec<String> = ledger.streams().await?.into_iter().map(|s| s.id).collect();
            let remote = transport.list_streams().await?;
            let remote: Option<HashSet<String>> =
                remote.map(|l| l.streams.into_iter().map(|s| s.id).collect());
            match scope {
                Scope::LocalAnd(follow) => ids.extend(follow.iter().cloned()),
                _ => ids.extend(remote.iter().flatten().cloned()),
            }
            ids.sort();
            ids.dedup();
            (ids, remote)
        }
    };
    let mut report = SyncReport {
        backend: transport.backend().to_string(),
        ..SyncReport::default()
    };
    for id in ids {
        let absent = remote.as_ref().is_some_and(|r| !r.contains(&id));
        match sync_one(ledger, transport, &id, options, absent, on_event).await {
            Ok(r) => report.streams.push(r),
            Err(error) => {
                on_event(&SyncEvent::Error {
                    stream: id.clone(),
                    error: error.clone(),
                });
                report.errors.push(StreamFailure { stream: id, error });
            }
        }
    }
    Ok(report)
}

/// Syncs one stream: rounds of pull / fast-forward or rebase / push until
/// the remote acknowledges everything, at most `options.max_rounds`.
pub async fn sync_stream<S: SyncStore, T: Transport>(
    ledger: &Ledger<S>,
    transport: &T,
    stream: &str,
    options: &SyncOptions,
    on_event: &dyn Fn(&SyncEvent),
) -> Result<StreamReport, SyncError> {
    sync_one(ledger, transport, stream, options, false, on_event).await
}

/// [`sync_stream`]; `absent`: the remote's listing just now lacked the stream,
/// so the first round need not pull it (later rounds, after a 409, do).
async fn sync_one<S: SyncStore, T: Transport>(
    ledger: &Ledger<S>,
    transport: &T,
    stream: &str,
    options: &SyncOptions,
    absent: bool,
    on_event: &dyn Fn(&SyncEvent),
) -> Result<StreamReport, SyncError> {
    crate::chain::check_id("stream", stream, false)?;
    let mut report = StreamReport {
        stream: stream.to_string(),
        pulled: 0,
        pushed: 0,
        duplicates: 0,
        rebased: 0,
        conflicts: 0,
        rounds: 0,
        head: Head::zero(),
        pending: 0,
    };
    let rounds = options.max_rounds.max(1);
    for round in 1..=rounds {
        report.rounds = round;
        let absent = absent && round == 1;
        if sync_round(
            ledger,
            transport,
            stream,
            options,
            absent,
            &mut report,
            on_event,
        )
        .await?
        {
            let head = ledger.store().stream(stream).await?;
            report.head = head.map_or_else(Head::zero, |h| Head {
                seq: h.seq,
                hash: h.hash,
            });
            report.pending = pending(ledger, transport.backend(), stream).await?;
            on_event(&SyncEvent::Stream {
                report: report.clone(),
            });
            return Ok(report);
        }
    }
    Err(SyncError::Contended {
        stream: stream.to_string(),
        rounds,
    })
}

fn bad(backend: &str, what: &str, message: String) -> SyncError {
    SyncError::BadResponse {
        backend: backend.to_string(),
        what: what.to_string(),
        message,
    }
}

fn head_of(e: &Event) -> Head {
    Head {
        seq: e.seq,
        hash: e.hash.clone(),
    }
}

/// Pulled and verified remote events after the common head.
struct Pulled {
    /// `false` when the remote does not have the stream at all.
    exists: bool,
    model: Rc<Model>,
    /// The model was fetched from the remote (not yet in the ledger).
    fetched: bool,
    events: Vec<Event>,
    /// Head and state after `events` (the common head if none).
    end: Head,
    state: TipState,
}

/// One round. `Ok(true)`: done; `Ok(false)`: go again (409, local change).
async fn sync_round<S: SyncStore, T: Transport>(
    ledger: &Ledger<S>,
    transport: &T,
    stream: &str,
    options: &SyncOptions,
    absent: bool,
    report: &mut StreamReport,
    on_event: &dyn Fn(&SyncEvent),
) -> Result<bool, SyncError> {
    let backend = transport.backend().to_string();
    let store = ledger.store();

    // 1. Local head and the sync point, trusted only if still on the chain.
    let local = store.stream(stream).await?;
    let mut common = common_head(ledger, &backend, stream).await?;
    let mut common_marking = None;
    match &local {
        None => common = Head::zero(),
        Some(l) if common.seq > l.seq => common = Head::zero(),
        Some(_) if common.seq == 0 => common = Head::zero(),
        Some(_) => {
            let at = store.events(stream, common.seq - 1, Some(1)).await?;
            match at.first() {
                // Signed here too: the tail a round replaces starts after
                // it, and must not leave a signature run open before it.
                Some(e) if e.seq == common.seq && e.hash == common.hash && !e.sig.is_empty() => {
                    // The sync point kept from the last round (or the tip)
                    // when it is this event: no replay, no rebuild.
                    common_marking = Some(ledger.state_at_head(stream, &common).await?);
                }
                _ => common = Head::zero(),
            }
        }
    }

    // 2. Pull and verify.
    let pulled = pull_verified(
        ledger,
        transport,
        stream,
        local.as_ref(),
        &common,
        common_marking,
        // Not listed and nothing here to push: still ask, so that the
        // remote says why (FORBIDDEN for a stream this key may not read,
        // or nothing: UNKNOWN_STREAM).
        if absent && common.seq == 0 && local.is_some() {
            Fetch::KnownAbsent
        } else {
            Fetch::Pages(options.page)
        },
    )
    .await?;
    let model = pulled.model.clone();

    // 3. What both sides already share.
    let local_pending = match &local {
        Some(l) if l.seq > common.seq => store.events(stream, common.seq, None).await?,
        _ => Vec::new(),
    };
    let same = local_pending
        .iter()
        .zip(&pulled.events)
        .take_while(|(a, b)| a.hash == b.hash)
        .count();
    // Shared up to the last event signed here: a tail replaced after a
    // point inside a local signature run would leave that run unclosed;
    // the remote's (signed) copies of the rest replace ours below.
    let shared = local_pending[..same]
        .iter()
        .rposition(|e| !e.sig.is_empty())
        .map_or(0, |i| i + 1);
    let agreed = match shared {
        0 => common.clone(),
        n => head_of(&pulled.events[n - 1]),
    };
    let local_rest = &local_pending[shared..];
    let remote_rest = &pulled.events[shared..];
    let snapshot = local.as_ref().map(|l| (l.seq, l.hash.clone()));

    // 4. Fast-forward or rebase, in one commit.
    let (to_push, mut expected) = if !remote_rest.is_empty() {
        // A local event whose nonce the remote already holds is the same
        // firing chained elsewhere (the same version 1 chain upgraded on two
        // devices, or a copy restored from an export): the remote's copy
        // stands, and re-firing ours would record the action twice.
        let remote_nonces: std::collections::HashSet<&str> =
            remote_rest.iter().map(|e| e.nonce.as_str()).collect();
        let local_rest: Vec<Event> = local_rest
            .iter()
            .filter(|e| !remote_nonces.contains(e.nonce.as_str()))
            .cloned()
            .collect();
        let copies = local_pending.len() - shared - local_rest.len();
        report.duplicates = report.duplicates.saturating_add(copies as u64);
        let local_rest = &local_rest[..];
        let rebased = if local_rest.is_empty() {
            None
        } else {
            Some(
                rebase(
                    &model,
                    stream,
                    &**ledger.device(),
                    &pulled.end,
                    &pulled.state,
                    local_rest,
                )
                .await?,
            )
        };
        let conflicts: Vec<Conflict> = rebased
            .iter()
            .flat_map(|r| r.refused.iter())
            .map(|(event, reason)| Conflict {
                stream: stream.to_string(),
                backend: backend.clone(),
                event: event.clone(),
                code: reason.code().to_string(),
                message: reason.to_string(),
                reason: serde_json::to_string(reason).unwrap_or_default(),
                remote: pulled.end.clone(),
                detected: options.now,
            })
            .collect();
        let (head, marking, policy, kept) = match &rebased {
            Some(r) => (
                r.head.clone(),
                r.marking.clone(),
                r.policy.clone(),
                r.kept.clone(),
            ),
            None => (
                pulled.end.clone(),
                pulled.state.marking().clone(),
                pulled.state.policy().clone(),
                Vec::new(),
            ),
        };
        // Every local event after the agreed head is replaced (copies too).
        let restored = restored_keys(&model, &pulled.state, &local_pending[shared..], &kept);
        let mut events = remote_rest.to_vec();
        events.extend(kept.iter().cloned());
        if pulled.fetched {
            ledger.put_model(&model).await?;
        }
        let record = StreamRecord {
            id: stream.to_string(),
            model: model.id().to_string(),
            seq: head.seq,
            hash: head.hash.clone(),
            state: marking.0,
            policy: Some(policy),
        };
        let written = commit_if_unchanged(
            ledger,
            stream,
            &backend,
            snapshot,
            agreed.seq,
            record,
            events,
            restored,
            pulled.end.clone(),
            conflicts.clone(),
        )
        .await?;
        if !written {
            return Ok(false);
        }
        // The states just computed: the remote head's is the new sync
        // point, the rebased one (or the same) the new local tip.
        match rebased {
            Some(r) => ledger.set_tip(stream, r.head, r.state),
            None => ledger.set_tip(stream, pulled.end.clone(), pulled.state.clone()),
        }
        ledger.remember_sync_point(stream, pulled.end.clone(), pulled.state);
        report.pulled = report.pulled.saturating_add(remote_rest.len() as u64);
        report.rebased = report.rebased.saturating_add(kept.len() as u64);
        report.conflicts = report.conflicts.saturating_add(conflicts.len() as u64);
        on_event(&SyncEvent::Pulled {
            stream: stream.to_string(),
            events: remote_rest.len() as u64,
            head: head.clone(),
        });
        for conflict in conflicts {
            on_event(&SyncEvent::Conflict {
                conflict: Box::new(conflict),
            });
        }
        (kept, pulled.end.clone())
    } else {
        if agreed != common {
            save_common(ledger, stream, &backend, &agreed).await?;
        }
        (local_rest.to_vec(), agreed)
    };

    // An empty stream the backend has and this ledger lacks: create it here.
    if local.is_none() && pulled.exists && to_push.is_empty() && remote_rest.is_empty() {
        if pulled.fetched {
            ledger.put_model(&model).await?;
        }
        return match ledger.create_stream(stream, model.id()).await {
            Ok(_) => Ok(true),
            // Created meanwhile (another tab): look again.
            Err(ChainError::StreamExists { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        };
    }

    // 5. Push.
    if to_push.is_empty() && (pulled.exists || local.is_none()) {
        ledger.remember_sync_point_from_tip(stream, &expected);
        return Ok(true);
    }
    if !pulled.exists {
        transport
            .put_model(&ModelDoc {
                id: model.id().to_string(),
                json: model.canonical_json(),
            })
            .await?;
    }
    if to_push.is_empty() {
        // An empty local stream the backend lacks: an append with no
        // events on the zero head creates it there.
        let request = AppendRequest {
            model: model.id().to_string(),
            expected: expected.clone(),
            events: Vec::new(),
        };
        return match transport.push(stream, &request).await? {
            PushOutcome::Conflict(_) => Ok(false),
            PushOutcome::Appended(ok) => {
                on_event(&SyncEvent::Pushed {
                    stream: stream.to_string(),
                    events: 0,
                    head: ok.head,
                });
                Ok(true)
            }
        };
    }
    // What leaves the device is fully signed (remotes accept no signature
    // runs: a push can stop between batches, and adapters between events):
    // one request to the device for every event of a run, whose hash, and
    // so whose stored copy, stays the same.
    let signed_here: Vec<bool> = to_push.iter().map(|e| !e.sig.is_empty()).collect();
    let mut to_push = to_push;
    sign_unsigned(&**ledger.device(), &mut to_push).await?;
    let size = options.push_batch.max(1);
    for (batch, signed_here) in to_push.chunks(size).zip(signed_here.chunks(size)) {
        let request = AppendRequest {
            model: model.id().to_string(),
            expected: expected.clone(),
            events: batch.to_vec(),
        };
        match transport.push(stream, &request).await? {
            PushOutcome::Conflict(_) => return Ok(false),
            PushOutcome::Appended(ok) => {
                let Some(last) = batch.last() else { break };
                let ours = head_of(last);
                // The remote's head is our last event; or it already had the
                // whole batch (a re-push) and has moved on since.
                let all_known =
                    ok.stored == 0 && ok.duplicates == batch.len() as u64 && ok.head.seq > ours.seq;
                if ok.head != ours && !all_known {
                    return Err(bad(
                        &backend,
                        "append",
                        format!(
                            "the append answered head {:?}, the batch ends at {:?}",
                            ok.head, ours
                        ),
                    ));
                }
                if signed_here.last() == Some(&true) {
                    // (A sync point is only kept where the local copy is
                    // signed too; see step 1.)
                    save_common(ledger, stream, &backend, &ours).await?;
                }
                report.pushed = report.pushed.saturating_add(ok.stored);
                report.duplicates = report.duplicates.saturating_add(ok.duplicates);
                on_event(&SyncEvent::Pushed {
                    stream: stream.to_string(),
                    events: ok.stored,
                    head: ok.head.clone(),
                });
                expected = ours;
            }
        }
    }
    // Everything pushed: the local tip is the new sync point.
    ledger.remember_sync_point_from_tip(stream, &expected);
    Ok(true)
}

/// How a round reads the remote.
#[derive(Clone, Copy)]
enum Fetch {
    /// Pull pages of at most this many events.
    Pages(u64),
    /// The remote's listing lacks the stream: nothing to pull.
    KnownAbsent,
}

/// Pulls every remote event after `common` and verifies it.
async fn pull_verified<S: SyncStore, T: Transport>(
    ledger: &Ledger<S>,
    transport: &T,
    stream: &str,
    local: Option<&StreamRecord>,
    common: &Head,
    common_marking: Option<TipState>,
    fetch: Fetch,
) -> Result<Pulled, SyncError> {
    let backend = transport.backend();
    let limit = match fetch {
        Fetch::Pages(limit) => limit.max(1),
        Fetch::KnownAbsent => 1,
    };
    let page = match fetch {
        Fetch::KnownAbsent => None,
        Fetch::Pages(_) => transport.pull(stream, common.seq, limit).await?,
    };
    let Some(mut page) = page else {
        if common.seq > 0 {
            return Err(SyncError::RemoteForked {
                stream: stream.into(),
                seq: common.seq,
                agreed: common.clone(),
                remote: None,
            });
        }
        let model = match local {
            Some(l) => ledger.model(&l.model).await?,
            None => {
                return Err(SyncError::Local(ChainError::UnknownStream {
                    stream: stream.into(),
                }))
            }
        };
        return Ok(Pulled {
            exists: false,
            state: TipState::new(&model, model.initial_marking()),
            model,
            fetched: false,
            events: Vec::new(),
            end: Head::zero(),
        });
    };
    check_page(backend, stream, &page)?;
    let wrong_model = |found: &str, expected: &str, seq: u64| SyncError::RemoteChainInvalid {
        stream: stream.into(),
        error: ChainError::WrongModel {
            stream: stream.into(),
            seq,
            expected: expected.into(),
            found: found.into(),
        },
    };
    let first_seq = page.events.first().map_or(common.seq, |e| e.seq);
    let (model, fetched) = match local {
        Some(l) if page.model != l.model => {
            return Err(wrong_model(&page.model, &l.model, first_seq));
        }
        Some(l) => (ledger.model(&l.model).await?, false),
        None => match ledger.model(&page.model).await {
            Ok(m) => (m, false),
            Err(ChainError::UnknownModel { .. }) => (
                Rc::new(fetch_model(transport, stream, &page.model).await?),
                true,
            ),
            Err(e) => return Err(e.into()),
        },
    };
    let start = common_marking.unwrap_or_else(|| TipState::new(&model, model.initial_marking()));
    let mut verifier = Verifier::resume_state(&model, stream, common.seq, &common.hash, start)?;
    let mut events: Vec<Event> = Vec::new();
    loop {
        for e in &page.events {
            verifier.push(e).map_err(|error| match error {
                ChainError::BrokenLink { seq, .. } if seq == common.seq.saturating_add(1) => {
                    SyncError::RemoteForked {
                        stream: stream.into(),
                        seq: common.seq,
                        agreed: common.clone(),
                        remote: Some(page.head.clone()),
                    }
                }
                error => SyncError::RemoteChainInvalid {
                    stream: stream.into(),
                    error,
                },
            })?;
        }
        let got = page.events.len();
        let (more, head) = (page.more, page.head.clone());
        events.append(&mut page.events);
        if got > 0 && head.seq < verifier.seq() {
            return Err(bad(
                backend,
                "pull",
                format!(
                    "page head seq {} is behind its own events (seq {})",
                    head.seq,
                    verifier.seq()
                ),
            ));
        }
        if !more {
            if events.is_empty() && head != *common {
                if head.seq > common.seq {
                    return Err(bad(
                        backend,
                        "pull",
                        format!(
                            "head is at seq {} but no event after seq {} was sent",
                            head.seq, common.seq
                        ),
                    ));
                }
                return Err(SyncError::RemoteForked {
                    stream: stream.into(),
                    seq: common.seq,
                    agreed: common.clone(),
                    remote: Some(head),
                });
            }
            break;
        }
        if got == 0 {
            return Err(bad(
                backend,
                "pull",
                "the page says more events follow but has none".into(),
            ));
        }
        page = transport
            .pull(stream, verifier.seq(), limit)
            .await?
            .ok_or_else(|| bad(backend, "pull", "the stream vanished between pages".into()))?;
        check_page(backend, stream, &page)?;
        if page.model != model.id() {
            let seq = page.events.first().map_or(verifier.seq(), |e| e.seq);
            return Err(wrong_model(&page.model, model.id(), seq));
        }
    }
    verifier
        .flush()
        .map_err(|error| SyncError::RemoteChainInvalid {
            stream: stream.into(),
            error,
        })?;
    let end = Head {
        seq: verifier.seq(),
        hash: verifier.head(),
    };
    let state = verifier.into_state();
    Ok(Pulled {
        exists: true,
        model,
        fetched,
        events,
        end,
        state,
    })
}

fn check_page(backend: &str, stream: &str, page: &EventPage) -> Result<(), SyncError> {
    if page.stream != stream {
        return Err(bad(
            backend,
            "pull",
            format!(
                "asked for stream '{stream}', got a page of '{}'",
                page.stream
            ),
        ));
    }
    Ok(())
}

/// Gets a model from the backend and checks that it hashes to its id.
async fn fetch_model<T: Transport>(
    transport: &T,
    stream: &str,
    id: &str,
) -> Result<Model, SyncError> {
    let backend = transport.backend();
    let doc = transport
        .get_model(id)
        .await?
        .ok_or_else(|| SyncError::ModelUnavailable {
            stream: stream.into(),
            model: id.into(),
        })?;
    let (model, _) = import_json(&doc.json)
        .map_err(|e| bad(backend, "model", format!("model {id} does not load: {e}")))?;
    if model.id() != id || doc.id != id {
        return Err(bad(
            backend,
            "model",
            format!("asked for model {id}, got one whose hash is {}", model.id()),
        ));
    }
    Ok(model)
}

/// Replaces the tail of `stream` after `keep` with `events`, sets the head,
/// moves the sync point of `backend` to `common` and records `conflicts`, in
/// one commit, if the local head is still `snapshot`. `Ok(false)`: it moved.
#[allow(clippy::too_many_arguments)]
async fn commit_if_unchanged<S: SyncStore>(
    ledger: &Ledger<S>,
    stream: &str,
    backend: &str,
    snapshot: Option<(u64, String)>,
    keep: u64,
    record: StreamRecord,
    events: Vec<Event>,
    restored: Vec<KeyCount>,
    common: Head,
    conflicts: Vec<Conflict>,
) -> Result<bool, SyncError> {
    let mut moved = false;
    let result = ledger
        .store()
        .commit_sync(stream, &mut |head, sync| {
            if head.map(|h| (h.seq, h.hash.clone())) != snapshot {
                moved = true;
                return Err(ChainError::Storage {
                    message: "the local stream changed during the sync".into(),
                });
            }
            Ok(SyncCommit {
                record: record.clone(),
                keep,
                events: events.clone(),
                restored: restored.clone(),
                sync: with_common(sync, stream, backend, &common),
                conflicts: conflicts.clone(),
            })
        })
        .await;
    match result {
        Ok(done) => {
            ledger.announce(&Commit {
                record: done.record,
                events: done.events,
            });
            Ok(true)
        }
        Err(_) if moved => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// The count at the new head of every key that the replaced local events
/// `removed` changed (for the store's key records, [`SyncCommit::restored`]):
/// the last count the `kept` (rebased) events give it, else its count in
/// `base`, the state the kept events were chained on.
fn restored_keys(
    model: &Model,
    base: &TipState,
    removed: &[Event],
    kept: &[Event],
) -> Vec<KeyCount> {
    let after = key_changes(kept);
    let mut out: Vec<KeyCount> = Vec::new();
    for ((place, key), _) in key_changes(removed) {
        let n = match after.get(&(place, key)) {
            Some(n) => *n,
            None => model
                .place_index(place)
                .map_or(0, |p| base.keyed().get(p, key)),
        };
        out.push((place.to_string(), key.to_string(), n));
    }
    out
}

/// Moves the sync point of `backend` to `common` (an event the local chain has).
async fn save_common<S: SyncStore>(
    ledger: &Ledger<S>,
    stream: &str,
    backend: &str,
    common: &Head,
) -> Result<(), SyncError> {
    ledger
        .store()
        .commit_sync(stream, &mut |head, sync| {
            let head = head.ok_or_else(|| ChainError::UnknownStream {
                stream: stream.into(),
            })?;
            if head.seq < common.seq {
                return Err(ChainError::Storage {
                    message: format!(
                        "sync point seq {} is past the local head seq {}",
                        common.seq, head.seq
                    ),
                });
            }
            Ok(SyncCommit {
                record: head.clone(),
                keep: head.seq,
                events: Vec::new(),
                restored: Vec::new(),
                sync: with_common(sync, stream, backend, common),
                conflicts: Vec::new(),
            })
        })
        .await?;
    Ok(())
}

fn with_common(
    sync: Option<&SyncRecord>,
    stream: &str,
    backend: &str,
    common: &Head,
) -> SyncRecord {
    let mut record = sync.cloned().unwrap_or_else(|| SyncRecord {
        stream: stream.to_string(),
        ..SyncRecord::default()
    });
    record.remotes.insert(backend.to_string(), common.clone());
    record
}

/// Recorded conflicts of a stream, oldest first.
pub async fn conflicts<S: SyncStore>(
    ledger: &Ledger<S>,
    stream: &str,
) -> Result<Vec<Conflict>, ChainError> {
    ledger.store().conflicts(stream).await
}
