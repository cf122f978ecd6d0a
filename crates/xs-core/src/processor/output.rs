//! What a handler's `run` returned, and the frame its `out` becomes.
//!
//! The contract: `{out?, next?}` or nothing. `next` continues with that
//! state; without `next` (nothing, or `{out}` alone) the handler is done.
//! `out` is the output frame's meta, so a record, unless
//! `return_options.target` is `"cas"`: then any value is the payload
//! (a string or binary as is, anything else as JSON). Any other key, or
//! another kind of value, is an error (the handler fails).

use nu_protocol::{ShellError, Value};

use crate::{
    frame::Frame,
    nu::value::to_json,
    processor::{config::Returns, error::invalid},
    store::Store,
};

/// What one run asked for.
#[derive(Debug)]
pub(crate) struct Outcome {
    /// The value to emit, if any.
    pub(crate) out: Option<Value>,
    /// The next state; `None`: the handler is done.
    pub(crate) next: Option<Value>,
}

/// Reads a return value.
///
/// # Errors
///
/// A value that is neither nothing nor a record of `out` and `next`,
/// pointing at it.
pub(crate) fn outcome(value: Value) -> Result<Outcome, ShellError> {
    let span = value.span();
    match value {
        Value::Nothing { .. } => Ok(Outcome { out: None, next: None }),
        Value::Record { val, .. } => {
            let mut outcome = Outcome { out: None, next: None };
            for (key, v) in val.into_owned() {
                match key.as_str() {
                    "out" => outcome.out = Some(v).filter(|v| !v.is_nothing()),
                    "next" => outcome.next = Some(v),
                    other => return Err(shape(format!("run returned a record with the key {other:?}"), span)),
                }
            }
            Ok(outcome)
        }
        other => Err(shape(format!("run returned {}", other.get_type()), span)),
    }
}

/// The frame `out` becomes on `topic`.
///
/// # Errors
///
/// `out` is not a record (and the target is not the CAS), has no JSON
/// form, or the CAS cannot be written.
pub(crate) fn out_frame(store: &Store, topic: String, out: Value, returns: &Returns) -> Result<Frame, ShellError> {
    let mut frame = Frame { topic, ttl: returns.ttl, ..Frame::default() };
    if returns.cas {
        let span = out.span();
        let bytes = match out {
            Value::String { val, .. } => val.into_bytes(),
            Value::Binary { val, .. } => val.into_owned(),
            other => to_json(&other)?.to_string().into_bytes(),
        };
        let mut writer = store.cas_writer();
        std::io::Write::write_all(&mut writer, &bytes).map_err(|e| invalid(e.to_string(), "writing out", span))?;
        frame.hash = Some(writer.commit().map_err(|e| invalid(e.to_string(), "writing out", span))?);
        return Ok(frame);
    }
    match &out {
        Value::Record { .. } => frame.meta = Some(to_json(&out)?),
        other => {
            return Err(invalid(
                format!("out must be a record (it becomes the output frame's meta), not {}", other.get_type()),
                "not a record",
                other.span(),
            )
            .with_help("return {out: {..}, next: $state}, or set return_options: {target: \"cas\"} to store any value as the payload")
            .into());
        }
    }
    Ok(frame)
}

fn shape(message: String, span: nu_protocol::Span) -> ShellError {
    invalid(message, "returned here", span)
        .with_help("run returns {out?: record, next?: state}, or nothing to finish")
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use nu_protocol::record;

    #[test]
    fn reads_each_shape() {
        let both = Value::test_record(record! {"out" => Value::test_record(record! {}), "next" => Value::test_int(1)});
        let o = outcome(both).unwrap();
        assert!(o.out.is_some() && o.next.is_some());
        let o = outcome(Value::test_record(record! {"next" => Value::test_int(1)})).unwrap();
        assert!(o.out.is_none() && o.next.is_some());
        let o = outcome(Value::test_record(record! {"out" => Value::test_record(record! {})})).unwrap();
        assert!(o.out.is_some() && o.next.is_none());
        let o = outcome(Value::test_nothing()).unwrap();
        assert!(o.out.is_none() && o.next.is_none());
        assert!(outcome(Value::test_record(record! {"nxt" => Value::test_int(1)})).is_err());
        assert!(outcome(Value::test_int(1)).is_err());
    }
}
