//! Every machine-readable error code, in one list.
//!
//! Each error type has a `code()` ([`FireError::code`](crate::FireError::code),
//! [`ImportError::code`](crate::formats::ImportError::code),
//! [`ChainError::code`](crate::chain::ChainError::code),
//! [`SyncError::code`](crate::sync::SyncError::code); a
//! [`ModelError`](crate::ModelError) is `INVALID_MODEL`), and the JS
//! bindings add `BAD_ARGUMENT` for arguments of the wrong type or range.
//! [`ERROR_CODES`] lists them all once; [`ERROR_CODE_TS`] is the same list
//! as the TypeScript union the npm package exports (`PetrichainErrorCode`).
//! A test (crate/tests/error_codes.rs) checks that the list is exactly the
//! codes the `code()` functions can return.

macro_rules! error_codes {
    ($($code:literal),* $(,)?) => {
        /// Every code an error of petrichain can carry, sorted.
        pub const ERROR_CODES: &[&str] = &[$($code),*];
        /// `export type PetrichainErrorCode = | "ACTION_REJECTED" | ...;`: the
        /// TypeScript union of [`ERROR_CODES`].
        pub const ERROR_CODE_TS: &str = concat!(
            "\n/** Every `code` a `PetrichainError` can carry. */\nexport type PetrichainErrorCode =",
            $(" | \"", $code, "\""),*,
            ";\n"
        );
    };
}

error_codes!(
    "ACTION_REJECTED",
    "BAD_ARGUMENT",
    "BAD_RESPONSE",
    "BAD_SIGNATURE",
    "BAD_VALUE",
    "BROKEN_LINK",
    "CAPACITY_EXCEEDED",
    "CLOSED",
    "COMMITMENT_MISMATCH",
    "CORRUPT_RECORD",
    "DEVICE",
    "DIVERGED",
    "DTD_REFUSED",
    "DUPLICATE_ID",
    "DUPLICATE_KEY",
    "ENCODING",
    "FORBIDDEN",
    "HASH_MISMATCH",
    "HEAD_MISMATCH",
    "IMPORT_SYNTAX",
    "INHIBITED",
    "INVALID_EVENT",
    "INVALID_INPUT",
    "INVALID_MODEL",
    "INVALID_MULTIPLE",
    "INVALID_PAYLOAD",
    "MISSING_NODE",
    "MODEL_UNAVAILABLE",
    "NETWORK",
    "NOT_ENABLED",
    "OVERFLOW",
    "PUSH_REJECTED",
    "QUOTA_EXCEEDED",
    "READ_ARC_UNMET",
    "REMOTE_CHAIN_INVALID",
    "REMOTE_ERROR",
    "REMOTE_FORKED",
    "ROLE_DENIED",
    "ROLE_NOT_GRANTED",
    "ROLE_REVOKED",
    "SEQ_GAP",
    "STATE_MISMATCH",
    "STORAGE",
    "STREAM_EXISTS",
    "SYNC_CONTENDED",
    "SYNTAX",
    "TOO_DEEP",
    "TOO_LARGE",
    "TRUNCATED",
    "UNAUTHENTICATED",
    "UNKNOWN_FORMAT",
    "UNKNOWN_MODEL",
    "UNKNOWN_PLACE",
    "UNKNOWN_STREAM",
    "UNKNOWN_TRANSITION",
    "UNSUPPORTED",
    "WRONG_MARKING_SIZE",
    "WRONG_MODEL",
    "WRONG_ROOT",
    "WRONG_STREAM",
);

/// Whether `code` is one of [`ERROR_CODES`].
pub fn is_error_code(code: &str) -> bool {
    ERROR_CODES.binary_search(&code).is_ok()
}
