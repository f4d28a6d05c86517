//! The event: one accepted firing of a stream's net.

use serde::{Deserialize, Serialize};

use super::ChainError;
use crate::model::{MAX_KEY_BYTES, MAX_PARAMS, MAX_TOKENS};

/// `prev` of the first event of every stream: 64 zeros.
pub const GENESIS_PREV: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Largest payload accepted, in bytes of JSON text (1 MiB).
pub const MAX_PAYLOAD_BYTES: usize = 1 << 20;

/// Longest stream id, actor, action or role name accepted, in bytes.
pub const MAX_ID_BYTES: usize = 1024;

/// The chain format version of [`Event`] (docs/chain-format.md).
pub const FORMAT_VERSION: u8 = 2;

/// One accepted firing, chained to the one before it, signed by the device
/// that fired it.
///
/// Serialises (JSON lines, JS objects) with exactly these field names, in
/// this order. The payload is kept as the exact JSON text the caller gave (a
/// string holding JSON), so that it survives storage and export byte for
/// byte, big numbers included.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Event {
    /// Chain format version: [`FORMAT_VERSION`].
    pub v: u8,
    /// Id of the stream the event belongs to.
    pub stream: String,
    /// Position in the stream, from 1, without gaps.
    pub seq: u64,
    /// Id of the model (net) that accepted it.
    pub model: String,
    /// The transition fired.
    pub action: String,
    /// How many times it fired at once (>= 1).
    pub multiple: u64,
    /// Who fired it (free text chosen by the application; may be empty).
    pub actor: String,
    /// The arguments bound to the transition's parameters, `[param, key]`
    /// sorted by param; absent (empty) for a transition without parameters.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<(String, String)>,
    /// Roles the actor claimed, sorted and without duplicates when the ledger
    /// writes them.
    pub roles: Vec<String>,
    /// Application data: exact JSON text (`null` when none was given).
    pub payload: String,
    /// Milliseconds since the Unix epoch, as supplied by the caller.
    pub ts: u64,
    /// 128 random bits (32 lowercase hex digits) from the device's secure
    /// generator: two firings are never the same event, even with the same
    /// action, payload and ts on the same head.
    pub nonce: String,
    /// Hash of the previous event, or [`GENESIS_PREV`] for seq 1.
    pub prev: String,
    /// The counts the event changed, `[place, count after]`, in the model's
    /// place order; places it left as they were are absent.
    pub delta: Vec<(String, u64)>,
    /// The keys of keyed places the event changed, `[place, key, count
    /// after]` sorted by place order then key (0 = the key is gone); absent
    /// when none changed. (The place's total, when it moves, is in `delta`.)
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keys: Vec<(String, String, u64)>,
    /// Root of the marking's Merkle tree after the event
    /// ([`crate::chain::MarkingTree`]), lowercase hex.
    pub root: String,
    /// Ed25519 public key of the device that signed it, lowercase hex.
    pub signer: String,
    /// SHA-256 (lowercase hex) of the canonical encoding of every other field
    /// but `sig` (see [`crate::chain::hash`]).
    pub hash: String,
    /// Ed25519 signature by `signer` of the hash (see
    /// [`crate::chain::signed_message`]), lowercase hex. Empty (absent when
    /// serialised) inside a signature run, where the next event of the same
    /// signer covers it (docs/chain-format.md, "Signature runs"); a missing
    /// `sig` reads as empty, and verification names one that no later
    /// signature covers `BAD_SIGNATURE`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub sig: String,
}

/// Checks that `text` is one JSON value no larger than [`MAX_PAYLOAD_BYTES`].
pub(crate) fn check_payload(text: &str) -> Result<(), String> {
    if text.len() > MAX_PAYLOAD_BYTES {
        return Err(format!(
            "payload is {} bytes, the limit is {MAX_PAYLOAD_BYTES}",
            text.len()
        ));
    }
    serde_json::from_str::<serde::de::IgnoredAny>(text)
        .map(|_| ())
        .map_err(|e| format!("payload is not valid JSON: {e}"))
}

/// Checks an id-like string (stream id, action, actor, role, ledger name):
/// not empty unless `allow_empty`, at most [`MAX_ID_BYTES`].
pub fn check_id(field: &'static str, value: &str, allow_empty: bool) -> Result<(), ChainError> {
    let problem = if value.is_empty() && !allow_empty {
        Some("must not be empty".to_string())
    } else if value.len() > MAX_ID_BYTES {
        Some(format!(
            "is {} bytes, the limit is {MAX_ID_BYTES}",
            value.len()
        ))
    } else {
        None
    };
    match problem {
        Some(message) => Err(ChainError::InvalidInput {
            field: field.into(),
            message,
        }),
        None => Ok(()),
    }
}

/// Whether `s` is 64 lowercase hex digits.
pub(crate) fn is_hash_hex(s: &str) -> bool {
    is_hex(s, 64)
}

/// Whether `s` is `len` lowercase hex digits.
pub(crate) fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

impl Event {
    /// Checks the shape of every field (not the chain): lengths, hex hashes,
    /// JSON payload, counts within 2^53 - 1. Numbers above that could not be
    /// represented exactly by JavaScript or most JSON readers.
    pub fn check_fields(&self) -> Result<(), ChainError> {
        let bad = |field: &str, message: String| ChainError::InvalidEvent {
            stream: self.stream.clone(),
            seq: self.seq,
            field: field.into(),
            message,
        };
        for (field, v) in [
            ("seq", self.seq),
            ("multiple", self.multiple),
            ("ts", self.ts),
        ] {
            if v > MAX_TOKENS {
                return Err(bad(field, format!("{v} is above 2^53-1")));
            }
        }
        if self.multiple == 0 {
            return Err(bad("multiple", "must be at least 1".into()));
        }
        if self.v != FORMAT_VERSION {
            return Err(bad(
                "v",
                format!("is {}, this reader knows version {FORMAT_VERSION}", self.v),
            ));
        }
        if let Some((p, n)) = self.delta.iter().find(|(_, n)| *n > MAX_TOKENS) {
            return Err(bad("delta", format!("count {n} of '{p}' is above 2^53-1")));
        }
        if let Some((p, k, n)) = self.keys.iter().find(|(_, _, n)| *n > MAX_TOKENS) {
            return Err(bad(
                "keys",
                format!("count {n} of '{p}[{k}]' is above 2^53-1"),
            ));
        }
        if self.args.len() > MAX_PARAMS {
            return Err(bad("args", format!("more than {MAX_PARAMS} arguments")));
        }
        if self
            .args
            .iter()
            .any(|(a, k)| a.len() > MAX_ID_BYTES || k.len() > MAX_KEY_BYTES)
            || self.keys.iter().any(|(_, k, _)| k.len() > MAX_KEY_BYTES)
        {
            return Err(bad("args", format!("a key is above {MAX_KEY_BYTES} bytes")));
        }
        for (field, v, len) in [
            ("prev", &self.prev, 64),
            ("hash", &self.hash, 64),
            ("model", &self.model, 64),
            ("root", &self.root, 64),
            ("nonce", &self.nonce, 32),
        ] {
            if !is_hex(v, len) {
                return Err(bad(field, format!("must be {len} lowercase hex digits")));
            }
        }
        for (field, v) in [("stream", &self.stream), ("action", &self.action)] {
            if v.is_empty() || v.len() > MAX_ID_BYTES {
                return Err(bad(field, format!("must be 1 to {MAX_ID_BYTES} bytes")));
            }
        }
        if self.actor.len() > MAX_ID_BYTES || self.roles.iter().any(|r| r.len() > MAX_ID_BYTES) {
            return Err(bad(
                "actor",
                format!("actor and roles are limited to {MAX_ID_BYTES} bytes"),
            ));
        }
        check_payload(&self.payload).map_err(|m| bad("payload", m))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_must_be_one_json_value() {
        assert!(check_payload("{\"a\": [1, 2.5e400, \"é\"]}").is_ok());
        assert!(check_payload("").is_err());
        assert!(check_payload("{} {}").is_err());
        assert!(check_payload("{'a':1}").is_err());
        assert!(check_payload(&"[".repeat(200)).is_err());
    }

    #[test]
    fn hash_hex_is_strict() {
        assert!(is_hash_hex(GENESIS_PREV));
        assert!(!is_hash_hex(&"A".repeat(64)));
        assert!(!is_hash_hex(&"a".repeat(63)));
    }
}
