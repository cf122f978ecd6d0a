//! The one place store errors become Nushell errors inside the embedded
//! engine, underlining the argument at fault (as the plugin's `error.rs`
//! does for the shell).

use nu_protocol::{ShellError, Span, shell_error::generic::GenericError};

use crate::error::StoreError;

/// `error` as a Nushell error at `span`.
pub(crate) fn store_error(error: StoreError, span: Span) -> ShellError {
    invalid(error.to_string(), label(&error), span).into()
}

/// A `map_err` adaptor: `result.map_err(at(span))`.
pub(crate) fn at(span: Span) -> impl Fn(StoreError) -> ShellError {
    move |error| store_error(error, span)
}

/// A plain error at `span`.
pub(crate) fn invalid(message: impl Into<String>, label: impl Into<String>, span: Span) -> GenericError {
    GenericError::new(message.into(), label.into(), span)
}

fn label(error: &StoreError) -> &'static str {
    match error {
        StoreError::InvalidTopic { .. } => "invalid topic",
        StoreError::ReservedTopic { .. } => "reserved for the runtime",
        StoreError::InvalidTtl { .. } => "invalid TTL",
        StoreError::InvalidId { .. } => "invalid id",
        StoreError::InvalidHash { .. } => "invalid hash",
        StoreError::InvalidMeta { .. } => "not a record",
        StoreError::NotFound(_) => "no such frame",
        StoreError::HashNotFound(_) => "not in the CAS",
        StoreError::Closed => "the store is closed",
        _ => "store error",
    }
}
