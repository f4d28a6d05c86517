//! The one error type of the server, rendered as the protocol's JSON error
//! (`{"code", "message", ...}`, docs/sync-protocol.md) with its HTTP status.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use petrichain::chain::ChainError;
use petrichain::sync::protocol::{ErrorBody, Head, PROTOCOL_VERSION};

/// Anything a request can fail with. Every variant maps to one protocol
/// code and status; none of them panics or leaks a Rust debug dump.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ApiError {
    /// 400: the body is not JSON of the expected shape.
    MalformedJson(String),
    /// 400: a bad query parameter, path or field.
    BadRequest(String),
    /// 400: a model whose SHA-256 is not its id.
    ModelIdMismatch(String),
    /// 404: no model with this id.
    ModelNotFound(String),
    /// 404: no stream with this id.
    StreamNotFound(String),
    /// 404: no such route or file.
    NotFound(String),
    /// 405: the route exists, the method does not.
    MethodNotAllowed,
    /// 410: a path of an older protocol version (named); this server speaks
    /// [`PROTOCOL_VERSION`] only.
    ProtocolVersion(String),
    /// 409: the conditional append lost the race; carries the current head.
    HeadMismatch(Head),
    /// 413: the body is above the server's limit.
    TooLarge(String),
    /// 422: an event is invalid; the batch was refused.
    InvalidEvent {
        /// Seq of the first bad event.
        seq: u64,
        /// The chain error, with its own `code`.
        reason: serde_json::Value,
        /// Human text.
        message: String,
    },
    /// 422: a model that does not validate.
    InvalidModel {
        /// The validation problems.
        problems: serde_json::Value,
        /// Human text.
        message: String,
    },
    /// 403: this server takes no new models (`--no-model-uploads`).
    ModelUploadsClosed(String),
    /// 403: a write from a page of an origin not in the CORS list.
    ForbiddenOrigin(String),
    /// 401: no valid credential, and this request needs one (sent with
    /// `WWW-Authenticate: Bearer`).
    Unauthenticated(String),
    /// 403: the authenticated caller may not do this (docs/server.md,
    /// "Authentication").
    Forbidden(String),
    /// 415: a write whose body is not declared `application/json`.
    UnsupportedMediaType(String),
    /// 421: a `Host` this server does not answer for (DNS rebinding).
    MisdirectedHost(String),
    /// 408: the request body did not arrive within `--body-timeout`.
    Timeout(String),
    /// 503: a limit on concurrent work (connections, live listeners) is
    /// reached; retry later.
    Overloaded(String),
    /// 500: a stream's storage was changed behind the server's back (its
    /// stored head is not what its last event says, or, with
    /// `--check-storage full`, its chain does not replay); the stream is
    /// no longer served.
    StorageAltered {
        /// The stream.
        stream: String,
        /// What the check found.
        reason: String,
    },
    /// 500: storage or another internal failure (details go to the log).
    Internal(String),
}

impl ApiError {
    /// The protocol code, e.g. `HEAD_MISMATCH`.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::MalformedJson(_) => "MALFORMED_JSON",
            ApiError::BadRequest(_) => "BAD_REQUEST",
            ApiError::ModelIdMismatch(_) => "MODEL_ID_MISMATCH",
            ApiError::ModelNotFound(_) => "MODEL_NOT_FOUND",
            ApiError::StreamNotFound(_) => "STREAM_NOT_FOUND",
            ApiError::NotFound(_) => "NOT_FOUND",
            ApiError::MethodNotAllowed => "METHOD_NOT_ALLOWED",
            ApiError::HeadMismatch(_) => "HEAD_MISMATCH",
            ApiError::ProtocolVersion(_) => "PROTOCOL_VERSION",
            ApiError::TooLarge(_) => "TOO_LARGE",
            ApiError::InvalidEvent { .. } => "INVALID_EVENT",
            ApiError::InvalidModel { .. } => "INVALID_MODEL",
            ApiError::ForbiddenOrigin(_) => "FORBIDDEN_ORIGIN",
            ApiError::Unauthenticated(_) => "UNAUTHENTICATED",
            ApiError::Forbidden(_) => "FORBIDDEN",
            ApiError::ModelUploadsClosed(_) => "MODEL_UPLOADS_CLOSED",
            ApiError::UnsupportedMediaType(_) => "UNSUPPORTED_MEDIA_TYPE",
            ApiError::MisdirectedHost(_) => "MISDIRECTED_HOST",
            ApiError::Timeout(_) => "TIMEOUT",
            ApiError::Overloaded(_) => "OVERLOADED",
            ApiError::StorageAltered { .. } => "STORAGE_ALTERED",
            ApiError::Internal(_) => "INTERNAL",
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::MalformedJson(_) | ApiError::BadRequest(_) | ApiError::ModelIdMismatch(_) => {
                StatusCode::BAD_REQUEST
            }
            ApiError::ModelNotFound(_) | ApiError::StreamNotFound(_) | ApiError::NotFound(_) => {
                StatusCode::NOT_FOUND
            }
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::HeadMismatch(_) => StatusCode::CONFLICT,
            ApiError::ProtocolVersion(_) => StatusCode::GONE,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::InvalidEvent { .. } | ApiError::InvalidModel { .. } => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            ApiError::ForbiddenOrigin(_)
            | ApiError::ModelUploadsClosed(_)
            | ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::MisdirectedHost(_) => StatusCode::MISDIRECTED_REQUEST,
            ApiError::Timeout(_) => StatusCode::REQUEST_TIMEOUT,
            ApiError::Overloaded(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::StorageAltered { .. } | ApiError::Internal(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }

    /// The JSON body.
    pub fn body(&self) -> ErrorBody {
        let mut body = ErrorBody {
            code: self.code().to_string(),
            message: String::new(),
            head: None,
            seq: None,
            reason: None,
            problems: None,
        };
        body.message = match self {
            ApiError::MalformedJson(m)
            | ApiError::BadRequest(m)
            | ApiError::ModelIdMismatch(m)
            | ApiError::NotFound(m)
            | ApiError::TooLarge(m)
            | ApiError::Timeout(m)
            | ApiError::ForbiddenOrigin(m)
            | ApiError::Unauthenticated(m)
            | ApiError::Forbidden(m)
            | ApiError::ModelUploadsClosed(m)
            | ApiError::UnsupportedMediaType(m)
            | ApiError::MisdirectedHost(m)
            | ApiError::Overloaded(m) => m.clone(),
            ApiError::ModelNotFound(id) => {
                format!("no model {id} on this server; PUT /{PROTOCOL_VERSION}/models/{id} first")
            }
            ApiError::StreamNotFound(id) => format!("no stream '{id}' on this server"),
            ApiError::MethodNotAllowed => "method not allowed on this path".into(),
            ApiError::ProtocolVersion(old) => format!(
                "sync protocol {old} is gone: this server speaks protocol {PROTOCOL_VERSION} \
                 (chain format v2, signed events) under /{PROTOCOL_VERSION}/; \
                 upgrade the client and push its upgraded chains there"
            ),
            ApiError::HeadMismatch(head) => {
                body.head = Some(head.clone());
                format!(
                    "the stream's head moved: it is now seq {} ({}); pull, rebase and retry",
                    head.seq, head.hash
                )
            }
            ApiError::InvalidEvent {
                seq,
                reason,
                message,
            } => {
                body.seq = Some(*seq);
                body.reason = Some(reason.clone());
                format!("event {seq} refused, nothing stored: {message}")
            }
            ApiError::InvalidModel { problems, message } => {
                body.problems = Some(problems.clone());
                message.clone()
            }
            ApiError::StorageAltered { stream, reason } => format!(
                "the storage of stream '{stream}' was altered behind the server's back \
                 ({reason}); it is not served until it is repaired (petrichain-server verify)"
            ),
            ApiError::Internal(_) => "internal server error (see the server log)".into(),
        };
        body
    }

    /// The JSON body as text (for answers written outside axum).
    pub fn json_text(&self) -> String {
        serde_json::to_string(&self.body())
            .unwrap_or_else(|_| format!(r#"{{"code":"{}","message":""}}"#, self.code()))
    }

    /// An invalid event found by the chain verifier.
    pub fn invalid_event(err: &ChainError, fallback_seq: u64) -> ApiError {
        ApiError::InvalidEvent {
            seq: err.seq().unwrap_or(fallback_seq),
            reason: serde_json::to_value(err).unwrap_or_else(
                |_| serde_json::json!({ "code": err.code(), "message": err.to_string() }),
            ),
            message: err.to_string(),
        }
    }
}

/// The JSON error for a bare `status` that no handler explained (hyper's
/// own answers to requests it cannot parse, a layer's refusal): a code
/// named after the status and its reason phrase.
pub fn status_body(status: StatusCode) -> ErrorBody {
    let (code, message) = match status.as_u16() {
        400 => ("BAD_REQUEST", "the request is not valid HTTP"),
        404 => ("NOT_FOUND", "no such file or route"),
        405 => ("METHOD_NOT_ALLOWED", "method not allowed on this path"),
        408 => ("TIMEOUT", "the request did not arrive in time"),
        413 => ("TOO_LARGE", "request body is above this server's limit"),
        414 => ("URI_TOO_LONG", "the request target is too long"),
        431 => (
            "HEADERS_TOO_LARGE",
            "the request's header fields are too large",
        ),
        503 => ("OVERLOADED", "the server is busy; retry later"),
        s if s >= 500 => ("INTERNAL", "internal server error (see the server log)"),
        _ => (
            "HTTP_ERROR",
            status.canonical_reason().unwrap_or("request refused"),
        ),
    };
    ErrorBody {
        code: code.into(),
        message: message.into(),
        head: None,
        seq: None,
        reason: None,
        problems: None,
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ApiError::Internal(detail) => write!(f, "INTERNAL: {detail}"),
            other => write!(f, "{}: {}", other.code(), other.body().message),
        }
    }
}

impl std::error::Error for ApiError {}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(detail) = &self {
            tracing::error!("internal error: {detail}");
        }
        if let ApiError::StorageAltered { stream, reason } = &self {
            tracing::error!("stream {stream}: storage altered: {reason}");
        }
        let challenge = matches!(self, ApiError::Unauthenticated(_));
        let mut response = (self.status(), Json(self.body())).into_response();
        if challenge {
            // Bearer, not Basic: Basic would make a browser pop up its own
            // password dialog over the app.
            response.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer realm=\"petrichain\""),
            );
        }
        response
    }
}

impl From<rusqlite::Error> for ApiError {
    fn from(e: rusqlite::Error) -> Self {
        ApiError::Internal(format!("sqlite: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn head_mismatch_carries_the_head() {
        let e = ApiError::HeadMismatch(Head::zero());
        assert_eq!(e.status(), StatusCode::CONFLICT);
        let v = serde_json::to_value(e.body()).unwrap();
        assert_eq!(v["code"], "HEAD_MISMATCH");
        assert_eq!(v["head"]["seq"], 0);
        assert!(v.get("seq").is_none());
    }

    #[test]
    fn invalid_event_carries_seq_and_reason() {
        let err = ChainError::BrokenLink {
            stream: "s".into(),
            seq: 4,
            prev: "a".into(),
            expected: "b".into(),
        };
        let e = ApiError::invalid_event(&err, 1);
        let v = serde_json::to_value(e.body()).unwrap();
        assert_eq!(v["seq"], 4);
        assert_eq!(v["reason"]["code"], "BROKEN_LINK");
        assert_eq!(e.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }

    #[test]
    fn an_old_protocol_is_gone_and_names_the_current_one() {
        let e = ApiError::ProtocolVersion("v1".into());
        assert_eq!(
            (e.status(), e.code()),
            (StatusCode::GONE, "PROTOCOL_VERSION")
        );
        let v = serde_json::to_value(e.body()).unwrap();
        assert_eq!(v["code"], "PROTOCOL_VERSION");
        let message = v["message"].as_str().unwrap();
        assert!(
            message.contains("/v2/") && message.contains("v1"),
            "{message}"
        );
    }

    #[test]
    fn internal_details_stay_in_the_log() {
        let body = ApiError::Internal("disk I/O error at /secret/path".into()).body();
        assert!(!body.message.contains("/secret"));
    }
}
