//! What can go wrong while syncing, each with a stable code.

use serde::Serialize;

use crate::chain::ChainError;
use crate::sync::protocol::Head;

/// A sync failed. Whatever the cause, the local store is as it was before
/// the failing step (every local write is one atomic commit).
///
/// Serialises (for JS) as an object tagged with its [`code`](SyncError::code),
/// e.g. `{"code":"REMOTE_ERROR","status":500,...}`.
#[derive(Debug, Clone, PartialEq, thiserror::Error, Serialize)]
#[serde(
    tag = "code",
    rename_all = "SCREAMING_SNAKE_CASE",
    rename_all_fields = "camelCase"
)]
#[non_exhaustive]
pub enum SyncError {
    /// The backend could not be reached (offline, DNS, refused, CORS, a JS
    /// transport that threw). Retried with backoff.
    #[error("network error talking to {backend}: {message}")]
    Network {
        /// The backend.
        backend: String,
        /// What the transport said.
        message: String,
    },
    /// The backend answered with an error status. 5xx and 429 are retried.
    #[error("{backend} answered {status} {remote_code}: {message}")]
    RemoteError {
        /// The backend.
        backend: String,
        /// HTTP status.
        status: u16,
        /// The `code` of its error body (empty if it had none).
        remote_code: String,
        /// Its `message`, or the start of the body.
        message: String,
    },
    /// The backend wants a credential (`401`) and none worked: none was
    /// given, or `getAuth` was asked again and its answer was refused too.
    #[error("{backend} needs authentication: {message}")]
    Unauthenticated {
        /// The backend.
        backend: String,
        /// What the backend said.
        message: String,
    },
    /// The backend knows who is asking and refuses (`403 FORBIDDEN`): e.g.
    /// a stream this key is not a member of, or events signed by another key.
    #[error("{backend} refused access: {message}")]
    Forbidden {
        /// The backend.
        backend: String,
        /// What the backend said.
        message: String,
    },
    /// The backend's answer is not what the protocol says (not JSON, wrong
    /// shape, a page of another stream, a head that contradicts its events).
    #[error("bad response from {backend} ({what}): {message}")]
    BadResponse {
        /// The backend.
        backend: String,
        /// Which request.
        what: String,
        /// What is wrong.
        message: String,
    },
    /// The remote sent events that do not verify (bad hash, broken link, an
    /// action the net refuses, a wrong state...). Nothing was stored.
    #[error("stream '{stream}': the remote chain is invalid: {error}")]
    RemoteChainInvalid {
        /// The stream.
        stream: String,
        /// The first problem, with its seq.
        error: ChainError,
    },
    /// The remote's chain no longer contains the event both sides agreed on
    /// (history rewritten or lost on the backend). Nothing was stored.
    #[error(
        "stream '{stream}': the remote chain forked from the local one at or before seq {seq} (both had agreed on seq {} with hash {}; the remote {})",
        .agreed.seq,
        .agreed.hash,
        .remote.as_ref().map_or_else(|| "no longer has the stream".to_string(), |h| format!("ends at seq {} with hash {}", h.seq, h.hash))
    )]
    RemoteForked {
        /// The stream.
        stream: String,
        /// The last agreed seq.
        seq: u64,
        /// The head both sides had agreed on.
        agreed: Head,
        /// The remote's head.
        #[serde(skip_serializing_if = "Option::is_none")]
        remote: Option<Head>,
    },
    /// The backend refused pushed events (`422 INVALID_EVENT`, ...).
    #[error("stream '{stream}': {backend} refused the pushed events ({remote_code}): {message}")]
    PushRejected {
        /// The backend.
        backend: String,
        /// The stream.
        stream: String,
        /// Its code.
        remote_code: String,
        /// Its message.
        message: String,
        /// The first refused seq, if it said.
        #[serde(skip_serializing_if = "Option::is_none")]
        seq: Option<u64>,
    },
    /// The stream's model is not in the ledger and the backend cannot give it.
    #[error(
        "stream '{stream}': model {model} is unknown here and the backend does not provide it"
    )]
    ModelUnavailable {
        /// The stream.
        stream: String,
        /// The model id.
        model: String,
    },
    /// Other writers kept moving the remote head; gave up after `rounds`.
    #[error("stream '{stream}': the remote head kept moving, gave up after {rounds} rounds")]
    Contended {
        /// The stream.
        stream: String,
        /// Rounds tried.
        rounds: u32,
    },
    /// The local store failed or refused.
    #[serde(untagged)]
    #[error(transparent)]
    Local(ChainError),
}

impl From<ChainError> for SyncError {
    fn from(e: ChainError) -> Self {
        SyncError::Local(e)
    }
}

impl SyncError {
    /// Stable machine-readable code; for [`SyncError::Local`] the store's code.
    pub fn code(&self) -> &'static str {
        match self {
            SyncError::Network { .. } => "NETWORK",
            SyncError::RemoteError { .. } => "REMOTE_ERROR",
            SyncError::Unauthenticated { .. } => "UNAUTHENTICATED",
            SyncError::Forbidden { .. } => "FORBIDDEN",
            SyncError::BadResponse { .. } => "BAD_RESPONSE",
            SyncError::RemoteChainInvalid { .. } => "REMOTE_CHAIN_INVALID",
            SyncError::RemoteForked { .. } => "REMOTE_FORKED",
            SyncError::PushRejected { .. } => "PUSH_REJECTED",
            SyncError::ModelUnavailable { .. } => "MODEL_UNAVAILABLE",
            SyncError::Contended { .. } => "SYNC_CONTENDED",
            SyncError::Local(e) => e.code(),
        }
    }

    /// Whether trying again later may succeed (network trouble, 5xx, 429,
    /// contention). Invalid or forked remote chains are not retried.
    pub fn retryable(&self) -> bool {
        match self {
            SyncError::Network { .. } | SyncError::Contended { .. } => true,
            SyncError::RemoteError { status, .. } => *status >= 500 || *status == 429,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_with_its_code() {
        let e = SyncError::RemoteError {
            backend: "b".into(),
            status: 500,
            remote_code: "INTERNAL".into(),
            message: "boom".into(),
        };
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(v["code"], "REMOTE_ERROR");
        assert_eq!(v["status"], 500);
        assert_eq!(v["remoteCode"], "INTERNAL");
        assert!(e.retryable());
        let local = SyncError::from(ChainError::Closed);
        assert_eq!(local.code(), "CLOSED");
        assert_eq!(serde_json::to_value(&local).unwrap()["code"], "CLOSED");
        assert!(!local.retryable());
    }

    #[test]
    fn a_forked_remote_says_where_in_words() {
        let head = |seq, hash: &str| Head {
            seq,
            hash: hash.into(),
        };
        let mut e = SyncError::RemoteForked {
            stream: "s".into(),
            seq: 3,
            agreed: head(3, "ab"),
            remote: None,
        };
        assert_eq!(
            e.to_string(),
            "stream 's': the remote chain forked from the local one at or before seq 3 (both had agreed on seq 3 with hash ab; the remote no longer has the stream)"
        );
        if let SyncError::RemoteForked { remote, .. } = &mut e {
            *remote = Some(head(1, "cd"));
        }
        assert!(e.to_string().ends_with(
            "(both had agreed on seq 3 with hash ab; the remote ends at seq 1 with hash cd)"
        ));
    }
}
