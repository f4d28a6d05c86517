//! The parsed models, least recently used first out, bounded by bytes.
//!
//! A model's cost is its canonical JSON length times [`COST_PER_JSON_BYTE`]
//! (the compiled net, its indexes and strings take a few times the text).
//! The factor is an estimate, not a measurement of the compiled model's
//! memory: the bound is on that estimate. When an insert
//! takes the total past the capacity, the least recently used models go
//! until it fits; a model costing more than the whole capacity is served
//! without being kept.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use petrichain::model::Model;

/// Bytes of memory counted per byte of a model's canonical JSON.
pub const COST_PER_JSON_BYTE: usize = 8;

/// `--model-cache-bytes` when not given: 64 MiB.
pub const DEFAULT_CAPACITY: usize = 64 << 20;

/// The cache.
pub struct ModelCache {
    inner: Mutex<Inner>,
}

struct Inner {
    capacity: usize,
    used: usize,
    clock: u64,
    entries: HashMap<String, Entry>,
}

struct Entry {
    model: Arc<Model>,
    cost: usize,
    used_at: u64,
}

impl ModelCache {
    /// An empty cache holding at most `capacity` bytes of models.
    pub fn new(capacity: usize) -> ModelCache {
        ModelCache {
            inner: Mutex::new(Inner {
                capacity,
                used: 0,
                clock: 0,
                entries: HashMap::new(),
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The model `id`, if cached (it becomes the most recently used).
    pub fn get(&self, id: &str) -> Option<Arc<Model>> {
        let mut inner = self.lock();
        inner.clock = inner.clock.wrapping_add(1);
        let now = inner.clock;
        let entry = inner.entries.get_mut(id)?;
        entry.used_at = now;
        Some(entry.model.clone())
    }

    /// Keeps `model` (loaded from `json_len` bytes of JSON), evicting the
    /// least recently used ones as needed; not kept when it alone is
    /// above the capacity.
    pub fn insert(&self, id: &str, model: Arc<Model>, json_len: usize) {
        let cost = json_len.saturating_mul(COST_PER_JSON_BYTE);
        let mut inner = self.lock();
        if cost > inner.capacity {
            return;
        }
        if let Some(old) = inner.entries.remove(id) {
            inner.used = inner.used.saturating_sub(old.cost);
        }
        while inner.used.saturating_add(cost) > inner.capacity {
            let Some(oldest) = inner
                .entries
                .iter()
                .min_by_key(|(_, e)| e.used_at)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            if let Some(e) = inner.entries.remove(&oldest) {
                inner.used = inner.used.saturating_sub(e.cost);
            }
        }
        inner.clock = inner.clock.wrapping_add(1);
        let used_at = inner.clock;
        inner.used = inner.used.saturating_add(cost);
        inner.entries.insert(
            id.to_string(),
            Entry {
                model,
                cost,
                used_at,
            },
        );
    }

    /// Bytes counted and models held.
    pub fn usage(&self) -> (usize, usize) {
        let inner = self.lock();
        (inner.used, inner.entries.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use petrichain::formats::json::import_json;

    fn model(places: usize) -> (Arc<Model>, usize) {
        let places: Vec<String> = (0..places)
            .map(|i| format!("{{\"id\":\"p{i}\",\"initial\":1}}"))
            .collect();
        let json = format!(
            "{{\"name\":\"n\",\"places\":[{}],\"transitions\":[{{\"id\":\"t\"}}],\"arcs\":[]}}",
            places.join(",")
        );
        let (m, _) = import_json(&json).unwrap();
        (Arc::new(m), json.len())
    }

    #[test]
    fn least_recently_used_go_first_and_the_bound_holds() {
        let (a, la) = model(1);
        let (b, lb) = model(2);
        let (c, lc) = model(3);
        let cost = |l: usize| l * COST_PER_JSON_BYTE;
        // Room for a and b, not all three.
        let cache = ModelCache::new(cost(la) + cost(lb) + cost(lc) - 1);
        cache.insert("a", a, la);
        cache.insert("b", b, lb);
        assert!(cache.get("a").is_some(), "a is now the most recent");
        cache.insert("c", c, lc);
        assert!(cache.get("b").is_none(), "b was the least recently used");
        assert!(cache.get("a").is_some() && cache.get("c").is_some());
        let (used, n) = cache.usage();
        assert_eq!((used, n), (cost(la) + cost(lc), 2));
        // Re-inserting does not count twice.
        let (a2, _) = model(1);
        cache.insert("a", a2, la);
        assert_eq!(cache.usage(), (cost(la) + cost(lc), 2));
        // Above the whole capacity: served, not kept.
        let (big, lbig) = model(400);
        let small = ModelCache::new(cost(lbig) - 1);
        small.insert("big", big, lbig);
        assert_eq!(small.usage(), (0, 0));
    }
}
