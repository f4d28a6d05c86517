//! Is this marking reachable? First the proofs that need no search: a
//! P-invariant whose sum the target breaks, or a count above a capacity,
//! makes it unreachable. Otherwise a breadth-first search of the
//! reachability graph (never ω: reachability is exact) answers with a
//! shortest firing sequence, or "unreachable" when it has seen every
//! reachable marking, or "unknown" when it stopped at a limit.

use serde::Serialize;

use super::explore::{search, stopped_text, ExploreLimits, Stopped};
use super::invariants::p_invariants_with;
use super::{AnalysisError, Clock};
use crate::engine::Marking;
use crate::model::{ArcKind, Model, MAX_TOKENS};

/// The answer of [`find_marking`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(
    tag = "answer",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Reachability {
    /// The marking is reached by this sequence (shortest; transition ids).
    Reachable {
        /// The firings, each once, from the initial marking.
        sequence: Vec<String>,
        /// States explored before it was found.
        states: u64,
    },
    /// Proven unreachable.
    Unreachable {
        /// Why: an invariant it breaks, a capacity, or an exhaustive search.
        reason: String,
        /// States explored (0 when a structural proof sufficed).
        states: u64,
    },
    /// The search stopped at a limit without finding it.
    Unknown {
        /// States explored.
        states: u64,
        /// The limit that stopped it.
        stopped: Stopped,
        /// "explored N states, not exhaustive: ...".
        summary: String,
    },
}

/// Whether `target` is reachable from the initial marking of `model`
/// (single firings by an actor holding every role).
pub fn find_marking(
    model: &Model,
    target: &Marking,
    limits: &ExploreLimits,
    clock: &dyn Clock,
) -> Result<Reachability, AnalysisError> {
    super::explore::refuse_parameters(model)?;
    let places = model.places();
    if target.0.len() != places.len() {
        return Err(AnalysisError::WrongMarkingSize {
            expected: places.len(),
            got: target.0.len(),
        });
    }
    if let Some((p, &n)) = target.0.iter().enumerate().find(|(_, &n)| n > MAX_TOKENS) {
        return Err(AnalysisError::Overflow {
            what: format!("count of place '{}'", places[p].id),
            value: n,
        });
    }
    if let Some((p, &n)) = target
        .0
        .iter()
        .enumerate()
        .find(|&(p, &n)| places[p].capacity > 0 && n > places[p].capacity)
    {
        return Ok(Reachability::Unreachable {
            reason: format!(
                "place '{}' would hold {n}, above its capacity {}",
                places[p].id, places[p].capacity
            ),
            states: 0,
        });
    }
    // A quick proof first; a net too large for it is searched.
    let quick = super::farkas::FarkasLimits::quick();
    if let Ok(invariants) = p_invariants_with(model, &super::incidence(model), &quick) {
        for inv in &invariants.invariants {
            let Some(total) = inv.total else { continue };
            let sum = inv.weights.iter().try_fold(0u128, |sum, w| {
                let p = model.place_index(&w.id)?;
                (w.weight as u128)
                    .checked_mul(target.0[p] as u128)
                    .and_then(|x| sum.checked_add(x))
            });
            if sum != Some(total as u128) {
                let has = sum.map_or_else(|| "more".to_string(), |s| s.to_string());
                return Ok(Reachability::Unreachable {
                    reason: format!("it breaks the invariant {} (its sum is {has})", inv.formula),
                    states: 0,
                });
            }
        }
    }
    let start = model.initial_marking();
    let s = search(model, &start.0, limits, clock, false, Some(&target.0))?;
    let states = s.set.len() as u64;
    Ok(match (s.found, s.stopped) {
        (Some(i), _) => Reachability::Reachable {
            sequence: s.sequence(model, i),
            states,
        },
        (None, None) => Reachability::Unreachable {
            reason: if model.arcs().iter().all(|a| a.kind == ArcKind::Normal) {
                format!("{}, and it is not among them", stopped_text(states, None))
            } else {
                format!(
                    "{}, and it is not among them (single firings: with read, inhibitor or reset arcs a firing with multiple > 1 can reach more)",
                    stopped_text(states, None)
                )
            },
            states,
        },
        (None, Some(stopped)) => Reachability::Unknown {
            states,
            stopped,
            summary: stopped_text(states, Some(stopped)),
        },
    })
}
