//! Replay verification: walk a stream from the model's initial marking,
//! recompute every hash, re-fire every action and compare every state.

use super::event::GENESIS_PREV;
use super::{hash, ChainError, Event};
use crate::engine::{Marking, RoleSet};
use crate::model::Model;

/// Checks events one at a time, in order, against a model.
///
/// For each event, in this order: it names the right stream and model; its
/// fields are well formed; `seq` is the next one; `prev` is the hash of the
/// event before; `hash` is the hash of its fields; the net allows the action
/// (for the recorded roles and multiple) in the replayed marking; `state` is
/// the marking that firing reaches. The first failure is returned, naming the
/// seq; the verifier must then be dropped.
///
/// Allocation-free per event in the common case (one scratch buffer, the
/// role set reused while consecutive events claim the same roles).
pub struct Verifier<'m> {
    model: &'m Model,
    stream: String,
    marking: Marking,
    seq: u64,
    prev: [u8; 32],
    buf: Vec<u8>,
    roles: Vec<String>,
    role_set: RoleSet,
}

/// What a successful verification saw.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Verified {
    /// The stream.
    pub stream: String,
    /// Events checked (= the head seq).
    pub events: u64,
    /// Hash of the last event (64 zeros if none).
    pub head: String,
    /// Marking reached.
    pub marking: Vec<u64>,
}

impl<'m> Verifier<'m> {
    /// Starts at the beginning of a stream: seq 0, the initial marking.
    pub fn new(model: &'m Model, stream: &str) -> Self {
        Verifier {
            model,
            stream: stream.to_string(),
            marking: model.initial_marking(),
            seq: 0,
            prev: [0; 32],
            buf: Vec::with_capacity(512),
            roles: Vec::new(),
            role_set: RoleSet::none(),
        }
    }

    /// Seq of the last event accepted (0 before any).
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// Hash of the last event accepted (64 zeros before any).
    pub fn head(&self) -> String {
        hex::encode(self.prev)
    }

    /// The marking replay has reached.
    pub fn marking(&self) -> &Marking {
        &self.marking
    }

    /// Checks the next event.
    pub fn push(&mut self, e: &Event) -> Result<(), ChainError> {
        let stream = &self.stream;
        if e.stream != *stream {
            return Err(ChainError::WrongStream {
                seq: e.seq,
                expected: stream.clone(),
                found: e.stream.clone(),
            });
        }
        if e.model != self.model.id() {
            return Err(ChainError::WrongModel {
                stream: stream.clone(),
                seq: e.seq,
                expected: self.model.id().to_string(),
                found: e.model.clone(),
            });
        }
        let expected_seq = self.seq.checked_add(1).unwrap_or(u64::MAX);
        if e.seq != expected_seq {
            return Err(ChainError::SeqGap {
                stream: stream.clone(),
                expected: expected_seq,
                found: e.seq,
            });
        }
        e.check_fields()?;
        let mut prev = [0u8; 32];
        if hex::decode_to_slice(&e.prev, &mut prev).is_err() || prev != self.prev {
            return Err(ChainError::BrokenLink {
                stream: stream.clone(),
                seq: e.seq,
                prev: e.prev.clone(),
                expected: if self.seq == 0 {
                    GENESIS_PREV.to_string()
                } else {
                    hex::encode(self.prev)
                },
            });
        }
        let computed = hash::digest_with(e, &mut self.buf);
        let mut stored = [0u8; 32];
        if hex::decode_to_slice(&e.hash, &mut stored).is_err() || stored != computed {
            return Err(ChainError::HashMismatch {
                stream: stream.clone(),
                seq: e.seq,
                stored: e.hash.clone(),
                computed: hex::encode(computed),
            });
        }
        if e.roles != self.roles {
            let names: Vec<&str> = e.roles.iter().map(String::as_str).collect();
            self.role_set = self.model.roles(&names);
            self.roles.clone_from(&e.roles);
        }
        let fired = match self.model.transition_index(&e.action) {
            Some(t) => self
                .model
                .fire_in_place(&mut self.marking, t, e.multiple, &self.role_set),
            None => Err(crate::FireError::UnknownTransition {
                transition: e.action.clone(),
            }),
        };
        if let Err(reason) = fired {
            return Err(ChainError::ActionRejected {
                stream: stream.clone(),
                seq: e.seq,
                reason,
            });
        }
        if e.state != self.marking.0 {
            let place = self
                .model
                .places()
                .iter()
                .zip(e.state.iter().zip(&self.marking.0))
                .find(|(_, (a, b))| a != b)
                .map(|(p, _)| p.id.clone())
                .unwrap_or_default();
            return Err(ChainError::StateMismatch {
                stream: stream.clone(),
                seq: e.seq,
                place,
                stored: e.state.clone(),
                computed: self.marking.0.clone(),
            });
        }
        self.seq = e.seq;
        self.prev = stored;
        Ok(())
    }

    /// What has been verified so far.
    pub fn finish(self) -> Verified {
        Verified {
            head: self.head(),
            stream: self.stream,
            events: self.seq,
            marking: self.marking.0,
        }
    }
}

/// Verifies a whole stream from seq 1.
///
/// ```
/// # use petrichain::chain::{verify_events, ChainError};
/// # let (model, _) = petrichain::formats::json::import_json(r#"{"places":[{"id":"p","initial":1}],"transitions":[{"id":"t"}],"arcs":[{"source":"p","target":"t"}]}"#).unwrap();
/// let verified = verify_events(&model, "s", &[]).unwrap();
/// assert_eq!(verified.events, 0);
/// ```
pub fn verify_events<'a>(
    model: &Model,
    stream: &str,
    events: impl IntoIterator<Item = &'a Event>,
) -> Result<Verified, ChainError> {
    let mut v = Verifier::new(model, stream);
    for e in events {
        v.push(e)?;
    }
    Ok(v.finish())
}
