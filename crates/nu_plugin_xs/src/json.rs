//! Nushell values to and from JSON, the form meta and structured payloads
//! are stored in.
//!
//! The mapping is the one `to json` / `from json` use, so a record appended
//! with `--meta` reads back equal: strings, numbers, booleans, null, lists
//! and records map one to one; dates become RFC 3339 strings, durations and
//! file sizes their integer nanoseconds and bytes. Values with no JSON form
//! (closures, binary inside a record) are rejected with the span of the
//! offending value.

use nu_protocol::{LabeledError, Record, Span, Value};
use serde_json::{Map, Number, Value as Json};

use crate::error::invalid;

/// The JSON form of `value`.
///
/// # Errors
///
/// A [`LabeledError`] at the part of `value` that has no JSON form.
pub fn to_json(value: &Value) -> Result<Json, LabeledError> {
    Ok(match value {
        Value::Nothing { .. } => Json::Null,
        Value::Bool { val, .. } => Json::Bool(*val),
        Value::Int { val, .. } => Json::from(*val),
        Value::Float { val, internal_span, .. } => {
            Json::Number(Number::from_f64(*val).ok_or_else(|| no_json("a non-finite float", *internal_span))?)
        }
        Value::String { val, .. } => Json::String(val.clone()),
        Value::Glob { val, .. } => Json::String(val.clone()),
        Value::Date { val, .. } => Json::String(val.to_rfc3339()),
        Value::Duration { val, .. } => Json::from(*val),
        Value::Filesize { val, .. } => Json::from(val.get()),
        Value::List { vals, .. } => Json::Array(vals.iter().map(to_json).collect::<Result<_, _>>()?),
        Value::Record { val, .. } => Json::Object(record_to_json(val)?),
        other => return Err(no_json(other.get_type().to_string(), other.span())),
    })
}

/// The JSON object form of a record.
///
/// # Errors
///
/// As [`to_json`].
pub fn record_to_json(record: &Record) -> Result<Map<String, Json>, LabeledError> {
    record.iter().map(|(k, v)| Ok((k.clone(), to_json(v)?))).collect()
}

/// The Nushell value of `json`, every part carrying `span`.
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

fn no_json(what: impl std::fmt::Display, span: Span) -> LabeledError {
    invalid(format!("{what} cannot be stored as JSON"), "has no JSON form", span)
}

#[cfg(test)]
mod tests {
    use super::*;
    use nu_protocol::record;

    #[test]
    fn round_trips_nested_records() {
        let span = Span::test_data();
        let value = Value::test_record(record! {
            "source" => Value::test_string("keyboard"),
            "n" => Value::test_int(3),
            "tags" => Value::test_list(vec![Value::test_bool(true), Value::test_nothing()]),
        });
        let json = to_json(&value).unwrap();
        assert_eq!(json, serde_json::json!({"source": "keyboard", "n": 3, "tags": [true, null]}));
        assert_eq!(from_json(&json, span), value);
    }

    #[test]
    fn rejects_binary() {
        assert!(to_json(&Value::test_binary(vec![1, 2])).is_err());
    }
}
