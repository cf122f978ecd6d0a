//! Pipeline input as payload bytes, for `xs append` and `xs cas put` in
//! the embedded engine (the same rules as the plugin's).
//!
//! Nothing is no payload; a string is its UTF-8 bytes; binary is itself; a
//! byte stream is copied into the CAS as it arrives (never collected);
//! anything else (a record, a list, a number) is stored as its JSON.

use std::io::{self, Read};

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
    let written = match input {
        PipelineData::Empty => 0,
        PipelineData::Value(value, _) => copy(&mut bytes(value)?.as_slice(), &mut writer, head)?,
        PipelineData::ByteStream(stream, _) => match stream.reader() {
            Some(mut reader) => copy(&mut reader, &mut writer, head)?,
            None => 0,
        },
        stream @ PipelineData::ListStream(..) => {
            copy(&mut bytes(stream.into_value(head)?)?.as_slice(), &mut writer, head)?
        }
    };
    if written == 0 && !keep_empty {
        return Ok(None);
    }
    writer.commit().map(Some).map_err(|e| store_error(e, head))
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

fn copy(from: &mut dyn Read, to: &mut dyn io::Write, head: Span) -> Result<u64, ShellError> {
    io::copy(from, to).map_err(|e| store_error(e.into(), head))
}
