//! Pipeline input as payload bytes, for `xs append` and `xs cas put`.
//!
//! Nothing is no payload; a string is its UTF-8 bytes; binary is itself; a
//! byte stream is read as it arrives (never collected, so a multi-gigabyte
//! file goes to the CAS in constant memory); anything else (a record, a
//! list, a number) is stored as its JSON.

use std::io::{Cursor, Read};

use nu_protocol::{LabeledError, PipelineData, Span, Value};

use crate::json::to_json;

/// Where the payload bytes come from.
pub enum Payload {
    /// No input.
    None,
    /// Bytes in hand.
    Bytes(Cursor<Vec<u8>>),
    /// A byte stream, read as it arrives.
    Stream(Box<dyn Read + Send>),
}

impl Payload {
    /// The payload of `input`; `head` is blamed when the input has no span.
    ///
    /// # Errors
    ///
    /// An error value in the input, or a value with no JSON form.
    pub fn from_input(input: PipelineData, head: Span) -> Result<Payload, LabeledError> {
        match input {
            PipelineData::Empty => Ok(Payload::None),
            PipelineData::Value(value, _) => Self::from_value(value),
            PipelineData::ByteStream(stream, _) => {
                Ok(stream.reader().map_or(Payload::None, |r| Payload::Stream(Box::new(r))))
            }
            stream @ PipelineData::ListStream(..) => Self::from_value(stream.into_value(head)?),
        }
    }

    fn from_value(value: Value) -> Result<Payload, LabeledError> {
        let bytes = match value {
            Value::Nothing { .. } => return Ok(Payload::None),
            Value::Error { error, .. } => return Err(LabeledError::from(*error)),
            Value::String { val, .. } => val.into_bytes(),
            Value::Binary { val, .. } => val.into_owned(),
            other => to_json(&other)?.to_string().into_bytes(),
        };
        Ok(Payload::Bytes(Cursor::new(bytes)))
    }

    /// A reader over the payload, or `None` when there is none.
    pub fn reader(&mut self) -> Option<&mut dyn Read> {
        match self {
            Payload::None => None,
            Payload::Bytes(cursor) => Some(cursor),
            Payload::Stream(reader) => Some(reader),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nu_protocol::record;

    fn bytes_of(input: PipelineData) -> Option<Vec<u8>> {
        let mut payload = Payload::from_input(input, Span::test_data()).unwrap();
        payload.reader().map(|r| {
            let mut out = Vec::new();
            r.read_to_end(&mut out).unwrap();
            out
        })
    }

    #[test]
    fn strings_binary_records_and_nothing() {
        assert_eq!(bytes_of(PipelineData::empty()), None);
        assert_eq!(bytes_of(PipelineData::value(Value::test_string("hi"), None)), Some(b"hi".to_vec()));
        assert_eq!(bytes_of(PipelineData::value(Value::test_binary(vec![0, 255]), None)), Some(vec![0, 255]));
        let record = Value::test_record(record! {"a" => Value::test_int(1)});
        assert_eq!(bytes_of(PipelineData::value(record, None)), Some(br#"{"a":1}"#.to_vec()));
    }
}
