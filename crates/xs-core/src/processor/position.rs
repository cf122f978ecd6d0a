//! Where a handler resumes: the last input frame it finished, and its
//! state after it. Stored as the handler's checkpoint
//! ([`Store::append_batch`](crate::Store::append_batch)), so it is durable
//! together with the frames that frame produced (docs/store-format.md).

use nu_protocol::{Span, Value};
use scru128::Scru128Id;

use crate::store::Checkpoint;

const VERSION: u8 = 1;

/// A handler's resume point.
#[derive(Clone, Debug)]
pub(crate) struct Position {
    /// The last input frame handled; `None` before the first, for a handler
    /// that starts at the beginning of the stream.
    pub(crate) after: Option<Scru128Id>,
    /// The state the next frame is handled with.
    pub(crate) state: Value,
}

impl Position {
    /// The checkpoint key of the handler registered by frame `handler_id`.
    pub(crate) fn key(handler_id: Scru128Id) -> Vec<u8> {
        let mut key = b"handler/".to_vec();
        key.extend_from_slice(&handler_id.to_bytes());
        key
    }

    /// This position as the checkpoint of `handler_id`.
    ///
    /// # Errors
    ///
    /// A state that cannot be stored (see [`check_state`]).
    pub(crate) fn checkpoint(&self, handler_id: Scru128Id) -> Result<Checkpoint, String> {
        check_state(&self.state)?;
        let state = serde_json::to_vec(&self.state).map_err(|e| format!("the state cannot be stored: {e}"))?;
        let mut value = Vec::with_capacity(18 + state.len());
        value.push(VERSION);
        match self.after {
            Some(id) => {
                value.push(1);
                value.extend_from_slice(&id.to_bytes());
            }
            None => value.push(0),
        }
        value.extend_from_slice(&state);
        Ok(Checkpoint::new(Self::key(handler_id), value))
    }

    /// Decodes a checkpoint value.
    ///
    /// # Errors
    ///
    /// A value this version does not know how to read.
    pub(crate) fn decode(bytes: &[u8]) -> Result<Position, String> {
        let bad = |why: &str| format!("the handler's checkpoint is damaged: {why}");
        let (&version, rest) = bytes.split_first().ok_or_else(|| bad("empty"))?;
        if version != VERSION {
            return Err(bad("unknown version"));
        }
        let (&tag, rest) = rest.split_first().ok_or_else(|| bad("truncated"))?;
        let (after, state) = match tag {
            0 => (None, rest),
            1 if rest.len() >= 16 => {
                let (id, state) = rest.split_at(16);
                let id: [u8; 16] = id.try_into().map_err(|_| bad("truncated id"))?;
                (Some(Scru128Id::from_bytes(id)), state)
            }
            _ => return Err(bad("bad position tag")),
        };
        let state: Value = serde_json::from_slice(state).map_err(|e| bad(&e.to_string()))?;
        check_state(&state).map_err(|e| bad(&e))?;
        Ok(Position { after, state: with_span(state, Span::unknown()) })
    }
}

/// A state must be plain data to survive a restart: no closures, no
/// custom values, no errors.
///
/// # Errors
///
/// Names the first value that is not plain data.
pub(crate) fn check_state(value: &Value) -> Result<(), String> {
    match value {
        Value::List { vals, .. } => vals.iter().try_for_each(check_state),
        Value::Record { val, .. } => val.values().try_for_each(check_state),
        Value::Closure { .. } | Value::Custom { .. } | Value::Error { .. } => Err(format!(
            "the state holds a {}, which cannot be kept across restarts; keep only data (records, lists, strings, numbers, ...)",
            value.get_type()
        )),
        _ => Ok(()),
    }
}

/// `value` with every span set to `span` (stored spans point into a
/// script of another engine).
fn with_span(value: Value, span: Span) -> Value {
    match value {
        Value::List { vals, .. } => Value::list(vals.into_iter().map(|v| with_span(v, span)).collect(), span),
        Value::Record { val, .. } => {
            Value::record(val.into_owned().into_iter().map(|(k, v)| (k, with_span(v, span))).collect(), span)
        }
        other => other.with_span(span),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nu_protocol::record;

    #[test]
    fn round_trips_position_and_state() {
        let id = scru128::new();
        let state = Value::test_record(record! {"n" => Value::test_int(3), "d" => Value::test_duration(5)});
        for after in [None, Some(scru128::new())] {
            let checkpoint = Position { after, state: state.clone() }.checkpoint(id).unwrap();
            let back = Position::decode(&checkpoint.value).unwrap();
            assert_eq!(back.after, after);
            assert_eq!(back.state, state);
        }
    }

    #[test]
    fn closures_are_not_state() {
        let closure = Value::test_closure(nu_protocol::engine::Closure {
            block_id: nu_protocol::BlockId::new(0),
            captures: vec![],
        });
        assert!(check_state(&Value::test_list(vec![closure])).is_err());
        assert!(Position::decode(&[9]).is_err());
    }
}
