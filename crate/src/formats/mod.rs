//! Reading and writing nets in the formats users already have.
//!
//! Every importer returns the model and a list of [`Warning`]s for anything it
//! read but did not understand (nothing is dropped silently), or an
//! [`ImportError`] that says where the problem is.

pub mod json;

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
}

impl Default for ImportLimits {
    fn default() -> Self {
        ImportLimits {
            max_bytes: 64 << 20,
            max_depth: 64,
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
            ImportError::TooDeep { .. } => "TOO_DEEP",
            ImportError::UnknownFormat { .. } => "UNKNOWN_FORMAT",
            ImportError::Invalid(_) => "INVALID_MODEL",
        }
    }
}

/// A model with the warnings its import produced.
pub type Imported = (crate::Model, Vec<Warning>);
