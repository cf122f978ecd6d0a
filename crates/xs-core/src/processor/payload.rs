//! Pipeline input as payload bytes, for `xs append` and `xs cas put` in
//! the embedded engine and in the plugin (one set of rules for both).
//!
//! Nothing is no payload; a string is its UTF-8 bytes; binary is itself; a
//! byte stream is copied into the CAS as it arrives (never collected);
//! anything else (a record, a list, a number) is stored as its JSON.

use std::io::{self, Cursor, Read};

use nu_protocol::{PipelineData, ShellError, Span, Value};
use ssri::Integrity;

use crate::{
    processor::{error::store_error, value::to_json},
    store::Store,
};

/// Writes `input` into the CAS of `store` and returns its hash, or `None`
/// when there is no input (unless `keep_empty`, which stores the empty
/// payload and returns its hash).
///
/// # Errors
///
/// An error value in the input, a value with no JSON form, or an io or
/// storage error writing the CAS.
///
/// # Examples
///
/// ```
/// use nu_protocol::{PipelineData, Span, Value};
/// # let dir = tempfile::tempdir()?;
/// let store = xs_core::Store::new(dir.path())?;
/// let input = PipelineData::value(Value::test_string("hello"), None);
/// let hash = xs_core::processor::payload::put(&store, input, Span::unknown(), false)?.unwrap();
/// assert_eq!(store.cas_read(&hash)?, b"hello");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn put(store: &Store, input: PipelineData, head: Span, keep_empty: bool) -> Result<Option<Integrity>, ShellError> {
    let mut writer = store.cas_writer();
    let written = match reader(input, head)? {
        Some(mut reader) => io::copy(&mut reader, &mut writer).map_err(|e| store_error(e.into(), head))?,
        None => 0,
    };
    if written == 0 && !keep_empty {
        return Ok(None);
    }
    writer.commit().map(Some).map_err(|e| store_error(e, head))
}

/// The bytes of `input` as a reader, or `None` when there is no input: the
/// rules of [`put`] for a caller that writes elsewhere (the plugin hands it
/// to a [`Connection`](crate::connection::Connection), which may be a socket client).
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
/// xs_core::processor::payload::reader(input, Span::unknown())?.unwrap().read_to_end(&mut bytes)?;
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
