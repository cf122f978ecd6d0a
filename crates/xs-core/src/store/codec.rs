//! The on-disk encoding of frames and keys (pinned in docs/store-format.md).
//!
//! A stream record is `id (16 bytes, big endian) → value`; the topic index
//! holds `name 0x00 id → value` with the same value, so a topic read is one
//! range scan with no point lookups. The value is:
//!
//! ```text
//! u8 format version (1)
//! u8 ttl tag: 0 none, 1 forever, 2 time (+ u64 LE ms), 3 last (+ u32 LE n)
//! u8 topic length, topic bytes
//! u8 hash length (0: none), hash bytes (SRI string)
//! u32 LE meta length (0: none), meta JSON bytes; nothing after
//! ```
//!
//! Decoding never panics: damaged bytes give [`StoreError::Corrupt`] naming
//! the frame's id.

use std::time::Duration;

use scru128::Scru128Id;

use crate::{
    error::{Result, StoreError},
    frame::Frame,
    ttl::TTL,
};

const VERSION: u8 = 1;

/// The stream key of `id`.
pub(crate) fn id_key(id: Scru128Id) -> [u8; 16] {
    id.to_bytes()
}

/// The id in a stream key or at the end of an index key.
pub(crate) fn key_id(key: &[u8]) -> Option<Scru128Id> {
    let tail: [u8; 16] = key.get(key.len().checked_sub(16)?..)?.try_into().ok()?;
    Some(Scru128Id::from_bytes(tail))
}

/// The index key of `id` under the range `name`.
pub(crate) fn index_key(name: &str, id: Scru128Id) -> Vec<u8> {
    let mut key = index_prefix(name);
    key.extend_from_slice(&id.to_bytes());
    key
}

/// The common prefix of every key in the index range `name`.
pub(crate) fn index_prefix(name: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(name.len() + 17);
    key.extend_from_slice(name.as_bytes());
    key.push(0);
    key
}

/// Encodes everything but the id (which is the key).
pub(crate) fn encode(frame: &Frame) -> Vec<u8> {
    let hash = frame.hash.as_ref().map(ToString::to_string).unwrap_or_default();
    let meta = frame.meta.as_ref().map(|m| m.to_string()).unwrap_or_default();
    let mut out = Vec::with_capacity(16 + frame.topic.len() + hash.len() + meta.len());
    out.push(VERSION);
    match frame.ttl {
        None => out.push(0),
        Some(TTL::Forever | TTL::Ephemeral) => out.push(1),
        Some(TTL::Time(d)) => {
            out.push(2);
            out.extend_from_slice(&(d.as_millis() as u64).to_le_bytes());
        }
        Some(TTL::Last(n)) => {
            out.push(3);
            out.extend_from_slice(&n.to_le_bytes());
        }
    }
    // Topics are at most 255 bytes and SRI strings of one sha256 about 51.
    out.push(frame.topic.len() as u8);
    out.extend_from_slice(frame.topic.as_bytes());
    out.push(hash.len() as u8);
    out.extend_from_slice(hash.as_bytes());
    out.extend_from_slice(&(meta.len() as u32).to_le_bytes());
    out.extend_from_slice(meta.as_bytes());
    out
}

/// Decodes the record of frame `id`.
///
/// # Errors
///
/// [`StoreError::Corrupt`] naming `id` when the bytes do not decode.
pub(crate) fn decode(id: Scru128Id, bytes: &[u8]) -> Result<Frame> {
    Decoder { id, bytes }.frame()
}

struct Decoder<'a> {
    id: Scru128Id,
    bytes: &'a [u8],
}

impl<'a> Decoder<'a> {
    fn frame(mut self) -> Result<Frame> {
        if self.take(1)?[0] != VERSION {
            return Err(self.corrupt("unknown record format version"));
        }
        let ttl = self.ttl()?;
        let topic = self.text()?.to_string();
        let hash = match self.text()? {
            "" => None,
            h => Some(crate::hash::parse(h).map_err(|e| self.corrupt(&e.to_string()))?),
        };
        let meta_len = u32::from_le_bytes(self.array()?) as usize;
        let meta = match self.take(meta_len)? {
            [] => None,
            json => Some(serde_json::from_slice(json).map_err(|e| self.corrupt(&format!("meta: {e}")))?),
        };
        if !self.bytes.is_empty() {
            return Err(self.corrupt("trailing bytes after the record"));
        }
        Ok(Frame { topic, id: self.id, hash, meta, ttl })
    }

    fn ttl(&mut self) -> Result<Option<TTL>> {
        Ok(match self.take(1)?[0] {
            0 => None,
            1 => Some(TTL::Forever),
            2 => Some(TTL::Time(Duration::from_millis(u64::from_le_bytes(self.array()?)))),
            3 => Some(TTL::Last(u32::from_le_bytes(self.array()?))),
            _ => return Err(self.corrupt("unknown ttl tag")),
        })
    }

    fn text(&mut self) -> Result<&'a str> {
        let len = self.take(1)?[0] as usize;
        let bytes = self.take(len)?;
        std::str::from_utf8(bytes).map_err(|_| self.corrupt("text is not UTF-8"))
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let bytes = self.take(N)?;
        bytes.try_into().map_err(|_| self.corrupt("short field"))
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if self.bytes.len() < n {
            return Err(self.corrupt("record is truncated"));
        }
        let (head, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(head)
    }

    fn corrupt(&self, reason: &str) -> StoreError {
        StoreError::Corrupt { id: self.id, reason: reason.to_string() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Frame {
        Frame {
            topic: "clip.add".into(),
            id: scru128::new(),
            hash: Some("sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=".parse().unwrap()),
            meta: Some(serde_json::json!({"a": [1, "x"]})),
            ttl: Some(TTL::Time(Duration::from_millis(1234))),
        }
    }

    #[test]
    fn round_trips() {
        let f = sample();
        assert_eq!(decode(f.id, &encode(&f)).unwrap(), f);
        let bare = Frame { id: f.id, ..Frame::builder("t").build() };
        assert_eq!(decode(f.id, &encode(&bare)).unwrap(), bare);
    }

    /// The frame the pinned bytes below encode: every field set but the TTL.
    fn pinned(ttl: Option<TTL>) -> Frame {
        Frame {
            topic: "clip.add".into(),
            id: Scru128Id::from_u128(0x0102_0304_0506_0708_090a_0b0c_0d0e_0f10),
            hash: Some("sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=".parse().unwrap()),
            meta: Some(serde_json::json!({"k": "v"})),
            ttl,
        }
    }

    /// Format version 1, written out by hand from docs/store-format.md
    /// ("Record"). Stores on disk hold these bytes: if this test fails, the
    /// encoding changed, and a change needs a new version beside this one
    /// (see "Versioning"), not an edit of these bytes.
    #[test]
    fn version_1_records_are_pinned() {
        let rest: &[u8] = b"\x08clip.add\
            \x33sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\
            \x09\x00\x00\x00{\"k\":\"v\"}";
        let cases: [(Option<TTL>, &[u8]); 4] = [
            (None, b"\x01\x00"),
            (Some(TTL::Forever), b"\x01\x01"),
            (Some(TTL::Time(Duration::from_millis(0x0102_0304_0506))), b"\x01\x02\x06\x05\x04\x03\x02\x01\x00\x00"),
            (Some(TTL::Last(0x0102_0304)), b"\x01\x03\x04\x03\x02\x01"),
        ];
        for (ttl, head) in cases {
            let frame = pinned(ttl);
            let bytes = [head, rest].concat();
            assert_eq!(encode(&frame), bytes, "{ttl:?}");
            assert_eq!(decode(frame.id, &bytes).unwrap(), frame, "{ttl:?}");
        }
        let bare = Frame { id: pinned(None).id, ..Frame::builder("t").build() };
        let bare_bytes = b"\x01\x00\x01t\x00\x00\x00\x00\x00";
        assert_eq!(encode(&bare), bare_bytes);
        assert_eq!(decode(bare.id, bare_bytes).unwrap(), bare);
    }

    /// Keys, version 1: a stream key is the id's 16 bytes, big endian; an
    /// index key is the range's name, 0x00, then the id.
    #[test]
    fn version_1_keys_are_pinned() {
        let id = Scru128Id::from_u128(0x0102_0304_0506_0708_090a_0b0c_0d0e_0f10);
        let id_bytes = *b"\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10";
        assert_eq!(id_key(id), id_bytes);
        assert_eq!(index_key("clip.*", id), [&b"clip.*\x00"[..], &id_bytes].concat());
        assert_eq!(index_prefix("clip.*"), b"clip.*\x00");
        assert_eq!(key_id(&index_key("clip.*", id)), Some(id));
    }

    #[test]
    fn every_truncation_is_an_error_naming_the_id() {
        let f = sample();
        let bytes = encode(&f);
        for cut in 0..bytes.len() {
            match decode(f.id, &bytes[..cut]) {
                Err(StoreError::Corrupt { id, .. }) => assert_eq!(id, f.id),
                other => panic!("cut at {cut}: {other:?}"),
            }
        }
    }
}
