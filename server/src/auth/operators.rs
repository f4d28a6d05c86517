//! Operator credentials: bearer tokens and BasicAuth users configured on
//! the server for operators and scripts (`--auth-file`, or the
//! [`CREDENTIALS_ENV`] variable; never a command-line value, which any
//! local user could read in `ps`).
//!
//! The file holds only SHA-256 hashes of the secrets, one credential a line:
//!
//! ```text
//! # kind name sha256:hex-of-the-secret
//! token deploy-script sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
//! user alice sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824
//! ```
//!
//! A presented secret is hashed and compared with every stored hash of its
//! kind in constant time ([`subtle`]). Unsalted SHA-256 is only safe for
//! high-entropy secrets: generate tokens and passwords (e.g.
//! `openssl rand -hex 32`), never reuse a human password.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The environment variable that may hold the credentials (same lines as
/// the file; used when `--auth-file` is not given).
pub const CREDENTIALS_ENV: &str = "PETRICHAIN_SERVER_CREDENTIALS";

/// Most credentials one file may hold.
pub const MAX_CREDENTIALS: usize = 10_000;

/// Longest credential name, in bytes.
pub const MAX_NAME_BYTES: usize = 128;

/// The configured operator credentials (hashes only).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Operators {
    tokens: Vec<(String, [u8; 32])>,
    users: Vec<(String, [u8; 32])>,
}

/// Never prints a hash: only how many credentials there are.
impl std::fmt::Debug for Operators {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Operators({} tokens, {} users)",
            self.tokens.len(),
            self.users.len()
        )
    }
}

/// SHA-256 of a secret.
pub fn digest(secret: &[u8]) -> [u8; 32] {
    Sha256::digest(secret).into()
}

impl Operators {
    /// Parses the credentials text; the error names the line (never its
    /// secret part).
    pub fn parse(text: &str) -> Result<Operators, String> {
        let mut ops = Operators::default();
        for (i, line) in text.lines().enumerate() {
            let n = i + 1;
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let parts: Vec<&str> = line.split_whitespace().collect();
            let [kind, name, hash] = parts[..] else {
                return Err(format!(
                    "line {n}: expected `token NAME sha256:HEX` or `user NAME sha256:HEX`"
                ));
            };
            if name.len() > MAX_NAME_BYTES || name.contains(':') {
                return Err(format!(
                    "line {n}: a name is at most {MAX_NAME_BYTES} bytes, without `:`"
                ));
            }
            let list = match kind {
                "token" => &mut ops.tokens,
                "user" => &mut ops.users,
                other => {
                    let shown: String = other.chars().take(20).collect();
                    return Err(format!(
                        "line {n}: unknown kind {shown:?}, expected token or user"
                    ));
                }
            };
            let hex_part = hash.strip_prefix("sha256:").ok_or_else(|| {
                format!(
                    "line {n}: the secret must be given as sha256:HEX (its SHA-256, 64 hex \
                     digits), never in clear"
                )
            })?;
            let mut h = [0u8; 32];
            hex::decode_to_slice(hex_part, &mut h)
                .map_err(|_| format!("line {n}: sha256: must be followed by 64 hex digits"))?;
            if list.iter().any(|(existing, _)| existing == name) {
                return Err(format!("line {n}: {kind} {name} is given twice"));
            }
            list.push((name.to_string(), h));
            if ops.tokens.len() + ops.users.len() > MAX_CREDENTIALS {
                return Err(format!("more than {MAX_CREDENTIALS} credentials"));
            }
        }
        Ok(ops)
    }

    /// No credential configured.
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty() && self.users.is_empty()
    }

    /// The name of the operator token `secret`, if it is one. Every stored
    /// hash is compared (constant time each), match or not.
    pub fn token(&self, secret: &[u8]) -> Option<&str> {
        find(&self.tokens, None, secret)
    }

    /// Whether `user` / `password` is a configured BasicAuth user; its
    /// name then.
    pub fn user(&self, user: &str, password: &[u8]) -> Option<&str> {
        find(&self.users, Some(user), password)
    }
}

fn find<'a>(list: &'a [(String, [u8; 32])], name: Option<&str>, secret: &[u8]) -> Option<&'a str> {
    let presented = digest(secret);
    let mut found = None;
    for (n, h) in list {
        let same: bool = h.ct_eq(&presented).into();
        if same && name.is_none_or(|want| want == n) {
            found = Some(n.as_str());
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(kind: &str, name: &str, secret: &str) -> String {
        format!(
            "{kind} {name} sha256:{}\n",
            hex::encode(digest(secret.as_bytes()))
        )
    }

    #[test]
    fn tokens_and_users_match_by_hash() {
        let text = format!(
            "# operators\n\n{}{}",
            line("token", "ci", "tok-1"),
            line("user", "alice", "pw/with?odd")
        );
        let ops = Operators::parse(&text).unwrap();
        assert_eq!(ops.token(b"tok-1"), Some("ci"));
        assert_eq!(ops.token(b"tok-2"), None);
        assert_eq!(ops.token(b"pw/with?odd"), None, "a password is not a token");
        assert_eq!(ops.user("alice", b"pw/with?odd"), Some("alice"));
        assert_eq!(ops.user("bob", b"pw/with?odd"), None);
        assert_eq!(ops.user("alice", b"tok-1"), None);
        assert!(!format!("{ops:?}").contains(&hex::encode(digest(b"tok-1"))));
    }

    #[test]
    fn bad_lines_are_named_without_their_secret() {
        for (text, needle) in [
            ("token ci hunter2", "never in clear"),
            ("token ci", "expected `token NAME"),
            ("key ci sha256:00", "unknown kind"),
            ("token ci sha256:zz", "64 hex digits"),
        ] {
            let e = Operators::parse(text).unwrap_err();
            assert!(e.contains(needle) && e.contains("line 1"), "{text}: {e}");
            assert!(!e.contains("hunter2"), "{e}");
        }
        let twice = format!("{}{}", line("user", "a", "x"), line("user", "a", "y"));
        assert!(Operators::parse(&twice).unwrap_err().contains("twice"));
        assert!(Operators::parse("").unwrap().is_empty());
    }
}
