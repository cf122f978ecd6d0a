//! Nushell errors inside the embedded engine: store errors through the one
//! map in [`crate::nu::error`], and plain errors for what the processor
//! itself rejects (a config, a state, an output).

use nu_protocol::{ShellError, Span, shell_error::generic::GenericError};

use crate::{error::StoreError, nu::error::labeled};

/// `error` as a Nushell error at `span`.
pub(crate) fn store_error(error: StoreError, span: Span) -> ShellError {
    labeled(error, span).into()
}

/// A plain error at `span`.
pub(crate) fn invalid(message: impl Into<String>, label: impl Into<String>, span: Span) -> GenericError {
    GenericError::new(message.into(), label.into(), span)
}
