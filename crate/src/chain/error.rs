//! The one error type of the chain and the store.

use serde::Serialize;

use crate::engine::FireError;

/// Something the chain or the store refused, or found wrong.
///
/// Every variant has a stable [`code`](ChainError::code) and serialises (for
/// JS and HTTP) as an object tagged with it, e.g.
/// `{"code":"HASH_MISMATCH","stream":"order-1","seq":3,...}`. A firing the net
/// refuses is [`ChainError::Fire`] and serialises as the engine's error
/// (`{"code":"NOT_ENABLED",...}`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[serde(
    tag = "code",
    rename_all = "SCREAMING_SNAKE_CASE",
    rename_all_fields = "camelCase"
)]
#[non_exhaustive]
pub enum ChainError {
    /// Verification: the stored hash is not the hash of the event's fields.
    #[error(
        "stream '{stream}', seq {seq}: hash mismatch (stored {stored}, fields hash to {computed})"
    )]
    HashMismatch {
        /// The stream.
        stream: String,
        /// The first bad event.
        seq: u64,
        /// Hash stored in the event.
        stored: String,
        /// Hash recomputed from its fields.
        computed: String,
    },
    /// Verification: `prev` is not the hash of the event before.
    #[error("stream '{stream}', seq {seq}: broken link, prev is {prev} but the previous event's hash is {expected}")]
    BrokenLink {
        /// The stream.
        stream: String,
        /// The first bad event.
        seq: u64,
        /// Its `prev`.
        prev: String,
        /// Hash of the event before (64 zeros for seq 1).
        expected: String,
    },
    /// Verification: seqs must run 1, 2, 3, ... without gaps.
    #[error("stream '{stream}': expected seq {expected}, found {found}")]
    SeqGap {
        /// The stream.
        stream: String,
        /// The seq that should come next.
        expected: u64,
        /// The seq found.
        found: u64,
    },
    /// Verification: the net does not allow the event's action at that point.
    #[error("stream '{stream}', seq {seq}: action not allowed by the net: {reason}")]
    ActionRejected {
        /// The stream.
        stream: String,
        /// The first bad event.
        seq: u64,
        /// The engine's reason.
        reason: FireError,
    },
    /// Verification: the counts an event says it changed (`delta`) are not
    /// the ones replay changed (or a stored head's marking is not the one
    /// replay reached).
    #[error("stream '{stream}', seq {seq}: state mismatch at place '{place}' (stored {stored:?}, replay gives {computed:?})")]
    StateMismatch {
        /// The stream.
        stream: String,
        /// The first bad event.
        seq: u64,
        /// First place whose count differs.
        place: String,
        /// The stored counts (the event's `delta` counts, or the head's marking).
        stored: Vec<u64>,
        /// The counts replay reached, likewise.
        computed: Vec<u64>,
    },
    /// Verification: the marking root is not the commitment of the replayed
    /// marking (docs/chain-format.md, "The marking commitment").
    #[error("stream '{stream}', seq {seq}: marking commitment mismatch (stored root {stored}, replay gives {computed})")]
    CommitmentMismatch {
        /// The stream.
        stream: String,
        /// The first bad event.
        seq: u64,
        /// The event's `root`.
        stored: String,
        /// The root of the replayed marking.
        computed: String,
    },
    /// Verification: the signature is missing, malformed or not the
    /// signer's signature of the event's hash.
    #[error("stream '{stream}', seq {seq}: bad signature by {signer}: {message}")]
    BadSignature {
        /// The stream.
        stream: String,
        /// The first bad event.
        seq: u64,
        /// The event's `signer`.
        signer: String,
        /// What is wrong.
        message: String,
        /// For a signature run that is never closed (docs/chain-format.md,
        /// "Signature runs"): its first unsigned seq (= `seq`).
        #[serde(skip_serializing_if = "Option::is_none")]
        unsigned_from: Option<u64>,
        /// For such a run, why it is refused: `"unsigned-tail"` (the
        /// events end before the run's signature), `"run-broken"`
        /// (another signer's event follows it) or `"run-too-long"`.
        #[serde(skip_serializing_if = "Option::is_none")]
        reason: Option<&'static str>,
    },
    /// Verification: an event names another stream than the one verified.
    #[error("seq {seq}: event belongs to stream '{found}', expected '{expected}'")]
    WrongStream {
        /// The event's seq.
        seq: u64,
        /// The stream being verified.
        expected: String,
        /// The stream the event names.
        found: String,
    },
    /// Verification: an event names another model than its stream's.
    #[error(
        "stream '{stream}', seq {seq}: event names model {found}, the stream's model is {expected}"
    )]
    WrongModel {
        /// The stream.
        stream: String,
        /// The event's seq.
        seq: u64,
        /// The stream's model id.
        expected: String,
        /// The model id in the event.
        found: String,
    },
    /// The signer claimed a role (or made a policy entry needing one:
    /// `$admin` for `$grant` / `$revoke`, `$profile` for a profile) it was
    /// never granted (docs/chain-format.md, "Grants, revocations and
    /// profiles").
    #[error("stream '{stream}', seq {seq}: key {key} was not granted role '{role}'")]
    RoleNotGranted {
        /// The stream.
        stream: String,
        /// The event (or the seq it would have had).
        seq: u64,
        /// The signer.
        key: String,
        /// The role it lacks.
        role: String,
    },
    /// The signer claimed a role that had been granted to it and was
    /// revoked since (the grant of the role, or of `*`).
    #[error(
        "stream '{stream}', seq {seq}: role '{role}' of key {key} was revoked by {by} at seq {at}"
    )]
    RoleRevoked {
        /// The stream.
        stream: String,
        /// The event (or the seq it would have had).
        seq: u64,
        /// The signer.
        key: String,
        /// The role claimed.
        role: String,
        /// Key that signed the revocation.
        by: String,
        /// Seq of the revocation.
        at: u64,
    },
    /// The stored head (seq, hash, marking) does not match the last event.
    #[error("stream '{stream}': head says seq {head_seq} ({head_hash}), events end at seq {last_seq} ({last_hash})")]
    HeadMismatch {
        /// The stream.
        stream: String,
        /// Seq recorded in the head.
        head_seq: u64,
        /// Hash recorded in the head.
        head_hash: String,
        /// Seq of the last stored event.
        last_seq: u64,
        /// Hash of the last stored event (64 zeros if none).
        last_hash: String,
    },
    /// A field of an event is malformed (not hex, out of range, bad payload...).
    #[error("stream '{stream}', seq {seq}: field '{field}' {message}")]
    InvalidEvent {
        /// The stream.
        stream: String,
        /// The event's seq.
        seq: u64,
        /// The field.
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// A payload is not one JSON value, or is too large.
    #[error("{message}")]
    InvalidPayload {
        /// What is wrong.
        message: String,
    },
    /// An argument is malformed (empty id, too long, ...).
    #[error("{field} {message}")]
    InvalidInput {
        /// The argument.
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// No model with this id has been put in the ledger.
    #[error("unknown model {model}; put it in the ledger first")]
    UnknownModel {
        /// The id asked for.
        model: String,
    },
    /// A model given as text could not be read.
    #[error("invalid model: {message}")]
    InvalidModel {
        /// The importer's message.
        message: String,
    },
    /// No stream has this id.
    #[error("unknown stream '{stream}'")]
    UnknownStream {
        /// The id asked for.
        stream: String,
    },
    /// A stream with this id already exists.
    #[error("stream '{stream}' already exists")]
    StreamExists {
        /// The id.
        stream: String,
    },
    /// Import: the file's chain and the stored chain differ at `seq`.
    #[error("stream '{stream}': the imported chain differs from the stored one at seq {seq}")]
    Diverged {
        /// The stream.
        stream: String,
        /// First seq where they differ.
        seq: u64,
    },
    /// Import: a line of a JSON-lines file could not be read.
    #[error("line {line}: {message}")]
    ImportSyntax {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// The browser refused to store more data; nothing was written.
    #[error("storage quota exceeded; nothing was written ({message})")]
    QuotaExceeded {
        /// The browser's message.
        message: String,
    },
    /// A stored record could not be read back (corrupted or edited by hand).
    #[error("corrupt record in '{store}' ({key}): {message}")]
    CorruptRecord {
        /// The object store.
        store: String,
        /// The record's key.
        key: String,
        /// What is wrong.
        message: String,
    },
    /// The storage backend failed; nothing was written.
    #[error("storage error: {message}")]
    Storage {
        /// The backend's message.
        message: String,
    },
    /// The ledger's device key could not give random bytes or signatures
    /// (no WebCrypto here, a stored key that is not a usable Ed25519 key,
    /// the OS generator failed); nothing was written.
    #[error("device key: {message}")]
    Device {
        /// What failed.
        message: String,
    },
    /// The ledger was closed.
    #[error("the ledger is closed")]
    Closed,
    /// Appending: the net refused the firing; nothing was stored.
    #[serde(untagged)]
    #[error(transparent)]
    Fire(FireError),
}

impl From<FireError> for ChainError {
    fn from(e: FireError) -> Self {
        ChainError::Fire(e)
    }
}

impl ChainError {
    /// Stable machine-readable code, e.g. `HASH_MISMATCH`; for
    /// [`ChainError::Fire`] the engine's code, e.g. `NOT_ENABLED`.
    pub fn code(&self) -> &'static str {
        match self {
            ChainError::HashMismatch { .. } => "HASH_MISMATCH",
            ChainError::BrokenLink { .. } => "BROKEN_LINK",
            ChainError::SeqGap { .. } => "SEQ_GAP",
            ChainError::ActionRejected { .. } => "ACTION_REJECTED",
            ChainError::StateMismatch { .. } => "STATE_MISMATCH",
            ChainError::CommitmentMismatch { .. } => "COMMITMENT_MISMATCH",
            ChainError::BadSignature { .. } => "BAD_SIGNATURE",
            ChainError::WrongStream { .. } => "WRONG_STREAM",
            ChainError::WrongModel { .. } => "WRONG_MODEL",
            ChainError::HeadMismatch { .. } => "HEAD_MISMATCH",
            ChainError::RoleNotGranted { .. } => "ROLE_NOT_GRANTED",
            ChainError::RoleRevoked { .. } => "ROLE_REVOKED",
            ChainError::InvalidEvent { .. } => "INVALID_EVENT",
            ChainError::Fire(e) => e.code(),
            ChainError::InvalidPayload { .. } => "INVALID_PAYLOAD",
            ChainError::InvalidInput { .. } => "INVALID_INPUT",
            ChainError::UnknownModel { .. } => "UNKNOWN_MODEL",
            ChainError::InvalidModel { .. } => "INVALID_MODEL",
            ChainError::UnknownStream { .. } => "UNKNOWN_STREAM",
            ChainError::StreamExists { .. } => "STREAM_EXISTS",
            ChainError::Diverged { .. } => "DIVERGED",
            ChainError::ImportSyntax { .. } => "IMPORT_SYNTAX",
            ChainError::QuotaExceeded { .. } => "QUOTA_EXCEEDED",
            ChainError::CorruptRecord { .. } => "CORRUPT_RECORD",
            ChainError::Storage { .. } => "STORAGE",
            ChainError::Device { .. } => "DEVICE",
            ChainError::Closed => "CLOSED",
        }
    }

    /// The seq of the first bad event, for verification errors.
    pub fn seq(&self) -> Option<u64> {
        match self {
            ChainError::HashMismatch { seq, .. }
            | ChainError::BrokenLink { seq, .. }
            | ChainError::ActionRejected { seq, .. }
            | ChainError::StateMismatch { seq, .. }
            | ChainError::CommitmentMismatch { seq, .. }
            | ChainError::BadSignature { seq, .. }
            | ChainError::WrongStream { seq, .. }
            | ChainError::WrongModel { seq, .. }
            | ChainError::InvalidEvent { seq, .. }
            | ChainError::RoleNotGranted { seq, .. }
            | ChainError::RoleRevoked { seq, .. }
            | ChainError::Diverged { seq, .. } => Some(*seq),
            ChainError::SeqGap { expected, .. } => Some(*expected),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_with_its_code() {
        let e = ChainError::SeqGap {
            stream: "s".into(),
            expected: 2,
            found: 4,
        };
        assert_eq!(
            serde_json::to_string(&e).unwrap(),
            r#"{"code":"SEQ_GAP","stream":"s","expected":2,"found":4}"#
        );
        assert_eq!(
            serde_json::to_string(&ChainError::Closed).unwrap(),
            r#"{"code":"CLOSED"}"#
        );
    }

    #[test]
    fn a_refused_firing_serialises_as_the_engine_error() {
        let e = ChainError::from(FireError::InvalidMultiple {
            transition: "t".into(),
        });
        assert_eq!(e.code(), "INVALID_MULTIPLE");
        assert_eq!(
            serde_json::to_string(&e).unwrap(),
            r#"{"code":"INVALID_MULTIPLE","transition":"t"}"#
        );
    }

    #[test]
    fn every_code_matches_its_serialised_tag() {
        let e = ChainError::HeadMismatch {
            stream: "s".into(),
            head_seq: 1,
            head_hash: "a".into(),
            last_seq: 0,
            last_hash: "b".into(),
        };
        let v: serde_json::Value = serde_json::to_value(&e).unwrap();
        assert_eq!(v["code"], e.code());
        assert_eq!(v["headSeq"], 1);
    }
}
