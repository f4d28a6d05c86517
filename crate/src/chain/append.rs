//! The one append path: fire an action on a marking, then build, seal and
//! chain its event. The ledger's appends and the sync rebase both go through
//! a [`Chainer`], so an event is put together in exactly one place.

use super::hash::{next_seq, seal};
use super::{ChainError, Event, Head};
use crate::engine::{FireError, Marking};
use crate::model::Model;

/// What to append: every field of an event that the chainer does not set
/// (it sets stream, seq, model, prev, state and hash).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Draft<'a> {
    /// Transition id.
    pub action: &'a str,
    /// Fire this many times at once.
    pub multiple: u64,
    /// Who fires it.
    pub actor: &'a str,
    /// Roles the actor holds, as they are recorded.
    pub roles: &'a [String],
    /// Exact JSON text of the payload.
    pub payload: &'a str,
    /// Time to record.
    pub ts: u64,
}

impl<'a> Draft<'a> {
    /// The same action, actor, roles, payload and ts as `event`.
    pub fn of(event: &'a Event) -> Self {
        Draft {
            action: &event.action,
            multiple: event.multiple,
            actor: &event.actor,
            roles: &event.roles,
            payload: &event.payload,
            ts: event.ts,
        }
    }
}

/// The end of one stream's chain, moved forward one event at a time.
pub(crate) struct Chainer<'m> {
    model: &'m Model,
    stream: &'m str,
    marking: Marking,
    seq: u64,
    prev: String,
    buf: Vec<u8>,
}

impl<'m> Chainer<'m> {
    /// Starts after `head`, in `marking` (the marking reached at `head`).
    pub fn new(model: &'m Model, stream: &'m str, head: Head, marking: Marking) -> Self {
        Chainer {
            model,
            stream,
            marking,
            seq: head.seq,
            prev: head.hash,
            buf: Vec::with_capacity(512),
        }
    }

    /// Fires `draft` with the net and returns its event, chained after the
    /// previous one and sealed. A refusal (of the net, or a full stream)
    /// changes nothing; the net's refusal is [`ChainError::Fire`].
    pub fn append(&mut self, draft: Draft<'_>) -> Result<Event, ChainError> {
        let model = self.model;
        let t =
            model
                .transition_index(draft.action)
                .ok_or_else(|| FireError::UnknownTransition {
                    transition: draft.action.to_string(),
                })?;
        let names: Vec<&str> = draft.roles.iter().map(String::as_str).collect();
        let roles = model.roles(&names);
        let seq = match next_seq(self.seq) {
            Ok(seq) => seq,
            Err(full) => {
                // The net's refusal comes first, as it always has.
                model.check(&self.marking, t, draft.multiple, &roles)?;
                return Err(full);
            }
        };
        model.fire_in_place(&mut self.marking, t, draft.multiple, &roles)?;
        self.seq = seq;
        let mut e = Event {
            stream: self.stream.to_string(),
            seq,
            model: model.id().to_string(),
            action: draft.action.to_string(),
            multiple: draft.multiple,
            actor: draft.actor.to_string(),
            roles: draft.roles.to_vec(),
            payload: draft.payload.to_string(),
            ts: draft.ts,
            prev: std::mem::take(&mut self.prev),
            state: self.marking.0.clone(),
            hash: String::new(),
        };
        seal(&mut e, &mut self.buf);
        self.prev.clone_from(&e.hash);
        Ok(e)
    }

    /// Where the chain ends now and the marking there.
    pub fn finish(self) -> (Head, Marking) {
        (
            Head {
                seq: self.seq,
                hash: self.prev,
            },
            self.marking,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::{hash, verify_events, GENESIS_PREV};
    use crate::formats::json::import_json;

    fn coin() -> Model {
        import_json(
            r#"{"places":[{"id":"coin","initial":1},{"id":"spent"}],
                "transitions":[{"id":"spend"}],
                "arcs":[{"source":"coin","target":"spend"},{"source":"spend","target":"spent"}]}"#,
        )
        .unwrap()
        .0
    }

    fn draft(action: &str) -> Draft<'_> {
        Draft {
            action,
            multiple: 1,
            actor: "a",
            roles: &[],
            payload: "null",
            ts: 7,
        }
    }

    #[test]
    fn appends_a_sealed_chained_event_and_refuses_without_change() {
        let model = coin();
        let mut c = Chainer::new(&model, "s", Head::zero(), model.initial_marking());
        let e = c.append(draft("spend")).unwrap();
        assert_eq!((e.seq, e.prev.as_str()), (1, GENESIS_PREV));
        assert_eq!(e.state, vec![0, 1]);
        assert_eq!(e.hash, hash::event_hash(&e));
        let err = c.append(draft("spend")).unwrap_err();
        assert_eq!(err.code(), "NOT_ENABLED");
        let err = c.append(draft("mint")).unwrap_err();
        assert_eq!(err.code(), "UNKNOWN_TRANSITION");
        let (head, marking) = c.finish();
        assert_eq!(
            head,
            Head {
                seq: 1,
                hash: e.hash.clone()
            }
        );
        assert_eq!(marking.0, vec![0, 1]);
        assert_eq!(verify_events(&model, "s", &[e]).unwrap().events, 1);
    }

    #[test]
    fn a_full_stream_reports_the_net_first_and_changes_nothing() {
        let model = coin();
        let full = Head {
            seq: crate::model::MAX_TOKENS,
            hash: GENESIS_PREV.into(),
        };
        let mut c = Chainer::new(&model, "s", full.clone(), model.initial_marking());
        assert_eq!(
            c.append(draft("spend")).unwrap_err().code(),
            "INVALID_INPUT"
        );
        let mut empty = Chainer::new(&model, "s", full.clone(), Marking(vec![0, 1]));
        assert_eq!(
            empty.append(draft("spend")).unwrap_err().code(),
            "NOT_ENABLED"
        );
        assert_eq!(c.finish(), (full, model.initial_marking()));
    }
}
