//! LoLA's net format (`.lola`), the plain-text input of the LoLA model
//! checker and of the tools around it (the Model Checking Contest ships
//! every P/T model in it too):
//!
//! ```text
//! { a comment }
//! PLACE
//!   SAFE 1: mutex;       { a bound: read as the places' capacity }
//!   idle, busy;
//! MARKING
//!   idle: 2, mutex;      { a count of 1 may be left out }
//! TRANSITION enter
//!   CONSUME idle, mutex;
//!   PRODUCE busy;
//! TRANSITION leave
//!   CONSUME busy: 1;
//!   PRODUCE idle: 1, mutex: 1;
//! ```
//!
//! Names are any run of characters other than white space and
//! `,;:(){}`; keywords are upper case. `STRONG FAIR` / `WEAK FAIR` before a
//! transition are fairness assumptions for LoLA's temporal logic and are
//! read with a warning; coloured (high-level) LoLA nets (`SORT`, `FUNCTION`,
//! `VAR`, `GUARD`, `ALL` and the like) are refused with `UNSUPPORTED`.
//! Errors carry line:column; sizes are capped by [`ImportLimits`] and the
//! model's own limits. LoLA files carry no positions: they are laid out.

use super::{ImportError, ImportLimits, Imported, Position, Warning};
use crate::model::{Arc, ArcKind, Model, ModelData, Place, Transition, MAX_TOKENS};

/// Reads a LoLA net with default limits.
///
/// ```
/// use petrichain::formats::lola::import_lola;
/// let (model, warnings) = import_lola("PLACE p, q; MARKING p: 2;
///   TRANSITION t CONSUME p; PRODUCE q: 3;").unwrap();
/// assert_eq!(model.places()[0].initial, 2);
/// assert_eq!(model.arcs()[1].weight, 3);
/// assert!(warnings.is_empty());
/// ```
pub fn import_lola(text: &str) -> Result<Imported, ImportError> {
    import_lola_with(text, &ImportLimits::default())
}

/// Like [`import_lola`] with explicit limits.
pub fn import_lola_with(text: &str, limits: &ImportLimits) -> Result<Imported, ImportError> {
    if text.len() > limits.max_bytes {
        return Err(ImportError::TooLarge {
            bytes: text.len(),
            limit: limits.max_bytes,
        });
    }
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut p = Parser {
        lexer: Lexer {
            src: text,
            at: 0,
            line: 1,
            column: 1,
        },
        peeked: None,
        warnings: Vec::new(),
    };
    let data = p.net()?;
    Ok((Model::new(data)?, p.warnings))
}

/// Whether `text` starts (after white space and `{ comments }`) with
/// LoLA's `PLACE` keyword.
pub(crate) fn looks_like_lola(text: &[u8]) -> bool {
    let mut i = 0;
    loop {
        while i < text.len() && text[i].is_ascii_whitespace() {
            i += 1;
        }
        if text.get(i) == Some(&b'{') {
            match text[i..].iter().position(|&b| b == b'}') {
                Some(end) => i += end + 1,
                None => return false,
            }
        } else {
            return text[i..].starts_with(b"PLACE")
                && text
                    .get(i + 5)
                    .is_none_or(|b| b.is_ascii_whitespace() || *b == b'{');
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok<'a> {
    Word(&'a str),
    Punct(char),
    End,
}

struct Lexer<'a> {
    src: &'a str,
    at: usize,
    line: usize,
    column: usize,
}

impl<'a> Lexer<'a> {
    fn position(&self) -> Position {
        Position {
            line: self.line,
            column: self.column,
        }
    }

    fn bump(&mut self, c: char) {
        self.at += c.len_utf8();
        if c == '\n' {
            self.line += 1;
            self.column = 1;
        } else {
            self.column += 1;
        }
    }

    /// The next token and where it starts.
    fn next(&mut self) -> Result<(Tok<'a>, Position), ImportError> {
        loop {
            let Some(c) = self.src[self.at..].chars().next() else {
                return Ok((Tok::End, self.position()));
            };
            if c.is_whitespace() {
                self.bump(c);
            } else if c == '{' {
                let start = self.position();
                self.bump(c);
                loop {
                    match self.src[self.at..].chars().next() {
                        Some('}') => {
                            self.bump('}');
                            break;
                        }
                        Some(c) => self.bump(c),
                        None => {
                            return Err(ImportError::Truncated {
                                position: self.position(),
                                context: format!("a {{ comment }} opened at {start}"),
                            })
                        }
                    }
                }
            } else if c == '}' {
                return Err(ImportError::Syntax {
                    position: self.position(),
                    message: "'}' without an opening '{'".into(),
                });
            } else {
                break;
            }
        }
        let start = self.position();
        let rest = &self.src[self.at..];
        let c = rest.chars().next().unwrap_or(' ');
        if matches!(c, ',' | ';' | ':' | '(' | ')') {
            self.bump(c);
            return Ok((Tok::Punct(c), start));
        }
        let len = rest
            .find(|c: char| c.is_whitespace() || ",;:(){}".contains(c))
            .unwrap_or(rest.len());
        let word = &rest[..len];
        for c in word.chars() {
            self.bump(c);
        }
        Ok((Tok::Word(word), start))
    }
}

struct Parser<'a> {
    lexer: Lexer<'a>,
    peeked: Option<(Tok<'a>, Position)>,
    warnings: Vec<Warning>,
}

/// Keywords of coloured LoLA nets.
const HIGH_LEVEL: &[&str] = &[
    "SORT",
    "FUNCTION",
    "VAR",
    "GUARD",
    "ALL",
    "RECORD",
    "ARRAY",
    "ENUMERATE",
    "CONSTANT",
];

impl<'a> Parser<'a> {
    fn peek(&mut self) -> Result<&(Tok<'a>, Position), ImportError> {
        if self.peeked.is_none() {
            self.peeked = Some(self.lexer.next()?);
        }
        Ok(self.peeked.get_or_insert((Tok::End, self.lexer.position())))
    }

    fn take(&mut self) -> Result<(Tok<'a>, Position), ImportError> {
        match self.peeked.take() {
            Some(t) => Ok(t),
            None => self.lexer.next(),
        }
    }

    fn unexpected(tok: &Tok, at: Position, wanted: &str) -> ImportError {
        match tok {
            Tok::End => ImportError::Truncated {
                position: at,
                context: format!("the net: {wanted} expected"),
            },
            Tok::Word(w) if HIGH_LEVEL.contains(w) => ImportError::Unsupported {
                element: (*w).to_string(),
                position: Some(at),
                message: format!("coloured (high-level) LoLA nets ({w})"),
            },
            Tok::Word(w) => ImportError::Syntax {
                position: at,
                message: format!("{wanted} expected, found \"{}\"", super::xml::shorten(w)),
            },
            Tok::Punct(c) => ImportError::Syntax {
                position: at,
                message: format!("{wanted} expected, found '{c}'"),
            },
        }
    }

    fn keyword(&mut self, word: &str) -> Result<Position, ImportError> {
        let (tok, at) = self.take()?;
        if tok == Tok::Word(word) {
            Ok(at)
        } else {
            Err(Self::unexpected(&tok, at, word))
        }
    }

    fn punct(&mut self, c: char) -> Result<(), ImportError> {
        let (tok, at) = self.take()?;
        if tok == Tok::Punct(c) {
            Ok(())
        } else {
            Err(Self::unexpected(&tok, at, &format!("'{c}'")))
        }
    }

    fn name(&mut self) -> Result<(&'a str, Position), ImportError> {
        let (tok, at) = self.take()?;
        match tok {
            Tok::Word(w) if !is_keyword(w) => Ok((w, at)),
            other => Err(Self::unexpected(&other, at, "a name")),
        }
    }

    fn number(&mut self, what: &str) -> Result<u64, ImportError> {
        let (tok, at) = self.take()?;
        match tok {
            Tok::Word(w) if w.bytes().all(|b| b.is_ascii_digit()) => match w.parse::<u64>() {
                Ok(v) if v <= MAX_TOKENS => Ok(v),
                _ => Err(ImportError::Overflow {
                    element: what.to_string(),
                    position: at,
                    value: w.to_string(),
                    max: MAX_TOKENS,
                }),
            },
            other => Err(Self::unexpected(&other, at, "a number")),
        }
    }

    fn is_punct(&mut self, c: char) -> Result<bool, ImportError> {
        Ok(self.peek()?.0 == Tok::Punct(c))
    }

    fn net(&mut self) -> Result<ModelData, ImportError> {
        let mut data = ModelData::default();
        let mut declared: rustc_hash::FxHashMap<&'a str, (bool, Position)> = Default::default();
        self.keyword("PLACE")?;
        // Place lists, each optionally after SAFE [n]:, separated by ';'.
        loop {
            let mut capacity = 0;
            if self.peek()?.0 == Tok::Word("SAFE") {
                self.take()?;
                capacity = if self.is_punct(':')? {
                    1
                } else {
                    self.number("SAFE")?
                };
                self.punct(':')?;
            }
            if self.peek()?.0 == Tok::Word("MARKING") {
                break;
            }
            loop {
                let (id, at) = self.name()?;
                if let Some((_, first)) = declared.insert(id, (true, at)) {
                    return Err(ImportError::DuplicateId {
                        id: id.to_string(),
                        position: at,
                        first,
                    });
                }
                data.places.push(Place {
                    keyed: false,
                    id: id.to_string(),
                    label: String::new(),
                    initial: 0,
                    capacity,
                    x: 0,
                    y: 0,
                });
                if self.is_punct(',')? {
                    self.take()?;
                    continue;
                }
                break;
            }
            self.punct(';')?;
            if self.peek()?.0 == Tok::Word("MARKING") {
                break;
            }
        }
        self.keyword("MARKING")?;
        let index: rustc_hash::FxHashMap<String, usize> = data
            .places
            .iter()
            .enumerate()
            .map(|(i, p)| (p.id.clone(), i))
            .collect();
        let marking = self.multiset("MARKING", &index)?;
        for (place, n) in marking {
            let p = &mut data.places[place];
            p.initial = p
                .initial
                .checked_add(n)
                .filter(|&v| v <= MAX_TOKENS)
                .ok_or_else(|| ImportError::Overflow {
                    element: p.id.clone(),
                    position: self.lexer.position(),
                    value: "sum of its MARKING entries".into(),
                    max: MAX_TOKENS,
                })?;
        }
        self.punct(';')?;
        loop {
            let (tok, at) = self.peek()?.clone();
            match tok {
                Tok::End => break,
                Tok::Word("STRONG" | "WEAK") => {
                    self.take()?;
                    self.keyword("FAIR")?;
                    self.warnings.push(Warning {
                        element: "TRANSITION".into(),
                        position: Some(at),
                        message:
                            "fairness assumption ignored: it only matters to LoLA's temporal logic"
                                .into(),
                    });
                }
                Tok::Word("TRANSITION") => {
                    self.take()?;
                    let (id, at) = self.name()?;
                    if let Some((_, first)) = declared.insert(id, (false, at)) {
                        return Err(ImportError::DuplicateId {
                            id: id.to_string(),
                            position: at,
                            first,
                        });
                    }
                    data.transitions.push(Transition {
                        distinct: Vec::new(),
                        signer: Vec::new(),
                        params: Vec::new(),
                        id: id.to_string(),
                        label: String::new(),
                        roles: Vec::new(),
                        x: 0,
                        y: 0,
                    });
                    self.keyword("CONSUME")?;
                    for (place, w) in self.multiset(id, &index)? {
                        data.arcs.push(Arc {
                            key: None,
                            source: data.places[place].id.clone(),
                            target: id.to_string(),
                            weight: w,
                            kind: ArcKind::Normal,
                            points: Vec::new(),
                        });
                    }
                    self.punct(';')?;
                    self.keyword("PRODUCE")?;
                    for (place, w) in self.multiset(id, &index)? {
                        data.arcs.push(Arc {
                            key: None,
                            source: id.to_string(),
                            target: data.places[place].id.clone(),
                            weight: w,
                            kind: ArcKind::Normal,
                            points: Vec::new(),
                        });
                    }
                    self.punct(';')?;
                }
                other => return Err(Self::unexpected(&other, at, "TRANSITION")),
            }
        }
        Ok(data)
    }

    /// `name [: n], ...` up to (not including) the next `;`; repeated
    /// names add up. An empty list is allowed.
    fn multiset(
        &mut self,
        owner: &str,
        index: &rustc_hash::FxHashMap<String, usize>,
    ) -> Result<Vec<(usize, u64)>, ImportError> {
        let mut out: Vec<(usize, u64)> = Vec::new();
        if self.is_punct(';')? {
            return Ok(out);
        }
        loop {
            let (id, at) = self.name()?;
            let Some(&place) = index.get(id) else {
                return Err(ImportError::MissingNode {
                    element: owner.to_string(),
                    position: at,
                    node: id.to_string(),
                    expected: "place".into(),
                });
            };
            let n = if self.is_punct(':')? {
                self.take()?;
                self.number(id)?
            } else {
                1
            };
            match out.iter_mut().find(|(p, _)| *p == place) {
                Some((_, w)) => {
                    *w = w
                        .checked_add(n)
                        .filter(|&v| v <= MAX_TOKENS)
                        .ok_or_else(|| ImportError::Overflow {
                            element: id.to_string(),
                            position: at,
                            value: format!("{w} + {n}"),
                            max: MAX_TOKENS,
                        })?
                }
                None => out.push((place, n)),
            }
            if self.is_punct(',')? {
                self.take()?;
                continue;
            }
            return Ok(out.into_iter().filter(|&(_, n)| n > 0).collect());
        }
    }
}

fn is_keyword(w: &str) -> bool {
    matches!(
        w,
        "PLACE"
            | "MARKING"
            | "TRANSITION"
            | "CONSUME"
            | "PRODUCE"
            | "SAFE"
            | "STRONG"
            | "WEAK"
            | "FAIR"
    ) || HIGH_LEVEL.contains(&w)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FireOptions;

    const MUTEX: &str = "{ two processes and a mutex }
PLACE
  SAFE 1: mutex;
  idle, busy;
MARKING
  idle: 2, mutex;
WEAK FAIR TRANSITION enter
  CONSUME idle, mutex;
  PRODUCE busy;
TRANSITION leave
  CONSUME busy: 1;
  PRODUCE idle: 1, mutex: 1;
";

    #[test]
    fn reads_places_bounds_markings_and_transitions_and_fires() {
        let (model, warnings) = import_lola(MUTEX).unwrap();
        let places: Vec<_> = model
            .places()
            .iter()
            .map(|p| (p.id.as_str(), p.initial, p.capacity))
            .collect();
        assert_eq!(
            places,
            vec![("busy", 0, 0), ("idle", 2, 0), ("mutex", 1, 1)]
        );
        assert_eq!(model.arcs().len(), 6);
        assert_eq!(warnings.len(), 1);
        assert_eq!(warnings[0].position.unwrap().to_string(), "7:1");
        let opts = FireOptions {
            multiple: 1,
            roles: &[],
        };
        let m = model
            .fire(&model.initial_marking(), "enter", &opts)
            .unwrap();
        assert_eq!(
            model.fire(&m, "enter", &opts).unwrap_err().code(),
            "NOT_ENABLED",
            "the mutex is taken"
        );
        let m = model.fire(&m, "leave", &opts).unwrap();
        assert_eq!(model.marking_map(&m)["idle"], 2);
        // Through the content-detecting entry point too.
        let (again, _) = crate::formats::import(MUTEX.as_bytes()).unwrap();
        assert_eq!(again.id(), model.id());
        assert!(crate::render::needs_layout(&model));
    }

    #[test]
    fn errors_have_line_and_column() {
        let cases = [
            ("PLACE p; MARKING q: 1;", "MISSING_NODE", "1:18"),
            ("PLACE p, p; MARKING;", "DUPLICATE_ID", "1:10"),
            (
                "PLACE p; MARKING p: 99999999999999999999;",
                "OVERFLOW",
                "1:21",
            ),
            ("PLACE p;\nMARKING p: 1\nTRANSITION t", "SYNTAX", "3:1"),
            (
                "PLACE p; MARKING; TRANSITION t CONSUME p",
                "TRUNCATED",
                "1:41",
            ),
            ("PLACE p; { never closed", "TRUNCATED", "1:24"),
            ("PLACE p; MARKING; SORT s = BOOL;", "UNSUPPORTED", "1:19"),
            (
                "PLACE p; MARKING; TRANSITION p CONSUME; PRODUCE;",
                "DUPLICATE_ID",
                "1:30",
            ),
        ];
        for (text, code, at) in cases {
            let err = import_lola(text).unwrap_err();
            assert_eq!(err.code(), code, "{text}: {err}");
            assert!(err.to_string().contains(at), "{text}: {err} (wanted {at})");
        }
        let limits = ImportLimits {
            max_bytes: 8,
            ..ImportLimits::default()
        };
        assert_eq!(
            import_lola_with(MUTEX, &limits).unwrap_err().code(),
            "TOO_LARGE"
        );
    }

    #[test]
    fn detection_tells_lola_from_json() {
        assert!(looks_like_lola(MUTEX.as_bytes()));
        assert!(looks_like_lola(b"  PLACE\np;"));
        assert!(!looks_like_lola(b"{\"places\": {}}"));
        assert!(!looks_like_lola(b"PLACES"));
        assert!(!looks_like_lola(b"{ unclosed"));
        assert_eq!(
            crate::formats::detect(MUTEX.as_bytes()),
            Some(crate::formats::Format::Lola)
        );
    }

    /// Every prefix and many one-byte corruptions of the sample import or
    /// fail with a typed error: never a panic.
    #[test]
    fn cut_or_corrupted_files_never_panic() {
        let bytes = MUTEX.as_bytes();
        for cut in 0..bytes.len() {
            if let Err(e) = crate::formats::import(&bytes[..cut]) {
                assert!(!e.code().is_empty());
            }
        }
        let mut seed = 7u64;
        for _ in 0..2000 {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let at = (seed >> 33) as usize % bytes.len();
            let mut v = bytes.to_vec();
            v[at] = b"<>/\"=:;,{}() x9-\n"[(seed >> 20) as usize % 17];
            let _ = crate::formats::import(&v);
        }
    }
}
