//! `ledger.authenticate(url)`: signs in to a reference server with the
//! ledger's device key (docs/sync-protocol.md, "Authentication"): asks for
//! a challenge, signs `petrichain:auth:v1:` + its nonce with the device key
//! (WebCrypto, non-extractable), and exchanges the signature for a
//! short-lived bearer token.

use js_sys::{Promise, Reflect};
use petrichain::sync::protocol::{auth_message, PROTOCOL_VERSION};
use petrichain::sync::SyncError;
use wasm_bindgen::prelude::*;

use crate::error::{bad_argument, to_js_error};
use crate::http::HttpTransport;
use crate::ledger::JsLedger;
use crate::promise::promise;

#[wasm_bindgen(typescript_custom_section)]
const TS_AUTH_TYPES: &'static str = r#"
/** What `ledger.authenticate(url)` resolves to. */
export interface DeviceToken {
  /** The bearer token: send `Authorization: Bearer TOKEN`. */
  token: string;
  /** The device key it stands for (hex). */
  key: string;
  /** Seconds it is valid. */
  expiresIn: number;
}
"#;

#[derive(serde::Deserialize)]
struct Challenge {
    nonce: String,
}

#[derive(serde::Deserialize)]
struct TokenAnswer {
    token: String,
    key: String,
    expires_in: u64,
}

#[wasm_bindgen(js_class = Ledger)]
impl JsLedger {
    /// Signs in to the reference server at `url` with this ledger's device
    /// key; resolves to `{ token, key, expiresIn }`. Made for `getAuth`:
    /// `ledger.sync({ url, getAuth: () => ledger.authenticate(url) })`.
    /// Rejects with `UNAUTHENTICATED` when the server refuses the
    /// signature, `NETWORK` when it cannot be reached.
    #[wasm_bindgen(unchecked_return_type = "Promise<DeviceToken>")]
    pub fn authenticate(&self, url: String) -> Result<Promise, JsValue> {
        if !(url.starts_with("http://") || url.starts_with("https://") || url.starts_with('/')) {
            return Err(bad_argument("url must be an http(s) URL or a path"));
        }
        let inner = self.inner.clone();
        Ok(promise(async move {
            let http = HttpTransport::new(&url, Vec::new());
            let base = url.trim_end_matches('/').to_string();
            let err = |e: SyncError| to_js_error(&e);
            let challenge: Challenge = http
                .post_json(&format!("{base}/{PROTOCOL_VERSION}/auth/challenge"), None)
                .await
                .map_err(err)?;
            // Sign only a nonce of the expected shape: never text a server
            // chose (it could be another message of this key's).
            if challenge.nonce.len() != 64
                || !challenge.nonce.bytes().all(|b| b.is_ascii_hexdigit())
            {
                return Err(to_js_error(&SyncError::BadResponse {
                    backend: base,
                    what: "POST /auth/challenge".into(),
                    message: "the nonce is not 64 hex digits".into(),
                }));
            }
            let device = inner.device().clone();
            let messages = [auth_message(&challenge.nonce)];
            let sigs = device.sign(&messages).await.map_err(|e| to_js_error(&e))?;
            let sig = sigs
                .first()
                .ok_or_else(|| bad_argument("the device gave no signature"))?;
            let body = serde_json::json!({
                "key": inner.device_key(),
                "nonce": challenge.nonce,
                "sig": hex::encode(sig),
            });
            let answer: TokenAnswer = http
                .post_json(
                    &format!("{base}/{PROTOCOL_VERSION}/auth/token"),
                    Some(body.to_string()),
                )
                .await
                .map_err(err)?;
            let out = js_sys::Object::new();
            Reflect::set(&out, &"token".into(), &answer.token.into())?;
            Reflect::set(&out, &"key".into(), &answer.key.into())?;
            Reflect::set(
                &out,
                &"expiresIn".into(),
                &(answer.expires_in as f64).into(),
            )?;
            Ok(out.into())
        }))
    }
}
