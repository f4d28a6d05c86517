//! The hash chain: events, where a chain ends ([`Head`]), the one append
//! path (fire, seal, chain, sign), their canonical hashed encoding, the
//! marking commitment (a Merkle tree), device signatures, replay
//! verification, JSON-lines export / import and the reader of version 1
//! chains.
//!
//! This module is I/O free; [`crate::store`] keeps chains somewhere.
//! docs/chain-format.md specifies the format for other languages.

mod append;
mod error;
mod event;
pub mod hash;
mod head;
pub mod jsonl;
mod keyproof;
pub mod keytrie;
mod merkle;
pub mod policy;
mod sign;
mod state;
pub mod v1;
mod verify;

pub(crate) use append::{sign_events, sign_runs, sign_unsigned, Chainer, Draft};
pub use error::ChainError;
pub(crate) use event::check_payload;
pub use event::{check_id, Event, FORMAT_VERSION, GENESIS_PREV, MAX_ID_BYTES, MAX_PAYLOAD_BYTES};
pub use head::Head;
pub use keyproof::KeyProof;
pub use keytrie::KeyTrie;
pub use merkle::{keyed_leaf_hash, leaf_hash, Hash32, MarkingTree, PlaceProof};
pub use policy::{fingerprint, Policy, PolicyView};
pub(crate) use sign::check_signature;
pub use sign::{
    signed_message, Device, DeviceFuture, SoftwareKey, MAX_RUN, SIGNED_MESSAGE_LEN, SIGNING_CONTEXT,
};
pub use state::TipState;
pub use verify::{verify_events, Verified, Verifier};
