//! The hash chain: events, where a chain ends ([`Head`]), the one append
//! path (fire, seal, chain), their canonical hashed encoding, replay
//! verification and JSON-lines export / import.
//!
//! This module is I/O free; [`crate::store`] keeps chains somewhere.
//! docs/chain-format.md specifies the hashed encoding for other languages.

mod append;
mod error;
mod event;
pub mod hash;
mod head;
pub mod jsonl;
mod verify;

pub(crate) use append::{Chainer, Draft};
pub use error::ChainError;
pub(crate) use event::check_payload;
pub use event::{check_id, Event, GENESIS_PREV, MAX_ID_BYTES, MAX_PAYLOAD_BYTES};
pub use head::Head;
pub use verify::{verify_events, Verified, Verifier};
