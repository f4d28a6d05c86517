//! The incidence matrix C (places x transitions): `C[p][t]` is what firing t
//! once does to p, produce minus consume. It is the VASS form of the net's
//! normal arcs; read and inhibitor arcs and capacities only restrict *when*
//! t fires, so they have no column here. A reset arc empties its place
//! whatever it held, which no constant describes: such (place, transition)
//! pairs are listed in [`Incidence::reset`] and the invariant computations
//! leave them out.

use serde::Serialize;

use super::AnalysisError;
use crate::model::Model;

/// Most cells [`Incidence::dense`] and [`Incidence::to_csv`] write (16 M).
pub const MAX_DENSE_CELLS: usize = 1 << 24;

/// The incidence matrix, stored by column (transition).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Incidence {
    /// Place ids, in the model's order (the rows).
    pub places: Vec<String>,
    /// Transition ids, in the model's order (the columns).
    pub transitions: Vec<String>,
    /// For each transition, the places whose count it changes by a
    /// constant, with that change (non-zero), sorted by place.
    pub columns: Vec<Vec<(usize, i64)>>,
    /// (place, transition) pairs joined by a reset arc.
    pub reset: Vec<(usize, usize)>,
}

/// The incidence matrix of `model`. Cost: O(arcs).
pub fn incidence(model: &Model) -> Incidence {
    let mut reset = Vec::new();
    let columns = model
        .net()
        .transitions
        .iter()
        .enumerate()
        .map(|(t, compiled)| {
            compiled
                .effects
                .iter()
                .filter_map(|e| {
                    if e.reset {
                        reset.push((e.place as usize, t));
                        return None;
                    }
                    // Both weights are at most 2^53 - 1, so the difference fits.
                    let change = e.produce as i64 - e.consume as i64;
                    (change != 0).then_some((e.place as usize, change))
                })
                .collect()
        })
        .collect();
    reset.sort_unstable();
    Incidence {
        places: model.places().iter().map(|p| p.id.clone()).collect(),
        transitions: model.transitions().iter().map(|t| t.id.clone()).collect(),
        columns,
        reset,
    }
}

impl Incidence {
    /// `C[p][t]` (0 for a reset pair: see [`Incidence::reset`]).
    pub fn get(&self, place: usize, transition: usize) -> i64 {
        self.columns
            .get(transition)
            .and_then(|c| {
                c.binary_search_by_key(&place, |&(p, _)| p)
                    .ok()
                    .map(|i| c[i].1)
            })
            .unwrap_or(0)
    }

    /// Whether some reset arc joins `place` to some transition.
    pub fn place_has_reset(&self, place: usize) -> bool {
        self.reset.iter().any(|&(p, _)| p == place)
    }

    /// Whether `transition` has a reset arc.
    pub fn transition_has_reset(&self, transition: usize) -> bool {
        self.reset.iter().any(|&(_, t)| t == transition)
    }

    fn check_dense(&self) -> Result<(), AnalysisError> {
        let cells = self.places.len().saturating_mul(self.transitions.len());
        if cells > MAX_DENSE_CELLS {
            return Err(AnalysisError::TooLarge {
                what: format!(
                    "the dense incidence matrix ({} x {} cells)",
                    self.places.len(),
                    self.transitions.len()
                ),
                limit: MAX_DENSE_CELLS as u64,
            });
        }
        Ok(())
    }

    /// The matrix as rows (one per place) of columns (one per transition).
    /// Refused above [`MAX_DENSE_CELLS`] cells.
    pub fn dense(&self) -> Result<Vec<Vec<i64>>, AnalysisError> {
        self.check_dense()?;
        let mut rows = vec![vec![0i64; self.transitions.len()]; self.places.len()];
        for (t, column) in self.columns.iter().enumerate() {
            for &(p, v) in column {
                rows[p][t] = v;
            }
        }
        Ok(rows)
    }

    /// The matrix as CSV: a header `place,<transition ids>`, then one row
    /// per place. A reset pair is written `R`. Refused above
    /// [`MAX_DENSE_CELLS`] cells.
    pub fn to_csv(&self) -> Result<String, AnalysisError> {
        let rows = self.dense()?;
        let mut out = String::from("place");
        for t in &self.transitions {
            out.push(',');
            super::log::push_csv_field(&mut out, t);
        }
        out.push('\n');
        for (p, row) in rows.iter().enumerate() {
            super::log::push_csv_field(&mut out, &self.places[p]);
            for (t, v) in row.iter().enumerate() {
                out.push(',');
                if self.reset.binary_search(&(p, t)).is_ok() {
                    out.push('R');
                } else {
                    out.push_str(&v.to_string());
                }
            }
            out.push('\n');
        }
        Ok(out)
    }
}
