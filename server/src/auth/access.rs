//! Who may read and append a stream, derived from its chain alone: the
//! owner is the signer of seq 1, the members are the owner, every key that
//! signed one of its events, and every key that holds a role granted by a
//! signed `$grant` entry (and not revoked since) — so a device invited by
//! a grant may push its first event (docs/server.md, "Who may read and
//! append"). The chain's verification decides which roles an event may
//! claim; this rule only decides who is let in.
//!
//! The signers of each stream are kept in a bounded cache, brought up to
//! date by reading only the events appended since (by any process).

use std::collections::{BTreeSet, HashMap, HashSet};

use petrichain::chain::policy::{GrantPayload, GRANT, REVOKE};
use std::sync::Mutex;

use crate::error::ApiError;
use crate::storage::Storage;

/// Most streams whose members are cached; past it the cache starts over.
pub const MAX_CACHED_STREAMS: usize = 10_000;

/// The keys of a stream's chain, up to `seq`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Members {
    /// The events read so far end at this seq.
    pub seq: u64,
    /// The signer of seq 1 (hex), once read.
    pub owner: Option<String>,
    /// Every signer (hex), the owner included.
    pub keys: HashSet<String>,
    /// Grants held now: (key, role).
    pub grants: BTreeSet<(String, String)>,
}

impl Members {
    /// Whether `key` (hex) is a member.
    pub fn has(&self, key: &str) -> bool {
        self.keys.contains(key)
            || self
                .grants
                .range((key.to_string(), String::new())..)
                .next()
                .is_some_and(|(k, _)| k == key)
    }

    /// Takes in one stored (verified) event: its signer, and its grant or
    /// revocation.
    fn read(&mut self, e: &petrichain::chain::Event) {
        if e.seq == 1 {
            self.owner = Some(e.signer.clone());
        }
        self.keys.insert(e.signer.clone());
        if e.action == GRANT || e.action == REVOKE {
            // Verified when it was stored: its payload is well formed.
            if let Ok(p) = serde_json::from_str::<GrantPayload>(&e.payload) {
                if e.action == GRANT {
                    self.grants.insert((p.key, p.role));
                } else {
                    self.grants.remove(&(p.key, p.role));
                }
            }
        }
    }

    /// Whether `key` may read and append: a member, or anyone while the
    /// stream has no event (no owner yet: the sync client creates a stream
    /// on the server by an append of no events, then reads it back; the
    /// first key to append seq 1 becomes its owner). Such a stream is still
    /// listed only to operators.
    pub fn admits(&self, key: &str) -> bool {
        self.seq == 0 || self.has(key)
    }
}

/// The members cache.
#[derive(Default)]
pub struct Access {
    cache: Mutex<HashMap<String, Members>>,
}

impl Access {
    /// The members of `stream` as stored now; `None` if it does not exist.
    pub async fn members(
        &self,
        storage: &dyn Storage,
        stream: &str,
    ) -> Result<Option<Members>, ApiError> {
        let Some(head) = storage.head(stream).await? else {
            return Ok(None);
        };
        let mut members = {
            let cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
            cache.get(stream).cloned().unwrap_or_default()
        };
        if members.seq > head.seq {
            // Cannot happen (chains only grow); read again from the start.
            members = Members::default();
        }
        while members.seq < head.seq {
            let Some(page) = storage
                .page(
                    stream,
                    members.seq,
                    crate::routes::MAX_PAGE,
                    crate::routes::MAX_PAGE_BYTES,
                )
                .await?
            else {
                return Ok(None);
            };
            let Some(last) = page.events.last() else {
                break;
            };
            members.seq = last.seq;
            for e in &page.events {
                members.read(e);
            }
            if !page.more {
                break;
            }
        }
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() >= MAX_CACHED_STREAMS && !cache.contains_key(stream) {
            cache.clear();
        }
        cache.insert(stream.to_string(), members.clone());
        Ok(Some(members))
    }
}
