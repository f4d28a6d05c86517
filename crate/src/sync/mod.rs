//! Sync with HTTP backends: the wire types of the protocol (docs/sync-protocol.md).

pub mod protocol;
