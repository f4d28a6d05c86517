//! Reading and writing nets in the formats users already have.
//!
//! Every importer returns the model and a list of [`Warning`]s for anything it
//! read but did not understand (nothing is dropped silently), or an
//! [`ImportError`] that says where the problem is.

mod detect;
pub mod dot;
pub mod json;
pub mod lola;
pub mod pflow_xml;
pub mod pnml;
pub mod tapn;
mod xml;

pub use detect::{detect, import, import_with, Format};

use serde::Serialize;

use crate::model::ModelError;

/// A position in an input text, 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Position {
    /// Line, from 1.
    pub line: usize,
    /// Column, from 1.
    pub column: usize,
}

impl std::fmt::Display for Position {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// Something the importer read but did not use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Warning {
    /// Id (or path, like `places.p1.colour`) of the element concerned.
    pub element: String,
    /// Where it is in the input, when the reader knows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub position: Option<Position>,
    /// What was ignored and why.
    pub message: String,
}

/// Size caps for importers. The defaults suit any real net; a hostile file
/// hits them long before it exhausts memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportLimits {
    /// Largest input accepted, in bytes (default 64 MiB).
    pub max_bytes: usize,
    /// Deepest nesting of elements / values (default 64).
    pub max_depth: usize,
    /// Most elements and attributes of one XML document, counted as they
    /// are read (default 8,000,000: a 64 MiB PNML file of real nets holds
    /// about 3 million). Bounds the XML tree's memory whatever the input.
    pub max_xml_nodes: usize,
    /// Most JSON values (numbers, strings, arrays, objects, at any depth)
    /// inside one place, transition, arc or other top-level field of a JSON
    /// model (default 262,144). The JSON reader holds one such element as a
    /// tree at a time, so this bounds that tree's memory.
    pub max_element_values: usize,
}

impl Default for ImportLimits {
    fn default() -> Self {
        ImportLimits {
            max_bytes: 64 << 20,
            max_depth: 64,
            max_xml_nodes: 8_000_000,
            max_element_values: 1 << 18,
        }
    }
}

/// An input could not be imported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[serde(
    tag = "code",
    rename_all = "SCREAMING_SNAKE_CASE",
    rename_all_fields = "camelCase"
)]
#[non_exhaustive]
pub enum ImportError {
    /// The text is not well-formed (JSON or XML).
    #[error("syntax error at {position}: {message}")]
    Syntax {
        /// Where.
        position: Position,
        /// What the parser said.
        message: String,
    },
    /// A value has the wrong type or range.
    #[error("{element}{}: {message}", at(.position))]
    BadValue {
        /// Element id or path.
        element: String,
        /// Where, when known.
        #[serde(skip_serializing_if = "Option::is_none")]
        position: Option<Position>,
        /// What is wrong and what is expected.
        message: String,
    },
    /// A feature petrichain does not model (e.g. coloured tokens).
    #[error("{element}{}: not supported: {message}", at(.position))]
    Unsupported {
        /// Element id or path.
        element: String,
        /// Where, when known.
        #[serde(skip_serializing_if = "Option::is_none")]
        position: Option<Position>,
        /// What is not supported.
        message: String,
    },
    /// The input is larger than [`ImportLimits::max_bytes`].
    #[error("input is {bytes} bytes, above the limit of {limit}")]
    TooLarge {
        /// Size of the input.
        bytes: usize,
        /// The limit.
        limit: usize,
    },
    /// More places, transitions, arcs, XML nodes or JSON values than a
    /// limit allows ([`crate::model::Limits`],
    /// [`ImportLimits::max_xml_nodes`], [`ImportLimits::max_element_values`]),
    /// found while reading: the rest of the input is not read.
    #[error("{position}: more than {limit} {what}; the rest of the input was not read")]
    TooManyNodes {
        /// What was counted, e.g. `arcs`.
        what: String,
        /// Where the count went past the limit.
        position: Position,
        /// The limit.
        limit: usize,
    },
    /// The input is not UTF-8 text: UTF-16 or UTF-32 (told by a byte-order
    /// mark or by the zero bytes of ASCII characters).
    #[error(
        "the file is {encoding} text; petrichain reads UTF-8: save it as UTF-8 and import it again"
    )]
    Encoding {
        /// What the input looks like, e.g. `UTF-16LE`.
        encoding: String,
    },
    /// A JSON object names the same key twice (JSON parsers disagree on
    /// which value wins, so neither is taken).
    #[error("{position}: key \"{key}\" appears twice in {element}")]
    DuplicateKey {
        /// The repeated key.
        key: String,
        /// The object, e.g. `model` or `arcs[3]`.
        element: String,
        /// Where the second one is.
        position: Position,
    },
    /// Nesting deeper than [`ImportLimits::max_depth`].
    #[error("nesting deeper than {limit} levels at {position}")]
    TooDeep {
        /// Where.
        position: Position,
        /// The limit.
        limit: usize,
    },
    /// The content is not any format petrichain reads.
    #[error("unrecognised format: {message}")]
    UnknownFormat {
        /// What was seen instead.
        message: String,
    },
    /// The XML has a document type declaration (DTD). petrichain never
    /// processes DTDs or entity declarations, so such files are refused
    /// outright (no entity expansion of any kind).
    #[error("{position}: DTD / DOCTYPE declarations are not accepted (entity expansion is never performed); remove the <!DOCTYPE ...> line")]
    DtdRefused {
        /// Where the declaration starts.
        position: Position,
    },
    /// The input ends in the middle of the document.
    #[error("{position}: the file is truncated: it ends inside {context}")]
    Truncated {
        /// The end of the input.
        position: Position,
        /// What was still open, e.g. `<place id="p1"> opened at 3:5`.
        context: String,
    },
    /// The XML root element is not one this reader accepts.
    #[error("{position}: root element <{found}> is not {expected}")]
    WrongRoot {
        /// Where the root element starts.
        position: Position,
        /// The root element's name.
        found: String,
        /// What was expected, e.g. `<pnml>`.
        expected: String,
    },
    /// Two places / transitions (or reference nodes) share an id.
    #[error("{position}: id '{id}' is already used by the element at {first}")]
    DuplicateId {
        /// The repeated id.
        id: String,
        /// Where the second use is.
        position: Position,
        /// Where the first use is.
        first: Position,
    },
    /// An arc, reference or role names a node that does not exist.
    #[error("{position}: {element} refers to '{node}', which is no {expected} in this file")]
    MissingNode {
        /// The referring element (an arc id like `a1` or `p1->t1`, a reference id, a role).
        element: String,
        /// Where the referring element is.
        position: Position,
        /// The id that was not found.
        node: String,
        /// What kind of node was expected ("place or transition", "place", "transition").
        expected: String,
    },
    /// A token count, capacity or weight is above [`crate::MAX_TOKENS`].
    #[error("{element} (at {position}): {value} is above the maximum token count {max}")]
    Overflow {
        /// Element id.
        element: String,
        /// Where.
        position: Position,
        /// The value as written.
        value: String,
        /// [`crate::MAX_TOKENS`].
        max: u64,
    },
    /// The net was read but is not valid.
    #[error(transparent)]
    #[serde(rename = "INVALID_MODEL")]
    Invalid(#[from] ModelError),
}

fn at(position: &Option<Position>) -> String {
    position.map(|p| format!(" (at {p})")).unwrap_or_default()
}

impl ImportError {
    /// Stable machine-readable code, e.g. `SYNTAX`.
    pub fn code(&self) -> &'static str {
        match self {
            ImportError::Syntax { .. } => "SYNTAX",
            ImportError::BadValue { .. } => "BAD_VALUE",
            ImportError::Unsupported { .. } => "UNSUPPORTED",
            ImportError::TooLarge { .. } => "TOO_LARGE",
            ImportError::TooManyNodes { .. } => "TOO_LARGE",
            ImportError::Encoding { .. } => "ENCODING",
            ImportError::DuplicateKey { .. } => "DUPLICATE_KEY",
            ImportError::TooDeep { .. } => "TOO_DEEP",
            ImportError::UnknownFormat { .. } => "UNKNOWN_FORMAT",
            ImportError::DtdRefused { .. } => "DTD_REFUSED",
            ImportError::Truncated { .. } => "TRUNCATED",
            ImportError::WrongRoot { .. } => "WRONG_ROOT",
            ImportError::DuplicateId { .. } => "DUPLICATE_ID",
            ImportError::MissingNode { .. } => "MISSING_NODE",
            ImportError::Overflow { .. } => "OVERFLOW",
            ImportError::Invalid(_) => "INVALID_MODEL",
        }
    }
}

/// Refuses UTF-16 and UTF-32 input up front with [`ImportError::Encoding`]
/// ("save it as UTF-8"), told by a byte-order mark or, without one, by the
/// zero bytes of its first (ASCII) character: every reader would otherwise
/// fail later with a confusing syntax error.
pub(crate) fn refuse_wide_encodings(bytes: &[u8]) -> Result<(), ImportError> {
    let encoding = match bytes {
        [0xFF, 0xFE, 0, 0, ..] => "UTF-32LE (with a byte-order mark)",
        [0, 0, 0xFE, 0xFF, ..] => "UTF-32BE (with a byte-order mark)",
        [0xFF, 0xFE, ..] => "UTF-16LE (with a byte-order mark)",
        [0xFE, 0xFF, ..] => "UTF-16BE (with a byte-order mark)",
        [a, 0, 0, 0, ..] if *a != 0 => "UTF-32LE",
        [0, 0, 0, b, ..] if *b != 0 => "UTF-32BE",
        [a, 0, ..] if *a != 0 => "UTF-16LE",
        [0, b, ..] if *b != 0 => "UTF-16BE",
        _ => return Ok(()),
    };
    Err(ImportError::Encoding {
        encoding: encoding.into(),
    })
}

/// A model with the warnings its import produced.
pub type Imported = (crate::Model, Vec<Warning>);
