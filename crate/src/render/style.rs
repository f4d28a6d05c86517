//! The default look: a CSS block and the arrowhead markers. Every drawn
//! element carries a `pc-*` class, so an app can restyle the drawing with its
//! own CSS (or leave the default block out with
//! [`RenderOptions::default_style`](super::RenderOptions::default_style)).

use super::xml::Writer;

/// The CSS placed in the `<style>` element of every drawing (unless turned off).
pub const DEFAULT_CSS: &str = "\
.pc-net text{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif}\
.pc-place-shape{fill:#ffffff;stroke:#37474f;stroke-width:1.5}\
.pc-token{fill:#212121}\
.pc-tokens{fill:#212121;font-weight:600}\
.pc-transition-shape{stroke:#37474f;stroke-width:1.5}\
.pc-enabled .pc-transition-shape{fill:#43a047}\
.pc-disabled .pc-transition-shape{fill:#cfd8dc}\
.pc-highlight .pc-transition-shape{stroke:#ff6f00;stroke-width:3}\
.pc-label{fill:#263238;font-size:11px}\
.pc-id{fill:#78909c;font-size:9px}\
.pc-capacity{fill:#78909c;font-size:9px}\
.pc-weight{fill:#263238;font-size:10px;font-weight:600}\
.pc-arc path{fill:none;stroke:#546e7a;stroke-width:1.3}\
.pc-arc-read path{stroke-dasharray:5 3}\
.pc-arc-inhibitor path{stroke:#c62828}\
.pc-arc-reset path{stroke:#1565c0}\
.pc-arrowhead{fill:#546e7a}\
.pc-arrowhead-read{fill:#ffffff;stroke:#546e7a;stroke-width:1.2}\
.pc-arrowhead-reset{fill:#1565c0}\
.pc-inhibitor-head{fill:#ffffff;stroke:#c62828;stroke-width:1.5}";

/// The `<defs>` with one marker per arc kind (ids `pc-arrow`,
/// `pc-arrow-read`, `pc-arrow-reset`, `pc-inhibitor`). Each marker's tip (its `refX`)
/// is the end of the arc's path, which stops at the target's border.
/// Attributes in name order, as the `svg` crate wrote them before.
pub fn markers(w: &mut Writer) {
    let marker = |w: &mut Writer, id: &str| {
        w.open("marker")
            .attr("id", id)
            .attr_u64("markerHeight", 9)
            .attr("markerUnits", "userSpaceOnUse")
            .attr_u64("markerWidth", 9)
            .attr("orient", "auto")
            .attr_u64("refX", 10)
            .attr_u64("refY", 5)
            .attr("viewBox", "0 0 10 10")
            .start()
            .newline();
    };
    let path = |w: &mut Writer, class: &str, d: &str| {
        w.open("path").attr("class", class).attr("d", d).empty();
    };
    w.open("defs").start().newline();
    marker(w, "pc-arrow");
    path(w, "pc-arrowhead", "M0,0L10,5L0,10z");
    w.close("marker");
    marker(w, "pc-arrow-read");
    path(w, "pc-arrowhead-read", "M1,1L9.5,5L1,9z");
    w.close("marker");
    marker(w, "pc-arrow-reset");
    path(w, "pc-arrowhead-reset", "M0,0L5,5L0,10zM5,0L10,5L5,10z");
    w.close("marker");
    marker(w, "pc-inhibitor");
    w.open("circle")
        .attr("class", "pc-inhibitor-head")
        .attr_num("cx", 5.5)
        .attr_u64("cy", 5)
        .attr_u64("r", 4)
        .empty();
    w.close("marker");
    w.close("defs");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_css_needs_no_escaping() {
        // It is written as is (Writer::raw): nothing in it may read as markup.
        assert!(!DEFAULT_CSS.contains(['<', '>', '&']));
    }
}
