//! A small, hardened XML tree for the XML importers (PNML, PNEditor).
//!
//! quick-xml does the tokenising; this module builds a tree of borrowed
//! strings on top of it and enforces petrichain's rules for hostile input:
//! no DTD (a `<!DOCTYPE` is refused, so no entity can ever be declared, let
//! alone expanded), only the five predefined entities and character
//! references, a size cap and a nesting cap. Every element remembers its byte
//! offset; [`Doc::position`] turns offsets into line:column for messages.
//!
//! What quick-xml gives is used as is: tokenising, end-tag matching, character and predefined entity references, attribute value
//! normalisation, byte positions. What is left here is what it does not give:
//! the tree, line:column, the caps, DTD refusal, decoding ISO-8859-1 without
//! pulling in `encoding_rs`, and a duplicate-attribute check on *local* names
//! (`p:id` and `id` are the same attribute to the readers; quick-xml's own
//! check compares qualified names).

use std::borrow::Cow;
use std::cell::OnceCell;
use std::collections::HashSet;

use quick_xml::errors::Error as XmlError;
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use super::{ImportError, ImportLimits, Position, Warning};
use crate::MAX_TOKENS;

/// An element, stored in the document's arena: local name (namespace
/// prefix dropped), a range of the attribute arena, its own text, and links
/// to its first child and next sibling (0 = none; the root is never a child).
#[derive(Debug)]
struct Element<'a> {
    name: &'a str,
    attrs: (u32, u32),
    /// Text directly inside the element. Whitespace-only text between child
    /// elements (indentation) is dropped.
    text: Cow<'a, str>,
    /// Byte offset of the `<` that starts the element.
    offset: usize,
    first_child: u32,
    last_child: u32,
    next_sibling: u32,
}

/// An attribute in the arena: local name and value.
type Attr<'a> = (&'a str, Cow<'a, str>);

/// A handle on one element of a [`Doc`].
#[derive(Clone, Copy)]
pub(crate) struct El<'d, 'a> {
    doc: &'d Doc<'a>,
    index: u32,
}

impl<'d, 'a> El<'d, 'a> {
    fn get(self) -> &'d Element<'a> {
        &self.doc.nodes[self.index as usize]
    }

    /// Local name.
    pub fn name(self) -> &'a str {
        self.get().name
    }

    /// Byte offset of the element's `<`.
    pub fn offset(self) -> usize {
        self.get().offset
    }

    /// Text directly inside the element.
    pub fn text(self) -> &'d str {
        &self.get().text
    }

    /// The value of an attribute, by local name.
    pub fn attr(self, name: &str) -> Option<&'d str> {
        let (start, end) = self.get().attrs;
        self.doc.attrs[start as usize..end as usize]
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_ref())
    }

    /// Every attribute, by local name, in document order.
    pub fn attrs(self) -> impl Iterator<Item = (&'a str, &'d str)> {
        let (start, end) = self.get().attrs;
        self.doc.attrs[start as usize..end as usize]
            .iter()
            .map(|(k, v)| (*k, v.as_ref()))
    }

    /// `id` attribute, or "" when missing.
    pub fn id(self) -> &'d str {
        self.attr("id").unwrap_or("")
    }

    /// Child elements, in document order.
    pub fn children(self) -> impl Iterator<Item = El<'d, 'a>> {
        let doc = self.doc;
        let mut next = self.get().first_child;
        std::iter::from_fn(move || {
            if next == 0 {
                return None;
            }
            let el = El { doc, index: next };
            next = doc.nodes[next as usize].next_sibling;
            Some(el)
        })
    }

    /// The first child element with this local name.
    pub fn child(self, name: &str) -> Option<El<'d, 'a>> {
        self.children().find(|c| c.name() == name)
    }

    /// Text of the child element `name`, if there is one.
    pub fn child_text(self, name: &str) -> Option<&'d str> {
        self.child(name).map(|c| c.text())
    }
}

/// A parsed document: the source text (for positions) and the root element.
pub(crate) struct Doc<'a> {
    src: &'a str,
    line_starts: OnceCell<Vec<usize>>,
    nodes: Vec<Element<'a>>,
    attrs: Vec<Attr<'a>>,
}

impl<'a> Doc<'a> {
    /// The root element.
    pub fn root(&self) -> El<'_, 'a> {
        El {
            doc: self,
            index: 0,
        }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn position(&self, offset: usize) -> Position {
        position_in(self.src, &self.line_starts, offset)
    }

    /// Number of elements in the document.
    pub fn element_count(&self) -> usize {
        self.nodes.len()
    }

    /// A warning about an element.
    pub fn warning(&self, element: &str, el: El, message: String) -> Warning {
        Warning {
            element: element.to_string(),
            position: Some(self.position(el.offset())),
            message,
        }
    }

    /// A [`ImportError::BadValue`] about an element.
    pub fn bad(&self, element: &str, el: El, message: String) -> ImportError {
        ImportError::BadValue {
            element: element.to_string(),
            position: Some(self.position(el.offset())),
            message,
        }
    }

    /// A [`ImportError::Unsupported`] about an element.
    pub fn unsupported(&self, element: &str, el: El, message: String) -> ImportError {
        ImportError::Unsupported {
            element: element.to_string(),
            position: Some(self.position(el.offset())),
            message,
        }
    }

    /// Parses a token count (initial marking, capacity, weight): a
    /// non-negative integer no larger than [`MAX_TOKENS`].
    pub fn count(&self, element: &str, el: El, text: &str) -> Result<u64, ImportError> {
        let t = text.trim();
        if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
            return match t.parse::<u64>() {
                Ok(v) if v <= MAX_TOKENS => Ok(v),
                _ => Err(ImportError::Overflow {
                    element: element.to_string(),
                    position: self.position(el.offset()),
                    value: t.to_string(),
                    max: MAX_TOKENS,
                }),
            };
        }
        Err(self.bad(
            element,
            el,
            format!(
                "<{}> must be a non-negative integer, found \"{}\"",
                el.name(),
                shorten(t)
            ),
        ))
    }

    /// Parses a coordinate: a decimal number, rounded to the nearest integer.
    pub fn coordinate(&self, element: &str, el: El, text: &str) -> Result<i32, ImportError> {
        let t = text.trim();
        match t.parse::<f64>() {
            Ok(f) if (f64::from(i32::MIN)..=f64::from(i32::MAX)).contains(&f.round()) => {
                Ok(f.round() as i32)
            }
            Ok(_) => Err(self.bad(
                element,
                el,
                format!(
                    "coordinate \"{}\" is out of range (a 32-bit integer after rounding)",
                    shorten(t)
                ),
            )),
            Err(_) => Err(self.bad(
                element,
                el,
                format!("coordinate must be a number, found \"{}\"", shorten(t)),
            )),
        }
    }
}

/// Shortens a value for an error message.
pub(crate) fn shorten(s: &str) -> String {
    if s.chars().count() <= 40 {
        s.to_string()
    } else {
        format!("{}...", s.chars().take(40).collect::<String>())
    }
}

fn position_in(src: &str, cache: &OnceCell<Vec<usize>>, offset: usize) -> Position {
    let starts = cache.get_or_init(|| {
        std::iter::once(0)
            .chain(
                src.bytes()
                    .enumerate()
                    .filter(|(_, b)| *b == b'\n')
                    .map(|(i, _)| i + 1),
            )
            .collect()
    });
    let offset = offset.min(src.len());
    let line = starts.partition_point(|&s| s <= offset); // >= 1: starts[0] == 0
    let start = starts[line - 1];
    let column = src
        .get(start..offset)
        .map_or(offset - start, |s| s.chars().count())
        + 1;
    Position { line, column }
}

/// Turns input bytes into text: UTF-8 (a BOM is skipped), or ISO-8859-1 /
/// US-ASCII when the XML declaration says so (PIPE writes ISO-8859-1).
pub(crate) fn decode(bytes: &[u8]) -> Result<Cow<'_, str>, ImportError> {
    super::refuse_wide_encodings(bytes)?;
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok(Cow::Borrowed(s)),
        Err(e) => {
            if declares_latin1(bytes) {
                // Every byte is the code point of the same value.
                return Ok(Cow::Owned(bytes.iter().map(|&b| b as char).collect()));
            }
            let offset = e.valid_up_to();
            let text = std::str::from_utf8(&bytes[..offset]).unwrap_or("");
            Err(ImportError::Syntax {
                position: position_in(text, &OnceCell::new(), offset),
                message: "invalid UTF-8 (and no ISO-8859-1 encoding declared)".into(),
            })
        }
    }
}

fn declares_latin1(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(200)];
    let Some(end) = head.windows(2).position(|w| w == b"?>") else {
        return false;
    };
    let decl = String::from_utf8_lossy(&head[..end]).to_ascii_lowercase();
    decl.starts_with("<?xml")
        && ["iso-8859-1", "iso8859-1", "latin1", "latin-1", "us-ascii"]
            .iter()
            .any(|enc| decl.contains(&format!("\"{enc}\"")) || decl.contains(&format!("'{enc}'")))
}

/// The part after the last `:` (quick-xml's `local_name` cuts at the first
/// one, which would read `<a:b:c>` differently from before).
fn local(name: &str) -> &str {
    match name.bytes().rposition(|b| b == b':') {
        Some(i) => &name[i + 1..],
        None => name,
    }
}

/// Byte offset of `part` inside `src` when `part` borrows from it.
fn offset_in(src: &str, part: &str) -> Option<usize> {
    let start = (part.as_ptr() as usize).checked_sub(src.as_ptr() as usize)?;
    (start + part.len() <= src.len()).then_some(start)
}

/// `part` re-borrowed from `src` with `src`'s lifetime, or copied.
fn reborrow<'a>(src: &'a str, part: &str) -> Cow<'a, str> {
    match offset_in(src, part) {
        Some(start) => Cow::Borrowed(&src[start..start + part.len()]),
        None => Cow::Owned(part.to_string()),
    }
}

/// A map keyed by ids from the input, with rustc's fast FxHash. Ids come
/// from the file, but a map's worst case only costs time, bounded by the
/// size caps.
pub(crate) type IdMap<K, V> = rustc_hash::FxHashMap<K, V>;

/// The front of every XML reader: the size cap, decoding and parsing of
/// `bytes`, then `read` on the document.
pub(crate) fn read_document<T>(
    bytes: &[u8],
    limits: &ImportLimits,
    read: impl FnOnce(&Doc<'_>) -> Result<T, ImportError>,
) -> Result<T, ImportError> {
    if bytes.len() > limits.max_bytes {
        return Err(ImportError::TooLarge {
            bytes: bytes.len(),
            limit: limits.max_bytes,
        });
    }
    let text = decode(bytes)?;
    let doc = parse(&text, limits)?;
    read(&doc)
}

/// Most entries reserved up front in each arena (elements, attributes):
/// 1 M elements are 72 MB natively (untouched pages cost nothing there),
/// 44 MB in wasm, where a reservation is memory taken.
const RESERVE_CAP: usize = 1 << 20;

/// Parses `src` into a tree, applying `limits`.
pub(crate) fn parse<'a>(src: &'a str, limits: &ImportLimits) -> Result<Doc<'a>, ImportError> {
    if src.len() > limits.max_bytes {
        return Err(ImportError::TooLarge {
            bytes: src.len(),
            limit: limits.max_bytes,
        });
    }
    let line_starts = OnceCell::new();
    let pos = |offset: usize| position_in(src, &line_starts, offset);
    let mut reader = Reader::from_str(src);
    let config = reader.config_mut();
    config.check_end_names = true;
    config.check_comments = false;
    config.expand_empty_elements = false;

    // Arena: nodes[0] is the root once it is seen; `stack` holds open elements.
    // Every element has a `<` and every attribute a `=`: the counts size the
    // arenas when the first element is read (growing them as they fill
    // cost a tenth of a PNML import), but only up to RESERVE_CAP entries
    // each. Reserving the full upper bound asked 56 M elements (2.4 GB) of
    // 56 MiB of `<` and trapped in wasm (a capacity above 32-bit memory);
    // such input now fails before any element, with nothing reserved. Past
    // the cap the arenas grow, and `max_xml_nodes` bounds what they reach.
    // Byte-wide counters in chunks of 255 vectorise well.
    let count = |byte: u8| -> usize {
        src.as_bytes()
            .chunks(255)
            .map(|c| usize::from(c.iter().fold(0u8, |n, &b| n + u8::from(b == byte))))
            .sum()
    };
    let (tags, equals) = (count(b'<') + 1, count(b'='));
    let mut nodes: Vec<Element<'a>> = Vec::new();
    let mut attrs: Vec<Attr<'a>> = Vec::new();
    let mut stack: Vec<u32> = Vec::new();
    let mut seen = HashSet::new();
    let mut root_closed = false;
    loop {
        let before = reader.buffer_position() as usize;
        let event = match reader.read_event() {
            Ok(e) => e,
            Err(e) => return Err(xml_error(&e, &reader, (src, &nodes, &attrs), &stack, &pos)),
        };
        match event {
            Event::DocType(_) => {
                return Err(ImportError::DtdRefused {
                    position: pos(before),
                })
            }
            Event::Start(_) | Event::Empty(_) if root_closed => {
                return Err(ImportError::Syntax {
                    position: pos(before),
                    message: "a second root element after the end of the document".into(),
                });
            }
            Event::Start(ref start) | Event::Empty(ref start) => {
                if stack.len() >= limits.max_depth {
                    return Err(ImportError::TooDeep {
                        position: pos(before),
                        limit: limits.max_depth,
                    });
                }
                let index = u32::try_from(nodes.len()).map_err(|_| ImportError::TooLarge {
                    bytes: src.len(),
                    limit: limits.max_bytes,
                })?;
                if nodes.is_empty() {
                    nodes.reserve(tags.min(RESERVE_CAP));
                    attrs.reserve(equals.min(RESERVE_CAP));
                }
                let el = element(src, start, before, &pos, &mut attrs, &mut seen)?;
                if nodes.len().saturating_add(attrs.len()) >= limits.max_xml_nodes {
                    return Err(ImportError::TooManyNodes {
                        what: "XML elements and attributes".into(),
                        position: pos(before),
                        limit: limits.max_xml_nodes,
                    });
                }
                nodes.push(el);
                if let Some(&parent) = stack.last() {
                    let parent = &mut nodes[parent as usize];
                    if parent.text.trim().is_empty() {
                        parent.text = Cow::Borrowed("");
                    }
                    let last = parent.last_child;
                    if last == 0 {
                        parent.first_child = index;
                    }
                    parent.last_child = index;
                    if last != 0 {
                        nodes[last as usize].next_sibling = index;
                    }
                }
                if matches!(event, Event::Start(_)) {
                    stack.push(index);
                } else if stack.is_empty() {
                    root_closed = true;
                }
            }
            Event::End(_) => {
                // quick-xml has checked that the name matches.
                let Some(index) = stack.pop() else {
                    return Err(ImportError::Syntax {
                        position: pos(before),
                        message: "closing tag without an opening tag".into(),
                    });
                };
                let el = &mut nodes[index as usize];
                if el.first_child != 0 && el.text.trim().is_empty() {
                    el.text = Cow::Borrowed("");
                }
                if stack.is_empty() {
                    root_closed = true;
                }
            }
            Event::Text(text) => {
                let piece: &str = &text;
                match stack.last() {
                    Some(&i) => append(&mut nodes[i as usize].text, reborrow(src, piece)),
                    None if piece.trim().is_empty() => {}
                    None => {
                        return Err(ImportError::Syntax {
                            position: pos(before),
                            message: "text outside the root element".into(),
                        })
                    }
                }
            }
            Event::CData(data) => {
                let piece: &str = &data;
                match stack.last() {
                    Some(&i) => append(&mut nodes[i as usize].text, reborrow(src, piece)),
                    None => {
                        return Err(ImportError::Syntax {
                            position: pos(before),
                            message: "CDATA outside the root element".into(),
                        })
                    }
                }
            }
            Event::GeneralRef(r) => {
                let name: &str = &r;
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(ch)) => ch.to_string(),
                    Ok(None) => match quick_xml::escape::resolve_predefined_entity(name) {
                        Some(s) => s.to_string(),
                        None => {
                            return Err(ImportError::Syntax {
                                position: pos(before),
                                message: format!(
                                    "undefined entity &{}; (only &lt; &gt; &amp; &quot; &apos; and character references are accepted)",
                                    shorten(name)
                                ),
                            })
                        }
                    },
                    Err(e) => {
                        return Err(ImportError::Syntax {
                            position: pos(before),
                            message: format!("bad character reference &{};: {e}", shorten(name)),
                        })
                    }
                };
                match stack.last() {
                    Some(&i) => append(&mut nodes[i as usize].text, Cow::Owned(resolved)),
                    None => {
                        return Err(ImportError::Syntax {
                            position: pos(before),
                            message: "entity reference outside the root element".into(),
                        })
                    }
                }
            }
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::Eof => {
                if let Some(&open) = stack.last() {
                    return Err(ImportError::Truncated {
                        position: pos(src.len()),
                        context: describe(&nodes, &attrs, open, &pos),
                    });
                }
                if nodes.is_empty() {
                    return Err(ImportError::Truncated {
                        position: pos(src.len()),
                        context: "the prolog: there is no root element".into(),
                    });
                }
                return Ok(Doc {
                    src,
                    line_starts,
                    nodes,
                    attrs,
                });
            }
        }
    }
}

/// `<name id="...">` opened at line:column, for truncation messages.
fn describe(
    nodes: &[Element],
    attrs: &[Attr],
    index: u32,
    pos: &dyn Fn(usize) -> Position,
) -> String {
    let el = &nodes[index as usize];
    let id = attrs[el.attrs.0 as usize..el.attrs.1 as usize]
        .iter()
        .find(|(k, _)| *k == "id");
    let name = match id {
        Some((_, id)) => format!("<{} id=\"{}\">", el.name, shorten(id)),
        None => format!("<{}>", el.name),
    };
    format!("{name} opened at {}", pos(el.offset))
}

fn append<'a>(text: &mut Cow<'a, str>, piece: Cow<'a, str>) {
    if text.is_empty() {
        *text = piece;
    } else {
        text.to_mut().push_str(&piece);
    }
}

/// Attributes of one element compared with each earlier one before the
/// duplicate check switches to a hash set (quick-xml's own threshold): small
/// elements pay no hashing, and an element with N attributes costs O(N).
const SMALL_ATTRIBUTES: usize = 32;

/// One element's start tag: its local name and attributes (appended to
/// `arena`); `seen` is scratch space for the duplicate check.
fn element<'a>(
    src: &'a str,
    start: &BytesStart,
    offset: usize,
    pos: &dyn Fn(usize) -> Position,
    arena: &mut Vec<Attr<'a>>,
    seen: &mut HashSet<&'a str>,
) -> Result<Element<'a>, ImportError> {
    let name = match reborrow(src, start.name().as_ref()) {
        Cow::Borrowed(s) => local(s),
        Cow::Owned(_) => "",
    };
    let first = arena.len();
    // quick-xml's duplicate check compares qualified names; the check below
    // compares local names, which is what the readers look attributes up by.
    let mut attributes = start.attributes();
    attributes.with_checks(false);
    for attr in attributes {
        let attr = attr.map_err(|e| ImportError::Syntax {
            position: pos(offset),
            message: format!("bad attribute in <{name}>: {e}"),
        })?;
        let qualified: &str = attr.key.as_ref();
        let key = match reborrow(src, qualified) {
            Cow::Borrowed(s) => local(s),
            Cow::Owned(_) => continue,
        };
        let earlier = arena.len() - first;
        let duplicate = if earlier < SMALL_ATTRIBUTES {
            arena[first..].iter().any(|(k, _)| *k == key)
        } else {
            if earlier == SMALL_ATTRIBUTES {
                seen.clear();
                seen.extend(arena[first..].iter().map(|(k, _)| *k));
            }
            !seen.insert(key)
        };
        if duplicate {
            return Err(ImportError::Syntax {
                position: pos(offset),
                message: format!("attribute {} appears twice in <{name}>", shorten(qualified)),
            });
        }
        let raw: &str = &attr.value;
        let value = if raw.contains(['&', '\t', '\n', '\r']) {
            let v = attr
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map_err(|e| ImportError::Syntax {
                    position: pos(offset),
                    message: format!(
                        "attribute {key} of <{name}>: {e} (only &lt; &gt; &amp; &quot; &apos; and character references are accepted)"
                    ),
                })?;
            Cow::Owned(v.into_owned())
        } else {
            reborrow(src, raw)
        };
        arena.push((key, value));
    }
    let (Ok(first), Ok(end)) = (u32::try_from(first), u32::try_from(arena.len())) else {
        return Err(ImportError::Unsupported {
            element: name.to_string(),
            position: Some(pos(offset)),
            message: "more than 2^32 attributes in one document".into(),
        });
    };
    Ok(Element {
        name,
        attrs: (first, end),
        text: Cow::Borrowed(""),
        offset,
        first_child: 0,
        last_child: 0,
        next_sibling: 0,
    })
}

fn xml_error(
    e: &XmlError,
    reader: &Reader<&[u8]>,
    (src, nodes, attrs): (&str, &[Element], &[Attr]),
    stack: &[u32],
    pos: &dyn Fn(usize) -> Position,
) -> ImportError {
    let at = pos(reader.error_position() as usize);
    match e {
        XmlError::Syntax(s) => {
            // Every quick-xml syntax error means the input ended inside markup.
            let context = match stack.last() {
                Some(&open) => {
                    let open = &nodes[open as usize];
                    format!("<{}> opened at {} ({s})", open.name, pos(open.offset))
                }
                None => s.to_string(),
            };
            ImportError::Truncated {
                position: at,
                context,
            }
        }
        // `&...` with no `;` before the end of the input: a cut file.
        XmlError::IllFormed(quick_xml::errors::IllFormedError::UnclosedReference)
            if !src
                .get(reader.error_position() as usize..)
                .unwrap_or("")
                .contains('<') =>
        {
            let context = match stack.last() {
                Some(&open) => describe(nodes, attrs, open, pos),
                None => "an entity reference".into(),
            };
            ImportError::Truncated {
                position: at,
                context: format!("{context} (inside an unfinished &...; reference)"),
            }
        }
        XmlError::IllFormed(quick_xml::errors::IllFormedError::MismatchedEndTag {
            expected,
            found,
        }) => ImportError::Syntax {
            position: at,
            message: format!(
                "closing tag </{}> does not match the open <{}>",
                shorten(found),
                shorten(expected)
            ),
        },
        other => ImportError::Syntax {
            position: at,
            message: other.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(src: &str) -> Result<Doc<'_>, ImportError> {
        parse(src, &ImportLimits::default())
    }

    #[test]
    fn builds_a_tree_with_text_attributes_and_positions() {
        let d =
            doc("<?xml version=\"1.0\"?>\n<a x=\"1 &amp; 2\">\n  <b>hi &lt;3</b>\n  <c/>\n</a>")
                .unwrap();
        assert_eq!(d.root().name(), "a");
        assert_eq!(d.root().attr("x"), Some("1 & 2"));
        assert_eq!(d.root().text(), "");
        assert_eq!(d.root().child_text("b"), Some("hi <3"));
        assert_eq!(
            d.position(d.root().children().nth(1).unwrap().offset()),
            Position { line: 4, column: 3 }
        );
    }

    #[test]
    fn namespace_prefixes_are_dropped() {
        let d = doc("<p:pnml xmlns:p=\"urn:x\"><p:net p:id=\"n\"/></p:pnml>").unwrap();
        assert_eq!(d.root().name(), "pnml");
        assert_eq!(d.root().children().next().unwrap().attr("id"), Some("n"));
    }

    #[test]
    fn doctype_and_unknown_entities_are_refused() {
        let err = doc("<?xml version=\"1.0\"?>\n<!DOCTYPE a [<!ENTITY x \"boom\">]>\n<a>&x;</a>")
            .err()
            .unwrap();
        assert_eq!(
            err,
            ImportError::DtdRefused {
                position: Position { line: 2, column: 1 }
            }
        );
        let err = doc("<a>&x;</a>").err().unwrap();
        assert_eq!(err.code(), "SYNTAX");
        assert!(err.to_string().contains("undefined entity &x;"), "{err}");
        let err = doc("<a b=\"&x;\"/>").err().unwrap();
        assert_eq!(err.code(), "SYNTAX");
    }

    #[test]
    fn truncation_is_reported_with_what_was_open() {
        let err = doc("<a>\n <b id=\"q\">\n  <c>1</c>").err().unwrap();
        assert_eq!(err.code(), "TRUNCATED");
        assert!(
            err.to_string().contains("<b id=\"q\"> opened at 2:2"),
            "{err}"
        );
        let err = doc("<a>\n <b id=\"q").err().unwrap();
        assert_eq!(err.code(), "TRUNCATED");
        assert_eq!(doc("").err().unwrap().code(), "TRUNCATED");
    }

    #[test]
    fn depth_and_size_are_capped() {
        let deep = format!("{}{}", "<a>".repeat(70), "</a>".repeat(70));
        assert!(matches!(
            doc(&deep),
            Err(ImportError::TooDeep { limit: 64, .. })
        ));
        let limits = ImportLimits {
            max_bytes: 10,
            ..ImportLimits::default()
        };
        assert!(matches!(
            parse("<a>0123456789</a>", &limits),
            Err(ImportError::TooLarge {
                bytes: 17,
                limit: 10
            })
        ));
    }

    #[test]
    fn duplicate_attributes_are_syntax_errors() {
        let err = doc("<a>\n<b id=\"1\" x=\"2\" id=\"3\"/></a>")
            .err()
            .unwrap();
        assert_eq!(err.code(), "SYNTAX");
        assert!(
            err.to_string()
                .contains("2:1: attribute id appears twice in <b>"),
            "{err}"
        );
    }

    /// `<b` with `n` distinct attributes `a0="0" a1="1" ...`, then `extra`.
    fn many_attributes(n: usize, extra: &str) -> String {
        use std::fmt::Write as _;
        let mut s = String::from("<a>\n\n <b");
        for i in 0..n {
            let _ = write!(s, " a{i}=\"{i}\"");
        }
        s.push_str(extra);
        s.push_str("/>\n</a>");
        s
    }

    #[test]
    fn elements_with_many_attributes_parse_in_linear_time() {
        // The duplicate check is linear by construction (a hash set past
        // SMALL_ATTRIBUTES); before, 40,000 attributes took 2.6 s in release
        // and 200,000 did not finish. benches/parse.rs `xml_many_attributes`
        // shows the scaling.
        for n in [100_000, 200_000] {
            let src = many_attributes(n, "");
            let d = doc(&src).unwrap();
            let b = d.root().child("b").unwrap();
            assert_eq!(b.attr("a0"), Some("0"));
            assert_eq!(b.attr(&format!("a{}", n - 1)), Some(&*(n - 1).to_string()));
            assert_eq!(b.attr(&format!("a{n}")), None);
        }
    }

    #[test]
    fn a_duplicate_among_many_attributes_is_found_with_its_position() {
        let err = doc(&many_attributes(100_000, " a5=\"again\""))
            .err()
            .unwrap();
        assert_eq!(err.code(), "SYNTAX");
        assert!(
            err.to_string()
                .contains("3:2: attribute a5 appears twice in <b>"),
            "{err}"
        );
        // A namespace prefix does not make a different attribute.
        let err = doc(&many_attributes(100_000, " p:a99999=\"again\""))
            .err()
            .unwrap();
        assert!(
            err.to_string()
                .contains("3:2: attribute p:a99999 appears twice in <b>"),
            "{err}"
        );
        // Around the switch from comparisons to the hash set: the first
        // duplicate in document order is the one reported.
        for n in [SMALL_ATTRIBUTES - 1, SMALL_ATTRIBUTES, SMALL_ATTRIBUTES + 1] {
            let err = doc(&many_attributes(n, " a0=\"x\" a1=\"y\""))
                .err()
                .unwrap();
            assert!(
                err.to_string()
                    .contains("attribute a0 appears twice in <b>"),
                "{n}: {err}"
            );
        }
    }

    #[test]
    fn mismatched_tags_and_second_roots_are_syntax_errors() {
        let err = doc("<a><b></a>").err().unwrap();
        assert_eq!(err.code(), "SYNTAX");
        let err = doc("<a/><b/>").err().unwrap();
        assert!(err.to_string().contains("second root"), "{err}");
    }

    #[test]
    fn latin1_is_decoded_when_declared() {
        let bytes = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a>caf\xE9</a>";
        assert_eq!(
            decode(bytes).unwrap(),
            "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a>caf\u{e9}</a>"
        );
        assert_eq!(decode(b"<a>caf\xE9</a>").unwrap_err().code(), "SYNTAX");
    }

    #[test]
    fn counts_overflow_and_coordinates_round() {
        let d = doc("<a/>").unwrap();
        assert_eq!(d.count("p", d.root(), " 12 ").unwrap(), 12);
        assert_eq!(
            d.count("p", d.root(), "9007199254740992")
                .unwrap_err()
                .code(),
            "OVERFLOW"
        );
        assert_eq!(
            d.count("p", d.root(), "99999999999999999999999")
                .unwrap_err()
                .code(),
            "OVERFLOW"
        );
        assert_eq!(
            d.count("p", d.root(), "-1").unwrap_err().code(),
            "BAD_VALUE"
        );
        assert_eq!(d.coordinate("p", d.root(), "93.75").unwrap(), 94);
        assert_eq!(
            d.coordinate("p", d.root(), "NaN").unwrap_err().code(),
            "BAD_VALUE"
        );
    }
}
