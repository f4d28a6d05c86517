//! The analysis of a net for JavaScript (`petrichain::analysis`): methods of
//! `Model` for its incidence matrix, invariants, state space, reachable
//! markings, and the CSV / firing counts of a stream's events. The time
//! limit of an exploration runs on `Date.now()`.

use serde::Serialize;
use wasm_bindgen::prelude::*;

use petrichain::analysis::{self, AnalysisError, ExploreLimits, Firing};

use crate::error::{bad_argument, to_js_error, JsErrorSource};
use crate::js::{from_json, marking_from_js, to_js};
use crate::model::JsModel;

impl JsErrorSource for AnalysisError {
    fn code(&self) -> &'static str {
        AnalysisError::code(self)
    }
}

#[wasm_bindgen(typescript_custom_section)]
const TS_ANALYSIS_TYPES: &'static str = r#"
/** Limits of `model.explore` and `model.isReachable`; every field optional. */
export interface ExploreOptions {
  /** Most states to store (default 1,000,000). */
  maxStates?: number;
  /** Most milliseconds to run (default: none). */
  maxMillis?: number;
  /** Most bytes of markings, table and parent links (default 512 MiB). */
  maxBytes?: number;
  /** Most deadlocks listed with their sequences (default 10; all are counted). */
  maxDeadlocks?: number;
}

/** The limit that stopped an exploration early. */
export type Stopped =
  | { limit: "states"; max: number }
  | { limit: "time"; max: number }
  | { limit: "memory"; max: number };

/** A marking where nothing may fire, and a shortest firing sequence to it. */
export interface Deadlock { marking: Marking; sequence: string[] }

/** The result of `model.explore`. */
export interface StateSpace {
  states: number;
  edges: number;
  /** Every state was expanded: the figures are exact. */
  complete: boolean;
  stopped: Stopped | null;
  /** "explored 243 states and 945 firings: exhaustive", or "... not exhaustive: ...". */
  summary: string;
  /** Some place is unbounded: markings with ω were used. */
  coverability: boolean;
  /** Per place, the most tokens seen (`null` = unbounded). */
  bounds: { place: string; max: number | null }[];
  maxTotal: number | null;
  deadTransitions: string[];
  deadlockCount: number;
  deadlocks: Deadlock[];
  /** Firings with `multiple` > 1 reach nothing more than single firings in this net. */
  multiplesCovered: boolean;
  bytesPerState: number;
  memoryBytes: number;
  millis: number;
}

/** One minimal invariant; `total` is the conserved sum (P-invariants). */
export interface Invariant {
  weights: { id: string; weight: number }[];
  total: number | null;
  /** "alice + bob + carol = 175" */
  formula: string;
  /** "The total of Alice, Bob and Carol is always 175." */
  sentence: string;
}

/** The result of `model.invariants()`. */
export interface NetInvariants {
  places: {
    invariants: Invariant[];
    /** Places in no invariant. */
    uncovered: string[];
    /** Places a reset arc empties (left out). */
    excluded: string[];
    /** Per place (in `model.places` order), the bound the invariants and capacities prove. */
    bounds: (number | null)[];
    /** Every place has a proven bound. */
    bounded: boolean;
  };
  transitions: { invariants: Invariant[]; uncovered: string[]; excluded: string[] };
  /** Proven from the arcs alone. */
  siphons: {
    /** Places that hold 0 in every reachable marking (the largest initially empty siphon). */
    emptySiphon: string[];
    /** Transitions that need a token of those places: they can never fire. */
    neverEnabled: string[];
    /** Some place of these holds a token in every reachable marking (the largest trap, if marked). */
    markedTrap: string[];
  };
}

/** The incidence matrix: `matrix[p][t]` = what firing t once does to p. */
export interface Incidence {
  places: string[];
  transitions: string[];
  matrix: number[][];
  /** Place / transition pairs joined by a reset arc (no constant effect). */
  reset: { place: string; transition: string }[];
}

/** The answer of `model.isReachable`. */
export type Reachability =
  | { answer: "reachable"; sequence: string[]; states: number }
  | { answer: "unreachable"; reason: string; states: number }
  | { answer: "unknown"; states: number; stopped: Stopped; summary: string };

/** The firing-count vector of a log, checked by replay. */
export interface FiringCounts {
  events: number;
  counts: { transition: string; count: number }[];
  marking: Marking;
}

/** What replay reads of an event (other fields, such as `hash`, are ignored). */
export interface LoggedFiring {
  seq: number; action: string; multiple: number; roles?: string[]; actor?: string; ts?: number;
}
"#;

fn limits_from_js(options: &JsValue) -> Result<ExploreLimits, JsValue> {
    if options.is_undefined() || options.is_null() {
        return Ok(ExploreLimits::default());
    }
    if !options.is_object() || js_sys::Array::is_array(options) {
        return Err(bad_argument("options must be an object"));
    }
    from_json(options).map_err(|e| bad_argument(format!("explore options: {e}")))
}

fn firings_from_js(events: &JsValue) -> Result<Vec<Firing>, JsValue> {
    if !js_sys::Array::is_array(events) {
        return Err(bad_argument("events must be an array of events"));
    }
    from_json(events).map_err(|e| bad_argument(format!("events: {e}")))
}

/// `Date.now()`, for the time limit.
fn date_now() -> u64 {
    js_sys::Date::now() as u64
}

#[derive(Serialize)]
struct ResetPair<'a> {
    place: &'a str,
    transition: &'a str,
}

#[derive(Serialize)]
struct DenseIncidence<'a> {
    places: &'a [String],
    transitions: &'a [String],
    matrix: Vec<Vec<i64>>,
    reset: Vec<ResetPair<'a>>,
}

#[derive(Serialize)]
struct NetInvariants {
    places: analysis::PInvariants,
    transitions: analysis::TInvariants,
    siphons: analysis::SiphonsTraps,
}

#[wasm_bindgen(js_class = Model)]
impl JsModel {
    /// The incidence matrix (places x transitions). Throws `TOO_LARGE`
    /// above 16 M cells.
    #[wasm_bindgen(unchecked_return_type = "Incidence")]
    pub fn incidence(&self) -> Result<JsValue, JsValue> {
        let c = analysis::incidence(&self.model);
        let matrix = c.dense().map_err(|e| to_js_error(&e))?;
        to_js(&DenseIncidence {
            places: &c.places,
            transitions: &c.transitions,
            matrix,
            reset: c
                .reset
                .iter()
                .map(|&(p, t)| ResetPair {
                    place: &c.places[p],
                    transition: &c.transitions[t],
                })
                .collect(),
        })
    }

    /// The incidence matrix as CSV (`place,<transitions>` then a row per
    /// place; `R` marks a reset arc).
    #[wasm_bindgen(js_name = incidenceCsv)]
    pub fn incidence_csv(&self) -> Result<String, JsValue> {
        analysis::incidence(&self.model)
            .to_csv()
            .map_err(|e| to_js_error(&e))
    }

    /// The minimal P- and T-invariants, the conserved sums they prove for
    /// the initial marking and the place bounds; the empty siphon and the
    /// marked trap. Throws `TOO_LARGE` when the
    /// Farkas algorithm would need more than its row or work limit.
    ///
    /// @example
    /// ```ts
    /// for (const inv of model.invariants().places.invariants) console.log(inv.sentence);
    /// ```
    #[wasm_bindgen(unchecked_return_type = "NetInvariants")]
    pub fn invariants(&self) -> Result<JsValue, JsValue> {
        let places = analysis::p_invariants(&self.model).map_err(|e| to_js_error(&e))?;
        let transitions = analysis::t_invariants(&self.model).map_err(|e| to_js_error(&e))?;
        to_js(&NetInvariants {
            places,
            transitions,
            siphons: analysis::siphons_and_traps(&self.model),
        })
    }

    /// Explores the reachability (or coverability) graph within the limits:
    /// bounds, dead transitions, deadlocks with shortest sequences. Says
    /// `complete: false` and why when it stopped at a limit.
    #[wasm_bindgen(unchecked_return_type = "StateSpace")]
    pub fn explore(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ExploreOptions")] options: JsValue,
    ) -> Result<JsValue, JsValue> {
        let limits = limits_from_js(&options)?;
        let space =
            analysis::explore(&self.model, &limits, &date_now).map_err(|e| to_js_error(&e))?;
        to_js(&space)
    }

    /// Whether `marking` is reachable from the initial marking, with a
    /// shortest sequence when it is.
    #[wasm_bindgen(js_name = isReachable, unchecked_return_type = "Reachability")]
    pub fn is_reachable(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Marking")] marking: JsValue,
        #[wasm_bindgen(unchecked_param_type = "ExploreOptions")] options: JsValue,
    ) -> Result<JsValue, JsValue> {
        let target = marking_from_js(&self.model, &marking)?;
        let limits = limits_from_js(&options)?;
        let answer = analysis::find_marking(&self.model, &target, &limits, &date_now)
            .map_err(|e| to_js_error(&e))?;
        to_js(&answer)
    }

    /// A stream's events (from `stream.events()`) as CSV of state vectors:
    /// `seq,action,actor,ts,<places>`, one row per event, the markings
    /// recomputed by replay from the initial marking.
    #[wasm_bindgen(js_name = eventsCsv)]
    pub fn events_csv(
        &self,
        #[wasm_bindgen(unchecked_param_type = "LoggedFiring[]")] events: JsValue,
    ) -> Result<String, JsValue> {
        let events = firings_from_js(&events)?;
        analysis::events_csv(&self.model, &events).map_err(|e| to_js_error(&e))
    }

    /// How many times each transition fired in `events` (multiples
    /// counted), checked by replay.
    #[wasm_bindgen(js_name = firingCounts, unchecked_return_type = "FiringCounts")]
    pub fn firing_counts(
        &self,
        #[wasm_bindgen(unchecked_param_type = "LoggedFiring[]")] events: JsValue,
    ) -> Result<JsValue, JsValue> {
        let events = firings_from_js(&events)?;
        to_js(&analysis::firing_counts(&self.model, &events).map_err(|e| to_js_error(&e))?)
    }
}
