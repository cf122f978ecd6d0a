//! Frames and ids as Nushell values, and Nushell values as JSON: the one
//! place xs turns its data into Nushell's and back.
//!
//! The shapes are the plugin's, so a pipeline sees the same records typed
//! in a shell (`xs cat`) and run by a handler: a frame is
//! `{id, topic, hash, meta}` (absent fields are null), plus `ttl` and
//! `time` with `detail`; an unpacked id is `{timestamp, counter_hi,
//! counter_lo, entropy}`. The JSON mapping is the one `to json` / `from
//! json` use, so a record stored as meta reads back equal: strings,
//! numbers, booleans, null, lists and records map one to one; dates become
//! RFC 3339 strings, durations and file sizes their integer nanoseconds and
//! bytes. Values with no JSON form (closures, binary inside a record) are
//! an error naming the offending value's span.

use chrono::{DateTime, FixedOffset, Utc};
use nu_protocol::{Record, ShellError, Span, Value, shell_error::generic::GenericError};
use scru128::Scru128Id;
use serde_json::{Map, Number, Value as Json};

use crate::frame::{Frame, id_time};

/// The record form of `frame`: `{id, topic, hash, meta}`, plus `ttl` and
/// `time` when `detail` is set.
///
/// ```
/// use nu_protocol::Span;
/// let frame = xs_core::Frame::builder("clip").build();
/// let value = xs_core::nu::value::frame_to_value(&frame, false, Span::unknown());
/// assert_eq!(value.as_record().unwrap().columns().collect::<Vec<_>>(), ["id", "topic", "hash", "meta"]);
/// ```
pub fn frame_to_value(frame: &Frame, detail: bool, span: Span) -> Value {
    frame_into_value(frame.clone(), detail, span)
}

/// As [`frame_to_value`], taking the frame: its topic and meta move into
/// the record rather than being copied. A read turns every frame it
/// delivers into a record this way (`xs cat` over a long stream).
///
/// ```
/// use nu_protocol::{Span, Value};
/// let frame = xs_core::Frame::builder("clip").meta(serde_json::json!({"n": 1})).build();
/// let value = xs_core::nu::value::frame_into_value(frame, false, Span::unknown());
/// assert_eq!(value.get_data_by_key("meta").unwrap().get_data_by_key("n"), Some(Value::test_int(1)));
/// ```
pub fn frame_into_value(frame: Frame, detail: bool, span: Span) -> Value {
    let mut record = Record::with_capacity(if detail { 6 } else { 4 });
    let (id, ttl) = (frame.id, frame.retention());
    record.push("id", id_value(id, span));
    record.push("topic", Value::string(frame.topic, span));
    record.push("hash", frame.hash.map_or(Value::nothing(span), |h| Value::string(h.to_string(), span)));
    record.push("meta", frame.meta.map_or(Value::nothing(span), |m| json_into_value(m, span)));
    if detail {
        record.push("ttl", Value::string(ttl.to_string(), span));
        record.push("time", Value::date(id_datetime(id), span));
    }
    Value::record(record, span)
}

/// The id's canonical 25-character string, without the formatter's
/// machinery (`Display` pads and aligns; a stream of frames pays for it
/// once per frame).
fn id_value(id: Scru128Id, span: Span) -> Value {
    Value::string(id.encode().as_str(), span)
}

/// The hash a pipeline value names: a hash string, or a frame record's
/// `hash` field (`None` for a frame without a payload). Shared by `xs cas`
/// in the shell and in scripts.
///
/// # Errors
///
/// Why the value names no hash, as a message for the caller's error.
///
/// # Examples
///
/// ```
/// use nu_protocol::{Span, Value};
/// let hash = Value::string("sha256-x", Span::unknown());
/// assert_eq!(xs_core::nu::value::hash_in(&hash), Ok(Some("sha256-x".to_string())));
/// ```
pub fn hash_in(value: &Value) -> Result<Option<String>, &'static str> {
    match value {
        Value::String { val, .. } => Ok(Some(val.clone())),
        Value::Record { val, .. } => match val.get("hash") {
            Some(Value::String { val, .. }) => Ok(Some(val.clone())),
            Some(Value::Nothing { .. }) => Ok(None),
            _ => Err("the record has no hash field"),
        },
        _ => Err("no hash given"),
    }
}

/// The datetime (UTC, millisecond precision) encoded in `id`.
///
/// ```
/// let id = xs_core::id::Scru128Id::try_from_fields(1_700_000_000_000, 0, 0, 0).unwrap();
/// assert_eq!(xs_core::nu::value::id_datetime(id).timestamp_millis(), 1_700_000_000_000);
/// ```
pub fn id_datetime(id: Scru128Id) -> DateTime<FixedOffset> {
    DateTime::<Utc>::from(id_time(id)).fixed_offset()
}

/// The fields of `id`: `{timestamp, counter_hi, counter_lo, entropy}`.
///
/// ```
/// use xs_core::nu::value::{id_from_record, id_to_record};
/// let id = scru128::new();
/// let record = id_to_record(id, nu_protocol::Span::unknown());
/// assert_eq!(id_from_record(&record, nu_protocol::Span::unknown()).unwrap(), id);
/// ```
pub fn id_to_record(id: Scru128Id, span: Span) -> Record {
    let mut record = Record::new();
    record.push("timestamp", Value::date(id_datetime(id), span));
    record.push("counter_hi", Value::int(i64::from(id.counter_hi()), span));
    record.push("counter_lo", Value::int(i64::from(id.counter_lo()), span));
    record.push("entropy", Value::int(i64::from(id.entropy()), span));
    record
}

/// The id whose fields `record` holds (the inverse of [`id_to_record`]).
///
/// # Errors
///
/// A missing field, a field of the wrong type, or one out of range.
pub fn id_from_record(record: &Record, span: Span) -> Result<Scru128Id, ShellError> {
    let field = |name: &str| {
        record.get(name).ok_or_else(|| {
            invalid(format!("the record has no {name} field"), "expected an unpacked id", span)
                .with_help("records from `xs id unpack` have timestamp, counter_hi, counter_lo and entropy")
        })
    };
    let int = |name: &str| -> Result<u32, GenericError> {
        let value = field(name)?;
        let n = value.as_int().map_err(|_| invalid(format!("{name} is not an int"), "not an int", value.span()))?;
        u32::try_from(n).map_err(|_| out_of_range(name, value.span()))
    };
    let timestamp = field("timestamp")?;
    let millis = timestamp
        .as_date()
        .map_err(|_| invalid("timestamp is not a datetime", "not a datetime", timestamp.span()))?
        .timestamp_millis();
    let millis = u64::try_from(millis).map_err(|_| out_of_range("timestamp", span))?;
    Scru128Id::try_from_fields(millis, int("counter_hi")?, int("counter_lo")?, int("entropy")?)
        .map_err(|_| out_of_range("a field", span).into())
}

/// The JSON form of `value`.
///
/// # Errors
///
/// A part of `value` with no JSON form, labeled at its span.
///
/// ```
/// use nu_protocol::{Value, record};
/// let value = Value::test_record(record! {"n" => Value::test_int(3)});
/// assert_eq!(xs_core::nu::value::to_json(&value).unwrap(), serde_json::json!({"n": 3}));
/// ```
pub fn to_json(value: &Value) -> Result<Json, ShellError> {
    Ok(match value {
        Value::Nothing { .. } => Json::Null,
        Value::Bool { val, .. } => Json::Bool(*val),
        Value::Int { val, .. } => Json::from(*val),
        Value::Float { val, .. } => {
            Json::Number(Number::from_f64(*val).ok_or_else(|| no_json("a non-finite float", value.span()))?)
        }
        Value::String { val, .. } | Value::Glob { val, .. } => Json::String(val.clone()),
        Value::Date { val, .. } => Json::String(val.to_rfc3339()),
        Value::Duration { val, .. } => Json::from(*val),
        Value::Filesize { val, .. } => Json::from(val.get()),
        Value::List { vals, .. } => Json::Array(vals.iter().map(to_json).collect::<Result<_, _>>()?),
        Value::Record { val, .. } => Json::Object(record_to_json(val)?),
        Value::Error { error, .. } => return Err(*error.clone()),
        other => return Err(no_json(other.get_type(), other.span())),
    })
}

/// The JSON object form of a record.
///
/// # Errors
///
/// As [`to_json`].
///
/// ```
/// use nu_protocol::{Value, record};
/// let meta = record! {"app" => Value::test_string("terminal")};
/// let json = xs_core::nu::value::record_to_json(&meta).unwrap();
/// assert_eq!(json["app"], "terminal");
/// ```
pub fn record_to_json(record: &Record) -> Result<Map<String, Json>, ShellError> {
    record.iter().map(|(k, v)| Ok((k.clone(), to_json(v)?))).collect()
}

/// The Nushell value of `json`, every part carrying `span`.
///
/// ```
/// use nu_protocol::{Span, Value};
/// let value = xs_core::nu::value::from_json(&serde_json::json!([1, "a"]), Span::unknown());
/// assert_eq!(value, Value::test_list(vec![Value::test_int(1), Value::test_string("a")]));
/// ```
pub fn from_json(json: &Json, span: Span) -> Value {
    match json {
        Json::Null => Value::nothing(span),
        Json::Bool(b) => Value::bool(*b, span),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Value::int(i, span),
            None => Value::float(n.as_f64().unwrap_or(f64::NAN), span),
        },
        Json::String(s) => Value::string(s.clone(), span),
        Json::Array(items) => Value::list(items.iter().map(|j| from_json(j, span)).collect(), span),
        Json::Object(map) => Value::record(map.iter().map(|(k, v)| (k.clone(), from_json(v, span))).collect(), span),
    }
}

/// As [`from_json`], taking the JSON: its strings and keys move into the
/// value rather than being copied.
pub fn json_into_value(json: Json, span: Span) -> Value {
    match json {
        Json::String(s) => Value::string(s, span),
        Json::Array(items) => Value::list(items.into_iter().map(|j| json_into_value(j, span)).collect(), span),
        Json::Object(map) => Value::record(map.into_iter().map(|(k, v)| (k, json_into_value(v, span))).collect(), span),
        scalar => from_json(&scalar, span),
    }
}

fn no_json(what: impl std::fmt::Display, span: Span) -> ShellError {
    invalid(format!("{what} cannot be stored as JSON"), "has no JSON form", span).into()
}

fn out_of_range(name: &str, span: Span) -> GenericError {
    invalid(format!("{name} is out of range for a scru128 id"), "out of range", span)
        .with_help("timestamp: 48 bits of ms since 1970; counter_hi, counter_lo: 24 bits; entropy: 32 bits")
}

/// A plain error at `span`.
fn invalid(message: impl Into<String>, label: impl Into<String>, span: Span) -> GenericError {
    GenericError::new(message.into(), label.into(), span)
}

#[cfg(test)]
mod tests {
    use super::*;
    use nu_protocol::record;

    #[test]
    fn json_round_trips_nested_records() {
        let value = Value::test_record(record! {
            "source" => Value::test_string("keyboard"),
            "n" => Value::test_int(3),
            "tags" => Value::test_list(vec![Value::test_bool(true), Value::test_nothing()]),
        });
        let json = to_json(&value).unwrap();
        assert_eq!(json, serde_json::json!({"source": "keyboard", "n": 3, "tags": [true, null]}));
        assert_eq!(from_json(&json, Span::test_data()), value);
        assert_eq!(json_into_value(json, Span::test_data()), value);
        assert!(to_json(&Value::test_binary(vec![1])).is_err());
    }

    #[test]
    fn ids_round_trip_through_records() {
        let id = scru128::new();
        let record = id_to_record(id, Span::test_data());
        assert_eq!(id_from_record(&record, Span::test_data()).unwrap(), id);
    }

    #[test]
    fn frames_have_the_plugin_columns() {
        let frame = Frame::builder("t").id(scru128::new()).build();
        let value = frame_to_value(&frame, true, Span::test_data());
        let columns: Vec<_> = value.as_record().unwrap().columns().cloned().collect();
        assert_eq!(columns, ["id", "topic", "hash", "meta", "ttl", "time"]);
        assert_eq!(value.get_data_by_key("id"), Some(Value::test_string(frame.id.to_string())));
    }
}
