//! Firing workloads shared by the native criterion bench (benches/fire.rs) and
//! the in-browser wasm bench (tests/bench_web_fire.rs), so both measure the
//! same thing.
#![allow(dead_code)] // each bench uses part of it

use petrichain::formats::json::import_json;
use petrichain::{Marking, Model, RoleSet};

/// The go-pflow tic-tac-toe net (30 places, 34 transitions).
pub const TICTACTOE: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/fixtures/gopflow-tictactoe.jsonld"
));

/// A game of tic-tac-toe that X wins: six firings, then the board is reset.
pub struct Game {
    pub model: Model,
    moves: Vec<usize>,
    roles: RoleSet,
    start: Marking,
}

impl Game {
    pub fn tictactoe() -> Game {
        let (model, _) = import_json(TICTACTOE).unwrap();
        let moves = ["X00", "O11", "X01", "O22", "X02", "X00_X01_X02"]
            .iter()
            .map(|t| model.transition_index(t).unwrap())
            .collect();
        let roles = model.roles(&["x", "o"]);
        let start = model.initial_marking();
        Game {
            model,
            moves,
            roles,
            start,
        }
    }

    /// Plays `games` whole games; returns the number of firings.
    pub fn play(&self, games: usize) -> u64 {
        let mut m = self.start.clone();
        for _ in 0..games {
            m.0.copy_from_slice(&self.start.0);
            for &t in &self.moves {
                self.model
                    .fire_in_place(&mut m, t, 1, &self.roles)
                    .expect("legal move");
            }
        }
        (games * self.moves.len()) as u64
    }
}

/// A ring of `n` places and `n` transitions (t_i moves the token from p_i to
/// p_i+1): every firing touches 2 of the n places.
pub fn ring_json(n: usize) -> String {
    let places: Vec<String> = (0..n)
        .map(|i| format!(r#"{{"id":"p{i:05}","initial":{}}}"#, u8::from(i == 0)))
        .collect();
    let transitions: Vec<String> = (0..n).map(|i| format!(r#"{{"id":"t{i:05}"}}"#)).collect();
    let arcs: Vec<String> = (0..n)
        .flat_map(|i| {
            [
                format!(r#"{{"source":"p{i:05}","target":"t{i:05}"}}"#),
                format!(r#"{{"source":"t{i:05}","target":"p{:05}"}}"#, (i + 1) % n),
            ]
        })
        .collect();
    format!(
        r#"{{"places":[{}],"transitions":[{}],"arcs":[{}]}}"#,
        places.join(","),
        transitions.join(","),
        arcs.join(",")
    )
}

/// The token walking round a ring net.
pub struct Ring {
    pub model: Model,
    marking: Marking,
    next: usize,
}

impl Ring {
    pub fn new(n: usize) -> Ring {
        let (model, _) = import_json(&ring_json(n)).unwrap();
        let marking = model.initial_marking();
        Ring {
            model,
            marking,
            next: 0,
        }
    }

    /// Fires `count` transitions round the ring.
    pub fn walk(&mut self, count: usize) -> u64 {
        let n = self.model.transitions().len();
        for _ in 0..count {
            self.model
                .fire_in_place(&mut self.marking, self.next, 1, &RoleSet::All)
                .expect("token is here");
            self.next = (self.next + 1) % n;
        }
        count as u64
    }
}

/// The plain alternative: a dense incidence-matrix engine (pre and post
/// vectors over all places per transition), as a naive implementation does.
/// Firing costs O(places).
pub struct Dense {
    pre: Vec<Vec<u64>>,
    post: Vec<Vec<u64>>,
    marking: Vec<u64>,
    next: usize,
}

impl Dense {
    pub fn from_model(model: &Model) -> Dense {
        let np = model.places().len();
        let mut pre = vec![vec![0u64; np]; model.transitions().len()];
        let mut post = pre.clone();
        for a in model.arcs() {
            match (
                model.place_index(&a.source),
                model.transition_index(&a.target),
            ) {
                (Some(p), Some(t)) => pre[t][p] = a.weight,
                _ => {
                    post[model.transition_index(&a.source).unwrap()]
                        [model.place_index(&a.target).unwrap()] = a.weight
                }
            }
        }
        Dense {
            pre,
            post,
            marking: model.initial_marking().0,
            next: 0,
        }
    }

    /// Fires `count` transitions round the ring.
    pub fn walk(&mut self, count: usize) -> u64 {
        let n = self.pre.len();
        for _ in 0..count {
            let (pre, post) = (&self.pre[self.next], &self.post[self.next]);
            assert!(
                self.marking.iter().zip(pre).all(|(m, w)| m >= w),
                "token is here"
            );
            for ((m, w_in), w_out) in self.marking.iter_mut().zip(pre).zip(post) {
                *m = *m - w_in + w_out;
            }
            self.next = (self.next + 1) % n;
        }
        count as u64
    }
}
