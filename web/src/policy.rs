//! Grants, revocations and profiles for JavaScript: `stream.grant`,
//! `stream.revoke`, `stream.setProfile`, `stream.policy()` and
//! `fingerprint(key)` (docs/chain-format.md, "Grants, revocations and
//! profiles"). The rules are the core's (`petrichain::chain::policy`);
//! this file only checks argument types and builds the entries' payloads.

use petrichain::chain::policy::{GRANT, PROFILE, REVOKE};
use petrichain::store::Action;
use wasm_bindgen::prelude::*;

use crate::error::{bad_argument, js_err};
use crate::js::{now, to_js};
use crate::promise::promise;
use crate::stream::JsStream;

#[wasm_bindgen(typescript_custom_section)]
const TS_POLICY: &'static str = r#"
/** One key that may act on a stream (`stream.policy().members`). */
export interface PolicyMember {
  /** Ed25519 public key, 64 lowercase hex digits. */
  key: string;
  /** Roles it holds (`["*"]` for the owner); `$admin` is `admin`. */
  roles: string[];
  /** Whether it may grant and revoke: the owner, or `$admin` granted. */
  admin: boolean;
  /** Its display name, from its signed `$profile` entry. */
  name?: string;
}

/** A grant taken back by a `$revoke` entry (and not granted again). */
export interface PolicyRevocation {
  key: string;
  role: string;
  /** Key that signed the revocation. */
  by: string;
  /** Seq of the revocation. */
  seq: number;
}

/** Who holds what on a stream, from its chain (`stream.policy()`). */
export interface Policy {
  /** Signer of seq 1 (holds every role and `$admin`), null before any event. */
  owner: string | null;
  /** The owner first, then every key holding a grant, in key order. */
  members: PolicyMember[];
  revoked: PolicyRevocation[];
  /** Display names by key. */
  names: Record<string, string>;
}
"#;

/// A short, human-comparable form of an Ed25519 public key (64 lowercase
/// hex digits): the first 8 bytes of its SHA-256, as four groups of 4 hex
/// digits (`"21fe-31df-a154-a261"`). Throws `INVALID_INPUT` for a string
/// that is not such a key.
#[wasm_bindgen]
pub fn fingerprint(key: &str) -> Result<String, JsValue> {
    petrichain::chain::fingerprint(key).map_err(js_err)
}

/// `{"key":K,"role":R}` for `$grant` / `$revoke`, the arguments checked
/// for type (the chain checks the rest).
fn grant_action(action: &str, key: JsValue, role: JsValue) -> Result<Action, JsValue> {
    let key = key
        .as_string()
        .ok_or_else(|| bad_argument("key must be a string (64 lowercase hex digits)"))?;
    let role = role
        .as_string()
        .ok_or_else(|| bad_argument("role must be a string"))?;
    let payload = serde_json::json!({ "key": key, "role": role }).to_string();
    Ok(Action::new(action).payload(payload))
}

#[wasm_bindgen(js_class = Stream)]
impl JsStream {
    /// Grants `role` (a role of the model, `*` for every role, or `$admin`
    /// to let the key grant and revoke) to the Ed25519 public key `key`
    /// (64 lowercase hex digits): appends a signed `$grant` entry. Only the
    /// owner or a key holding `$admin` may: else `ROLE_NOT_GRANTED` (or
    /// `ROLE_REVOKED`) with `details.key`, `role: "$admin"`, `seq`. A bad
    /// key or role: `INVALID_EVENT` (`details.field` `"payload"`).
    #[wasm_bindgen(unchecked_return_type = "Promise<Event>")]
    pub fn grant(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] key: JsValue,
        #[wasm_bindgen(unchecked_param_type = "string")] role: JsValue,
    ) -> js_sys::Promise {
        match grant_action(GRANT, key, role) {
            Ok(a) => self.fire_actions(vec![a], now(), true),
            Err(e) => js_sys::Promise::reject(&e),
        }
    }

    /// Revokes `role` from `key`: appends a signed `$revoke` entry. Its
    /// later events claiming the role are refused (`ROLE_REVOKED` with
    /// `details.by` and `details.at`), its events before stay valid. The
    /// owner's roles cannot be revoked (`INVALID_EVENT`).
    #[wasm_bindgen(unchecked_return_type = "Promise<Event>")]
    pub fn revoke(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] key: JsValue,
        #[wasm_bindgen(unchecked_param_type = "string")] role: JsValue,
    ) -> js_sys::Promise {
        match grant_action(REVOKE, key, role) {
            Ok(a) => self.fire_actions(vec![a], now(), true),
            Err(e) => js_sys::Promise::reject(&e),
        }
    }

    /// Names this device's key on the stream: appends a signed `$profile`
    /// entry with `name` trimmed (1 to 64 characters, no control
    /// characters: else `INVALID_EVENT`). The owner and keys holding a
    /// grant may (else `ROLE_NOT_GRANTED`, role `"$profile"`).
    #[wasm_bindgen(js_name = setProfile, unchecked_return_type = "Promise<Event>")]
    pub fn set_profile(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] name: JsValue,
    ) -> js_sys::Promise {
        let Some(name) = name.as_string() else {
            return js_sys::Promise::reject(&bad_argument("name must be a string"));
        };
        let payload = serde_json::json!({ "name": name.trim() }).to_string();
        self.fire_actions(vec![Action::new(PROFILE).payload(payload)], now(), true)
    }

    /// Who holds what at the head: the owner, the members with their roles
    /// and names, the revoked grants, the names by key.
    #[wasm_bindgen(unchecked_return_type = "Promise<Policy>")]
    pub fn policy(&self) -> js_sys::Promise {
        let inner = self.inner().clone();
        let id = self.id();
        promise(async move {
            let policy = inner.policy(&id).await.map_err(js_err)?;
            to_js(&policy.view())
        })
    }
}
