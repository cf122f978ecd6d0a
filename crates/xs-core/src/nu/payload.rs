//! Pipeline input as payload bytes, for `xs append` and `xs cas put`.
//!
//! Nothing is no payload; a string is its UTF-8 bytes; binary is itself; a
//! byte stream is copied into the CAS as it arrives (never collected);
//! anything else (a record, a list, a number) is stored as its JSON.

use std::io::{Cursor, Read};

use nu_protocol::{PipelineData, ShellError, Span, Value};

use crate::nu::value::to_json;

/// The bytes of `input` as a reader, or `None` when there is no input.
/// A byte stream stays a stream, so it is read in constant memory.
///
/// # Errors
///
/// An error value in the input, or a value with no JSON form.
///
/// # Examples
///
/// ```
/// use std::io::Read;
/// use nu_protocol::{PipelineData, Span, Value};
/// let input = PipelineData::value(Value::test_string("hello"), None);
/// let mut bytes = Vec::new();
/// xs_core::nu::payload::reader(input, Span::unknown())?.unwrap().read_to_end(&mut bytes)?;
/// assert_eq!(bytes, b"hello");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn reader(input: PipelineData, head: Span) -> Result<Option<Box<dyn Read + Send>>, ShellError> {
    let value = match input {
        PipelineData::Empty => return Ok(None),
        PipelineData::Value(value, _) => value,
        PipelineData::ByteStream(stream, _) => return Ok(stream.reader().map(|r| Box::new(r) as Box<dyn Read + Send>)),
        stream @ PipelineData::ListStream(..) => stream.into_value(head)?,
    };
    Ok(match value {
        Value::Nothing { .. } => None,
        other => Some(Box::new(Cursor::new(bytes(other)?))),
    })
}

/// The bytes `value` is stored as.
fn bytes(value: Value) -> Result<Vec<u8>, ShellError> {
    Ok(match value {
        Value::Nothing { .. } => Vec::new(),
        Value::Error { error, .. } => return Err(*error),
        Value::String { val, .. } => val.into_bytes(),
        Value::Binary { val, .. } => val.into_owned(),
        other => to_json(&other)?.to_string().into_bytes(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use nu_protocol::record;

    fn bytes_of(input: PipelineData) -> Option<Vec<u8>> {
        reader(input, Span::test_data()).unwrap().map(|mut r| {
            let mut out = Vec::new();
            r.read_to_end(&mut out).unwrap();
            out
        })
    }

    #[test]
    fn strings_binary_records_and_nothing() {
        assert_eq!(bytes_of(PipelineData::empty()), None);
        assert_eq!(bytes_of(PipelineData::value(Value::test_nothing(), None)), None);
        assert_eq!(bytes_of(PipelineData::value(Value::test_string("hi"), None)), Some(b"hi".to_vec()));
        assert_eq!(bytes_of(PipelineData::value(Value::test_binary(vec![0, 255]), None)), Some(vec![0, 255]));
        let record = Value::test_record(record! {"a" => Value::test_int(1)});
        assert_eq!(bytes_of(PipelineData::value(record, None)), Some(br#"{"a":1}"#.to_vec()));
    }
}
