//! Why a firing was refused, with the numbers needed to act on it.

use serde::Serialize;

/// A transition could not fire. Nothing was changed.
///
/// Serialises (for JS and HTTP) as an object whose `code` names the variant,
/// e.g. `{"code":"NOT_ENABLED","transition":"sell","place":"stock","has":0,"needs":1}`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[serde(
    tag = "code",
    rename_all = "SCREAMING_SNAKE_CASE",
    rename_all_fields = "camelCase"
)]
#[non_exhaustive]
pub enum FireError {
    /// No transition has this id.
    #[error("unknown transition '{transition}'")]
    UnknownTransition {
        /// The id asked for.
        transition: String,
    },
    /// No place has this id.
    #[error("unknown place '{place}'")]
    UnknownPlace {
        /// The id given.
        place: String,
    },
    /// A place lacks tokens.
    #[error("'{transition}' is not enabled: place '{place}' has {has} token(s), needs {needs}")]
    NotEnabled {
        /// The transition.
        transition: String,
        /// The place short of tokens.
        place: String,
        /// Tokens it holds.
        has: u64,
        /// Tokens the firing consumes.
        needs: u64,
    },
    /// An inhibitor arc blocks the transition.
    #[error("'{transition}' is inhibited: place '{place}' has {has} token(s), must have fewer than {limit}")]
    Inhibited {
        /// The transition.
        transition: String,
        /// The inhibiting place.
        place: String,
        /// Tokens it holds.
        has: u64,
        /// The inhibitor arc's weight.
        limit: u64,
    },
    /// A read arc's condition does not hold.
    #[error(
        "'{transition}' needs place '{place}' to hold {needs} token(s) (read arc), it has {has}"
    )]
    ReadArcUnmet {
        /// The transition.
        transition: String,
        /// The place read.
        place: String,
        /// Tokens it holds.
        has: u64,
        /// The read arc's weight.
        needs: u64,
    },
    /// A place would exceed its capacity.
    #[error("'{transition}' would put {would_have} token(s) in place '{place}', above its capacity {capacity}")]
    CapacityExceeded {
        /// The transition.
        transition: String,
        /// The place that would overflow.
        place: String,
        /// Tokens it would hold after firing.
        would_have: u64,
        /// Its capacity.
        capacity: u64,
    },
    /// The actor holds none of the transition's roles.
    #[error("'{transition}' requires role {}; actor holds [{}]", one_of(.required), .held.join(", "))]
    RoleDenied {
        /// The transition.
        transition: String,
        /// Roles that may fire it (any one suffices).
        required: Vec<String>,
        /// Roles the actor holds (that the model knows of).
        held: Vec<String>,
    },
    /// A count would pass 2^53 - 1 or a multiplication would overflow.
    #[error(
        "firing '{transition}' would overflow the token count of place '{place}' (max 2^53-1)"
    )]
    Overflow {
        /// The transition (empty when a given marking itself is too large).
        transition: String,
        /// The place.
        place: String,
    },
    /// `multiple` was 0.
    #[error("'{transition}': multiple must be at least 1")]
    InvalidMultiple {
        /// The transition.
        transition: String,
    },
    /// An argument of a transition with parameters is missing, unknown,
    /// given twice, not a valid key, or breaks a `distinct` constraint.
    #[error("'{transition}': argument '{argument}' {message}")]
    BadArgument {
        /// The transition.
        transition: String,
        /// The parameter the argument is for.
        argument: String,
        /// What is wrong with it.
        message: String,
    },
    /// The marking does not have one count per place.
    #[error("marking has {got} count(s), the model has {expected} place(s)")]
    WrongMarkingSize {
        /// Places in the model.
        expected: usize,
        /// Counts given.
        got: usize,
    },
}

fn one_of(roles: &[String]) -> String {
    match roles {
        [one] => format!("'{one}'"),
        many => format!("one of [{}]", many.join(", ")),
    }
}

impl FireError {
    /// Stable machine-readable code, e.g. `NOT_ENABLED`.
    pub fn code(&self) -> &'static str {
        match self {
            FireError::UnknownTransition { .. } => "UNKNOWN_TRANSITION",
            FireError::UnknownPlace { .. } => "UNKNOWN_PLACE",
            FireError::NotEnabled { .. } => "NOT_ENABLED",
            FireError::Inhibited { .. } => "INHIBITED",
            FireError::ReadArcUnmet { .. } => "READ_ARC_UNMET",
            FireError::CapacityExceeded { .. } => "CAPACITY_EXCEEDED",
            FireError::RoleDenied { .. } => "ROLE_DENIED",
            FireError::Overflow { .. } => "OVERFLOW",
            FireError::InvalidMultiple { .. } => "INVALID_MULTIPLE",
            FireError::WrongMarkingSize { .. } => "WRONG_MARKING_SIZE",
            FireError::BadArgument { .. } => "BAD_ARGUMENT",
        }
    }
}
