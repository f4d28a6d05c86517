//! One entry point for every format: the format is decided by the content
//! (never by a file name).

use super::{json, lola, pflow_xml, pnml, tapn, xml, ImportError, ImportLimits, Imported};

/// The formats [`import`] recognises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// petrichain JSON, pflow JSON or JSON-LD: a JSON object.
    Json,
    /// PNML (2009, PIPE, ProM / pm4py, WoPeD): XML with root `<pnml>`.
    Pnml,
    /// PNEditor `.pflow` / `.pflowx`: XML with root `<document>`.
    Pflow,
    /// TAPAAL `.tapn`: XML with root `<pnml>` whose nodes carry `positionX`
    /// attributes or that declares shared places / transitions.
    Tapn,
    /// LoLA's text format: `PLACE` first (after white space and `{ comments }`).
    Lola,
}

/// Guesses the format from the first bytes: a JSON object, or the root
/// element of an XML document. `None` when it is neither.
///
/// ```
/// use petrichain::formats::{detect, Format};
/// assert_eq!(detect(b"  {\"places\": {}}"), Some(Format::Json));
/// assert_eq!(detect(b"<?xml version=\"1.0\"?>\n<!-- net -->\n<pnml/>"), Some(Format::Pnml));
/// assert_eq!(detect(b"<document><subnet/></document>"), Some(Format::Pflow));
/// assert_eq!(detect(b"<svg/>"), None);
/// ```
pub fn detect(bytes: &[u8]) -> Option<Format> {
    let text = skip_prolog(bytes)?;
    if is_json(text) {
        return Some(Format::Json);
    }
    if lola::looks_like_lola(text) {
        return Some(Format::Lola);
    }
    if text.starts_with(b"{") {
        return Some(Format::Json);
    }
    let name = root_name(text)?;
    match name {
        "pnml" if looks_like_tapn(text) => Some(Format::Tapn),
        "pnml" => Some(Format::Pnml),
        "document" => Some(Format::Pflow),
        _ => None,
    }
}

/// Imports a net in any supported format, detected from the content, with
/// default [`ImportLimits`].
///
/// ```
/// let (model, warnings) = petrichain::formats::import(br#"<pnml><net id="n" type="P/T net">
///   <place id="p"><initialMarking><value>Default,2</value></initialMarking></place>
///   <transition id="t"/>
///   <arc id="a" source="p" target="t"/>
/// </net></pnml>"#).unwrap();
/// assert_eq!(model.places()[0].initial, 2);
/// assert!(warnings.is_empty());
/// ```
pub fn import(bytes: &[u8]) -> Result<Imported, ImportError> {
    import_with(bytes, &ImportLimits::default())
}

/// Like [`import`] with explicit limits.
pub fn import_with(bytes: &[u8], limits: &ImportLimits) -> Result<Imported, ImportError> {
    if bytes.len() > limits.max_bytes {
        return Err(ImportError::TooLarge {
            bytes: bytes.len(),
            limit: limits.max_bytes,
        });
    }
    super::refuse_wide_encodings(bytes)?;
    let Some(first) = skip_prolog(bytes).and_then(|t| t.first().copied()) else {
        return Err(ImportError::UnknownFormat {
            message: "the input is empty".into(),
        });
    };
    let start = skip_prolog(bytes).unwrap_or(bytes);
    if !is_json(start) && lola::looks_like_lola(start) {
        let text = std::str::from_utf8(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes))
            .map_err(|e| ImportError::Syntax {
                position: super::Position {
                    line: 1 + bytes[..e.valid_up_to()]
                        .iter()
                        .filter(|&&b| b == b'\n')
                        .count(),
                    column: 1,
                },
                message: "LoLA files must be UTF-8".into(),
            })?;
        return lola::import_lola_with(text, limits);
    }
    match first {
        b'{' | b'[' => {
            let text = std::str::from_utf8(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes))
                .map_err(|e| ImportError::Syntax {
                    position: super::Position {
                        line: 1 + bytes[..e.valid_up_to()]
                            .iter()
                            .filter(|&&b| b == b'\n')
                            .count(),
                        column: 1,
                    },
                    message: "JSON must be UTF-8".into(),
                })?;
            json::import_json_with(text, limits)
        }
        b'<' => {
            let text = xml::decode(bytes)?;
            let doc = xml::parse(&text, limits)?;
            match doc.root().name() {
                "pnml" if tapn::is_tapn(&doc) => tapn::read(&doc),
                "pnml" => pnml::read(&doc),
                "document" => pflow_xml::read(&doc),
                found => Err(ImportError::WrongRoot {
                    position: doc.position(doc.root().offset()),
                    found: found.to_string(),
                    expected: "<pnml> (PNML) or <document> (PNEditor .pflow)".into(),
                }),
            }
        }
        other => Err(ImportError::UnknownFormat {
            message: format!(
                "expected a JSON object or an XML document, found {:?} at the start",
                char::from(other)
            ),
        }),
    }
}

/// A JSON object or list: `{` or `[` followed (after white space) by what
/// JSON allows there, so that a LoLA `{ comment }` is not taken for one.
fn is_json(text: &[u8]) -> bool {
    match text.first() {
        Some(b'[') => true,
        Some(b'{') => {
            let rest = &text[1..];
            match rest.iter().position(|b| !b.is_ascii_whitespace()) {
                Some(i) => matches!(rest[i], b'"' | b'}'),
                None => true,
            }
        }
        _ => false,
    }
}

/// TAPAAL's `.tapn`: a `positionX=` attribute or a shared node early on
/// (cheap: the first 64 KiB).
fn looks_like_tapn(text: &[u8]) -> bool {
    let head = &text[..text.len().min(64 << 10)];
    find(head, b"positionX=").is_some()
        || find(head, b"<shared-place").is_some()
        || find(head, b"<shared-transition").is_some()
}

/// Skips a UTF-8 BOM and leading whitespace.
fn skip_prolog(bytes: &[u8]) -> Option<&[u8]> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace())?;
    Some(&bytes[start..])
}

/// Name of the first element, skipping the XML declaration, comments and
/// processing instructions (ASCII scan, no parsing).
fn root_name(mut text: &[u8]) -> Option<&str> {
    loop {
        text = &text[text.iter().position(|&b| b == b'<')?..];
        if text.starts_with(b"<?") {
            text = &text[find(text, b"?>")? + 2..];
        } else if text.starts_with(b"<!--") {
            text = &text[find(text, b"-->")? + 3..];
        } else if text.starts_with(b"<!") {
            return None;
        } else {
            let name = &text[1..];
            let end = name
                .iter()
                .position(|b| b.is_ascii_whitespace() || matches!(b, b'>' | b'/'))
                .unwrap_or(name.len());
            let name = std::str::from_utf8(&name[..end]).ok()?;
            return Some(name.rsplit(':').next().unwrap_or(name));
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrong_roots_and_unknown_content_are_refused_clearly() {
        let err = import(b"<?xml version=\"1.0\"?>\n<svg id=\"x\"/>").unwrap_err();
        assert_eq!(err.code(), "WRONG_ROOT");
        assert!(
            err.to_string().starts_with("2:1: root element <svg>"),
            "{err}"
        );
        assert_eq!(import(b"  \n").unwrap_err().code(), "UNKNOWN_FORMAT");
        assert_eq!(import(b"hello").unwrap_err().code(), "UNKNOWN_FORMAT");
        assert_eq!(import(b"[1, 2]").unwrap_err().code(), "UNKNOWN_FORMAT");
    }

    #[test]
    fn json_goes_to_the_json_reader() {
        let (model, _) = import(b"\xEF\xBB\xBF {\"places\":{\"p\":{\"initial\":[3]}}}").unwrap();
        assert_eq!(model.places()[0].initial, 3);
    }

    #[test]
    fn size_is_capped_before_anything_is_parsed() {
        let limits = ImportLimits {
            max_bytes: 4,
            ..ImportLimits::default()
        };
        assert_eq!(
            import_with(b"<pnml/>", &limits).unwrap_err().code(),
            "TOO_LARGE"
        );
    }
}
