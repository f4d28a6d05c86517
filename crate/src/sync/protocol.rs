//! Wire types of sync protocol v2 (docs/sync-protocol.md; v2 carries chain
//! format v2 events: nonce, delta, root, signer, sig), shared by the
//! client and the reference server so both speak exactly the same JSON.

use serde::{Deserialize, Serialize};

// `Head` is a chain type (crate::chain::Head); the wire types carry it.
use crate::chain::Event;
pub use crate::chain::Head;

/// Protocol version, the path prefix of every endpoint (`/v2/...`).
pub const PROTOCOL_VERSION: &str = "v2";
/// Page size when the client does not ask for one.
pub const DEFAULT_PAGE: u64 = 500;

/// One stream in `GET /v1/streams`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamInfo {
    /// Stream id.
    pub id: String,
    /// Model id.
    pub model: String,
    /// Current head.
    pub head: Head,
}

/// `GET /v2/streams` answer: a page of streams, sorted by id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamList {
    /// The streams of this page (every stream when `next` is absent and
    /// no `after` was asked for).
    pub streams: Vec<StreamInfo>,
    /// When more streams follow: the id to ask for them after
    /// (`GET /v2/streams?after={next}`). Absent on the last page; a server
    /// that does not paginate never sends it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// Most pages of [`StreamList`] a client follows before giving up on a
/// listing (a server whose `next` never ends).
pub const MAX_STREAM_LIST_PAGES: usize = 10_000;

/// Body of `PUT /v1/models/{id}` and answer of `GET /v1/models/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelDoc {
    /// SHA-256 of `json`.
    pub id: String,
    /// Canonical JSON text of the model.
    pub json: String,
}

/// `GET /v1/streams/{id}/events` answer: a page of events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventPage {
    /// Stream id.
    pub stream: String,
    /// Model id.
    pub model: String,
    /// The server's head when the page was read.
    pub head: Head,
    /// Events with seq > `after`, in order.
    pub events: Vec<Event>,
    /// More events follow the last one returned.
    pub more: bool,
}

/// Body of `POST /v1/streams/{id}/events`: a conditional append.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppendRequest {
    /// Model id of the stream (creates the stream when `expected` is zero).
    pub model: String,
    /// The head the client builds on.
    pub expected: Head,
    /// Events to append, in seq order.
    pub events: Vec<Event>,
}

/// `200` answer to an append.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppendOk {
    /// The new head.
    pub head: Head,
    /// Events stored by this request.
    pub stored: u64,
    /// Events skipped because the server already had them (same seq and hash).
    pub duplicates: u64,
}

/// Any error answer: `{"code", "message", ...}` plus fields some codes carry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Machine-readable code (`HEAD_MISMATCH`, `INVALID_EVENT`, ...).
    pub code: String,
    /// What went wrong, for people.
    pub message: String,
    /// `HEAD_MISMATCH`: the server's current head.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head: Option<Head>,
    /// `INVALID_EVENT`: seq of the first bad event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
    /// `INVALID_EVENT`: why (a chain error object with its own `code`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<serde_json::Value>,
    /// `INVALID_MODEL`: the validation problems.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problems: Option<serde_json::Value>,
}

/// `data` of a server-sent `append` event on `/v1/streams/{id}/live`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveAppend {
    /// Stream id.
    pub stream: String,
    /// Its new head.
    pub head: Head,
}

/// What a device signs to sign in to a server (`POST /v2/auth/token`,
/// docs/sync-protocol.md): this prefix, then the server's challenge nonce
/// (64 hex digits). Distinct from the event signatures'
/// `petrichain:event:v2:`, so that a sign-in signature is never an event
/// signature nor the reverse; a client signs only this prefix and a nonce
/// it checked is 64 hex digits, never text a server chose.
pub const AUTH_CONTEXT: &str = "petrichain:auth:v1:";

/// The bytes a device signs for the challenge `nonce` (hex).
pub fn auth_message(nonce: &str) -> Vec<u8> {
    let mut m = Vec::with_capacity(AUTH_CONTEXT.len() + nonce.len());
    m.extend_from_slice(AUTH_CONTEXT.as_bytes());
    m.extend_from_slice(nonce.as_bytes());
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::GENESIS_PREV;

    #[test]
    fn append_request_json_shape_is_pinned() {
        let req = AppendRequest {
            model: "m".into(),
            expected: Head::zero(),
            events: vec![],
        };
        let text = serde_json::to_string(&req).unwrap();
        assert_eq!(
            text,
            format!(
                r#"{{"model":"m","expected":{{"seq":0,"hash":"{GENESIS_PREV}"}},"events":[]}}"#
            )
        );
        assert!(serde_json::from_str::<AppendRequest>(
            r#"{"model":"m","expected":{"seq":0,"hash":""},"events":[],"x":1}"#
        )
        .is_err());
    }

    #[test]
    fn error_body_omits_absent_fields() {
        let body = ErrorBody {
            code: "HEAD_MISMATCH".into(),
            message: "head moved".into(),
            head: Some(Head {
                seq: 2,
                hash: "ab".into(),
            }),
            seq: None,
            reason: None,
            problems: None,
        };
        assert_eq!(
            serde_json::to_string(&body).unwrap(),
            r#"{"code":"HEAD_MISMATCH","message":"head moved","head":{"seq":2,"hash":"ab"}}"#
        );
    }
}
