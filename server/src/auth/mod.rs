//! Who is asking, and what they may do (docs/server.md, "Authentication").
//!
//! Two kinds of callers authenticate: operators and scripts with a
//! credential configured on the server ([`operators`]: bearer tokens and
//! BasicAuth users, stored hashed), and devices with their Ed25519 key
//! ([`sessions`]: a signed challenge exchanged for a short-lived bearer
//! token). The [`authenticate`] layer turns the `Authorization` header into
//! a [`Principal`] for the handlers; [`Auth`]'s checks then apply the
//! per-stream rule of [`access`]: an operator reads and appends everything,
//! a key reads the streams it is a member of and appends only events it
//! signed, to a new stream or one it is a member of.
//!
//! With no credential configured (and no `--require-auth`) authentication
//! is off: every request is [`Principal::Open`], as before; the server then
//! refuses a non-loopback `--addr` unless `--insecure`.

pub mod access;
pub mod operators;
pub mod sessions;

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine as _;
use petrichain::chain::Event;

use crate::error::ApiError;
use crate::routes::AppState;
use crate::storage::Storage;
use access::Access;
use operators::Operators;
use sessions::{Sessions, SignInError};

/// Who made a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// Authentication is off: anyone may do anything.
    Open,
    /// No credential presented (auth on).
    Anonymous,
    /// An operator credential, by its configured name.
    Operator(String),
    /// A device, by its Ed25519 public key (hex).
    Key(String),
}

/// The authentication settings and tables.
#[derive(Default)]
pub struct Auth {
    /// Whether requests must authenticate.
    pub enabled: bool,
    /// `--public-read`: anyone may read and list (writes still need a
    /// credential).
    pub public_read: bool,
    /// The operator credentials.
    pub operators: Operators,
    /// Device challenges and tokens.
    pub sessions: Sessions,
    /// Stream members.
    pub access: Access,
}

fn unauthenticated(message: &str) -> ApiError {
    ApiError::Unauthenticated(message.to_string())
}

impl Auth {
    /// Who `authorization` (the header's value, if any) names; `401` for a
    /// credential that is not valid (a wrong one is never taken for none).
    pub fn principal(&self, authorization: Option<&[u8]>) -> Result<Principal, ApiError> {
        if !self.enabled {
            return Ok(Principal::Open);
        }
        let Some(value) = authorization else {
            return Ok(Principal::Anonymous);
        };
        let value = std::str::from_utf8(value)
            .map_err(|_| unauthenticated("the Authorization header is not text"))?;
        let (scheme, rest) = value.trim().split_once(' ').unwrap_or((value, ""));
        let rest = rest.trim();
        if scheme.eq_ignore_ascii_case("bearer") {
            if let Some(name) = self.operators.token(rest.as_bytes()) {
                return Ok(Principal::Operator(name.to_string()));
            }
            if let Some(key) = self.sessions.key_of(rest.as_bytes()) {
                return Ok(Principal::Key(key));
            }
            return Err(unauthenticated(
                "unknown or expired bearer token; sign in again (POST /v2/auth/challenge)",
            ));
        }
        if scheme.eq_ignore_ascii_case("basic") {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(rest)
                .map_err(|_| unauthenticated("Basic credentials are not base64"))?;
            let text = std::str::from_utf8(&decoded)
                .map_err(|_| unauthenticated("Basic credentials are not UTF-8"))?;
            let (user, password) = text
                .split_once(':')
                .ok_or_else(|| unauthenticated("Basic credentials must be user:password"))?;
            return match self.operators.user(user, password.as_bytes()) {
                Some(name) => Ok(Principal::Operator(name.to_string())),
                None => Err(unauthenticated("wrong user name or password")),
            };
        }
        Err(unauthenticated(
            "unsupported Authorization scheme; use Bearer or Basic",
        ))
    }

    /// May `who` read every stream (operators, `--public-read`, auth off)?
    /// `401` for an anonymous caller that may not.
    pub fn reads_all(&self, who: &Principal) -> Result<bool, ApiError> {
        match who {
            Principal::Open | Principal::Operator(_) => Ok(true),
            _ if self.public_read => Ok(true),
            Principal::Key(_) => Ok(false),
            Principal::Anonymous => Err(unauthenticated(
                "this server needs authentication to read (see docs/server.md)",
            )),
        }
    }

    /// `403` unless `who` may read `stream` (a stream that does not exist
    /// passes: the handler answers 404).
    pub async fn check_read(
        &self,
        storage: &dyn Storage,
        who: &Principal,
        stream: &str,
    ) -> Result<(), ApiError> {
        if self.reads_all(who)? {
            return Ok(());
        }
        let Principal::Key(key) = who else {
            return Ok(());
        };
        match self.access.members(storage, stream).await? {
            Some(m) if !m.admits(key) => Err(ApiError::Forbidden(format!(
                "key {} is not a member of stream '{stream}'",
                short(key)
            ))),
            _ => Ok(()),
        }
    }

    /// Whether `who` sees `stream` in a listing.
    pub async fn lists(
        &self,
        storage: &dyn Storage,
        who: &Principal,
        stream: &str,
    ) -> Result<bool, ApiError> {
        if self.reads_all(who)? {
            return Ok(true);
        }
        let Principal::Key(key) = who else {
            return Ok(false);
        };
        Ok(self
            .access
            .members(storage, stream)
            .await?
            .is_some_and(|m| m.has(key)))
    }

    /// `401` for an anonymous write when auth is on.
    pub fn check_writer(&self, who: &Principal) -> Result<(), ApiError> {
        match who {
            Principal::Anonymous => Err(unauthenticated(
                "this server needs authentication to write (see docs/server.md)",
            )),
            _ => Ok(()),
        }
    }

    /// `403` unless `who` may push `events` to `stream`: a key pushes only
    /// events it signed, to a new stream or one it is a member of.
    pub async fn check_append(
        &self,
        storage: &dyn Storage,
        who: &Principal,
        stream: &str,
        events: &[Event],
    ) -> Result<(), ApiError> {
        self.check_writer(who)?;
        let Principal::Key(key) = who else {
            return Ok(());
        };
        if let Some(e) = events.iter().find(|e| &e.signer != key) {
            return Err(ApiError::Forbidden(format!(
                "event {} is signed by {}, not by the authenticated key {}: a device pushes \
                 only its own events",
                e.seq,
                short(&e.signer),
                short(key)
            )));
        }
        match self.access.members(storage, stream).await? {
            Some(m) if !m.admits(key) => Err(ApiError::Forbidden(format!(
                "key {} is not a member of stream '{stream}'",
                short(key)
            ))),
            _ => Ok(()),
        }
    }
}

/// The first 16 hex digits of a key, enough to tell keys apart in a message.
fn short(key: &str) -> String {
    key.chars().take(16).collect()
}

/// The layer: resolves the caller and stores it in the request's
/// extensions; `401` for a credential that does not check out.
pub async fn authenticate(
    State(state): State<Arc<AppState>>,
    mut req: Request,
    next: Next,
) -> Response {
    let header = req.headers().get(AUTHORIZATION).map(|v| v.as_bytes());
    match state.auth.principal(header) {
        Ok(who) => {
            req.extensions_mut().insert(who);
            next.run(req).await
        }
        Err(e) => e.into_response(),
    }
}

/// `POST /v2/auth/challenge` answer.
#[derive(serde::Serialize, serde::Deserialize, Debug)]
pub struct Challenge {
    /// 256 random bits, hex: sign [`sessions::auth_message`] of it.
    pub nonce: String,
    /// The prefix of the signed message, [`sessions::AUTH_CONTEXT`].
    pub context: String,
    /// Seconds the challenge may be answered.
    pub expires_in: u64,
}

/// `POST /v2/auth/token` request.
#[derive(serde::Deserialize, Debug)]
pub struct TokenRequest {
    /// The device's Ed25519 public key, hex.
    pub key: String,
    /// The challenge's nonce.
    pub nonce: String,
    /// The signature of `context + nonce`, hex.
    pub sig: String,
}

/// `POST /v2/auth/token` answer.
#[derive(serde::Serialize, serde::Deserialize, Debug)]
pub struct TokenAnswer {
    /// The bearer token (send `Authorization: Bearer TOKEN`).
    pub token: String,
    /// The key it stands for.
    pub key: String,
    /// Seconds it is valid.
    pub expires_in: u64,
}

fn sign_in_error(e: SignInError) -> ApiError {
    match e {
        SignInError::Refused(m) => ApiError::Unauthenticated(m),
        SignInError::Full(m) => ApiError::Overloaded(m),
    }
}

/// `POST /v2/auth/challenge`.
pub async fn challenge(State(app): State<Arc<AppState>>) -> Result<Json<Challenge>, ApiError> {
    let nonce = app.auth.sessions.challenge().map_err(sign_in_error)?;
    Ok(Json(Challenge {
        nonce,
        context: sessions::AUTH_CONTEXT.to_string(),
        expires_in: sessions::CHALLENGE_TTL.as_secs(),
    }))
}

/// `POST /v2/auth/token`.
pub async fn token(
    State(app): State<Arc<AppState>>,
    headers: axum::http::HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<TokenAnswer>, ApiError> {
    crate::routes::require_json(&headers)?;
    let req: TokenRequest = crate::routes::json_body(body)?;
    let token = app
        .auth
        .sessions
        .sign_in(&req.key, &req.nonce, &req.sig)
        .map_err(sign_in_error)?;
    Ok(Json(TokenAnswer {
        token,
        key: req.key.to_ascii_lowercase(),
        expires_in: app.auth.sessions.token_ttl.as_secs(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth() -> Auth {
        let text = format!(
            "token ci sha256:{}\nuser alice sha256:{}\n",
            hex::encode(operators::digest(b"tok")),
            hex::encode(operators::digest(b"p/w?"))
        );
        Auth {
            enabled: true,
            operators: Operators::parse(&text).unwrap(),
            ..Auth::default()
        }
    }

    #[test]
    fn the_header_names_the_caller() {
        let a = auth();
        assert_eq!(a.principal(None).unwrap(), Principal::Anonymous);
        assert_eq!(
            a.principal(Some(b"Bearer tok")).unwrap(),
            Principal::Operator("ci".into())
        );
        let basic = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("alice:p/w?")
        );
        assert_eq!(
            a.principal(Some(basic.as_bytes())).unwrap(),
            Principal::Operator("alice".into())
        );
        for bad in [
            &b"Bearer nope"[..],
            b"Basic !!!",
            b"Basic YWxpY2U6d3Jvbmc=",
            b"Digest x",
            b"\xff",
        ] {
            assert_eq!(
                a.principal(Some(bad)).unwrap_err().code(),
                "UNAUTHENTICATED"
            );
        }
        let off = Auth::default();
        assert_eq!(off.principal(Some(b"Bearer x")).unwrap(), Principal::Open);
    }

    #[test]
    fn anonymous_callers_read_only_with_public_read() {
        let mut a = auth();
        assert!(a.reads_all(&Principal::Anonymous).is_err());
        assert!(!a.reads_all(&Principal::Key("k".into())).unwrap());
        assert!(a.check_writer(&Principal::Anonymous).is_err());
        a.public_read = true;
        assert!(a.reads_all(&Principal::Anonymous).unwrap());
        assert!(a.check_writer(&Principal::Anonymous).is_err());
    }
}
