//! The tic-tac-toe net from go-pflow (tests/fixtures): X moves put a token in
//! `Next` (capacity 1), O moves take it, so players must alternate; each cell
//! place holds one token until it is played.

use petrichain::formats::json::import_json;
use petrichain::{FireError, FireOptions, Marking, Model};

const TICTACTOE: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/fixtures/gopflow-tictactoe.jsonld"
));

fn model() -> Model {
    let (model, warnings) = import_json(TICTACTOE).expect("the corpus file imports");
    assert!(warnings.is_empty(), "{warnings:?}");
    model
}

fn play(model: &Model, marking: &Marking, action: &str, role: &str) -> Result<Marking, FireError> {
    model.fire(
        marking,
        action,
        &FireOptions {
            multiple: 1,
            roles: &[role],
        },
    )
}

#[test]
fn loads_with_its_real_shape() {
    let model = model();
    assert_eq!(model.places().len(), 30);
    assert_eq!(model.transitions().len(), 34);
    assert_eq!(model.arcs().len(), 118);
    let start = model.marking_map(&model.initial_marking());
    assert_eq!(
        start.values().sum::<u64>(),
        9,
        "nine free cells, nothing else"
    );
    assert!(model.places().iter().all(|p| p.capacity == 1));
    let x_moves = model
        .transitions()
        .iter()
        .filter(|t| t.roles == ["x"])
        .count();
    assert_eq!(x_moves, 17, "9 moves and 8 winning lines for x");
}

#[test]
fn plays_a_legal_game_to_a_win() {
    let model = model();
    let mut m = model.initial_marking();
    let x = model.roles(&["x"]);
    // At the start only X may move, on any of the nine cells.
    assert_eq!(model.enabled(&m, &x).len(), 9);
    assert!(model.enabled(&m, &model.roles(&["o"])).is_empty());
    for (action, role) in [
        ("X00", "x"),
        ("O11", "o"),
        ("X01", "x"),
        ("O22", "o"),
        ("X02", "x"),
    ] {
        m = play(&model, &m, action, role).unwrap_or_else(|e| panic!("{action}: {e}"));
    }
    m = play(&model, &m, "X00_X01_X02", "x").unwrap();
    let end = model.marking_map(&m);
    assert_eq!(end["win_x"], 1);
    assert_eq!(end["win_o"], 0);
}

#[test]
fn refuses_illegal_moves_with_the_reason() {
    let model = model();
    let start = model.initial_marking();
    // O may not open: the turn token is missing.
    assert_eq!(
        play(&model, &start, "O11", "o").unwrap_err(),
        FireError::NotEnabled {
            transition: "O11".into(),
            place: "Next".into(),
            has: 0,
            needs: 1
        }
    );
    // X may not move twice: Next would exceed its capacity.
    let m = play(&model, &start, "X00", "x").unwrap();
    assert_eq!(
        play(&model, &m, "X11", "x").unwrap_err(),
        FireError::CapacityExceeded {
            transition: "X11".into(),
            place: "Next".into(),
            would_have: 2,
            capacity: 1
        }
    );
    // A taken cell cannot be played again.
    assert_eq!(
        play(&model, &m, "O00", "o").unwrap_err(),
        FireError::NotEnabled {
            transition: "O00".into(),
            place: "P00".into(),
            has: 0,
            needs: 1
        }
    );
    // The x player cannot make o's move.
    assert!(matches!(
        play(&model, &m, "O11", "x").unwrap_err(),
        FireError::RoleDenied { .. }
    ));
    // A win needs the whole line.
    assert!(matches!(
        play(&model, &m, "X00_X01_X02", "x"),
        Err(FireError::NotEnabled { .. })
    ));
}
