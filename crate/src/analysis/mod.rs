//! What a net guarantees, computed from the net: its incidence matrix,
//! P- and T-invariants (the conserved weighted sums), structural bounds,
//! the empty siphon and the marked trap, the
//! reachability / coverability graph with bounds, dead transitions and
//! deadlocks (each with a shortest firing sequence), whether a marking is
//! reachable, and the analysis of a stream's events (state vectors as CSV,
//! firing counts) replayed through the engine.
//!
//! Every function takes explicit limits and says honestly when it stopped at
//! one ("explored 1000000 states, not exhaustive"); none panics on any
//! input, and all arithmetic is checked. docs/analysis.md has the full text,
//! with reference figures from the literature checked by the tests.
//!
//! ```
//! use petrichain::analysis::{explore, p_invariants, ExploreLimits, NoClock};
//! use petrichain::formats::json::import_json;
//!
//! let (model, _) = import_json(r#"{
//!   "places": [{"id": "alice", "label": "Alice", "initial": 100}, {"id": "bob", "label": "Bob", "initial": 75}],
//!   "transitions": [{"id": "pay"}, {"id": "refund"}],
//!   "arcs": [{"source": "alice", "target": "pay"}, {"source": "pay", "target": "bob"},
//!            {"source": "bob", "target": "refund"}, {"source": "refund", "target": "alice"}]
//! }"#).unwrap();
//! let invariants = p_invariants(&model).unwrap();
//! assert_eq!(invariants.invariants[0].sentence, "The total of Alice and Bob is always 175.");
//! let space = explore(&model, &ExploreLimits::default(), &NoClock).unwrap();
//! assert_eq!((space.states, space.complete), (176, true));
//! ```
//!
//! Semantics analysed: single firings (multiple 1) by an actor holding every
//! role. For nets with only normal arcs, capacities and no read, inhibitor or
//! reset arcs, a firing with `multiple = k` is the same as k single firings,
//! so the results cover every stream. With read, inhibitor or reset arcs a
//! multiple firing can reach markings single firings cannot; the report says
//! so ([`StateSpace::multiples_covered`]).

mod clock;
mod error;
mod explore;
mod farkas;
mod incidence;
mod invariants;
mod log;
mod markings;
mod reachable;
mod siphons;
mod step;

pub use clock::{Clock, NoClock, StdClock};
pub use error::AnalysisError;
pub use explore::{explore, Bound, Deadlock, ExploreLimits, StateSpace, Stopped};
pub use incidence::{incidence, Incidence, MAX_DENSE_CELLS};
pub use invariants::{p_invariants, t_invariants, Invariant, PInvariants, TInvariants, Weighted};
pub use log::{events_csv, firing_counts, Firing, FiringCount, FiringCounts, LoggedFiring, Replay};
pub use reachable::{find_marking, Reachability};
pub use siphons::{siphons_and_traps, SiphonsTraps};
