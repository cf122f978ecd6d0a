//! Frames as Nushell records.
//!
//! A frame is `{id, topic, hash, meta}` (absent fields are null); with
//! `--detail` it also carries `ttl` (its string form) and `time` (the
//! datetime in its id). Column order is fixed so tables line up.

use chrono::{DateTime, FixedOffset, Utc};
use nu_protocol::{Record, Span, Value};
use xs_core::{Frame, Scru128Id};

use crate::json::from_json;

/// The record form of `frame`.
pub fn to_value(frame: &Frame, detail: bool, span: Span) -> Value {
    let mut record = Record::new();
    record.push("id", Value::string(frame.id.to_string(), span));
    record.push("topic", Value::string(frame.topic.clone(), span));
    record.push("hash", frame.hash.as_ref().map_or(Value::nothing(span), |h| Value::string(h.to_string(), span)));
    record.push("meta", frame.meta.as_ref().map_or(Value::nothing(span), |m| from_json(m, span)));
    if detail {
        record.push("ttl", Value::string(frame.retention().to_string(), span));
        record.push("time", Value::date(id_datetime(frame.id), span));
    }
    Value::record(record, span)
}

/// The datetime (UTC, millisecond precision) encoded in `id`.
pub fn id_datetime(id: Scru128Id) -> DateTime<FixedOffset> {
    DateTime::<Utc>::from(xs_core::id_time(id)).fixed_offset()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_fields_are_null_and_detail_adds_ttl_and_time() {
        let frame = Frame::builder("clip").build();
        let plain = to_value(&frame, false, Span::test_data());
        let record = plain.as_record().unwrap();
        assert_eq!(record.columns().collect::<Vec<_>>(), ["id", "topic", "hash", "meta"]);
        assert!(record.get("hash").unwrap().is_nothing());
        let detailed = to_value(&frame, true, Span::test_data());
        assert_eq!(detailed.as_record().unwrap().get("ttl").unwrap().as_str().unwrap(), "forever");
    }
}
