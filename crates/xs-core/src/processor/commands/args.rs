//! Arguments shared by several commands, checked with the span at fault:
//! ids, hashes, TTLs (a string or a duration), topic lists (a comma string
//! or a list), `--meta` and counts. The rules are the plugin's.

use nu_engine::CallExt;
use nu_protocol::{
    ShellError, Spanned, Value,
    engine::{Call, EngineState, Stack},
};
use scru128::Scru128Id;
use ssri::Integrity;

use crate::{
    error::StoreError,
    processor::{
        error::{invalid, store_error},
        value::record_to_json,
    },
    topic::TopicFilter,
    ttl::TTL,
};

/// An id argument.
pub(super) fn id(arg: &Spanned<String>) -> Result<Scru128Id, ShellError> {
    arg.item.parse().map_err(|_| store_error(StoreError::InvalidId { id: arg.item.clone() }, arg.span))
}

/// An optional id flag.
pub(super) fn id_flag(
    engine_state: &EngineState,
    stack: &mut Stack,
    call: &Call,
    name: &str,
) -> Result<Option<Scru128Id>, ShellError> {
    call.get_flag::<Spanned<String>>(engine_state, stack, name)?.as_ref().map(id).transpose()
}

/// A hash argument.
pub(super) fn hash(arg: &Spanned<String>) -> Result<Integrity, ShellError> {
    crate::hash::parse(&arg.item).map_err(|e| store_error(e, arg.span))
}

/// `--ttl`: a TTL string, or a duration (`1hr` is `time:3600000`).
pub(super) fn ttl(value: &Value) -> Result<TTL, ShellError> {
    let span = value.span();
    match value {
        Value::Duration { val, .. } => u64::try_from(*val)
            .map(|ns| TTL::Time(std::time::Duration::from_nanos(ns)))
            .map_err(|_| store_error(StoreError::InvalidTtl { ttl: format!("{val}ns") }, span)),
        other => other.coerce_str()?.parse().map_err(|e| store_error(e, span)),
    }
}

/// `--topic`: a comma string or a list of patterns, as one comma string.
pub(super) fn topics(value: &Value) -> Result<String, ShellError> {
    let spec = match value {
        Value::List { vals, .. } => {
            vals.iter().map(|v| v.coerce_str().map(|s| s.into_owned())).collect::<Result<Vec<_>, _>>()?.join(",")
        }
        other => other.coerce_str()?.into_owned(),
    };
    TopicFilter::parse(&spec).map_err(|e| store_error(e, value.span()))?;
    Ok(spec)
}

/// `--meta`: a record, as a JSON object.
pub(super) fn meta(value: &Value) -> Result<serde_json::Value, ShellError> {
    match value {
        Value::Record { val, .. } => Ok(serde_json::Value::Object(record_to_json(val)?)),
        other => Err(invalid(
            format!("invalid meta: expected a record, got {}", other.get_type()),
            "not a record",
            other.span(),
        )
        .with_help("pass a record, e.g. --meta {source: keyboard}")
        .into()),
    }
}

/// A non-negative count.
pub(super) fn count(arg: &Spanned<i64>) -> Result<usize, ShellError> {
    usize::try_from(arg.item)
        .map_err(|_| invalid(format!("{} is negative", arg.item), "expected 0 or more", arg.span).into())
}
