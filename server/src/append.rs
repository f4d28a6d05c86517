//! The conditional, idempotent append of docs/sync-protocol.md, written once
//! for every storage backend. [`plan_append`] runs inside the backend's
//! write transaction, so the head it checks is the head it writes on.
//!
//! In order:
//! 1. Leading events the server already has (same seq, same hash) are
//!    duplicates and skipped; a leading event whose seq is taken by another
//!    hash is a lost race: `409 HEAD_MISMATCH`.
//! 2. The head the new events build on (the last duplicate, or `expected`
//!    when there is none) must be the stored head, and the first new event
//!    must follow it (next seq, `prev` = head hash): `409` otherwise.
//! 3. Each new event is checked by the engine's [`Verifier`], resumed at the
//!    stored head and marking (for a net with keyed places, and its keys;
//!    for a batch with policy entries or claimed roles, and the stream's
//!    policy: [`crate::keyed_state`]): stream, model, seq, fields, `prev`
//!    link, hash, the signer holds the roles it claims (`ROLE_NOT_GRANTED`,
//!    `ROLE_REVOKED`), the net allows the action, `delta` is exactly the counts the
//!    firing changed, `root` is the Merkle commitment of the marking
//!    reached, and `sig` is `signer`'s Ed25519 signature of the hash. The
//!    signatures are checked in batches, the last of them by
//!    [`Verifier::finish`] before anything is decided. The first failure
//!    refuses the batch: `422 INVALID_EVENT` with its seq and reason (e.g.
//!    `BAD_SIGNATURE`, `COMMITMENT_MISMATCH`).
//! 4. The new head (seq, hash, the full marking) and events are written, or
//!    nothing.

use petrichain::chain::{TipState, Verifier};
use petrichain::engine::Marking;
use petrichain::model::Model;
use petrichain::sync::protocol::{AppendOk, AppendRequest, Head};

use crate::error::ApiError;
use crate::keyed_state::KeyedHead;
use crate::storage::{head_of, AppendTx, Commit, StreamRecord};

/// What the append decided: what to write (if anything) and the answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// The write, `None` when there is nothing new.
    pub commit: Option<Commit>,
    /// The `200` answer.
    pub answer: AppendOk,
    /// For a net with keyed places, the state the new head reaches.
    pub state: Option<TipState>,
}

/// The head to answer `409 HEAD_MISMATCH` with, before any keyed state is
/// read or copied (O(keys)), when `stored` (the stream's head, read outside
/// the append's transaction) shows the request lost the race: its first
/// event is past the stored head (so none can be a duplicate) and the
/// request does not build on it. This is [`plan_append`]'s answer for
/// such a request; heads only move forward, so a later read answers the
/// same. `None`: [`plan_append`] decides (duplicates, another model, a
/// new stream, an empty batch, or a request that may fit).
pub fn lost_race(req: &AppendRequest, stored: Option<&StreamRecord>) -> Option<Head> {
    let current = stored?;
    let first = req.events.first()?;
    if current.model != req.model || first.seq <= current.seq {
        return None;
    }
    let head = head_of(current);
    let builds_on_head = req.expected == head
        && first.seq == current.seq.saturating_add(1)
        && first.prev == current.hash;
    (!builds_on_head).then_some(head)
}

/// Decides an append of `req` to `stream`, whose model is `model` (already
/// looked up from `req.model`), reading the stored state through `tx`.
/// For a net with keyed places, `keyed` is the state of the stored head
/// ([`crate::keyed_state`]); a `keyed` that is not at the stored head is
/// an internal error (the caller rebuilds it and runs the plan again).
pub fn plan_append(
    model: &Model,
    stream: &str,
    req: &AppendRequest,
    keyed: Option<&KeyedHead>,
    tx: &mut dyn AppendTx,
) -> Result<Decision, ApiError> {
    let stored = tx.head()?;
    let exists = stored.is_some();
    let current = match stored {
        Some(h) => {
            if h.model != req.model {
                return Err(ApiError::BadRequest(format!(
                    "stream '{stream}' has model {}, the request names {}",
                    h.model, req.model
                )));
            }
            h
        }
        None => StreamRecord {
            id: stream.to_string(),
            model: model.id().to_string(),
            seq: 0,
            hash: Head::zero().hash,
            state: model.initial_marking().0,
            policy: None,
        },
    };
    let current_head = head_of(&current);

    // 1. Skip what is already stored.
    let mut base = req.expected.clone();
    let mut duplicates = 0usize;
    for e in &req.events {
        if e.seq == 0 || e.seq > current.seq {
            break;
        }
        match tx.hash_at(e.seq)? {
            Some(h) if h == e.hash => {
                base = Head {
                    seq: e.seq,
                    hash: e.hash.clone(),
                };
                duplicates += 1;
            }
            _ => return Err(ApiError::HeadMismatch(current_head)),
        }
    }
    let fresh = &req.events[duplicates..];
    if duplicates > 0 && fresh.is_empty() {
        // An acknowledged batch sent again: success, nothing changes.
        return Ok(Decision {
            commit: None,
            answer: AppendOk {
                head: current_head,
                stored: 0,
                duplicates: duplicates as u64,
            },
            state: None,
        });
    }

    // 2. The conditional part: the batch must build on the stored head, by
    //    what it says (`expected` / the last duplicate) and by what its
    //    first new event links to.
    if base != current_head {
        return Err(ApiError::HeadMismatch(current_head));
    }
    if let Some(first) = fresh.first() {
        if first.seq != current.seq.saturating_add(1) || first.prev != current.hash {
            return Err(ApiError::HeadMismatch(current_head));
        }
    }

    // 3. Verify every new event on top of the stored head.
    // A full state (keys, policy) when the net has keyed places or the
    // caller rebuilt one for events that need the stream's policy.
    let is_keyed = model.has_keyed_places() || keyed.is_some();
    let resumed = if is_keyed {
        let state = match keyed {
            Some(k) if k.seq == current.seq && k.hash == current.hash => k.state.clone(),
            None if current.seq == 0 => TipState::new(model, Marking(current.state.clone())),
            _ => return Err(ApiError::Internal(STALE_KEYED_STATE.into())),
        };
        Verifier::resume_state(model, stream, current.seq, &current.hash, state)
    } else {
        Verifier::resume(
            model,
            stream,
            current.seq,
            &current.hash,
            Marking(current.state.clone()),
        )
    };
    let mut verifier = resumed
        .map_err(|e| ApiError::Internal(format!("stored head of '{stream}' is unusable: {e}")))?;
    for e in fresh {
        verifier
            .push(e)
            .map_err(|err| ApiError::invalid_event(&err, e.seq))?;
    }
    // The signatures still queued: nothing is decided before they verify.
    let last_seq = fresh.last().map_or(current.seq, |e| e.seq);
    verifier
        .flush()
        .map_err(|err| ApiError::invalid_event(&err, last_seq))?;
    let state = is_keyed.then(|| verifier.state().clone());
    let verified = verifier
        .finish()
        .map_err(|err| ApiError::invalid_event(&err, last_seq))?;

    let answer_head = Head {
        seq: verified.events,
        hash: verified.head.clone(),
    };
    let commit = if fresh.is_empty() && exists {
        None
    } else {
        Some(Commit {
            record: StreamRecord {
                id: stream.to_string(),
                model: current.model,
                seq: verified.events,
                hash: verified.head,
                state: verified.marking,
                policy: None,
            },
            events: fresh.to_vec(),
        })
    };
    Ok(Decision {
        commit,
        answer: AppendOk {
            head: answer_head,
            stored: fresh.len() as u64,
            duplicates: duplicates as u64,
        },
        state,
    })
}

/// The message of the internal error [`plan_append`] returns when the keyed
/// state it was given is not at the stored head (another process appended).
pub const STALE_KEYED_STATE: &str = "the keyed state is not at the stored head";

#[cfg(test)]
mod tests {
    use super::*;
    use petrichain::chain::Event;
    use petrichain::formats::json::import_json;
    use petrichain::store::{block_on, Action, Ledger};

    const BANK: &str = include_str!("../../www/examples/bank.json");

    #[test]
    fn lost_race_answers_only_when_plan_append_would_answer_409() {
        block_on(async {
            let ledger = Ledger::memory();
            let id = ledger
                .put_model(&import_json(BANK).unwrap().0)
                .await
                .unwrap();
            ledger.create_stream("s", &id).await.unwrap();
            let open = |u: &str| Action::new("open").arg("user", u);
            let e1 = ledger.fire("s", &open("a"), 1).await.unwrap();
            let e2 = ledger.fire("s", &open("b"), 1).await.unwrap();
            let at = |seq: u64, hash: &str| StreamRecord {
                id: "s".into(),
                model: id.clone(),
                seq,
                hash: hash.into(),
                state: vec![0, 0],
                policy: None,
            };
            let req = |expected: Head, events: &[&Event]| AppendRequest {
                model: id.clone(),
                expected,
                events: events.iter().map(|e| (*e).clone()).collect(),
            };
            let h1 = Head {
                seq: 1,
                hash: e1.hash.clone(),
            };
            let on_e1 = at(1, &e1.hash);
            // Builds on the stored head: plan_append decides.
            assert_eq!(lost_race(&req(h1.clone(), &[&e2]), Some(&on_e1)), None);
            // The head is past the first event (a duplicate, perhaps).
            let on_e2 = at(2, &e2.hash);
            assert_eq!(lost_race(&req(h1.clone(), &[&e2]), Some(&on_e2)), None);
            assert_eq!(lost_race(&req(h1.clone(), &[&e1, &e2]), Some(&on_e1)), None);
            // Expects another head, or links to another event: 409 now.
            let zero = at(0, &Head::zero().hash);
            assert_eq!(
                lost_race(&req(h1.clone(), &[&e2]), Some(&zero)),
                Some(Head::zero())
            );
            assert_eq!(
                lost_race(&req(Head::zero(), &[&e2]), Some(&on_e1)),
                Some(h1.clone())
            );
            let other = "f".repeat(64);
            let forked = at(1, &other);
            let on_forked = Head {
                seq: 1,
                hash: other.clone(),
            };
            assert_eq!(
                lost_race(&req(on_forked.clone(), &[&e2]), Some(&forked)),
                Some(on_forked.clone())
            );
            // No stream, no events, another model: plan_append decides.
            assert_eq!(lost_race(&req(Head::zero(), &[&e2]), None), None);
            assert_eq!(lost_race(&req(Head::zero(), &[]), Some(&on_e1)), None);
            let mut wrong_model = req(Head::zero(), &[&e2]);
            wrong_model.model = "0".repeat(64);
            assert_eq!(lost_race(&wrong_model, Some(&on_e1)), None);
        });
    }
}
