//! The one place xs-core errors become Nushell errors, in the plugin and
//! in the processor's engine alike.
//!
//! Every [`StoreError`] turns into a [`LabeledError`] underlining the
//! argument at fault (the caller says which span that is: the topic, the
//! `--ttl` value, the id, the hash, the `--store` path or the command
//! itself) and carrying a help line that says what to do about it.

use crate::StoreError;
use nu_protocol::{LabeledError, Span};

/// Converts `error`, underlining `span`.
pub fn labeled(error: StoreError, span: Span) -> LabeledError {
    let label = label(&error);
    let message = error.to_string();
    let labeled = LabeledError::new(message).with_label(label, span);
    match help(&error) {
        Some(help) => labeled.with_help(help),
        None => labeled,
    }
}

/// A `map_err` adaptor: `result.map_err(at(span))`.
pub fn at(span: Span) -> impl Fn(StoreError) -> LabeledError {
    move |error| labeled(error, span)
}

/// An error opening the store at `path`, which the message names.
pub fn opening(error: StoreError, path: &std::path::Path, span: Span) -> LabeledError {
    let mut labeled = labeled(error, span);
    labeled.msg = format!("cannot use the store at {}: {}", path.display(), labeled.msg);
    labeled
}

/// A plain error at `span`, for input a command rejects before the store sees it.
pub fn invalid(message: impl Into<String>, label: impl Into<String>, span: Span) -> LabeledError {
    LabeledError::new(message).with_label(label, span)
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
        StoreError::Locked { .. } => "store is locked",
        StoreError::Remote { .. } => "refused by the store's owner",
        StoreError::Unreachable { .. } => "no answer",
        StoreError::Unauthorized { .. } => "unauthorized",
        StoreError::Untrusted { .. } => "certificate not trusted",
        StoreError::InvalidRemote { .. } => "invalid remote store",
        StoreError::InvalidListen { .. } => "invalid listener",
        StoreError::ListenFailed { .. } => "cannot listen there",
        StoreError::NoAuthExposed { .. } => "reachable from other machines",
        StoreError::Tls { .. } => "unusable certificate",
        StoreError::Script { .. } => "this script failed",
        _ => "store error",
    }
}

fn help(error: &StoreError) -> Option<&'static str> {
    Some(match error {
        StoreError::InvalidTopic { .. } => {
            "a topic is 1-255 bytes of letters, digits, '_', '-' and '.', starting with a letter or '_', e.g. clip.add"
        }
        StoreError::ReservedTopic { .. } => {
            "topics under xs. record what the runtime did; register a handler with xs.handler.<name>.register"
        }
        StoreError::InvalidTtl { .. } => "use forever, ephemeral, time:<ms>, last:<n>, or a duration such as 1hr",
        StoreError::InvalidId { .. } => "ids are 25-character scru128 strings, as in the id column of `xs cat`",
        StoreError::InvalidHash { .. } => "hashes are SRI strings, as in the hash column of `xs cat`",
        StoreError::InvalidMeta { .. } => "pass a record, e.g. --meta {source: keyboard}",
        StoreError::NotFound(_) => "list the frames with `xs cat`",
        StoreError::HashNotFound(_) => "`xs cas put` stores content; `xs cat` lists the hashes frames point at",
        StoreError::Locked { .. } => "another process opened the store without serving its socket; stop it or wait",
        StoreError::Closed => "the store was shut down; run the command again",
        StoreError::Io(e) if e.kind() == std::io::ErrorKind::Interrupted => return None,
        StoreError::Unreachable { .. } => "check the URL and that the owner serves it (xs serve --listen)",
        StoreError::Unauthorized { .. } => {
            "pass the owner's token with --token or $env.XS_TOKEN (the owner's `xs status` shows it)"
        }
        StoreError::Untrusted { .. } => {
            "trust the server's certificate: $env.XS_FINGERPRINT (its SHA-256 fingerprint) or $env.XS_CA (a PEM file)"
        }
        StoreError::Io(_) => "check that the store path is a writable directory (--store, $env.XS_STORE)",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_the_given_span_and_helps() {
        let span = Span::new(3, 9);
        let error = labeled(StoreError::InvalidTtl { ttl: "soon".into() }, span);
        assert!(error.msg.contains("soon"));
        assert_eq!(error.labels[0].span, span);
        assert!(error.help.is_some());
    }
}
