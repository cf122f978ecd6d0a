//! Errors for the plugin's own commands (`xs serve`, `xs status`, the
//! dump commands) and for opening a store: the one map from xs-core's
//! errors to labelled Nushell errors lives in [`xs_core::nu::error`], which
//! the store commands use too.

pub use xs_core::nu::error::{at, invalid, opening};
