//! The reachability graph, breadth first, with limits on states, time and
//! memory; for unbounded nets the coverability graph (Karp & Miller 1969):
//! a marking that strictly covers one of its ancestors gets ω where it is
//! larger, so the exploration of a net whose places grow without bound
//! still ends. From it: the bound of each place, the transitions that never
//! fire (dead), and the deadlocks (markings where nothing may fire), each
//! with a shortest firing sequence from the initial marking (breadth first
//! finds states in order of distance).
//!
//! ω is only introduced where it is sound: nets without inhibitor and reset
//! arcs (where firing is monotone), and never on a place with a capacity.
//! For other nets the plain reachability graph is explored up to the limits.

use std::collections::BTreeMap;

use serde::Serialize;

use super::markings::{Inserted, MarkingSet};
use super::step::{enabled, fire_into, OMEGA};
use super::{AnalysisError, Clock};
use crate::model::{ArcKind, Model};

/// Limits of an exploration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct ExploreLimits {
    /// Most states to store (default 1,000,000; at most 4,294,967,294).
    pub max_states: usize,
    /// Most milliseconds to run (default: no limit), by the [`Clock`] given.
    pub max_millis: Option<u64>,
    /// Most bytes for the markings, the hash table and the parent links
    /// (default 512 MiB).
    pub max_bytes: usize,
    /// Most deadlocks to report with their firing sequences (default 10;
    /// all are counted). At most 10,000.
    pub max_deadlocks: usize,
}

impl Default for ExploreLimits {
    fn default() -> Self {
        ExploreLimits {
            max_states: 1_000_000,
            max_millis: None,
            max_bytes: 512 << 20,
            max_deadlocks: 10,
        }
    }
}

impl ExploreLimits {
    fn check(&self) -> Result<(), AnalysisError> {
        let bad = |field: &str, message: &str| {
            Err(AnalysisError::InvalidInput {
                field: field.into(),
                message: message.into(),
            })
        };
        if self.max_states == 0 || self.max_states > (u32::MAX - 1) as usize {
            return bad("maxStates", "must be 1 to 4294967294");
        }
        if self.max_deadlocks > 10_000 {
            return bad("maxDeadlocks", "must be at most 10000");
        }
        if self.max_bytes < 1024 {
            return bad("maxBytes", "must be at least 1024");
        }
        Ok(())
    }
}

/// Which limit ended an exploration early.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "limit", rename_all = "camelCase")]
pub enum Stopped {
    /// The state limit.
    States {
        /// The limit.
        max: u64,
    },
    /// The time limit.
    Time {
        /// The limit, in milliseconds.
        max: u64,
    },
    /// The memory limit.
    Memory {
        /// The limit, in bytes.
        max: u64,
    },
}

/// What the exploration saw of one place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Bound {
    /// The place.
    pub place: String,
    /// Most tokens in any explored marking; None when unbounded (ω).
    pub max: Option<u64>,
}

/// A marking where no transition may fire, and how to get there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Deadlock {
    /// The dead marking: place id -> tokens (places holding 0 included).
    pub marking: BTreeMap<String, u64>,
    /// A shortest firing sequence from the initial marking (transition ids,
    /// each fired once).
    pub sequence: Vec<String>,
}

/// The result of [`explore`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StateSpace {
    /// Markings found (nodes of the graph).
    pub states: u64,
    /// Firings between them (edges: (marking, transition) pairs).
    pub edges: u64,
    /// Every state found was expanded: the figures below are exact.
    pub complete: bool,
    /// The limit that stopped it, when not complete.
    pub stopped: Option<Stopped>,
    /// One line for people: "explored 243 states and 945 firings: exhaustive"
    /// or "explored 1,000,000 states, not exhaustive (state limit)".
    pub summary: String,
    /// Some place was found unbounded, so the graph is a coverability graph
    /// (markings with ω): bounds and dead transitions stay exact, the list
    /// of deadlocks covers only the ω-free markings.
    pub coverability: bool,
    /// Per place (model order), its bound: exact when complete, a lower
    /// bound otherwise.
    pub bounds: Vec<Bound>,
    /// Most tokens in one marking, over all places (None if unbounded).
    pub max_total: Option<u64>,
    /// Transitions enabled in no explored marking (dead, when complete).
    pub dead_transitions: Vec<String>,
    /// Deadlocks found among the ω-free markings (all counted, the first
    /// `maxDeadlocks` listed).
    pub deadlock_count: u64,
    /// The first deadlocks found, nearest first, with their sequences.
    pub deadlocks: Vec<Deadlock>,
    /// A firing with `multiple` > 1 is the same as that many single firings
    /// in this net (no read, inhibitor or reset arcs), so the graph covers
    /// every stream of it.
    pub multiples_covered: bool,
    /// Bytes stored per state (packed marking, table share, parent link).
    pub bytes_per_state: u64,
    /// Bytes the exploration held at its end.
    pub memory_bytes: u64,
    /// Milliseconds it took, by the clock given (0 with [`super::NoClock`]).
    pub millis: u64,
}

/// Groups digits by thousands: 1000000 -> "1,000,000".
pub(crate) fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

pub(crate) fn stopped_text(states: u64, stopped: Option<Stopped>) -> String {
    let n = thousands(states);
    let s = if states == 1 { "" } else { "s" };
    match stopped {
        None => format!("explored {n} state{s}: exhaustive"),
        Some(Stopped::States { max }) => format!(
            "explored {n} state{s}, not exhaustive: the state limit ({}) was reached",
            thousands(max)
        ),
        Some(Stopped::Time { max }) => format!(
            "explored {n} state{s}, not exhaustive: the time limit ({} ms) was reached",
            thousands(max)
        ),
        Some(Stopped::Memory { max }) => format!(
            "explored {n} state{s}, not exhaustive: the memory limit ({} bytes) was reached",
            thousands(max)
        ),
    }
}

/// A breadth-first search, as [`explore`] and [`super::find_marking`] use it.
pub(crate) struct Search {
    pub set: MarkingSet,
    /// Parent state of each state (u32::MAX for the initial one).
    pub parent: Vec<u32>,
    /// Transition fired from the parent.
    pub via: Vec<u32>,
    pub edges: u64,
    pub stopped: Option<Stopped>,
    pub found: Option<u32>,
    pub deadlocks: Vec<u32>,
    pub deadlock_count: u64,
    pub ever_enabled: Vec<bool>,
    pub max: Vec<u64>,
    pub max_total: Option<u128>,
    pub omega: bool,
    pub millis: u64,
}

impl Search {
    pub(crate) fn memory(&self) -> usize {
        self.set.bytes() + (self.parent.capacity() + self.via.capacity()) * 4
    }

    /// The transitions fired from the initial marking to state `i`.
    pub(crate) fn sequence(&self, model: &Model, mut i: u32) -> Vec<String> {
        let mut seq = Vec::new();
        while let Some(&p) = self.parent.get(i as usize).filter(|&&p| p != u32::MAX) {
            seq.push(
                model.transitions()[self.via[i as usize] as usize]
                    .id
                    .clone(),
            );
            i = p;
        }
        seq.reverse();
        seq
    }

    fn note(&mut self, m: &[u64]) {
        let mut total = Some(0u128);
        for (max, &n) in self.max.iter_mut().zip(m) {
            if n == OMEGA {
                *max = OMEGA;
                total = None;
                self.omega = true;
            } else {
                if *max != OMEGA && n > *max {
                    *max = n;
                }
                total = total.map(|t| t + n as u128);
            }
        }
        self.max_total = match (self.max_total, total) {
            (Some(a), Some(b)) => Some(a.max(b)),
            _ => None,
        };
    }
}

/// Whether firing in `model` is monotone (more tokens never disable), the
/// condition for ω.
fn monotone(model: &Model) -> bool {
    !model
        .arcs()
        .iter()
        .any(|a| matches!(a.kind, ArcKind::Inhibitor | ArcKind::Reset))
}

/// Runs the search from `start`. `accelerate`: introduce ω (coverability);
/// `target`: stop when this marking is found.
pub(crate) fn search(
    model: &Model,
    start: &[u64],
    limits: &ExploreLimits,
    clock: &dyn Clock,
    accelerate: bool,
    target: Option<&[u64]>,
) -> Result<Search, AnalysisError> {
    limits.check()?;
    let places = model.places().len();
    if start.len() != places {
        return Err(AnalysisError::WrongMarkingSize {
            expected: places,
            got: start.len(),
        });
    }
    let began = clock.now_ms();
    let net = &model.net().transitions;
    let capped: Vec<bool> = model.places().iter().map(|p| p.capacity > 0).collect();
    let mut s = Search {
        set: MarkingSet::new(places, accelerate),
        parent: Vec::new(),
        via: Vec::new(),
        edges: 0,
        stopped: None,
        found: None,
        deadlocks: Vec::new(),
        deadlock_count: 0,
        ever_enabled: vec![false; net.len()],
        max: vec![0; places],
        max_total: Some(0),
        omega: false,
        millis: 0,
    };
    s.set.insert(start);
    s.parent.push(u32::MAX);
    s.via.push(u32::MAX);
    s.note(start);
    if target == Some(start) {
        s.found = Some(0);
        return Ok(s);
    }
    let mut m = vec![0u64; places];
    let mut next = vec![0u64; places];
    let mut ancestor = vec![0u64; places];
    let mut processed = 0usize;
    let mut batch_t: Vec<u32> = Vec::new();
    let mut batch: Vec<u64> = Vec::new();
    let mut hashes: Vec<u64> = Vec::new();
    // Work done (transitions checked, ancestors compared) since the limits
    // were last checked: the clock is read every CHECK_EVERY units, so a
    // net with many transitions or a deep coverability path cannot run far
    // past its time limit.
    const CHECK_EVERY: usize = 1 << 16;
    let mut work = CHECK_EVERY;
    'states: while processed < s.set.len() {
        if work >= CHECK_EVERY {
            work = 0;
            let now = clock.now_ms().saturating_sub(began);
            if let Some(max) = limits.max_millis.filter(|&max| now >= max) {
                s.stopped = Some(Stopped::Time { max });
                break;
            }
            if s.memory() > limits.max_bytes {
                s.stopped = Some(Stopped::Memory {
                    max: limits.max_bytes as u64,
                });
                break;
            }
        }
        let i = processed as u32;
        s.set.get(i, &mut m);
        let mut any = false;
        batch_t.clear();
        work += net.len() + 1;
        for (t, compiled) in net.iter().enumerate() {
            if !enabled(compiled, &m) {
                continue;
            }
            any = true;
            s.ever_enabled[t] = true;
            s.edges += 1;
            if !accelerate {
                batch_t.push(t as u32);
                continue;
            }
            fire_into(compiled, &m, &mut next);
            // Karp-Miller: compare with every ancestor on the path.
            if s.set.find(&next).is_none() {
                let mut a = i;
                loop {
                    work += 1;
                    if work % CHECK_EVERY == 0 {
                        if let Some(max) = limits
                            .max_millis
                            .filter(|&max| clock.now_ms().saturating_sub(began) >= max)
                        {
                            s.stopped = Some(Stopped::Time { max });
                            break 'states;
                        }
                    }
                    s.set.get(a, &mut ancestor);
                    let covers =
                        next.iter()
                            .zip(&ancestor)
                            .zip(&capped)
                            .all(|((&n, &old), &cap)| {
                                if cap {
                                    n == old
                                } else {
                                    n == OMEGA || (old != OMEGA && n >= old)
                                }
                            });
                    if covers && next != ancestor {
                        for (n, &old) in next.iter_mut().zip(&ancestor) {
                            if *n != old {
                                *n = OMEGA;
                            }
                        }
                    }
                    match s.parent[a as usize] {
                        u32::MAX => break,
                        p => a = p,
                    }
                }
            }
            if s.set.len() >= limits.max_states && s.set.find(&next).is_none() {
                s.stopped = Some(Stopped::States {
                    max: limits.max_states as u64,
                });
                break 'states;
            }
            match s.set.insert(&next) {
                Some(Inserted::Old) => {}
                Some(Inserted::New(j)) => {
                    s.parent.push(i);
                    s.via.push(t as u32);
                    s.note(&next);
                    if target == Some(&next[..]) {
                        s.found = Some(j);
                        break 'states;
                    }
                }
                None => {
                    s.stopped = Some(Stopped::States {
                        max: limits.max_states as u64,
                    });
                    break 'states;
                }
            }
        }
        if !accelerate && !batch_t.is_empty() {
            // The hot path: patch the parent's packed words for every
            // successor, warm the cache for all of them, then insert.
            // A count too wide for the packing repacks the set (each time
            // to at least twice the bits, so at most 6 times in all) and
            // the batch is redone.
            loop {
                batch.clear();
                let packed = batch_t.iter().all(|&t| {
                    let changes = net[t as usize].effects.iter().map(|e| {
                        let has = m[e.place as usize];
                        // enabled() checked has >= consume and the sum's range.
                        let after = if e.reset {
                            e.produce
                        } else {
                            has - e.consume + e.produce
                        };
                        (e.place as usize, after)
                    });
                    s.set.push_successor(i, changes, &mut batch)
                });
                if packed {
                    break;
                }
            }
            std::hint::black_box(s.set.warm(&batch, &mut hashes));
            let row = s.set.row_words_now();
            for (k, &t) in batch_t.iter().enumerate() {
                let key = &batch[k * row..(k + 1) * row];
                if s.set.len() >= limits.max_states {
                    fire_into(&net[t as usize], &m, &mut next);
                    if s.set.find(&next).is_none() {
                        s.stopped = Some(Stopped::States {
                            max: limits.max_states as u64,
                        });
                        break 'states;
                    }
                    continue;
                }
                match s.set.insert_row(key, hashes[k]) {
                    Some(Inserted::Old) => {}
                    Some(Inserted::New(j)) => {
                        fire_into(&net[t as usize], &m, &mut next);
                        s.parent.push(i);
                        s.via.push(t);
                        s.note(&next);
                        if target == Some(&next[..]) {
                            s.found = Some(j);
                            break 'states;
                        }
                    }
                    None => {
                        s.stopped = Some(Stopped::States {
                            max: limits.max_states as u64,
                        });
                        break 'states;
                    }
                }
            }
        }
        if !any && !m.contains(&OMEGA) {
            s.deadlock_count += 1;
            if s.deadlocks.len() < limits.max_deadlocks {
                s.deadlocks.push(i);
            }
        }
        processed += 1;
    }
    s.millis = clock.now_ms().saturating_sub(began);
    Ok(s)
}

/// A state of a net with parameterized transitions is its keys too, and its
/// firings range over every key: not a finite graph this explorer builds.
pub(crate) fn refuse_parameters(model: &Model) -> Result<(), AnalysisError> {
    if model.has_keyed_places() || model.transitions().iter().any(|t| !t.params.is_empty()) {
        return Err(AnalysisError::InvalidInput {
            field: "model".into(),
            message: "state spaces of nets with keyed places or parameterized transitions are not explored".into(),
        });
    }
    Ok(())
}

/// Explores the state space of `model` from its initial marking within
/// `limits`, timed by `clock`. Introduces ω (a coverability graph) when the
/// net's invariants and capacities do not already bound every place and its
/// firing is monotone.
pub fn explore(
    model: &Model,
    limits: &ExploreLimits,
    clock: &dyn Clock,
) -> Result<StateSpace, AnalysisError> {
    refuse_parameters(model)?;
    let c = super::incidence(model);
    let quick = super::farkas::FarkasLimits::quick();
    let bounded = match super::invariants::p_invariants_with(model, &c, &quick) {
        Ok(p) => p.bounded,
        // Too large to prove: explore with ω where sound.
        Err(_) => false,
    };
    let accelerate = !bounded && monotone(model);
    let start = model.initial_marking();
    let s = search(model, &start.0, limits, clock, accelerate, None)?;
    let mut m = vec![0u64; model.places().len()];
    let deadlocks = s
        .deadlocks
        .iter()
        .map(|&i| {
            s.set.get(i, &mut m);
            Deadlock {
                marking: model
                    .places()
                    .iter()
                    .zip(&m)
                    .map(|(p, &n)| (p.id.clone(), n))
                    .collect(),
                sequence: s.sequence(model, i),
            }
        })
        .collect();
    let states = s.set.len() as u64;
    let complete = s.stopped.is_none();
    let summary = if complete {
        format!(
            "explored {} state{} and {} firing{}: exhaustive",
            thousands(states),
            if states == 1 { "" } else { "s" },
            thousands(s.edges),
            if s.edges == 1 { "" } else { "s" }
        )
    } else {
        stopped_text(states, s.stopped)
    };
    let memory = s.memory() as u64;
    Ok(StateSpace {
        states,
        edges: s.edges,
        complete,
        stopped: s.stopped,
        summary,
        coverability: s.omega,
        bounds: model
            .places()
            .iter()
            .zip(&s.max)
            .map(|(p, &n)| Bound {
                place: p.id.clone(),
                max: (n != OMEGA).then_some(n),
            })
            .collect(),
        max_total: s.max_total.and_then(|t| u64::try_from(t).ok()),
        dead_transitions: model
            .transitions()
            .iter()
            .zip(&s.ever_enabled)
            .filter(|(_, &e)| !e)
            .map(|(t, _)| t.id.clone())
            .collect(),
        deadlock_count: s.deadlock_count,
        deadlocks,
        multiples_covered: !model
            .arcs()
            .iter()
            .any(|a| !matches!(a.kind, ArcKind::Normal)),
        bytes_per_state: (s.set.row_bytes() + 8) as u64 + s.set.table_bytes_per_state(),
        memory_bytes: memory,
        millis: s.millis,
    })
}
