//! Firing: which transitions are enabled in a marking, and what firing one
//! does. All arithmetic is checked; a refused firing says exactly why and
//! leaves the marking untouched.
//!
//! Semantics (docs/semantics.md has the full text): for `multiple = k`,
//! consume and produce weights are multiplied by k; inhibitor and read
//! thresholds are guards on the marking before firing and are not scaled.
//! Per place the new count is `(reset ? 0 : m - consume*k) + produce*k`, and it
//! must not exceed the place's capacity (0 = unbounded) nor [`MAX_TOKENS`].

mod error;
mod keycounts;
mod keyed;
mod keyhash;

use std::collections::BTreeMap;

pub use error::FireError;
pub use keyed::{KeyChange, KeyedMarking};
pub use keyhash::seed_key_hashing;

use crate::model::{CompiledTransition, Guard, Model, PlaceIndex, TransitionIndex, MAX_TOKENS};

/// Token counts, one per place, in the model's place order.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Marking(pub Vec<u64>);

impl Marking {
    /// The counts as a slice.
    pub fn as_slice(&self) -> &[u64] {
        &self.0
    }
}

/// The roles an actor holds, resolved against one model (see [`Model::roles`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoleSet {
    /// Holds every role (the role `*`).
    All,
    /// Bit i set = holds the model's i-th role.
    Some(Vec<u64>),
}

impl RoleSet {
    /// Holds no role: may fire only transitions without roles.
    pub fn none() -> RoleSet {
        RoleSet::Some(Vec::new())
    }

    fn holds(&self, role: u32) -> bool {
        match self {
            RoleSet::All => true,
            RoleSet::Some(bits) => bits
                .get(role as usize / 64)
                .is_some_and(|w| w >> (role % 64) & 1 == 1),
        }
    }
}

/// Options for [`Model::fire`].
#[derive(Debug, Clone, Copy)]
pub struct FireOptions<'a> {
    /// Fire this many times at once (all consume/produce weights times k); >= 1.
    pub multiple: u64,
    /// Role names the actor holds; `*` holds every role.
    pub roles: &'a [&'a str],
}

impl Default for FireOptions<'_> {
    fn default() -> Self {
        FireOptions {
            multiple: 1,
            roles: &[],
        }
    }
}

/// A refusal before it is given names; keeps the hot path free of allocation.
enum Refusal {
    Role,
    Inhibited {
        place: u32,
        has: u64,
        limit: u64,
    },
    ReadUnmet {
        place: u32,
        has: u64,
        needs: u64,
    },
    NotEnabled {
        place: u32,
        has: u64,
        needs: u64,
    },
    Overflow {
        place: u32,
    },
    Capacity {
        place: u32,
        would_have: u64,
        capacity: u64,
    },
}

impl Model {
    /// The marking the net starts in.
    pub fn initial_marking(&self) -> Marking {
        Marking(self.places().iter().map(|p| p.initial).collect())
    }

    /// Resolves role names against this model. `*` holds every role; names the
    /// model never uses are ignored.
    pub fn roles(&self, names: &[&str]) -> RoleSet {
        if names.contains(&"*") {
            return RoleSet::All;
        }
        let roles = &self.net().roles;
        let mut bits = vec![0u64; roles.len().div_ceil(64)];
        for name in names {
            if let Ok(i) = roles.binary_search_by(|r| r.as_str().cmp(name)) {
                bits[i / 64] |= 1 << (i % 64);
            }
        }
        RoleSet::Some(bits)
    }

    /// Fires `transition` (by id) on a copy of `marking` and returns the result.
    ///
    /// ```
    /// # use petrichain::{formats, FireOptions, FireError};
    /// let (model, _) = formats::json::import_json(r#"{
    ///   "places": [{"id": "stock", "initial": 2}],
    ///   "transitions": [{"id": "sell"}],
    ///   "arcs": [{"source": "stock", "target": "sell"}]
    /// }"#).unwrap();
    /// let m = model.fire(&model.initial_marking(), "sell", &FireOptions { multiple: 2, roles: &[] }).unwrap();
    /// assert_eq!(m.0, vec![0]);
    /// let err = model.fire(&m, "sell", &FireOptions::default()).unwrap_err();
    /// assert!(matches!(err, FireError::NotEnabled { has: 0, needs: 1, .. }));
    /// ```
    pub fn fire(
        &self,
        marking: &Marking,
        transition: &str,
        options: &FireOptions,
    ) -> Result<Marking, FireError> {
        let t = self
            .transition_index(transition)
            .ok_or_else(|| FireError::UnknownTransition {
                transition: transition.to_string(),
            })?;
        let mut next = marking.clone();
        self.fire_in_place(&mut next, t, options.multiple, &self.roles(options.roles))?;
        Ok(next)
    }

    /// Fires transition `t` in place. On error the marking is unchanged.
    /// This is the hot path: no allocation unless the firing is refused.
    pub fn fire_in_place(
        &self,
        marking: &mut Marking,
        t: TransitionIndex,
        multiple: u64,
        roles: &RoleSet,
    ) -> Result<(), FireError> {
        self.check_shape(marking, t, multiple)?;
        let compiled = &self.net().transitions[t];
        match check(compiled, &marking.0, multiple, roles) {
            Ok(()) => {
                apply(compiled, &mut marking.0, multiple);
                Ok(())
            }
            Err(refusal) => Err(self.explain(t, refusal, roles)),
        }
    }

    /// Why `t` may not fire (or `Ok` if it may), without changing anything.
    pub fn check(
        &self,
        marking: &Marking,
        t: TransitionIndex,
        multiple: u64,
        roles: &RoleSet,
    ) -> Result<(), FireError> {
        self.check_shape(marking, t, multiple)?;
        check(&self.net().transitions[t], &marking.0, multiple, roles)
            .map_err(|r| self.explain(t, r, roles))
    }

    /// Indices of the transitions that may fire once in `marking` for an actor
    /// with `roles`. Costs O(arcs of the net).
    pub fn enabled(&self, marking: &Marking, roles: &RoleSet) -> Vec<TransitionIndex> {
        if marking.0.len() != self.places().len() {
            return Vec::new();
        }
        // A transition with parameters needs arguments: it is never enabled
        // without them.
        (0..self.transitions().len())
            .filter(|&t| {
                let c = &self.net().transitions[t];
                c.params == 0 && !c.touches_keyed() && check(c, &marking.0, 1, roles).is_ok()
            })
            .collect()
    }

    /// The unkeyed places firing `t` can change (those of its normal and
    /// reset arcs), in place order. O(arcs of `t`); empty for an unknown
    /// index. See [`Model::changed_keyed_places`] for keyed places.
    pub fn changed_places(&self, t: TransitionIndex) -> impl Iterator<Item = PlaceIndex> + '_ {
        self.net()
            .transitions
            .get(t)
            .map(|c| &c.effects[..])
            .unwrap_or_default()
            .iter()
            .map(|e| e.place as PlaceIndex)
    }

    /// The keyed places whose keys (and total) firing `t` can change, in
    /// place order, each once. O(arcs of `t`), no allocation.
    pub fn changed_keyed_places(
        &self,
        t: TransitionIndex,
    ) -> impl Iterator<Item = PlaceIndex> + '_ {
        let effects = self
            .net()
            .transitions
            .get(t)
            .map(|c| &c.keyed_effects[..])
            .unwrap_or_default();
        // Sorted by place: a place is new when it differs from the one before.
        effects
            .iter()
            .enumerate()
            .filter(move |&(i, e)| i == 0 || effects[i - 1].place != e.place)
            .map(|(_, e)| e.place as PlaceIndex)
    }

    /// Whether transition `t` fires without arguments on the plain path
    /// ([`Model::fire_in_place`]): no parameters and no keyed place touched
    /// (false for an unknown index).
    pub fn is_plain(&self, t: TransitionIndex) -> bool {
        self.net()
            .transitions
            .get(t)
            .is_some_and(|c| c.params == 0 && !c.touches_keyed())
    }

    /// Whether place `p` is keyed.
    pub fn is_keyed(&self, p: PlaceIndex) -> bool {
        self.net().keyed.get(p).copied().unwrap_or(false)
    }

    /// A marking as a map from place id to tokens.
    pub fn marking_map(&self, marking: &Marking) -> BTreeMap<String, u64> {
        self.places()
            .iter()
            .zip(&marking.0)
            .map(|(p, &n)| (p.id.clone(), n))
            .collect()
    }

    /// Builds a marking from place id -> tokens; places not named hold 0.
    pub fn marking_from_map<'a>(
        &self,
        counts: impl IntoIterator<Item = (&'a str, u64)>,
    ) -> Result<Marking, FireError> {
        let mut marking = Marking(vec![0; self.places().len()]);
        for (id, n) in counts {
            let i = self
                .place_index(id)
                .ok_or_else(|| FireError::UnknownPlace {
                    place: id.to_string(),
                })?;
            if n > MAX_TOKENS {
                return Err(FireError::Overflow {
                    transition: String::new(),
                    place: id.to_string(),
                });
            }
            marking.0[i] = n;
        }
        Ok(marking)
    }

    /// [`Model::check_size`], and no parameters: the plain path has no
    /// arguments to bind them.
    fn check_shape(
        &self,
        marking: &Marking,
        t: TransitionIndex,
        multiple: u64,
    ) -> Result<(), FireError> {
        self.check_size(marking, t, multiple)?;
        match keyed::missing_args(self, t) {
            Some(missing) => Err(missing),
            None => Ok(()),
        }
    }

    /// One count per place, a transition that exists, a multiple >= 1.
    fn check_size(
        &self,
        marking: &Marking,
        t: TransitionIndex,
        multiple: u64,
    ) -> Result<(), FireError> {
        if marking.0.len() != self.places().len() {
            return Err(FireError::WrongMarkingSize {
                expected: self.places().len(),
                got: marking.0.len(),
            });
        }
        if t >= self.transitions().len() {
            return Err(FireError::UnknownTransition {
                transition: format!("#{t}"),
            });
        }
        if multiple == 0 {
            return Err(FireError::InvalidMultiple {
                transition: self.transitions()[t].id.clone(),
            });
        }
        Ok(())
    }

    fn explain(&self, t: TransitionIndex, refusal: Refusal, roles: &RoleSet) -> FireError {
        let transition = self.transitions()[t].id.clone();
        let place = |p: u32| self.places()[p as usize].id.clone();
        match refusal {
            Refusal::Role => FireError::RoleDenied {
                transition,
                required: self.transitions()[t].roles.clone(),
                held: match roles {
                    RoleSet::All => vec!["*".into()],
                    RoleSet::Some(_) => (0..self.net().roles.len() as u32)
                        .filter(|&r| roles.holds(r))
                        .map(|r| self.net().roles[r as usize].clone())
                        .collect(),
                },
            },
            Refusal::Inhibited {
                place: p,
                has,
                limit,
            } => FireError::Inhibited {
                transition,
                place: place(p),
                has,
                limit,
            },
            Refusal::ReadUnmet {
                place: p,
                has,
                needs,
            } => FireError::ReadArcUnmet {
                transition,
                place: place(p),
                has,
                needs,
            },
            Refusal::NotEnabled {
                place: p,
                has,
                needs,
            } => FireError::NotEnabled {
                transition,
                place: place(p),
                has,
                needs,
            },
            Refusal::Overflow { place: p } => FireError::Overflow {
                transition,
                place: place(p),
            },
            Refusal::Capacity {
                place: p,
                would_have,
                capacity,
            } => FireError::CapacityExceeded {
                transition,
                place: place(p),
                would_have,
                capacity,
            },
        }
    }
}

/// The single source of truth for "may this fire": roles, then guards, then
/// consumption, then the counts after firing.
#[inline]
fn check(t: &CompiledTransition, m: &[u64], k: u64, roles: &RoleSet) -> Result<(), Refusal> {
    if !t.roles.is_empty() && !t.roles.iter().any(|&r| roles.holds(r)) {
        return Err(Refusal::Role);
    }
    for guard in t.guards.iter() {
        match *guard {
            Guard::Below { place, n } if m[place as usize] >= n => {
                return Err(Refusal::Inhibited {
                    place,
                    has: m[place as usize],
                    limit: n,
                });
            }
            Guard::AtLeast { place, n } if m[place as usize] < n => {
                return Err(Refusal::ReadUnmet {
                    place,
                    has: m[place as usize],
                    needs: n,
                });
            }
            _ => {}
        }
    }
    for e in t.effects.iter() {
        let has = m[e.place as usize];
        let consume = e
            .consume
            .checked_mul(k)
            .ok_or(Refusal::Overflow { place: e.place })?;
        if has < consume {
            return Err(Refusal::NotEnabled {
                place: e.place,
                has,
                needs: consume,
            });
        }
        let produce = e
            .produce
            .checked_mul(k)
            .ok_or(Refusal::Overflow { place: e.place })?;
        let kept = if e.reset { 0 } else { has - consume };
        let after = kept
            .checked_add(produce)
            .filter(|&n| n <= MAX_TOKENS)
            .ok_or(Refusal::Overflow { place: e.place })?;
        if after > e.limit {
            return Err(Refusal::Capacity {
                place: e.place,
                would_have: after,
                capacity: e.limit,
            });
        }
    }
    Ok(())
}

/// Applies a firing that [`check`] accepted; cannot overflow after that check.
#[inline]
fn apply(t: &CompiledTransition, m: &mut [u64], k: u64) {
    for e in t.effects.iter() {
        let slot = &mut m[e.place as usize];
        let kept = if e.reset { 0 } else { *slot - e.consume * k };
        *slot = kept + e.produce * k;
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
pub(crate) mod keyed_tests;
