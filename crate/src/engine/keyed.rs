//! Keyed places and parameterized transitions.
//!
//! A keyed place holds a count per key (absent keys hold 0); its slot in a
//! [`Marking`] holds the total over its keys. A transition with parameters
//! fires with arguments binding each parameter to a key, and its arcs
//! `place[param]` act on that key only. Firing costs O(arcs of the
//! transition x log keys): only the keys the arguments name are read.

use imbl::OrdSet;

use super::keycounts::KeyCounts;
use super::{check, Marking, RoleSet};
use crate::engine::FireError;
use crate::model::{
    KeySource, Model, PlaceIndex, TransitionIndex, MAX_KEY_BYTES, MAX_PARAMS, MAX_TOKENS,
};

/// The counts of a net's keyed places: for each keyed place, key -> count,
/// only keys with a count above 0. Unkeyed places hold no keys.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyedMarking {
    places: Vec<PlaceKeys>,
}

/// One place's keys: a hash map for the firing's lookups (O(1), whatever
/// the number of keys; keyed SipHash, so remote keys cannot be chosen to
/// collide: see `keyhash.rs`) and the keys in order for paging, which
/// changes only when a key comes or goes.
///
/// Both copy in O(1), whatever the number of keys: the counts are a std
/// map shared until written, with an overlay for writes to a shared copy
/// (`keycounts.rs`, which says why), the order imbl's persistent B-tree
/// (a write copies only the nodes on its path that are still shared). A
/// server resumes every append attempt from a copy of a stream's head
/// state, and a sync client keeps the state of its sync point beside its
/// tip; with plain maps each copy was O(keys), measured to dominate the
/// load tool at 10,000 accounts (BENCHMARKS.md, "Keyed places (issue 14)").
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct PlaceKeys {
    counts: KeyCounts,
    order: OrdSet<String>,
}

/// One key a firing changed: `(place index, key, count after)`.
pub type KeyChange = (PlaceIndex, String, u64);

impl KeyedMarking {
    /// No keys anywhere, for a net of `places` places.
    pub fn empty(places: usize) -> Self {
        KeyedMarking {
            places: vec![PlaceKeys::default(); places],
        }
    }

    /// The count of `key` in place `place` (0 if absent or out of range).
    pub fn get(&self, place: PlaceIndex, key: &str) -> u64 {
        self.places.get(place).map_or(0, |m| m.counts.get(key))
    }

    /// Sets a key's count; 0 removes the key. Out-of-range places are ignored.
    pub fn set(&mut self, place: PlaceIndex, key: &str, count: u64) {
        let Some(keys) = self.places.get_mut(place) else {
            return;
        };
        match (keys.counts.set(key, count), count) {
            (0, 0) => {}
            (0, _) => {
                keys.order.insert(key.to_string());
            }
            (_, 0) => {
                keys.order.remove(key);
            }
            _ => {}
        }
    }

    /// How many keys place `place` holds (with a count above 0).
    pub fn len(&self, place: PlaceIndex) -> usize {
        self.places.get(place).map_or(0, |k| k.counts.len())
    }

    /// Whether no place holds any key.
    pub fn is_empty(&self) -> bool {
        self.places.iter().all(|k| k.counts.len() == 0)
    }

    /// The keys of `place` in byte order, from the first after `after`
    /// (from the start if `None`), at most `limit`: a page costs
    /// O(log keys + limit).
    pub fn page(&self, place: PlaceIndex, after: Option<&str>, limit: usize) -> Vec<(String, u64)> {
        use std::ops::Bound;
        let Some(keys) = self.places.get(place) else {
            return Vec::new();
        };
        let start = match after {
            Some(a) => Bound::Excluded(a),
            None => Bound::Unbounded,
        };
        keys.order
            .range::<_, str>((start, Bound::Unbounded))
            .take(limit)
            .map(|k| (k.clone(), keys.counts.get(k)))
            .collect()
    }

    /// Every `(key, count)` of `place`, in byte order of the keys.
    pub fn iter(&self, place: PlaceIndex) -> impl Iterator<Item = (&str, u64)> + '_ {
        self.places
            .get(place)
            .into_iter()
            .flat_map(|keys| keys.order.iter().map(|k| (k.as_str(), keys.counts.get(k))))
    }
}

/// A firing worked out but not applied: what each touched key and place
/// total will hold.
struct Plan<'a> {
    /// (place, key, count before, count after), merged per (place, key).
    keys: Vec<(u32, &'a str, u64, u64)>,
    /// (place, total after) for keyed places whose total changes.
    totals: Vec<(u32, u64)>,
}

impl Model {
    /// Fires `transition` (by id) with `args` on copies of `marking` and
    /// `keyed` and returns them, for an actor holding every role and no
    /// signer (a transition with signer-bound parameters is refused). See
    /// [`Model::fire_keyed_in_place`].
    ///
    /// ```
    /// # use petrichain::{formats, engine::KeyedMarking};
    /// let (bank, _) = formats::json::import_json(r#"{
    ///   "places": [{"id": "balance", "keyed": true}],
    ///   "transitions": [{"id": "open", "params": ["user"]},
    ///                   {"id": "transfer", "params": ["from", "to"], "distinct": [["from", "to"]]}],
    ///   "arcs": [{"source": "open", "target": "balance", "key": "user", "weight": 100},
    ///            {"source": "balance", "target": "transfer", "key": "from"},
    ///            {"source": "transfer", "target": "balance", "key": "to"}]
    /// }"#).unwrap();
    /// let args = |pairs: &[(&str, &str)]| pairs.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect::<Vec<_>>();
    /// let (m, k) = (bank.initial_marking(), KeyedMarking::empty(1));
    /// let (m, k) = bank.fire_keyed(&m, &k, "open", 1, &args(&[("user", "alice")])).unwrap();
    /// let (m, k) = bank.fire_keyed(&m, &k, "transfer", 30, &args(&[("from", "alice"), ("to", "bob")])).unwrap();
    /// assert_eq!((k.get(0, "alice"), k.get(0, "bob"), m.0[0]), (70, 30, 100));
    /// let err = bank.fire_keyed(&m, &k, "transfer", 31, &args(&[("from", "bob"), ("to", "alice")])).unwrap_err();
    /// assert_eq!(err.to_string(), "'transfer' is not enabled: place 'balance[bob]' has 30 token(s), needs 31");
    /// ```
    pub fn fire_keyed(
        &self,
        marking: &Marking,
        keyed: &KeyedMarking,
        transition: &str,
        multiple: u64,
        args: &[(String, String)],
    ) -> Result<(Marking, KeyedMarking), FireError> {
        let t = self
            .transition_index(transition)
            .ok_or_else(|| FireError::UnknownTransition {
                transition: transition.to_string(),
            })?;
        let (mut m, mut k) = (marking.clone(), keyed.clone());
        let mut changes = Vec::new();
        self.fire_keyed_in_place(
            &mut m,
            &mut k,
            t,
            multiple,
            &RoleSet::All,
            args,
            None,
            &mut changes,
        )?;
        Ok((m, k))
    }

    /// Fires transition `t` with `args` (`(param, key)` pairs, exactly one
    /// per parameter, in any order) on `marking` (unkeyed counts and keyed
    /// totals) and `keyed` (the keys). `signer` is the key (lowercase hex)
    /// of the device signing the firing's event: each parameter of the
    /// transition's `signer` list must be bound to it, and with `None`
    /// such a transition is refused (`BAD_ARGUMENT`). `changes` receives
    /// the keys whose count changed, sorted by (place, key). On error
    /// nothing changes.
    ///
    /// Costs O(arcs of `t`), whatever the number of keys.
    #[allow(clippy::too_many_arguments)]
    pub fn fire_keyed_in_place(
        &self,
        marking: &mut Marking,
        keyed: &mut KeyedMarking,
        t: TransitionIndex,
        multiple: u64,
        roles: &RoleSet,
        args: &[(String, String)],
        signer: Option<&str>,
        changes: &mut Vec<KeyChange>,
    ) -> Result<(), FireError> {
        changes.clear();
        let plan = self.plan_keyed(marking, keyed, t, multiple, roles, args, signer)?;
        super::apply(&self.net().transitions[t], &mut marking.0, multiple);
        for &(place, total) in &plan.totals {
            marking.0[place as usize] = total;
        }
        for &(place, key, before, after) in &plan.keys {
            if before != after {
                keyed.set(place as usize, key, after);
                changes.push((place as usize, key.to_string(), after));
            }
        }
        Ok(())
    }

    /// Why `t` may not fire with `args` for `signer` (or `Ok` if it may),
    /// changing nothing.
    #[allow(clippy::too_many_arguments)]
    pub fn check_keyed(
        &self,
        marking: &Marking,
        keyed: &KeyedMarking,
        t: TransitionIndex,
        multiple: u64,
        roles: &RoleSet,
        args: &[(String, String)],
        signer: Option<&str>,
    ) -> Result<(), FireError> {
        self.plan_keyed(marking, keyed, t, multiple, roles, args, signer)
            .map(|_| ())
    }

    #[allow(clippy::too_many_arguments)]
    fn plan_keyed<'a>(
        &'a self,
        marking: &Marking,
        keyed: &KeyedMarking,
        t: TransitionIndex,
        multiple: u64,
        roles: &RoleSet,
        args: &'a [(String, String)],
        signer: Option<&str>,
    ) -> Result<Plan<'a>, FireError> {
        self.check_size(marking, t, multiple)?;
        let compiled = &self.net().transitions[t];
        let bound = self.bind(t, args, signer)?;
        let consts = &self.net().consts;
        let key_of = |k: KeySource| -> &'a str {
            match k {
                KeySource::Param(i) => bound[i as usize],
                KeySource::Const(c) => consts[c as usize].as_str(),
            }
        };
        check(compiled, &marking.0, multiple, roles).map_err(|r| self.explain(t, r, roles))?;
        let named = |place: u32, key: &str| format!("{}[{key}]", self.places()[place as usize].id);
        let transition = || self.transitions()[t].id.clone();
        for g in compiled.keyed_guards.iter() {
            let key = key_of(g.key);
            let has = keyed.get(g.place as usize, key);
            if g.at_least && has < g.n {
                return Err(FireError::ReadArcUnmet {
                    transition: transition(),
                    place: named(g.place, key),
                    has,
                    needs: g.n,
                });
            }
            if !g.at_least && has >= g.n {
                return Err(FireError::Inhibited {
                    transition: transition(),
                    place: named(g.place, key),
                    has,
                    limit: g.n,
                });
            }
        }
        // Two parameters bound to the same key of a place act on it
        // together: consume both, then produce both (as two arcs of one
        // unkeyed place would).
        let mut merged: Vec<(u32, &str, u64, u64, bool, u64)> =
            Vec::with_capacity(compiled.keyed_effects.len());
        let overflow = |place: u32, key: &str| FireError::Overflow {
            transition: transition(),
            place: named(place, key),
        };
        for e in compiled.keyed_effects.iter() {
            let key = key_of(e.key);
            let consume = e
                .consume
                .checked_mul(multiple)
                .ok_or_else(|| overflow(e.place, key))?;
            let produce = e
                .produce
                .checked_mul(multiple)
                .ok_or_else(|| overflow(e.place, key))?;
            match merged.iter_mut().find(|m| m.0 == e.place && m.1 == key) {
                Some(m) => {
                    m.2 =
                        m.2.checked_add(consume)
                            .ok_or_else(|| overflow(e.place, key))?;
                    m.3 =
                        m.3.checked_add(produce)
                            .ok_or_else(|| overflow(e.place, key))?;
                    m.4 |= e.reset;
                    m.5 = m.5.min(e.limit);
                }
                None => merged.push((e.place, key, consume, produce, e.reset, e.limit)),
            }
        }
        merged.sort_unstable_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
        let mut plan = Plan {
            keys: Vec::with_capacity(merged.len()),
            totals: Vec::new(),
        };
        for (place, key, consume, produce, reset, limit) in merged {
            let has = keyed.get(place as usize, key);
            if has < consume {
                return Err(FireError::NotEnabled {
                    transition: transition(),
                    place: named(place, key),
                    has,
                    needs: consume,
                });
            }
            let kept = if reset { 0 } else { has - consume };
            let after = kept
                .checked_add(produce)
                .filter(|&n| n <= MAX_TOKENS)
                .ok_or_else(|| overflow(place, key))?;
            if after > limit {
                return Err(FireError::CapacityExceeded {
                    transition: transition(),
                    place: named(place, key),
                    would_have: after,
                    capacity: limit,
                });
            }
            // The place's total moves by the same amount; it too stays
            // within 2^53 - 1.
            let total = match plan.totals.last_mut() {
                Some(last) if last.0 == place => &mut last.1,
                _ => {
                    plan.totals.push((place, marking.0[place as usize]));
                    &mut plan.totals.last_mut().expect("just pushed").1
                }
            };
            *total = total
                .checked_sub(has)
                .and_then(|n| n.checked_add(after))
                .filter(|&n| n <= MAX_TOKENS)
                .ok_or_else(|| FireError::Overflow {
                    transition: self.transitions()[t].id.clone(),
                    place: self.places()[place as usize].id.clone(),
                })?;
            plan.keys.push((place, key, has, after));
        }
        Ok(plan)
    }

    /// Binds `args` to the parameters of `t`: exactly one argument per
    /// parameter, each a key of 1 to [`MAX_KEY_BYTES`] bytes, the
    /// `distinct` pairs bound to different keys and the `signer`
    /// parameters bound to `signer`.
    fn bind<'a>(
        &self,
        t: TransitionIndex,
        args: &'a [(String, String)],
        signer: Option<&str>,
    ) -> Result<[&'a str; MAX_PARAMS], FireError> {
        let transition = &self.transitions()[t];
        let bad = |argument: &str, message: String| FireError::BadArgument {
            transition: transition.id.clone(),
            argument: argument.chars().take(64).collect(),
            message,
        };
        let mut bound = [""; MAX_PARAMS];
        let mut seen = [false; MAX_PARAMS];
        for (name, value) in args {
            let Some(i) = transition.params.iter().position(|p| p == name) else {
                return Err(bad(name, "is not a parameter of this transition".into()));
            };
            if seen[i] {
                return Err(bad(name, "is given twice".into()));
            }
            if value.is_empty() || value.len() > MAX_KEY_BYTES {
                return Err(bad(
                    name,
                    format!("must be a key of 1 to {MAX_KEY_BYTES} bytes"),
                ));
            }
            seen[i] = true;
            bound[i] = value;
        }
        if let Some(i) = (0..transition.params.len()).find(|&i| !seen[i]) {
            return Err(bad(&transition.params[i], "is missing".into()));
        }
        for &(a, b) in self.net().transitions[t].distinct.iter() {
            if bound[a as usize] == bound[b as usize] {
                return Err(bad(
                    &transition.params[b as usize],
                    format!(
                        "must differ from '{}' (both are '{}')",
                        transition.params[a as usize], bound[a as usize]
                    ),
                ));
            }
        }
        for &i in self.net().transitions[t].signer.iter() {
            let (name, value) = (&transition.params[i as usize], bound[i as usize]);
            let problem = match signer {
                Some(s) if s == value => continue,
                Some(s) => format!(
                    "is bound to the signer: it must be the signing device's key {}, not '{}'",
                    short(s),
                    short(value)
                ),
                None => "is bound to the signer, and this firing has none (fire it on a stream)"
                    .to_string(),
            };
            return Err(bad(name, problem));
        }
        Ok(bound)
    }
}

/// A key quoted in a message, cut to 64 characters.
fn short(key: &str) -> String {
    key.chars().take(64).collect()
}

/// The plain firing path of a transition with parameters: it has no
/// arguments, so the first parameter is missing. One on constant keys
/// alone has no keys to fire on.
pub(super) fn missing_args(model: &Model, t: TransitionIndex) -> Option<FireError> {
    let transition = &model.transitions()[t];
    if let Some(p) = transition.params.first() {
        return Some(FireError::BadArgument {
            transition: transition.id.clone(),
            argument: p.clone(),
            message: "is missing".into(),
        });
    }
    model.net().transitions[t]
        .touches_keyed()
        .then(|| FireError::BadArgument {
            transition: transition.id.clone(),
            argument: String::new(),
            message: "touches keyed places: fire it with its keys (fire_keyed, or on a stream)"
                .into(),
        })
}
