//! Arguments shared by several commands, parsed with the span at fault:
//! ids, hashes, TTLs (a string or a Nushell duration), topic lists (a
//! comma string or a list) and the `--meta` record.

use std::io::Read;

use nu_plugin_protocol::EvaluatedCall;
use nu_protocol::{LabeledError, PipelineData, Span, Spanned, Value};

use crate::{
    StoreError, TTL,
    hash::Integrity,
    id::Scru128Id,
    nu::{error, payload, value},
    topic::TopicFilter,
};

/// An id argument.
///
/// # Errors
///
/// Not a scru128 id: labeled at the argument.
pub fn id(arg: &Spanned<String>) -> Result<Scru128Id, LabeledError> {
    arg.item.parse().map_err(|_| error::labeled(StoreError::InvalidId { id: arg.item.clone() }, arg.span))
}

/// The id argument at `position`, with its span.
///
/// # Errors
///
/// A missing argument, or as [`id`].
pub fn id_arg(call: &EvaluatedCall, position: usize) -> Result<Spanned<Scru128Id>, LabeledError> {
    let arg: Spanned<String> = call.req(position)?;
    Ok(Spanned { item: id(&arg)?, span: arg.span })
}

/// An optional id flag.
///
/// # Errors
///
/// As [`id`].
pub fn id_flag(call: &EvaluatedCall, name: &str) -> Result<Option<Scru128Id>, LabeledError> {
    call.get_flag::<Spanned<String>>(name)?.as_ref().map(id).transpose()
}

/// A hash argument.
///
/// # Errors
///
/// Not an SRI hash: labeled at the argument.
pub fn hash(arg: &Spanned<String>) -> Result<Integrity, LabeledError> {
    crate::hash::parse(&arg.item).map_err(|e| error::labeled(e, arg.span))
}

/// `--ttl`: a TTL string, or a duration (`1hr` is `time:3600000`).
///
/// # Errors
///
/// A malformed string or a negative duration, labeled at the value.
pub fn ttl(value: &Value) -> Result<TTL, LabeledError> {
    let span = value.span();
    match value {
        Value::Duration { val, .. } => u64::try_from(*val)
            .map(|ns| TTL::Time(std::time::Duration::from_nanos(ns)))
            .map_err(|_| error::labeled(StoreError::InvalidTtl { ttl: format!("{val}ns") }, span)),
        other => other.as_str()?.parse().map_err(error::at(span)),
    }
}

/// `--topic`: a comma string or a list of patterns, as one comma string.
///
/// # Errors
///
/// A value that is neither, or a bad pattern, labeled at it.
pub fn topics(value: &Value) -> Result<String, LabeledError> {
    let spec = match value {
        Value::List { vals, .. } => {
            let mut parts = Vec::with_capacity(vals.len());
            for v in vals.iter() {
                parts.push(v.as_str()?);
            }
            parts.join(",")
        }
        other => other.as_str()?.to_string(),
    };
    TopicFilter::parse(&spec).map_err(error::at(value.span()))?;
    Ok(spec)
}

/// `--meta`: a record, as a JSON object.
///
/// # Errors
///
/// Not a record (or holding a value with no JSON form), labeled at it.
pub fn meta(value: &Value) -> Result<serde_json::Value, LabeledError> {
    match value {
        Value::Record { val, .. } => Ok(serde_json::Value::Object(value::record_to_json(val)?)),
        other => Err(error::labeled(StoreError::InvalidMeta { kind: kind_of(other) }, other.span())),
    }
}

/// The pipeline input as payload bytes (xs-core's rules: a byte stream
/// stays a stream), with the span an error storing it is blamed on: the
/// input's, else the command's. No input reads as empty, which an append
/// stores as no payload and `xs cas put` as the empty content.
///
/// # Errors
///
/// An error value in the input, or a value with no JSON form.
pub fn payload(input: PipelineData, head: Span) -> Result<Spanned<Box<dyn Read + Send>>, LabeledError> {
    let span = input.span().unwrap_or(head);
    let reader = payload::reader(input, head)?;
    Ok(Spanned { item: reader.unwrap_or_else(|| Box::new(std::io::empty())), span })
}

/// A non-negative count argument.
///
/// # Errors
///
/// A negative number, labeled at it.
pub fn count(arg: &Spanned<i64>) -> Result<usize, LabeledError> {
    usize::try_from(arg.item)
        .map_err(|_| error::invalid(format!("{} is negative", arg.item), "expected 0 or more", arg.span))
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Nothing { .. } => "null",
        Value::Bool { .. } => "a boolean",
        Value::Int { .. } | Value::Float { .. } => "a number",
        Value::String { .. } => "a string",
        Value::List { .. } => "a list",
        _ => "a value that is not a record",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spanned(s: &str) -> Spanned<String> {
        Spanned { item: s.into(), span: Span::new(1, 4) }
    }

    #[test]
    fn durations_are_time_ttls() {
        let hour = Value::test_duration(3_600_000_000_000);
        assert_eq!(ttl(&hour).unwrap().to_string(), "time:3600000");
        assert!(ttl(&Value::test_duration(-1)).is_err());
        assert_eq!(ttl(&Value::test_string("last:3")).unwrap(), TTL::Last(3));
        assert_eq!(ttl(&Value::test_string("soon")).unwrap_err().labels[0].span, Span::test_data());
    }

    #[test]
    fn bad_ids_and_hashes_are_labeled() {
        assert_eq!(id(&spanned("nope")).unwrap_err().labels[0].span, Span::new(1, 4));
        assert!(hash(&spanned("nope")).is_err());
        assert!(hash(&spanned("sha256-LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=")).is_ok());
    }

    #[test]
    fn topic_lists_join() {
        let list = Value::test_list(vec![Value::test_string("a"), Value::test_string("b.*")]);
        assert_eq!(topics(&list).unwrap(), "a,b.*");
        assert!(topics(&Value::test_string("a..b")).is_err());
    }
}
