//! The one error type of the analysis functions.

use serde::Serialize;

use crate::engine::FireError;

/// Why an analysis could not give an answer. Limits that are reached during
/// an exploration are not errors (the result says "not exhaustive"); these
/// are inputs that cannot be analysed at all.
///
/// Serialises with the variant as `kind` and the fields in camelCase; the
/// machine-readable code is [`AnalysisError::code`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[serde(
    tag = "kind",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
#[non_exhaustive]
pub enum AnalysisError {
    /// A marking does not have one count per place.
    #[error("marking has {got} count(s), the model has {expected} place(s)")]
    WrongMarkingSize {
        /// Places in the model.
        expected: usize,
        /// Counts given.
        got: usize,
    },
    /// A count is above 2^53 - 1.
    #[error("{what}: {value} is above 2^53-1")]
    Overflow {
        /// What overflowed.
        what: String,
        /// The value, when it is known (0 otherwise).
        value: u64,
    },
    /// A computation would need more than its limit allows.
    #[error("{what}: more than {limit} (the limit)")]
    TooLarge {
        /// What grew too large.
        what: String,
        /// The limit.
        limit: u64,
    },
    /// A limit or option is out of range.
    #[error("{field}: {message}")]
    InvalidInput {
        /// The option.
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// The events do not start at seq 1 or have a gap.
    #[error("event seq {found} where {expected} was expected")]
    SeqGap {
        /// The seq that should come next.
        expected: u64,
        /// The seq found.
        found: u64,
    },
    /// Replaying an event through the net failed: the log does not belong
    /// to this net, or was changed.
    #[error("event {seq} ('{action}') cannot be replayed: {error}")]
    Replay {
        /// Seq of the event.
        seq: u64,
        /// Its action.
        action: String,
        /// Why the net refused it.
        error: FireError,
    },
}

impl AnalysisError {
    /// Stable machine-readable code, one of [`crate::ERROR_CODES`]; a
    /// replay refusal carries the engine's code (`NOT_ENABLED`, ...).
    pub fn code(&self) -> &'static str {
        match self {
            AnalysisError::WrongMarkingSize { .. } => "WRONG_MARKING_SIZE",
            AnalysisError::Overflow { .. } => "OVERFLOW",
            AnalysisError::TooLarge { .. } => "TOO_LARGE",
            AnalysisError::InvalidInput { .. } => "INVALID_INPUT",
            AnalysisError::SeqGap { .. } => "SEQ_GAP",
            AnalysisError::Replay { error, .. } => error.code(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_is_a_listed_code() {
        let all = [
            AnalysisError::WrongMarkingSize {
                expected: 1,
                got: 2,
            },
            AnalysisError::Overflow {
                what: "x".into(),
                value: 0,
            },
            AnalysisError::TooLarge {
                what: "x".into(),
                limit: 1,
            },
            AnalysisError::InvalidInput {
                field: "f".into(),
                message: "m".into(),
            },
            AnalysisError::SeqGap {
                expected: 1,
                found: 3,
            },
            AnalysisError::Replay {
                seq: 1,
                action: "t".into(),
                error: FireError::UnknownTransition {
                    transition: "t".into(),
                },
            },
        ];
        for e in all {
            assert!(crate::is_error_code(e.code()), "{}", e.code());
            let json = serde_json::to_value(&e).unwrap();
            assert!(json["kind"].is_string(), "{json}");
        }
    }
}
