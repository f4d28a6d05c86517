//! The generated PNML file shared by the `parse` benchmark and the
//! `import_loop` example.
use std::fmt::Write;

/// A PNML 2009 file with `places` places, as many transitions, and a ring of
/// arcs (p_i -> t_i -> p_{i+1}), every node named and positioned, the way
/// editors write them.
pub fn generate(places: usize) -> String {
    let mut s = String::with_capacity(places * 700);
    s.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<pnml xmlns=\"http://www.pnml.org/version-2009/grammar/pnml\">\n");
    s.push_str("<net id=\"big\" type=\"http://www.pnml.org/version-2009/grammar/ptnet\">\n<name><text>generated</text></name>\n<page id=\"page\">\n");
    for i in 0..places {
        let (x, y) = ((i % 100) * 60, (i / 100) * 60);
        let _ = write!(
            s,
            "  <place id=\"p{i}\">\n    <name><text>place {i}</text><graphics><offset x=\"0\" y=\"-10\"/></graphics></name>\n    <graphics><position x=\"{x}.0\" y=\"{y}.0\"/><dimension x=\"20\" y=\"20\"/></graphics>\n    <initialMarking><text>{}</text></initialMarking>\n  </place>\n",
            i % 3
        );
        let _ = write!(
            s,
            "  <transition id=\"t{i}\">\n    <name><text>transition {i}</text></name>\n    <graphics><position x=\"{}.5\" y=\"{y}.0\"/></graphics>\n  </transition>\n",
            x + 30
        );
    }
    for i in 0..places {
        let next = (i + 1) % places;
        let _ = write!(
            s,
            "  <arc id=\"a{i}\" source=\"p{i}\" target=\"t{i}\">\n    <inscription><text>1</text></inscription>\n  </arc>\n  <arc id=\"b{i}\" source=\"t{i}\" target=\"p{next}\">\n    <inscription><text>2</text></inscription>\n    <graphics><position x=\"1\" y=\"2\"/></graphics>\n  </arc>\n"
        );
    }
    s.push_str("</page>\n</net>\n</pnml>\n");
    s
}
