//! P-invariants (weighted sums of tokens that no firing changes) and
//! T-invariants (firing counts that bring a marking back to itself), as a
//! minimal generating set of semi-positive integer vectors (the Farkas
//! algorithm, [`super::farkas`]), with what they prove about the net.
//!
//! A P-invariant y satisfies y^T C = 0, so y · m = y · m0 in every marking
//! reachable from the initial marking m0, whatever the order, the roles or
//! the multiples of the firings: read and inhibitor arcs and capacities only
//! forbid firings. A place a reset arc empties changes by an amount no
//! constant describes, so such places get weight 0 in every P-invariant
//! reported (they are listed in [`PInvariants::excluded`]), and transitions
//! with a reset arc take no part in T-invariants.

use serde::Serialize;

use super::farkas::{semiflows, FarkasLimits};
use super::{incidence, AnalysisError, Incidence};
use crate::model::{Model, MAX_TOKENS};

/// One element of an invariant with its weight.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Weighted {
    /// Place or transition id.
    pub id: String,
    /// Its weight (>= 1).
    pub weight: u64,
}

/// One minimal invariant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Invariant {
    /// The support with its weights, sorted by id; the gcd of the weights is 1.
    pub weights: Vec<Weighted>,
    /// P-invariants: the conserved sum y · m0 (None for T-invariants, and
    /// when the sum is above 2^53 - 1).
    pub total: Option<u64>,
    /// The equation, with ids: `alice + bob + carol = 175`,
    /// `2*free + busy = 4`, or `t1 + t2` for a T-invariant.
    pub formula: String,
    /// The same in words, with labels where the net has them.
    pub sentence: String,
}

/// The P-invariants of a net and what they prove.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PInvariants {
    /// The minimal P-invariants (semi-positive, minimal support).
    pub invariants: Vec<Invariant>,
    /// Places in no invariant's support (a net is *covered* when empty).
    pub uncovered: Vec<String>,
    /// Places left out because a reset arc empties them.
    pub excluded: Vec<String>,
    /// Per place (model order): the bound the invariants and the capacity
    /// prove for every reachable marking, or None if they prove none.
    pub bounds: Vec<Option<u64>>,
    /// Every place has a proven bound: the net is bounded from this
    /// initial marking (structurally bounded when the cover is by
    /// invariants).
    pub bounded: bool,
}

/// The T-invariants of a net.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TInvariants {
    /// The minimal T-invariants.
    pub invariants: Vec<Invariant>,
    /// Transitions in no invariant (no run that returns to a marking uses them).
    pub uncovered: Vec<String>,
    /// Transitions left out because they have a reset arc.
    pub excluded: Vec<String>,
}

fn name(label: &str, id: &str) -> String {
    if label.is_empty() {
        id.to_string()
    } else {
        label.to_string()
    }
}

/// "A", "A and B", "A, B and C".
fn list(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

fn term(weight: u64, name: &str, sep: &str) -> String {
    if weight == 1 {
        name.to_string()
    } else {
        format!("{weight}{sep}{name}")
    }
}

/// The P-invariants of `model`, with the conserved totals of its initial
/// marking and the place bounds they prove.
pub fn p_invariants(model: &Model) -> Result<PInvariants, AnalysisError> {
    p_invariants_with(model, &incidence(model), &FarkasLimits::default())
}

pub(crate) fn p_invariants_with(
    model: &Model,
    c: &Incidence,
    limits: &FarkasLimits,
) -> Result<PInvariants, AnalysisError> {
    let places = model.places();
    let mut rows: Vec<Vec<(usize, i64)>> = vec![Vec::new(); places.len()];
    for (t, column) in c.columns.iter().enumerate() {
        for &(p, v) in column {
            rows[p].push((t, v));
        }
    }
    let skip: Vec<bool> = (0..places.len()).map(|p| c.place_has_reset(p)).collect();
    let flows = semiflows(&rows, c.transitions.len(), &skip, limits)?;

    let mut bounds: Vec<Option<u64>> = places
        .iter()
        .map(|p| (p.capacity > 0).then_some(p.capacity))
        .collect();
    let mut covered = vec![false; places.len()];
    let mut invariants = Vec::with_capacity(flows.len());
    for flow in flows {
        // y . m0 in u128: weights and counts are below 2^63 and 2^53.
        let total = flow.iter().try_fold(0u128, |sum, &(p, w)| {
            (w as u128)
                .checked_mul(places[p].initial as u128)
                .and_then(|x| sum.checked_add(x))
        });
        for &(p, w) in &flow {
            covered[p] = true;
            if let Some(total) = total {
                let bound = u64::try_from(total / w as u128)
                    .unwrap_or(u64::MAX)
                    .min(MAX_TOKENS);
                bounds[p] = Some(bounds[p].map_or(bound, |b| b.min(bound)));
            }
        }
        let total = total
            .and_then(|t| u64::try_from(t).ok())
            .filter(|&t| t <= MAX_TOKENS);
        invariants.push(describe_p(model, &flow, total));
    }
    invariants.sort_by(|a, b| a.formula.cmp(&b.formula));
    let ids = |pick: &dyn Fn(usize) -> bool| -> Vec<String> {
        (0..places.len())
            .filter(|&p| pick(p))
            .map(|p| places[p].id.clone())
            .collect()
    };
    Ok(PInvariants {
        invariants,
        uncovered: ids(&|p| !covered[p]),
        excluded: ids(&|p| skip[p]),
        bounded: bounds.iter().all(Option::is_some),
        bounds,
    })
}

fn describe_p(model: &Model, flow: &[(usize, u64)], total: Option<u64>) -> Invariant {
    let places = model.places();
    let mut weights: Vec<Weighted> = flow
        .iter()
        .map(|&(p, w)| Weighted {
            id: places[p].id.clone(),
            weight: w,
        })
        .collect();
    weights.sort_by(|a, b| a.id.cmp(&b.id));
    let total_text = total.map_or_else(|| "above 2^53-1".to_string(), |t| t.to_string());
    let lhs: Vec<String> = weights.iter().map(|w| term(w.weight, &w.id, "*")).collect();
    let formula = format!("{} = {total_text}", lhs.join(" + "));
    let names: Vec<String> = flow
        .iter()
        .map(|&(p, _)| name(&places[p].label, &places[p].id))
        .collect();
    let sentence = if flow.len() == 1 && flow[0].1 == 1 {
        format!("{} always holds {total_text}.", names[0])
    } else if flow.iter().all(|&(_, w)| w == 1) {
        format!("The total of {} is always {total_text}.", list(&names))
    } else {
        let terms: Vec<String> = flow
            .iter()
            .zip(&names)
            .map(|(&(_, w), n)| term(w, n, " × "))
            .collect();
        format!("{} is always {total_text}.", terms.join(" + "))
    };
    Invariant {
        weights,
        total,
        formula,
        sentence,
    }
}

/// The T-invariants of `model`.
pub fn t_invariants(model: &Model) -> Result<TInvariants, AnalysisError> {
    t_invariants_with(model, &incidence(model), &FarkasLimits::default())
}

pub(crate) fn t_invariants_with(
    model: &Model,
    c: &Incidence,
    limits: &FarkasLimits,
) -> Result<TInvariants, AnalysisError> {
    let transitions = model.transitions();
    let skip: Vec<bool> = (0..transitions.len())
        .map(|t| c.transition_has_reset(t))
        .collect();
    let flows = semiflows(&c.columns, c.places.len(), &skip, limits)?;
    let mut covered = vec![false; transitions.len()];
    let mut invariants: Vec<Invariant> = flows
        .iter()
        .map(|flow| {
            let mut weights: Vec<Weighted> = flow
                .iter()
                .map(|&(t, w)| {
                    covered[t] = true;
                    Weighted {
                        id: transitions[t].id.clone(),
                        weight: w,
                    }
                })
                .collect();
            weights.sort_by(|a, b| a.id.cmp(&b.id));
            let formula = weights
                .iter()
                .map(|w| term(w.weight, &w.id, "*"))
                .collect::<Vec<_>>()
                .join(" + ");
            let names: Vec<String> = flow
                .iter()
                .map(|&(t, w)| {
                    let n = name(&transitions[t].label, &transitions[t].id);
                    match w {
                        1 => n,
                        2 => format!("{n} twice"),
                        w => format!("{n} {w} times"),
                    }
                })
                .collect();
            let sentence = format!(
                "Firing {} (in an order the net allows) brings the net back to the marking it started from.",
                list(&names)
            );
            Invariant {
                weights,
                total: None,
                formula,
                sentence,
            }
        })
        .collect();
    invariants.sort_by(|a, b| a.formula.cmp(&b.formula));
    let ids = |pick: &dyn Fn(usize) -> bool| -> Vec<String> {
        (0..transitions.len())
            .filter(|&t| pick(t))
            .map(|t| transitions[t].id.clone())
            .collect()
    };
    Ok(TInvariants {
        invariants,
        uncovered: ids(&|t| !covered[t] && !skip[t]),
        excluded: ids(&|t| skip[t]),
    })
}
