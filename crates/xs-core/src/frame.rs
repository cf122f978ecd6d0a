//! The frame: one event of the stream.
//!
//! A frame is small and inline: its payload lives in the CAS and the frame
//! holds only the hash. The JSON form (`{topic, id, hash, meta, ttl}`) is the
//! socket API's, identical to cross-stream 0.13's so its clients read ours.

use std::time::{Duration, SystemTime};

use scru128::Scru128Id;
use serde::{Deserialize, Serialize};

use crate::ttl::TTL;

/// One event in the stream.
///
/// Build one with [`Frame::builder`], starting from the topic; the store
/// assigns the id at append.
///
/// ```
/// use xs_core::{Frame, TTL};
/// let frame = Frame::builder("clip.add")
///     .meta(serde_json::json!({"source": "keyboard"}))
///     .ttl(TTL::Last(100))
///     .build();
/// assert_eq!(frame.topic, "clip.add");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, bon::Builder)]
pub struct Frame {
    /// The dot-separated topic, e.g. `clip.add`.
    #[builder(start_fn, into)]
    pub topic: String,
    /// The frame's scru128 id; set by the store at append, ignored before.
    #[builder(default)]
    #[serde(default)]
    pub id: Scru128Id,
    /// SRI hash of the payload in the CAS, if the frame has one: one sha256
    /// digest (see [`crate::hash`]).
    #[serde(default, deserialize_with = "crate::hash::deserialize")]
    pub hash: Option<ssri::Integrity>,
    /// Inline JSON metadata: an object, or none.
    #[serde(default)]
    pub meta: Option<serde_json::Value>,
    /// Retention; none means [`TTL::Forever`].
    #[serde(default)]
    pub ttl: Option<TTL>,
}

impl Frame {
    /// The retention this frame is stored with.
    pub fn retention(&self) -> TTL {
        self.ttl.unwrap_or_default()
    }

    /// When the frame was appended, from the timestamp in its id.
    pub fn time(&self) -> SystemTime {
        id_time(self.id)
    }

    /// True once a `time:` TTL has run out at `now`.
    pub fn is_expired(&self, now: SystemTime) -> bool {
        match self.ttl {
            Some(TTL::Time(ttl)) => self.time() + ttl <= now,
            _ => false,
        }
    }

    /// A synthetic marker frame (`xs.threshold`, `xs.pulse`) with this id.
    pub(crate) fn marker(topic: &str, id: Scru128Id) -> Self {
        Frame { topic: topic.to_string(), id, ttl: Some(TTL::Ephemeral), ..Frame::default() }
    }
}

/// The wall-clock time encoded in a scru128 id.
pub fn id_time(id: Scru128Id) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_millis(id.timestamp())
}
