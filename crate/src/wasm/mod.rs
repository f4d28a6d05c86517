//! JavaScript bindings, kept thin: each file wraps one domain type of the
//! core, `convert.rs` is the one place values cross between JS and Rust, and
//! `error.rs` the one place Rust errors become JS `Error`s.

mod convert;
mod error;
mod ledger;
mod model;
mod sync;

pub use error::JsErrorSource;
pub use ledger::{AnyStore, JsLedger, JsStream};
pub use model::JsModel;
pub use sync::JsSyncHandle;
