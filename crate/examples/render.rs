//! Renders a JSON net to SVG on stdout: `cargo run --example render -- net.json`.
use petrichain::formats::json::import_json;
use petrichain::render::{render_svg, RenderOptions};

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: render NET.json");
        std::process::exit(2);
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{path}: {e}");
            std::process::exit(1);
        }
    };
    match import_json(&text) {
        Ok((model, _)) => print!(
            "{}",
            render_svg(&model, &model.initial_marking(), &RenderOptions::new())
        ),
        Err(e) => {
            eprintln!("{path}: {e}");
            std::process::exit(1);
        }
    }
}
