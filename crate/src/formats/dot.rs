//! Graphviz DOT export, for people who lay out or post-process nets with
//! Graphviz (`dot -Tsvg net.dot`).
//!
//! Places are circles labelled with their name and token count, transitions
//! boxes; arcs carry their weight above 1 and a style per kind (inhibitor:
//! red, open circle head; read: dashed, open arrow; reset: blue, double
//! arrow). Nodes keep the net's positions as `pos` (points, y pointing up,
//! for `neato -n`) when the net has them. Every id and label is a quoted
//! DOT string, with `"` and `\` escaped and line breaks written as `\n`, so
//! no model can produce a broken or injected graph.

use crate::model::{ArcKind, Model};
use crate::render::needs_layout;

/// Writes `model` as a Graphviz `digraph`, left to right.
///
/// ```
/// use petrichain::formats::{dot::export_dot, json::import_json};
/// let (model, _) = import_json(r#"{"places": [{"id": "p", "initial": 2}],
///   "transitions": [{"id": "t"}], "arcs": [{"source": "p", "target": "t", "weight": 2}]}"#).unwrap();
/// let dot = export_dot(&model);
/// assert!(dot.starts_with("digraph \"petrichain\" {"));
/// assert!(dot.contains(r#""p" -> "t" [label="2"]"#));
/// ```
pub fn export_dot(model: &Model) -> String {
    let mut out = String::with_capacity(
        128 + 80 * (model.places().len() + model.transitions().len() + model.arcs().len()),
    );
    let name = if model.name().is_empty() {
        "petrichain"
    } else {
        model.name()
    };
    out.push_str("digraph ");
    quote(&mut out, name);
    out.push_str(" {\n  rankdir=LR;\n  node [fontname=\"Helvetica\", fontsize=11];\n  edge [fontname=\"Helvetica\", fontsize=10];\n");
    let positions = !needs_layout(model);
    let marking = model.initial_marking();
    for (i, p) in model.places().iter().enumerate() {
        out.push_str("  ");
        quote(&mut out, &p.id);
        out.push_str(" [shape=circle, label=");
        let tokens = marking.as_slice().get(i).copied().unwrap_or(0);
        let mut label = if p.label.is_empty() {
            p.id.clone()
        } else {
            p.label.clone()
        };
        if tokens > 0 {
            label.push_str(&format!("\n{tokens}"));
        }
        if p.capacity > 0 {
            label.push_str(&format!("\nmax {}", p.capacity));
        }
        quote(&mut out, &label);
        pos(&mut out, positions, p.x, p.y);
        out.push_str("];\n");
    }
    for t in model.transitions() {
        out.push_str("  ");
        quote(&mut out, &t.id);
        out.push_str(" [shape=box, style=filled, fillcolor=\"#cfd8dc\", label=");
        let mut label = if t.label.is_empty() {
            t.id.clone()
        } else {
            t.label.clone()
        };
        if !t.roles.is_empty() {
            label.push_str(&format!("\n[{}]", t.roles.join(", ")));
        }
        quote(&mut out, &label);
        pos(&mut out, positions, t.x, t.y);
        out.push_str("];\n");
    }
    for a in model.arcs() {
        out.push_str("  ");
        quote(&mut out, &a.source);
        out.push_str(" -> ");
        quote(&mut out, &a.target);
        let mut attrs: Vec<String> = Vec::new();
        if a.weight > 1 {
            attrs.push(format!("label=\"{}\"", a.weight));
        }
        match a.kind {
            ArcKind::Normal => {}
            ArcKind::Inhibitor => attrs.push("arrowhead=odot, color=\"#c62828\"".into()),
            ArcKind::Read => attrs.push("arrowhead=empty, style=dashed".into()),
            ArcKind::Reset => attrs.push("arrowhead=normalnormal, color=\"#1565c0\"".into()),
        }
        if !attrs.is_empty() {
            out.push_str(" [");
            out.push_str(&attrs.join(", "));
            out.push(']');
        }
        out.push_str(";\n");
    }
    out.push_str("}\n");
    out
}

/// `pos="x,y!"` in points with y up (the drawing's y grows downwards).
fn pos(out: &mut String, on: bool, x: i32, y: i32) {
    if on {
        out.push_str(&format!(", pos=\"{},{}!\"", x, -i64::from(y)));
    }
}

/// A DOT double-quoted string: `"` and `\` escaped, line breaks as `\n`,
/// other control characters dropped.
fn quote(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::json::import_json;

    #[test]
    fn every_node_and_arc_kind_is_written_and_text_is_quoted() {
        let (model, _) = import_json(
            r#"{"name": "a \"quoted\" net", "places": [
                  {"id": "p", "label": "line\nbreak \\ back", "initial": 3, "capacity": 4, "x": 10, "y": 20},
                  {"id": "q", "x": 100, "y": 20}],
                "transitions": [{"id": "t\"]; evil -> x [", "roles": ["r"], "x": 50, "y": 20}],
                "arcs": [{"source": "p", "target": "t\"]; evil -> x [", "kind": "inhibitor"},
                         {"source": "q", "target": "t\"]; evil -> x [", "kind": "read", "weight": 2},
                         {"source": "t\"]; evil -> x [", "target": "q"}]}"#,
        )
        .unwrap();
        let dot = export_dot(&model);
        assert!(
            dot.starts_with("digraph \"a \\\"quoted\\\" net\" {\n"),
            "{dot}"
        );
        assert!(
            dot.contains(
                r#""p" [shape=circle, label="line\nbreak \\ back\n3\nmax 4", pos="10,-20!"];"#
            ),
            "{dot}"
        );
        assert!(dot.contains(r#""t\"]; evil -> x [" [shape=box"#), "{dot}");
        assert!(dot.contains(r#"label="t\"]; evil -> x [\n[r]""#), "{dot}");
        assert!(
            dot.contains(r#"-> "t\"]; evil -> x [" [arrowhead=odot"#),
            "{dot}"
        );
        assert!(
            dot.contains(r#"[label="2", arrowhead=empty, style=dashed]"#),
            "{dot}"
        );
        // Three arcs, plus the hostile id's own " -> " in its node, its
        // label and the three arcs: all inside quoted strings.
        assert_eq!(dot.matches(" -> ").count(), 3 + 5);
        // Every quote inside a string is escaped: quotes outside strings pair up.
        let mut open = false;
        let mut escaped = false;
        for c in dot.chars() {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') if open => escaped = true,
                (false, '"') => open = !open,
                _ => {}
            }
        }
        assert!(!open);
    }

    #[test]
    fn nets_without_positions_get_no_pos() {
        let (model, _) =
            import_json(r#"{"places": [{"id": "a"}, {"id": "b"}], "transitions": [{"id": "t"}]}"#)
                .unwrap();
        assert!(!export_dot(&model).contains("pos="));
    }
}
