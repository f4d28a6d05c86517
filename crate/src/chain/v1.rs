//! Reading chains of format version 1, so that data written before version
//! 2 is not stranded.
//!
//! A version 1 event carried the whole marking (`state`) instead of a
//! commitment, had no nonce and no signature. Such a chain is verified here
//! under its own rules (hash chain, replay, every `state`), then
//! **upgraded**: each event is fired again, in order, into a version 2 chain
//! signed by the upgrading device, keeping action, multiple, actor, roles,
//! payload and ts. Its nonce is taken from the version 1 hash
//! ([`upgrade_nonce`]), so upgrading the same chain twice on one device
//! gives the same events, and anyone holding the version 1 file can tie each
//! upgraded event to the event it came from.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::hash::{number, numbers, string, strings};
use super::{ChainError, GENESIS_PREV};
use crate::engine::Marking;
use crate::model::Model;

/// An event of format version 1 (docs/chain-format.md, "Version 1").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventV1 {
    /// Stream id.
    pub stream: String,
    /// Position, from 1.
    pub seq: u64,
    /// Model id.
    pub model: String,
    /// Transition fired.
    pub action: String,
    /// Times fired at once.
    pub multiple: u64,
    /// Free-text actor.
    pub actor: String,
    /// Claimed roles.
    pub roles: Vec<String>,
    /// Exact JSON text.
    pub payload: String,
    /// Milliseconds since the epoch.
    pub ts: u64,
    /// Hash of the event before.
    pub prev: String,
    /// The whole marking after the event.
    pub state: Vec<u64>,
    /// SHA-256 of the version 1 encoding.
    pub hash: String,
}

/// The version 1 canonical encoding (every field but `hash`, keys sorted).
pub fn encode(e: &EventV1, out: &mut Vec<u8>) {
    out.extend_from_slice(b"{\"action\":");
    string(&e.action, out);
    out.extend_from_slice(b",\"actor\":");
    string(&e.actor, out);
    out.extend_from_slice(b",\"model\":");
    string(&e.model, out);
    out.extend_from_slice(b",\"multiple\":");
    number(e.multiple, out);
    out.extend_from_slice(b",\"payload\":");
    string(&e.payload, out);
    out.extend_from_slice(b",\"prev\":");
    string(&e.prev, out);
    out.extend_from_slice(b",\"roles\":");
    strings(&e.roles, out);
    out.extend_from_slice(b",\"seq\":");
    number(e.seq, out);
    out.extend_from_slice(b",\"state\":");
    numbers(&e.state, out);
    out.extend_from_slice(b",\"stream\":");
    string(&e.stream, out);
    out.extend_from_slice(b",\"ts\":");
    number(e.ts, out);
    out.push(b'}');
}

/// The version 1 hash of `e` (lowercase hex).
pub fn event_hash(e: &EventV1) -> String {
    let mut buf = Vec::with_capacity(256);
    encode(e, &mut buf);
    hex::encode(Sha256::digest(&buf))
}

/// The nonce an upgraded event gets: the first 16 bytes of
/// SHA-256(`"petrichain:v1-upgrade:"` + version 1 hash), in hex.
pub fn upgrade_nonce(v1_hash: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"petrichain:v1-upgrade:");
    h.update(v1_hash.as_bytes());
    hex::encode(&h.finalize()[..16])
}

/// Verifies a version 1 chain of `stream` from seq 1 under the version 1
/// rules; returns the marking reached. The first problem names its seq.
pub fn verify(model: &Model, stream: &str, events: &[EventV1]) -> Result<Marking, ChainError> {
    let mut marking = model.initial_marking();
    let mut prev = GENESIS_PREV.to_string();
    for (i, e) in events.iter().enumerate() {
        let seq = i as u64 + 1;
        if e.stream != stream {
            return Err(ChainError::WrongStream {
                seq,
                expected: stream.into(),
                found: e.stream.clone(),
            });
        }
        if e.model != model.id() {
            return Err(ChainError::WrongModel {
                stream: stream.into(),
                seq,
                expected: model.id().into(),
                found: e.model.clone(),
            });
        }
        if e.seq != seq {
            return Err(ChainError::SeqGap {
                stream: stream.into(),
                expected: seq,
                found: e.seq,
            });
        }
        super::check_payload(&e.payload).map_err(|message| ChainError::InvalidEvent {
            stream: stream.into(),
            seq,
            field: "payload".into(),
            message,
        })?;
        if e.prev != prev {
            return Err(ChainError::BrokenLink {
                stream: stream.into(),
                seq,
                prev: e.prev.clone(),
                expected: prev,
            });
        }
        let computed = event_hash(e);
        if computed != e.hash {
            return Err(ChainError::HashMismatch {
                stream: stream.into(),
                seq,
                stored: e.hash.clone(),
                computed,
            });
        }
        let names: Vec<&str> = e.roles.iter().map(String::as_str).collect();
        let fired = match model.transition_index(&e.action) {
            Some(t) => model.fire_in_place(&mut marking, t, e.multiple, &model.roles(&names)),
            None => Err(crate::FireError::UnknownTransition {
                transition: e.action.clone(),
            }),
        };
        fired.map_err(|reason| ChainError::ActionRejected {
            stream: stream.into(),
            seq,
            reason,
        })?;
        if e.state != marking.0 {
            return Err(ChainError::StateMismatch {
                stream: stream.into(),
                seq,
                place: String::new(),
                stored: e.state.clone(),
                computed: marking.0.clone(),
            });
        }
        prev.clone_from(&e.hash);
    }
    Ok(marking)
}

/// Re-chains a verified version 1 chain as version 2 events signed by
/// `device` (see the module): same actions in the same order, nonces from
/// [`upgrade_nonce`]. Returns the events and what verifying them gives.
pub async fn upgrade(
    model: &Model,
    stream: &str,
    device: &dyn super::Device,
    events: &[EventV1],
) -> Result<(Vec<super::Event>, super::Verified), ChainError> {
    use super::{Chainer, Draft, Head, TipState};
    let nonces: Vec<String> = events.iter().map(|e| upgrade_nonce(&e.hash)).collect();
    let state = TipState::new(model, model.initial_marking());
    let mut chainer = Chainer::new(model, stream, device, Head::zero(), state);
    let mut out = Vec::with_capacity(events.len());
    for (e, nonce) in events.iter().zip(&nonces) {
        let appended = chainer.append(Draft {
            action: &e.action,
            multiple: e.multiple,
            actor: &e.actor,
            roles: &e.roles,
            payload: &e.payload,
            args: &[],
            ts: e.ts,
            nonce: Some(nonce),
        });
        // The version 1 replay accepted every event, so this cannot refuse;
        // if it did, the error names the seq.
        out.push(appended.map_err(|reason| match reason {
            ChainError::Fire(reason) => ChainError::ActionRejected {
                stream: stream.into(),
                seq: e.seq,
                reason,
            },
            other => other,
        })?);
    }
    super::sign_events(device, &mut out).await?;
    let (head, state) = chainer.finish();
    let verified = super::Verified {
        stream: stream.to_string(),
        events: head.seq,
        head: head.hash,
        root: state.root_hex(),
        marking: state.into_marking().0,
    };
    Ok((out, verified))
}
