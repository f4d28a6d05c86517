//! Who may do what on a stream, from its chain alone: the owner (signer
//! of seq 1), the roles granted to keys by signed `$grant` entries and
//! taken back by `$revoke` entries, and the display names keys gave
//! themselves by `$profile` entries (docs/chain-format.md, "Grants,
//! revocations and profiles").
//!
//! A [`Policy`] moves forward with the chain's tip ([`super::TipState`]
//! carries one): the verifier and the one append path (the chainer) ask it
//! to admit each event, then apply it once the event is accepted, so both
//! decide alike ([`Policy::follow`] does both for a stored event). Lookups are O(log grants) per event; an event that claims no
//! role and is no policy entry costs one branch.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::event::is_hex;
use super::{ChainError, Event};
use crate::engine::RoleSet;
use crate::model::Model;

/// Action of an entry granting a role to a key.
pub const GRANT: &str = "$grant";
/// Action of an entry revoking a role from a key.
pub const REVOKE: &str = "$revoke";
/// Action of an entry naming its signer.
pub const PROFILE: &str = "$profile";
/// The role that may grant and revoke (the owner holds it implicitly).
pub const ADMIN: &str = "$admin";
/// Most grants (key, role) plus names a stream's policy holds: the head
/// record carries the policy, so it stays small. An entry past it is
/// refused (`INVALID_EVENT`, field `payload`).
pub const MAX_POLICY_ENTRIES: usize = 4096;
/// Longest display name, in Unicode scalar values.
pub const MAX_NAME_CHARS: usize = 64;

/// Whether `action` is reserved for policy entries (begins with `$`): no
/// model may declare such a transition.
pub fn is_reserved(action: &str) -> bool {
    action.starts_with('$')
}

/// A short, human-comparable form of an Ed25519 public key (64 hex
/// digits): the first 8 bytes of the SHA-256 of the key's 32 bytes, as four
/// groups of 4 lowercase hex digits.
///
/// ```
/// let key = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
/// assert_eq!(petrichain::chain::fingerprint(key).unwrap(), "21fe-31df-a154-a261");
/// assert!(petrichain::chain::fingerprint("zz").is_err());
/// ```
pub fn fingerprint(key: &str) -> Result<String, ChainError> {
    let bytes = key_bytes(key).map_err(|message| ChainError::InvalidInput {
        field: "key".into(),
        message,
    })?;
    let digest = Sha256::digest(bytes);
    let h = hex::encode(&digest[..8]);
    Ok(format!(
        "{}-{}-{}-{}",
        &h[0..4],
        &h[4..8],
        &h[8..12],
        &h[12..16]
    ))
}

/// The 32 bytes of a public key given as 64 lowercase hex digits, which
/// must be a usable Ed25519 key.
fn key_bytes(key: &str) -> Result<[u8; 32], String> {
    let mut bytes = [0u8; 32];
    if !is_hex(key, 64) || hex::decode_to_slice(key, &mut bytes).is_err() {
        return Err("must be 64 lowercase hex digits (an Ed25519 public key)".into());
    }
    if ed25519_dalek::VerifyingKey::from_bytes(&bytes).is_err() {
        return Err("is not an Ed25519 public key".into());
    }
    Ok(bytes)
}

/// Checks a display name: 1 to [`MAX_NAME_CHARS`] Unicode scalar values,
/// no control characters, no leading or trailing white space.
pub fn check_name(name: &str) -> Result<(), String> {
    let chars = name.chars().count();
    if chars == 0 || chars > MAX_NAME_CHARS {
        return Err(format!(
            "name must be 1 to {MAX_NAME_CHARS} characters, it has {chars}"
        ));
    }
    if name.chars().any(char::is_control) {
        return Err("name must not contain control characters".into());
    }
    if name.trim() != name {
        return Err("name must not begin or end with white space".into());
    }
    Ok(())
}

/// Payload of `$grant` and `$revoke`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrantPayload {
    /// The key (64 lowercase hex digits).
    pub key: String,
    /// The role.
    pub role: String,
}

/// Payload of `$profile`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfilePayload {
    /// The signer's display name.
    pub name: String,
}

/// Where a revoked grant was taken back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Revocation {
    /// Key that signed the `$revoke`.
    pub by: String,
    /// Seq of the `$revoke`.
    pub at: u64,
}

/// A policy entry, read and admitted, waiting to be applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// `$grant`.
    Grant(GrantPayload),
    /// `$revoke`.
    Revoke(GrantPayload),
    /// `$profile`.
    Profile(ProfilePayload),
}

/// The policy of a stream at one point of its chain.
///
/// Serialises (in a stored head record) as
/// `{"owner":K,"grants":{K:[roles]},"revoked":{K:{role:{"by":K,"at":seq}}},"names":{K:name}}`,
/// empty members left out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    owner: Option<String>,
    /// Roles each key holds now (`$admin` included), never the owner's.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    grants: BTreeMap<String, BTreeSet<String>>,
    /// Grants revoked and not granted again since.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    revoked: BTreeMap<String, BTreeMap<String, Revocation>>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    names: BTreeMap<String, String>,
}

impl Policy {
    /// The owner (signer of seq 1), once known.
    pub fn owner(&self) -> Option<&str> {
        self.owner.as_deref()
    }

    /// The roles `key` was granted and holds now (`$admin` included; the
    /// owner's are implicit and not listed).
    pub fn grants(&self) -> impl Iterator<Item = (&str, &BTreeSet<String>)> {
        self.grants.iter().map(|(k, r)| (k.as_str(), r))
    }

    /// Grants revoked (and not granted again): `(key, role, revocation)`.
    pub fn revoked(&self) -> impl Iterator<Item = (&str, &str, &Revocation)> {
        self.revoked.iter().flat_map(|(k, roles)| {
            roles
                .iter()
                .map(move |(r, rev)| (k.as_str(), r.as_str(), rev))
        })
    }

    /// Display names by key.
    pub fn names(&self) -> &BTreeMap<String, String> {
        &self.names
    }

    /// Whether `key` is the owner or holds `$admin`.
    pub fn is_admin(&self, key: &str) -> bool {
        self.owner.as_deref() == Some(key) || self.has_grant(key, ADMIN)
    }

    /// Grants plus names: what [`MAX_POLICY_ENTRIES`] bounds.
    pub fn entries(&self) -> usize {
        self.grants.values().map(BTreeSet::len).sum::<usize>() + self.names.len()
    }

    fn has_grant(&self, key: &str, role: &str) -> bool {
        self.grants.get(key).is_some_and(|r| r.contains(role))
    }

    /// Whether `key` may claim `role` (owner: every role; `*`: every role
    /// not beginning with `$`).
    pub fn holds(&self, key: &str, role: &str) -> bool {
        if self.owner.as_deref() == Some(key) {
            return true;
        }
        match self.grants.get(key) {
            Some(roles) => roles.contains(role) || (!is_reserved(role) && roles.contains("*")),
            None => false,
        }
    }

    /// Why `key` may not claim `role`: `ROLE_REVOKED` when that grant (or
    /// its `*`) was revoked, else `ROLE_NOT_GRANTED`.
    fn refusal(&self, stream: &str, seq: u64, key: &str, role: &str) -> ChainError {
        let revoked = self.revoked.get(key).and_then(|r| {
            r.get(role)
                .or_else(|| (!is_reserved(role)).then(|| r.get("*")).flatten())
        });
        match revoked {
            Some(rev) => ChainError::RoleRevoked {
                stream: stream.into(),
                seq,
                key: key.into(),
                role: role.into(),
                by: rev.by.clone(),
                at: rev.at,
            },
            None => ChainError::RoleNotGranted {
                stream: stream.into(),
                seq,
                key: key.into(),
                role: role.into(),
            },
        }
    }

    /// Checks that event `seq` of `stream`, signed by `signer`, may claim
    /// `roles` and (for a policy entry, `action` beginning with `$`) may
    /// make its entry, which is returned to [`apply`](Policy::apply). The
    /// owner of a chain without one is `signer` when `seq` is 1.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn admit(
        &self,
        model: &Model,
        stream: &str,
        seq: u64,
        signer: &str,
        action: &str,
        roles: &[String],
        multiple: u64,
        args: &[(String, String)],
        payload: &str,
    ) -> Result<Option<Entry>, ChainError> {
        let reserved = is_reserved(action);
        if roles.is_empty() && !reserved {
            return Ok(None);
        }
        let first = self.owner.is_none() && seq == 1;
        let owner = if first {
            Some(signer)
        } else {
            self.owner.as_deref()
        };
        let is_owner = owner == Some(signer);
        if !is_owner {
            if let Some(role) = roles.iter().find(|r| !self.holds(signer, r)) {
                return Err(self.refusal(stream, seq, signer, role));
            }
        }
        if !reserved {
            return Ok(None);
        }
        let bad = |field: &str, message: String| ChainError::InvalidEvent {
            stream: stream.into(),
            seq,
            field: field.into(),
            message,
        };
        if multiple != 1 {
            return Err(bad("multiple", "a policy entry has multiple 1".into()));
        }
        if !roles.is_empty() {
            return Err(bad("roles", "a policy entry claims no role".into()));
        }
        if !args.is_empty() {
            return Err(bad("args", "a policy entry has no arguments".into()));
        }
        let full = |adds: bool| {
            if adds && self.entries() >= MAX_POLICY_ENTRIES {
                Err(bad(
                    "payload",
                    format!(
                        "the stream's policy already holds {MAX_POLICY_ENTRIES} grants and names"
                    ),
                ))
            } else {
                Ok(())
            }
        };
        match action {
            GRANT | REVOKE => {
                let p: GrantPayload = serde_json::from_str(payload)
                    .map_err(|e| bad("payload", format!("{action} payload: {e}")))?;
                key_bytes(&p.key).map_err(|m| bad("payload", format!("key {m}")))?;
                check_role(model, &p.role).map_err(|m| bad("payload", m))?;
                if !is_owner && !self.has_grant(signer, ADMIN) {
                    return Err(self.refusal(stream, seq, signer, ADMIN));
                }
                if owner == Some(p.key.as_str()) {
                    return Err(bad(
                        "payload",
                        "the owner holds every role; its roles are neither granted nor revoked"
                            .into(),
                    ));
                }
                if action == GRANT {
                    full(!self.has_grant(&p.key, &p.role))?;
                    Ok(Some(Entry::Grant(p)))
                } else {
                    Ok(Some(Entry::Revoke(p)))
                }
            }
            PROFILE => {
                let p: ProfilePayload = serde_json::from_str(payload)
                    .map_err(|e| bad("payload", format!("{action} payload: {e}")))?;
                check_name(&p.name).map_err(|m| bad("payload", m))?;
                if !is_owner && !self.grants.contains_key(signer) {
                    return Err(ChainError::RoleNotGranted {
                        stream: stream.into(),
                        seq,
                        key: signer.into(),
                        role: PROFILE.into(),
                    });
                }
                full(!self.names.contains_key(signer))?;
                Ok(Some(Entry::Profile(p)))
            }
            _ => Err(ChainError::ActionRejected {
                stream: stream.into(),
                seq,
                reason: crate::FireError::UnknownTransition {
                    transition: action.into(),
                },
            }),
        }
    }

    /// Records event `seq`, signed by `signer`, once accepted: its owner
    /// (seq 1) and its entry, if any. A grant of a role held already, or a
    /// revocation of a role not held, changes nothing.
    pub(crate) fn apply(&mut self, seq: u64, signer: &str, entry: Option<Entry>) {
        if seq == 1 && self.owner.is_none() {
            self.owner = Some(signer.to_string());
        }
        match entry {
            None => {}
            Some(Entry::Grant(p)) => {
                if let Some(r) = self.revoked.get_mut(&p.key) {
                    r.remove(&p.role);
                    if r.is_empty() {
                        self.revoked.remove(&p.key);
                    }
                }
                self.grants.entry(p.key).or_default().insert(p.role);
            }
            Some(Entry::Revoke(p)) => {
                let held = self
                    .grants
                    .get_mut(&p.key)
                    .is_some_and(|r| r.remove(&p.role));
                if held {
                    if self.grants.get(&p.key).is_some_and(BTreeSet::is_empty) {
                        self.grants.remove(&p.key);
                    }
                    self.revoked.entry(p.key).or_default().insert(
                        p.role,
                        Revocation {
                            by: signer.to_string(),
                            at: seq,
                        },
                    );
                }
            }
            Some(Entry::Profile(p)) => {
                self.names.insert(signer.to_string(), p.name);
            }
        }
    }

    /// Admits and applies `e`, an event already verified (read back from
    /// a store): rebuilds the policy of a stored chain.
    pub fn follow(&mut self, model: &Model, e: &Event) -> Result<(), ChainError> {
        let entry = self.admit(
            model, &e.stream, e.seq, &e.signer, &e.action, &e.roles, e.multiple, &e.args,
            &e.payload,
        )?;
        self.apply(e.seq, &e.signer, entry);
        Ok(())
    }
}

/// Who holds what, as the JS API's `stream.policy()` gives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyView {
    /// The owner (signer of seq 1), `None` for a stream with no event.
    pub owner: Option<String>,
    /// The owner first (roles `["*"]`, admin), then every key holding a
    /// grant, in key order.
    pub members: Vec<Member>,
    /// Grants revoked and not granted again, by key then role.
    pub revoked: Vec<RevokedGrant>,
    /// Display names by key (from `$profile` entries).
    pub names: BTreeMap<String, String>,
}

/// One key that may act on a stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Member {
    /// The key (64 lowercase hex digits).
    pub key: String,
    /// Roles it holds (`$admin` not listed: see `admin`).
    pub roles: Vec<String>,
    /// Whether it may grant and revoke (the owner, or `$admin` granted).
    pub admin: bool,
    /// Its display name, if it gave one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// A grant taken back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RevokedGrant {
    /// The key that held it.
    pub key: String,
    /// The role.
    pub role: String,
    /// Key that signed the `$revoke`.
    pub by: String,
    /// Seq of the `$revoke`.
    pub seq: u64,
}

impl Policy {
    /// The view of who holds what (see [`PolicyView`]).
    pub fn view(&self) -> PolicyView {
        let name = |k: &str| self.names.get(k).cloned();
        let owner = self.owner.iter().map(|k| Member {
            key: k.clone(),
            roles: vec!["*".into()],
            admin: true,
            name: name(k),
        });
        let granted = self.grants.iter().map(|(k, roles)| Member {
            key: k.clone(),
            roles: roles.iter().filter(|r| *r != ADMIN).cloned().collect(),
            admin: roles.contains(ADMIN),
            name: name(k),
        });
        PolicyView {
            owner: self.owner.clone(),
            members: owner.chain(granted).collect(),
            revoked: self
                .revoked()
                .map(|(key, role, rev)| RevokedGrant {
                    key: key.into(),
                    role: role.into(),
                    by: rev.by.clone(),
                    seq: rev.at,
                })
                .collect(),
            names: self.names.clone(),
        }
    }
}

/// A role a grant may name: `*`, `$admin`, or a role of the model.
fn check_role(model: &Model, role: &str) -> Result<(), String> {
    if role == "*" || role == ADMIN {
        return Ok(());
    }
    let known = match model.roles(&[role]) {
        RoleSet::All => false,
        RoleSet::Some(bits) => bits.iter().any(|b| *b != 0),
    };
    if known {
        Ok(())
    } else {
        Err(format!(
            "role '{role}' is not a role of the model (nor '*' or '{ADMIN}')"
        ))
    }
}

#[cfg(test)]
#[path = "policy_tests.rs"]
mod tests;
