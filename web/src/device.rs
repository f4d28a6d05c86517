//! The browser's (and Node's) device key: an Ed25519 `CryptoKey` made by
//! WebCrypto, non-extractable, implementing [`petrichain::chain::Device`].
//!
//! The private key never exists as bytes anywhere wasm or page scripts can
//! read: it is created with `extractable: false`, so `exportKey` refuses it,
//! and the ledger only ever asks it for signatures (`crypto.subtle.sign`).
//! IndexedDB ledgers keep the key pair in their `meta` store (a `CryptoKey`
//! is structured-cloneable; see `indexeddb.rs`), so a ledger signs with the
//! same key every time it is opened; memory ledgers make a new one.
//!
//! Only the public half is exported ("raw", 32 bytes: allowed for public
//! keys whatever `extractable` says). Nonces come from
//! `crypto.getRandomValues`, drawn 4,096 bytes at a time (`RandomPool`:
//! one call per 256 nonces instead of one per event). [`WebCryptoDevice::sign`] starts every
//! signature of a batch at once and awaits them together (`Promise.all`; one
//! alone is awaited as it is).

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;

use js_sys::{Array, Promise, Reflect, Uint8Array};
use petrichain::chain::{ChainError, Device, DeviceFuture};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Crypto, CryptoKey, CryptoKeyPair, SubtleCrypto};

/// The WebCrypto algorithm name.
pub const ALGORITHM: &str = "Ed25519";

/// A device key held by WebCrypto.
pub struct WebCryptoDevice {
    crypto: Crypto,
    subtle: SubtleCrypto,
    private: CryptoKey,
    public: [u8; 32],
    pool: RefCell<RandomPool>,
}

/// Bytes of `crypto.getRandomValues` drawn ahead, handed out once each
/// (zeroed as they go). Only nonces use [`Device::random`] (public once in
/// their events); a CSPRNG's output kept a moment in this module's memory
/// is as unpredictable as one asked for each time, and a page script that
/// could read wasm memory could read the nonces in the events anyway.
struct RandomPool {
    bytes: Box<[u8; RANDOM_POOL]>,
    /// Bytes of `bytes` already handed out (all of them when empty).
    used: usize,
}

/// Bytes of [`RandomPool`] drawn per `getRandomValues` call.
const RANDOM_POOL: usize = 4_096;

impl std::fmt::Debug for WebCryptoDevice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebCryptoDevice")
            .field("public", &hex::encode(self.public))
            .finish_non_exhaustive()
    }
}

fn device_error(what: &str, e: &JsValue) -> ChainError {
    let detail = e
        .dyn_ref::<js_sys::Error>()
        .map(|e| format!("{}: {}", String::from(e.name()), String::from(e.message())))
        .or_else(|| e.as_string())
        .unwrap_or_else(|| "unknown error".into());
    ChainError::Device {
        message: format!("{what} failed ({detail})"),
    }
}

/// `globalThis.crypto`: the window's, a worker's or Node's (>= 19).
pub fn global_crypto() -> Result<Crypto, ChainError> {
    let crypto = Reflect::get(&js_sys::global(), &"crypto".into())
        .ok()
        .filter(|c| c.is_object())
        .ok_or_else(|| ChainError::Device {
            message: "no WebCrypto here (globalThis.crypto is missing): petrichain needs a secure context (https or localhost) or Node 19+".into(),
        })?;
    // Node's class is not the window's `Crypto`: no instanceof check.
    Ok(crypto.unchecked_into())
}

async fn wait(promise: Result<Promise, JsValue>, what: &str) -> Result<JsValue, ChainError> {
    let promise = promise.map_err(|e| device_error(what, &e))?;
    JsFuture::from(promise)
        .await
        .map_err(|e| device_error(what, &e))
}

impl WebCryptoDevice {
    /// Makes a new non-extractable Ed25519 key pair; returns the device and
    /// the pair (to keep, e.g. in IndexedDB).
    pub async fn generate() -> Result<(Self, CryptoKeyPair), ChainError> {
        let crypto = global_crypto()?;
        let subtle = crypto.subtle();
        let algorithm = js_sys::Object::new();
        Reflect::set(&algorithm, &"name".into(), &ALGORITHM.into())
            .map_err(|e| device_error("generateKey", &e))?;
        let usages = Array::of2(&"sign".into(), &"verify".into());
        let pair = wait(
            subtle.generate_key_with_object(&algorithm, false, &usages),
            "generateKey(Ed25519)",
        )
        .await?;
        let pair: CryptoKeyPair = pair.unchecked_into();
        let device = Self::from_pair(&pair).await?;
        Ok((device, pair))
    }

    /// The device of a stored key pair: checks that its private key is an
    /// Ed25519 signing key that cannot be exported, and exports the public half.
    pub async fn from_pair(pair: &JsValue) -> Result<Self, ChainError> {
        let crypto = global_crypto()?;
        let subtle = crypto.subtle();
        let bad = |message: &str| ChainError::Device {
            message: message.to_string(),
        };
        let key = |name: &str| -> Result<CryptoKey, ChainError> {
            Reflect::get(pair, &name.into())
                .ok()
                .filter(|k| k.is_object())
                .map(JsCast::unchecked_into)
                .ok_or_else(|| bad(&format!("the key pair has no {name}")))
        };
        let private = key("privateKey")?;
        let public_key = key("publicKey")?;
        let algorithm = private
            .algorithm()
            .ok()
            .and_then(|a| Reflect::get(&a, &"name".into()).ok())
            .and_then(|n| n.as_string());
        if algorithm.as_deref() != Some(ALGORITHM) {
            return Err(bad("the stored private key is not an Ed25519 key"));
        }
        if private.extractable() {
            return Err(bad(
                "the stored private key is extractable; device keys must not be",
            ));
        }
        let raw = wait(subtle.export_key("raw", &public_key), "exportKey(raw)").await?;
        let raw = Uint8Array::new(&raw);
        if raw.length() != 32 {
            return Err(bad(&format!("the public key is {} bytes", raw.length())));
        }
        let mut public = [0u8; 32];
        raw.copy_to(&mut public);
        Ok(WebCryptoDevice {
            crypto,
            subtle,
            private,
            public,
            pool: RefCell::new(RandomPool {
                bytes: Box::new([0; RANDOM_POOL]),
                used: RANDOM_POOL,
            }),
        })
    }
}

/// Seeds the keyed places' hashing (petrichain::engine::seed_key_hashing)
/// from `crypto.getRandomValues`: wasm32 has no other secure source, and
/// keys from remote events must not be choosable to collide. Once per
/// module; later calls change nothing.
pub(crate) fn seed_key_hashing() -> Result<(), ChainError> {
    let mut seed = [0u8; 16];
    global_crypto()?
        .get_random_values_with_u8_array(&mut seed)
        .map_err(|e| device_error("getRandomValues", &e))?;
    petrichain::engine::seed_key_hashing(seed);
    Ok(())
}

/// `getRandomValues` fills at most 65,536 bytes per call.
const RANDOM_CHUNK: usize = 65_536;

impl Device for WebCryptoDevice {
    fn public_key(&self) -> [u8; 32] {
        self.public
    }

    fn random(&self, out: &mut [u8]) -> Result<(), ChainError> {
        if out.len() <= RANDOM_POOL / 4 {
            let mut pool = self.pool.borrow_mut();
            if RANDOM_POOL - pool.used < out.len() {
                self.crypto
                    .get_random_values_with_u8_array(&mut pool.bytes[..])
                    .map_err(|e| device_error("getRandomValues", &e))?;
                pool.used = 0;
            }
            let from = pool.used;
            let taken = &mut pool.bytes[from..from + out.len()];
            out.copy_from_slice(taken);
            taken.fill(0);
            pool.used += out.len();
            return Ok(());
        }
        for chunk in out.chunks_mut(RANDOM_CHUNK) {
            self.crypto
                .get_random_values_with_u8_array(chunk)
                .map_err(|e| device_error("getRandomValues", &e))?;
        }
        Ok(())
    }

    fn sign<'a>(&'a self, messages: &'a [Vec<u8>]) -> DeviceFuture<'a, Vec<[u8; 64]>> {
        let started: Result<Array, ChainError> = messages
            .iter()
            .map(|m| {
                // WebCrypto copies `m` before returning the promise.
                self.subtle
                    .sign_with_str_and_u8_array(ALGORITHM, &self.private, m)
                    .map(JsValue::from)
                    .map_err(|e| device_error("sign", &e))
            })
            .collect();
        let future = async move {
            let started = started?;
            // One signature (an append's usual run) awaited as it is:
            // `Promise.all` would add its own promise and ticks.
            let one = started.length() == 1;
            let pending = if one {
                Promise::from(started.get(0))
            } else {
                Promise::all(&started)
            };
            let answer = JsFuture::from(pending)
                .await
                .map_err(|e| device_error("sign", &e))?;
            let all = if one {
                Array::of1(&answer)
            } else {
                Array::from(&answer)
            };
            let mut out = Vec::with_capacity(messages.len());
            for sig in all.iter() {
                let bytes = Uint8Array::new(&sig);
                if bytes.length() != 64 {
                    return Err(ChainError::Device {
                        message: format!("sign returned {} bytes, not 64", bytes.length()),
                    });
                }
                let mut s = [0u8; 64];
                bytes.copy_to(&mut s);
                out.push(s);
            }
            Ok(out)
        };
        Box::pin(future) as Pin<Box<dyn Future<Output = _> + 'a>>
    }
}
