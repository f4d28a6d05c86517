//! Device-key sign-in: single-use challenges and the short-lived bearer
//! tokens they are exchanged for. Both tables are bounded; tokens are kept
//! by their SHA-256 only, so the table (or a memory dump) never holds one.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use ed25519_dalek::{Signature, VerifyingKey};

use super::operators::digest;

pub use petrichain::sync::protocol::{auth_message, AUTH_CONTEXT};

/// How long a challenge may be answered.
pub const CHALLENGE_TTL: Duration = Duration::from_secs(60);

/// How long a device token is valid when `--token-ttl` is not given.
pub const DEFAULT_TOKEN_TTL: Duration = Duration::from_secs(15 * 60);

/// Most challenges outstanding at once (more: `503 OVERLOADED`).
pub const MAX_CHALLENGES: usize = 10_000;

/// Most device tokens valid at once (more: `503 OVERLOADED`).
pub const MAX_TOKENS: usize = 100_000;

/// Why a sign-in failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignInError {
    /// Unknown, used or expired challenge, bad key or bad signature (401).
    Refused(String),
    /// A table is full (503).
    Full(String),
}

/// Outstanding challenges and valid tokens.
pub struct Sessions {
    /// How long a token is valid.
    pub token_ttl: Duration,
    /// By nonce (hex): when it expires.
    challenges: Mutex<HashMap<String, Instant>>,
    /// By SHA-256 of the token: the key (hex) and when it expires.
    tokens: Mutex<HashMap<[u8; 32], (String, Instant)>>,
}

impl Default for Sessions {
    fn default() -> Self {
        Sessions {
            token_ttl: DEFAULT_TOKEN_TTL,
            challenges: Mutex::default(),
            tokens: Mutex::default(),
        }
    }
}

fn random_hex() -> Result<String, SignInError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| SignInError::Full(format!("the OS random generator failed: {e}")))?;
    Ok(hex::encode(bytes))
}

impl Sessions {
    /// A fresh challenge nonce (256 random bits, hex), valid
    /// [`CHALLENGE_TTL`], answerable once.
    pub fn challenge(&self) -> Result<String, SignInError> {
        let nonce = random_hex()?;
        let now = Instant::now();
        let mut table = self.challenges.lock().unwrap_or_else(|e| e.into_inner());
        if table.len() >= MAX_CHALLENGES {
            table.retain(|_, expiry| *expiry > now);
        }
        if table.len() >= MAX_CHALLENGES {
            return Err(SignInError::Full(format!(
                "{MAX_CHALLENGES} sign-in challenges are outstanding; retry in a minute"
            )));
        }
        table.insert(nonce.clone(), now + CHALLENGE_TTL);
        Ok(nonce)
    }

    /// Checks `sig` (hex) by `key` (hex) over [`auth_message`] of `nonce`,
    /// consuming the challenge whatever the outcome; on success a new
    /// token (hex) valid `token_ttl`.
    pub fn sign_in(&self, key: &str, nonce: &str, sig: &str) -> Result<String, SignInError> {
        let refused = |m: &str| SignInError::Refused(m.to_string());
        let expiry = {
            let mut table = self.challenges.lock().unwrap_or_else(|e| e.into_inner());
            table.remove(nonce)
        };
        match expiry {
            Some(t) if t > Instant::now() => {}
            Some(_) => return Err(refused("the challenge expired; ask for a new one")),
            None => {
                return Err(refused(
                    "unknown or already used challenge; ask for a new one",
                ))
            }
        }
        let mut key_bytes = [0u8; 32];
        hex::decode_to_slice(key, &mut key_bytes)
            .map_err(|_| refused("key must be an Ed25519 public key, 64 hex digits"))?;
        let mut sig_bytes = [0u8; 64];
        hex::decode_to_slice(sig, &mut sig_bytes)
            .map_err(|_| refused("sig must be an Ed25519 signature, 128 hex digits"))?;
        let verifying = VerifyingKey::from_bytes(&key_bytes)
            .map_err(|_| refused("key is not a valid Ed25519 public key"))?;
        if verifying.is_weak() {
            return Err(refused("key is a small-order Ed25519 point"));
        }
        verifying
            .verify_strict(&auth_message(nonce), &Signature::from_bytes(&sig_bytes))
            .map_err(|_| refused("the signature does not verify for this key and challenge"))?;
        let token = random_hex()?;
        let now = Instant::now();
        let mut table = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        if table.len() >= MAX_TOKENS {
            table.retain(|_, (_, expiry)| *expiry > now);
        }
        if table.len() >= MAX_TOKENS {
            return Err(SignInError::Full(format!(
                "{MAX_TOKENS} device tokens are valid; retry later"
            )));
        }
        table.insert(
            digest(token.as_bytes()),
            (hex::encode(key_bytes), now + self.token_ttl),
        );
        Ok(token)
    }

    /// The key (hex) a valid device token stands for; `None` if unknown or
    /// expired (an expired one is dropped).
    pub fn key_of(&self, token: &[u8]) -> Option<String> {
        let h = digest(token);
        let mut table = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        match table.get(&h) {
            Some((key, expiry)) if *expiry > Instant::now() => Some(key.clone()),
            Some(_) => {
                table.remove(&h);
                None
            }
            None => None,
        }
    }

    /// Test support: makes every token and challenge expire now.
    #[doc(hidden)]
    pub fn expire_all(&self) {
        let past = Instant::now();
        for (_, t) in self
            .tokens
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter_mut()
        {
            t.1 = past;
        }
        for (_, t) in self
            .challenges
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter_mut()
        {
            *t = past;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use petrichain::chain::SoftwareKey;

    fn sign(key: &SoftwareKey, nonce: &str) -> String {
        hex::encode(key.sign_now(&auth_message(nonce)))
    }

    #[test]
    fn a_signed_challenge_buys_a_token_once() {
        let s = Sessions::default();
        let key = SoftwareKey::from_seed(&[3; 32]);
        let pk = hex::encode(petrichain::chain::Device::public_key(&key));
        let nonce = s.challenge().unwrap();
        let token = s.sign_in(&pk, &nonce, &sign(&key, &nonce)).unwrap();
        assert_eq!(token.len(), 64);
        assert_eq!(s.key_of(token.as_bytes()), Some(pk.clone()));
        assert_eq!(s.key_of(b"nope"), None);
        // Single use.
        assert!(matches!(
            s.sign_in(&pk, &nonce, &sign(&key, &nonce)),
            Err(SignInError::Refused(_))
        ));
        s.expire_all();
        assert_eq!(s.key_of(token.as_bytes()), None);
    }

    #[test]
    fn wrong_key_signature_or_context_is_refused() {
        let s = Sessions::default();
        let key = SoftwareKey::from_seed(&[3; 32]);
        let other = SoftwareKey::from_seed(&[4; 32]);
        let pk = hex::encode(petrichain::chain::Device::public_key(&key));
        for sig in [
            sign(&other, "x"),
            "zz".to_string(),
            hex::encode(key.sign_now(&petrichain::chain::signed_message(&"0".repeat(64)))),
        ] {
            let nonce = s.challenge().unwrap();
            let sig = if sig == sign(&other, "x") {
                sign(&other, &nonce)
            } else {
                sig
            };
            assert!(matches!(
                s.sign_in(&pk, &nonce, &sig),
                Err(SignInError::Refused(_))
            ));
        }
        // An event signature over the nonce text is not a sign-in one.
        let nonce = s.challenge().unwrap();
        let event_sig = hex::encode(key.sign_now(&petrichain::chain::signed_message(&nonce)));
        assert!(s.sign_in(&pk, &nonce, &event_sig).is_err());
        let nonce = s.challenge().unwrap();
        s.expire_all();
        assert!(s.sign_in(&pk, &nonce, &sign(&key, &nonce)).is_err());
    }
}
