//! The one append path: fire an action on a marking, then build, seal and
//! chain its event. The ledger's appends and the sync rebase both go through
//! a [`Chainer`], so an event is put together in exactly one place. Events
//! come out sealed (hashed) but not signed: signing may wait on the
//! platform (WebCrypto), so [`sign_runs`] runs after, outside any storage
//! transaction. A batch is signed as signature runs: its last event and
//! every [`MAX_RUN`]-th carry `sig`, the others are covered by the next
//! signature through `prev` (docs/chain-format.md, "Signature runs").

use super::hash::{self, next_seq, seal};
use super::sign::{signed_message, Device, SignatureBatch, MAX_RUN};
use super::state::TipState;
use super::{ChainError, Event, Head, FORMAT_VERSION};
use crate::engine::{FireError, KeyChange};
use crate::model::Model;

/// What to append: every field of an event that the chainer does not set
/// (it sets v, stream, seq, model, prev, delta, root, signer and hash).
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
    /// Arguments for the transition's parameters, `(param, key)` sorted by
    /// param (empty for a transition without parameters).
    pub args: &'a [(String, String)],
    /// Time to record.
    pub ts: u64,
    /// The nonce to keep (a rebased event keeps its own); `None` draws a
    /// new one from the device.
    pub nonce: Option<&'a str>,
}

impl<'a> Draft<'a> {
    /// The same action, actor, roles, payload, ts and nonce as `event`.
    pub fn of(event: &'a Event) -> Self {
        Draft {
            action: &event.action,
            multiple: event.multiple,
            actor: &event.actor,
            roles: &event.roles,
            payload: &event.payload,
            args: &event.args,
            ts: event.ts,
            nonce: Some(&event.nonce),
        }
    }
}

/// The end of one stream's chain, moved forward one event at a time.
pub(crate) struct Chainer<'m> {
    model: &'m Model,
    stream: &'m str,
    device: &'m dyn Device,
    signer: String,
    state: TipState,
    seq: u64,
    prev: String,
    buf: Vec<u8>,
    delta: Vec<(usize, u64)>,
    keys: Vec<KeyChange>,
}

impl<'m> Chainer<'m> {
    /// Starts after `head`, in `state` (the marking reached at `head`), for
    /// events signed by `device`.
    pub fn new(
        model: &'m Model,
        stream: &'m str,
        device: &'m dyn Device,
        head: Head,
        state: TipState,
    ) -> Self {
        Chainer {
            model,
            stream,
            device,
            signer: hex::encode(device.public_key()),
            state,
            seq: head.seq,
            prev: head.hash,
            buf: Vec::with_capacity(512),
            delta: Vec::new(),
            keys: Vec::new(),
        }
    }

    /// Fires `draft` with the net (or, for a policy entry, applies it) and
    /// returns its event, chained after the previous one and sealed (its
    /// `sig` empty until [`sign_events`]). A refusal (of the stream's
    /// policy, of the net, or a full stream) changes nothing; the policy's
    /// is [`ChainError::RoleNotGranted`] / [`ChainError::RoleRevoked`] (or
    /// `InvalidEvent` for a malformed entry), the net's [`ChainError::Fire`].
    pub fn append(&mut self, draft: Draft<'_>) -> Result<Event, ChainError> {
        let model = self.model;
        // Who may: the same admission as the verifier's, on the same policy.
        let entry = self.state.policy().admit(
            model,
            self.stream,
            self.seq.saturating_add(1),
            &self.signer,
            draft.action,
            draft.roles,
            draft.multiple,
            draft.args,
            draft.payload,
        )?;
        if entry.is_some() {
            // A policy entry changes no count.
            self.delta.clear();
            self.keys.clear();
        }
        let t = if entry.is_some() {
            None
        } else {
            Some(model.transition_index(draft.action).ok_or_else(|| {
                FireError::UnknownTransition {
                    transition: draft.action.to_string(),
                }
            })?)
        };
        let args = match t {
            Some(t) => with_signer_args(model, t, draft.args, &self.signer),
            None => std::borrow::Cow::Borrowed(draft.args),
        };
        let seq = match (next_seq(self.seq), t) {
            (Ok(seq), _) => seq,
            (Err(full), None) => return Err(full),
            (Err(full), Some(t)) => {
                // The net's refusal comes first, as it always has.
                let names: Vec<&str> = draft.roles.iter().map(String::as_str).collect();
                model.check_keyed(
                    self.state.marking(),
                    self.state.keyed(),
                    t,
                    draft.multiple,
                    &model.roles(&names),
                    &args,
                    Some(&self.signer),
                )?;
                return Err(full);
            }
        };
        let nonce = match draft.nonce {
            Some(n) => n.to_string(),
            None => {
                let mut bytes = [0u8; 16];
                self.device.random(&mut bytes)?;
                hex::encode(bytes)
            }
        };
        match t {
            Some(t) => self.fire(t, draft, &args, seq)?,
            None => self.state.policy_mut().apply(seq, &self.signer, entry),
        }
        Ok(self.seal(draft, args.into_owned(), seq, nonce))
    }

    /// Fires `t` for `draft` as event `seq` (a refusal changes nothing).
    fn fire(
        &mut self,
        t: usize,
        draft: Draft<'_>,
        args: &[(String, String)],
        seq: u64,
    ) -> Result<(), ChainError> {
        let model = self.model;
        let names: Vec<&str> = draft.roles.iter().map(String::as_str).collect();
        let roles = model.roles(&names);
        self.state.fire(
            model,
            t,
            draft.multiple,
            &roles,
            args,
            &self.signer,
            &mut self.delta,
            &mut self.keys,
        )?;
        self.state.policy_mut().apply(seq, &self.signer, None);
        Ok(())
    }

    /// The event of `draft` as `seq`, chained after the previous one and
    /// sealed, with the counts the firing changed.
    fn seal(
        &mut self,
        draft: Draft<'_>,
        args: Vec<(String, String)>,
        seq: u64,
        nonce: String,
    ) -> Event {
        let model = self.model;
        self.seq = seq;
        let places = model.places();
        let mut e = Event {
            v: FORMAT_VERSION,
            stream: self.stream.to_string(),
            seq,
            model: model.id().to_string(),
            action: draft.action.to_string(),
            multiple: draft.multiple,
            actor: draft.actor.to_string(),
            args,
            roles: draft.roles.to_vec(),
            payload: draft.payload.to_string(),
            ts: draft.ts,
            nonce,
            prev: std::mem::take(&mut self.prev),
            delta: self
                .delta
                .iter()
                .map(|&(p, n)| (places[p].id.clone(), n))
                .collect(),
            keys: self
                .keys
                .iter()
                .map(|(p, k, n)| (places[*p].id.clone(), k.clone(), *n))
                .collect(),
            root: self.state.root_hex(),
            signer: self.signer.clone(),
            hash: String::new(),
            sig: String::new(),
        };
        seal(&mut e, &mut self.buf);
        self.prev.clone_from(&e.hash);
        e
    }

    /// Where the chain ends now and the state there.
    pub fn finish(self) -> (Head, TipState) {
        (
            Head {
                seq: self.seq,
                hash: self.prev,
            },
            self.state,
        )
    }
}

/// `args` with the signer's key for each signer-bound parameter of `t`
/// the caller left out (`args` sorted by param, and so is the result):
/// an append binds them, the event records them, the verifier checks them.
fn with_signer_args<'a>(
    model: &Model,
    t: usize,
    args: &'a [(String, String)],
    signer: &str,
) -> std::borrow::Cow<'a, [(String, String)]> {
    let bound = &model.transitions()[t].signer;
    if bound.iter().all(|p| args.iter().any(|(a, _)| a == p)) {
        return std::borrow::Cow::Borrowed(args);
    }
    let mut all = args.to_vec();
    for p in bound {
        if !args.iter().any(|(a, _)| a == p) {
            all.push((p.clone(), signer.to_string()));
        }
    }
    all.sort_by(|a, b| a.0.cmp(&b.0));
    std::borrow::Cow::Owned(all)
}

/// Signs, in one request to `device`, the events of a batch chained after
/// a signed head that close its signature runs: the last one and every
/// [`MAX_RUN`]-th. The others are left without `sig`.
pub(crate) async fn sign_runs(device: &dyn Device, events: &mut [Event]) -> Result<(), ChainError> {
    let last = events.len().saturating_sub(1);
    let ends = (0..events.len()).filter(|&i| i == last || (i as u64 + 1) % MAX_RUN == 0);
    sign_at(device, events, ends.collect()).await
}

/// Signs freshly sealed events, every one, in one request to `device`.
pub(crate) async fn sign_events(
    device: &dyn Device,
    events: &mut [Event],
) -> Result<(), ChainError> {
    sign_at(device, events, (0..events.len()).collect()).await
}

/// Signs, in one request to `device`, every stored event without `sig`
/// (the hash does not change: each stays the same event). What leaves the
/// device (a sync push) goes fully signed.
///
/// Only what this device has already signed through a run: each unsigned
/// event must be `device`'s, hash to its `hash`, and be linked by `prev`
/// to the next one, up to an event of the run whose signature (checked
/// here) is `device`'s. Anything else, such as unsigned events written
/// into the local store by someone else, is `CORRUPT_RECORD` (another
/// device's run: `BAD_SIGNATURE`, reason `"not-this-device"`) and nothing
/// is signed: the device never lends its key to events it did not sign.
pub(crate) async fn sign_unsigned(
    device: &dyn Device,
    events: &mut [Event],
) -> Result<(), ChainError> {
    let unsigned: Vec<usize> = (0..events.len())
        .filter(|&i| events[i].sig.is_empty())
        .collect();
    if !unsigned.is_empty() {
        check_covered(device, events)?;
    }
    sign_at(device, events, unsigned).await
}

/// Checks that every event without `sig` in `events` is covered by a later
/// valid signature of `device` (see [`sign_unsigned`]).
fn check_covered(device: &dyn Device, events: &[Event]) -> Result<(), ChainError> {
    let me = hex::encode(device.public_key());
    let stream = events.first().map_or("", |e| e.stream.as_str());
    let corrupt = |e: &Event, message: String| ChainError::CorruptRecord {
        store: "events".into(),
        key: format!("{}/{}", e.stream, e.seq),
        message,
    };
    let mut batch = SignatureBatch::new(stream);
    let mut buf = Vec::new();
    let mut open = false;
    for (i, e) in events.iter().enumerate() {
        if !e.sig.is_empty() && !open {
            continue;
        }
        if e.signer != me {
            // Someone else's run (an import of a file that kept one): only
            // its signer can sign its events one by one.
            return Err(ChainError::BadSignature {
                stream: e.stream.clone(),
                seq: e.seq,
                signer: e.signer.clone(),
                message: "the event carries no signature of its own and is another device's: it cannot go out signed".into(),
                unsigned_from: Some(e.seq),
                reason: Some("not-this-device"),
            });
        }
        if hex::encode(hash::digest_with(e, &mut buf)) != e.hash {
            return Err(corrupt(e, "the event does not hash to its hash".into()));
        }
        if !e.sig.is_empty() {
            batch.push(e).map_err(|err| corrupt(e, err.to_string()))?;
            open = false;
            continue;
        }
        match events.get(i + 1) {
            Some(next) if next.prev == e.hash => open = true,
            _ => {
                return Err(corrupt(
                    e,
                    "no signature of this device covers the event (its run is not closed)".into(),
                ))
            }
        }
    }
    batch.check().map_err(|err| ChainError::CorruptRecord {
        store: "events".into(),
        key: stream.to_string(),
        message: err.to_string(),
    })
}

/// Signs `events[i]` for each `i` of `at`, in one request to `device`.
async fn sign_at(
    device: &dyn Device,
    events: &mut [Event],
    at: Vec<usize>,
) -> Result<(), ChainError> {
    if at.is_empty() {
        return Ok(());
    }
    let messages: Vec<Vec<u8>> = at
        .iter()
        .map(|&i| signed_message(&events[i].hash))
        .collect();
    let sigs = device.sign(&messages).await?;
    if sigs.len() != at.len() {
        return Err(ChainError::Device {
            message: format!(
                "the device returned {} signatures for {} events",
                sigs.len(),
                at.len()
            ),
        });
    }
    for (i, sig) in at.into_iter().zip(sigs) {
        events[i].sig = hex::encode(sig);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::{hash, verify_events, SoftwareKey, GENESIS_PREV};
    use crate::formats::json::import_json;
    use crate::store::block_on;

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
            args: &[],
            ts: 7,
            nonce: None,
        }
    }

    fn start(model: &Model) -> TipState {
        TipState::new(model, model.initial_marking())
    }

    #[test]
    fn appends_a_sealed_chained_event_and_refuses_without_change() {
        let model = coin();
        let key = SoftwareKey::from_seed(&[1; 32]);
        let mut c = Chainer::new(&model, "s", &key, Head::zero(), start(&model));
        let mut e = c.append(draft("spend")).unwrap();
        assert_eq!((e.seq, e.prev.as_str()), (1, GENESIS_PREV));
        assert_eq!(e.delta, vec![("coin".into(), 0), ("spent".into(), 1)]);
        assert_eq!(e.hash, hash::event_hash(&e));
        assert_eq!(e.signer, hex::encode(key.public_key()));
        assert_eq!(e.nonce.len(), 32);
        let err = c.append(draft("spend")).unwrap_err();
        assert_eq!(err.code(), "NOT_ENABLED");
        let err = c.append(draft("mint")).unwrap_err();
        assert_eq!(err.code(), "UNKNOWN_TRANSITION");
        let (head, state) = c.finish();
        assert_eq!(
            head,
            Head {
                seq: 1,
                hash: e.hash.clone()
            }
        );
        assert_eq!(state.marking().0, vec![0, 1]);
        assert_eq!(e.root, state.root_hex());
        // Unsigned, it does not verify; signed, it does.
        assert_eq!(
            verify_events(&model, "s", std::slice::from_ref(&e))
                .unwrap_err()
                .code(),
            "BAD_SIGNATURE"
        );
        block_on(sign_events(&key, std::slice::from_mut(&mut e))).unwrap();
        assert_eq!(verify_events(&model, "s", &[e]).unwrap().events, 1);
    }

    #[test]
    fn the_same_firing_twice_makes_two_events() {
        let model = coin();
        let key = SoftwareKey::from_seed(&[1; 32]);
        let a = Chainer::new(&model, "s", &key, Head::zero(), start(&model))
            .append(draft("spend"))
            .unwrap();
        let b = Chainer::new(&model, "s", &key, Head::zero(), start(&model))
            .append(draft("spend"))
            .unwrap();
        assert_ne!(a.nonce, b.nonce);
        assert_ne!(a.hash, b.hash);
    }

    #[test]
    fn a_full_stream_reports_the_net_first_and_changes_nothing() {
        let model = coin();
        let key = SoftwareKey::from_seed(&[1; 32]);
        let full = Head {
            seq: crate::model::MAX_TOKENS,
            hash: GENESIS_PREV.into(),
        };
        let mut c = Chainer::new(&model, "s", &key, full.clone(), start(&model));
        assert_eq!(
            c.append(draft("spend")).unwrap_err().code(),
            "INVALID_INPUT"
        );
        let spent = TipState::new(&model, crate::engine::Marking(vec![0, 1]));
        let mut empty = Chainer::new(&model, "s", &key, full.clone(), spent);
        assert_eq!(
            empty.append(draft("spend")).unwrap_err().code(),
            "NOT_ENABLED"
        );
        let (head, state) = c.finish();
        assert_eq!((head, state), (full, start(&model)));
    }
}
