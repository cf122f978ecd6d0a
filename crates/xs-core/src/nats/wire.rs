//! One frame as one JetStream message, and back.
//!
//! The subject is `<prefix>.<topic>`: topics are already dot-separated
//! tokens of `[A-Za-z0-9_.-]`, so every topic is a valid subject and a
//! consumer can filter by topic with NATS's own wildcards. The body is the
//! payload's bytes. Everything else about the frame travels in headers, so
//! a plain NATS consumer can read a frame without parsing a body:
//!
//! | header | value |
//! |---|---|
//! | `Nats-Msg-Id` | the frame id: JetStream drops a republished id |
//! | `Xs-Id` | the frame id (scru128) |
//! | `Xs-Topic` | the topic |
//! | `Xs-Hash` | the payload's SRI hash, when the frame has a payload |
//! | `Xs-Meta` | the meta as compact JSON, when the frame has meta |
//! | `Xs-Ttl` | the retention (`time:<ms>`, `last:<n>`), when not forever |
//! | `Xs-Object` | the object-store bucket holding the payload (named by its hash), when it is too large for one message; the body is then empty |
//!
//! A frame without a payload has no `Xs-Hash` and an empty body; an empty
//! payload has the empty string's hash and an empty body.

use async_nats::HeaderMap;

use crate::{Frame, StoreError, TTL, error::Result};

/// JetStream's dedupe header: the frame id.
pub const MSG_ID: &str = "Nats-Msg-Id";
/// The frame id.
pub const ID: &str = "Xs-Id";
/// The topic.
pub const TOPIC: &str = "Xs-Topic";
/// The payload's SRI hash.
pub const HASH: &str = "Xs-Hash";
/// The meta, compact JSON.
pub const META: &str = "Xs-Meta";
/// The retention, when not forever.
pub const TTL_HEADER: &str = "Xs-Ttl";
/// The object-store bucket that holds a payload too large for a message.
pub const OBJECT: &str = "Xs-Object";

/// The subject a frame is published on.
pub fn subject(prefix: &str, topic: &str) -> String {
    format!("{prefix}.{topic}")
}

/// The headers of `frame`'s message; `bucket` names the object-store
/// bucket when the payload does not travel in the body.
pub fn headers(frame: &Frame, bucket: Option<&str>) -> HeaderMap {
    let id = frame.id.to_string();
    let mut headers = HeaderMap::new();
    headers.insert(MSG_ID, id.as_str());
    headers.insert(ID, id.as_str());
    headers.insert(TOPIC, frame.topic.as_str());
    if let Some(hash) = &frame.hash {
        headers.insert(HASH, hash.to_string().as_str());
    }
    if let Some(meta) = &frame.meta {
        headers.insert(META, meta.to_string().as_str());
    }
    if let Some(ttl) = frame.ttl.filter(|ttl| *ttl != TTL::Forever) {
        headers.insert(TTL_HEADER, ttl.to_string().as_str());
    }
    if let Some(bucket) = bucket {
        headers.insert(OBJECT, bucket);
    }
    headers
}

/// A frame read back from a message's headers, and the bucket holding its
/// payload if the body does not.
///
/// # Errors
///
/// [`StoreError::NatsMessage`] when a header is missing or does not parse.
pub fn frame(headers: &HeaderMap) -> Result<(Frame, Option<String>)> {
    let text = |name: &str| headers.get(name).map(|v| v.as_str().to_owned());
    let bad = |reason: String| StoreError::NatsMessage { reason };
    let id = text(ID).ok_or_else(|| bad(format!("no {ID} header")))?;
    let id = id.parse().map_err(|_| bad(format!("{ID} {id:?} is not a scru128 id")))?;
    let topic = text(TOPIC).ok_or_else(|| bad(format!("no {TOPIC} header")))?;
    let hash = match text(HASH) {
        Some(h) => Some(crate::hash::parse(&h).map_err(|e| bad(format!("{HASH}: {e}")))?),
        None => None,
    };
    let meta = match text(META) {
        Some(m) => Some(serde_json::from_str(&m).map_err(|e| bad(format!("{META} is not JSON: {e}")))?),
        None => None,
    };
    let ttl = match text(TTL_HEADER) {
        Some(t) => Some(t.parse().map_err(|_| bad(format!("{TTL_HEADER} {t:?} is not a ttl")))?),
        None => None,
    };
    let frame = Frame { topic, id, hash, meta, ttl };
    Ok((frame, text(OBJECT)))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test code")]

    use super::*;

    #[test]
    fn a_frame_round_trips_through_its_headers() {
        let original = Frame {
            topic: "clip.add".into(),
            id: scru128::new(),
            hash: Some(ssri::Integrity::from(b"hello")),
            meta: Some(serde_json::json!({"app": "ed", "n": 1})),
            ttl: Some(TTL::Last(3)),
        };
        let (back, bucket) = frame(&headers(&original, Some("XS-payloads"))).unwrap();
        assert_eq!(back, original);
        assert_eq!(bucket.as_deref(), Some("XS-payloads"));
        assert_eq!(subject("desk1", &original.topic), "desk1.clip.add");
    }

    #[test]
    fn a_bare_frame_has_no_optional_headers() {
        let bare = Frame { topic: "t".into(), id: scru128::new(), hash: None, meta: None, ttl: None };
        let h = headers(&bare, None);
        assert!(h.get(HASH).is_none() && h.get(META).is_none() && h.get(TTL_HEADER).is_none());
        assert_eq!(frame(&h).unwrap(), (bare, None));
    }

    #[test]
    fn a_message_without_an_id_is_refused() {
        let mut h = HeaderMap::new();
        h.insert(TOPIC, "t");
        assert!(matches!(frame(&h), Err(StoreError::NatsMessage { .. })));
    }
}
