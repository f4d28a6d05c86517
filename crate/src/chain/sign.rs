//! Device keys and event signatures (Ed25519).
//!
//! Every event names its `signer` (an Ed25519 public key) and carries `sig`,
//! the signature of [`signed_message`]: the ASCII text
//! `petrichain:event:v2:` followed by the event's hash in hex. The context
//! prefix keeps a device's event signatures from being taken for anything
//! else it signs. The hash covers every field but `hash` and `sig`
//! (stream, seq, prev and nonce included), so a signature never fits
//! another event. An event may go without `sig` when the next event has
//! the same signer: the next signature covers it through `prev` (a
//! signature run, at most [`MAX_RUN`] events; see [`super::Verifier`]).
//!
//! Where keys live is the edge's business: [`Device`] is what the ledger
//! needs (a public key, random bytes, signatures). [`SoftwareKey`] is the
//! native one (ed25519-dalek); the browser's is a non-extractable WebCrypto
//! key (petrichain-web).
//!
//! Verification in bulk goes through [`SignatureBatch`], one
//! multi-scalar multiplication for many signatures, several times cheaper
//! per signature than one check each. It is ed25519-dalek's `verify_batch`
//! equation, `(-Σ z_i s_i) B + Σ z_i R_i + Σ (z_i h_i) A_i = 0` with random
//! 128-bit `z_i` derived from every input (as dalek derives them), with
//! the terms of each signer added up first: `Σ_i (z_i h_i) A = (Σ_i z_i h_i) A`,
//! so a chain of one signer costs a multiplication of n + 2 points instead
//! of 2n + 1 (a stream's events mostly share their signer; BENCHMARKS.md,
//! "Keyed places (issue 14)", gives the gain in wasm).
//! When a batch fails, each of its signatures is checked alone (strict
//! RFC 8032 checks, small-order keys refused) to name the first bad seq.

use std::future::Future;
use std::pin::Pin;

use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};

use super::{ChainError, Event};

/// What a device signature signs: this prefix, then the event hash in hex.
pub const SIGNING_CONTEXT: &str = "petrichain:event:v2:";

/// Length of [`signed_message`]: the prefix and 64 hex digits.
pub const SIGNED_MESSAGE_LEN: usize = SIGNING_CONTEXT.len() + 64;

/// Most events in one signature run: consecutive events of one signer of
/// which only the last carries `sig` (docs/chain-format.md, "Signature
/// runs"). A ledger's batch of appends signs its last event and every
/// 1,000th, so its runs never exceed this; a verifier refuses longer ones,
/// which bounds what anyone has to hold before a signature settles it.
pub const MAX_RUN: u64 = 1000;

/// The bytes a signer signs for an event whose hash is `hash` (hex).
pub fn signed_message(hash: &str) -> Vec<u8> {
    let mut m = Vec::with_capacity(SIGNED_MESSAGE_LEN);
    m.extend_from_slice(SIGNING_CONTEXT.as_bytes());
    m.extend_from_slice(hash.as_bytes());
    m
}

/// A boxed future, as [`Device::sign`] returns (devices are used from one
/// thread: a browser tab, or a task of the server).
pub type DeviceFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, ChainError>> + 'a>>;

/// The key a ledger signs its events with, and its source of randomness.
///
/// The private key never has to leave the device: the ledger only asks for
/// signatures. Implementations: [`SoftwareKey`] (native), and in the browser
/// a non-extractable WebCrypto `CryptoKey` kept in IndexedDB.
pub trait Device {
    /// The Ed25519 public key, 32 bytes.
    fn public_key(&self) -> [u8; 32];
    /// Fills `out` from a cryptographically secure random generator (the
    /// platform's: the OS, or `crypto.getRandomValues`).
    fn random(&self, out: &mut [u8]) -> Result<(), ChainError>;
    /// Signs each message (see [`signed_message`]), in order.
    fn sign<'a>(&'a self, messages: &'a [Vec<u8>]) -> DeviceFuture<'a, Vec<[u8; 64]>>;
}

/// An Ed25519 key held in memory (ed25519-dalek): for native ledgers, the
/// server's tests and tools. Zeroed on drop.
pub struct SoftwareKey {
    key: SigningKey,
}

impl SoftwareKey {
    /// The key with this 32-byte secret seed (RFC 8032 private key).
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        SoftwareKey {
            key: SigningKey::from_bytes(seed),
        }
    }

    /// A new random key from the OS generator.
    #[cfg(feature = "os-rng")]
    pub fn generate() -> Result<Self, ChainError> {
        let mut seed = [0u8; 32];
        os_random(&mut seed)?;
        Ok(Self::from_seed(&seed))
    }

    /// Signs `message` now (the [`Device`] method does the same, boxed).
    pub fn sign_now(&self, message: &[u8]) -> [u8; 64] {
        self.key.sign(message).to_bytes()
    }
}

impl std::fmt::Debug for SoftwareKey {
    // Never print the secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SoftwareKey")
            .field("public", &hex::encode(self.public_key()))
            .finish_non_exhaustive()
    }
}

#[cfg(feature = "os-rng")]
fn os_random(out: &mut [u8]) -> Result<(), ChainError> {
    getrandom::fill(out).map_err(|e| ChainError::Device {
        message: format!("the OS random generator failed: {e}"),
    })
}

impl Device for SoftwareKey {
    fn public_key(&self) -> [u8; 32] {
        self.key.verifying_key().to_bytes()
    }

    #[cfg(feature = "os-rng")]
    fn random(&self, out: &mut [u8]) -> Result<(), ChainError> {
        os_random(out)
    }

    #[cfg(not(feature = "os-rng"))]
    fn random(&self, _out: &mut [u8]) -> Result<(), ChainError> {
        Err(ChainError::Device {
            message: "no random generator: build petrichain with the os-rng feature".into(),
        })
    }

    fn sign<'a>(&'a self, messages: &'a [Vec<u8>]) -> DeviceFuture<'a, Vec<[u8; 64]>> {
        let sigs = messages.iter().map(|m| self.sign_now(m)).collect();
        Box::pin(std::future::ready(Ok(sigs)))
    }
}

/// Checks `e`'s own signature now (strict RFC 8032 check): `BAD_SIGNATURE`
/// if it is missing, malformed or not `signer`'s signature of the hash.
pub(crate) fn check_signature(e: &Event) -> Result<(), ChainError> {
    let mut one = SignatureBatch::new(&e.stream);
    one.push(e)?;
    one.check()
}

/// Signatures waiting to be checked together.
#[derive(Default)]
pub(crate) struct SignatureBatch {
    /// Distinct signers seen, decoded once.
    keys: Vec<([u8; 32], VerifyingKey)>,
    messages: Vec<Vec<u8>>,
    signatures: Vec<Signature>,
    signers: Vec<usize>,
    seqs: Vec<u64>,
    stream: String,
}

/// Signatures checked per multi-scalar multiplication.
pub(crate) const BATCH: usize = 2048;

impl SignatureBatch {
    pub fn new(stream: &str) -> Self {
        SignatureBatch {
            stream: stream.to_string(),
            ..Default::default()
        }
    }

    pub fn len(&self) -> usize {
        self.seqs.len()
    }

    fn bad(&self, seq: u64, signer: &str, message: &str) -> ChainError {
        ChainError::BadSignature {
            stream: self.stream.clone(),
            seq,
            signer: signer.to_string(),
            message: message.to_string(),
            unsigned_from: None,
            reason: None,
        }
    }

    /// Queues the signature of `e` (whose hash has been checked). Fails at
    /// once if the signer or signature is missing or cannot be decoded.
    pub fn push(&mut self, e: &Event) -> Result<(), ChainError> {
        let mut pk = [0u8; 32];
        if !super::event::is_hex(&e.signer, 64) || hex::decode_to_slice(&e.signer, &mut pk).is_err()
        {
            return Err(self.bad(e.seq, &e.signer, "signer is not 64 lowercase hex digits"));
        }
        let mut sig = [0u8; 64];
        if e.sig.is_empty() {
            return Err(self.bad(e.seq, &e.signer, "the event is not signed"));
        }
        if !super::event::is_hex(&e.sig, 128) || hex::decode_to_slice(&e.sig, &mut sig).is_err() {
            return Err(self.bad(e.seq, &e.signer, "sig is not 128 lowercase hex digits"));
        }
        let index = match self.keys.iter().position(|(k, _)| *k == pk) {
            Some(i) => i,
            None => {
                let vk = VerifyingKey::from_bytes(&pk)
                    .map_err(|_| self.bad(e.seq, &e.signer, "signer is not an Ed25519 key"))?;
                if vk.is_weak() {
                    return Err(self.bad(e.seq, &e.signer, "signer is a small-order key"));
                }
                self.keys.push((pk, vk));
                self.keys.len() - 1
            }
        };
        self.messages.push(signed_message(&e.hash));
        self.signatures.push(Signature::from_bytes(&sig));
        self.signers.push(index);
        self.seqs.push(e.seq);
        Ok(())
    }

    /// Checks every queued signature, then forgets them.
    pub fn check(&mut self) -> Result<(), ChainError> {
        if self.seqs.is_empty() {
            return Ok(());
        }
        // The batch equation is cofactorless like verify_strict except for
        // crafted torsion components; the strict single check below is the
        // rule, so a batch of one goes straight to it.
        let batch_ok = self.seqs.len() > 1 && self.batch_holds();
        if !batch_ok {
            for (i, message) in self.messages.iter().enumerate() {
                let key = &self.keys[self.signers[i]];
                if key.1.verify_strict(message, &self.signatures[i]).is_err() {
                    let signer = hex::encode(key.0);
                    return Err(self.bad(self.seqs[i], &signer, "signature does not verify"));
                }
            }
        }
        self.messages.clear();
        self.signatures.clear();
        self.signers.clear();
        self.seqs.clear();
        Ok(())
    }
}

impl SignatureBatch {
    /// Whether `(-Σ z_i s_i) B + Σ z_i R_i + Σ_A (Σ_{i of A} z_i h_i) A = 0`
    /// for the queued signatures: ed25519-dalek's `verify_batch` check, one
    /// term per signer instead of one per signature. `h_i` =
    /// SHA-512(R_i ‖ A_i ‖ M_i) mod l; the `z_i` are 128 bits of SHA-512 of
    /// every `h_i` and `s_i` (a signer cannot choose them), so a batch with
    /// a bad signature holds with probability about 2^-128. False if an
    /// `s` is not canonical or an `R` not a point (the single checks then
    /// say which).
    fn batch_holds(&self) -> bool {
        use curve25519_dalek::constants::ED25519_BASEPOINT_POINT;
        use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
        use curve25519_dalek::scalar::Scalar;
        use curve25519_dalek::traits::{IsIdentity, VartimeMultiscalarMul};
        use sha2::{Digest, Sha512};

        let n = self.signatures.len();
        let mut transcript = Sha512::new();
        transcript.update(b"petrichain:batch:v1");
        let mut hrams = Vec::with_capacity(n);
        for (i, sig) in self.signatures.iter().enumerate() {
            let mut h = Sha512::new();
            h.update(sig.r_bytes());
            h.update(self.keys[self.signers[i]].0);
            h.update(&self.messages[i]);
            let hram: [u8; 64] = h.finalize().into();
            transcript.update(hram);
            transcript.update(sig.s_bytes());
            hrams.push(Scalar::from_bytes_mod_order_wide(&hram));
        }
        let seed: [u8; 64] = transcript.finalize().into();
        let mut b = Scalar::ZERO;
        let mut per_signer = vec![Scalar::ZERO; self.keys.len()];
        let mut scalars = Vec::with_capacity(n + self.keys.len() + 1);
        let mut points = Vec::with_capacity(n + self.keys.len() + 1);
        let mut block = [0u8; 64];
        for (i, sig) in self.signatures.iter().enumerate() {
            if i % 4 == 0 {
                // Four 128-bit z_i per SHA-512(seed ‖ i / 4).
                let mut h = Sha512::new();
                h.update(seed);
                h.update((i as u64 / 4).to_le_bytes());
                block = h.finalize().into();
            }
            let mut z = [0u8; 32];
            z[..16].copy_from_slice(&block[(i % 4) * 16..(i % 4) * 16 + 16]);
            let z = Scalar::from_bytes_mod_order(z);
            let Some(s) = Option::<Scalar>::from(Scalar::from_canonical_bytes(*sig.s_bytes()))
            else {
                return false;
            };
            let Some(r) = CompressedEdwardsY(*sig.r_bytes()).decompress() else {
                return false;
            };
            b += z * s;
            per_signer[self.signers[i]] += z * hrams[i];
            scalars.push(z);
            points.push(r);
        }
        scalars.push(-b);
        points.push(ED25519_BASEPOINT_POINT);
        for (key, c) in self.keys.iter().zip(per_signer) {
            if c != Scalar::ZERO {
                scalars.push(c);
                points.push(key.1.to_edwards());
            }
        }
        EdwardsPoint::vartime_multiscalar_mul(scalars, points).is_identity()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_software_key_signs_what_dalek_verifies_and_hides_its_secret() {
        let key = SoftwareKey::from_seed(&[7; 32]);
        let m = signed_message(&"ab".repeat(32));
        assert_eq!(m.len(), SIGNED_MESSAGE_LEN);
        let sig = crate::store::block_on(key.sign(std::slice::from_ref(&m))).unwrap();
        let vk = VerifyingKey::from_bytes(&key.public_key()).unwrap();
        assert!(vk
            .verify_strict(&m, &Signature::from_bytes(&sig[0]))
            .is_ok());
        let shown = format!("{key:?}");
        assert!(!shown.contains(&hex::encode([7u8; 32])));
        assert!(shown.contains(&hex::encode(key.public_key())));
    }

    /// A batch of `(signer, message)` pairs signed by keys of seeds 1, 2, 3,
    /// with byte `flip` (if any) of signature `bad` changed.
    fn batch(items: &[(usize, u8)], bad: Option<(usize, usize)>) -> SignatureBatch {
        let keys: Vec<SigningKey> = (1..=3u8)
            .map(|i| SigningKey::from_bytes(&[i; 32]))
            .collect();
        let mut b = SignatureBatch::new("s");
        b.keys = keys
            .iter()
            .map(|k| (k.verifying_key().to_bytes(), k.verifying_key()))
            .collect();
        for (i, &(signer, m)) in items.iter().enumerate() {
            let message = signed_message(&format!("{m:02x}").repeat(32));
            let mut sig = keys[signer].sign(&message).to_bytes();
            if let Some((_, byte)) = bad.filter(|&(at, _)| at == i) {
                sig[byte] ^= 1;
            }
            b.messages.push(message);
            b.signatures.push(Signature::from_bytes(&sig));
            b.signers.push(signer);
            b.seqs.push(i as u64 + 1);
        }
        b
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]
        /// The batch check with each signer's terms added up agrees with
        /// ed25519-dalek's `verify_batch` and with one strict check each,
        /// for valid batches and batches with one signature changed (in R
        /// or in s), from one or several signers.
        #[test]
        fn the_merged_batch_check_agrees_with_dalek(
            items in proptest::collection::vec((0..3usize, proptest::prelude::any::<u8>()), 2..10),
            bad in proptest::option::of((0..10usize, 0..64usize)),
        ) {
            let b = batch(&items, bad);
            let keys: Vec<VerifyingKey> = b.signers.iter().map(|&i| b.keys[i].1).collect();
            let messages: Vec<&[u8]> = b.messages.iter().map(Vec::as_slice).collect();
            let dalek = ed25519_dalek::verify_batch(&messages, &b.signatures, &keys).is_ok();
            let each = (0..items.len())
                .all(|i| keys[i].verify_strict(messages[i], &b.signatures[i]).is_ok());
            proptest::prop_assert_eq!(b.batch_holds(), dalek);
            proptest::prop_assert_eq!(b.batch_holds(), each);
            proptest::prop_assert_eq!(each, bad.is_none_or(|(at, _)| at >= items.len()));
        }
    }

    #[test]
    fn a_bad_signature_in_a_batch_is_named_by_its_seq() {
        let mut b = batch(&[(0, 1), (0, 2), (1, 3), (0, 4)], Some((2, 40)));
        let err = b.check().unwrap_err();
        assert!(
            matches!(err, ChainError::BadSignature { seq: 3, .. }),
            "{err:?}"
        );
        assert!(batch(&[(0, 1), (0, 2), (1, 3), (0, 4)], None)
            .check()
            .is_ok());
    }

    #[test]
    fn random_bytes_differ() {
        let key = SoftwareKey::generate().unwrap();
        let (mut a, mut b) = ([0u8; 16], [0u8; 16]);
        key.random(&mut a).unwrap();
        key.random(&mut b).unwrap();
        assert_ne!(a, b);
    }
}
