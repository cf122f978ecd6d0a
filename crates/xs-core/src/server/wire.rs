//! How frames are written on the socket: JSON, one per NDJSON line or SSE
//! event, exactly as cross-stream 0.13 writes them.
//!
//! A frame's JSON is `{"topic", "id", "hash", "meta", "ttl"}` (absent
//! fields are `null`); with cross-stream's `with-timestamp` parameter it
//! also carries `timestamp`, the RFC 3339 time of its id.

use bytes::Bytes;
use chrono::{DateTime, Utc};

use crate::frame::Frame;

/// The content type of a frame stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Format {
    /// `application/x-ndjson`: one JSON frame per line.
    Ndjson,
    /// `text/event-stream`: one SSE event per frame, its id as the event id.
    EventStream,
}

impl Format {
    /// SSE when the `Accept` header asks for it, else NDJSON.
    pub(crate) fn from_accept(accept: Option<&str>) -> Self {
        match accept {
            Some(a) if a.contains("text/event-stream") => Self::EventStream,
            _ => Self::Ndjson,
        }
    }

    pub(crate) fn content_type(self) -> &'static str {
        match self {
            Self::Ndjson => "application/x-ndjson",
            Self::EventStream => "text/event-stream",
        }
    }

    /// One frame, framed for this format.
    pub(crate) fn encode(self, frame: &Frame, with_timestamp: bool) -> Bytes {
        let json = frame_json(frame, with_timestamp);
        match self {
            Self::Ndjson => {
                let mut line = json;
                line.push(b'\n');
                line.into()
            }
            Self::EventStream => {
                let mut event = format!("id: {}\ndata: ", frame.id).into_bytes();
                event.extend_from_slice(&json);
                event.extend_from_slice(b"\n\n");
                event.into()
            }
        }
    }
}

/// The JSON of one frame, with its `timestamp` when asked for.
/// Field order is the struct's, as cross-stream writes it (with a timestamp
/// it goes through a JSON map, whose keys come out sorted: so do cross-stream's).
pub(crate) fn frame_json(frame: &Frame, with_timestamp: bool) -> Vec<u8> {
    // A frame is plain data whose every field serializes: the fallbacks never run.
    if !with_timestamp {
        return serde_json::to_vec(frame).unwrap_or_default();
    }
    let mut value = serde_json::to_value(frame).unwrap_or_default();
    if let Some(map) = value.as_object_mut() {
        let time: DateTime<Utc> = frame.time().into();
        map.insert("timestamp".to_string(), time.to_rfc3339().into());
    }
    value.to_string().into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_matches_cross_stream_shape() {
        let frame = Frame::builder("a").build();
        let json = String::from_utf8(frame_json(&frame, false)).unwrap();
        assert_eq!(json, format!(r#"{{"topic":"a","id":"{}","hash":null,"meta":null,"ttl":null}}"#, frame.id));
        let with_time: serde_json::Value = serde_json::from_slice(&frame_json(&frame, true)).unwrap();
        assert!(with_time["timestamp"].as_str().unwrap().starts_with("1970-01-01T00:00:00"));
    }

    #[test]
    fn sse_events_carry_the_id() {
        let frame = Frame::builder("a").build();
        let event = Format::EventStream.encode(&frame, false);
        assert!(event.starts_with(format!("id: {}\ndata: {{", frame.id).as_bytes()) && event.ends_with(b"}\n\n"));
    }
}
