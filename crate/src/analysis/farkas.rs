//! The Farkas algorithm (Martínez & Silva 1982, with the minimal-support
//! pruning of Colom & Silva 1991): a minimal generating set of the
//! semi-positive integer solutions y >= 0 of y^T A = 0, for a sparse matrix
//! A given by rows. P-invariants are the case A = C (rows = places), and
//! T-invariants the case A = C^T (rows = transitions).
//!
//! Each working row is (the remaining part of y^T A, y). A column is
//! eliminated by keeping the rows that are 0 there and adding every positive
//! combination of a row that is positive there with one that is negative;
//! a row whose support (the places with y > 0) contains another row's
//! support is not minimal and is dropped at once, which keeps the row count
//! small on real nets. Columns go in the order that creates the fewest new
//! rows first. All arithmetic is checked; rows are divided by the gcd of
//! their entries. The row count and the number of combinations tried are
//! bounded, and exceeding either is an error, never a partial answer.

use super::AnalysisError;

/// Bounds on the work of [`semiflows`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct FarkasLimits {
    /// Most working rows at any time.
    pub max_rows: usize,
    /// Most row combinations tried in total.
    pub max_combinations: u64,
    /// Most non-zero entries held by all working rows together (memory).
    pub max_entries: usize,
}

impl Default for FarkasLimits {
    fn default() -> Self {
        FarkasLimits {
            max_rows: 100_000,
            max_combinations: 50_000_000,
            max_entries: 4_000_000,
        }
    }
}

impl FarkasLimits {
    /// A small budget (about 50 ms natively): for the proofs other analyses
    /// try first, which fall back to exploring when it is exceeded.
    pub(crate) fn quick() -> FarkasLimits {
        FarkasLimits {
            max_rows: 10_000,
            max_combinations: 1_000_000,
            max_entries: 1_000_000,
        }
    }
}

#[derive(Debug, Clone)]
struct Row {
    /// (column, value) of y^T A on the columns not eliminated yet; sorted, non-zero.
    coef: Vec<(u32, i64)>,
    /// (object, weight) of y; sorted, weights > 0.
    y: Vec<(u32, i64)>,
    /// The support of y as a bitset.
    bits: Vec<u64>,
}

impl Row {
    fn at(&self, column: u32) -> i64 {
        self.coef
            .binary_search_by_key(&column, |&(c, _)| c)
            .map(|i| self.coef[i].1)
            .unwrap_or(0)
    }
}

fn subset(a: &[u64], b: &[u64]) -> bool {
    a.iter().zip(b).all(|(x, y)| x & !y == 0)
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

fn overflow() -> AnalysisError {
    AnalysisError::Overflow {
        what: "an invariant's weights".into(),
        value: 0,
    }
}

/// `a * x + b * z` of two sorted sparse vectors, dropping zeros and the
/// column `skip` (the one being eliminated, which is zero by construction).
fn combine(
    x: &[(u32, i64)],
    a: i64,
    z: &[(u32, i64)],
    b: i64,
    skip: u32,
    out: &mut Vec<(u32, i64)>,
) -> Result<(), AnalysisError> {
    out.clear();
    let (mut i, mut j) = (0, 0);
    while i < x.len() || j < z.len() {
        let (col, v) = match (x.get(i), z.get(j)) {
            (Some(&(ci, vi)), Some(&(cj, _))) if ci < cj => {
                i += 1;
                (ci, vi.checked_mul(a).ok_or_else(overflow)?)
            }
            (Some(&(ci, _)), Some(&(cj, vj))) if cj < ci => {
                j += 1;
                (cj, vj.checked_mul(b).ok_or_else(overflow)?)
            }
            (Some(&(ci, vi)), Some(&(_, vj))) => {
                i += 1;
                j += 1;
                if ci == skip {
                    continue;
                }
                let v = vi
                    .checked_mul(a)
                    .and_then(|l| vj.checked_mul(b).and_then(|r| l.checked_add(r)))
                    .ok_or_else(overflow)?;
                (ci, v)
            }
            (Some(&(ci, vi)), None) => {
                i += 1;
                (ci, vi.checked_mul(a).ok_or_else(overflow)?)
            }
            (None, Some(&(cj, vj))) => {
                j += 1;
                (cj, vj.checked_mul(b).ok_or_else(overflow)?)
            }
            (None, None) => break,
        };
        if v != 0 && col != skip {
            out.push((col, v));
        }
    }
    Ok(())
}

/// Minimal-support semi-positive solutions of y^T A = 0.
///
/// `rows[i]` is row i of A as sorted (column, value) pairs with values
/// non-zero; `columns` is the number of columns; rows listed in `skip` take
/// weight 0 in every solution. Returns each solution as sorted (row, weight)
/// pairs, weights > 0 with gcd 1, sorted by support.
pub(crate) fn semiflows(
    rows: &[Vec<(usize, i64)>],
    columns: usize,
    skip: &[bool],
    limits: &FarkasLimits,
) -> Result<Vec<Vec<(usize, u64)>>, AnalysisError> {
    let words = rows.len().div_ceil(64);
    let too_large = |what: &str, limit: u64| AnalysisError::TooLarge {
        what: what.to_string(),
        limit,
    };
    if rows.len() > u32::MAX as usize || columns > u32::MAX as usize {
        return Err(too_large("rows or columns of the matrix", u32::MAX as u64));
    }
    let mut work: Vec<Row> = rows
        .iter()
        .enumerate()
        .filter(|&(i, _)| !skip.get(i).copied().unwrap_or(false))
        .map(|(i, r)| {
            let mut bits = vec![0u64; words];
            bits[i / 64] |= 1 << (i % 64);
            Row {
                coef: r.iter().map(|&(c, v)| (c as u32, v)).collect(),
                y: vec![(i as u32, 1)],
                bits,
            }
        })
        .collect();
    let mut done = vec![false; columns];
    let mut combinations = 0u64;
    let mut scratch = Vec::new();
    let mut pos_count = vec![0u64; columns];
    let mut neg_count = vec![0u64; columns];
    loop {
        // The column whose elimination adds the fewest rows.
        pos_count.iter_mut().for_each(|n| *n = 0);
        neg_count.iter_mut().for_each(|n| *n = 0);
        for row in &work {
            for &(c, v) in &row.coef {
                if v > 0 {
                    pos_count[c as usize] += 1;
                } else {
                    neg_count[c as usize] += 1;
                }
            }
        }
        let Some(column) = (0..columns)
            .filter(|&c| !done[c] && (pos_count[c] > 0 || neg_count[c] > 0))
            .min_by_key(|&c| {
                let (p, n) = (pos_count[c] as i128, neg_count[c] as i128);
                p * n - p - n
            })
        else {
            break;
        };
        done[column] = true;
        let column = column as u32;
        let (mut zero, mut pos, mut neg) = (Vec::new(), Vec::new(), Vec::new());
        for row in work.drain(..) {
            match row.at(column) {
                0 => zero.push(row),
                v if v > 0 => pos.push(row),
                _ => neg.push(row),
            }
        }
        let mut fresh: Vec<Row> = Vec::new();
        let mut entries: usize = zero.iter().map(|r| r.coef.len() + r.y.len()).sum();
        let mut union = vec![0u64; words];
        for p in &pos {
            for n in &neg {
                combinations += 1;
                if combinations > limits.max_combinations {
                    return Err(too_large(
                        "row combinations of the Farkas algorithm",
                        limits.max_combinations,
                    ));
                }
                for (w, (a, b)) in union.iter_mut().zip(p.bits.iter().zip(&n.bits)) {
                    *w = a | b;
                }
                // Not minimal if a kept row's support lies inside the union
                // (that row is then a better generator than the combination).
                let dominated = zero
                    .iter()
                    .chain(fresh.iter())
                    .any(|r| subset(&r.bits, &union))
                    || pos.iter().chain(neg.iter()).any(|r| {
                        !std::ptr::eq(r, p) && !std::ptr::eq(r, n) && subset(&r.bits, &union)
                    });
                if dominated {
                    continue;
                }
                let (a, b) = (
                    n.at(column).checked_neg().ok_or_else(overflow)?,
                    p.at(column),
                );
                let mut row = Row {
                    coef: Vec::new(),
                    y: Vec::new(),
                    bits: union.clone(),
                };
                combine(&p.coef, a, &n.coef, b, column, &mut scratch)?;
                row.coef = scratch.clone();
                combine(&p.y, a, &n.y, b, u32::MAX, &mut scratch)?;
                row.y = scratch.clone();
                let g = row
                    .coef
                    .iter()
                    .chain(row.y.iter())
                    .fold(0, |g, &(_, v)| gcd(g, v.unsigned_abs()));
                // g <= 2^63; only i64::MIN entries have 2^63, left as they are.
                if let Ok(g) = i64::try_from(g) {
                    if g > 1 {
                        row.coef
                            .iter_mut()
                            .chain(row.y.iter_mut())
                            .for_each(|e| e.1 /= g);
                    }
                }
                entries += row.coef.len() + row.y.len();
                fresh.push(row);
                if entries > limits.max_entries {
                    return Err(too_large(
                        "entries of the Farkas algorithm's rows",
                        limits.max_entries as u64,
                    ));
                }
                if zero.len() + fresh.len() > limits.max_rows {
                    return Err(too_large(
                        "working rows of the Farkas algorithm",
                        limits.max_rows as u64,
                    ));
                }
            }
        }
        // Kept rows whose support contains a new row's are not minimal either.
        if !fresh.is_empty() {
            zero.retain(|z| !fresh.iter().any(|f| subset(&f.bits, &z.bits)));
        }
        zero.append(&mut fresh);
        work = zero;
    }
    // Rows whose y^T A is not zero on some column never zeroed are not
    // solutions: every remaining column was zero in all rows, so none are.
    let mut out: Vec<Vec<(usize, u64)>> = work
        .into_iter()
        .filter(|r| r.coef.is_empty())
        .map(|r| {
            r.y.into_iter()
                .map(|(i, v)| (i as usize, v as u64))
                .collect()
        })
        .collect();
    out.sort();
    out.dedup();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(rows: &[Vec<(usize, i64)>], columns: usize) -> Vec<Vec<(usize, u64)>> {
        semiflows(rows, columns, &[], &FarkasLimits::default()).unwrap()
    }

    #[test]
    fn a_cycle_has_one_semiflow() {
        // p0 -t0-> p1 -t1-> p2 -t2-> p0
        let rows = vec![
            vec![(0, -1), (2, 1)],
            vec![(0, 1), (1, -1)],
            vec![(1, 1), (2, -1)],
        ];
        assert_eq!(run(&rows, 3), vec![vec![(0, 1), (1, 1), (2, 1)]]);
    }

    #[test]
    fn weights_are_found_and_reduced() {
        // t0 takes 2 from p0 and puts 1 in p1: 1*p0 + 2*p1 is conserved.
        let rows = vec![vec![(0, -2)], vec![(0, 1)]];
        assert_eq!(run(&rows, 1), vec![vec![(0, 1), (1, 2)]]);
        // 2 -> 2 gives weights (2, 2) before the gcd is divided out.
        let rows = vec![vec![(0, -2), (1, 4)], vec![(0, 2), (1, -4)]];
        assert_eq!(run(&rows, 2), vec![vec![(0, 1), (1, 1)]]);
    }

    #[test]
    fn an_untouched_row_is_its_own_semiflow_and_a_source_has_none() {
        let rows = vec![vec![], vec![(0, 1)]];
        assert_eq!(run(&rows, 1), vec![vec![(0, 1)]]);
    }

    #[test]
    fn non_minimal_combinations_are_pruned() {
        // Two independent cycles sharing nothing, plus their sum must not appear.
        let rows = vec![
            vec![(0, -1), (1, 1)],
            vec![(0, 1), (1, -1)],
            vec![(2, -1), (3, 1)],
            vec![(2, 1), (3, -1)],
        ];
        assert_eq!(
            run(&rows, 4),
            vec![vec![(0, 1), (1, 1)], vec![(2, 1), (3, 1)]]
        );
    }

    #[test]
    fn limits_are_errors() {
        let rows: Vec<Vec<(usize, i64)>> = (0..20)
            .map(|i| vec![(0, if i % 2 == 0 { 1 } else { -1 })])
            .collect();
        for tight in [
            FarkasLimits {
                max_rows: 5,
                ..Default::default()
            },
            FarkasLimits {
                max_combinations: 50,
                ..Default::default()
            },
            FarkasLimits {
                max_entries: 30,
                ..Default::default()
            },
        ] {
            let err = semiflows(&rows, 1, &[], &tight).unwrap_err();
            assert_eq!(err.code(), "TOO_LARGE", "{tight:?}");
        }
        // Without the limit: every pair (even, odd) is a minimal semiflow.
        assert_eq!(run(&rows, 1).len(), 100);
    }

    #[test]
    fn overflow_is_an_error_and_large_weights_are_exact() {
        let big = 1i64 << 62;
        // Eliminating column 0 (first: ties go to the lowest column) needs
        // 2*(big-1) + big on column 1: above i64.
        let rows = vec![
            vec![(0, big), (1, 2)],
            vec![(0, -(big - 1)), (1, 1)],
            vec![(1, -1)],
        ];
        let err = semiflows(&rows, 2, &[], &FarkasLimits::default()).unwrap_err();
        assert!(matches!(err, AnalysisError::Overflow { .. }), "{err:?}");
        let big = 1i64 << 40;
        let rows = vec![vec![(0, big)], vec![(0, -(big - 1))], vec![(0, -(big - 3))]];
        assert_eq!(
            run(&rows, 1),
            vec![
                vec![(0, (big - 3) as u64), (2, big as u64)],
                vec![(0, (big - 1) as u64), (1, big as u64)]
            ]
        );
    }
}
