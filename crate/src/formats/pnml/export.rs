//! Writing a model as PNML 2009.
//!
//! A net with only normal arcs and no capacities is a plain P/T net
//! ([`PTNET_TYPE`]). Anything PNML 2009 P/T nets cannot say switches the net
//! type to petrichain's extension type [`EXTENDED_NET_TYPE`] and is written
//! in the spelling other tools already use, so that they read as much of it
//! as they can:
//! - arc kinds: `<type value="inhibitor|read|reset"/>` on the arc (PIPE's
//!   element, which PIPE reads for inhibitor arcs);
//! - capacities: `<capacity><text>N</text></capacity>` on the place;
//! - roles: `<toolspecific tool="petrichain" version="1"><role>r</role>…`
//!   on the transition (other tools skip tool-specific data of tools they do
//!   not know);
//! - final markings: ProM's `<finalmarkings>` block.
//!
//! Positions are written for every node, bend points as arc `<position>`s.
//! Characters XML 1.0 cannot carry (control characters other than tab, line
//! feed and carriage return) are written as U+FFFD.

use std::collections::HashSet;
use std::fmt::Write;

use crate::formats::ImportError;
use crate::model::{ArcKind, Model};

/// The PNML 2009 P/T net type.
pub const PTNET_TYPE: &str = "http://www.pnml.org/version-2009/grammar/ptnet";

/// petrichain's extension of the P/T net type: inhibitor, read and reset arcs,
/// place capacities and transition roles (see the module docs for the encoding).
pub const EXTENDED_NET_TYPE: &str = "urn:petrichain:pnml:ptnet-extended:1";

/// Writes `model` as a PNML 2009 document; [`super::import_pnml`] reads it
/// back into a model with the same id.
///
/// PNML place/transition nets have no keyed places nor parameterized
/// transitions (a standard high-level form, a PNML symmetric net, would need
/// sorts and terms this project does not read back): such a model is
/// refused with `UNSUPPORTED` rather than written without them.
///
/// ```
/// use petrichain::formats::{json::import_json, pnml::{export_pnml, import_pnml}};
/// let (model, _) = import_json(r#"{"places": {"p": {"initial": 1}}, "transitions": {"t": {"role": "clerk"}},
///   "arcs": [{"source": "p", "target": "t", "inhibitTransition": true}]}"#).unwrap();
/// let pnml = export_pnml(&model).unwrap();
/// assert!(pnml.contains(r#"<type value="inhibitor"/>"#));
/// let (again, warnings) = import_pnml(&pnml).unwrap();
/// assert_eq!(again.id(), model.id());
/// assert!(warnings.is_empty());
/// ```
pub fn export_pnml(model: &Model) -> Result<String, ImportError> {
    if model.has_keyed_places() || model.transitions().iter().any(|t| !t.params.is_empty()) {
        return Err(ImportError::Unsupported {
            element: String::new(),
            position: None,
            message: "PNML export: keyed places and parameterized transitions have no place/transition-net form; export JSON instead".into(),
        });
    }
    let taken: HashSet<&str> = model
        .places()
        .iter()
        .map(|p| p.id.as_str())
        .chain(model.transitions().iter().map(|t| t.id.as_str()))
        .collect();
    let fresh = |base: &str| {
        let mut id = base.to_string();
        while taken.contains(id.as_str()) {
            id.insert(0, '_');
        }
        id
    };
    let extended = model.places().iter().any(|p| p.capacity > 0)
        || model.arcs().iter().any(|a| a.kind != ArcKind::Normal)
        || model.transitions().iter().any(|t| !t.roles.is_empty());
    let net_type = if extended {
        EXTENDED_NET_TYPE
    } else {
        PTNET_TYPE
    };

    let mut out = String::with_capacity(256 + 200 * (model.places().len() + model.arcs().len()));
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str("<pnml xmlns=\"http://www.pnml.org/version-2009/grammar/pnml\">\n");
    let _ = writeln!(
        out,
        "  <net id=\"{}\" type=\"{net_type}\">",
        esc(&fresh("net"))
    );
    if !model.name().is_empty() {
        let _ = writeln!(out, "    <name><text>{}</text></name>", esc(model.name()));
    }
    let _ = writeln!(out, "    <page id=\"{}\">", esc(&fresh("page")));
    for p in model.places() {
        let _ = writeln!(out, "      <place id=\"{}\">", esc(&p.id));
        name(&mut out, &p.label);
        position(&mut out, p.x, p.y);
        if p.initial > 0 {
            let _ = writeln!(
                out,
                "        <initialMarking><text>{}</text></initialMarking>",
                p.initial
            );
        }
        if p.capacity > 0 {
            let _ = writeln!(
                out,
                "        <capacity><text>{}</text></capacity>",
                p.capacity
            );
        }
        out.push_str("      </place>\n");
    }
    for t in model.transitions() {
        let _ = writeln!(out, "      <transition id=\"{}\">", esc(&t.id));
        name(&mut out, &t.label);
        position(&mut out, t.x, t.y);
        if !t.roles.is_empty() {
            out.push_str("        <toolspecific tool=\"petrichain\" version=\"1\">");
            for r in &t.roles {
                let _ = write!(out, "<role>{}</role>", esc(r));
            }
            out.push_str("</toolspecific>\n");
        }
        out.push_str("      </transition>\n");
    }
    for (i, a) in model.arcs().iter().enumerate() {
        let _ = writeln!(
            out,
            "      <arc id=\"{}\" source=\"{}\" target=\"{}\">",
            esc(&fresh(&format!("a{}", i + 1))),
            esc(&a.source),
            esc(&a.target)
        );
        if a.weight != 1 {
            let _ = writeln!(
                out,
                "        <inscription><text>{}</text></inscription>",
                a.weight
            );
        }
        if !a.points.is_empty() {
            out.push_str("        <graphics>");
            for pt in &a.points {
                let _ = write!(out, "<position x=\"{}\" y=\"{}\"/>", pt.x, pt.y);
            }
            out.push_str("</graphics>\n");
        }
        if a.kind != ArcKind::Normal {
            let _ = writeln!(out, "        <type value=\"{}\"/>", a.kind.as_str());
        }
        out.push_str("      </arc>\n");
    }
    out.push_str("    </page>\n");
    if !model.final_markings().is_empty() {
        out.push_str("    <finalmarkings>\n");
        for m in model.final_markings() {
            out.push_str("      <marking>");
            for (place, tokens) in m {
                let _ = write!(
                    out,
                    "<place idref=\"{}\"><text>{tokens}</text></place>",
                    esc(place)
                );
            }
            out.push_str("</marking>\n");
        }
        out.push_str("    </finalmarkings>\n");
    }
    out.push_str("  </net>\n</pnml>\n");
    Ok(out)
}

fn name(out: &mut String, label: &str) {
    if !label.is_empty() {
        let _ = writeln!(out, "        <name><text>{}</text></name>", esc(label));
    }
}

fn position(out: &mut String, x: i32, y: i32) {
    let _ = writeln!(
        out,
        "        <graphics><position x=\"{x}\" y=\"{y}\"/></graphics>"
    );
}

/// Escapes text for element content and attribute values alike. Tab, line
/// feed and carriage return become character references so that attribute
/// normalisation and line-end handling leave them intact.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}
