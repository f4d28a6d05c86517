//! Replay verification: walk a stream from the model's initial marking,
//! recompute every hash, re-fire every action, compare every changed count
//! and marking root, and check every signature.

use super::event::GENESIS_PREV;
use super::policy::Entry;
use super::sign::{SignatureBatch, BATCH, MAX_RUN};
use super::state::TipState;
use super::{hash, ChainError, Event};
use crate::engine::{KeyChange, Marking, RoleSet};
use crate::model::Model;

/// Checks events one at a time, in order, against a model.
///
/// For each event, in this order: it names the right stream and model; its
/// fields are well formed; `seq` is the next one; `prev` is the hash of the
/// event before; `hash` is the hash of its fields; the signer holds every
/// role it claims (and may make its policy entry: [`super::policy`]); the
/// net allows the action (for the recorded roles and multiple) in the
/// replayed marking; `delta` is
/// exactly the counts that firing changed and `root` the commitment of the
/// marking reached; `sig` is `signer`'s signature of the hash.
///
/// By default every event must carry its own `sig` (strict: what a server
/// or a pull requires of remote input). [`accept_runs`](Verifier::accept_runs)
/// also accepts signature runs (docs/chain-format.md, "Signature runs"): an
/// event without `sig` whose next event has the same signer, up to the
/// first of them that is signed, at most [`MAX_RUN`](super::MAX_RUN)
/// events in all. Every hash covers `prev`, so the run's last signature
/// authenticates all of it; a run that another signer's event breaks, that
/// is too long, or that the events end in, is `BAD_SIGNATURE` at its first
/// seq (with `unsignedFrom` and `reason`). [`flush`](Verifier::flush) and
/// [`finish`](Verifier::finish) refuse an open run: nothing counts as
/// verified past the last signature.
///
/// Signatures are checked in batches (one multi-scalar multiplication for
/// up to 2,048), so [`push`](Verifier::push) may accept an event whose
/// signature is only checked by a later `push` or by
/// [`finish`](Verifier::finish): the verification holds once `finish`
/// returns `Ok`. The first failure is returned, naming the seq (a bad
/// signature before a later bad event is reported first); the verifier must
/// then be dropped.
///
/// Allocation-free per event in the common case (scratch buffers, the role
/// set reused while consecutive events claim the same roles).
pub struct Verifier<'m> {
    model: &'m Model,
    stream: String,
    state: TipState,
    seq: u64,
    prev: [u8; 32],
    buf: Vec<u8>,
    roles: Vec<String>,
    role_set: RoleSet,
    delta: Vec<(usize, u64)>,
    keys: Vec<KeyChange>,
    signatures: SignatureBatch,
    /// Whether events without `sig` may wait for a later signature.
    runs: bool,
    /// The open signature run: its first seq and its signer.
    run: Option<(u64, String)>,
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
    /// Commitment of that marking (the last event's `root`).
    pub root: String,
}

impl<'m> Verifier<'m> {
    /// Starts at the beginning of a stream: seq 0, the initial marking.
    pub fn new(model: &'m Model, stream: &str) -> Self {
        Self::at(model, stream, TipState::new(model, model.initial_marking()))
    }

    fn at(model: &'m Model, stream: &str, state: TipState) -> Self {
        Verifier {
            model,
            stream: stream.to_string(),
            state,
            seq: 0,
            prev: [0; 32],
            buf: Vec::with_capacity(512),
            roles: Vec::new(),
            role_set: RoleSet::none(),
            delta: Vec::new(),
            keys: Vec::new(),
            signatures: SignatureBatch::new(stream),
            runs: false,
            run: None,
        }
    }

    /// Also accepts signature runs (see the type): for a chain kept by a
    /// ledger or read from an export, not for remote input.
    ///
    /// ```
    /// # use petrichain::chain::Verifier;
    /// # let (model, _) = petrichain::formats::json::import_json(r#"{"places":[{"id":"p","initial":1}],"transitions":[{"id":"t"}],"arcs":[{"source":"p","target":"t"}]}"#).unwrap();
    /// let v = Verifier::new(&model, "s").accept_runs();
    /// assert!(v.finish().is_ok());
    /// ```
    pub fn accept_runs(mut self) -> Self {
        self.runs = true;
        self
    }

    /// Resumes a stream from a stored head: the event with `seq` has hash
    /// `head` and left the net in `marking`. Later [`push`](Verifier::push)es
    /// check events `seq + 1, ...` exactly as if the verifier had replayed
    /// the stream up to there (a server appending on top of its stored head).
    ///
    /// Fails with [`ChainError::InvalidInput`] if `head` is not 64 lowercase
    /// hex digits, if `seq` is 0 and `head` is not 64 zeros, or if the marking
    /// does not have one count per place.
    ///
    /// ```
    /// # use petrichain::chain::{Verifier, GENESIS_PREV};
    /// # let (model, _) = petrichain::formats::json::import_json(r#"{"places":[{"id":"p","initial":1}],"transitions":[{"id":"t"}],"arcs":[{"source":"p","target":"t"}]}"#).unwrap();
    /// let v = Verifier::resume(&model, "s", 0, GENESIS_PREV, model.initial_marking()).unwrap();
    /// assert_eq!(v.seq(), 0);
    /// assert!(Verifier::resume(&model, "s", 3, "zz", model.initial_marking()).is_err());
    /// ```
    pub fn resume(
        model: &'m Model,
        stream: &str,
        seq: u64,
        head: &str,
        marking: Marking,
    ) -> Result<Self, ChainError> {
        let bad = |message: String| ChainError::InvalidInput {
            field: "head".into(),
            message,
        };
        if marking.0.len() != model.places().len() {
            return Err(bad(format!(
                "marking has {} counts, the net has {} places",
                marking.0.len(),
                model.places().len()
            )));
        }
        if model.has_keyed_places() && seq > 0 {
            return Err(bad(
                "a net with keyed places resumes from its keys too (Verifier::resume_state)".into(),
            ));
        }
        Self::resume_state(model, stream, seq, head, TipState::new(model, marking))
    }

    /// [`Verifier::resume`] from a full state: the marking with the keys
    /// of its keyed places (and its tree).
    pub fn resume_state(
        model: &'m Model,
        stream: &str,
        seq: u64,
        head: &str,
        state: TipState,
    ) -> Result<Self, ChainError> {
        let bad = |message: String| ChainError::InvalidInput {
            field: "head".into(),
            message,
        };
        let mut prev = [0u8; 32];
        if !super::event::is_hash_hex(head) || hex::decode_to_slice(head, &mut prev).is_err() {
            return Err(bad("hash must be 64 lowercase hex digits".into()));
        }
        if seq == 0 && head != GENESIS_PREV {
            return Err(bad("hash of seq 0 must be 64 zeros".into()));
        }
        // O(1): the sums were checked once, when the state was built.
        if !state.totals_agree_for(model) {
            return Err(bad(format!(
                "the state does not fit the net ({} counts for {} places, or keyed totals that are not the sums of their keys)",
                state.marking().0.len(),
                model.places().len()
            )));
        }
        let mut v = Verifier::at(model, stream, state);
        v.seq = seq;
        v.prev = prev;
        Ok(v)
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
        self.state.marking()
    }

    /// The marking and its commitment.
    pub fn state(&self) -> &TipState {
        &self.state
    }

    /// The state replay has reached, without a copy (after
    /// [`flush`](Verifier::flush), so that every signature was checked).
    pub fn into_state(self) -> TipState {
        self.state
    }

    /// Checks the next event (its signature perhaps later, see the type).
    pub fn push(&mut self, e: &Event) -> Result<(), ChainError> {
        let checked = self.check(e).and_then(|()| self.check_run(e));
        match checked {
            // An earlier bad signature is the first failure.
            Err(err) => Err(self.signatures.check().err().unwrap_or(err)),
            Ok(false) => Ok(()),
            Ok(true) => {
                if let Err(unsigned) = self.signatures.push(e) {
                    return Err(self.signatures.check().err().unwrap_or(unsigned));
                }
                if self.signatures.len() >= BATCH {
                    self.signatures.check()?;
                }
                Ok(())
            }
        }
    }

    /// The signature-run rule for `e` (checked otherwise): `Ok(true)` if
    /// its own `sig` is to be checked, `Ok(false)` if a later signature of
    /// its signer must cover it.
    fn check_run(&mut self, e: &Event) -> Result<bool, ChainError> {
        if let Some((from, signer)) = &self.run {
            if *signer != e.signer {
                return Err(self.open_run(
                    "run-broken",
                    format!(
                        "events {from} to {} carry no signature and the next event has another signer",
                        e.seq - 1
                    ),
                ));
            }
        }
        if !e.sig.is_empty() || !self.runs {
            // Closes the run, if any; the signature check says the rest.
            self.run = None;
            return Ok(true);
        }
        match &self.run {
            Some((from, _)) if e.seq - from >= MAX_RUN - 1 => Err(self.open_run(
                "run-too-long",
                format!(
                    "more than {} events in a row carry no signature (a run has at most {MAX_RUN} events)",
                    MAX_RUN - 1
                ),
            )),
            Some(_) => Ok(false),
            None => {
                self.run = Some((e.seq, e.signer.clone()));
                Ok(false)
            }
        }
    }

    /// `BAD_SIGNATURE` at the first event of the open run.
    fn open_run(&self, reason: &'static str, message: String) -> ChainError {
        let (from, signer) = self.run.clone().unwrap_or_default();
        ChainError::BadSignature {
            stream: self.stream.clone(),
            seq: from,
            signer,
            message,
            unsigned_from: Some(from),
            reason: Some(reason),
        }
    }

    /// Fails if the events pushed end inside a signature run.
    fn check_closed(&self) -> Result<(), ChainError> {
        match &self.run {
            None => Ok(()),
            Some((from, _)) => Err(self.open_run(
                "unsigned-tail",
                format!(
                    "the events end at seq {} inside a signature run: events {from} to {} carry no signature",
                    self.seq, self.seq
                ),
            )),
        }
    }

    fn check(&mut self, e: &Event) -> Result<(), ChainError> {
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
        let expected_seq = self.seq.saturating_add(1);
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
        let entry = self.state.policy().admit(
            self.model, stream, e.seq, &e.signer, &e.action, &e.roles, e.multiple, &e.args,
            &e.payload,
        )?;
        if let Some(entry) = entry {
            return self.accept_entry(e, stored, entry);
        }
        if e.roles != self.roles {
            let names: Vec<&str> = e.roles.iter().map(String::as_str).collect();
            self.role_set = self.model.roles(&names);
            self.roles.clone_from(&e.roles);
        }
        let fired = match self.model.transition_index(&e.action) {
            Some(t) => self.state.fire(
                self.model,
                t,
                e.multiple,
                &self.role_set,
                &e.args,
                &e.signer,
                &mut self.delta,
                &mut self.keys,
            ),
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
        let places = self.model.places();
        let same = e.delta.len() == self.delta.len()
            && e.delta
                .iter()
                .zip(&self.delta)
                .all(|((id, n), &(p, m))| *n == m && *id == places[p].id);
        if !same {
            let place = first_difference(&e.delta, &self.delta, self.model);
            return Err(ChainError::StateMismatch {
                stream: stream.clone(),
                seq: e.seq,
                place,
                stored: e.delta.iter().map(|(_, n)| *n).collect(),
                computed: self.delta.iter().map(|&(_, n)| n).collect(),
            });
        }
        let same_keys = e.keys.len() == self.keys.len()
            && e.keys
                .iter()
                .zip(&self.keys)
                .all(|((id, k, n), (p, key, m))| n == m && k == key && *id == places[*p].id);
        if !same_keys {
            let (stored, computed) = e
                .keys
                .iter()
                .map(|(id, k, n)| (format!("{id}[{k}]"), *n))
                .zip(
                    self.keys
                        .iter()
                        .map(|(p, k, n)| (format!("{}[{k}]", places[*p].id), *n)),
                )
                .find(|(a, b)| a != b)
                .unwrap_or_else(|| {
                    let n = e.keys.len().min(self.keys.len());
                    let missing = (String::new(), 0);
                    (
                        e.keys
                            .get(n)
                            .map(|(id, k, c)| (format!("{id}[{k}]"), *c))
                            .unwrap_or_else(|| missing.clone()),
                        self.keys
                            .get(n)
                            .map(|(p, k, c)| (format!("{}[{k}]", places[*p].id), *c))
                            .unwrap_or(missing),
                    )
                });
            let place = if stored.0.is_empty() {
                computed.0.clone()
            } else {
                stored.0.clone()
            };
            return Err(ChainError::StateMismatch {
                stream: stream.clone(),
                seq: e.seq,
                place,
                stored: vec![stored.1],
                computed: vec![computed.1],
            });
        }
        let root = self.state.tree().root();
        let mut claimed = [0u8; 32];
        if hex::decode_to_slice(&e.root, &mut claimed).is_err() || claimed != root {
            return Err(ChainError::CommitmentMismatch {
                stream: stream.clone(),
                seq: e.seq,
                stored: e.root.clone(),
                computed: hex::encode(root),
            });
        }
        self.state.apply_policy(e.seq, &e.signer, None);
        self.seq = e.seq;
        self.prev = stored;
        Ok(())
    }

    /// The rest of the checks of an admitted policy entry: it changes no
    /// count and its root is the marking's, unchanged.
    fn accept_entry(&mut self, e: &Event, hash: [u8; 32], entry: Entry) -> Result<(), ChainError> {
        if !e.delta.is_empty() || !e.keys.is_empty() {
            return Err(ChainError::InvalidEvent {
                stream: self.stream.clone(),
                seq: e.seq,
                field: if e.delta.is_empty() { "keys" } else { "delta" }.into(),
                message: "a policy entry changes no count".into(),
            });
        }
        let root = self.state.tree().root();
        let mut claimed = [0u8; 32];
        if hex::decode_to_slice(&e.root, &mut claimed).is_err() || claimed != root {
            return Err(ChainError::CommitmentMismatch {
                stream: self.stream.clone(),
                seq: e.seq,
                stored: e.root.clone(),
                computed: hex::encode(root),
            });
        }
        self.state.apply_policy(e.seq, &e.signer, Some(entry));
        self.seq = e.seq;
        self.prev = hash;
        Ok(())
    }

    /// Checks the signatures still waiting; after `Ok`, everything pushed
    /// so far is verified. Events pushed that end inside a signature run
    /// are `BAD_SIGNATURE` (reason `"unsigned-tail"`).
    pub fn flush(&mut self) -> Result<(), ChainError> {
        self.signatures.check()?;
        self.check_closed()
    }

    /// Whether the last event pushed waits for a later signature (it is
    /// inside a signature run).
    pub fn in_run(&self) -> bool {
        self.run.is_some()
    }

    /// Checks the signatures still waiting and returns what was verified.
    pub fn finish(mut self) -> Result<Verified, ChainError> {
        self.flush()?;
        Ok(Verified {
            head: self.head(),
            root: self.state.root_hex(),
            stream: self.stream,
            events: self.seq,
            marking: self.state.into_marking().0,
        })
    }
}

/// The first place where a stored delta and the computed one disagree.
fn first_difference(stored: &[(String, u64)], computed: &[(usize, u64)], model: &Model) -> String {
    let places = model.places();
    let computed: Vec<(&str, u64)> = computed
        .iter()
        .map(|&(p, n)| (places[p].id.as_str(), n))
        .collect();
    stored
        .iter()
        .map(|(id, n)| (id.as_str(), *n))
        .zip(computed.iter().copied())
        .find(|(a, b)| a != b)
        .map(|(a, b)| if a.0 == b.0 { a.0 } else { a.0.min(b.0) })
        .or_else(|| {
            let n = stored.len().min(computed.len());
            stored
                .get(n)
                .map(|(id, _)| id.as_str())
                .or(computed.get(n).map(|c| c.0))
        })
        .unwrap_or_default()
        .to_string()
}

/// Verifies a whole stream from seq 1, signature runs accepted (the
/// format's rule; remote input is checked with a strict [`Verifier`]).
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
    let mut v = Verifier::new(model, stream).accept_runs();
    for e in events {
        v.push(e)?;
    }
    v.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Marking;
    use crate::formats::json::import_json;
    use crate::store::{block_on, Action, Ledger};

    fn chain() -> (Model, Vec<Event>) {
        let (model, _) = import_json(
            r#"{"places":[{"id":"p","initial":3},{"id":"q"}],"transitions":[{"id":"t"}],
                "arcs":[{"source":"p","target":"t"},{"source":"t","target":"q"}]}"#,
        )
        .unwrap();
        let events = block_on(async {
            let ledger = Ledger::memory();
            let id = ledger.put_model(&model).await.unwrap();
            ledger.create_stream("s", &id).await.unwrap();
            for ts in 0..3 {
                ledger.fire("s", &Action::new("t"), ts).await.unwrap();
            }
            ledger.all_events("s").await.unwrap()
        });
        (model, events)
    }

    #[test]
    fn resume_from_a_stored_head_checks_like_a_full_replay() {
        let (model, events) = chain();
        let at = &events[1];
        let mut v = Verifier::resume(&model, "s", at.seq, &at.hash, Marking(vec![1, 2])).unwrap();
        v.push(&events[2]).unwrap();
        assert_eq!(
            v.finish().unwrap().head,
            verify_events(&model, "s", &events).unwrap().head
        );

        // A wrong stored marking makes the next event's state disagree.
        let mut v = Verifier::resume(&model, "s", at.seq, &at.hash, Marking(vec![3, 0])).unwrap();
        assert_eq!(v.push(&events[2]).unwrap_err().code(), "STATE_MISMATCH");
        // A wrong head hash breaks the link.
        let mut v =
            Verifier::resume(&model, "s", at.seq, &events[0].hash, Marking(vec![1, 2])).unwrap();
        assert_eq!(v.push(&events[2]).unwrap_err().code(), "BROKEN_LINK");
    }

    #[test]
    fn resume_refuses_malformed_heads() {
        let (model, _) = chain();
        let m = model.initial_marking();
        assert!(Verifier::resume(&model, "s", 0, &"a".repeat(64), m.clone()).is_err());
        assert!(Verifier::resume(&model, "s", 1, &"A".repeat(64), m.clone()).is_err());
        assert!(Verifier::resume(&model, "s", 1, &"a".repeat(64), Marking(vec![1])).is_err());
        assert!(Verifier::resume(&model, "s", 1, &"a".repeat(64), m).is_ok());
    }
}
