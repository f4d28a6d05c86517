//! Semantic rebase: re-fire local pending actions on top of a remote head.
//!
//! Pure (no I/O): given the model, the remote head with its marking, and the
//! local events recorded since the last common event, it returns the events
//! to keep (re-chained: new seq, prev, delta, root and hash, signed again by
//! this device as signature runs; same action, multiple, actor, roles, payload, ts and nonce)
//! and the actions now refused, each with the reason: the net's
//! ([`ChainError::Fire`]) or the stream's policy (`ROLE_NOT_GRANTED`,
//! `ROLE_REVOKED`: a role revoked upstream meanwhile).

use crate::chain::{sign_runs, ChainError, Chainer, Device, Draft, Event, Head, Policy, TipState};
use crate::engine::Marking;
use crate::model::Model;

/// What [`rebase`] produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rebased {
    /// Events kept, chained after the base head.
    pub kept: Vec<Event>,
    /// Local events refused on the new base, with why: the net's refusal
    /// ([`ChainError::Fire`]), [`ChainError::RoleNotGranted`] or
    /// [`ChainError::RoleRevoked`].
    pub refused: Vec<(Event, ChainError)>,
    /// Head after the kept events.
    pub head: Head,
    /// Marking after the kept events.
    pub marking: Marking,
    /// Policy after the kept events.
    pub policy: Policy,
    /// The whole state after the kept events (marking, keys, tree, policy):
    /// the new local tip, so the next firing need not rebuild it.
    pub state: TipState,
}

/// Re-fires `pending` (in order, with their recorded arguments) on
/// `base` / `state` and signs the kept
/// events with `device`.
pub async fn rebase(
    model: &Model,
    stream: &str,
    device: &dyn Device,
    base: &Head,
    state: &TipState,
    pending: &[Event],
) -> Result<Rebased, ChainError> {
    let state = state.clone();
    let mut chainer = Chainer::new(model, stream, device, base.clone(), state);
    let mut kept = Vec::new();
    let mut refused = Vec::new();
    for old in pending {
        match chainer.append(Draft::of(old)) {
            Ok(e) => kept.push(e),
            // A refusal leaves the chainer (its marking, its policy) unchanged.
            Err(
                reason @ (ChainError::Fire(_)
                | ChainError::RoleNotGranted { .. }
                | ChainError::RoleRevoked { .. }),
            ) => refused.push((old.clone(), reason)),
            Err(e) => return Err(e),
        }
    }
    // A new batch on the remote's (signed) head: signature runs.
    sign_runs(device, &mut kept).await?;
    let (head, state) = chainer.finish();
    let policy = state.policy().clone();
    let marking = state.marking().clone();
    Ok(Rebased {
        kept,
        refused,
        head,
        marking,
        policy,
        state,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::verify_events;
    use crate::formats::json::import_json;
    use crate::store::{block_on, Action, Ledger};

    #[test]
    fn keeps_what_the_net_allows_and_explains_the_rest() {
        let (model, _) = import_json(
            r#"{"places":[{"id":"coin","initial":2},{"id":"spent"}],
                "transitions":[{"id":"spend"},{"id":"mint","roles":["bank"]}],
                "arcs":[{"source":"coin","target":"spend"},{"source":"spend","target":"spent"},
                        {"source":"mint","target":"coin"}]}"#,
        )
        .unwrap();
        block_on(async {
            // Remote: spent one coin. Local (from the same start): spend, spend, mint-as-nobody.
            let remote = Ledger::memory();
            let id = remote.put_model(&model).await.unwrap();
            remote.create_stream("s", &id).await.unwrap();
            let r = remote.fire("s", &Action::new("spend"), 1).await.unwrap();
            let local = Ledger::memory();
            local.put_model(&model).await.unwrap();
            local.create_stream("s", &id).await.unwrap();
            let mut pending = local
                .fire_batch("s", &[Action::new("spend"), Action::new("spend")], 2)
                .await
                .unwrap();
            pending.push(Event {
                action: "mint".into(),
                ..pending[1].clone()
            });
            let base = Head {
                seq: r.seq,
                hash: r.hash.clone(),
            };
            let out = rebase(
                &model,
                "s",
                &**local.device(),
                &base,
                &TipState::new(&model, Marking(vec![1, 1])),
                &pending,
            )
            .await
            .unwrap();
            assert_eq!(out.kept.len(), 1);
            assert_eq!(out.kept[0].seq, 2);
            assert_eq!(out.kept[0].prev, r.hash);
            assert_eq!(out.kept[0].ts, 2);
            assert_eq!(out.refused.len(), 2);
            assert_eq!(out.refused[0].1.code(), "NOT_ENABLED");
            assert_eq!(out.refused[1].1.code(), "ROLE_DENIED");
            assert_eq!(out.head.hash, out.kept[0].hash);
            // The result is a valid chain after the remote's event.
            let all: Vec<Event> = std::iter::once(r).chain(out.kept).collect();
            assert_eq!(verify_events(&model, "s", &all).unwrap().events, 2);
        });
    }
}
