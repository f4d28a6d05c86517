//! The one XML writer of the renderer: the document frame, the `<style>`,
//! the marker definitions and the elements of the net (one per node and
//! arc) all go through it. Attributes are written in the order given, so
//! output is deterministic; every text and attribute value is escaped by one
//! rule, [`escape_into`], in one pass. The only unescaped text is
//! [`Writer::raw`], which takes `&'static str` (the built-in CSS), so nothing
//! from a model can reach the output unescaped.
//!
//! Why not the `svg` crate: its elements keep attributes in a
//! `HashMap<String, String>`, sort them when printed and escape each value
//! with five `replace` passes (text nodes with three, so text and attributes
//! followed two rules). Building the 1,000-node benchmark net from `svg`
//! crate nodes takes 15.8-19.1 ms against 2.9-3.0 ms with this writer
//! (BENCHMARKS.md, "House refactor: XML and SVG writers"), which would put
//! the render at the 20 ms wasm budget; the frame alone was too small to be
//! worth a second writer and a second escaping rule.

use std::fmt::Write as _;

/// Writes elements into a `String`.
#[derive(Debug, Default)]
pub struct Writer {
    out: String,
}

impl Writer {
    /// A writer with room for `capacity` bytes.
    pub fn with_capacity(capacity: usize) -> Writer {
        Writer {
            out: String::with_capacity(capacity),
        }
    }

    /// The text written so far.
    pub fn finish(self) -> String {
        self.out
    }

    /// Starts `<name`; follow with attributes, then [`Writer::empty`] or [`Writer::start`].
    pub fn open(&mut self, name: &str) -> &mut Self {
        self.out.push('<');
        self.out.push_str(name);
        self
    }

    /// An attribute with an escaped string value.
    pub fn attr(&mut self, name: &str, value: &str) -> &mut Self {
        self.out.push(' ');
        self.out.push_str(name);
        self.out.push_str("=\"");
        escape_into(&mut self.out, value);
        self.out.push('"');
        self
    }

    /// An attribute with an unsigned integer value.
    pub fn attr_u64(&mut self, name: &str, value: u64) -> &mut Self {
        let _ = write!(self.out, " {name}=\"{value}\"");
        self
    }

    /// An attribute with a coordinate value (see [`push_num`]).
    pub fn attr_num(&mut self, name: &str, value: f64) -> &mut Self {
        self.out.push(' ');
        self.out.push_str(name);
        self.out.push_str("=\"");
        push_num(&mut self.out, value);
        self.out.push('"');
        self
    }

    /// Ends a start tag: `>`.
    pub fn start(&mut self) -> &mut Self {
        self.out.push('>');
        self
    }

    /// Ends an element without content: `/>` and a line break.
    pub fn empty(&mut self) -> &mut Self {
        self.out.push_str("/>\n");
        self
    }

    /// Markup written as is: only for constants of the renderer (the
    /// built-in CSS), never for text from a model.
    pub fn raw(&mut self, markup: &'static str) -> &mut Self {
        self.out.push_str(markup);
        self
    }

    /// Escaped text content.
    pub fn text(&mut self, text: &str) -> &mut Self {
        escape_into(&mut self.out, text);
        self
    }

    /// `</name>` and a line break.
    pub fn close(&mut self, name: &str) -> &mut Self {
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push_str(">\n");
        self
    }

    /// A line break after a start tag, to keep the output diffable.
    pub fn newline(&mut self) -> &mut Self {
        self.out.push('\n');
        self
    }
}

/// Appends `s` escaped for both text and attribute values. Characters XML
/// 1.0 cannot carry at all (control characters other than tab, line feed and
/// carriage return; U+FFFE, U+FFFF) become U+FFFD.
pub fn escape_into(out: &mut String, s: &str) {
    let mut rest = s;
    while let Some(i) = rest.find(|c: char| {
        matches!(c, '&' | '<' | '>' | '"' | '\'' | '\u{fffe}' | '\u{ffff}')
            || (c < '\u{20}' && !matches!(c, '\t' | '\n' | '\r'))
    }) {
        out.push_str(&rest[..i]);
        let c = rest[i..].chars().next().unwrap_or('\u{fffd}');
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            _ => out.push('\u{fffd}'),
        }
        rest = &rest[i + c.len_utf8()..];
    }
    out.push_str(rest);
}

/// Appends a coordinate with at most two decimals, no `-0` and no exponent
/// (non-finite values, which the renderer never produces, write `0`).
pub fn push_num(out: &mut String, v: f64) {
    let r = (v * 100.0).round();
    if r == 0.0 || !r.is_finite() {
        out.push('0');
    } else if r.abs() < 9.0e15 && r % 100.0 == 0.0 {
        let _ = write!(out, "{}", (r / 100.0) as i64);
    } else {
        let _ = write!(out, "{}", r / 100.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn esc(s: &str) -> String {
        let mut out = String::new();
        escape_into(&mut out, s);
        out
    }

    #[test]
    fn markup_and_quotes_are_escaped() {
        assert_eq!(
            esc("<script>a & \"b\" 'c'</script>"),
            "&lt;script&gt;a &amp; &quot;b&quot; &apos;c&apos;&lt;/script&gt;"
        );
        assert_eq!(esc("plain é 😀"), "plain é 😀");
    }

    #[test]
    fn characters_xml_cannot_carry_are_replaced() {
        assert_eq!(
            esc("a\u{0}b\u{1b}c\td\u{ffff}"),
            "a\u{fffd}b\u{fffd}c\td\u{fffd}"
        );
    }

    #[test]
    fn replacement_leaves_allowed_whitespace_and_escapes_markup_once() {
        // (Was the test of `render::clean`, the replacement applied to the
        // net's name before the `svg` crate escaped it.)
        assert_eq!(esc("a\u{1}b\tc\u{ffff}"), "a\u{fffd}b\tc\u{fffd}");
        assert_eq!(esc("<&>\"'"), "&lt;&amp;&gt;&quot;&apos;");
    }

    #[test]
    fn numbers_are_short_and_stable() {
        let n = |v: f64| {
            let mut s = String::new();
            push_num(&mut s, v);
            s
        };
        assert_eq!(n(12.0), "12");
        assert_eq!(n(-0.001), "0");
        assert_eq!(n(1.0 / 3.0), "0.33");
        assert_eq!(n(-2.5), "-2.5");
        assert_eq!(n(-2147483648.0), "-2147483648");
        assert_eq!(n(f64::NAN), "0");
    }

    #[test]
    fn elements_are_written_in_order() {
        let mut w = Writer::default();
        w.open("g")
            .attr("class", "a\"b")
            .attr_u64("data-n", 3)
            .start()
            .newline();
        w.open("circle").attr_num("r", 1.5).empty();
        w.open("text").start().text("x<y").close("text");
        w.close("g");
        assert_eq!(
            w.finish(),
            "<g class=\"a&quot;b\" data-n=\"3\">\n<circle r=\"1.5\"/>\n<text>x&lt;y</text>\n</g>\n"
        );
    }
}
